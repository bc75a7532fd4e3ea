-- eidos validate, run as a user would: formats, determinism, exit codes,
-- --strict, JUnit that parses, a user operator file, and the real
-- snapshots of ../shared (skipped when absent). The binary runs with
-- EIDOS_HOME at the source tree so the Lua on disk is what is tested.
local support = require("support")
local cjson = require("cjson")

local SMALL = "spec/fixtures/snapshots/validate-small.yaml"
local RECIPE = "spec/fixtures/recipes/validate-eks-gb200-ubuntu-training.yaml"

local function run(args, opts)
  opts = opts or {}
  opts.env = opts.env or {}
  if opts.env.EIDOS_HOME == nil then opts.env.EIDOS_HOME = support.root end
  if opts.env.SOURCE_DATE_EPOCH == nil then opts.env.SOURCE_DATE_EPOCH = "" end
  return support.run(args, opts)
end

local function json_of(r)
  assert.are.equal("", r.err)
  return cjson.decode(r.out)
end

local function has_cmd(c)
  return os.execute("command -v " .. c .. " >/dev/null 2>&1") == true
end

-- crude JUnit reader: the attributes of <testsuite> and each <testcase>
local function junit_parse(xml)
  assert.is_truthy(xml:match('^<%?xml version="1.0" encoding="UTF%-8"%?>\n'))
  local suite = xml:match("<testsuite%s([^>]*)>")
  assert.is_truthy(suite, "no <testsuite>")
  local function attrs(s)
    local t = {}
    for k, v in s:gmatch('([%w_-]+)="([^"]*)"') do t[k] = v end
    return t
  end
  local cases = {}
  for body in xml:gmatch("<testcase%s(.-</testcase>)") do cases[#cases + 1] = body end
  for body in xml:gmatch("<testcase%s([^>]-)/>") do cases[#cases + 1] = body end
  -- balanced tags, and no raw markup characters inside attribute values
  for _, tag in ipairs({ "testsuites", "testsuite", "properties" }) do
    local _, opens = xml:gsub("<" .. tag .. "[%s>]", "")
    local _, closes = xml:gsub("</" .. tag .. ">", "")
    assert.are.equal(opens, closes, tag)
  end
  for v in xml:gmatch('="([^"]*)"') do
    assert.is_nil(v:find("[<>]"), v)
    assert.is_nil(v:find("&[^alqg]"), v)
  end
  return attrs(suite), cases
end

describe("eidos validate", function()
  describe("output", function()
    it("writes a ValidationResult in yaml by default", function()
      local r = run({ "validate", "--recipe", RECIPE, "--snapshot", SMALL })
      assert.are.equal(0, r.code, r.err)
      assert.are.equal("", r.err)
      assert.are.equal(table.concat({
        "kind: ValidationResult",
        "apiVersion: eidos.nvidia.com/v1alpha1",
        "metadata:",
      }, "\n"), r.out:sub(1, #"kind: ValidationResult\napiVersion: eidos.nvidia.com/v1alpha1\nmetadata:"))
      assert.is_truthy(r.out:find("\nstatus: pass\n", 1, true), r.out)
      assert.is_truthy(r.out:find("recipe: " .. RECIPE, 1, true))
      assert.is_truthy(r.out:find("snapshot: " .. SMALL, 1, true))
      assert.is_nil(r.out:find("timestamp", 1, true))
    end)

    it("writes json with results in input order and summary counts", function()
      local d = json_of(run({ "validate", "-r", RECIPE, "-s", SMALL, "-t", "json", "--fail-on-error=false",
        "-c", "OS.release.VERSION_ID in (22.04, 24.04)", "-c", "GPU.smi.driver-version >= 580",
        "-c", "OS.release.ID rhel" }))
      assert.are.equal("ValidationResult", d.kind)
      assert.are.equal("eidos.nvidia.com/v1alpha1", d.apiVersion)
      assert.are.equal("fail", d.status)
      assert.are.same({ passed = 5, failed = 1, skipped = 1, warnings = 0, total = 7 }, d.summary)
      local names = {}
      for i, x in ipairs(d.results) do names[i] = x.name end
      assert.are.same({ "K8s.server.version", "OS.release.ID", "OS.release.VERSION_ID",
        "OS.sysctl./proc/sys/kernel/osrelease", "OS.release.VERSION_ID", "GPU.smi.driver-version",
        "OS.release.ID" }, names)
      assert.are.same({ name = "K8s.server.version", expression = ">= 1.32", status = "passed",
                        actual = "v1.33.5-eks-3025e55" }, d.results[1])
      assert.are.equal("skipped", d.results[6].status)
      assert.are.same({ "GPU.smi.driver", "GPU.smi.cuda-version" }, d.results[6].nearest)
      assert.is_truthy(d.results[6].reason:find('no key "driver-version" in GPU.smi; nearest: GPU.smi.driver', 1, true))
      assert.are.same({ name = "OS.release.ID", expression = "rhel", status = "failed", actual = "ubuntu",
                        reason = "expected rhel, got ubuntu" }, d.results[7])
    end)

    it("is byte-identical across runs, with the timestamp pinned by SOURCE_DATE_EPOCH", function()
      local a = run({ "validate", "-r", RECIPE, "-s", SMALL, "-c", "Foo.bar.baz 1" })
      local b = run({ "validate", "-r", RECIPE, "-s", SMALL, "-c", "Foo.bar.baz 1" })
      assert.are.equal(a.out, b.out)
      local c = run({ "validate", "-r", RECIPE, "-s", SMALL, "-t", "json" }, { env = { SOURCE_DATE_EPOCH = "1767225600" } })
      assert.are.equal("2026-01-01T00:00:00Z", json_of(c).metadata.timestamp)
      local e = run({ "validate", "-r", RECIPE, "-s", SMALL }, { env = { SOURCE_DATE_EPOCH = "yesterday" } })
      assert.are.equal(2, e.code)
      assert.is_truthy(e.err:find('"yesterday" for SOURCE_DATE_EPOCH', 1, true))
    end)

    it("prints an aligned table without colour when not on a terminal", function()
      local r = run({ "validate", "-r", RECIPE, "-s", SMALL, "-t", "table", "-c", "OS.release.ID rhel",
        "-c", "Foo.bar.baz 1", "--fail-on-error=false" })
      assert.are.equal(0, r.code)
      assert.is_nil(r.out:find("\27", 1, true))
      local lines = {}
      for l in r.out:gmatch("[^\n]*") do lines[#lines + 1] = l end
      assert.is_truthy(lines[1]:match("^STATUS%s+CONSTRAINT%s+EXPRESSION%s+ACTUAL%s+REASON$"), lines[1])
      local col = lines[1]:find("EXPRESSION", 1, true)
      for i = 2, 7 do
        assert.is_truthy(lines[i]:match("^%a+%s+%S+%s+"), lines[i])
        assert.are.equal(" ", lines[i]:sub(col - 1, col - 1), lines[i])
        assert.are_not.equal(" ", lines[i]:sub(col, col), lines[i])
      end
      assert.is_truthy(r.out:find("failed   OS.release.ID ", 1, true), r.out)
      assert.is_truthy(r.out:find("expected rhel, got ubuntu", 1, true))
      assert.is_truthy(r.out:find("\n6 constraints: 4 passed, 1 failed, 1 skipped -> fail\n", 1, true), r.out)
    end)

    it("colours the table on a terminal unless NO_COLOR is set", function()
      if not has_cmd("script") then pending("script(1) not installed"); return end
      local cmd = string.format("EIDOS_HOME=%s %s validate -s %s -c 'OS.release.ID ubuntu' -t table",
        support.q(support.root), support.q(support.eidos), SMALL)
      local function pty(extra)
        local p = io.popen("script -qec " .. support.q(extra .. cmd) .. " /dev/null")
        local out = p:read("a")
        p:close()
        return out
      end
      assert.is_truthy(pty("unset NO_COLOR; "):find("\27[32mpassed\27[0m", 1, true))
      assert.is_nil(pty("NO_COLOR=1 "):find("\27[", 1, true))
    end)

    it("writes well-formed JUnit XML with failures, skips and escaped text", function()
      local r = run({ "validate", "-r", RECIPE, "-s", SMALL, "-t", "junit", "--fail-on-error=false",
        "-c", "OS.release.ID rhel", "-c", "Foo.bar.baz 1", "-c", [[OS.release.NAME '<Ubuntu & "friends">']] })
      assert.are.equal(0, r.code, r.err)
      local suite, cases = junit_parse(r.out)
      assert.are.equal("7", suite.tests)
      assert.are.equal("2", suite.failures)
      assert.are.equal("1", suite.skipped)
      assert.are.equal(7, #cases)
      assert.is_truthy(r.out:find('<failure message="expected rhel, got ubuntu" type="failed">', 1, true))
      assert.is_truthy(r.out:find('<skipped message="no Foo measurement in the snapshot', 1, true))
      assert.is_truthy(r.out:find("&lt;Ubuntu &amp; &quot;friends&quot;&gt;", 1, true))
      if has_cmd("xmllint") then
        local d = support.tmpdir()
        support.write(d .. "/r.xml", r.out)
        assert.is_true(os.execute("xmllint --noout " .. support.q(d .. "/r.xml")) == true)
        os.execute("rm -rf " .. support.q(d))
      end
    end)

    it("writes to a file with -o", function()
      local d = support.tmpdir()
      local r = run({ "validate", "-r", RECIPE, "-s", SMALL, "-t", "junit", "-o", d .. "/out.xml",
        "-c", "OS.release.ID rhel", "--fail-on-error" })
      assert.are.equal(9, r.code)
      assert.are.equal("", r.out)
      local xml = support.read(d .. "/out.xml")
      assert.is_truthy(xml and xml:find("</testsuites>\n$"))
      os.execute("rm -rf " .. support.q(d))
    end)

    it("reads the snapshot from stdin", function()
      local r = run({ "validate", "-s", "-", "-c", "K8s.server.version ~1.33", "-t", "json" },
        { stdin = support.read(SMALL) })
      local d = json_of(r)
      assert.are.equal("pass", d.status)
      assert.are.equal("stdin", d.metadata.snapshot)
    end)
  end)

  describe("constraints", function()
    it("accepts PATH directly followed by an operator", function()
      local d = json_of(run({ "validate", "-s", SMALL, "-t", "json", "-c", "K8s.server.version>=1.32" }))
      assert.are.equal("K8s.server.version", d.results[1].name)
      assert.are.equal(">=1.32", d.results[1].expression)
      assert.are.equal("passed", d.results[1].status)
    end)

    it("reads severity and remediation from the recipe; a failed warning does not fail", function()
      local d = support.tmpdir()
      support.write(d .. "/r.yaml", [[
kind: RecipeResult
apiVersion: aicr.nvidia.com/v1alpha1
constraints:
  - name: OS.release.ID
    value: rhel
    severity: warning
    remediation: use RHEL
  - name: OS.release.VERSION_ID
    value: 24.04
  - name: K8s.server.version
    value: ">= 1.30"
    severity: error
    remediation: upgrade
]])
      local r = run({ "validate", "-r", d .. "/r.yaml", "-s", SMALL, "-t", "json", "--fail-on-error" })
      assert.are.equal(0, r.code, r.err)
      -- the unquoted YAML number is compared as 24.04, with a warning
      assert.is_truthy(r.err:find("is a YAML number", 1, true), r.err)
      local v = cjson.decode(r.out)
      assert.are.equal("partial", v.status)
      assert.are.same({ passed = 2, failed = 1, skipped = 0, warnings = 1, total = 3 }, v.summary)
      assert.are.equal("warning", v.results[1].severity)
      assert.are.equal("use RHEL", v.results[1].remediation)
      assert.is_nil(v.results[3].remediation) -- only failures carry the remediation
      local t = run({ "validate", "-r", d .. "/r.yaml", "-s", SMALL, "-t", "table" })
      assert.is_truthy(t.out:find("warning: expected rhel, got ubuntu", 1, true), t.out)
      assert.is_truthy(t.out:find("1 failed (1 warning)", 1, true), t.out)
      local j = run({ "validate", "-r", d .. "/r.yaml", "-s", SMALL, "-t", "junit" })
      local suite = junit_parse(j.out)
      assert.are.equal("0", suite.failures)
      assert.is_truthy(j.out:find("<system-err>warning: ", 1, true))
      os.execute("rm -rf " .. support.q(d))
    end)

    it("turns skips into failures with --strict", function()
      local args = { "validate", "-s", SMALL, "-t", "json", "-c", "OS.release.ID ubuntu", "-c", "Foo.bar.baz 1" }
      local d = json_of(run(args))
      assert.are.equal("partial", d.status)
      assert.are.equal("skipped", d.results[2].status)
      args[#args + 1] = "--strict"
      args[#args + 1] = "--fail-on-error=false"
      d = json_of(run(args))
      assert.are.equal("fail", d.status)
      assert.are.equal(true, d.metadata.strict)
      assert.are.equal("failed", d.results[2].status)
      assert.is_truthy(d.results[2].reason:find("^strict: no Foo measurement"))
      assert.are.same({ passed = 1, failed = 1, skipped = 0, warnings = 0, total = 2 }, d.summary)
    end)
  end)

  describe("exit codes", function()
    local pass = { "-c", "OS.release.ID ubuntu" }
    local fail = { "-c", "OS.release.ID rhel" }
    local skip = { "-c", "Foo.bar.baz 1" }
    local function code(extra, flags)
      local args = { "validate", "-s", SMALL }
      for _, a in ipairs(extra) do args[#args + 1] = a end
      for _, a in ipairs(flags or {}) do args[#args + 1] = a end
      return run(args)
    end

    it("is 0 when everything passed, with or without --fail-on-error", function()
      assert.are.equal(0, code(pass).code)
      assert.are.equal(0, code(pass, { "--fail-on-error", "--strict" }).code)
    end)

    it("is 9 on a failure by default (--fail-on-error defaults to true), 0 with --fail-on-error=false", function()
      local r = code(fail)
      assert.are.equal(9, r.code)
      assert.is_truthy(r.out:find("status: fail", 1, true))
      r = code(fail, { "--fail-on-error=false" })
      assert.are.equal(0, r.code, r.err)
      assert.is_truthy(r.out:find("status: fail", 1, true))
      assert.are.equal(2, code(fail, { "--fail-on-error=maybe" }).code)
    end)

    it("is 9 on a failure with --fail-on-error, after writing the result", function()
      local r = code(fail, { "--fail-on-error" })
      assert.are.equal(9, r.code)
      assert.is_truthy(r.out:find("status: fail", 1, true))
      assert.is_truthy(r.err:find("validation failed: 1 of 1 constraint failed", 1, true), r.err)
    end)

    it("is 0 on a skip with --fail-on-error, 9 with --strict too", function()
      assert.are.equal(0, code(skip, { "--fail-on-error" }).code)
      local r = code(skip, { "--fail-on-error", "--strict" })
      assert.are.equal(9, r.code)
      assert.is_truthy(r.err:find("--strict counts skipped constraints as failed", 1, true), r.err)
    end)

    local invalid = {
      { { "-c", "K8s.server.version >= 1.x" }, 'malformed expression ">= 1.x" at position 4' },
      { { "-c", "K8s.server >= 1" }, 'invalid path "K8s.server"' },
      { { "-c", "K8s.server.version" }, "expected a path, then an expression" },
      { { "-c", "K8s.server.version => 1", "-c", "OS.release.ID in (a" }, "2 malformed constraints" },
      { { "-t", "xml", "-c", "OS.release.ID ubuntu" }, 'invalid value "xml" for --format' },
      { {}, "nothing to validate" },
      { { "--fail-on-error", "-c", "K8s.server.version >= 1.x" }, "malformed expression" },
      -- flags that cannot apply are refused before anything runs or is written
      { { "-c", "OS.release.ID ubuntu", "--image", "x:1" }, "--image configures the snapshot agent" },
      { { "-c", "OS.release.ID ubuntu", "--privileged" }, "leave --privileged out" },
      { { "-c", "OS.release.ID ubuntu", "--evidence-dir", SMALL }, "exists and is not a directory" },
      { { "-c", "OS.release.ID ubuntu", "-s", "spec/fixtures/snapshots/console-old-node.json", "--evidence-dir", "ev" },
        "a fleet report (several snapshots) reads nothing else" },
    }
    for _, c in ipairs(invalid) do
      it("is 2 for invalid input: " .. c[2], function()
        local r = code(c[1])
        assert.are.equal(2, r.code, r.err)
        assert.are.equal("", r.out)
        assert.is_truthy(r.err:find(c[2], 1, true), r.err)
      end)
    end

    it("is 3 without --snapshot and no cluster to take one from; 2 for a document that is not a snapshot or recipe", function()
      local r = run({ "validate", "-c", "OS.release.ID ubuntu" }, { env = { KUBECONFIG = "", HOME = "/nonexistent" } })
      assert.are.equal(3, r.code, r.err)
      assert.is_truthy(r.err:find("no --snapshot given", 1, true), r.err)
      assert.is_truthy(r.err:find("KUBECONFIG", 1, true), r.err)
      r = run({ "validate", "-s", RECIPE, "-c", "OS.release.ID ubuntu" })
      assert.are.equal(2, r.code)
      assert.is_truthy(r.err:find('kind is "RecipeResult", expected "Snapshot"', 1, true), r.err)
      r = run({ "validate", "-s", SMALL, "-r", SMALL })
      assert.are.equal(2, r.code)
      assert.is_truthy(r.err:find('has kind "Snapshot"; expected a RecipeResult', 1, true), r.err)
      r = run({ "validate", "-s", "-", "-r", "-" })
      assert.are.equal(2, r.code)
      r = run({ "validate", "-s", "-", "-c", "OS.release.ID ubuntu" }, { stdin = "kind: Snapshot\0\1" })
      assert.are.equal(2, r.code)
      assert.is_truthy(r.err:find("is binary, not YAML or JSON", 1, true), r.err)
    end)

    it("is 3 when a file does not exist", function()
      local r = run({ "validate", "-s", "/nonexistent/snap.yaml", "-c", "OS.release.ID ubuntu" })
      assert.are.equal(3, r.code)
      assert.is_truthy(r.err:find('snapshot file "/nonexistent/snap.yaml" not found', 1, true), r.err)
      r = run({ "validate", "-s", SMALL, "-r", "/nonexistent/recipe.yaml" })
      assert.are.equal(3, r.code)
    end)
  end)

  describe("user operators", function()
    it("uses an operator from lua/eidos/constraint/operators.d/ under EIDOS_HOME", function()
      local home = support.tmpdir()
      os.execute("mkdir -p " .. support.q(home .. "/lua/eidos/constraint/operators.d"))
      support.write(home .. "/lua/eidos/constraint/operators.d/matches.lua", [[
-- matches: the value matches a Lua pattern
return {
  matches = {
    parse = function(text)
      if not pcall(string.find, "", text) then return nil, "not a Lua pattern", 0 end
      return text
    end,
    eval = function(actual, p) return actual:find(p) ~= nil end,
    help = "the value matches a Lua pattern",
  },
}
]])
      -- EIDOS_HOME is the user's directory; --lua-path puts this checkout's
      -- Lua first so the specs test the files on disk
      local function v(...)
        return run({ "--lua-path", support.root, "validate", "-s", SMALL, "-t", "json", ... },
          { env = { EIDOS_HOME = home } })
      end
      -- a FIFO among the operator files is refused naming it (never opened, never skipped)
      os.execute("mkfifo " .. support.q(home .. "/lua/eidos/constraint/operators.d/pipe.lua"))
      local fr = v("-c", "OS.release.ID matches ^u")
      assert.are.equal(2, fr.code, fr.err)
      assert.truthy(fr.err:find('operator file "' .. home .. '/lua/eidos/constraint/operators.d/pipe.lua" is a FIFO, ' ..
        "not a regular file", 1, true), fr.err)
      os.remove(home .. "/lua/eidos/constraint/operators.d/pipe.lua")
      local d = json_of(v("-c", "OS.release.PRETTY_NAME matches ^Ubuntu 24%.", "-c", "OS.release.ID matches ^rh",
        "--fail-on-error=false"))
      assert.are.equal("passed", d.results[1].status)
      assert.are.equal("failed", d.results[2].status)
      assert.are.equal("expected matches ^rh, got ubuntu", d.results[2].reason)
      local r = v("-c", "OS.release.ID matches [")
      assert.are.equal(2, r.code)
      assert.is_truthy(r.err:find("at position 9: not a Lua pattern", 1, true), r.err)
      -- without the file the word is no operator: invalid input naming it, the
      -- operators and where to add one (it used to compare as text and fail)
      local plain = run({ "validate", "-s", SMALL, "-t", "json", "-c", "OS.release.ID matches x" })
      assert.are.equal(2, plain.code)
      assert.are.equal("", plain.out)
      assert.is_truthy(plain.err:find('unknown operator "matches" (accepted: !=, <, <=, ==, >, >=, in, not in, ~)', 1, true),
        plain.err)
      assert.is_truthy(plain.err:find("lua/eidos/constraint/operators.d/matches.lua", 1, true), plain.err)
      -- quoted, it is text
      local quoted = json_of(run({ "validate", "-s", SMALL, "-t", "json", "--fail-on-error=false",
        "-c", "OS.release.ID 'matches x'" }))
      assert.are.equal("expected matches x, got ubuntu", quoted.results[1].reason)
      os.execute("rm -rf " .. support.q(home))
    end)
  end)

  describe("hook operators", function()
    it("uses the operators point of a --hooks file", function()
      local dir = support.tmpdir()
      support.write(dir .. "/ops.lua", [[
return { operators = { shout = { eval = function(a, o) return a:upper() == o, "not loud" end } } }
]])
      local d = json_of(run({ "--hooks", dir, "validate", "-s", SMALL, "-t", "json", "--fail-on-error=false",
        "-c", "OS.release.ID shout UBUNTU", "-c", "OS.release.ID shout ubuntu" }))
      assert.are.equal("passed", d.results[1].status)
      assert.are.equal("expected shout ubuntu, got ubuntu (not loud)", d.results[2].reason)
      os.execute("rm -rf " .. support.q(dir))
    end)
  end)

  describe("real snapshots", function()
    local shared = support.shared()
    local cases = {
      { "h100-eks-ubuntu.yaml", "spec/fixtures/recipes/validate-eks-h100-ubuntu-training.yaml" },
      { "gb200-eks-ubuntu.yaml", RECIPE },
    }
    local function no_failure(recipe, snap)
      local r = run({ "validate", "-r", recipe, "-s", snap, "-t", "json", "--fail-on-error" })
      assert.are.equal(0, r.code, r.err .. r.out)
      local v = cjson.decode(r.out)
      assert.are.equal(0, v.summary.failed)
      assert.is_true(v.summary.total > 0)
      for _, x in ipairs(v.results) do
        if x.status == "skipped" then assert.is_string(x.reason) end
      end
    end

    for _, c in ipairs(cases) do
      it("validates the hand-written eks/ubuntu/training recipe against " .. c[1] .. " with no failure", function()
        if not shared then pending("../shared is not present"); return end
        no_failure(c[2], shared .. "/fixtures/snapshots/" .. c[1])
      end)

      it("validates the recipe generated in snapshot mode from " .. c[1] .. " with no failure", function()
        if not shared then pending("../shared is not present"); return end
        if run({ "recipe", "--help" }).code ~= 0 then pending("no recipe command yet"); return end
        local snap = shared .. "/fixtures/snapshots/" .. c[1]
        local d = support.tmpdir()
        local g = run({ "recipe", "--snapshot", snap, "-o", d .. "/recipe.yaml" })
        assert.are.equal(0, g.code, g.err)
        no_failure(d .. "/recipe.yaml", snap)
        os.execute("rm -rf " .. support.q(d))
      end)
    end

    it("reports the h100 snapshot's Kubernetes 1.30 against >= 1.32 as a failure", function()
      if not shared then pending("../shared is not present"); return end
      local d = json_of(run({ "validate", "-r", RECIPE, "-s", shared .. "/fixtures/snapshots/h100-eks-ubuntu.yaml",
        "-t", "json", "--fail-on-error=false" }))
      assert.are.equal("fail", d.status)
      assert.are.equal("expected >= 1.32, got v1.30.14-eks-3025e55", d.results[1].reason)
    end)
  end)
end)
