-- eidos.recipe.explain: why each part of a recipe is there. For the applied
-- overlays (matched, or pulled in as an ancestor), every constraint, every
-- field of every componentRef (overlay, or registry default) and every leaf
-- of its hydrated values (values.yaml, the ref's valuesFile and the overlay
-- that chose it, or the overlay whose overrides set it), the source: overlay
-- name and file. Output: a RecipeExplanation document, or a table.
local doc = require("eidos.doc")
local merge = require("eidos.recipe.merge")
local hydrate = require("eidos.recipe.hydrate")
local crit = require("eidos.recipe.criteria")

local M = {}

M.KIND = "RecipeExplanation"
local ORDER = { "kind", "apiVersion", "criteria", "overlays", "excludedOverlays", "constraints", "components" }
local OVL_ORDER = { "name", "file", "reason" }
local SRC_ORDER = { "name", "field", "path", "value", "via", "overlay", "file" }
local COMP_ORDER = { "name", "fields", "values" }

local function source(from, o)
  if not from then return o end
  if from.registry then
    o.via = "registry"
    o.file = from.file
  else
    o.via = o.via or "overlay"
    o.overlay = from.overlay
    o.file = from.file
  end
  return o
end

local function value_of(v)
  if type(v) == "table" then return require("eidos.core.merge").copy(v) end
  return v
end

-- explain(result, lib, info) -> RecipeExplanation document
function M.explain(result, lib, info)
  local st = info.state
  local prov = st.prov
  local matched = {}
  for _, e in ipairs(info.matched) do matched[e.name] = true end
  local child_of = {}
  for _, e in ipairs(info.matched) do
    for _, a in ipairs(lib:chain(e.name)) do
      if a.name ~= e.name and not child_of[a.name] then child_of[a.name] = e.name end
    end
  end
  local overlays = doc.list({})
  for _, n in ipairs(st.applied) do
    local e = lib:find(n)
    local reason
    if n == "base" then reason = "the root of every recipe"
    elseif matched[n] then reason = "criteria match (" .. crit.string(e.criteria) .. ")"
    else reason = "ancestor (spec.base) of " .. tostring(child_of[n]) end
    overlays[#overlays + 1] = doc.ordered({ name = n, file = e and e.where, reason = reason }, OVL_ORDER)
  end
  local cons = doc.list({})
  for _, c in ipairs(result.constraints or {}) do
    cons[#cons + 1] = doc.ordered(source(prov.constraints[c.name], { name = c.name, value = c.value }), SRC_ORDER)
  end
  local comps = doc.list({})
  for _, ref in ipairs(result.componentRefs or {}) do
    local pf = prov.refs[ref.name] or {}
    local fields = doc.list({})
    for _, f in ipairs(merge.REF_ORDER) do
      local v = ref[f]
      if f == "overrides" and type(v) == "table" then
        for _, k in ipairs(doc.keys(v)) do
          local from = prov.overrides[ref.name] and prov.overrides[ref.name][k]
          fields[#fields + 1] = doc.ordered(source(from, { field = "overrides." .. hydrate.seg(k), value = value_of(v[k]) }),
            SRC_ORDER)
        end
      elseif f == "manifestFiles" and type(v) == "table" then
        for i, m in ipairs(v) do
          local from = prov.manifests[ref.name] and prov.manifests[ref.name][m]
          fields[#fields + 1] = doc.ordered(source(from, { field = "manifestFiles[" .. (i - 1) .. "]", value = m }), SRC_ORDER)
        end
      elseif v ~= nil and not (f ~= "type" and f ~= "source" and merge.empty(v)) then
        local o = { field = f, value = value_of(v) }
        if pf[f] then source(pf[f], o) elseif f == "source" or f == "type" then o.via = "default (empty)" end
        fields[#fields + 1] = doc.ordered(o, SRC_ORDER)
      end
    end
    local vals = doc.list({})
    for _, l in ipairs(hydrate.explain_values(lib, ref, { refs = pf, overrides = prov.overrides[ref.name] })) do
      local s = l.src or {}
      local o = { path = l.path, value = value_of(l.value), via = s.what, overlay = s.overlay, file = s.file }
      vals[#vals + 1] = doc.ordered(o, SRC_ORDER)
    end
    local c = { name = ref.name, fields = fields }
    if #vals > 0 then c.values = vals end
    comps[#comps + 1] = doc.ordered(c, COMP_ORDER)
  end
  local d = {
    kind = M.KIND, apiVersion = result.apiVersion, criteria = result.criteria,
    overlays = overlays, constraints = cons, components = comps,
  }
  if result.metadata and result.metadata.excludedOverlays then
    d.excludedOverlays = result.metadata.excludedOverlays
  end
  return doc.ordered(d, ORDER)
end

local function show(v)
  local s
  if type(v) == "table" then
    local ok, j = pcall(require("eidos.core.emit").json, v)
    s = ok and j and j:gsub("%s*\n%s*", " ") or "{...}"
  elseif v == doc.null then s = "null"
  else s = tostring(v) end
  return s
end
M.show = show

-- from_text(o) -> "via overlay file": where a field or value was set
local function from_text(o)
  local parts = {}
  if o.via then parts[#parts + 1] = o.via end
  if o.overlay then parts[#parts + 1] = o.overlay end
  if o.file then parts[#parts + 1] = o.file end
  return table.concat(parts, " ")
end
M.from_text = from_text

-- table(d) -> text: one line per explained item (eidos.columns: fitted
-- to the width, file paths elided in the middle, reasons wrapped)
function M.table(d)
  local columns = require("eidos.columns")
  local b = {}
  b[#b + 1] = columns.text("criteria: " .. crit.string(d.criteria))
  local rows = { { "OVERLAY", "WHY", "FILE" } }
  for _, o in ipairs(d.overlays) do rows[#rows + 1] = { o.name, o.reason, o.file or "" } end
  b[#b + 1] = columns.render(rows, { wrap = { [2] = true }, middle = { [3] = true } })
  if d.excludedOverlays and #d.excludedOverlays > 0 then
    b[#b + 1] = columns.text("excluded: " .. table.concat(d.excludedOverlays, ", "))
  end
  rows = { { "CONSTRAINT", "VALUE", "FROM" } }
  for _, c in ipairs(d.constraints) do rows[#rows + 1] = { c.name, show(c.value), from_text(c) } end
  b[#b + 1] = columns.render(rows, { middle = { [3] = true } })
  -- one section per component; an overlay's file is in the table above
  local function from(o) return o.via == "overlay" and ("overlay " .. tostring(o.overlay)) or from_text(o) end
  for _, c in ipairs(d.components) do
    rows = { { "FIELD / VALUE PATH", "VALUE", "FROM" } }
    for _, f in ipairs(c.fields) do rows[#rows + 1] = { f.field, show(f.value), from(f) } end
    for _, v in ipairs(c.values or {}) do rows[#rows + 1] = { "values." .. v.path, show(v.value), from(v) } end
    b[#b + 1] = "component " .. c.name .. "\n" .. columns.render(rows, { indent = "  ", middle = { [3] = true }, min = { 48 } })
  end
  return table.concat(b, "\n")
end

return M
