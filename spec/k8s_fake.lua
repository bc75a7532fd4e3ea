-- spec/k8s_fake.lua: the test Kubernetes API server for specs. Generates
-- the TLS material once per process (spec/fixtures/k8s/gencerts.sh, in a
-- temporary directory), starts spec/fixtures/k8s/fake_apiserver.py, drives
-- its control endpoints, and writes kubeconfigs of every kind for it.
--   local fake = require("k8s_fake")
--   local srv = fake.start({ pods = 20 })       -- or { plain = true }
--   local kc = srv:kubeconfig("cert")           -- cert, cert-data, token,
--                                                -- token-file, exec, insecure
--   srv:control("fault", { kind = "500", count = 2 })
--   srv:stop()
local support = require("support")
local cjson = require("cjson")

local M = {}
M.TOKEN = "sekret-token-0123456789"

function M.available()
  return os.execute("command -v python3 >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1") == true
end

function M.certs()
  if not M._certs then
    local d = support.tmpdir()
    assert(os.execute("sh spec/fixtures/k8s/gencerts.sh " .. support.q(d)), "gencerts.sh failed")
    M._certs = d
  end
  return M._certs
end

function M.cleanup()
  if M._certs then os.execute("rm -rf " .. support.q(M._certs)) end
  M._certs = nil
end

local Fake = {}
Fake.__index = Fake
local n = 0

-- start(opts) opts: plain, pods, nodes, job_delay, args (list of extra words)
function M.start(opts)
  opts = opts or {}
  local d = M.certs()
  n = n + 1
  local w = { "exec", "python3", "spec/fixtures/k8s/fake_apiserver.py",
              "--snapshot-fixture", "spec/fixtures/k8s/agent-snapshot.yaml",
              "--pods", tostring(opts.pods or 20), "--nodes", tostring(opts.nodes or 3),
              "--job-delay", tostring(opts.job_delay or 0.3), "--files-dir", d .. "/files",
              "--token", M.TOKEN .. "=alice" }
  if opts.plain then w[#w + 1] = "--plain"
  else
    for _, x in ipairs({ "--cert", d .. "/server.crt", "--key", d .. "/server.key", "--client-ca", d .. "/ca.crt" }) do
      w[#w + 1] = x
    end
  end
  for _, x in ipairs(opts.args or {}) do w[#w + 1] = x end
  os.execute("mkdir -p " .. support.q(d .. "/files"))
  local words = {}
  for i, x in ipairs(w) do words[i] = i <= 2 and x or support.q(x) end
  local log = d .. "/fake-" .. n .. ".log"
  local p = assert(io.popen(table.concat(words, " ") .. " 2>" .. support.q(log), "r"))
  local port = tonumber(p:read("l") or "")
  assert(port, "the test API server did not start; see " .. log)
  return setmetatable({ proc = p, port = port, dir = d, log = log,
                        base = (opts.plain and "http" or "https") .. "://127.0.0.1:" .. port }, Fake)
end

-- control(what [, body]) -> decoded answer
function Fake:control(what, body)
  local http = require("eidos.core.http")
  local r, msg = http.request({ url = self.base .. "/__control/" .. what, method = "POST",
    body = cjson.encode(body or {}), headers = { ["Content-Type"] = "application/json" },
    ca_file = self.dir .. "/ca.crt" })
  assert(r and r.status == 200, "control " .. what .. ": " .. tostring(msg or (r and r.body)))
  return cjson.decode(r.body)
end

function Fake:requests() return self:control("requests") end
function Fake:reset() return self:control("reset") end

function Fake:stop()
  if not self.proc then return end
  pcall(self.control, self, "shutdown")
  self.proc:close()
  self.proc = nil
end

local function b64(s)
  return require("eidos.core.base64").encode(s)
end

-- kubeconfig(variant [, opts]) -> path of a kubeconfig for this server.
-- opts: name (file name), context, namespace, token_file, exec_args,
-- extra_contexts
function Fake:kubeconfig(variant, opts)
  opts = opts or {}
  local d = self.dir
  local cluster = { "    server: " .. self.base }
  local user = {}
  if variant == "insecure" then
    cluster[#cluster + 1] = "    insecure-skip-tls-verify: true"
  elseif variant == "cert-data" then
    cluster[#cluster + 1] = "    certificate-authority-data: " .. b64(support.read(d .. "/ca.crt"))
  else
    cluster[#cluster + 1] = "    certificate-authority: ca.crt"     -- relative to the kubeconfig
  end
  if variant == "cert" then
    user = { "    client-certificate: client.crt", "    client-key: client.key" }
  elseif variant == "cert-data" then
    user = { "    client-certificate-data: " .. b64(support.read(d .. "/client.crt")),
             "    client-key-data: " .. b64(support.read(d .. "/client.key")) }
  elseif variant == "token" or variant == "insecure" then
    user = { "    token: " .. M.TOKEN }
  elseif variant == "token-file" then
    user = { "    tokenFile: " .. (opts.token_file or (d .. "/token")) }
  elseif variant == "exec" then
    user = { "    exec:", "      apiVersion: client.authentication.k8s.io/v1", "      command: ./exec-plugin.sh",
             "      args: [" .. table.concat(opts.exec_args or { "ok" }, ", ") .. "]",
             "      env:", "      - name: PLUGIN_TOKEN", "        value: " .. (opts.exec_token or M.TOKEN),
             "      installHint: install the test plugin", "      interactiveMode: Never" }
    support.write(d .. "/exec-plugin.sh", [[
#!/bin/sh
# test exec credential plugin: counts its runs, checks KUBERNETES_EXEC_INFO
echo run >> "$(dirname "$0")/exec-runs"
case "$KUBERNETES_EXEC_INFO" in *'"kind":"ExecCredential"'*) ;; *) echo "no exec info" >&2; exit 3;; esac
case "$1" in
  fail) echo "plugin: you are not logged in" >&2; exit 1;;
  expired) exp="2000-01-01T00:00:00Z";;
  *) exp="2099-01-01T00:00:00Z";;
esac
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\n' "$PLUGIN_TOKEN" "$exp"
]])
    os.execute("chmod +x " .. support.q(d .. "/exec-plugin.sh"))
  end
  local ctx = opts.context or "fake"
  local lines = { "apiVersion: v1", "kind: Config", "clusters:", "- name: fake-cluster", "  cluster:" }
  for _, l in ipairs(cluster) do lines[#lines + 1] = l end
  lines[#lines + 1] = "users:"
  lines[#lines + 1] = "- name: fake-user"
  lines[#lines + 1] = "  user:" .. (#user == 0 and " {}" or "")
  for _, l in ipairs(user) do lines[#lines + 1] = l end
  lines[#lines + 1] = "contexts:"
  lines[#lines + 1] = "- name: " .. ctx
  lines[#lines + 1] = "  context: {cluster: fake-cluster, user: fake-user, namespace: "
    .. (opts.namespace or "default") .. "}"
  lines[#lines + 1] = "current-context: " .. ctx
  local path = d .. "/" .. (opts.name or ("kubeconfig-" .. variant .. "-" .. self.port))
  support.write(path, table.concat(lines, "\n") .. "\n")
  return path
end

return M
