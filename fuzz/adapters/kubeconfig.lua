-- fuzz/adapters/kubeconfig.lua: kubeconfig parsing and connection
-- resolution (lua/eidos/k8s/config.lua: YAML -> clusters/users/contexts ->
-- the connection table of eidos.k8s.client), with no file system and no
-- network: fs.read / fs.exists and os.getenv are replaced by a virtual
-- directory. Input: one kubeconfig text, or up to three separated by NUL
-- bytes (then merged through KUBECONFIG as kubectl merges them). A first
-- line "# context: NAME" selects --context NAME.
-- resolve() must return a well-formed connection or raise an "invalid" or
-- "notfound" error.
local dir = ...
local common = dofile(dir .. "/lib/common.lua")
local errors = require("eidos.errors")
local fs = require("eidos.core.fs")

local files, env = {}, {}
local real_read, real_exists, real_getenv = fs.read, fs.exists, os.getenv
fs.read = function(path, max)
  local t = files[path]
  if t then
    if max and #t > max then return nil, "file too large", "invalid" end
    return t
  end
  if path:sub(1, 6) == "/fuzz/" then return nil, "no such file", "notfound" end
  return real_read(path, max)
end
fs.exists = function(path)
  if files[path] then return "file" end
  if path:sub(1, 6) == "/fuzz/" then return nil end
  return real_exists(path)
end
os.getenv = function(k)
  if env[k] ~= nil then return env[k] or nil end
  if k:match("^KUBERNETES_") or k == "EIDOS_SERVICEACCOUNT_DIR" then return nil end
  return real_getenv(k)
end

local config = require("eidos.k8s.config")

local AUTH = { cert = true, token = true, ["token-file"] = true, exec = true, none = true }
local PATHS = { "/fuzz/a/config", "/fuzz/b/kubeconfig.yaml", "/fuzz/c/config" }

local function check(conn)
  local function bad(what) error("fuzz: resolve returned a connection with " .. what) end
  if type(conn) ~= "table" then bad("no table") end
  if type(conn.server) ~= "string" or not conn.server:match("^https?://") then bad("a bad server") end
  if not AUTH[conn.auth] then bad("auth " .. tostring(conn.auth)) end
  if type(conn.namespace) ~= "string" or conn.namespace == "" then bad("no namespace") end
  if type(conn.source) ~= "string" or type(conn.context) ~= "string" then bad("no source or context") end
  for _, k in ipairs({ "ca_data", "ca_file", "cert_data", "cert_file", "key_data", "key_file", "token", "token_file" }) do
    if conn[k] ~= nil and type(conn[k]) ~= "string" then bad(k .. " of type " .. type(conn[k])) end
  end
  if (conn.cert_data or conn.cert_file) and not (conn.key_data or conn.key_file) then bad("a certificate and no key") end
  if conn.exec then
    if type(conn.exec.command) ~= "string" or conn.exec.command == "" then bad("an exec without a command") end
    for _, a in ipairs(conn.exec.args) do if type(a) ~= "string" then bad("a non-string exec arg") end end
  end
end

return function(s)
  local parts = common.split(s, "\0", 3)
  files, env = {}, { HOME = "/fuzz/home", KUBECONFIG = false }
  local opts = {}
  local ctx = parts[1]:match("^# ?context: ([^\n]*)")
  if ctx then opts.context = ctx end
  if #parts == 1 then
    files[PATHS[1]] = parts[1]
    opts.kubeconfig = PATHS[1]
  else
    for i, p in ipairs(parts) do files[PATHS[i]] = p end
    env.KUBECONFIG = table.concat(PATHS, ":", 1, #parts) .. ":/fuzz/missing/config"
  end
  local ok, conn = pcall(config.resolve, opts)
  if ok then return check(conn) end
  if errors.is(conn) then
    if conn.code ~= "invalid" and conn.code ~= "notfound" then
      error(string.format("fuzz: resolve raised a %q error: %s", conn.code, tostring(conn.msg)))
    end
    -- values reach messages through errors.show, never as Lua's tostring
    if tostring(conn.msg):find("[%w%.]+: 0x%x%x%x%x%x%x") then -- "table: 0x5560...", "eidos.list: 0x..."
      error("fuzz: a message shows a Lua value: " .. tostring(conn.msg))
    end
    return
  end
  error(conn, 0)
end
