-- eidos.recipe.reader: what reads as a recipe -- the kinds and apiVersions
-- validate, bundle and POST /v1/bundle accept -- apart from the recipe
-- engine (eidos.recipe.build), so that reading a recipe does not load it.
local doc = require("eidos.doc")

local M = {}

-- kinds read as a recipe: ours, the lower-case spelling of the eidos/cnsctl
-- era, and the `kind: Recipe` of upstream's API and CLI examples
M.READ_KINDS = { "RecipeResult", "recipeResult", "Recipe" }

-- result_problems(d, where) -> list of {path, msg}: why d does not read as
-- a recipe (validate, bundle and POST /v1/bundle inputs). A recipe is a map
-- whose kind is one of READ_KINDS, or that has no kind but componentRefs or
-- criteria (upstream does not check the kind), with an apiVersion of a
-- known group or none. The messages name the kind, and say what to do with
-- an overlay.
function M.result_problems(d, where)
  if type(d) ~= "table" or doc.islist(d) then
    return { { path = "", msg = string.format("%s is not a RecipeResult document (expected a map, got %s)",
      where, require("eidos.errors").show(d)) } }
  end
  local out = {}
  local k = d.kind
  local ok = k == nil and (d.componentRefs ~= nil or d.criteria ~= nil)
  for _, x in ipairs(M.READ_KINDS) do if k == x then ok = true end end
  if not ok then
    local hint = (k == "RecipeMetadata" or k == "recipeMetadata")
      and " (an overlay of a recipe library, not a recipe: build one with 'eidos recipe')" or " (the output of 'eidos recipe')"
    out[#out + 1] = { path = "kind", msg = string.format("%s has kind %s; expected a RecipeResult%s (accepted kinds: %s)",
      where, k == nil and "(none)" or require("eidos.errors").show(k), hint,
      table.concat(M.READ_KINDS, ", ")) }
  end
  local apiv = require("eidos.apiversion").problem(d.apiVersion)
  if apiv then out[#out + 1] = { path = "apiVersion", msg = where .. ": " .. apiv } end
  return out
end

-- check_result(d, where) -> d; raises "invalid" naming every problem of
-- result_problems
function M.check_result(d, where)
  local ps = M.result_problems(d, where)
  if #ps == 1 then require("eidos.errors").raise("invalid", ps[1].msg) end
  if #ps > 1 then
    local bad = require("eidos.errors").problems()
    for _, p in ipairs(ps) do bad:add(p.path, p.msg) end
    bad:raise("invalid")
  end
  return d
end

return M
