-- eidos.api.validate: POST /v1/validate, `eidos validate` over HTTP. The
-- constraints come from the recipe of the query's criteria (built and
-- allowlisted as GET /v1/recipe builds them), or from the body; the
-- snapshots are the body. One snapshot gives the ValidationResult of the
-- readiness phase as `eidos validate` writes it (eidos.validate,
-- eidos.validate.result: results and phases); several (a YAML stream, or
-- a list) give the FleetValidationResult (eidos.validate.fleet, when this
-- build has it).
-- The answer is 200 whatever the verdict (its status says pass, partial or
-- fail); bad input is 400 naming it. Bodies are read with the loader's
-- limits (--body-limit, expansion, nesting); the work is linear in the
-- snapshots and constraints given.
--
--   POST /v1/validate?service=eks&accelerator=gb200&intent=training&os=ubuntu[&strict=true]
--     body: a Snapshot, or several
--   POST /v1/validate
--     body: {recipe: RecipeResult | criteria: {...}, constraints: [{name, value}],
--            snapshot: Snapshot | snapshots: [Snapshot, ...], strict: bool}
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local http = require("eidos.api.http")
local recipe_api = require("eidos.api.recipe")

local M = {}

local PARAMS = { format = true, strict = true, ["allow-partial"] = true }
for k in pairs(recipe_api.CRITERIA_PARAMS) do PARAMS[k] = true end

local WRAPPER = { "recipe", "criteria", "constraints", "snapshot", "snapshots", "strict" }
local SNAPSHOT = "a Snapshot document, several, or {recipe | criteria, snapshot | snapshots}"

local function is_map(v) return type(v) == "table" and not doc.islist(v) end

-- the body is a wrapper when it is one map without kind that names one of
-- the wrapper's fields
local function wrapper(docs)
  if #docs ~= 1 or not is_map(docs[1]) or docs[1].kind ~= nil then return nil end
  local d = docs[1]
  local bad, known = errors.problems(), false
  for k in pairs(d) do
    local ok = false
    for _, w in ipairs(WRAPPER) do if k == w then ok = true end end
    if ok then known = true
    else
      bad:add(tostring(k), string.format("unknown field %s in the request body (accepted: %s; or send the " ..
        "Snapshot document itself)", errors.show(k), table.concat(WRAPPER, ", ")), { field = errors.show(k) })
    end
  end
  if not known then return nil end
  bad:raise("invalid")
  return d
end

-- the constraints to check and where they come from
local function constraints(ctx, q, w, partial)
  local validate = require("eidos.validate")
  local sources = {}
  if next(q) ~= nil then sources[#sources + 1] = "criteria in the query" end
  if w and w.criteria ~= nil then sources[#sources + 1] = "criteria in the body" end
  if w and w.recipe ~= nil then sources[#sources + 1] = "a recipe in the body" end
  if #sources > 1 then
    errors.raise("invalid", string.format("give the recipe once: %s", table.concat(sources, " and ")))
  end
  local list, origin = {}, nil
  if next(q) ~= nil or (w and w.criteria ~= nil) then
    local raw = next(q) ~= nil and recipe_api.raw_criteria(q, "the query")
      or recipe_api.body_criteria(w.criteria, "criteria")
    local result, c = recipe_api.build(ctx, raw, partial)
    list = validate.recipe_constraints(result, "the recipe")
    local parts = {}
    for _, f in ipairs(recipe_api.FIELDS) do
      if c[f] ~= nil and c[f] ~= "any" and c[f] ~= 0 then parts[#parts + 1] = f .. "=" .. tostring(c[f]) end
    end
    origin = "the recipe for " .. table.concat(parts, ", ")
  elseif w and w.recipe ~= nil then
    require("eidos.recipe.build").check_result(w.recipe, "recipe")
    list, origin = validate.recipe_constraints(w.recipe, "recipe"), "the recipe in the request body"
  end
  if w and w.constraints ~= nil then
    for _, c in ipairs(validate.recipe_constraints({ constraints = w.constraints }, "the request body")) do
      list[#list + 1] = c
    end
  end
  if #list == 0 and #sources == 0 and not (w and w.constraints) then
    errors.raise("invalid", "nothing to validate: give criteria as query parameters (service, accelerator, intent, " ..
      "os, platform, nodes), or a body {recipe | criteria, constraints, snapshot | snapshots}")
  end
  validate.check_all(list)
  return list, origin
end

-- the snapshots of the body (a wrapper's snapshot or snapshots, else every document)
local function snapshots(docs, w)
  local list = docs
  if w then
    if w.snapshot ~= nil and w.snapshots ~= nil then
      errors.raise("invalid", "give snapshot or snapshots in the request body, not both")
    end
    if w.snapshots ~= nil and not (type(w.snapshots) == "table" and doc.islist(w.snapshots)) then
      errors.raise("invalid", "snapshots in the request body must be a list of Snapshot documents")
    end
    list = w.snapshots or { w.snapshot }
  end
  if #list == 0 then errors.raise("invalid", "the request body holds no snapshot; send " .. SNAPSHOT) end
  for i, d in ipairs(list) do
    if not is_map(d) then
      errors.raise("invalid", string.format("snapshot %d of the request body is %s, not a Snapshot document", i,
        errors.show(d)))
    end
  end
  return list
end

-- POST /v1/validate
function M.post(req, ctx)
  local p = http.params(req.query, PARAMS)
  local format = http.format(req.headers.accept, p.format)
  local partial = recipe_api.allow_partial(p["allow-partial"])
  local strict = recipe_api.boolean(p.strict, "strict")
  p.format, p.strict, p["allow-partial"] = nil, nil, nil
  local docs = http.documents(req, SNAPSHOT)
  local w = wrapper(docs)
  if w and w.strict ~= nil then
    if type(w.strict) ~= "boolean" then errors.raise("invalid", "strict in the request body must be true or false") end
    strict = strict or w.strict
  end
  local list, origin = constraints(ctx, p, w, partial)
  local snaps = snapshots(docs, w)
  local model = require("eidos.snapshot.model")
  local result
  if #snaps == 1 then
    -- the readiness phase, in the shape `eidos validate` writes (eidos.validate.result)
    local r = require("eidos.validate").run(list, model.from_doc(snaps[1], "the snapshot in the request body"),
      { strict = strict or nil, recipe = origin, snapshot = "the request body" })
    result = require("eidos.validate.result").document(
      { { name = "readiness", checks = require("eidos.validate.phases").readiness_checks(r) } }, r, {})
  else
    local fleet = require("eidos.validate.fleet")
    -- the fleet engine reads each snapshot in turn: here from the body
    local idx = {}
    for i = 1, #snaps do idx[i] = i end
    result = fleet.run(list, idx, { strict = strict or nil, recipe = origin,
      load = function(i) return snaps[i], string.format("snapshot %d of the request body", i) end })
  end
  return 200, http.encode(result, format), { "content-type", http.media[format], "cache-control", "no-store" }, false
end

return M
