-- spec/oci_registry.lua: a real OCI registry on loopback for the specs --
-- Debian's docker-registry (the CNCF distribution registry) started on a
-- free port (addr 127.0.0.1:0; the port is read from its log) with a
-- temporary config and storage, optionally with basic auth (an htpasswd
-- file made by htpasswd -B) or token auth (spec/fixtures/oci/token_server.py
-- with a key and certificate made by the openssl CLI). Each start returns
-- {host=, dir=, storage=, stop=}; stop kills the processes this module
-- started (by their pid) and removes the directory.
local support = require("support")

local M = {}

M.USER, M.PASSWORD, M.REFRESH = "eidos", "s3cret-pw", "refresh-token-1"

local function sh(cmd) return os.execute(cmd) == true end
local q = support.q

function M.missing()
  for _, c in ipairs({ "docker-registry", "htpasswd", "openssl", "python3", "curl" }) do
    if not sh("command -v " .. c .. " >/dev/null 2>&1") then return c end
  end
  return nil
end

-- start a background command; returns its pid
local function spawn(cmd, log)
  local p = io.popen("(" .. cmd .. ") > " .. q(log) .. " 2>&1 & echo $!")
  local pid = tonumber(p:read("l"))
  p:close()
  return pid
end

local function wait_for(fn, what, secs)
  local deadline = os.time() + (secs or 60)
  while os.time() <= deadline do
    local v = fn()
    if v then return v end
    sh("sleep 0.1")
  end
  error("timed out waiting for " .. what)
end

-- start{auth = nil | "htpasswd" | "token", tls = true (a self-signed
-- certificate for 127.0.0.1 in dir/tls.crt)} -> registry
function M.start(opts)
  opts = opts or {}
  local dir = support.tmpdir()
  local pids = {}
  local cfg = { "version: 0.1", "log:", "  level: info", "  accesslog:", "    disabled: true", "storage:",
                "  filesystem:", "    rootdirectory: " .. dir .. "/storage", "  delete:", "    enabled: true" }
  if opts.auth == "htpasswd" then
    assert(sh(string.format("htpasswd -Bbc %s %s %s >/dev/null 2>&1", q(dir .. "/htpasswd"), q(M.USER), q(M.PASSWORD))))
    for _, l in ipairs({ "auth:", "  htpasswd:", "    realm: eidos-test", "    path: " .. dir .. "/htpasswd" }) do
      cfg[#cfg + 1] = l
    end
  elseif opts.auth == "token" then
    assert(sh(string.format("openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 2 -subj /CN=eidos-token" ..
      " >/dev/null 2>&1", q(dir .. "/token.key"), q(dir .. "/token.crt"))))
    local pid = spawn(string.format("exec python3 %s %s %s %s %s %s %s", q(support.root .. "/spec/fixtures/oci/token_server.py"),
      q(dir .. "/token.key"), q(dir .. "/token.crt"), q(M.USER), q(M.PASSWORD), q(M.REFRESH), q(dir .. "/token.port")),
      dir .. "/token.log")
    pids[#pids + 1] = pid
    local port = wait_for(function() return support.read(dir .. "/token.port") end, "the token server")
    for _, l in ipairs({ "auth:", "  token:", "    realm: http://127.0.0.1:" .. port .. "/token",
                         "    service: eidos-test", "    issuer: eidos-test-issuer",
                         "    rootcertbundle: " .. dir .. "/token.crt" }) do
      cfg[#cfg + 1] = l
    end
  end
  cfg[#cfg + 1] = "http:"
  cfg[#cfg + 1] = "  addr: 127.0.0.1:0"
  if opts.tls then
    assert(sh(string.format("openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 2 -subj /CN=127.0.0.1" ..
      " -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1", q(dir .. "/tls.key"), q(dir .. "/tls.crt"))))
    for _, l in ipairs({ "  tls:", "    certificate: " .. dir .. "/tls.crt", "    key: " .. dir .. "/tls.key" }) do
      cfg[#cfg + 1] = l
    end
  end
  support.write(dir .. "/config.yml", table.concat(cfg, "\n") .. "\n")
  pids[#pids + 1] = spawn("exec docker-registry serve " .. q(dir .. "/config.yml"), dir .. "/registry.log")
  local r = { dir = dir, storage = dir .. "/storage/docker/registry/v2", pids = pids }
  function r.stop()
    for _, pid in ipairs(pids) do sh("kill " .. pid .. " 2>/dev/null") end
    sh("rm -rf " .. q(dir))
  end
  local ok, err = pcall(function()
    r.host = "127.0.0.1:" .. wait_for(function()
      local log = support.read(dir .. "/registry.log") or ""
      return log:match("listening on 127%.0%.0%.1:(%d+)") or log:match("listening on %[::%]:(%d+)")
    end, "docker-registry to listen (log: " .. dir .. "/registry.log)")
  end)
  if not ok then
    local log = support.read(dir .. "/registry.log")
    r.stop()
    error(tostring(err) .. "\n" .. tostring(log))
  end
  return r
end

-- flaky(registry) -> host of a proxy (spec/fixtures/oci/flaky_proxy.py)
-- that fails the first three requests with 503, 429 and 502; its request
-- log is registry.dir .. "/flaky.log"
function M.flaky(r)
  local pid = spawn(string.format("exec python3 %s %s %s %s", q(support.root .. "/spec/fixtures/oci/flaky_proxy.py"),
    q(r.host), q(r.dir .. "/flaky.port"), q(r.dir .. "/flaky.log")), r.dir .. "/flaky.out")
  r.pids[#r.pids + 1] = pid
  return "127.0.0.1:" .. wait_for(function() return support.read(r.dir .. "/flaky.port") end, "the flaky proxy")
end

-- blob_path(registry, digest) -> the file the registry serves the blob from
function M.blob_path(r, digest)
  local hex = digest:gsub("^sha256:", "")
  return string.format("%s/blobs/sha256/%s/%s/data", r.storage, hex:sub(1, 2), hex)
end

-- docker_config(dir, tbl) -> path of a config.json written from a Lua table
function M.docker_config(dir, json)
  sh("mkdir -p " .. q(dir))
  support.write(dir .. "/config.json", json)
  return dir .. "/config.json"
end

-- a docker-credential-NAME helper in dir/bin answering for any host with
-- user:password (a shell script reading the host on stdin, as Docker's
-- helpers do); returns the bin directory for PATH
function M.cred_helper(dir, name, user, password)
  local bin = dir .. "/bin"
  sh("mkdir -p " .. q(bin))
  local secret_json = user == "<token>" and string.format('{"ServerURL":"%%s","Username":"<token>","Secret":"%s"}', password)
    or string.format('{"ServerURL":"%%s","Username":"%s","Secret":"%s"}', user, password)
  support.write(bin .. "/docker-credential-" .. name, table.concat({
    "#!/bin/sh",
    '[ "$1" = get ] || { echo "unsupported: $1" >&2; exit 1; }',
    "read host",
    'echo "$host" >> "$(dirname "$0")/asked"',
    "printf '" .. secret_json .. "\\n' \"$host\"",
  }, "\n") .. "\n")
  sh("chmod 755 " .. q(bin .. "/docker-credential-" .. name))
  return bin
end

return M
