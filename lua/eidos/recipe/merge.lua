-- eidos.recipe.merge: how overlays combine into one recipe, with the source
-- of every field recorded (for --explain). Rules:
--   * componentRefs by name: a string field overwrites only when the overlay
--     gives a non-empty value; `overrides` merge by top-level key (an
--     overlay's key replaces that key's whole subtree -- values are deep-
--     merged later, at hydration); patches, dependencyRefs and
--     expectedResources are replaced by a non-empty list; manifestFiles are
--     appended without duplicates, order kept; cleanup: true wins;
--   * constraints by name, the later overlay's entry replaces the whole entry;
--   * validation: each phase an overlay gives replaces that phase;
--   * registry defaults (type, then source/version/namespace/chart for Helm,
--     source/tag/path for Kustomize) fill what the overlays leave empty;
--   * deploymentOrder: Kahn's algorithm over dependencyRefs, the ready set
--     taken in alphabetical order; an unknown dependency or a cycle is an
--     error naming the components and the overlays that set them.
-- Overlay data is never mutated: everything stored is a copy.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local copy = require("eidos.core.merge").copy

local M = {}

-- the fields of a component ref and of a constraint, in document order
-- (eidos.recipe.schema)
M.REF_ORDER = require("eidos.recipe.schema").COMPONENT_REF
M.SCALARS = { "namespace", "chart", "type", "source", "version", "tag", "valuesFile", "path", "healthCheckAsserts" }
M.LISTS = { "patches", "dependencyRefs", "expectedResources" }
M.CONSTRAINT_ORDER = require("eidos.recipe.schema").CONSTRAINT
M.PHASES = { "readiness", "deployment", "performance", "conformance" }

local null = doc.null

local function empty(v)
  return v == nil or v == null or v == "" or (type(v) == "table" and next(v) == nil)
end
M.empty = empty

-- str(v) -> v as text (numbers as YAML would print them)
local function str(v)
  if type(v) == "string" then return v end
  if math.type(v) == "integer" then return string.format("%d", v) end
  if type(v) == "number" then
    for p = 1, 17 do
      local s = string.format("%." .. p .. "g", v)
      if tonumber(s) == v then return s end
    end
  end
  return tostring(v)
end
M.str = str

-- new() -> an empty merge state
function M.new()
  return {
    refs = {}, constraints = {}, validation = nil, applied = {},
    prov = { refs = {}, overrides = {}, manifests = {}, constraints = {}, validation = {} },
  }
end

local function islist(v) return type(v) == "table" and doc.islist(v) end
local function ismap(v) return type(v) == "table" and v ~= null and not doc.islist(v) end

-- merge one componentRef of an overlay into the state
local function merge_ref(st, r, from)
  local name = r.name
  local dst = st.refs[name]
  local pf = st.prov.refs[name]
  if not dst then
    dst = { name = name }
    st.refs[name] = dst
    pf = { name = from }
    st.prov.refs[name] = pf
    st.prov.overrides[name] = {}
    st.prov.manifests[name] = {}
  end
  for _, f in ipairs(M.SCALARS) do
    local v = r[f]
    if v ~= nil and v ~= null and v ~= "" and type(v) ~= "table" then
      dst[f] = str(v)
      pf[f] = from
    end
  end
  if ismap(r.overrides) and next(r.overrides) ~= nil then
    dst.overrides = dst.overrides or {}
    local po = st.prov.overrides[name]
    for k, v in pairs(r.overrides) do
      dst.overrides[k] = copy(v)
      po[k] = from
    end
    pf.overrides = from
  end
  for _, f in ipairs(M.LISTS) do
    local v = r[f]
    if islist(v) and #v > 0 then
      dst[f] = doc.list(copy(v))
      pf[f] = from
    end
  end
  if islist(r.manifestFiles) then
    local have = {}
    dst.manifestFiles = dst.manifestFiles or doc.list({})
    for _, m in ipairs(dst.manifestFiles) do have[m] = true end
    local pm = st.prov.manifests[name]
    for _, m in ipairs(r.manifestFiles) do
      m = str(m)
      if not have[m] then
        have[m] = true
        dst.manifestFiles[#dst.manifestFiles + 1] = m
        pm[m] = from
      end
    end
    if #dst.manifestFiles > 0 then pf.manifestFiles = pf.manifestFiles or from else dst.manifestFiles = nil end
  end
  if r.cleanup == true then
    dst.cleanup = true
    pf.cleanup = from
  end
end

-- apply(st, spec, from): merge one overlay's spec (from = {overlay=, file=})
function M.apply(st, spec, from)
  for _, c in ipairs(spec.constraints) do
    st.constraints[c.name] = copy(c)
    st.prov.constraints[c.name] = from
  end
  for _, r in ipairs(spec.componentRefs) do merge_ref(st, r, from) end
  if spec.validation then
    st.validation = st.validation or {}
    for k, v in pairs(spec.validation) do
      if v ~= null then
        st.validation[k] = copy(v)
        st.prov.validation[k] = from
      end
    end
  end
  st.applied[#st.applied + 1] = from.overlay
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  return ks
end
M.sorted_keys = sorted_keys

local function src_text(from)
  if not from then return "?" end
  if from.overlay then return string.format("overlay %q (%s)", from.overlay, from.file) end
  return from.file or "?"
end
M.src_text = src_text

-- order(st) -> deploymentOrder list; raises on unknown dependencies and cycles
function M.order(st)
  local names = sorted_keys(st.refs)
  local deps = {}
  for _, n in ipairs(names) do
    local d, seen = {}, {}
    for _, x in ipairs(st.refs[n].dependencyRefs or {}) do
      x = str(x)
      if not st.refs[x] then
        errors.raise("invalid", string.format("component %q depends on %q, which is not in the recipe " ..
          "(dependencyRefs set by %s)", n, x, src_text(st.prov.refs[n].dependencyRefs)))
      end
      if not seen[x] then seen[x] = true; d[#d + 1] = x end
    end
    deps[n] = d
  end
  -- cycles: depth-first, in name order, so the reported cycle is stable
  local state, stack = {}, {}
  local function visit(n)
    state[n] = 1
    stack[#stack + 1] = n
    for _, x in ipairs(deps[n]) do
      if state[x] == 1 then
        local cyc, on = {}, false
        for _, s in ipairs(stack) do
          if s == x then on = true end
          if on then cyc[#cyc + 1] = s end
        end
        cyc[#cyc + 1] = x
        local srcs = {}
        for i = 1, #cyc - 1 do
          srcs[#srcs + 1] = string.format("%s by %s", cyc[i], src_text(st.prov.refs[cyc[i]].dependencyRefs))
        end
        errors.raise("invalid", string.format("circular dependency between components: %s (dependencyRefs of %s)",
          table.concat(cyc, " -> "), table.concat(srcs, "; ")))
      elseif not state[x] then
        visit(x)
      end
    end
    stack[#stack] = nil
    state[n] = 2
  end
  for _, n in ipairs(names) do if not state[n] then visit(n) end end
  -- Kahn, ready set in alphabetical order
  local indeg, dependents = {}, {}
  for _, n in ipairs(names) do indeg[n] = #deps[n]; dependents[n] = {} end
  for _, n in ipairs(names) do
    for _, x in ipairs(deps[n]) do table.insert(dependents[x], n) end
  end
  local ready = {}
  for _, n in ipairs(names) do if indeg[n] == 0 then ready[#ready + 1] = n end end
  local out = doc.list({})
  while #ready > 0 do
    local n = table.remove(ready, 1)
    out[#out + 1] = n
    local added = false
    for _, m in ipairs(dependents[n]) do
      indeg[m] = indeg[m] - 1
      if indeg[m] == 0 then ready[#ready + 1] = m; added = true end
    end
    if added then table.sort(ready) end
  end
  return out
end

-- defaults(st, registry): fill empty fields from the registry
function M.defaults(st, reg)
  for _, n in ipairs(sorted_keys(st.refs)) do
    local ref, e = st.refs[n], reg.byname[n]
    if e then
      local from = { registry = n, file = reg.where[n] }
      local pf = st.prov.refs[n]
      local helm = ismap(e.helm) and e.helm or {}
      local kz = ismap(e.kustomize) and e.kustomize or {}
      local function fill(f, v)
        if empty(ref[f]) and not empty(v) and type(v) ~= "table" then
          ref[f] = str(v)
          pf[f] = from
        end
      end
      fill("type", not empty(kz.defaultSource) and "Kustomize" or "Helm")
      if ref.type == "Kustomize" then
        fill("source", kz.defaultSource)
        fill("tag", kz.defaultTag)
        fill("path", kz.defaultPath)
      else
        fill("source", helm.defaultRepository)
        fill("version", helm.defaultVersion)
        fill("namespace", helm.defaultNamespace)
        if type(helm.defaultChart) == "string" then fill("chart", helm.defaultChart:match("([^/]*)$")) end
      end
    end
  end
end

local function ordered_constraint(c)
  local o = {}
  for _, f in ipairs(M.CONSTRAINT_ORDER) do
    local v = c[f]
    if not empty(v) then o[f] = type(v) == "table" and copy(v) or str(v) end
  end
  return doc.ordered(o, M.CONSTRAINT_ORDER)
end
M.ordered_constraint = ordered_constraint

local EXPECTED_ORDER = { "kind", "name", "namespace" }

-- ref_doc(ref) -> the componentRef in output order (empty fields left out;
-- type and source always present, as upstream prints them)
function M.ref_doc(ref)
  local o = { name = ref.name, type = ref.type or "", source = ref.source or "" }
  for _, f in ipairs(M.REF_ORDER) do
    local v = ref[f]
    if o[f] == nil and not empty(v) then
      if f == "expectedResources" then
        local l = doc.list({})
        for i, x in ipairs(v) do l[i] = type(x) == "table" and doc.ordered(copy(x), EXPECTED_ORDER) or x end
        o[f] = l
      elseif type(v) == "table" then
        o[f] = copy(v)
      else
        o[f] = v
      end
    end
  end
  return doc.ordered(o, M.REF_ORDER)
end

local PHASE_ORDER = { "timeout", "constraints", "checks", "nodeSelection", "infrastructure" }
local NODESEL_ORDER = { "selector", "maxNodes", "excludeNodes" }

-- validation_doc(v) -> validation phases in output order, or nil
function M.validation_doc(v)
  if not v or next(v) == nil then return nil end
  local o = {}
  for k, p in pairs(v) do
    if ismap(p) then
      local q = copy(p)
      if islist(q.constraints) then
        for i, c in ipairs(q.constraints) do
          if type(c) == "table" then q.constraints[i] = ordered_constraint(c) end
        end
      end
      if ismap(q.nodeSelection) then q.nodeSelection = doc.ordered(q.nodeSelection, NODESEL_ORDER) end
      o[k] = doc.ordered(q, PHASE_ORDER)
    else
      o[k] = copy(p)
    end
  end
  return doc.ordered(o, M.PHASES)
end

return M
