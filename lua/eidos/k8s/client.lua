-- eidos.k8s.client: a Kubernetes API client on the C request primitive
-- (eidos.core.k8s: TLS, tokens, retries with backoff, errors naming the
-- verb, resource, namespace and status). This module adds JSON, list
-- paging (limit/continue, restarting once when the continue token
-- expired), exec credential plugins (run without a shell, the result
-- cached until its expirationTimestamp and refreshed on a 401), the
-- server's Warning headers (printed as warnings, each once), and
-- structured errors.
--
--   local client = require("eidos.k8s.client")
--   local c = client.connect({kubeconfig=, context=})      -- raises
--   local obj, err = c:get("/api/v1/namespaces/ns/configmaps/x")
--   -- err = {code=, msg=, status=, reason=} (never raised by c:get)
--   local items = client.check(c:list("/api/v1/pods", {limit = 500}))
local cjson = require("cjson")
local core = require("eidos.core.k8s")
local errors = require("eidos.errors")
local log = require("eidos.log")

local M = {}

local Client = {}
Client.__index = Client

-- ---------------------------------------------------------------------------
-- small helpers

function M.urlencode(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(ch)
    return string.format("%%%02X", ch:byte())
  end))
end

-- RFC 3339 time -> seconds since the epoch, or nil
M.parse_time = require("eidos.timeutil").parse

function M.now_rfc3339(t)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", t or os.time())
end

-- check(v, err) -> v, or raise err as a structured error
function M.check(v, err)
  if v == nil and err then errors.raise(err.code or "failure", err.msg, err) end
  return v
end

-- ---------------------------------------------------------------------------
-- exec credential plugins

local exec_cache = {}   -- key -> {token=, cert=, key=, expires=}

local function exec_key(conn)
  local e = conn.exec
  local parts = { conn.server, e.command }
  for _, a in ipairs(e.args) do parts[#parts + 1] = a end
  for _, kv in ipairs(e.env) do parts[#parts + 1] = kv.name .. "=" .. kv.value end
  return table.concat(parts, "\0")
end

-- run the plugin -> {token=, cert=, key=, expires=} (raises on failure)
local function run_exec(conn)
  local e = conn.exec
  local spec = { interactive = false }
  if e.provide_cluster_info then
    spec.cluster = { server = conn.server, ["insecure-skip-tls-verify"] = conn.insecure or nil }
    if conn.ca_data then spec.cluster["certificate-authority-data"] = require("eidos.core.base64").encode(conn.ca_data) end
  end
  local info = cjson.encode({ apiVersion = e.api_version, kind = "ExecCredential", spec = spec })
  local env = { "KUBERNETES_EXEC_INFO=" .. info }
  for _, kv in ipairs(e.env) do env[#env + 1] = kv.name .. "=" .. kv.value end
  local argv = { e.command }
  for _, a in ipairs(e.args) do argv[#argv + 1] = a end
  local out, msg, code = require("eidos.core.proc").run(argv, {
    env = env, what = "exec credential plugin",
    timeout = require("eidos.units").env("EIDOS_EXEC_TIMEOUT", "duration",
      { unit = "s", min = 1, default = 60000 }) / 1000 })
  if not out then
    if code == "unavailable" and e.install_hint then msg = msg .. "\n" .. e.install_hint end
    errors.raise(code == "timeout" and "timeout" or "unauthorized", msg)
  end
  local ok, cred = pcall(cjson.decode, out)
  if not ok or type(cred) ~= "table" then
    errors.raise("unauthorized", string.format("exec credential plugin %q printed no ExecCredential JSON: %s",
      e.command, (out:sub(1, 200):gsub("%c", " "))))
  end
  if cred.kind ~= "ExecCredential" or cred.apiVersion ~= e.api_version then
    errors.raise("unauthorized", string.format("exec credential plugin %q returned kind %q apiVersion %q "
      .. "(expected ExecCredential %s)", e.command, tostring(cred.kind), tostring(cred.apiVersion), e.api_version))
  end
  local st = type(cred.status) == "table" and cred.status or {}
  local r = {
    token = type(st.token) == "string" and st.token ~= "" and st.token or nil,
    cert = type(st.clientCertificateData) == "string" and st.clientCertificateData or nil,
    key = type(st.clientKeyData) == "string" and st.clientKeyData or nil,
  }
  if not r.token and not (r.cert and r.key) then
    errors.raise("unauthorized", string.format("exec credential plugin %q returned neither status.token nor "
      .. "status.clientCertificateData and clientKeyData", e.command))
  end
  if st.expirationTimestamp ~= nil and st.expirationTimestamp ~= cjson.null then
    r.expires = M.parse_time(st.expirationTimestamp)
    if not r.expires then
      errors.raise("unauthorized", string.format("exec credential plugin %q: bad expirationTimestamp %q",
        e.command, tostring(st.expirationTimestamp)))
    end
  end
  log.debug("exec credential obtained", { command = e.command, expires = st.expirationTimestamp or "never" })
  return r
end

-- make sure the client holds valid exec credentials
function Client:_exec_refresh(force)
  local conn = self.conn
  if not conn.exec then return end
  local k = exec_key(conn)
  local cred = exec_cache[k]
  if force or not cred or (cred.expires and cred.expires - 10 <= os.time()) then
    cred = run_exec(conn)
    exec_cache[k] = cred
  end
  if self._cred ~= cred then
    M.check(self.h:set_credentials({ token = cred.token or "", cert_data = cred.cert or "", key_data = cred.key or "" }))
    self._cred = cred
  end
end

-- ---------------------------------------------------------------------------
-- the client

-- new(conn [, opts]) -> client; conn from eidos.k8s.config.resolve;
-- opts: {timeout=S, connect_timeout=S, max_attempts=N, backoff=S, max_wait=S}
function M.new(conn, opts)
  opts = opts or {}
  local b = require("eidos.core.build")
  local h, msg, code = core.client({
    server = conn.server, ca_file = conn.ca_file, ca_data = conn.ca_data,
    cert_file = conn.cert_file, cert_data = conn.cert_data,
    key_file = conn.key_file, key_data = conn.key_data,
    token = conn.token, token_file = conn.token_file, insecure = conn.insecure,
    timeout = opts.timeout, connect_timeout = opts.connect_timeout,
    max_attempts = opts.max_attempts, backoff = opts.backoff, max_wait = opts.max_wait,
    user_agent = "eidos/" .. tostring(b.version),
  })
  if not h then errors.raise(code, "Kubernetes client for " .. tostring(conn.server) .. ": " .. msg) end
  if conn.insecure then
    log.warn("TLS verification of the Kubernetes API server is off (insecure-skip-tls-verify in "
      .. tostring(conn.source) .. ")")
  end
  return setmetatable({ h = h, conn = conn, namespace = conn.namespace or "default" }, Client)
end

local default_opts

-- connect(opts) -> client; opts {kubeconfig=, context=, timeout=, ...}.
-- EIDOS_K8S_TIMEOUT (a duration; a bare number is seconds) sets the
-- default per-attempt timeout.
function M.connect(opts)
  opts = opts or {}
  local conn = require("eidos.k8s.config").resolve(opts)
  default_opts = default_opts or { timeout = require("eidos.units").env("EIDOS_K8S_TIMEOUT", "duration",
    { unit = "s", min = 1, default = nil }) }
  if default_opts.timeout then default_opts.timeout = default_opts.timeout / 1000 end
  local co = {}
  for k, v in pairs(default_opts) do co[k] = v end
  for _, k in ipairs({ "timeout", "connect_timeout", "max_attempts", "backoff", "max_wait" }) do
    if opts[k] then co[k] = opts[k] end
  end
  return M.new(conn, co)
end

-- Process-wide connection settings given by command-line flags
-- (--kubeconfig, --context); commands call set_defaults once.
M.defaults = {}
function M.set_defaults(opts)
  M.defaults = {}
  for k, v in pairs(opts or {}) do M.defaults[k] = v end
  M._shared = nil
end

-- shared([opts]) -> the process's client for the default connection (made
-- on first use); opts.kubeconfig / opts.context, when given, override the
-- defaults (and give a separate client)
function M.shared(opts)
  opts = opts or {}
  if (opts.kubeconfig and opts.kubeconfig ~= M.defaults.kubeconfig)
     or (opts.context and opts.context ~= M.defaults.context) then
    local o = {}
    for k, v in pairs(M.defaults) do o[k] = v end
    o.kubeconfig, o.context = opts.kubeconfig or o.kubeconfig, opts.context or o.context
    return M.connect(o)
  end
  if not M._shared then M._shared = M.connect(M.defaults) end
  return M._shared
end

-- responses are read like every other input: nested at most doc.MAX_DEPTH
-- levels (lua-cjson's own default is 1000)
local response_json
local function decode(text, what)
  if text == "" then return {} end
  if not response_json then
    response_json = cjson.new()
    response_json.decode_max_depth(require("eidos.doc").MAX_DEPTH)
  end
  local ok, v = pcall(response_json.decode, text)
  if not ok then return nil, { code = "unavailable", msg = what .. ": the response is not JSON: " .. tostring(v) } end
  return v
end

-- what the API server warned about (the Warning headers of a response:
-- Pod Security a workload's pods would violate, unknown fields, deprecated
-- APIs) is printed as a warning, each text once per process
local warned = {}
local function warn(method, path, list)
  for _, w in ipairs(list or {}) do
    if not warned[w] then
      warned[w] = true
      log.warn(string.format("the Kubernetes API server warns about %s: %s", (core.describe(method, path)), w))
    end
  end
end

-- request(method, path [, body [, opts]]) -> decoded object | nil, err
-- body: a table (sent as JSON) or a string; opts: {raw=true (return text),
-- content_type=, accept=, timeout=S, max_attempts=N, max_size=N}
function Client:request(method, path, body, opts)
  opts = opts or {}
  if type(body) == "table" then body = cjson.encode(body) end
  local ok, e = pcall(self._exec_refresh, self, false)
  if not ok then
    if errors.is(e) then return nil, { code = e.code, msg = e.msg } end
    error(e, 0)
  end
  local res, msg, code, info = self.h:request(method, path, body, opts)
  if not res and info and info.status == 401 and self.conn.exec then
    -- the plugin's credential was rejected: run it again, once
    ok, e = pcall(self._exec_refresh, self, true)
    if not ok then
      if errors.is(e) then return nil, { code = e.code, msg = e.msg } end
      error(e, 0)
    end
    res, msg, code, info = self.h:request(method, path, body, opts)
  end
  if not res then
    info = info or {}
    warn(method, path, info.warnings)
    return nil, { code = code, msg = msg, status = info.status, reason = info.reason,
                  body = info.body, attempts = info.attempts }
  end
  warn(method, path, res.warnings)
  if opts.raw then return res.body end
  return decode(res.body, (core.describe(method, path)))
end

function Client:get(path, opts) return self:request("GET", path, nil, opts) end
function Client:create(path, obj, opts) return self:request("POST", path, obj, opts) end
function Client:update(path, obj, opts) return self:request("PUT", path, obj, opts) end
function Client:delete(path, opts)
  opts = opts or {}
  local body
  if opts.propagation then body = { kind = "DeleteOptions", apiVersion = "v1", propagationPolicy = opts.propagation } end
  return self:request("DELETE", path, body, opts)
end
function Client:patch(path, obj, ptype, opts)
  opts = opts or {}
  local o = { content_type = ptype or "application/merge-patch+json" }
  for k, v in pairs(opts) do o[k] = v end
  return self:request("PATCH", path, obj, o)
end

-- list(path, opts) -> items | nil, err
-- opts: {limit=500, label_selector=, field_selector=, on_page=function(list),
-- keep=false (with on_page: do not gather the items, return {}; a 410
-- restart then needs restartable=true: on_page sees pages again), so a
-- large list is seen a page at a time in bounded memory}
-- Follows metadata.continue; when the token expired (410) the list is
-- started again once from the beginning.
function Client:list(path, opts)
  opts = opts or {}
  local limit = opts.limit or 500
  local base = path .. (path:find("?", 1, true) and "&" or "?") .. "limit=" .. limit
  if opts.label_selector then base = base .. "&labelSelector=" .. M.urlencode(opts.label_selector) end
  if opts.field_selector then base = base .. "&fieldSelector=" .. M.urlencode(opts.field_selector) end
  local restarted = false
  local items, cont = {}, nil
  while true do
    local p = base
    if cont then p = p .. "&continue=" .. M.urlencode(cont) end
    local l, err = self:get(p)
    if not l then
      if err.status == 410 and cont and not restarted and (opts.keep ~= false or opts.restartable) then
        log.debug("list continue token expired; listing again", { path = path })
        restarted, items, cont = true, {}, nil
      else
        return nil, err
      end
    else
      if opts.on_page then opts.on_page(l) end
      if opts.keep ~= false then
        for _, it in ipairs(type(l.items) == "table" and l.items or {}) do items[#items + 1] = it end
      end
      local md = type(l.metadata) == "table" and l.metadata or {}
      cont = md.continue
      if cont == nil or cont == cjson.null or cont == "" then break end
    end
  end
  return items
end

-- path helpers: path(group_version, resource, namespace, name)
-- group_version "v1" for the core group, "batch/v1" otherwise
function M.path(gv, resource, ns, name)
  local p = (gv == "v1" and "/api/v1" or "/apis/" .. gv)
  if ns and ns ~= "" then p = p .. "/namespaces/" .. ns end
  p = p .. "/" .. resource
  if name then p = p .. "/" .. name end
  return p
end

function Client:close()
  if self.h then self.h:close() end
end

M.Client = Client
M.null = cjson.null

return M
