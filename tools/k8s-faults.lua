-- tools/k8s-faults.lua: the body of tools/k8s-faults (run by `eidos lua`).
package.path = "spec/?.lua;" .. package.path
local support = require("support")
local fake = require("k8s_fake")

if not fake.available() then
  io.stderr:write("k8s-faults: python3 and openssl are needed\n")
  os.exit(6)
end

local srv = fake.start({ pods = 2000 })
local kc = srv:kubeconfig("cert")
local faults = {
  { "429 with Retry-After: 1 on /version, then 200", { kind = "429", count = 1, retry_after = 1, match = "/version" } },
  { "two 500s on /version, then 200", { kind = "500", count = 2, match = "/version" } },
  { "three 500s on /version (gives up after 3 attempts)", { kind = "500", count = 3, match = "/version" } },
  { "/api/v1/nodes hangs 6 s once; attempt timeout 2 s", { kind = "hang", count = 1, seconds = 6, match = "/api/v1/nodes" }, { EIDOS_K8S_TIMEOUT = "2" } },
  { "/api/v1/nodes hangs 6 s three times; attempt timeout 2 s", { kind = "hang", count = 3, seconds = 6, match = "/api/v1/nodes" }, { EIDOS_K8S_TIMEOUT = "2" } },
  { "409 Conflict on the ConfigMap update (re-read, retried)", { kind = "conflict", count = 1 } },
  { "expired continue token while paging pods (list restarted)", { kind = "expire_continue", count = 1 } },
}
print(string.format("%-62s %4s %8s  %s", "fault", "exit", "time", "message"))
local ok, err = pcall(function()
  -- a first run creates the ConfigMap, so the conflict case is an update
  support.run({ "snapshot", "--only", "K8s", "-o", "cm://default/faults" }, { env = { KUBECONFIG = kc, NODE_NAME = "gpu-node-1" } })
  for _, f in ipairs(faults) do
    srv:control("fault", f[2])
    local env = { KUBECONFIG = kc, NODE_NAME = "gpu-node-1" }
    for k, v in pairs(f[3] or {}) do env[k] = v end
    local c0 = require("eidos.core.k8s").monotime()
    local r = support.run({ "snapshot", "--only", "K8s", "--fail-fast", "-o", "cm://default/faults" }, { env = env })
    local ms = (require("eidos.core.k8s").monotime() - c0) * 1000
    local msg = (r.err or ""):gsub("\n", " | "):sub(1, 160)
    print(string.format("%-62s %4d %6.0fms  %s", f[1], r.code, ms, msg ~= "" and msg or "ok"))
    srv:reset()
  end
end)
srv:stop()
fake.cleanup()
if not ok then io.stderr:write(tostring(err), "\n") os.exit(1) end
