-- eidos.recipe.hydrate: a component's Helm values, the hydrated recipe that
-- `eidos query` selects from, and the selector walk.
--
-- Values of a componentRef R of component C (lowest to highest):
--   components/C/values.yaml (when present) -> R.valuesFile -> R.overrides,
-- deep-merged by eidos.core.merge (maps merge, everything else replaces).
-- A ref with neither valuesFile nor overrides has no values (upstream rule).
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local cmerge = require("eidos.core.merge")

local M = {}

local null = doc.null

local function ismap(v) return type(v) == "table" and not doc.islist(v) end

local function values_file(lib, rel, what)
  local d = lib:yaml(rel)
  if d == null or d == nil then return {} end
  if not ismap(d) then
    errors.raise("invalid", string.format("%s %s must hold a map of Helm values", what, lib:where(rel)))
  end
  return d
end

-- layers(lib, ref) -> list of {values=, src={file=, overlay=?, what=}} in
-- merge order. ref is a componentRef of a RecipeResult (or merge state),
-- prov (optional) its provenance from the build.
function M.layers(lib, ref, prov)
  local out = {}
  local name = ref.name
  local vf = ref.valuesFile
  if vf == null then vf = nil end
  if vf ~= nil and type(vf) ~= "string" then
    errors.raise("invalid", string.format("component %s: valuesFile must be a path (a string), got %s",
      errors.show(name), errors.show(vf)))
  end
  local ov = ref.overrides
  local has_ov = ismap(ov) and next(ov) ~= nil
  if (vf == nil or vf == "") and not has_ov then return out end
  local base = "components/" .. name .. "/values.yaml"
  if lib:has(base) then
    out[#out + 1] = { values = values_file(lib, base, "values file"), src = { file = lib:where(base), what = "values.yaml" } }
  end
  if vf and vf ~= "" and vf ~= base then
    if not lib:has(vf) then
      local by = prov and prov.refs and prov.refs.valuesFile
      errors.raise("notfound", string.format("values file %q of component %q not found in the recipe library%s",
        vf, name, by and (" (valuesFile set by " .. require("eidos.recipe.merge").src_text(by) .. ")") or ""))
    end
    local by = prov and prov.refs and prov.refs.valuesFile
    out[#out + 1] = { values = values_file(lib, vf, "values file"),
      src = { file = lib:where(vf), overlay = by and by.overlay, what = "valuesFile" } }
  end
  if has_ov then
    out[#out + 1] = { values = ov, src = { what = "overrides" }, per_key = prov and prov.overrides }
  end
  return out
end

-- the layers deep-merged in order (a new table)
local function merged(ls)
  local vals = {}
  for _, l in ipairs(ls) do vals[#vals + 1] = l.values end
  if #vals == 0 then return {} end
  return cmerge.deep({}, table.unpack(vals))
end

-- component_values(lib, ref) -> hydrated values (a new table)
function M.component_values(lib, ref, prov)
  return merged(M.layers(lib, ref, prov))
end

M.COMPONENT_ORDER = { "name", "type", "source", "namespace", "chart", "version", "tag", "path", "dependencyRefs",
                      "manifestFiles", "values" }
M.ORDER = { "kind", "apiVersion", "metadata", "criteria", "constraints", "components", "deploymentOrder" }

-- hydrate(result, lib, info) -> the query document: the recipe with
-- components keyed by name and their values merged
function M.hydrate(result, lib, info)
  local comps = {}
  local provs = info and info.state and info.state.prov
  for _, ref in ipairs(result.componentRefs or {}) do
    local prov = provs and { refs = provs.refs[ref.name], overrides = provs.overrides[ref.name] }
    local c = { name = ref.name, type = ref.type or "", source = ref.source or "" }
    for _, f in ipairs({ "namespace", "chart", "version", "tag", "path" }) do
      if ref[f] and ref[f] ~= "" then c[f] = ref[f] end
    end
    if ref.dependencyRefs and #ref.dependencyRefs > 0 then c.dependencyRefs = doc.list(cmerge.copy(ref.dependencyRefs)) end
    if ref.manifestFiles and #ref.manifestFiles > 0 then c.manifestFiles = doc.list(cmerge.copy(ref.manifestFiles)) end
    local v = M.component_values(lib, ref, prov)
    if next(v) ~= nil then c.values = v end
    comps[ref.name] = doc.ordered(c, M.COMPONENT_ORDER)
  end
  local meta = result.metadata or {}
  local m = {
    version = meta.version,
    appliedOverlays = doc.list(cmerge.copy(meta.appliedOverlays or {})),
    excludedOverlays = doc.list(cmerge.copy(meta.excludedOverlays or {})),
    constraintWarnings = doc.list(cmerge.copy(meta.constraintWarnings or {})),
    warnings = doc.list(cmerge.copy(meta.warnings or {})),
  }
  local crit = {}
  for k, v in pairs(result.criteria or {}) do crit[k] = v end
  crit.nodes = crit.nodes or 0
  local d = {
    kind = result.kind, apiVersion = result.apiVersion,
    metadata = doc.ordered(m, getmetatable(meta) and getmetatable(meta).__order or {}),
    criteria = doc.ordered(crit, getmetatable(result.criteria) and getmetatable(result.criteria).__order or {}),
    components = comps,
    deploymentOrder = doc.list(cmerge.copy(result.deploymentOrder or {})),
  }
  if result.constraints and #result.constraints > 0 then d.constraints = cmerge.copy(result.constraints) end
  return doc.ordered(d, M.ORDER)
end

local function keys_of(t)
  if doc.islist(t) then
    local out = {}
    for i = 1, #t do out[i] = tostring(i - 1) end
    return out
  end
  return doc.keys(t)
end

-- select(d, selector) -> value | raises notfound listing the keys available.
-- Rules: one leading "." is dropped; "" selects the whole document; the
-- path is split on "."; maps are walked by key (a key that itself holds
-- dots, like nvidia.com/gpu, is found by joining segments); lists by
-- 0-based index.
function M.select(d, selector)
  local s = selector or ""
  if s:sub(1, 1) == "." then s = s:sub(2) end
  if s == "" then return d end
  local parts = {}
  for p in (s .. "."):gmatch("([^.]*)%.") do parts[#parts + 1] = p end
  local cur = d
  local i = 1
  local walked = {}
  while i <= #parts do
    if type(cur) ~= "table" or cur == null then
      errors.raise("notfound", string.format("selector %q: %s is a value, not a map; it has no key %q",
        selector, #walked > 0 and table.concat(walked, ".") or "the document", parts[i]))
    end
    local found, used
    if doc.islist(cur) then
      local n = math.tointeger(tonumber(parts[i]))
      if n and n >= 0 and cur[n + 1] ~= nil then found, used = cur[n + 1], 1 end
    else
      -- a key may hold dots: join segments, but never past the longest key
      -- of this map (else a selector of n segments costs n^2)
      local longest = 0
      for key in pairs(cur) do
        if type(key) == "string" and #key > longest then longest = #key end
      end
      local k = parts[i]
      local j = i
      while #k <= longest do
        if cur[k] ~= nil then found, used = cur[k], j - i + 1; break end
        j = j + 1
        if j > #parts then break end
        k = k .. "." .. parts[j]
      end
    end
    if found == nil then
      local ks = keys_of(cur)
      errors.raise("notfound", string.format("selector %q: key %q not found at %s; available keys: %s", selector,
        parts[i], #walked > 0 and table.concat(walked, ".") or "the top level",
        #ks > 0 and table.concat(ks, ", ") or "(none)"))
    end
    walked[#walked + 1] = table.concat(parts, ".", i, i + used - 1)
    cur = found
    i = i + used
  end
  return cur
end

-- leaf paths of a values tree: list of {path=, value=} in natural key order;
-- keys with dots are written ["a.b"]
local function seg(k)
  if k:find("[%.%[%]\"]") then return '["' .. k .. '"]' end
  return k
end
M.seg = seg

local function join(prefix, k)
  local s = seg(k)
  if prefix == "" then return s end
  if s:sub(1, 1) == "[" then return prefix .. s end
  return prefix .. "." .. s
end

function M.leaves(t, prefix, out)
  out = out or {}
  prefix = prefix or ""
  if type(t) == "table" and t ~= null and not doc.islist(t) and next(t) ~= nil then
    for _, k in ipairs(doc.keys(t)) do M.leaves(t[k], join(prefix, k), out) end
  else
    out[#out + 1] = { path = prefix, value = t }
  end
  return out
end

-- value provenance: for each leaf of the merged values, the layer that set
-- it (the last layer where the path exists)
local function has_path(t, keys)
  local cur = t
  for _, k in ipairs(keys) do
    if type(cur) ~= "table" or cur == null or doc.islist(cur) then return false end
    cur = cur[k]
    if cur == nil then return false end
  end
  return true
end

local function walk_keys(t, keys, out)
  out = out or {}
  if type(t) == "table" and t ~= null and not doc.islist(t) and next(t) ~= nil then
    for _, k in ipairs(doc.keys(t)) do
      local ks = { table.unpack(keys) }
      ks[#ks + 1] = k
      walk_keys(t[k], ks, out)
    end
  else
    out[#out + 1] = { keys = keys, value = t }
  end
  return out
end

-- explain_values(lib, ref, prov) -> list of {path, value, src}
function M.explain_values(lib, ref, prov)
  local ls = M.layers(lib, ref, prov)
  if #ls == 0 then return {} end
  local out = {}
  for _, leaf in ipairs(walk_keys(merged(ls), {})) do
    local src
    for i = #ls, 1, -1 do
      if has_path(ls[i].values, leaf.keys) then
        src = ls[i].src
        if ls[i].per_key and leaf.keys[1] then
          local from = ls[i].per_key[leaf.keys[1]]
          src = { what = "overrides", overlay = from and from.overlay, file = from and from.file }
        end
        break
      end
    end
    local path = ""
    for _, k in ipairs(leaf.keys) do path = join(path, k) end
    out[#out + 1] = { path = path, value = leaf.value, src = src }
  end
  return out
end

return M
