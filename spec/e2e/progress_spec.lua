-- What commands say on stderr about their progress and output
-- (eidos.progress): the closing "wrote ..." line of every command that
-- writes a file, a directory or cm:// (the snapshot agent's progress lines
-- are in k8s_spec), none for stdout and devices, --quiet, --log-level and
-- --log-json. stdout stays the document alone.
local support = require("support")
local cjson = require("cjson")

local ROOT = support.root
local SYSROOT = ROOT .. "/spec/fixtures/sysroot/basic"
local RECIPE = ROOT .. "/spec/fixtures/recipes/validate-eks-gb200-ubuntu-training.yaml"
local SMALL = ROOT .. "/spec/fixtures/snapshots/validate-small.yaml"

local function run(args, env)
  local e = { EIDOS_HOME = ROOT, EIDOS_NVML_LIB = "/nonexistent", PATH = ROOT .. "/spec/fixtures/bin:" .. os.getenv("PATH") }
  for k, v in pairs(env or {}) do e[k] = v end
  return support.run(args, { env = e })
end

local function esc(s) return (s:gsub("%p", "%%%0")) end

describe("the closing 'wrote ...' line", function()
  local dir, full
  setup(function()
    full = support.tmpdir()
    local r = run({ "recipe", "--service", "eks", "--accelerator", "h100", "--intent", "training", "-o", full .. "/r.yaml" })
    assert.are.equal(0, r.code, r.err)
  end)
  teardown(function() os.execute("rm -rf " .. support.q(full)) end)
  before_each(function() dir = support.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. support.q(dir)) end)

  -- every command that writes a document to -o FILE ends with one line
  -- naming what, where and its key numbers
  local cases = {
    { "snapshot", { "snapshot", "--sysroot", SYSROOT, "-o", "OUT" },
      "wrote snapshot to OUT %(5 measurements, K8s and SystemD not taken, 2 GPUs; [%d.]+ KiB%)" },
    { "recipe", { "recipe", "--service", "eks", "--accelerator", "h100", "--intent", "training", "-o", "OUT" },
      "wrote recipe to OUT %(%d+ components, %d+ constraints?; [%d.]+ KiB%)" },
    { "recipe --explain", { "recipe", "--service", "eks", "--intent", "training", "--explain", "-o", "OUT" },
      "wrote recipe explanation to OUT %([%d.]+ KiB%)" },
    { "recipe list", { "recipe", "list", "-t", "json", "-o", "OUT" }, "wrote recipe list to OUT %([%d.]+ KiB%)" },
    { "recipe lint", { "recipe", "lint", "-o", "OUT" }, "wrote recipe lint report to OUT %([%d.]+ K?i?B%)" },
    { "criteria", { "criteria", "-o", "OUT" }, "wrote criteria list to OUT %([%d.]+ K?i?B%)" },
    { "query", { "query", "--service", "eks", "--intent", "training", "--selector", "deploymentOrder", "-o", "OUT" },
      "wrote value of deploymentOrder to OUT %(%d+ B%)" },
    { "validate", { "validate", "-r", RECIPE, "-s", SMALL, "-o", "OUT" },
      "wrote validation result to OUT %(%a+: %d+ passed, %d+ failed, %d+ skipped; [%d.]+ K?i?B%)" },
    { "validate junit", { "validate", "-r", RECIPE, "-s", SMALL, "-t", "junit", "-o", "OUT" },
      "wrote JUnit report to OUT %(%a+: %d+ passed, %d+ failed, %d+ skipped; [%d.]+ K?i?B%)" },
    { "version", { "version", "-o", "OUT" }, "wrote output to OUT %(%d+ B%)" },
    { "bundle", { "bundle", "-r", "FULL", "-o", "OUT" },
      "wrote helm bundle to OUT %(%d+ components, %d+ files; start with its README.md%)" },
    { "bundle archive", { "bundle", "-r", "FULL", "-d", "flux", "-o", "OUT.tar.gz" },
      "wrote flux bundle to OUT.tar.gz %(%d+ components, %d+ files%)" },
    { "lua --extract", { "lua", "--extract", "OUT" }, "wrote the embedded tree to OUT %(%d+ files%)" },
  }
  for _, c in ipairs(cases) do
    it(c[1], function()
      local out = dir .. "/out"
      local args = {}
      for i, a in ipairs(c[2]) do args[i] = a == "FULL" and (full .. "/r.yaml") or a:gsub("^OUT", out) end
      local r = run(args)
      assert.are.equal(0, r.code, r.err)
      local want = esc(out):gsub("%%%%", "%%")
      local pat = "^" .. c[3]:gsub("OUT", (want:gsub("%%", "%%%%"))) .. "\n$"
      local last = r.err:match("([^\n]*\n)$") or ""
      assert.truthy(last:match(pat), "last stderr line: " .. last .. "\nstderr:\n" .. r.err)
      assert.are.equal("", r.out, "stdout")
    end)
  end

  it("none for stdout, a device or a pipe; none with --quiet or --log-level error", function()
    local args = { "recipe", "--service", "eks", "--intent", "training" }
    for _, extra in ipairs({ {}, { "-o", "-" }, { "-o", "/dev/null" }, { "-o", dir .. "/r.yaml", "--quiet" },
                             { "-q", "-o", dir .. "/r.yaml" }, { "-o", dir .. "/r.yaml", "--log-level", "error" } }) do
      local a = {}
      for _, w in ipairs(args) do a[#a + 1] = w end
      for _, w in ipairs(extra) do a[#a + 1] = w end
      local r = run(a)
      assert.are.equal(0, r.code, r.err)
      assert.is_nil(r.err:find("wrote", 1, true), table.concat(extra, " ") .. ": " .. r.err)
    end
    -- a named pipe is written into, and not announced
    os.execute("mkfifo " .. support.q(dir .. "/p"))
    local r = support.sh(string.format("timeout 60 cat %s > %s/got & env EIDOS_HOME=%s %s recipe --service eks --intent training -o %s; wait",
      support.q(dir .. "/p"), support.q(dir), support.q(ROOT), support.q(support.eidos_abs), support.q(dir .. "/p")))
    assert.are.equal(0, r.code, r.err)
    assert.is_nil(r.err:find("wrote", 1, true), r.err)
    assert.truthy(support.read(dir .. "/got"):find("kind: RecipeResult", 1, true))
  end)

  it("--log-json and --debug give the line its structured form, at level info", function()
    local out = dir .. "/r.yaml"
    local r = run({ "recipe", "--service", "eks", "--intent", "training", "-o", out, "--log-json" })
    assert.are.equal(0, r.code, r.err)
    local j = cjson.decode(r.err:match("[^\n]+\n$"))
    assert.are.equal("info", j.level)
    assert.truthy(j.msg:find("^wrote recipe to " .. esc(out) .. " %("), j.msg)
    r = run({ "recipe", "--service", "eks", "--intent", "training", "-o", out, "--debug" })
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.err:find('level=info msg="wrote recipe to ' .. out, 1, true), r.err)
  end)

  it("nothing is said when the write fails, and no partial file is left", function()
    local r = run({ "recipe", "--service", "eks", "--intent", "training", "-o", "/dev/full" })
    assert.are.equal(1, r.code, r.err)
    assert.is_nil(r.err:find("wrote", 1, true), r.err)
    r = run({ "recipe", "--service", "eks", "--intent", "training", "-o", dir .. "/missing/r.yaml" })
    assert.are.equal(2, r.code, r.err)
    assert.is_nil(r.err:find("wrote", 1, true), r.err)
  end)
end)
