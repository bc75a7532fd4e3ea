-- eidos.recipe.build: criteria + library (+ snapshot) -> RecipeResult.
--   1. match: every overlay whose criteria match the query (explicit
--      intent, eidos.recipe.criteria.match); overlays without criteria never
--      match (they can still be ancestors);
--   2. snapshot mode: a matched overlay whose own constraints, or an
--      ancestor's, do not pass against the snapshot is excluded (listed
--      with the reason); a constraint the snapshot cannot answer is unknown
--      and excludes nothing;
--   3. order: a total order -- inheritance depth, then specificity ("" and
--      any count alike), then name -- so nothing depends on table order;
--   4. each matched overlay's spec.base chain is applied root first, every
--      overlay at most once, base always first;
--   5. fail closed: a stated criterion that no applied overlay pins is an
--      error naming it and the nearest curated recipes (eidos.recipe.catalog)
--      unless opts.allow_partial;
--   6. finalise: dependency check and deploymentOrder, registry defaults,
--      constraints and componentRefs sorted by name.
local doc = require("eidos.doc")
local crit = require("eidos.recipe.criteria")
local merge = require("eidos.recipe.merge")
local hooks = require("eidos.hooks")

local M = {}

-- the document's kind and key order: eidos.recipe.schema
local schema = require("eidos.recipe.schema")
M.KIND = schema.KIND
M.API_VERSION = schema.API_VERSION
-- what reads as a recipe (kinds, result_problems, check_result) lives in
-- eidos.recipe.reader, which the commands that only read recipes load alone
local reader = require("eidos.recipe.reader")
M.READ_KINDS = reader.READ_KINDS
M.result_problems = reader.result_problems
M.check_result = reader.check_result

local function version_string()
  return require("eidos.core.build").version
end

-- the constraint evaluator for snapshot mode: eidos.constraint.evaluate
local function evaluator(model)
  local c = require("eidos.constraint")
  return function(con) return c.evaluate(con, model) end
end

-- matched(lib, q) -> entries whose criteria match q, in name order
function M.matched(lib, q)
  return lib:match(q)
end

-- sort entries by (depth, specificity, name)
function M.sort(lib, list)
  local key = {}
  for _, e in ipairs(list) do
    key[e] = { #lib:chain(e.name), crit.specificity(e.criteria) }
  end
  table.sort(list, function(a, b)
    local ka, kb = key[a], key[b]
    if ka[1] ~= kb[1] then return ka[1] < kb[1] end
    if ka[2] ~= kb[2] then return ka[2] < kb[2] end
    return a.name < b.name
  end)
  return list
end

-- criteria_doc(q) -> the criteria map in output order (nodes only when > 0)
function M.criteria_doc(q)
  local o = {}
  for _, f in ipairs(crit.FIELDS) do o[f] = q[f] or "any" end
  if (q.nodes or 0) > 0 then o.nodes = q.nodes end
  return doc.ordered(o, schema.CRITERIA)
end

-- exclude(lib, matched, eval, out) -> the matched entries whose whole
-- spec.base chain passes. Each overlay's own constraints are evaluated once:
-- one that fails (or cannot be evaluated) excludes the overlay and every
-- matched overlay below it, so no overlay is both applied and excluded. A
-- constraint on a value the snapshot does not carry ("skipped": e.g. no
-- Kubernetes data) is unknown, not failed: it excludes nothing and is
-- listed in out.unknown ({overlay, constraint, reason}). out.excluded
-- (names, sorted), out.warnings (constraintWarnings) and out.why (name ->
-- reason) are filled.
function M.exclude(lib, matched, eval, out)
  local own = {} -- name -> true when the overlay's own constraints fail
  local function fails(e)
    if own[e.name] ~= nil then return own[e.name] end
    local failed = false
    for _, c in ipairs(lib:spec(e).constraints) do
      local r = eval(c)
      if r.status == "skipped" then
        out.unknown[#out.unknown + 1] = { overlay = e.name, constraint = c.name, reason = r.reason }
      elseif r.status ~= "passed" then
        failed = true
        local w = { overlay = e.name, constraint = c.name, expected = merge.str(c.value) }
        if r.actual ~= nil and r.actual ~= "" then w.actual = merge.str(r.actual) end
        w.reason = r.reason or (r.actual ~= nil and string.format("expected %s, got %s", w.expected, merge.str(r.actual)))
          or "constraint did not pass"
        out.warnings[#out.warnings + 1] = doc.ordered(w, schema.CONSTRAINT_WARNING)
        out.why[e.name] = out.why[e.name] or (c.name .. ": " .. w.reason)
      end
    end
    own[e.name] = failed
    return failed
  end
  local keep, seen = {}, {}
  for _, e in ipairs(matched) do
    local bad
    for _, a in ipairs(lib:chain(e.name)) do
      if fails(a) then bad = bad or a end
    end
    if bad then
      for _, a in ipairs(lib:chain(e.name)) do
        if own[a.name] and not seen[a.name] then seen[a.name] = true; out.excluded[#out.excluded + 1] = a.name end
      end
      if not seen[e.name] then
        seen[e.name] = true
        out.excluded[#out.excluded + 1] = e.name
        out.why[e.name] = "its ancestor " .. bad.name .. " is excluded"
      end
    else
      keep[#keep + 1] = e
    end
  end
  table.sort(out.excluded)
  return keep
end

-- the keys of a RecipeResult's head (M.head) and of the rest, which
-- depends on nothing but the overlays applied
M.HEAD = { table.unpack(schema.RESULT, 1, 4) }
M.TAIL = { table.unpack(schema.RESULT, 5) }

-- head(lib, q, applied, opts) -> the leading keys of a RecipeResult (kind,
-- apiVersion, metadata, criteria): all of it that depends on the query
-- beyond the overlays applied (a list of names, in order); the rest of the
-- recipe depends on nothing but those overlays. Fails closed as build does
-- (a stated criterion no applied overlay pins raises "invalid" unless
-- opts.allow_partial; opts.stated as build's). opts: version, warnings
-- found while merging, and in snapshot mode eval = true, excluded,
-- constraint_warnings and why.
function M.head(lib, q, applied, opts)
  opts = opts or {}
  local warnings = {}
  for _, w in ipairs(opts.warnings or {}) do warnings[#warnings + 1] = w end
  if crit.empty(q) then
    warnings[#warnings + 1] = "no criteria given: this is the base recipe (plus overlays that match any query)"
  else
    -- fail closed: every stated criterion is pinned by an applied overlay
    local catalog = require("eidos.recipe.catalog")
    local missing = catalog.unhonoured(lib, q, applied)
    local refused = {}
    for _, f in ipairs(missing) do
      if opts.stated == nil or opts.stated[f] then refused[#refused + 1] = f end
    end
    if #refused > 0 and not opts.allow_partial then
      catalog.refuse(lib, q, refused, { names = opts.excluded or {}, reason = opts.why or {} })
    end
    for _, f in ipairs(missing) do
      warnings[#warnings + 1] = string.format("no overlay is specific to %s=%s; the recipe is not tuned for it",
        f, q[f])
    end
  end
  local meta = { appliedOverlays = doc.list({}) }
  local v = opts.version or version_string()
  if v and v ~= "" then meta.version = v end
  for i, n in ipairs(applied) do meta.appliedOverlays[i] = n end
  if opts.eval then
    meta.excludedOverlays = doc.list(opts.excluded or {})
    meta.constraintWarnings = doc.list(opts.constraint_warnings or {})
  end
  if #warnings > 0 then meta.warnings = doc.list(warnings) end
  return doc.ordered({
    kind = M.KIND, apiVersion = M.API_VERSION,
    metadata = doc.ordered(meta, schema.METADATA),
    criteria = M.criteria_doc(q),
  }, M.HEAD)
end

-- build(lib, q, opts) -> RecipeResult document, info
-- q: validated criteria (eidos.recipe.criteria.new); opts.snapshot: an
-- eidos.snapshot.model (snapshot mode); opts.evaluate: a function(constraint)
-- -> {status, actual, reason} replacing the snapshot evaluator;
-- opts.allow_partial: a stated criterion no applied overlay pins is a
-- warning instead of an "invalid" error (eidos.recipe.catalog.refuse);
-- opts.stated: the set of fields the user stated (default: every field of
-- q that is not any); the others (derived from a snapshot) only warn.
-- info: {state = merge state (with provenance), matched = entries, excluded,
-- unknown = constraints the snapshot could not answer}
function M.build(lib, q, opts)
  opts = opts or {}
  local matched = M.matched(lib, q)
  local warnings = {}
  local excluded, cwarn, why = {}, {}, {}
  local unknown = {}
  local eval = opts.evaluate or (opts.snapshot and evaluator(opts.snapshot))
  if eval then
    matched = M.exclude(lib, matched, eval, { excluded = excluded, warnings = cwarn, why = why, unknown = unknown })
  end
  M.sort(lib, matched)
  -- user hooks (--hooks): select(candidates, criteria) may filter or reorder
  do
    local names, byname, c = {}, {}, { nodes = q.nodes }
    for i, e in ipairs(matched) do names[i] = e.name; byname[e.name] = e end
    for _, f in ipairs(crit.FIELDS) do c[f] = q[f] end
    local picked = hooks.apply("select", names, c)
    if picked ~= names then
      matched = {}
      for _, n in ipairs(picked) do matched[#matched + 1] = byname[type(n) == "table" and n.name or n] end
    end
  end

  local st = merge.new()
  local base = lib:base()
  merge.apply(st, lib:spec(base), { overlay = "base", file = base.where })
  local applied = { base = true }
  for _, e in ipairs(matched) do
    for _, a in ipairs(lib:chain(e.name)) do
      if not applied[a.name] then
        applied[a.name] = true
        merge.apply(st, lib:spec(a), { overlay = a.name, file = a.where })
      end
    end
  end

  if #excluded > 0 then
    warnings[#warnings + 1] = string.format("%d overlay(s) excluded because their own or an ancestor's " ..
      "constraints do not pass against the snapshot: %s", #excluded, table.concat(excluded, ", "))
  end
  local h = M.head(lib, q, st.applied, { warnings = warnings, version = opts.version, eval = eval ~= nil,
    excluded = excluded, constraint_warnings = cwarn, why = why, stated = opts.stated,
    allow_partial = opts.allow_partial })

  local order = merge.order(st)
  merge.defaults(st, lib:registry())

  local refs = doc.list({})
  for _, n in ipairs(merge.sorted_keys(st.refs)) do refs[#refs + 1] = merge.ref_doc(st.refs[n]) end
  local cons = doc.list({})
  for _, n in ipairs(merge.sorted_keys(st.constraints)) do
    cons[#cons + 1] = merge.ordered_constraint(st.constraints[n])
  end

  local result = {
    kind = h.kind, apiVersion = h.apiVersion, metadata = h.metadata, criteria = h.criteria,
    componentRefs = refs,
    deploymentOrder = order,
  }
  if #cons > 0 then result.constraints = cons end
  result.validation = merge.validation_doc(st.validation)
  return doc.ordered(result, schema.RESULT), { state = st, matched = matched, excluded = excluded, unknown = unknown,
                                         query = q }
end

-- reorder(r) -> r with the output key order restored (after a user hook
-- returned a RecipeResult built in its own Lua state)
function M.reorder(r)
  local copy = require("eidos.core.merge").copy
  local out = {}
  for k, v in pairs(r) do out[k] = v end
  if type(out.metadata) == "table" then
    local m = {}
    for k, v in pairs(out.metadata) do m[k] = v end
    out.metadata = doc.ordered(m, schema.METADATA)
  end
  if type(out.criteria) == "table" then
    local c = {}
    for k, v in pairs(out.criteria) do c[k] = v end
    out.criteria = doc.ordered(c, schema.CRITERIA)
  end
  for _, k in ipairs({ "constraints", "componentRefs", "deploymentOrder" }) do
    if type(out[k]) == "table" then out[k] = doc.list(copy(out[k])) end
  end
  for i, c in ipairs(out.constraints or {}) do
    if type(c) == "table" then out.constraints[i] = merge.ordered_constraint(c) end
  end
  for i, c in ipairs(out.componentRefs or {}) do
    if type(c) == "table" then
      local o = {}
      for k, v in pairs(c) do o[k] = v end
      out.componentRefs[i] = doc.ordered(o, schema.COMPONENT_REF)
    end
  end
  if type(out.validation) == "table" then out.validation = merge.validation_doc(out.validation) end
  return doc.ordered(out, schema.RESULT)
end

return M
