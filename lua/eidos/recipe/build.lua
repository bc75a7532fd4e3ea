-- eidos.recipe.build: criteria + library (+ snapshot) -> RecipeResult.
--   1. match: every overlay whose criteria match the query (explicit
--      intent, eidos.recipe.criteria.match); overlays without criteria never
--      match (they can still be ancestors);
--   2. snapshot mode: a matched overlay whose own constraints do not pass
--      against the snapshot is excluded (listed with the reason);
--   3. order: a total order -- inheritance depth, then specificity ("" and
--      any count alike), then name -- so nothing depends on table order;
--   4. each matched overlay's spec.base chain is applied root first, every
--      overlay at most once, base always first;
--   5. finalise: dependency check and deploymentOrder, registry defaults,
--      constraints and componentRefs sorted by name.
local doc = require("eidos.doc")
local crit = require("eidos.recipe.criteria")
local merge = require("eidos.recipe.merge")

local M = {}

M.KIND = "RecipeResult"
M.API_VERSION = "eidos.nvidia.com/v1alpha1"
M.ORDER = { "kind", "apiVersion", "metadata", "criteria", "constraints", "componentRefs", "deploymentOrder", "validation" }
M.META_ORDER = { "version", "appliedOverlays", "excludedOverlays", "constraintWarnings", "warnings" }
M.CRITERIA_ORDER = { "service", "accelerator", "intent", "os", "platform", "nodes" }
M.WARN_ORDER = { "overlay", "constraint", "expected", "actual", "reason" }

local function version_string()
  local ok, b = pcall(require, "eidos.core.build")
  return ok and b.version or nil
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
  return doc.ordered(o, M.CRITERIA_ORDER)
end

-- build(lib, q, opts) -> RecipeResult document, info
-- q: validated criteria (eidos.recipe.criteria.new); opts.snapshot: an
-- eidos.snapshot.model (snapshot mode); opts.evaluate: a function(constraint)
-- -> {status, actual, reason} replacing the snapshot evaluator.
-- info: {state = merge state (with provenance), matched = entries, excluded}
function M.build(lib, q, opts)
  opts = opts or {}
  local matched = M.matched(lib, q)
  local warnings = {}
  local excluded, cwarn, excluded_set = {}, {}, {}
  local eval = opts.evaluate or (opts.snapshot and evaluator(opts.snapshot))
  if eval then
    local keep = {}
    for _, e in ipairs(matched) do
      local spec = lib:spec(e)
      local failed = false
      for _, c in ipairs(spec.constraints) do
        local r = eval(c)
        if r.status ~= "passed" then
          failed = true
          local w = { overlay = e.name, constraint = c.name, expected = merge.str(c.value) }
          if r.actual ~= nil and r.actual ~= "" then w.actual = merge.str(r.actual) end
          w.reason = r.reason or (r.actual ~= nil and string.format("expected %s, got %s", w.expected, merge.str(r.actual)))
            or "constraint did not pass"
          cwarn[#cwarn + 1] = doc.ordered(w, M.WARN_ORDER)
        end
      end
      if failed then
        excluded[#excluded + 1] = e.name
        excluded_set[e.name] = true
      else
        keep[#keep + 1] = e
      end
    end
    matched = keep
  end
  M.sort(lib, matched)
  -- user hooks (--hooks): select(candidates, criteria) may filter or reorder
  local hooks = package.loaded["eidos.hooks"]
  if hooks and hooks.active() and #hooks.with("select") > 0 then
    local names, byname, c = {}, {}, {}
    for i, e in ipairs(matched) do names[i] = e.name; byname[e.name] = e end
    for _, f in ipairs(crit.FIELDS) do c[f] = q[f] end
    c.nodes = q.nodes
    local out = {}
    for _, n in ipairs(hooks.apply("select", names, c)) do
      out[#out + 1] = byname[type(n) == "table" and n.name or n]
    end
    matched = out
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
        if excluded_set[a.name] then
          warnings[#warnings + 1] = string.format("overlay %s failed its constraints against the snapshot but is " ..
            "applied as an ancestor of %s", a.name, e.name)
        end
      end
    end
  end

  if #excluded > 0 then
    table.sort(excluded)
    warnings[#warnings + 1] = string.format("%d overlay(s) excluded because their constraints do not pass against " ..
      "the snapshot: %s", #excluded, table.concat(excluded, ", "))
    local specific = false
    for _, e in ipairs(matched) do if crit.specificity(e.criteria) > 0 then specific = true end end
    if not specific then
      warnings[#warnings + 1] = "every overlay specific to these criteria was excluded; the recipe is the base " ..
        "configuration (plus overlays that match any query)"
    end
  end
  if crit.empty(q) then
    warnings[#warnings + 1] = "no criteria given: this is the base recipe (plus overlays that match any query)"
  else
    -- a query value that no applied overlay specialises
    for _, f in ipairs(crit.FIELDS) do
      if q[f] ~= "any" then
        local pinned = false
        for _, name in ipairs(st.applied) do
          local e = lib:find(name)
          if e and e.criteria and e.criteria[f] == q[f] then pinned = true; break end
        end
        if not pinned then
          warnings[#warnings + 1] = string.format("no overlay is specific to %s=%s; the recipe is not tuned for it",
            f, q[f])
        end
      end
    end
  end

  local order = merge.order(st)
  merge.defaults(st, lib:registry())

  local refs = doc.list({})
  for _, n in ipairs(merge.sorted_keys(st.refs)) do refs[#refs + 1] = merge.ref_doc(st.refs[n]) end
  local cons = doc.list({})
  for _, n in ipairs(merge.sorted_keys(st.constraints)) do
    cons[#cons + 1] = merge.ordered_constraint(st.constraints[n])
  end

  local meta = { appliedOverlays = doc.list({}) }
  local v = opts.version or version_string()
  if v and v ~= "" then meta.version = v end
  for i, n in ipairs(st.applied) do meta.appliedOverlays[i] = n end
  if eval then
    meta.excludedOverlays = doc.list(excluded)
    meta.constraintWarnings = doc.list(cwarn)
  end
  if #warnings > 0 then meta.warnings = doc.list(warnings) end

  local result = {
    kind = M.KIND, apiVersion = M.API_VERSION,
    metadata = doc.ordered(meta, M.META_ORDER),
    criteria = M.criteria_doc(q),
    componentRefs = refs,
    deploymentOrder = order,
  }
  if #cons > 0 then result.constraints = cons end
  result.validation = merge.validation_doc(st.validation)
  return doc.ordered(result, M.ORDER), { state = st, matched = matched, excluded = excluded, query = q }
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
    out.metadata = doc.ordered(m, M.META_ORDER)
  end
  if type(out.criteria) == "table" then
    local c = {}
    for k, v in pairs(out.criteria) do c[k] = v end
    out.criteria = doc.ordered(c, M.CRITERIA_ORDER)
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
      out.componentRefs[i] = doc.ordered(o, merge.REF_ORDER)
    end
  end
  if type(out.validation) == "table" then out.validation = merge.validation_doc(out.validation) end
  return doc.ordered(out, M.ORDER)
end

return M
