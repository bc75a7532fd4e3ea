-- eidos.recipe.catalog: what a recipe library offers, for people and for
-- the fail-closed rule.
--   * leaves: the curated recipes -- overlays whose criteria pin the
--     accelerator, the intent and the OS (the service may be left any: a
--     provider-independent leaf for self-managed clusters; the platform is
--     optional). Each leaf's own criteria are a tuple that resolves to it
--     (an overlay always matches its own criteria).
--   * list(lib, filter): those tuples, filtered by any criterion, in the
--     catalog's value order (`any` first) -- `eidos recipe list`, eidosd
--     and the benchmarks enumerate recipes through it;
--   * criteria_list(lib): the CriteriaList document (fields, values,
--     aliases, curated recipes per value);
--   * unhonoured(lib, q, applied): the stated criteria (service,
--     accelerator, intent, os, platform; never nodes) that no applied
--     overlay pins, and refuse(...), the error naming them and the
--     nearest leaves that do honour them.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local crit = require("eidos.recipe.criteria")

local M = {}

M.KIND = "RecipeList"
M.LEAF_FIELDS = { "accelerator", "intent", "os" }
M.ORDER = { "kind", "apiVersion", "recipes" }
M.ENTRY_ORDER = { "criteria", "overlay" }

local function anylike(v) return v == nil or v == "" or v == "any" end

-- is_leaf(entry) -> true for a curated leaf
function M.is_leaf(e)
  if not e.criteria then return false end
  for _, f in ipairs(M.LEAF_FIELDS) do
    if anylike(e.criteria[f]) then return false end
  end
  return true
end

-- rank of each value in the catalog's order, any last
local function ranks()
  local cat = crit.catalog()
  local r = {}
  for _, f in ipairs(crit.FIELDS) do
    r[f] = { any = 0 }
    for i, v in ipairs(cat.fields[f].values) do r[f][v] = i end
  end
  return r
end

local function tuple(c)
  local t = {}
  for _, f in ipairs(crit.FIELDS) do t[f] = anylike(c[f]) and "any" or c[f] end
  return t
end

-- leaves(lib) -> {{criteria = tuple, name = overlay}} in catalog order
-- (cached on the library, which is read-only once loaded)
function M.leaves(lib)
  if lib._leaves then return lib._leaves end
  local rk = ranks()
  local out = {}
  for _, e in ipairs(lib:index().list) do
    if M.is_leaf(e) then out[#out + 1] = { criteria = tuple(e.criteria), name = e.name } end
  end
  local function rank(f, v) return rk[f][v] or math.huge end
  table.sort(out, function(a, b)
    for _, f in ipairs(crit.FIELDS) do
      local ra, rb = rank(f, a.criteria[f]), rank(f, b.criteria[f])
      if ra ~= rb then return ra < rb end
    end
    return a.name < b.name
  end)
  lib._leaves = out
  return out
end

-- list(lib, filter) -> a RecipeList document: every leaf whose criteria
-- equal each field of filter (validated values; "any" selects the leaves
-- that leave the field unpinned)
function M.list(lib, filter)
  filter = filter or {}
  local build = require("eidos.recipe.build")
  local out = doc.list({})
  for _, l in ipairs(M.leaves(lib)) do
    local keep = true
    for _, f in ipairs(crit.FIELDS) do
      if filter[f] ~= nil and filter[f] ~= l.criteria[f] then keep = false end
    end
    if keep then
      out[#out + 1] = doc.ordered({ criteria = build.criteria_doc(l.criteria), overlay = l.name }, M.ENTRY_ORDER)
    end
  end
  return doc.ordered({ kind = M.KIND, apiVersion = build.API_VERSION, recipes = out }, M.ORDER)
end

-- a list longer than this ends with a hint on how to narrow it
M.LONG = 40

local CRIT_ORDER = { "kind", "apiVersion", "fields" }
local FIELD_ORDER = { "name", "values", "aliases", "recipes", "note" }
local NOTES = {
  service = "any (or leaving it out, or an alias of any) selects the provider-independent recipes for self-managed clusters",
  nodes = "an integer >= 0; 0 means any; no overlay of the built-in library pins it",
}

-- criteria_list(lib) -> the CriteriaList document (`eidos criteria`, GET
-- /v1/criteria): each field's canonical values and aliases, from
-- data/criteria.yaml (the catalog an override of that file changes), and
-- how many curated recipes pin each value
function M.criteria_list(lib)
  local cat = crit.catalog()
  local counts = {}
  for _, f in ipairs(crit.FIELDS) do counts[f] = {} end
  for _, l in ipairs(M.leaves(lib)) do
    for _, f in ipairs(crit.FIELDS) do
      local v = l.criteria[f]
      counts[f][v] = (counts[f][v] or 0) + 1
    end
  end
  local fields = doc.list({})
  for _, f in ipairs(crit.FIELDS) do
    local spec = cat.fields[f]
    local aliases = {}
    for _, a in ipairs(spec.aliases) do aliases[a] = tostring(spec.alias_to[a]) end
    local recipes = {}
    for _, v in ipairs(spec.values) do recipes[v] = counts[f][v] or 0 end
    recipes.any = counts[f].any or 0
    local keys = {}
    for i, v in ipairs(spec.values) do keys[i] = v end
    keys[#keys + 1] = "any"
    fields[#fields + 1] = doc.ordered({
      name = f, values = doc.list({ table.unpack(spec.values) }), aliases = aliases,
      recipes = doc.ordered(recipes, keys), note = NOTES[f],
    }, FIELD_ORDER)
  end
  fields[#fields + 1] = doc.ordered({ name = "nodes", values = doc.list({}), aliases = {}, note = NOTES.nodes },
    FIELD_ORDER)
  return doc.ordered({ kind = "CriteriaList", apiVersion = require("eidos.recipe.build").API_VERSION,
    fields = fields }, CRIT_ORDER)
end

-- table(list) -> text for people
function M.table(d)
  local rows = { { "SERVICE", "ACCELERATOR", "INTENT", "OS", "PLATFORM", "OVERLAY" } }
  for _, r in ipairs(d.recipes) do
    local c = r.criteria
    rows[#rows + 1] = { c.service, c.accelerator, c.intent, c.os, c.platform, r.overlay }
  end
  local n = #d.recipes
  local columns = require("eidos.columns")
  return columns.render(rows) .. columns.text(string.format("%d recipe%s%s", n, n == 1 and "" or "s",
    n > M.LONG and " (narrow the list with --service, --accelerator, --intent, --os or --platform)" or ""))
end

-- unhonoured(lib, q, applied) -> the fields of q stated (not any) that no
-- overlay named in applied pins to q's value
function M.unhonoured(lib, q, applied)
  local out = {}
  for _, f in ipairs(crit.FIELDS) do
    if not anylike(q[f]) then
      local pinned = false
      for _, name in ipairs(applied) do
        local e = lib:find(name)
        if e and e.criteria and e.criteria[f] == q[f] then pinned = true; break end
      end
      if not pinned then out[#out + 1] = f end
    end
  end
  return out
end

-- nearest(lib, q, fields, n) -> up to n leaves that pin every field of
-- fields to q's value, the ones agreeing with most of q's other stated
-- fields first (a leaf that leaves a field any agrees with every value)
function M.nearest(lib, q, fields, n)
  local scored = {}
  for i, l in ipairs(M.leaves(lib)) do
    local fits = true
    for _, f in ipairs(fields) do if l.criteria[f] ~= q[f] then fits = false end end
    if fits then
      local score = 0
      for _, f in ipairs(crit.FIELDS) do
        if not anylike(q[f]) and l.criteria[f] == q[f] then score = score + 2
        elseif not anylike(q[f]) and l.criteria[f] == "any" then score = score + 1 end
      end
      scored[#scored + 1] = { l = l, score = score, i = i }
    end
  end
  table.sort(scored, function(a, b)
    if a.score ~= b.score then return a.score > b.score end
    return a.i < b.i
  end)
  local out = {}
  for i = 1, math.min(n or 3, #scored) do out[i] = scored[i].l end
  return out
end

-- flags(c) -> "--service eks --accelerator h100 ..." for a criteria tuple
local function flags(c)
  local parts = {}
  for _, f in ipairs(crit.FIELDS) do
    if not anylike(c[f]) then parts[#parts + 1] = "--" .. f .. " " .. c[f] end
  end
  return #parts > 0 and table.concat(parts, " ") or "(no criteria)"
end
M.flags = flags

-- refuse(lib, q, fields, excluded): raise the fail-closed error (exit 2,
-- HTTP 400). excluded: {name -> reason} of overlays left out in snapshot
-- mode (they may be the ones that would have honoured the criteria).
function M.refuse(lib, q, fields, excluded)
  local stated = {}
  for _, f in ipairs(fields) do stated[#stated + 1] = f .. "=" .. q[f] end
  local near = M.nearest(lib, q, fields, 3)
  local b = {}
  b[1] = string.format("%s %s not honoured by any overlay that applies to %s: the recipe would not be tuned " ..
    "for %s", table.concat(stated, ", "), #fields > 1 and "are" or "is", crit.string(q),
    #fields > 1 and "them" or "it")
  local why = {}
  for _, name in ipairs(excluded and excluded.names or {}) do
    local e = lib:find(name)
    if e and e.criteria then
      for _, f in ipairs(fields) do
        if e.criteria[f] == q[f] then why[#why + 1] = name .. " (" .. excluded.reason[name] .. ")"; break end
      end
    end
  end
  if #why > 0 then
    b[#b + 1] = "; excluded against the snapshot: " .. table.concat(why, "; ")
  end
  if #near > 0 then
    local s = {}
    for i, l in ipairs(near) do s[i] = flags(l.criteria) end
    b[#b + 1] = string.format("; recipes that honour %s: %s", #fields > 1 and "them" or "it", table.concat(s, " | "))
  else
    b[#b + 1] = "; no curated recipe of the library pins " .. table.concat(stated, ", ")
  end
  b[#b + 1] = " (eidos recipe list shows every curated recipe; --allow-partial accepts the recipe without it)"
  local near_doc = doc.list({})
  for i, l in ipairs(near) do near_doc[i] = require("eidos.recipe.build").criteria_doc(l.criteria) end
  errors.raise("invalid", table.concat(b), {
    criterion = fields[1], criteria = doc.list({ table.unpack(fields) }), value = q[fields[1]], nearest = near_doc,
  })
end

return M
