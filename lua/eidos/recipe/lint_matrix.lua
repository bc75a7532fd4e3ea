-- eidos.recipe.lint_matrix: the two checks of eidos.recipe.lint that build
-- recipes. check_matrix builds every combination of the criteria values of
-- data/criteria.yaml (each field also unset): dependencies known, no cycle,
-- values that hydrate; one problem per distinct failure, with how many
-- combinations share it. check_own_criteria then queries every overlay with
-- its own criteria and reports an overlay that does not apply. Each recipe
-- is built once per distinct set of matched overlays (ctx.matrix keeps them).
local errors = require("eidos.errors")
local crit = require("eidos.recipe.criteria")

local M = {}

local function msg_of(e) return errors.is(e) and e.msg or tostring(e) end

-- what the two checks share: builds by key (the matched overlay names),
-- their errors, the failures already reported (by message)
local function matrix_state(ctx)
  if ctx.matrix then return ctx.matrix end
  local mx = { built = {}, errs = {}, bymsg = {}, msgs = {}, distinct = 0 }
  ctx.matrix = mx
  return mx
end

-- try_build(ctx, q) -> built?, key, matched overlays
local function try_build(ctx, q)
  local lib, mx = ctx.lib, matrix_state(ctx)
  local build = require("eidos.recipe.build")
  local matched = build.matched(lib, q)
  local names = {}
  for i, e in ipairs(matched) do names[i] = e.name end
  local key = table.concat(names, ",")
  if mx.built[key] == nil then
    local ok, r, info = pcall(build.build, lib, q, { version = "lint", allow_partial = true })
    if ok then
      local hydrate = require("eidos.recipe.hydrate")
      local okh, herr = pcall(function()
        for _, ref in ipairs(r.componentRefs) do
          hydrate.component_values(lib, ref, { refs = info.state.prov.refs[ref.name] })
        end
      end)
      if not okh then ok, r = false, herr end
    end
    if ok then
      mx.built[key] = true
      mx.distinct = mx.distinct + 1
    else
      mx.built[key] = false
      mx.errs[key] = { q = crit.string(q), msg = msg_of(r) }
    end
  end
  return mx.built[key], key, matched
end

-- every specified field of q is pinned by the chain of a matched overlay
local function specialised(lib, q, matched)
  local pinned = {}
  for _, e in ipairs(matched) do
    for _, a in ipairs(lib:chain(e.name)) do
      for _, f in ipairs(crit.FIELDS) do
        if a.criteria and a.criteria[f] == q[f] then pinned[f] = true end
      end
    end
  end
  for _, f in ipairs(crit.FIELDS) do if q[f] ~= "any" and not pinned[f] then return false end end
  return true
end

-- combinations() -> every query of the matrix, in its order: each criteria
-- field "any" or one of the catalog's canonical values, nodes 0 (also what
-- spec/policy/api_recipe_spec.lua checks)
function M.combinations()
  local cat = crit.catalog()
  local out, q = {}, { nodes = 0 }
  local function walk(i)
    if i > #crit.FIELDS then
      local c = { nodes = 0 }
      for _, f in ipairs(crit.FIELDS) do c[f] = q[f] end
      out[#out + 1] = c
      return
    end
    local f = crit.FIELDS[i]
    q[f] = "any"
    walk(i + 1)
    for _, v in ipairs(cat.fields[f].values) do
      q[f] = v
      walk(i + 1)
    end
  end
  walk(1)
  return out
end

function M.check_matrix(ctx)
  if not ctx.idx then return end
  local mx = matrix_state(ctx)
  local total, okn, special = 0, 0, 0
  local function walk()
    for _, q in ipairs(M.combinations()) do
      total = total + 1
      local ok, key, matched = try_build(ctx, q)
      if ok then
        okn = okn + 1
        if specialised(ctx.lib, q, matched) then special = special + 1 end
      elseif mx.errs[key] then
        local m = mx.errs[key].msg
        local g = mx.bymsg[m]
        if not g then
          g = { q = crit.string(q), n = 0 }
          mx.bymsg[m] = g
          mx.msgs[#mx.msgs + 1] = m
        end
        g.n = g.n + 1
      end
    end
  end
  local okw, err = pcall(walk)
  if not okw then ctx.add("", "matrix", msg_of(err)) end
  for _, m in ipairs(mx.msgs) do
    local g = mx.bymsg[m]
    ctx.add("", "matrix", string.format("criteria %s%s: %s", g.q,
      g.n > 1 and string.format(" (and %d more combination%s)", g.n - 1, g.n > 2 and "s" or "") or "", m))
  end
  local counts = ctx.counts
  counts.combinations, counts.combinationsBuilt, counts.combinationsSpecialised = total, okn, special
  counts.distinctRecipes = mx.distinct
end

-- runs after check_matrix: a build failure it already reported is not repeated
function M.check_own_criteria(ctx)
  if not ctx.idx then return end
  local cat, mx = crit.catalog(), matrix_state(ctx)
  for _, e in ipairs(ctx.idx.list) do
    if e.criteria then
      local q = {}
      local valid = true
      for _, f in ipairs(crit.FIELDS) do
        local v = e.criteria[f]
        if v == "" then v = "any" end
        if v ~= "any" and not cat.fields[f].canon[v] then valid = false end
        q[f] = v
      end
      q.nodes = e.criteria.nodes or 0
      if valid then
        local ok, key = try_build(ctx, q)
        local applied = false
        if ok then
          for n in key:gmatch("[^,]+") do if n == e.name then applied = true end end
        end
        if ok and not applied then
          ctx.add(e.where, "matrix", string.format("overlay %s does not apply when queried with its own criteria (%s)",
            e.name, crit.string(q)))
        elseif not ok and mx.errs[key] and not mx.bymsg[mx.errs[key].msg] then
          mx.bymsg[mx.errs[key].msg] = true
          ctx.add(e.where, "matrix", string.format("criteria %s: %s", mx.errs[key].q, mx.errs[key].msg))
        end
      end
    end
  end
  ctx.counts.distinctRecipes = mx.distinct
end

return M
