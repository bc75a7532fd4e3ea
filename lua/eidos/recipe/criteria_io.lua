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
      where, type(d) == "table" and "a list" or type(d)))
  end
  local bad = errors.problems(where)
  if d.kind ~= nil and not contains(crit.CRITERIA_KINDS, d.kind) then
    bad:add("kind", string.format("kind %q is not a criteria document (accepted: %s)",
      tostring(d.kind), table.concat(crit.CRITERIA_KINDS, ", ")))
  end
  if d.apiVersion ~= nil and not contains(crit.API_VERSIONS, d.apiVersion) then
    bad:add("apiVersion", string.format("apiVersion %q is not supported (accepted: %s)",
      tostring(d.apiVersion), table.concat(crit.API_VERSIONS, ", ")))
  end
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

-- from_snapshot(model) -> raw criteria {service=, accelerator=, os=} and a
-- list of {field, value, path, actual} saying where each value came from.
-- model is an eidos.snapshot.model; rules come from data/criteria.yaml.
function M.from_snapshot(model)
  local sm = require("eidos.snapshot.model")
  local rules = crit.catalog().snapshot
  local out, why = {}, {}
  for _, f in ipairs(crit.FIELDS) do
    local list = rules[f]
    if type(list) == "table" then
      for _, r in ipairs(list) do
        local actual = type(r.path) == "string" and sm.lookup(model, r.path)
        if actual then
          local value
          if r.parse then
            value = crit.normalize(f, actual)
          elseif r.contains and actual:lower():find(tostring(r.contains):lower(), 1, true) then
            value = tostring(r.value)
          end
          if value then
            if value ~= "any" then
              out[f] = value
              why[#why + 1] = { field = f, value = value, path = r.path, actual = actual }
            end
            break
          end
        end
      end
    end
  end
  return out, why
end

return M
