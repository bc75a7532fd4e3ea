-- eidos.recipe.criteria: what a recipe query is and how it matches overlays.
-- The values and aliases come from data/criteria.yaml (editable); this file
-- holds the rules:
--   * normalising: values are trimmed and lower-cased, aliases map to a
--     canonical value or to `any`; "" and `any` mean "not specified";
--   * explicit intent (match): an overlay field that is empty or `any`
--     matches every query value; a query field that is `any` matches only
--     overlay fields that are empty or `any` -- a generic query never pulls
--     in a specialised overlay. nodes: overlay 0 matches any query; an
--     overlay count matches only that exact query count;
--   * specificity: the number of fields that are not any-like (plus one for
--     nodes), "" counted like `any`;
--   * reading a RecipeCriteria document, and deriving criteria from a
--     snapshot by the rules in data/criteria.yaml.
local errors = require("eidos.errors")
local strx = require("eidos.text")

local M = {}

M.FIELDS = { "service", "accelerator", "intent", "os", "platform" }
-- input names of the fields, for the CLI's flags and the API's parameters
-- alike: the value of an alias counts as its field's
M.FIELD_ALIASES = { { alias = "gpu", field = "accelerator" } }
M.CRITERIA_KINDS = { "RecipeCriteria", "recipeCriteria" }
M.API_VERSIONS = {}
for i, g in ipairs(require("eidos.apiversion").GROUPS) do M.API_VERSIONS[i] = g .. "/v1alpha1" end

local catalog

-- catalog() -> the parsed data/criteria.yaml (cached): {fields = {name ->
-- {values=, aliases=, canon={lower -> canonical}}}, snapshot = {...}}
function M.catalog()
  if catalog then return catalog end
  local res = require("eidos.core.res")
  local doc = require("eidos.doc")
  local text, origin, code = res.read_code("data/criteria.yaml", "document")
  if not text then errors.raise("internal", "data/criteria.yaml is missing: " .. tostring(origin)) end
  local d = doc.decode(text, origin, nil, code)
  local fields = {}
  for _, f in ipairs(M.FIELDS) do
    local spec = type(d.fields) == "table" and d.fields[f]
    if type(spec) ~= "table" or type(spec.values) ~= "table" then
      errors.raise("internal", string.format("%s: fields.%s.values is missing", origin, f))
    end
    local canon = { any = "any", [""] = "any" }
    local values = {}
    for i, v in ipairs(spec.values) do
      values[i] = tostring(v)
      canon[tostring(v):lower()] = tostring(v)
    end
    local aliases = {}
    if type(spec.aliases) == "table" then
      for k, v in pairs(spec.aliases) do
        canon[tostring(k):lower()] = tostring(v)
        aliases[#aliases + 1] = tostring(k)
      end
    end
    table.sort(aliases)
    fields[f] = { values = values, aliases = aliases, alias_to = spec.aliases or {}, canon = canon }
  end
  catalog = { fields = fields, snapshot = type(d.snapshot) == "table" and d.snapshot or {},
              tables = type(d.tables) == "table" and d.tables or {}, origin = origin }
  return catalog
end

-- accepted(field) -> "eks, gke, ... (aliases: a -> b, ...)"
function M.accepted(field) return require("eidos.recipe.criteria_io").accepted(field) end

-- normalize(field, value) -> canonical value or "any" | nil, message
function M.normalize(field, value)
  local f = M.catalog().fields[field]
  if not f then return nil, string.format("unknown criteria field %s (accepted: %s, nodes)", require("eidos.errors").show(field), table.concat(M.FIELDS, ", ")) end
  if value == nil or value == require("eidos.doc").null then return "any" end
  if type(value) == "table" then
    return nil, string.format("invalid %s: a %s, not a single value (accepted: %s)", field,
      require("eidos.doc").islist(value) and "list" or "map", M.accepted(field))
  end
  if type(value) ~= "string" then value = tostring(value) end
  local v = f.canon[value]
  if v then return v end
  v = f.canon[strx.trim(value:lower())]
  if not v then
    local words = {}
    for _, x in ipairs(f.values) do words[#words + 1] = x end
    for _, x in ipairs(f.aliases) do words[#words + 1] = x end
    local h = require("eidos.nearest").hint(value, words)
    return nil, string.format("invalid %s %q (accepted: %s)%s", field, value, M.accepted(field),
      h ~= "" and ("; " .. h) or "")
  end
  return v
end

-- enum(field) -> values, aliases: functions for the flag model (eidos.cli.flags)
-- that read the catalog when help or completion asks
function M.enum(field)
  return function() return M.catalog().fields[field].values end,
         function() return M.catalog().fields[field].alias_to end
end

-- fold_aliases(t, show, bad) -> t: each alias field (gpu) folded into its
-- field (accelerator). Both given: they must name the same value (after
-- normalising), else an "invalid" error (added to the problems collector
-- bad when given); show(name) writes a field's name as the user wrote it
-- (--gpu on the command line, gpu in a query).
function M.fold_aliases(t, show, bad)
  show = show or function(n) return n end
  for _, a in ipairs(M.FIELD_ALIASES) do
    local av, fv = t[a.alias], t[a.field]
    if av ~= nil then
      if fv ~= nil and fv ~= av then
        local na, nf = M.normalize(a.field, av), M.normalize(a.field, fv)
        if not na or na ~= nf then
          local msg = string.format("%s %q and %s %q disagree (%s is an alias of %s; give one)",
            show(a.field), tostring(fv), show(a.alias), tostring(av), show(a.alias), show(a.field))
          if not bad then errors.raise("invalid", msg, { field = a.alias }) end
          bad:add(a.alias, msg, { field = a.alias })
        end
      end
      t[a.field], t[a.alias] = fv ~= nil and fv or av, nil
    end
  end
  return t
end

-- nodes(value) -> integer >= 0 | nil, message
function M.nodes(value)
  if value == nil or value == require("eidos.doc").null or value == "" then return 0 end
  local n
  -- text must be plain decimal digits: no "1e3", "0x10", "+5" or " 8"
  if type(value) == "number" or (type(value) == "string" and value:match("^%d+$")) then
    n = math.tointeger(tonumber(value))
  end
  if not n or n < 0 then
    local shown = type(value) == "string" and string.format("%q", value) or require("eidos.errors").show(value)
    return nil, string.format("invalid nodes %s (accepted: an integer >= 0; 0 means any)", shown)
  end
  return n
end

-- new(t) -> validated criteria {service, accelerator, intent, os, platform,
-- nodes}; raises one "invalid" error naming every bad value and what is
-- accepted. `where` (optional) prefixes messages (e.g. the criteria file).
function M.new(t, where)
  t = t or {}
  local c = { nodes = 0 }
  local bad = errors.problems(where)
  for _, f in ipairs(M.FIELDS) do
    local v, msg = M.normalize(f, t[f])
    if v then c[f] = v else bad:add(f, msg, { field = f }) end
  end
  local n, msg = M.nodes(t.nodes)
  if n then c.nodes = n else bad:add("nodes", msg, { field = "nodes" }) end
  bad:raise("invalid")
  return c
end

-- empty(c) -> true when nothing is specified
function M.empty(c)
  for _, f in ipairs(M.FIELDS) do if c[f] ~= "any" then return false end end
  return (c.nodes or 0) == 0
end

-- string(c) -> "service=eks, accelerator=gb200" or "any"
function M.string(c)
  local parts = {}
  for _, f in ipairs(M.FIELDS) do
    if c[f] and c[f] ~= "any" then parts[#parts + 1] = f .. "=" .. c[f] end
  end
  if (c.nodes or 0) > 0 then parts[#parts + 1] = "nodes=" .. c.nodes end
  return #parts > 0 and table.concat(parts, ", ") or "any"
end

-- overlay(raw) -> the criteria of an overlay as written, normalised where
-- the catalog knows the value (unknown values stay lower-cased, so they
-- match no valid query; lint reports them). nil when raw is not a map.
local null = require("eidos.doc").null
function M.overlay(raw)
  if type(raw) ~= "table" then return nil end
  local fields = (catalog or M.catalog()).fields
  local c = {}
  for _, f in ipairs(M.FIELDS) do
    local v = raw[f]
    if v == nil or v == null then c[f] = "any"
    else
      local canon = fields[f].canon
      local n = canon[v]
      if not n then
        local l = strx.trim(tostring(v):lower())
        n = canon[l] or l
      end
      c[f] = n
    end
  end
  local n = raw.nodes
  c.nodes = type(n) == "number" and math.tointeger(n) or math.tointeger(tonumber(n)) or 0
  return c
end

local function anylike(v) return v == nil or v == "" or v == "any" end

-- match(overlay_criteria, query) -> boolean (the explicit-intent rule)
function M.match(o, q)
  if not o then return false end
  for _, f in ipairs(M.FIELDS) do
    local ov = o[f]
    if not anylike(ov) then
      local qv = q[f]
      if anylike(qv) or qv ~= ov then return false end
    end
  end
  local on, qn = o.nodes or 0, q.nodes or 0
  if on ~= 0 and on ~= qn then return false end
  return true
end

-- specificity(c) -> number of specified fields (nodes counts one)
function M.specificity(c)
  if not c then return 0 end
  local n = 0
  for _, f in ipairs(M.FIELDS) do if not anylike(c[f]) then n = n + 1 end end
  if (c.nodes or 0) ~= 0 then n = n + 1 end
  return n
end

-- from_doc(d, where) -> raw criteria of a RecipeCriteria document;
-- from_snapshot(model) -> raw criteria derived from a snapshot, and where
-- each value came from (eidos.recipe.criteria_io)
function M.from_doc(d, where) return require("eidos.recipe.criteria_io").from_doc(d, where) end
function M.from_snapshot(m) return require("eidos.recipe.criteria_io").from_snapshot(m) end

return M
