-- eidos.k8s.cmstore: documents stored in ConfigMaps, addressed as
-- cm://NAMESPACE/NAME, registered with eidos.docio for reading and writing.
--
-- A ConfigMap written by eidos holds one document:
--   data["<kind>.<ext>"]   the document (kind lower-cased: snapshot.yaml,
--                          recipe.json, ...; ext yaml or json)
--   data["format"]         yaml or json
--   data["timestamp"]      the write time, RFC 3339 UTC (SOURCE_DATE_EPOCH
--                          pins it)
--   labels app.kubernetes.io/name=eidos, app.kubernetes.io/component=<kind>,
--          app.kubernetes.io/version=<eidos version>
-- Writes never lose an update: the ConfigMap is read, then created (POST)
-- or replaced with a PUT carrying the resourceVersion that was read; a 409
-- (someone else wrote in between) starts over, a few times. The 1 MiB
-- ConfigMap limit (on the values' bytes, as the API server counts) is
-- checked before anything is sent. Reads take
-- data["<what>.<format>"], else the one document key present.
local errors = require("eidos.errors")
local client = require("eidos.k8s.client")
local strx = require("eidos.text")

local M = {}

M.LIMIT = 1048576        -- bytes of data a ConfigMap may hold
M.MAX_TRIES = 5

local DNS_LABEL = "^[a-z0-9][-a-z0-9]*$"

local function valid_label(s)
  return #s <= 63 and s:match(DNS_LABEL) and not s:match("%-$")
end

local function valid_subdomain(s)
  if #s == 0 or #s > 253 then return false end
  for part in (s .. "."):gmatch("([^.]*)%.") do
    if part == "" or not part:match(DNS_LABEL) or part:match("%-$") then return false end
  end
  return true
end

M.valid_label, M.valid_subdomain = valid_label, valid_subdomain

-- parse("cm://ns/name") -> ns, name (raises invalid with what is accepted)
function M.parse(uri)
  local rest = uri:match("^cm://(.*)$")
  if not rest then
    errors.raise("invalid", string.format("%q is not a ConfigMap location (accepted: cm://NAMESPACE/NAME)", uri))
  end
  local ns, name = rest:match("^([^/]*)/(.*)$")
  if not ns then
    errors.raise("invalid", string.format("ConfigMap location %q has no name (accepted: cm://NAMESPACE/NAME)", uri))
  end
  ns, name = strx.trim(ns), strx.trim(name)
  if ns == "" or name == "" then
    errors.raise("invalid", string.format("ConfigMap location %q needs a namespace and a name (accepted: cm://NAMESPACE/NAME)", uri))
  end
  if not valid_label(ns) then
    errors.raise("invalid", string.format("namespace %q in %q is not a valid Kubernetes namespace name "
      .. "(lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)", ns, uri))
  end
  if not valid_subdomain(name) then
    errors.raise("invalid", string.format("ConfigMap name %q in %q is not a valid DNS-1123 name "
      .. "(lower-case letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit, "
      .. "at most 253 characters)", name, uri))
  end
  return ns, name
end

-- a label value: at most 63 of [A-Za-z0-9._-], starting and ending alphanumeric
local function label_value(v)
  v = tostring(v or "unknown"):gsub("[^%w%._%-]", "_"):sub(1, 63)
  v = v:gsub("^[^%w]+", ""):gsub("[^%w]+$", "")
  return v ~= "" and v or "unknown"
end

-- kind and format of a serialised document
function M.sniff(text, format)
  local fmt = format
  if fmt ~= "yaml" and fmt ~= "json" then
    fmt = text:match("^%s*[{%[]") and "json" or "yaml"
  end
  local kind
  if fmt == "json" then
    kind = text:match('^%s*{%s*"kind"%s*:%s*"([^"]+)"') or text:match('"kind"%s*:%s*"([^"]+)"')
  else
    kind = text:match("^kind:%s*[\"']?([%w%-_.]+)") or text:match("\nkind:%s*[\"']?([%w%-_.]+)")
  end
  return kind, fmt
end

local function timestamp()
  return require("eidos.units").env("SOURCE_DATE_EPOCH", "timestamp") or client.now_rfc3339()
end

local function conn_opts(opts)
  return { kubeconfig = opts and opts.kubeconfig, context = opts and opts.context }
end

-- build the data map and labels for text -> data, key, labels
function M.content(text, opts)
  opts = opts or {}
  if opts.format == "table" then
    errors.raise("invalid", "a ConfigMap stores YAML or JSON documents; --format table cannot be written to cm:// (accepted: yaml, json)")
  end
  local kind, fmt = M.sniff(text, opts.format)
  kind = opts.kind or kind or "document"
  local key = kind:lower() .. "." .. fmt
  local data = { [key] = text, format = fmt, timestamp = timestamp() }
  local b = require("eidos.core.build")
  local labels = {
    ["app.kubernetes.io/name"] = "eidos",
    ["app.kubernetes.io/component"] = label_value(kind:lower()),
    ["app.kubernetes.io/version"] = label_value(b.version),
  }
  return data, key, labels
end

-- the size the API server limits: the bytes of the values (not the keys;
-- a real kube-apiserver refuses a ConfigMap only when this is over M.LIMIT)
local function size_of(data)
  local n = 0
  for _, v in pairs(data) do n = n + #v end
  return n
end
M.size_of = size_of

local function no_namespace(uri, ns, cause)
  errors.raise("notfound", string.format("%s: namespace %q does not exist (create it first: "
    .. "kubectl create namespace %s)", uri, ns, ns), cause)
end

-- check_namespace(uri, opts): raises notfound (exit 3) when the namespace
-- of cm://NS/NAME does not exist, before work whose result goes there (the
-- snapshot agent); a namespace the user may not read is left to write().
function M.check_namespace(uri, opts)
  local ns = M.parse(uri)
  local c = client.shared(conn_opts(opts))
  local _, err = c:get(client.path("v1", "namespaces", nil, ns))
  if not err or err.status == 403 then return end
  if err.status == 404 then no_namespace(uri, ns, err) end
  client.check(nil, err)
end

-- write(uri, text, opts): create or update without losing an update.
-- opts: {format=, kind=, kubeconfig=, context=, labels=, annotations=}
-- (labels and annotations are added to the ConfigMap's own)
function M.write(uri, text, opts)
  opts = opts or {}
  local ns, name = M.parse(uri)
  local data, _, labels = M.content(text, opts)
  for k, v in pairs(opts.labels or {}) do labels[k] = v end
  local annotations = opts.annotations and next(opts.annotations) and opts.annotations or nil
  local size = size_of(data)
  if size > M.LIMIT then
    errors.raise("invalid", string.format("%s: the document is %d bytes, and a ConfigMap holds at most %d bytes (1 MiB); "
      .. "write it to a file instead%s", uri, size, M.LIMIT,
      data.format == "json" and " or use --format yaml, which is smaller" or ""))
  end
  local c = client.shared(conn_opts(opts))
  local path = client.path("v1", "configmaps", ns)
  local last
  for _ = 1, M.MAX_TRIES do
    local cur, err = c:get(path .. "/" .. name)
    if cur then
      local md = cur.metadata or {}
      local l = type(md.labels) == "table" and md.labels or {}
      for k, v in pairs(labels) do l[k] = v end
      local a = md.annotations
      if annotations then
        a = type(a) == "table" and a or {}
        for k, v in pairs(annotations) do a[k] = v end
      end
      local obj = {
        apiVersion = "v1", kind = "ConfigMap",
        metadata = { name = name, namespace = ns, resourceVersion = md.resourceVersion,
                     labels = l, annotations = a },
        data = data,
      }
      local _, uerr = c:update(path .. "/" .. name, obj)
      if not uerr then return true end
      if uerr.status ~= 409 then client.check(nil, uerr) end
      last = uerr
    elseif err.status == 404 then
      local obj = { apiVersion = "v1", kind = "ConfigMap",
                    metadata = { name = name, namespace = ns, labels = labels, annotations = annotations },
                    data = data }
      local _, cerr = c:create(path, obj)
      if not cerr then return true end
      if cerr.status == 404 then no_namespace(uri, ns, cerr) end -- creating in a namespace that does not exist
      if cerr.status ~= 409 then client.check(nil, cerr) end
      last = cerr
    else
      client.check(nil, err)
    end
  end
  errors.raise("failure", string.format("%s: gave up after %d tries: the ConfigMap kept changing under us (last: %s)",
    uri, M.MAX_TRIES, last and last.msg or "?"))
end

local KNOWN = { "snapshot", "recipe", "validation", "bundle", "criteria", "document" }

-- read(uri, opts) -> text, origin. opts: {what=, kubeconfig=, context=}
function M.read(uri, opts)
  opts = opts or {}
  local ns, name = M.parse(uri)
  local c = client.shared(conn_opts(opts))
  local cm, err = c:get(client.path("v1", "configmaps", ns, name))
  if not cm then
    if err.status == 404 then
      errors.raise("notfound", string.format("%s: ConfigMap %q not found in namespace %q", uri, name, ns))
    end
    client.check(nil, err)
  end
  local data = type(cm.data) == "table" and cm.data or {}
  local fmt = type(data.format) == "string" and data.format or "yaml"
  local tried = {}
  local function try(k)
    tried[#tried + 1] = k
    local v = data[k]
    if type(v) == "string" and v ~= "" then return v end
  end
  local what = opts.what and opts.what:lower():match("^[%w%-_]+") or nil
  local text
  if what then
    text = try(what .. "." .. fmt) or try(what .. ".yaml") or try(what .. ".json")
  end
  if not text then
    -- the one document key present
    local found = {}
    for k, v in pairs(data) do
      if type(v) == "string" and v ~= "" and (k:match("%.yaml$") or k:match("%.yml$") or k:match("%.json$")) then
        found[#found + 1] = k
      end
    end
    table.sort(found)
    if #found == 1 then text = data[found[1]]
    elseif #found > 1 then
      local pick
      for _, kname in ipairs(KNOWN) do
        for _, k in ipairs(found) do
          if not pick and k:match("^" .. kname .. "%.") then pick = k end
        end
      end
      if what or not pick then
        errors.raise("invalid", string.format("%s holds several documents (%s); none is %s",
          uri, table.concat(found, ", "), what and (what .. ".yaml or " .. what .. ".json") or "a known kind"))
      end
      text = data[pick]
    end
  end
  -- the same size limit as a file or stdin (--max-input-size)
  local max = opts.max or 64 * 1024 * 1024
  if text and #text > max then
    errors.raise("invalid", string.format("%s: the document has %d bytes, more than the limit of %d bytes%s", uri, #text,
      max, opts.max_flag and ("; raise it with " .. opts.max_flag) or ""))
  end
  if not text then
    local keys = {}
    for k in pairs(data) do keys[#keys + 1] = k end
    table.sort(keys)
    errors.raise("notfound", string.format("%s has no %s data (keys: %s; looked for %s)", uri,
      what or "document", #keys > 0 and table.concat(keys, ", ") or "none",
      #tried > 0 and table.concat(tried, ", ") or "a *.yaml or *.json key"))
  end
  return text, uri
end

require("eidos.docio").register("cm", { read = M.read, write = M.write })

return M
