-- eidos.recipe.criteria_io: criteria from outside -- RecipeCriteria
-- documents (--criteria, the API body) and snapshots (--snapshot, by the
-- rules in data/criteria.yaml) -- and the accepted-values text of error
-- messages. The matching rules are in eidos.recipe.criteria.
local errors = require("eidos.errors")
local crit = require("eidos.recipe.criteria")

local M = {}

-- accepted(field) -> "eks, gke, ... (aliases: a -> b, ...)"
function M.accepted(field)
  local f = crit.catalog().fields[field]
  local s = table.concat(f.values, ", ") .. ", any"
  if #f.aliases > 0 then
    local parts = {}
    for _, a in ipairs(f.aliases) do parts[#parts + 1] = a .. " -> " .. tostring(f.alias_to[a]) end
    s = s .. "; aliases: " .. table.concat(parts, ", ")
  end
  return s
end

local function contains(list, v)
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end

-- from_doc(d, where) -> raw criteria table (not yet validated) from a
-- RecipeCriteria document: {kind?, apiVersion?, metadata?, spec: {...}};
-- raises one "invalid" error naming every problem of its shape
function M.from_doc(d, where)
  where = where or "criteria"
  local doc = require("eidos.doc")
  if type(d) ~= "table" or doc.islist(d) then
    errors.raise("invalid", string.format("%s: expected a RecipeCriteria document (kind, apiVersion, spec), got %s",
      where, errors.show(d)))
  end
  local bad = errors.problems(where)
  if d.kind ~= nil and not contains(crit.CRITERIA_KINDS, d.kind) then
    bad:add("kind", string.format("kind %s is not a criteria document (accepted: %s)",
      errors.show(d.kind), table.concat(crit.CRITERIA_KINDS, ", ")))
  end
  local apiv = require("eidos.apiversion").problem(d.apiVersion)
  if apiv then bad:add("apiVersion", apiv) end
  local spec = d.spec
  if spec == nil or spec == doc.null then spec = {} end
  if type(spec) ~= "table" then
    bad:add("spec", string.format("spec must be a map of criteria fields (%s, nodes)", table.concat(crit.FIELDS, ", ")))
    spec = {}
  end
  local known = { nodes = true }
  for _, f in ipairs(crit.FIELDS) do known[f] = true end
  local unknown = {}
  for k in pairs(spec) do if not known[k] then unknown[#unknown + 1] = tostring(k) end end
  if #unknown > 0 then
    table.sort(unknown)
    bad:add("spec", string.format("unknown criteria field(s) %s (accepted: %s, nodes)",
      table.concat(unknown, ", "), table.concat(crit.FIELDS, ", ")))
  end
  bad:raise("invalid")
  local out = {}
  for k, v in pairs(spec) do out[k] = v end
  return out
end

-- candidates(model, rule) -> list of {path, value} the rule reads, in order
local function candidates(model, r)
  local sm = require("eidos.snapshot.model")
  local out = {}
  if type(r.suffix) == "string" and type(r.path) == "string" then
    local tname, sub = r.path:match("^([^.]+)%.(.+)$")
    local t = tname and model.types[tname:lower()]
    local data = t and t.subtypes[sub]
    if type(data) == "table" then
      local keys = {}
      for k in pairs(data) do
        if type(k) == "string" and #k > #r.suffix and k:sub(-#r.suffix) == r.suffix then keys[#keys + 1] = k end
      end
      table.sort(keys, function(a, b) return require("eidos.core.emit").natcmp(a, b) < 0 end)
      for _, k in ipairs(keys) do
        local v = sm.scalar(data[k])
        if v then out[#out + 1] = { path = r.path .. "." .. k, value = v } end
      end
    end
    return out
  end
  local paths = type(r.paths) == "table" and r.paths or { r.path }
  for _, p in ipairs(paths) do
    local v = type(p) == "string" and sm.lookup(model, p)
    if v then out[#out + 1] = { path = p, value = v } end
  end
  return out
end

-- test(field, rule, tables, actual) -> value decided by the rule, or nil
local function test(f, r, tables, actual)
  if r.parse then return (crit.normalize(f, actual)) end
  local entries = r.match and tables[r.match] or { r }
  if type(entries) ~= "table" then
    errors.raise("internal", string.format("data/criteria.yaml: snapshot rule for %s names match table %q, which " ..
      "is not under tables", f, tostring(r.match)))
  end
  local low = actual:lower()
  for _, e in ipairs(entries) do
    if (e.contains ~= nil and low:find(tostring(e.contains):lower(), 1, true))
        or (e.equals ~= nil and low == tostring(e.equals):lower()) then
      return tostring(e.value)
    end
  end
end

-- from_snapshot(model) -> raw criteria {service=, accelerator=, os=} and a
-- list of {field, value, path, actual} saying where each value came from.
-- model is an eidos.snapshot.model; rules come from data/criteria.yaml.
function M.from_snapshot(model)
  local cat = crit.catalog()
  local rules, tables = cat.snapshot, cat.tables
  local out, why = {}, {}
  for _, f in ipairs(crit.FIELDS) do
    local list = rules[f]
    if type(list) == "table" then
      local decided = false
      for _, r in ipairs(list) do
        for _, c in ipairs(candidates(model, r)) do
          local value = test(f, r, tables, c.value)
          if value then
            if value ~= "any" then
              out[f] = value
              why[#why + 1] = { field = f, value = value, path = c.path, actual = c.value }
            end
            decided = true
            break
          end
        end
        if decided then break end
      end
    end
  end
  return out, why
end

return M
