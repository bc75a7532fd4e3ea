-- eidos.snapshot.model: a snapshot document as an index that constraint
-- paths are looked up in. A path is `Type.subtype.key`: the first two dots
-- separate the measurement type and the subtype, the rest is the key (sysctl
-- keys are /proc/sys paths with dots inside). Types match case-insensitively;
-- subtypes and keys exactly. Values come back as strings, the way they are
-- compared: scalars printed like the Go tool prints them (integers as
-- digits, floats in their shortest form, booleans as true/false, null as
-- ""). Indexing is lazy: from_doc only walks the measurement list, so
-- checking a few constraints against an 1,800-line snapshot costs little
-- beyond parsing it.
--
-- Beyond the Go tool: a subtype whose name has dots (SystemD units such as
-- containerd.service) is found when the first-two-dots split misses it, and
-- a key may walk into nested maps (`GPU.smi.gpu.model` finds data.gpu.model
-- as well as the flat key "gpu.model").
local errors = require("eidos.errors")

local M = {}

-- Documents are read as upstream writes and reads them: kind and
-- apiVersion may be absent (upstream's readers do not check them; when
-- present they must be Snapshot and a version of a known group,
-- eidos.apiversion), and a subtype's name may be written `name:` instead of
-- `subtype:`.

local null = require("eidos.core.emit").null

-- scalar(v) -> string: how a data value reads in a comparison
local function scalar(v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then
    if math.type(v) == "integer" then return string.format("%d", v) end
    if v ~= v then return "NaN" end
    if v == math.huge then return "+Inf" end
    if v == -math.huge then return "-Inf" end
    if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%d", math.tointeger(v)) end
    for p = 1, 17 do
      local s = string.format("%." .. p .. "g", v)
      if tonumber(s) == v then return s end
    end
    return string.format("%.17g", v)
  end
  if t == "boolean" then return v and "true" or "false" end
  if v == nil or v == null then return "" end
  if t == "table" then
    -- a list of scalars reads as the Go tool prints a slice: [a b c]
    local parts = {}
    for i = 1, #v do
      if type(v[i]) == "table" then return nil end
      parts[i] = scalar(v[i])
    end
    if next(v) ~= nil and #v == 0 then return nil end -- a map
    return "[" .. table.concat(parts, " ") .. "]"
  end
  return tostring(v)
end
M.scalar = scalar

local list_mt = require("eidos.core.emit").list_mt

-- ismap(v): a non-empty-list table (a map, or an empty table not marked a list)
local function ismap(v)
  return type(v) == "table" and #v == 0 and getmetatable(v) ~= list_mt
end
M.ismap = ismap

-- from_doc(doc, source) -> model; raises one "invalid" error naming source
-- and every problem when the document is not a Snapshot this model reads.
function M.from_doc(doc, source)
  local where = source and ("snapshot " .. source) or "snapshot"
  if type(doc) ~= "table" then
    errors.raise("invalid", string.format("%s: expected a Snapshot document (a map with kind, apiVersion, measurements), got %s",
      where, errors.show(doc)))
  end
  local bad = errors.problems(where)
  if doc.kind ~= nil and doc.kind ~= "Snapshot" then
    bad:add("kind", string.format("kind is %s, expected \"Snapshot\" (or no kind)", errors.show(doc.kind)))
  end
  local apiv = require("eidos.apiversion").problem(doc.apiVersion)
  if apiv then bad:add("apiVersion", apiv) end
  if doc.kind == nil and doc.measurements == nil then
    bad:add("kind", "not a Snapshot document (no kind and no measurements list)")
  end
  local ms = doc.measurements
  if ms == nil or ms == null then ms = {} end
  if type(ms) ~= "table" or (next(ms) ~= nil and #ms == 0) then
    bad:add("measurements", "measurements must be a list of {type, subtypes}")
    ms = {}
  end
  local m = { kind = doc.kind, apiVersion = doc.apiVersion, metadata = doc.metadata, source = source,
              types = {}, order = {} }
  for i, meas in ipairs(ms) do
    local at = string.format("measurements[%d]", i - 1)
    local subs = type(meas) == "table" and meas.subtypes
    if subs == nil or subs == null then subs = {} end
    if type(meas) ~= "table" or type(meas.type) ~= "string" or meas.type == "" then
      bad:add(at, string.format("%s has no type (expected {type, subtypes})", at))
    elseif type(subs) ~= "table" then
      bad:add(at, string.format("%s (%s): subtypes must be a list", at, meas.type))
    else
      local key = meas.type:lower()
      local t = m.types[key]
      if not t then
        t = { name = meas.type, subtypes = {}, order = {} }
        m.types[key] = t
        m.order[#m.order + 1] = key
      end
      for j, st in ipairs(subs) do
        -- upstream's test fixtures name subtypes with `name:`
        if type(st) == "table" and st.subtype == nil and type(st.name) == "string" then
          st = { subtype = st.name, data = st.data }
        end
        local sat = string.format("%s.subtypes[%d]", at, j - 1)
        local data = type(st) == "table" and st.data
        if data == nil or data == null then data = {} end
        if type(st) ~= "table" or type(st.subtype) ~= "string" then
          bad:add(sat, string.format("%s (%s) subtypes[%d] has no subtype name", at, meas.type, j - 1))
        elseif type(data) ~= "table" then
          bad:add(sat, string.format("%s.%s: data must be a map", meas.type, st.subtype))
        elseif not t.subtypes[st.subtype] then
          -- the first subtype of a name wins (the Go tool's rule)
          t.subtypes[st.subtype] = data
          t.order[#t.order + 1] = st.subtype
        end
      end
    end
  end
  bad:raise("invalid")
  return m
end

-- split(path) -> type, subtype, key | nil, reason
function M.split(path)
  if type(path) ~= "string" then return nil, "a path must be a string" end
  local a = path:find(".", 1, true)
  local b = a and path:find(".", a + 1, true)
  if not b or a == 1 or b == a + 1 or b == #path then
    return nil, string.format("invalid path %q: expected Type.subtype.key (e.g. K8s.server.version, " ..
      "OS.sysctl./proc/sys/kernel/osrelease)", path)
  end
  return path:sub(1, a - 1), path:sub(a + 1, b - 1), path:sub(b + 1)
end

-- dig(data, key) -> value or nil: the flat key first, then nested maps
local function dig(data, key)
  local v = data[key]
  if v ~= nil then return v end
  local p = 0
  while true do
    p = key:find(".", p + 1, true)
    if not p then return nil end
    local head = data[key:sub(1, p - 1)]
    if ismap(head) then
      v = dig(head, key:sub(p + 1))
      if v ~= nil then return v end
    end
  end
end

-- paths(m) -> every path with a value, in measurement order, keys naturally sorted
function M.paths(m) return require("eidos.snapshot.suggest").paths(m) end

-- nearest(m, path, n) -> up to n existing paths closest to path
function M.nearest(m, path, n) return require("eidos.snapshot.suggest").nearest(m, path, n) end

-- types(m) -> measurement type names in document order
function M.types(m)
  local out = {}
  for i, key in ipairs(m.order) do out[i] = m.types[key].name end
  return out
end

local function list_names(names, max)
  max = max or 8
  local shown = {}
  for i = 1, math.min(#names, max) do shown[i] = names[i] end
  local s = table.concat(shown, ", ")
  if #names > max then s = s .. string.format(", ... (%d in all)", #names) end
  return s
end

-- find subtype and key in t for the rest of a path after "Type.", trying
-- the first-dot split, then subtype names that themselves contain dots
-- (the longest that fits). -> value, subtype, key, data of the subtype
local function resolve(t, rest)
  local a = rest:find(".", 1, true)
  local sub, key = rest:sub(1, a - 1), rest:sub(a + 1)
  local data = t.subtypes[sub]
  local v = data and dig(data, key)
  if v ~= nil then return v, sub, key, data end
  local best
  for _, s in ipairs(t.order) do
    if #s > #sub and #rest > #s + 1 and rest:sub(1, #s + 1) == s .. "." and (not best or #s > #best) then
      best = s
    end
  end
  if best then
    local k = rest:sub(#best + 2)
    return dig(t.subtypes[best], k), best, k, t.subtypes[best]
  end
  return nil, sub, key, data
end

-- get(m, path) -> the value (a string), or nil: lookup without the reason
-- and nearest paths, for a caller that only wants the value
function M.get(m, path)
  local tname = M.split(path)
  local t = tname and m.types[tname:lower()]
  if not t then return nil end
  local v = resolve(t, path:sub(#tname + 2))
  if v == nil then return nil end
  return scalar(v)
end

-- lookup(m, path) -> value (a string) | nil, reason, nearest paths
function M.lookup(m, path)
  local tname, msg = M.split(path)
  if not tname then return nil, msg, {} end
  local t = m.types[tname:lower()]
  if not t then
    return nil, string.format("no %s measurement in the snapshot (types: %s)", tname,
      #m.order > 0 and list_names(M.types(m)) or "none"), M.nearest(m, path)
  end
  local v, s, k, data = resolve(t, path:sub(#tname + 2))
  if v == nil then
    if not data then
      return nil, string.format("no subtype %q in the %s measurement (subtypes: %s)", s, t.name,
        #t.order > 0 and list_names(t.order) or "none"), M.nearest(m, path)
    end
    return nil, string.format("no key %q in %s.%s", k, t.name, s), M.nearest(m, path)
  end
  local str = scalar(v)
  if str == nil then
    local children = ismap(v) and require("eidos.snapshot.suggest").flat_keys(v, path .. ".", {}) or {}
    local near = {}
    for i = 1, math.min(3, #children) do near[i] = children[i] end
    return nil, string.format("%s is a %s, not a single value%s", path, ismap(v) and "map" or "list",
      #children > 0 and " (name one of its keys)" or ""), near
  end
  return str
end

return M
