-- Every table a person reads fits min(120, the terminal's width) columns
-- (eidos.columns), measured line by line on the real fixtures: the shared
-- EKS snapshots in ../shared/fixtures when present, our own snapshots and
-- sysroot, and this machine's own snapshot. Also --help of every command,
-- COLUMNS=80, that --wide gives everything back, and that fitting loses no
-- row (long subtypes of a snapshot are counted, and say so).
local support = require("support")

local ROOT = support.root
local TMP

local function run(args, env)
  local e = { EIDOS_HOME = ROOT, EIDOS_NVML_LIB = "/nonexistent", SOURCE_DATE_EPOCH = "1767225600",
              PATH = ROOT .. "/spec/fixtures/bin:" .. os.getenv("PATH") }
  for k, v in pairs(env or {}) do e[k] = v end
  return support.run(args, { env = e })
end

local function len(s) return utf8.len(s) or #s end

-- widest(text) -> the widest line's width, and that line
local function widest(text)
  local w, which = 0, ""
  for line in text:gmatch("[^\n]*") do
    if len(line) > w then w, which = len(line), line end
  end
  return w, which
end

local function fits(r, limit, what)
  assert.are.equal(0, r.code, what .. ": " .. r.err)
  assert.truthy(#r.out > 0, what .. ": no output")
  local w, line = widest(r.out)
  assert.is_true(w <= limit, string.format("%s: a line of %d columns (limit %d):\n%s", what, w, limit, line))
  return r.out
end

-- the snapshots: our own always, the shared ones where present
local function snapshots()
  local list = {}
  for _, f in ipairs({ "recipe-eks-h100.yaml", "recipe-kind-gh200.yaml", "validate-small.yaml" }) do
    list[#list + 1] = ROOT .. "/spec/fixtures/snapshots/" .. f
  end
  list[#list + 1] = TMP .. "/sysroot-snapshot.yaml"
  local shared = support.shared()
  if shared then
    for _, f in ipairs({ "h100-eks-ubuntu.yaml", "gb200-eks-ubuntu.yaml" }) do
      list[#list + 1] = shared .. "/fixtures/snapshots/" .. f
    end
  end
  return list
end

describe("tables fit", function()
  setup(function()
    TMP = support.tmpdir()
    local r = run({ "snapshot", "--sysroot", ROOT .. "/spec/fixtures/sysroot/basic", "-o", TMP .. "/sysroot-snapshot.yaml", "-q" })
    assert.are.equal(0, r.code, r.err)
    support.write(TMP .. "/view.lua", [[
      local f = assert(io.open(arg[1], "rb"))
      local d = require("eidos.doc").decode(f:read("a"), arg[1])
      f:close()
      io.write(require("eidos.snapshot.view").render(d))
    ]])
    r = run({ "recipe", "--service", "eks", "--accelerator", "h100", "--os", "ubuntu", "--intent", "training",
              "-o", TMP .. "/r.yaml", "-q" })
    assert.are.equal(0, r.code, r.err)
    r = run({ "bundle", "-r", TMP .. "/r.yaml", "-o", TMP .. "/bundle", "-q" })
    assert.are.equal(0, r.code, r.err)
  end)
  teardown(function() os.execute("rm -rf " .. support.q(TMP)) end)

  local CRIT = { "--service", "eks", "--accelerator", "h100", "--os", "ubuntu", "--intent", "training" }
  local function with(list, ...)
    local out = {}
    for _, w in ipairs(list) do out[#out + 1] = w end
    for _, w in ipairs({ ... }) do out[#out + 1] = w end
    return out
  end

  -- the table commands on criteria alone
  local R, Q = with({ "recipe" }, table.unpack(CRIT)), with({ "query" }, table.unpack(CRIT))
  local fixed = {
    { "recipe -t table", with(R, "-t", "table") },
    { "recipe --explain -t table", with(R, "--explain", "-t", "table") },
    { "recipe list", { "recipe", "list" } },
    { "recipe lint", { "recipe", "lint" } },
    { "criteria", { "criteria" } },
    { "query -t table", with(Q, "--selector", "components.gpu-operator", "-t", "table") },
    { "query --explain", with(Q, "--selector", "components.gpu-operator", "--explain") },
    { "version -t table", { "version", "-t", "table" } },
    { "lua --list", { "lua", "--list" } },
    { "snapshot -t table (fixture node)", { "snapshot", "-t", "table", "--sysroot", ROOT .. "/spec/fixtures/sysroot/basic" } },
    { "snapshot -t table (this machine)", { "snapshot", "-t", "table", "--timeout", "5s" } },
  }
  for _, c in ipairs(fixed) do
    it(c[1] .. " in 120 columns, and in COLUMNS=80", function()
      fits(run(c[2]), 120, c[1])
      fits(run(c[2], { COLUMNS = "80" }), 80, c[1] .. " COLUMNS=80")
    end)
  end

  it("verify in 120 columns", function()
    fits(run({ "verify", TMP .. "/bundle" }), 120, "verify")
  end)

  it("recipe, explain, query and validate on every snapshot fixture", function()
    for _, s in ipairs(snapshots()) do
      local name = s:match("[^/]+$")
      local r = run({ "recipe", "--snapshot", s, "--intent", "training", "--allow-partial", "-o", TMP .. "/rs.yaml", "-q" })
      if r.code == 0 then
        fits(run({ "recipe", "--snapshot", s, "--intent", "training", "--allow-partial", "-t", "table" }), 120,
          "recipe -t table " .. name)
        fits(run({ "recipe", "--snapshot", s, "--intent", "training", "--allow-partial", "--explain", "-t", "table" }),
          120, "recipe --explain " .. name)
        fits(run({ "validate", "-r", TMP .. "/rs.yaml", "-s", s, "-t", "table", "--fail-on-error=false" }), 120,
          "validate " .. name)
      end
      fits(run({ "validate", "-r", TMP .. "/r.yaml", "-s", s, "-t", "table", "--fail-on-error=false",
                 "-c", "OS.sysctl./proc/sys/kernel/no_such_key_with_a_long_name_for_its_nearest_paths >= 5.15" }), 120,
        "validate (built recipe, a missing key) " .. name)
      fits(run({ "validate", "-r", TMP .. "/r.yaml", "-s", s, "-t", "table", "--fail-on-error=false" },
        { COLUMNS = "80" }), 80,
        "validate COLUMNS=80 " .. name)
      local text = fits(run({ "lua", TMP .. "/view.lua", s }), 120, "snapshot table of " .. name)
      fits(run({ "lua", TMP .. "/view.lua", s }, { COLUMNS = "60" }), 60, "snapshot table COLUMNS=60 " .. name)
      -- every measurement is there, and counted subtypes say how to see them
      local d = require("eidos.doc").decode(support.read(s), s)
      for _, m in ipairs(d.measurements) do
        assert.truthy(text:find("\n" .. m.type, 1, true), name .. ": " .. m.type)
      end
      if text:find("keys)", 1, true) then
        assert.truthy(text:find("--wide lists every key", 1, true), text)
      end
    end
  end)

  it("diff of every pair of snapshot fixtures, and validate over all of them (a fleet)", function()
    local list = snapshots()
    for i = 1, #list - 1 do
      local r = run({ "diff", list[i], list[i + 1], "-t", "table" })
      fits(r, 120, "diff " .. list[i]:match("[^/]+$") .. " " .. list[i + 1]:match("[^/]+$"))
    end
    local args = { "validate", "-r", TMP .. "/r.yaml", "-t", "table", "--fail-on-error=false",
                   "-c", "OS.sysctl./proc/sys/kernel/no_such_key_with_a_long_name_for_its_nearest_paths >= 5.15" }
    for _, s in ipairs(list) do args[#args + 1] = "-s"; args[#args + 1] = s end
    local text = fits(run(args), 120, "validate over every snapshot")
    assert.truthy(text:find("NODE%s+STATUS"), text)
    fits(run(args, { COLUMNS = "80" }), 80, "validate over every snapshot COLUMNS=80")
  end)

  it("the shared snapshots' long subtypes are counted, and --wide lists them all", function()
    local shared = support.shared()
    if not shared then
      pending("../shared fixtures absent")
      return
    end
    local s = shared .. "/fixtures/snapshots/h100-eks-ubuntu.yaml"
    local short = run({ "lua", TMP .. "/view.lua", s }).out
    assert.truthy(short:find("  sysctl   (311 keys)", 1, true), short)
    local _, n = short:gsub("\n", "")
    assert.is_true(n < 120, "lines: " .. n)
    local wide = run({ "--wide", "lua", TMP .. "/view.lua", s }).out
    assert.truthy(wide:find("/proc/sys/kernel/osrelease", 1, true))
    assert.is_nil(wide:find("keys)", 1, true))
    local _, nw = wide:gsub("\n", "")
    assert.is_true(nw > 1000, "lines: " .. nw)
  end)

  it("--wide gives every column in full; fitting loses no row", function()
    local args = with(R, "-t", "table")
    local fit = run(args).out
    assert.truthy(fit:find("(SOURCE left out to fit 120 columns; --wide shows it)", 1, true), fit)
    table.insert(args, 1, "--wide")
    local wide = run(args).out
    assert.truthy(wide:find("https://helm.ngc.nvidia.com/nvidia (gpu-operator)", 1, true), wide)
    assert.is_true(widest(wide) > 120)
    -- the same components in both
    for name in wide:gmatch("\n([%w-]+)%s+v?%d[^\n]*") do
      assert.truthy(fit:find("\n" .. name .. " ", 1, true), name)
    end
  end)

  it("--help of every command and subcommand, bare eidos and eidos help", function()
    local cmds = {}
    for line in run({}).out:gmatch("\n  (%l[%w-]*)   ") do cmds[#cmds + 1] = line end
    assert.is_true(#cmds >= 10, table.concat(cmds, " "))
    fits(run({}), 120, "eidos")
    for _, c in ipairs(cmds) do
      local r = run({ c, "--help" })
      fits(r, 120, c .. " --help")
      fits(run({ c, "--help" }, { COLUMNS = "80" }), 80, c .. " --help COLUMNS=80")
      fits(run({ "help", c }), 120, "help " .. c)
      for sub in (r.out:match("\nSubcommands:\n(.-)\n\n") or ""):gmatch("  (%S+)") do
        fits(run({ "help", c, sub }), 120, "help " .. c .. " " .. sub)
      end
    end
  end)

  it("help examples broken to fit still read as one command (shell continuations)", function()
    local out = run({ "query", "--help" }, { COLUMNS = "80" }).out
    local ex = out:match("\nExamples:\n(.*)$")
    assert.truthy(ex:find(" \\\n      ", 1, true), ex)
    local joined = ex:gsub(" \\\n%s+", " ")
    assert.truthy(joined:find("eidos query --service eks --accelerator gb200 --os ubuntu --intent training " ..
      "--selector components.gpu-operator.values.driver.version", 1, true), joined)
  end)
end)
