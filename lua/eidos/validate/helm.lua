-- eidos.validate.helm: Helm releases as Helm stores them, read from the
-- Kubernetes API, and how a release matches a recipe component.
--
-- Storage (Helm 3): one object per revision, named
-- sh.helm.release.v1.<release>.v<revision>, labelled owner=helm,
-- name=<release>, status=<status>, version=<revision>:
--   * Secret driver (the default): type helm.sh/release.v1; data.release is
--     base64 (the Secret's own encoding) of Helm's encoding;
--   * ConfigMap driver: data.release is Helm's encoding itself.
-- Helm's encoding is base64 of gzip of the release JSON (plain JSON when the
-- bytes do not start with the gzip magic). The release JSON holds name,
-- namespace, version, info.status, chart.metadata {name, version,
-- dependencies [{name, alias, version, condition}]}, chart.values (the
-- chart's values.yaml), config (the values given at install) and the
-- rendered manifest.
--
-- Input is hostile: the inflated size is capped like every document read
-- (--max-expanded-size; default max(16 x the record, 64 MiB)) and nesting
-- like every API response. Only the latest revision is decoded, and only
-- the parts a check reads are kept (manifest, templates and files dropped).
local errors = require("eidos.errors")
local base64 = require("eidos.core.base64")

local M = {}

M.SECRET_TYPE = "helm.sh/release.v1"
M.STATUSES = { "deployed", "superseded", "failed", "uninstalling", "uninstalled", "pending-install",
               "pending-upgrade", "pending-rollback", "unknown" }

-- the parts of a release JSON no check reads (the bulk of a record)
M.UNREAD = { "manifest", "hooks", "chart.templates", "chart.files", "chart.schema", "chart.lock" }

local json
local function decode_json(text, what)
  if not json then
    json = require("cjson").new()
    json.decode_max_depth(require("eidos.doc").MAX_DEPTH)
  end
  local ok, v = pcall(json.decode, text)
  if not ok or type(v) ~= "table" then
    errors.raise("invalid", string.format("%s: the release is not JSON: %s", what, tostring(ok and "not an object" or v)))
  end
  return v
end

-- the cap on an inflated record of n bytes
function M.max_inflated(n)
  local l = require("eidos.doc").limits.max_expanded
  return l or math.max(16 * n, 64 * 1024 * 1024)
end

-- decode_payload(text, what) -> release table: Helm's encoding (base64 of
-- gzip'd or plain JSON) -> the parts of the release a check reads
function M.decode_payload(text, what)
  local raw, msg = base64.decode(text)
  if not raw then errors.raise("invalid", string.format("%s: the release is not base64: %s", what, msg)) end
  if raw:byte(1) == 0x1f and raw:byte(2) == 0x8b then
    local limit = M.max_inflated(#raw)
    local out, gmsg = require("eidos.core.archive").gunzip(raw, { max_size = limit })
    if not out then
      if gmsg:find("expands to more than", 1, true) then
        gmsg = gmsg .. string.format(" (%s; change it with %s)", require("eidos.doc").limits.max_expanded
          and "set by the user" or string.format("max(16 x the record's %d bytes, 64 MiB)", #raw),
          require("eidos.doc").limits.hint)
      end
      errors.raise("invalid", string.format("%s: %s", what, gmsg))
    end
    raw = out
  end
  -- what no check reads, and most of the bytes, is left out before decoding
  local slim, jmsg = require("eidos.core.json").drop(raw, M.UNREAD)
  if not slim then errors.raise("invalid", string.format("%s: the release is not JSON: %s", what, jmsg)) end
  local rel = decode_json(slim, what)
  local chart = type(rel.chart) == "table" and rel.chart or {}
  return {
    name = rel.name, namespace = rel.namespace, version = rel.version,
    info = type(rel.info) == "table" and { status = rel.info.status, description = rel.info.description,
      last_deployed = rel.info.last_deployed } or {},
    chart = { metadata = type(chart.metadata) == "table" and chart.metadata or {},
              values = type(chart.values) == "table" and chart.values or {} },
    config = type(rel.config) == "table" and rel.config or {},
  }
end

-- record_payload(obj) -> Helm's encoding held by a Secret or ConfigMap
-- record, or nil, why
function M.record_payload(obj)
  local data = type(obj.data) == "table" and obj.data or {}
  local v = data.release
  if type(v) ~= "string" or v == "" then return nil, "it has no data.release" end
  if obj.kind == "Secret" then
    local inner, msg = base64.decode(v)
    if not inner then return nil, "its data.release is not base64: " .. msg end
    return inner
  end
  return v
end

local function revision(obj)
  local l = type(obj.metadata.labels) == "table" and obj.metadata.labels or {}
  return tonumber(l.version) or tonumber((obj.metadata.name or ""):match("%.v(%d+)$")) or 0
end
M.revision = revision

-- records(reader, ns, sel) -> Secret records, else ConfigMap ones
local function records(reader, ns, sel)
  local out = {}
  for _, s in ipairs(reader:list("v1", "secrets", ns, { label_selector = sel, nocache = true }) or {}) do
    if s.type == M.SECRET_TYPE then out[#out + 1] = s end
  end
  if #out == 0 then
    for _, cm in ipairs(reader:list("v1", "configmaps", ns, { label_selector = sel, nocache = true }) or {}) do
      out[#out + 1] = cm
    end
  end
  return out
end

-- history(reader, ns, name) -> list of records, latest revision first;
-- each {obj=, revision=, status= (the label), storage="Secret"|"ConfigMap"}.
-- Only the revisions that are not superseded are read (Helm marks every
-- older revision superseded, and keeps up to 10): the latest is among them
-- whatever its status; when none is left, every revision is read. Secrets
-- first; the ConfigMap driver only when there is no Secret record. The
-- encoded data of all but the latest record is dropped at once.
function M.history(reader, ns, name)
  local sel = "owner=helm,name=" .. name
  local out = records(reader, ns, sel .. ",status!=superseded")
  if #out == 0 then out = records(reader, ns, sel) end
  local recs = {}
  for _, o in ipairs(out) do
    local l = type(o.metadata.labels) == "table" and o.metadata.labels or {}
    recs[#recs + 1] = { obj = o, revision = revision(o), status = l.status, storage = o.kind }
  end
  table.sort(recs, function(a, b)
    if a.revision ~= b.revision then return a.revision > b.revision end
    return a.obj.metadata.name < b.obj.metadata.name
  end)
  for i = 2, #recs do recs[i].obj.data = nil end
  return recs
end

-- decode(rec) -> release (see decode_payload); raises "invalid" naming the
-- record for a corrupt one
function M.decode(rec)
  local what = string.format("Helm release record %s %s/%s", rec.storage, rec.obj.metadata.namespace or "",
    rec.obj.metadata.name)
  local payload, why = M.record_payload(rec.obj)
  if not payload then errors.raise("invalid", what .. ": " .. why) end
  return M.decode_payload(payload, what)
end

-- coalesce(base, over) -> Helm's coalescing of values: maps merge key by
-- key, anything else in over replaces, a null in over deletes the key
function M.coalesce(base, over)
  local null = require("eidos.doc").null
  local function ismap(v) return type(v) == "table" and next(v) ~= nil and v[1] == nil end
  local function copy(v)
    if type(v) ~= "table" then return v end
    local t = {}
    for k, x in pairs(v) do t[k] = copy(x) end
    return setmetatable(t, getmetatable(v))
  end
  local function merge(a, b)
    if b == nil then return copy(a) end
    if not (ismap(a) and (ismap(b) or (type(b) == "table" and next(b) == nil))) then return copy(b) end
    local out = copy(a)
    for k, v in pairs(b) do
      if v == null then out[k] = nil
      else out[k] = merge(out[k], v) end
    end
    return out
  end
  return merge(base or {}, over or {})
end

local function norm_version(v) return (tostring(v or ""):gsub("^v", "")) end
M.same_version = function(a, b) return a ~= nil and b ~= nil and norm_version(a) == norm_version(b) end

-- value at a dotted path ("gpu-operator.enabled") of a values tree
local function at(values, path)
  local cur = values
  for part in tostring(path):gmatch("[^.]+") do
    if type(cur) ~= "table" then return nil end
    cur = cur[part]
  end
  return cur
end

-- match(rel, comp) -> result {shape="direct"|"umbrella"|nil, ok=, why=,
-- expected=, actual=, dep=}. comp: {name=, chart=, version=}.
--   direct:   chart.metadata.{name,version} == the component's chart/version
--   umbrella: chart.metadata.dependencies holds the component (alias or
--             name) at its version, and the release's values enable it
function M.match(rel, comp)
  local md = rel.chart.metadata
  local want = string.format("chart %s %s", tostring(comp.chart), tostring(comp.version))
  if md.name == comp.chart then
    local got = string.format("chart %s %s", tostring(md.name), tostring(md.version))
    if M.same_version(md.version, comp.version) then
      return { shape = "direct", ok = true, expected = want, actual = got }
    end
    return { shape = "direct", ok = false, expected = want, actual = got,
             why = string.format("release %s runs chart %s %s, the recipe says %s", rel.name, md.name,
               tostring(md.version), tostring(comp.version)) }
  end
  for _, d in ipairs(type(md.dependencies) == "table" and md.dependencies or {}) do
    if type(d) == "table" and (d.alias == comp.name or (d.alias == nil and d.name == comp.name)
        or (d.name == comp.chart and (d.alias == nil or d.alias == comp.name))) then
      local key = d.alias or d.name
      local got = string.format("chart %s %s in %s %s", tostring(d.name), tostring(d.version),
        tostring(md.name), tostring(md.version))
      local r = { shape = "umbrella", dep = d, key = key, expected = want, actual = got }
      if not M.same_version(d.version, comp.version) then
        r.ok = false
        r.why = string.format("release %s holds %s at %s, the recipe says %s", rel.name, tostring(d.name),
          tostring(d.version), tostring(comp.version))
        return r
      end
      local values = M.coalesce(rel.chart.values, rel.config)
      local cond = type(d.condition) == "string" and d.condition ~= "" and d.condition:match("^[^,]+") or (key .. ".enabled")
      local en = at(values, cond)
      if en == false or en == "false" then
        r.ok = false
        r.actual = got .. string.format(", disabled (%s=false)", cond)
        r.why = string.format("release %s holds %s but its values disable it (%s=false)", rel.name, key, cond)
        return r
      end
      r.ok = true
      return r
    end
  end
  return { ok = false, expected = want,
           actual = string.format("chart %s %s", tostring(md.name), tostring(md.version)),
           why = string.format("release %s runs chart %s %s, which is not %s and does not hold it as a dependency",
             tostring(rel.name), tostring(md.name), tostring(md.version), tostring(comp.chart)) }
end

-- values(rel, m) -> the values the component runs with: for a chart
-- installed directly, the chart's values coalesced with the given ones;
-- for an umbrella, the component's key of both
function M.values(rel, m)
  if m and m.shape == "umbrella" then
    local base = type(rel.chart.values[m.key]) == "table" and rel.chart.values[m.key] or {}
    local over = type(rel.config[m.key]) == "table" and rel.config[m.key] or {}
    local v = M.coalesce(base, over)
    v.enabled = nil
    return v
  end
  return M.coalesce(rel.chart.values, rel.config)
end

return M
