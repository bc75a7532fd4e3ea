-- eidos.constraint: the expression grammar, every built-in operator with
-- version precision and vendor suffixes, malformed expressions (with the
-- position), evaluation against a snapshot model, and user operator files.
local constraint = require("eidos.constraint")
local model = require("eidos.snapshot.model")
local yaml = require("eidos.core.yaml")
local support = require("support")

local SMALL = "spec/fixtures/snapshots/validate-small.yaml"

-- holds(expr, actual) -> passed?, reason
local function holds(expr, actual)
  return constraint.run(constraint.parse(expr, "spec"), actual)
end

local function parse_error(expr)
  local ok, err = pcall(constraint.parse, expr, "K8s.server.version")
  assert.is_false(ok, "expected a parse error for " .. expr)
  assert.are.equal("invalid", err.code, tostring(err))
  return err
end

describe("eidos.constraint", function()
  describe("operators", function()
    -- { expression, actual, passes? }
    local cases = {
      -- >= with precision: the lower precision of the two decides
      { ">= 1.32", "1.32", true }, { ">= 1.32", "1.32.0", true }, { ">= 1.32", "1.32.4", true },
      { ">= 1.32.4", "1.32", true }, { ">= 1.32.4", "1.32.3", false }, { ">= 1.32", "1.31.9", false },
      { ">=1.32", "1.33", true }, { ">=   1.32.4", "1.32.4", true },
      -- vendor suffixes are kept but never ordered
      { ">= 1.32", "v1.33.5-eks-3025e55", true }, { ">= 1.34", "v1.33.5-eks-3025e55", false },
      { ">= 6.8", "6.8.0-1028-aws", true }, { ">= 6.9", "6.8.0-1028-aws", false },
      { ">= 1.30", "v1.30.14-eks-3025e55", true }, { "< 1.31", "v1.30.14-eks-3025e55", true },
      { ">= 1.28", "v1.28.0-gke.1337000", true }, { ">= 570", "580.105.08", true },
      { ">= v1.32", "1.32.1", true },
      -- <=
      { "<= 1.32", "1.32.9", true }, { "<= 1.32.4", "1.32.5", false }, { "<= 1.32.4", "1.32", true },
      { "<= 6.8", "6.8.0-1028-aws", true },
      -- > and <: equal at the lower precision is not greater
      { "> 1.30", "1.30.7", false }, { "> 1.30", "1.31", true }, { "> 1.30.6", "1.30.7", true },
      { "< 2.0", "1.99", true }, { "< 1.32", "1.32.0", false }, { "< 1.32.1", "1.32.0", true },
      -- == and != on versions: at the lower precision
      { "== 1.32", "1.32.4", true }, { "== 1.32.4", "1.32", true }, { "== 1.32.4", "1.32.5", false },
      { "== 1.2.3", "v1.2.3", true }, { "== 6.8", "6.8.0-1028-aws", true }, { "== 24.04", "24.04", true },
      { "!= 1.32", "1.32.4", false }, { "!= 1.32", "1.33.0", true }, { "!= 6.8", "6.9.0-1-aws", true },
      -- == and != on text
      { "== ubuntu", "ubuntu", true }, { "== ubuntu", "Ubuntu", false }, { "!= rhel", "ubuntu", true },
      { "== 8", "8", true }, { '== "1.32"', "1.32.0", false }, { '== "1.32"', "1.32", true },
      { "== 24.04", "noble", false }, { "!= 24.04", "noble", true },
      -- a bare value: exact text, no version logic
      { "ubuntu", "ubuntu", true }, { "ubuntu", "Ubuntu", false }, { "24.04", "24.04", true },
      { "24.04", "24.4", false }, { "1.33.5", "v1.33.5", false }, { "active", "active", true },
      { "Ubuntu 24.04.3 LTS", "Ubuntu 24.04.3 LTS", true }, { "a,b", "a,b", true },
      { '"in progress"', "in progress", true }, { "'>= 1'", ">= 1", true }, { '""', "", true },
      { "true", "true", true },
      -- ranges
      { ">= 1.30, < 1.34", "v1.33.5-eks-3025e55", true }, { ">= 1.30, < 1.34", "1.34.0", false },
      { ">= 1.30, < 1.34", "1.29.9", false }, { ">=1.30,<1.34", "1.30", true },
      { ">= 1.30, != 1.31, < 1.34", "1.31.2", false }, { ">= 1.30, != 1.31, < 1.34", "1.32.2", true },
      -- sets
      { "in (ubuntu, rhel)", "ubuntu", true }, { "in (ubuntu, rhel)", "rhel", true },
      { "in (ubuntu, rhel)", "sles", false }, { "in(ubuntu,rhel)", "rhel", true },
      { "in (22.04, 24.04)", "24.04", true }, { "in (1.32, 1.33)", "v1.33.5-eks-3025e55", true },
      { 'in ("Ubuntu 24.04.3 LTS", "Ubuntu 22.04.5 LTS")', "Ubuntu 22.04.5 LTS", true },
      { "in ('a, b', c)", "a, b", true }, { "in (ubuntu)", "ubuntu", true },
      { "not in (rhel, sles)", "ubuntu", true }, { "not in (rhel, sles)", "rhel", false },
      { "not in (1.30)", "1.30.14", false },
      { "in (ubuntu, rhel), != rhel", "rhel", false },
      -- ~: same major.minor, at least the given version
      { "~1.32", "1.32.0", true }, { "~1.32", "1.32.9", true }, { "~1.32", "1.33.0", false },
      { "~1.32", "1.31.9", false }, { "~1.32.2", "1.32.9", true }, { "~1.32.2", "1.32.1", false },
      { "~1.32.2", "1.33.0", false }, { "~ 1.33", "v1.33.5-eks-3025e55", true }, { "~1", "1.9", true },
      { "~1", "2.0", false }, { "~1.32", "1", false }, { "~6.8", "6.8.0-1028-aws", true },
    }
    for _, c in ipairs(cases) do
      it(string.format("%s against %q %s", c[1], c[2], c[3] and "passes" or "fails"), function()
        local ok, reason = holds(c[1], c[2])
        assert.are.equal(c[3], ok, reason)
        if not ok then assert.is_string(reason) end
      end)
    end

    it("says why a comparison failed, naming the clause and the value", function()
      local _, r = holds(">= 1.32", "v1.30.14-eks-3025e55")
      assert.are.equal("expected >= 1.32, got v1.30.14-eks-3025e55", r)
      _, r = holds("> 1.30", "1.30.7")
      assert.are.equal("expected > 1.30, got 1.30.7 (equal when compared at 2 components)", r)
      _, r = holds(">= 1.30, < 1.34", "1.34.1")
      assert.are.equal("expected < 1.34, got 1.34.1 (equal when compared at 2 components)", r)
      _, r = holds(">= 1.30, < 1.34", "1.35.0")
      assert.are.equal("expected < 1.34, got 1.35.0", r)
      _, r = holds("ubuntu", "rhel")
      assert.are.equal("expected ubuntu, got rhel", r)
      _, r = holds("~1.32", "1.33.0")
      assert.are.equal("expected ~1.32, got 1.33.0 (different minor version)", r)
    end)

    it("fails (with the reason) when the value is not a version", function()
      for _, e in ipairs({ ">= 1.2", "<= 1.2", "> 1.2", "< 1.2", "~1.2" }) do
        local ok, r = holds(e, "ubuntu")
        assert.is_false(ok)
        assert.is_truthy(r:find("got ubuntu: not a version", 1, true), r)
        assert.is_truthy(r:find('component 1 ("ubuntu") is not a number', 1, true), r)
      end
      local ok = holds(">= 1.2", "")
      assert.is_false(ok)
    end)
  end)

  describe("parse", function()
    it("builds an exact-match AST for a bare value", function()
      local ast = constraint.parse("  ubuntu  ", "OS.release.ID")
      assert.are.equal("exact", ast.kind)
      assert.are.equal("ubuntu", ast.value)
    end)

    it("builds clauses for operators", function()
      local ast = constraint.parse(">= 1.30, < 1.34", "K8s.server.version")
      assert.are.equal("all", ast.kind)
      assert.are.equal(2, #ast.clauses)
      assert.are.equal(">=", ast.clauses[1].op)
      assert.are.equal(30, ast.clauses[1].operand.minor)
      assert.are.equal("< 1.34", ast.clauses[2].text)
      assert.are.equal(10, ast.clauses[2].pos)
    end)

    local malformed = {
      { "", 1, "the expression is empty" },
      { "   ", 1, "the expression is empty" },
      { ">=", 3, 'missing value after operator ">="' },
      { ">=   ", 3, 'missing value after operator ">="' },
      { ">= 1.30, <", 11, 'missing value after operator "<"' },
      { ">= 1.30,", 8, "missing clause after ','" },
      { ">= 1.30, 1.34", 10, "expected an operator after ','" },
      { "=> 1.3", 1, 'unknown operator "=>"' },
      { "=< 1.3", 1, 'unknown operator "=<"' },
      { ">== 1.3", 1, 'unknown operator ">=="' },
      { "<> 1.3", 1, 'unknown operator "<>"' },
      { "= 1.3", 1, 'unknown operator "="' },
      { "! 1.3", 1, 'unknown operator "!"' },
      { ">= 1.x", 4, 'invalid version "1.x"' },
      { ">= 1.2.3.4", 4, "it has 4 components, at most 3" },
      { ">= 1.30, < banana", 12, 'invalid version "banana"' },
      { "~", 2, 'missing value after operator "~"' },
      { "~x", 2, 'invalid version "x"' },
      { '"abc', 1, "unterminated quoted value" },
      { '"abc" def', 6, "unexpected text after the quoted value" },
      { "in ubuntu", 4, "expected a parenthesised list" },
      { "in (ubuntu, rhel", 4, "missing closing )" },
      { "in ()", 5, "the list is empty" },
      { "in (ubuntu,)", 12, "missing value after ','" },
      { 'in ("ubuntu" rhel)', 14, "expected ',' or ')'" },
      { "in (a, 'b)", 8, "unterminated quoted value" },
      { ">= 1.2)", 7, "unbalanced )" },
      { "not in", 7, 'missing value after operator "not in"' },
    }
    for _, c in ipairs(malformed) do
      it(string.format("refuses %q at position %d", c[1], c[2]), function()
        local err = parse_error(c[1])
        assert.is_truthy(err.msg:find('constraint "K8s.server.version": malformed expression', 1, true), err.msg)
        assert.is_truthy(err.msg:find(string.format("at position %d: ", c[2]), 1, true), err.msg)
        assert.is_truthy(err.msg:find(c[3], 1, true), err.msg)
        assert.are.equal(c[2], err.detail.position)
      end)
    end

    it("lists the accepted operators when one is unknown", function()
      local err = parse_error("=> 1.3")
      assert.is_truthy(err.msg:find("accepted: !=, <, <=, ==, >, >=, in, not in, ~", 1, true), err.msg)
    end)

    it("needs a word boundary after a word operator", function()
      assert.are.equal("exact", constraint.parse("inactive", "x").kind)
      assert.are.equal("exact", constraint.parse("in-house", "x").kind)
      assert.are.equal("exact", constraint.parse("'not installed'", "x").kind)
    end)

    it("refuses an unquoted lower-case first word of several that is no operator", function()
      -- 'OS.release.ID matches ubu' used to compare as text and fail quietly
      for _, c in ipairs({ { "matches ubu", "matches" }, { "not installed", "not" },
                           { "  regex ^a.*$", "regex" }, { "startswith Ubuntu 24", "startswith" } }) do
        local err = parse_error(c[1])
        assert.is_truthy(err.msg:find(string.format('unknown operator "%s" (accepted: !=, <, <=, ==, >, >=, in, not in, ~)',
          c[2]), 1, true), err.msg)
        assert.is_truthy(err.msg:find("lua/eidos/constraint/operators.d/" .. c[2] .. ".lua", 1, true), err.msg)
        assert.is_truthy(err.msg:find("quote the value to match the text exactly", 1, true), err.msg)
      end
      -- quoted: text; one word, a capitalised or mixed first word, digits: text as before
      assert.is_true((holds('"matches ubu"', "matches ubu")))
      assert.is_true((holds("'not installed'", "not installed")))
      for _, v in ipairs({ "Ubuntu 24.04.3 LTS", "active", "Not installed", "v1 beta", "x86_64 linux",
                           "24.04 LTS", "ubuntu" }) do
        assert.are.equal("exact", constraint.parse(v, "x").kind, v)
      end
    end)

    it("refuses a non-string expression", function()
      local ok, err = pcall(constraint.parse, 1.32, "K8s.server.version")
      assert.is_false(ok)
      assert.is_truthy(err.msg:find("must be a string", 1, true))
    end)

    it("checks the path with check()", function()
      local ok, err = pcall(constraint.check, { name = "K8s.server", value = ">= 1" })
      assert.is_false(ok)
      assert.is_truthy(err.msg:find('constraint "K8s.server": invalid path', 1, true), err.msg)
      ok, err = pcall(constraint.check, { value = ">= 1" })
      assert.is_false(ok)
      assert.is_truthy(err.msg:find("needs a name", 1, true))
    end)
  end)

  describe("evaluate", function()
    local m
    setup(function()
      m = model.from_doc(assert(yaml.load(assert(support.read(SMALL)))), SMALL)
    end)

    it("passes with the actual value", function()
      local r = constraint.evaluate({ name = "K8s.server.version", value = ">= 1.32", severity = "error" }, m)
      assert.are.same({ name = "K8s.server.version", expression = ">= 1.32", actual = "v1.33.5-eks-3025e55",
                        status = "passed", severity = "error" }, r)
    end)

    it("fails with the reason", function()
      local r = constraint.evaluate({ name = "OS.release.VERSION_ID", value = "22.04", remediation = "reimage" }, m)
      assert.are.equal("failed", r.status)
      assert.are.equal("24.04", r.actual)
      assert.are.equal("expected 22.04, got 24.04", r.reason)
      assert.are.equal("reimage", r.remediation)
    end)

    it("fails when the value is not a version", function()
      local r = constraint.evaluate({ name = "OS.release.ID", value = ">= 22.04" }, m)
      assert.are.equal("failed", r.status)
      assert.are.equal("ubuntu", r.actual)
      assert.is_truthy(r.reason:find("not a version", 1, true))
    end)

    it("skips an unknown path with the reason and the nearest paths", function()
      local r = constraint.evaluate({ name = "OS.release.VERSION", value = ">= 22.04" }, m)
      assert.are.equal("skipped", r.status)
      assert.is_nil(r.actual)
      assert.is_truthy(r.reason:find('no key "VERSION" in OS.release; nearest: OS.release.VERSION_ID', 1, true), r.reason)
      assert.are.equal("OS.release.VERSION_ID", r.nearest[1])
      r = constraint.evaluate({ name = "NodeTopology.node.count", value = ">= 1" }, m)
      assert.are.equal("skipped", r.status)
      assert.is_truthy(r.reason:find("no NodeTopology measurement", 1, true), r.reason)
    end)

    it("fails a malformed expression or path instead of raising", function()
      local r = constraint.evaluate({ name = "K8s.server.version", value = ">= 1.x" }, m)
      assert.are.equal("failed", r.status)
      assert.is_truthy(r.reason:find("at position 4", 1, true), r.reason)
      r = constraint.evaluate({ name = "K8s.server", value = ">= 1" }, m)
      assert.are.equal("failed", r.status)
      assert.is_truthy(r.reason:find("invalid path", 1, true), r.reason)
    end)

    it("reads a YAML number value as it prints (24.04), and says so in expression", function()
      local r = constraint.evaluate({ name = "OS.release.VERSION_ID", value = 24.04 }, m)
      assert.are.equal("passed", r.status)
      assert.are.equal("24.04", r.expression)
      r = constraint.evaluate({ name = "OS.kmod.nvidia", value = true }, m)
      assert.are.equal("passed", r.status)
    end)

    it("trims the actual value", function()
      local d = { kind = "Snapshot", apiVersion = "eidos.nvidia.com/v1alpha1", measurements = {
        { type = "OS", subtypes = { { subtype = "release", data = { ID = "  ubuntu\n" } } } } } }
      local r = constraint.evaluate({ name = "OS.release.ID", value = "ubuntu" }, model.from_doc(d))
      assert.are.equal("passed", r.status)
      assert.are.equal("ubuntu", r.actual)
    end)
  end)

  describe("user operator files", function()
    local res = require("eidos.core.res")
    local dir
    before_each(function()
      dir = support.tmpdir()
      os.execute("mkdir -p " .. support.q(dir .. "/lua/eidos/constraint/operators.d"))
    end)
    after_each(function()
      res.set_roots({ support.root })
      constraint.reset()
      os.execute("rm -rf " .. support.q(dir))
    end)

    local function use(name, text)
      support.write(dir .. "/lua/eidos/constraint/operators.d/" .. name, text)
      res.set_roots({ dir, support.root })
      constraint.reset()
    end

    it("adds operators from lua/eidos/constraint/operators.d/*.lua", function()
      use("matches.lua", [[
        -- the host removes quotes; v is the operand's version table or nil
        return {
          matches = {
            parse = function(text, v)
              if not pcall(string.find, "", text) then return nil, "not a Lua pattern", 0 end
              return text
            end,
            eval = function(actual, p) return actual:find(p) ~= nil end,
          },
          ["=~"] = { eval = function(actual, operand) return actual:lower() == operand:lower() end },
          major = {
            parse = function(text, v)
              if not v then return nil, "expected a version" end
              return v.major
            end,
            eval = function(actual, major, av)
              if not av then return nil, "no version here" end
              return av.major == major, "major " .. av.major
            end,
          },
        }]])
      assert.is_truthy(constraint.operators().matches)
      assert.is_true((holds("matches ^Ubuntu 24%.", "Ubuntu 24.04.3 LTS")))
      assert.is_true((holds("matches 'Ubuntu 24, LTS'", "Ubuntu 24, LTS")))
      assert.is_false((holds("matches ^Ubuntu 22", "Ubuntu 24.04.3 LTS")))
      assert.is_true((holds("=~ UBUNTU", "ubuntu")))
      assert.is_true((holds("major 1, >= 1.30", "v1.33.5-eks-3025e55")))
      local ok, r = holds("major 2", "v1.33.5")
      assert.is_false(ok)
      assert.are.equal("expected major 2, got v1.33.5 (major 1)", r)
      ok, r = holds("major 2", "x")
      assert.is_false(ok)
      assert.are.equal("expected major 2, got x: no version here", r)
      local err = parse_error("matches [")
      assert.is_truthy(err.msg:find("at position 9: not a Lua pattern", 1, true), err.msg)
      err = parse_error("major x")
      assert.is_truthy(err.msg:find("at position 7: expected a version", 1, true), err.msg)
      assert.is_truthy(constraint.accepted():find("matches", 1, true))
    end)

    it("lets a user file replace a built-in operator", function()
      use("eq.lua", [[return { ["=="] = { eval = function(a, o) return a:lower() == o:lower() end } }]])
      assert.is_true((holds("== UBUNTU", "ubuntu")))
    end)

    it("runs user code in a sandbox without io, os.execute, require or debug", function()
      use("bad.lua", [[return { sneaky = { eval = function()
        return io ~= nil or os.execute ~= nil or require ~= nil or debug ~= nil end } }]])
      assert.is_false((holds("sneaky x", "y")))
    end)

    it("stops an endless loop, even under pcall, and names the file", function()
      use("loop.lua", "return {\n  loop = { eval = function() while true do pcall(function() while true do end end) end end },\n}\n")
      local ok, r = holds("loop x", "y")
      assert.is_false(ok)
      assert.is_truthy(r:find("loop.lua", 1, true), r)
      assert.is_truthy(r:find("time limit", 1, true), r)
    end)

    it("reports a runtime error of an operator as a failure naming the file and line", function()
      use("boom.lua", "return {\n  boom = { eval = function(a) return a.x.y end },\n}\n")
      local ok, r = holds("boom x", "y")
      assert.is_false(ok)
      assert.is_truthy(r:find('operator "boom" failed on y: ', 1, true), r)
      assert.is_truthy(r:find("boom.lua:2:", 1, true), r)
    end)

    local broken = {
      { "return 42", "must return a table" },
      { "return {", "operator file" },
      { "error('nope')", "nope" },
      { "return { ['a,b'] = { eval = function() end } }", 'operator name "a,b" is not usable' },
      { "return { ok = { parse = 1, eval = function() end } }", 'operator "ok" must be a table with eval' },
      { "return { ok = true }", 'operator "ok" must be a table with eval' },
      { "while true do end", "time limit" },
    }
    for _, c in ipairs(broken) do
      it("refuses a broken operator file: " .. c[2], function()
        use("broken.lua", c[1])
        local ok, err = pcall(constraint.operators)
        assert.is_false(ok)
        assert.are.equal("invalid", err.code)
        assert.is_truthy(err.msg:find(c[2], 1, true), err.msg)
        assert.is_truthy(err.msg:find("broken.lua", 1, true), err.msg)
      end)
    end
  end)
end)
