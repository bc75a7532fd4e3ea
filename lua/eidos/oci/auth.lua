-- eidos.oci.auth: credentials for a registry and the two ways of using
-- them. Credentials come from a Docker config file -- --registry-config
-- FILE, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json -- as
-- Docker finds them: credHelpers[host] (docker-credential-NAME get), then
-- auths[host] (auth = base64 "user:password", username/password, or
-- identitytoken), then credsStore. A registry asks for them with a
-- WWW-Authenticate challenge: Basic (the credentials go with each request)
-- or Bearer (a token is fetched from the challenge's realm for its service
-- and scope, with the credentials, and sent instead). Secrets never reach a
-- message or a log line.
local errors = require("eidos.errors")

local M = {}

local base64 = require("eidos.core.base64")

M.HELPER_TIMEOUT = 30

-- config_path(opts) -> path, explicit (true when given by the user)
function M.config_path(opts)
  if opts and opts.config then return opts.config, true end
  local dir = os.getenv("DOCKER_CONFIG")
  if dir and dir ~= "" then return dir .. "/config.json", false end
  local home = os.getenv("HOME")
  if home and home ~= "" then return home .. "/.docker/config.json", false end
  return nil, false
end

-- load(opts) -> config table ({} when there is none), path
function M.load(opts)
  local path, explicit = M.config_path(opts)
  if not path then return {}, nil end
  local fs = require("eidos.core.fs")
  local kind = fs.exists(path)
  if kind == nil then
    if explicit then
      errors.raise("notfound", string.format("--registry-config %q not found (accepted: a Docker config.json)", path))
    end
    return {}, path
  end
  if kind ~= "file" then errors.raise("invalid", string.format("registry config %q is not a file", path)) end
  local text = errors.within("registry config " .. path, fs.read(path, 4 * 1024 * 1024))
  local ok, cfg = pcall(require("cjson").decode, text)
  if not ok or type(cfg) ~= "table" then
    errors.raise("invalid", string.format("registry config %q is not a Docker config.json (a JSON object with auths," ..
      " credHelpers or credsStore)", path))
  end
  return cfg, path
end

-- the host a config key names: "https://host:5000/v1/" -> "host:5000"
local function key_host(k)
  return (k:gsub("^%a[%w+.-]*://", ""):gsub("/.*$", ""))
end

local function helper(name, host, where)
  if type(name) ~= "string" or not name:match("^[%w][%w._-]*$") then
    errors.raise("invalid", string.format("%s: credential helper name %q is not usable (accepted: letters, digits, '.', '_', '-')",
      where, tostring(name)))
  end
  local prog = "docker-credential-" .. name
  local out, msg, code = require("eidos.core.proc").run({ prog, "get" }, {
    stdin = host, timeout = M.HELPER_TIMEOUT, what = "credential helper", max_out = 64 * 1024 })
  if not out then
    if tostring(msg):lower():find("credentials not found", 1, true) then return nil end
    errors.raise(code == "failure" and "unauthorized" or code,
      string.format("registry %s: credentials from %s: %s", host, where, msg))
  end
  local ok, c = pcall(require("cjson").decode, out)
  if not ok or type(c) ~= "table" or type(c.Secret) ~= "string" then
    errors.raise("unauthorized", string.format("registry %s: %s printed no credentials JSON ({Username, Secret})", host, prog))
  end
  if c.Username == "<token>" then return { identitytoken = c.Secret, from = prog } end
  return { username = c.Username, password = c.Secret, from = prog }
end

-- credentials(cfg, host, path) -> {username=, password=} |
-- {identitytoken=} | nil; .from names where they came from
function M.credentials(cfg, host, path)
  local where = path or "registry config"
  local helpers = type(cfg.credHelpers) == "table" and cfg.credHelpers or {}
  for _, k in ipairs(require("eidos.doc").keys(helpers)) do
    if key_host(k) == host then return helper(helpers[k], host, where .. " credHelpers") end
  end
  local auths = type(cfg.auths) == "table" and cfg.auths or {}
  for _, k in ipairs(require("eidos.doc").keys(auths)) do
    local a = auths[k]
    if key_host(k) == host and type(a) == "table" then
      if type(a.identitytoken) == "string" and a.identitytoken ~= "" then
        return { identitytoken = a.identitytoken, from = where }
      end
      if type(a.auth) == "string" and a.auth ~= "" then
        local raw = base64.decode(a.auth)
        local user, pass
        if raw then user, pass = raw:match("^([^:]*):(.*)$") end
        if not user then
          errors.raise("invalid", string.format("%s: auths[%q].auth is not base64 of \"user:password\"", where, k))
        end
        return { username = user, password = pass, from = where }
      end
      if type(a.username) == "string" and type(a.password) == "string" then
        return { username = a.username, password = a.password, from = where }
      end
    end
  end
  if type(cfg.credsStore) == "string" and cfg.credsStore ~= "" then
    return helper(cfg.credsStore, host, where .. " credsStore")
  end
  return nil
end

-- basic(creds) -> "Basic base64(user:password)" or nil
function M.basic(creds)
  if creds and creds.username then return "Basic " .. base64.encode(creds.username .. ":" .. (creds.password or "")) end
  return nil
end

-- challenges(header) -> list of {scheme = "bearer"|"basic"|..., params =
-- {realm=, service=, scope=}} from WWW-Authenticate values (several
-- headers arrive joined by "\n")
function M.challenges(header)
  local out = {}
  local s = tostring(header or "")
  local i, n = 1, #s
  local cur
  while i <= n do
    local ws = s:match("^[%s,]*", i)
    i = i + #ws
    if i > n then break end
    local key = s:match("^[%w!#$%%&'*+.^_`|~-]+", i)
    if not key then break end
    local after = i + #key
    local eq = s:match("^%s*=%s*", after)
    if eq and cur then
      local vstart = after + #eq
      local value
      if s:sub(vstart, vstart) == '"' then
        local j, buf = vstart + 1, {}
        while j <= n do
          local ch = s:sub(j, j)
          if ch == "\\" then buf[#buf + 1] = s:sub(j + 1, j + 1); j = j + 2
          elseif ch == '"' then break
          else buf[#buf + 1] = ch; j = j + 1 end
        end
        value = table.concat(buf)
        i = j + 1
      else
        value = s:match("^[^,%s]*", vstart)
        i = vstart + #value
      end
      cur.params[key:lower()] = value
    else
      cur = { scheme = key:lower(), params = {} }
      out[#out + 1] = cur
      i = after
    end
  end
  return out
end

local function urlencode(s)
  return (tostring(s):gsub("[^%w%-._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- token(challenge, creds, scopes, host, req, cfg_path) -> bearer token.
-- req(method, url, headers, body) performs an HTTP request (the registry
-- client's, so TLS options apply) and returns the response or raises.
function M.token(ch, creds, scopes, host, req, cfg_path)
  local realm = ch.params.realm
  if type(realm) ~= "string" or not realm:match("^https?://") then
    errors.raise("unauthorized", string.format("registry %s: its Bearer challenge has no usable realm (%q)", host,
      tostring(realm)))
  end
  local q = {}
  if ch.params.service then q[#q + 1] = "service=" .. urlencode(ch.params.service) end
  for _, sc in ipairs(scopes) do q[#q + 1] = "scope=" .. urlencode(sc) end
  local res
  if creds and creds.identitytoken then
    q[#q + 1] = "grant_type=refresh_token"
    q[#q + 1] = "client_id=eidos"
    q[#q + 1] = "refresh_token=" .. urlencode(creds.identitytoken)
    res = req("POST", realm, { ["Content-Type"] = "application/x-www-form-urlencoded" }, table.concat(q, "&"))
  else
    local sep = realm:find("?", 1, true) and "&" or "?"
    res = req("GET", realm .. (#q > 0 and (sep .. table.concat(q, "&")) or ""),
      { Authorization = M.basic(creds) }, nil)
  end
  if res.status == 401 or res.status == 403 then
    errors.raise("unauthorized", string.format("registry %s: the token service %s refused %s (HTTP %d)", host,
      (realm:gsub("%?.*$", "")), creds and ("the credentials from " .. tostring(creds.from)) or
        string.format("anonymous access; no credentials for %s found in %s", host, cfg_path or "a Docker config"),
      res.status))
  end
  if res.status ~= 200 then
    errors.raise(res.status == 429 and "ratelimited" or res.status >= 500 and "unavailable" or "unauthorized",
      string.format("registry %s: token service %s answered HTTP %d", host, (realm:gsub("%?.*$", "")), res.status))
  end
  local ok, d = pcall(require("cjson").decode, res.body)
  local tok = ok and type(d) == "table" and (d.token or d.access_token)
  if type(tok) ~= "string" or tok == "" or tok:find("[%s\r\n]") then
    errors.raise("unauthorized", string.format("registry %s: token service %s returned no token", host,
      (realm:gsub("%?.*$", ""))))
  end
  return tok
end

return M
