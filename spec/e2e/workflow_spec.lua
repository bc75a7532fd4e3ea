-- spec/e2e/workflow_spec.lua: the whole workflow end to end, as CI runs it.
-- It runs tools/e2e (snapshot of the fixture node and the test Kubernetes
-- API server into cm://eidos/snap -> recipe from it -> validate -> bundle
-- for helm, argocd and flux as directories and archives -> verify ->
-- the same through eidosd) with this build's binaries, then checks every
-- artifact it left, one `it` per check of spec/e2e/workflow_checks.lua
-- (the same checks tools/e2e runs at its end), so a failure names the
-- artifact and the field.
local support = require("support")
local checks = require("e2e.workflow_checks")

local function have(cmd)
  return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == true
end

local missing
for _, t in ipairs({ "python3", "openssl", "curl", "sha256sum", "tar" }) do
  if not have(t) then missing = t end
end
if not support.exists(support.eidos) then missing = support.eidos end

if missing then
  describe("the end-to-end workflow", function()
    pending("needs " .. missing)
  end)
  return
end

describe("the end-to-end workflow (tools/e2e)", function()
  local dir, out, rc, log

  setup(function()
    dir = support.tmpdir()
    out = dir .. "/run"
    os.execute(string.format("env EIDOS_BUILD_DIR=%s EIDOS_HOME=%s tools/e2e %s > %s 2>&1; echo $? > %s",
      support.q(support.build), support.q(support.root), support.q(out), support.q(dir .. "/log"),
      support.q(dir .. "/rc")))
    rc = tonumber(support.read(dir .. "/rc"))
    log = support.read(dir .. "/log") or ""
  end)

  teardown(function()
    if dir then os.execute("rm -rf " .. support.q(dir)) end
  end)

  it("runs every step and check (tools/e2e exits 0)", function()
    assert.are.equal(0, rc, "tools/e2e failed; the end of its output:\n" .. log:sub(-4000))
    assert.truthy(log:find("e2e: all steps and checks passed", 1, true), log:sub(-2000))
  end)

  it("leaves no helper process behind (test API server, eidosd)", function()
    local p = io.popen("ps -eo args")
    local ps = p:read("a")
    p:close()
    assert.falsy(ps:find(out, 1, true), "a process still runs with " .. out)
  end)

  for _, c in ipairs(checks.checks) do
    it(c[1], function()
      local status, why = c[2](out)
      if status == "pending" then return pending(why) end
    end)
  end
end)
