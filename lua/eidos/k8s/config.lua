-- eidos.k8s.config: finds how to reach the Kubernetes API and returns a
-- plain connection table for eidos.k8s.client. Sources, first found wins:
--   1. --kubeconfig PATH (opts.kubeconfig): that file only; it must exist;
--   2. KUBECONFIG: a colon-separated list of files merged as kubectl merges
--      them (missing files skipped; for clusters, users and contexts the
--      first file that defines a name wins; the first current-context wins);
--   3. ~/.kube/config when it exists;
--   4. in-cluster: the pod's service account (token, ca.crt, namespace under
--      /var/run/secrets/kubernetes.io/serviceaccount, or
--      $EIDOS_SERVICEACCOUNT_DIR for tests) with KUBERNETES_SERVICE_HOST and
--      KUBERNETES_SERVICE_PORT.
-- --context (opts.context) picks another context than current-context.
-- Relative file paths in a kubeconfig are relative to the file that names
-- them. The connection table:
--   {server=, ca_file=|ca_data=, cert_file=|cert_data=, key_file=|key_data=,
--    token=|token_file=, exec={command=, args=, env=, api_version=,
--    install_hint=, provide_cluster_info=}, insecure=, namespace=,
--    context=, source=, auth=("cert"|"token"|"token-file"|"exec"|"none")}
local doc = require("eidos.doc")
local errors = require("eidos.errors")
local fs = require("eidos.core.fs")
local base64 = require("eidos.core.base64")

local M = {}

M.SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

local EXEC_VERSIONS = {
  ["client.authentication.k8s.io/v1"] = true,
  ["client.authentication.k8s.io/v1beta1"] = true,
}

local function sa_dir() return os.getenv("EIDOS_SERVICEACCOUNT_DIR") or M.SA_DIR end

local function home() return os.getenv("HOME") or "" end

local function expand(p)
  if p:sub(1, 2) == "~/" then return home() .. p:sub(2) end
  return p
end

local function dirname(p)
  return p:match("^(.*)/[^/]*$") or "."
end

-- a path named in a kubeconfig, relative to that kubeconfig's directory
local function rel(path, dir)
  if path == nil or path == "" then return nil end
  path = expand(path)
  if path:sub(1, 1) == "/" then return path end
  return dir .. "/" .. path
end

-- a kubeconfig: a file, or a pipe (--kubeconfig <(...)) read once
local function read_text(path, what)
  return require("eidos.docio").read_file(path, { what = what, max = 16 * 1024 * 1024 })
end

local function is_map(v) return type(v) == "table" end

-- load one kubeconfig file -> {clusters=, users=, contexts=, current=}
-- with each entry's `_dir` (for relative paths) and `_file`
local function load_file(path)
  local text = read_text(path, "kubeconfig")
  local cfg = {}
  if text:match("%S") then cfg = doc.decode(text, "kubeconfig " .. path) end
  if not is_map(cfg) then
    errors.raise("invalid", string.format("kubeconfig %s is not a YAML map", path))
  end
  local out = { clusters = {}, users = {}, contexts = {}, file = path }
  local dir = dirname(path)
  local bad = errors.problems("kubeconfig " .. path)
  for _, section in ipairs({ "clusters", "users", "contexts" }) do
    local inner = section:sub(1, -2)   -- cluster, user, context
    local list = cfg[section]
    if list ~= nil and not doc.isnull(list) and not is_map(list) then
      bad:add(section, string.format("%s must be a list", section))
    elseif list ~= nil and not doc.isnull(list) then
      for i, e in ipairs(list) do
        local at = string.format("%s[%d]", section, i)
        local body = is_map(e) and e[inner]
        if doc.isnull(body) or body == nil then body = {} end
        if not is_map(e) or type(e.name) ~= "string" or e.name == "" then
          bad:add(at, string.format("%s has no name", at))
        elseif not is_map(body) then
          bad:add(at, string.format("%s %q: %s must be a map", section, e.name, inner))
        elseif out[section][e.name] == nil then
          out[section][e.name] = { body = body, dir = dir, file = path }
        end
      end
    end
  end
  bad:raise("invalid")
  local cc = cfg["current-context"]
  if type(cc) == "string" and cc ~= "" then out.current = cc end
  return out
end

-- merge files, first definition wins (as kubectl does)
local function merge(files)
  local m = { clusters = {}, users = {}, contexts = {}, files = {} }
  for _, f in ipairs(files) do
    local c = load_file(f)
    m.files[#m.files + 1] = f
    for _, section in ipairs({ "clusters", "users", "contexts" }) do
      for name, e in pairs(c[section]) do
        if m[section][name] == nil then m[section][name] = e end
      end
    end
    if not m.current and c.current then m.current = c.current end
  end
  return m
end

local function sorted_names(t)
  local out = {}
  for k in pairs(t) do out[#out + 1] = k end
  table.sort(out)
  return out
end

-- which kubeconfig files to use, and how they were chosen; nil if none
function M.kubeconfig_files(opts)
  opts = opts or {}
  if opts.kubeconfig and opts.kubeconfig ~= "" then
    local p = expand(opts.kubeconfig)
    require("eidos.docio").check_file(p, "kubeconfig", { stream = true })
    return { p }, "--kubeconfig"
  end
  local env = os.getenv("KUBECONFIG")
  if env and env ~= "" then
    local files, seen = {}, {}
    for p in env:gmatch("[^:]+") do
      p = expand(p)
      local kind = not seen[p] and fs.exists(p)
      if kind == "file" or kind == "other" then -- other: a pipe (KUBECONFIG=<(...)); read_file checks
        files[#files + 1] = p
        seen[p] = true
      end
    end
    if #files == 0 then
      errors.raise("notfound", string.format("none of the files in KUBECONFIG=%q exists", env))
    end
    return files, "KUBECONFIG"
  end
  local def = home() .. "/.kube/config"
  if home() ~= "" and fs.exists(def) == "file" then return { def }, "~/.kube/config" end
  return nil
end

local function b64(field, value, where)
  local v, msg = base64.decode(value)
  if not v then
    errors.raise("invalid", string.format("%s: %s is not valid base64 (%s)", where, field, msg))
  end
  return v
end

local function str(v)
  if type(v) == "string" and v ~= "" then return v end
  return nil
end

local function from_kubeconfig(files, how, opts)
  local m = merge(files)
  local where = table.concat(m.files, ":")
  local ctxname = opts.context
  if ctxname == "" then ctxname = nil end
  ctxname = ctxname or m.current
  if not ctxname then
    errors.raise("invalid", string.format("kubeconfig %s has no current-context; pass --context (contexts: %s)",
      where, table.concat(sorted_names(m.contexts), ", ")))
  end
  local ctx = m.contexts[ctxname]
  if not ctx then
    errors.raise("notfound", string.format("context %q not found in kubeconfig %s (accepted: %s)",
      ctxname, where, table.concat(sorted_names(m.contexts), ", ")))
  end
  local cname, uname = ctx.body.cluster, ctx.body.user
  local cl = type(cname) == "string" and m.clusters[cname]
  if not cl then
    errors.raise("notfound", string.format("context %q names cluster %s, which is not in kubeconfig %s (clusters: %s)",
      ctxname, errors.show(cname), where, table.concat(sorted_names(m.clusters), ", ")))
  end
  local us = { body = {}, dir = cl.dir }
  if type(uname) == "string" and uname ~= "" then
    us = m.users[uname]
    if not us then
      errors.raise("notfound", string.format("context %q names user %q, which is not in kubeconfig %s (users: %s)",
        ctxname, uname, where, table.concat(sorted_names(m.users), ", ")))
    end
  end
  local c, u = cl.body, us.body
  local cw = string.format("kubeconfig %s, cluster %q", cl.file, cname)
  local uw = string.format("kubeconfig %s, user %s", us.file or cl.file, errors.show(uname))
  local conn = {
    context = ctxname,
    source = string.format("%s (%s, context %s)", where, how, ctxname),
    namespace = str(ctx.body.namespace) or "default",
  }
  conn.server = str(c.server)
  if not conn.server then errors.raise("invalid", cw .. ": server is not set") end
  if not conn.server:match("^https?://") then
    errors.raise("invalid", string.format("%s: server %q is not an http:// or https:// URL", cw, conn.server))
  end
  if str(c["certificate-authority-data"]) then
    conn.ca_data = b64("certificate-authority-data", c["certificate-authority-data"], cw)
  elseif str(c["certificate-authority"]) then
    conn.ca_file = rel(c["certificate-authority"], cl.dir)
  end
  conn.insecure = c["insecure-skip-tls-verify"] == true
  if str(c["tls-server-name"]) then
    errors.raise("invalid", cw .. ": tls-server-name is not supported by eidos (connect to a server name the certificate covers)")
  end
  if str(c["proxy-url"]) then
    errors.raise("invalid", cw .. ": proxy-url is not supported; set HTTPS_PROXY (and NO_PROXY) instead")
  end
  -- user
  if u["auth-provider"] ~= nil and not doc.isnull(u["auth-provider"]) then
    local name = is_map(u["auth-provider"]) and u["auth-provider"].name or "?"
    errors.raise("invalid", string.format("%s: auth-provider %s is not supported (it was removed from "
      .. "kubectl too); use an exec credential plugin (e.g. kubelogin, gke-gcloud-auth-plugin)", uw, errors.show(name)))
  end
  if str(u.username) or str(u.password) then
    errors.raise("invalid", uw .. ": basic authentication (username/password) is not supported; use a token, a client certificate or an exec plugin")
  end
  if str(u.as) or u["as-groups"] ~= nil then
    errors.raise("invalid", uw .. ": impersonation (as, as-groups) is not supported")
  end
  if str(u["client-certificate-data"]) then
    conn.cert_data = b64("client-certificate-data", u["client-certificate-data"], uw)
  elseif str(u["client-certificate"]) then
    conn.cert_file = rel(u["client-certificate"], us.dir)
  end
  if str(u["client-key-data"]) then
    conn.key_data = b64("client-key-data", u["client-key-data"], uw)
  elseif str(u["client-key"]) then
    conn.key_file = rel(u["client-key"], us.dir)
  end
  if (conn.cert_data or conn.cert_file) and not (conn.key_data or conn.key_file) then
    errors.raise("invalid", uw .. ": a client certificate is set without a client key")
  end
  if str(u.token) then conn.token = u.token
  elseif str(u.tokenFile) then conn.token_file = rel(u.tokenFile, us.dir) end
  if u.exec ~= nil and not doc.isnull(u.exec) then
    local e = u.exec
    if not is_map(e) or not str(e.command) then
      errors.raise("invalid", uw .. ": exec.command is not set")
    end
    local av = e.apiVersion
    if not EXEC_VERSIONS[av] then
      errors.raise("invalid", string.format("%s: exec apiVersion %s is not supported (accepted: %s)",
        uw, errors.show(av), "client.authentication.k8s.io/v1, client.authentication.k8s.io/v1beta1"))
    end
    local cmd = e.command
    if cmd:find("/", 1, true) then cmd = rel(cmd, us.dir) end
    local args, env = {}, {}
    for i, a in ipairs(is_map(e.args) and e.args or {}) do
      if type(a) ~= "string" then errors.raise("invalid", string.format("%s: exec.args[%d] is not a string", uw, i)) end
      args[#args + 1] = a
    end
    for i, kv in ipairs(is_map(e.env) and e.env or {}) do
      if not is_map(kv) or not str(kv.name) or type(kv.value) ~= "string" then
        errors.raise("invalid", string.format("%s: exec.env[%d] needs a name and a string value", uw, i))
      end
      env[#env + 1] = { name = kv.name, value = kv.value }
    end
    conn.exec = { command = cmd, args = args, env = env, api_version = av,
                  install_hint = str(e.installHint), provide_cluster_info = e.provideClusterInfo == true }
  end
  conn.auth = conn.exec and "exec" or (conn.cert_data or conn.cert_file) and "cert"
    or conn.token and "token" or conn.token_file and "token-file" or "none"
  return conn
end

-- the in-cluster connection, or nil when not in a pod
function M.in_cluster()
  local host, port = os.getenv("KUBERNETES_SERVICE_HOST"), os.getenv("KUBERNETES_SERVICE_PORT")
  local dir = sa_dir()
  if not host or host == "" or not port or port == "" then return nil end
  if fs.exists(dir .. "/token") ~= "file" then return nil end
  if host:find(":", 1, true) then host = "[" .. host .. "]" end
  local conn = {
    server = "https://" .. host .. ":" .. port,
    token_file = dir .. "/token",
    source = "in-cluster service account (" .. dir .. ")",
    auth = "token-file",
    context = "in-cluster",
  }
  if fs.exists(dir .. "/ca.crt") == "file" then conn.ca_file = dir .. "/ca.crt" end
  local ns = fs.read(dir .. "/namespace", 4096)
  conn.namespace = ns and ns:match("^%s*(%S+)") or "default"
  return conn
end

-- resolve(opts) -> connection table; opts = {kubeconfig=, context=}
function M.resolve(opts)
  opts = opts or {}
  local files, how = M.kubeconfig_files(opts)
  if files then return from_kubeconfig(files, how, opts) end
  local ic = M.in_cluster()
  if ic then
    if opts.context and opts.context ~= "" then
      errors.raise("invalid", string.format("--context %q given, but no kubeconfig was found (running in-cluster)", opts.context))
    end
    return ic
  end
  errors.raise("notfound", "no Kubernetes configuration found: tried --kubeconfig, KUBECONFIG, "
    .. "~/.kube/config and the in-cluster service account (KUBERNETES_SERVICE_HOST and "
    .. sa_dir() .. "/token)")
end

return M
