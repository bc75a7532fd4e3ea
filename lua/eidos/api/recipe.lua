-- eidos.api.recipe: GET/POST /v1/recipe and GET/POST /v1/query, on top of
-- the recipe engine (eidos.recipe: library, criteria, build, hydrate).
-- Criteria are validated by the engine exactly as the CLI validates them,
-- then checked against the server's allowlists. Answers are cached by
-- their canonical criteria (the engine's normalised table, written as
-- canonical JSON), so `?service=EKS&gpu=h100` and
-- `?accelerator=h100&service=eks` share one build, one body and one ETag.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local http = require("eidos.api.http")
local crit = require("eidos.recipe.criteria")

local M = {}

-- the criteria fields, in output order, and the query parameters: the
-- fields, their aliases (gpu), format and allow-partial, as on the command line
M.FIELDS = { table.unpack(crit.FIELDS) }
M.FIELDS[#M.FIELDS + 1] = "nodes"
local RECIPE_PARAMS = { format = true, ["allow-partial"] = true }
for _, f in ipairs(M.FIELDS) do RECIPE_PARAMS[f] = true end
for _, a in ipairs(crit.FIELD_ALIASES) do RECIPE_PARAMS[a.alias] = true end
local QUERY_PARAMS = { selector = true }
for k, v in pairs(RECIPE_PARAMS) do QUERY_PARAMS[k] = v end

local CACHE_MAX = 1024 -- canonical criteria remembered per worker
local CACHE_CONTROL = "public, max-age=600"

local function server()
  local ok, s = pcall(require, "eidos.server")
  return ok and s or nil
end

local function clock()
  local s = server()
  return s and s.clock() or os.clock()
end

local function engine()
  local ok, recipe = pcall(require, "eidos.recipe")
  if not ok then
    if type(recipe) == "string" and recipe:find("module 'eidos.recipe' not found", 1, true) then
      errors.raise("unavailable", "the recipe engine is not available in this build of eidosd")
    end
    error(recipe, 0)
  end
  return recipe
end

-- ---- criteria ----

-- criteria from a map of raw values (query parameters or a bare criteria
-- map); the values go to the engine as given, so they are checked, and
-- explained when wrong, exactly as on the command line
local function raw_criteria(t, where)
  local c = {}
  local bad = errors.problems()
  for k in pairs(t) do
    if not RECIPE_PARAMS[k] or k == "format" or k == "allow-partial" then
      bad:add(tostring(k), string.format("unknown criteria field %s in %s (accepted: %s)", errors.show(k), where,
        table.concat(M.FIELDS, ", ")), { field = errors.show(k) })
    end
  end
  -- the alias rule of the command line (eidos.recipe.criteria.fold_aliases)
  local folded = {}
  for _, f in ipairs(M.FIELDS) do folded[f] = t[f] end
  for _, a in ipairs(crit.FIELD_ALIASES) do folded[a.alias] = t[a.alias] end
  crit.fold_aliases(folded, nil, bad)
  bad:raise("invalid")
  for _, f in ipairs(M.FIELDS) do
    local v = folded[f]
    if v ~= nil and v ~= "" then c[f] = v end
  end
  return c
end

-- allow_partial(v) -> boolean of the allow-partial parameter
local function allow_partial(v)
  if v == nil then return false end
  local t = { ["true"] = true, ["1"] = true, yes = true, [""] = true, ["false"] = false, ["0"] = false, no = false }
  if type(v) == "boolean" then return v end
  local b = t[tostring(v):lower()]
  if b == nil then
    errors.raise("invalid", string.format("allow-partial %q is not a boolean (accepted: true, false, 1, 0)", tostring(v)),
      { parameter = "allow-partial" })
  end
  return b
end

-- stated(raw, where): a query must state some criterion (as `eidos recipe`)
local function stated(raw, where)
  if next(raw) == nil then
    errors.raise("invalid", string.format("no criteria provided in %s: give at least one of %s ('eidos recipe " ..
      "list' shows the curated criteria)", where, table.concat(M.FIELDS, ", ")))
  end
  return raw
end

-- canonical criteria (engine-validated, allowlisted) and their cache key
local function canonical(ctx, raw)
  local recipe = engine()
  local c = recipe.criteria(raw)
  local bad = errors.problems()
  for _, a in ipairs(ctx.allow_list) do
    local v = c[a.field]
    if v ~= nil and v ~= "" and v ~= "any" and not a.set[v] then
      bad:add(a.field, string.format("%s %s is not offered by this server (allowed: %s)", a.field,
        errors.show(v), table.concat(a.values, ", ")),
        { field = a.field, requested = errors.show(v), allowed = doc.list({ table.unpack(a.values) }) })
    end
  end
  bad:raise("invalid")
  local ok, key = pcall(http.encode, c, "json")
  return c, ok and key or nil
end

-- ---- the shared context ----

-- context(cfg) -> ctx: loads the library once per worker and validates the
-- allowlists (an allowlist value the engine rejects is a startup error)
function M.context(cfg, opts)
  local ctx = { cfg = cfg, cache = {}, order = {}, n = 0, allow_list = {} }
  local ok, recipe = pcall(require, "eidos.recipe")
  if ok then
    ctx.library = recipe.library({ data = cfg.data })
  elseif not (type(recipe) == "string" and recipe:find("module 'eidos.recipe' not found", 1, true)) then
    error(recipe, 0)
  else
    require("eidos.log").warn("the recipe engine (eidos.recipe) is not available: /v1/recipe, /v1/query and /v1/bundle answer 503")
  end
  for _, a in ipairs(require("eidos.api.config").allow_fields) do
    local values = cfg.allow and cfg.allow[a.field]
    if values then
      local set, canon = {}, {}
      for _, v in ipairs(values) do
        local cv = v
        if ok and a.field ~= "nodes" then
          local good, c = pcall(recipe.criteria, { [a.field] = v })
          if not good then
            errors.raise("invalid", string.format("invalid value %q in --allow-%s: %s", v,
              a.field == "os" and "os" or a.field .. "s", errors.is(c) and c.msg or tostring(c)))
          end
          cv = c[a.field]
        end
        if cv ~= nil and cv ~= "any" and not set[cv] then
          set[cv] = true
          canon[#canon + 1] = cv
        end
      end
      ctx.allow_list[#ctx.allow_list + 1] = { field = a.field, set = set, values = canon }
    end
  end
  return ctx
end

-- the cached entry of canonical criteria: {criteria, result, bodies = {format -> {body, etag}}}
local function entry(ctx, raw, partial)
  local c, key = canonical(ctx, raw)
  if key and partial then key = key .. "+partial" end
  local s = server()
  local e = key and ctx.cache[key]
  if e then
    if s then s.count("recipe_cache_hits") end
    return e
  end
  if s then s.count("recipe_cache_misses") end
  local recipe = engine()
  local t0 = clock()
  local result = recipe.build(c, { library = ctx.library, allow_partial = partial })
  if s then s.observe("recipe_build_seconds", clock() - t0) end
  e = { criteria = c, result = result, bodies = {} }
  if key then
    if ctx.n >= CACHE_MAX then -- first in, first out
      local old = table.remove(ctx.order, 1)
      ctx.cache[old] = nil
      ctx.n = ctx.n - 1
    end
    ctx.cache[key] = e
    ctx.order[#ctx.order + 1] = key
    ctx.n = ctx.n + 1
  end
  return e
end

-- ---- responses ----

local function headers(format, etag)
  return { "content-type", http.media[format], "etag", etag, "cache-control", CACHE_CONTROL, "vary", "Accept" }
end

-- status, body, headers for a document (body and ETag memoised in slot)
local function respond(req, slot, format, make)
  local b = slot[format]
  if not b then
    local body = http.encode(make(), format)
    b = { body = body, etag = http.etag(body) }
    slot[format] = b
  end
  if http.not_modified(req.headers["if-none-match"], b.etag) then
    return 304, nil, { "etag", b.etag, "cache-control", CACHE_CONTROL, "vary", "Accept" }, false
  end
  return 200, b.body, headers(format, b.etag), req.method ~= "POST"
end

-- GET /v1/recipe?service=&accelerator=&intent=&os=&platform=&nodes=&format=&allow-partial=
function M.get(req, ctx)
  local p = http.params(req.query, RECIPE_PARAMS)
  local format = http.format(req.headers.accept, p.format)
  local partial = allow_partial(p["allow-partial"])
  p.format, p["allow-partial"] = nil, nil
  local e = entry(ctx, stated(raw_criteria(p, "the query"), "the query"), partial)
  return respond(req, e.bodies, format, function() return e.result end)
end

-- the criteria of a POSTed RecipeCriteria document (read by the engine, as
-- `eidos recipe --criteria` reads it) or of a bare map of criteria fields
local function body_criteria(d, where)
  if type(d) ~= "table" or doc.islist(d) then
    errors.raise("invalid", string.format("%s must be a RecipeCriteria document or a map of criteria", where))
  end
  if d.kind ~= nil or d.apiVersion ~= nil or d.spec ~= nil or d.metadata ~= nil then
    local recipe = engine()
    if recipe.criteria_doc then return recipe.criteria_doc(d, where) end
    if type(d.spec) ~= "table" then
      errors.raise("invalid", string.format("%s: spec must be a map of criteria fields", where))
    end
    return raw_criteria(d.spec, where)
  end
  return raw_criteria(d, where)
end

-- POST /v1/recipe (body: RecipeCriteria as JSON or YAML; ?format=&allow-partial=)
function M.post(req, ctx)
  local p = http.params(req.query, { format = true, ["allow-partial"] = true })
  local format = http.format(req.headers.accept, p.format)
  local d = http.body(req, "a RecipeCriteria document")
  local e = entry(ctx, body_criteria(d, "the request body"), allow_partial(p["allow-partial"]))
  return respond(req, e.bodies, format, function() return e.result end)
end

-- ---- /v1/query ----

local function select(value, selector)
  local recipe = engine()
  if recipe.select then return recipe.select(value, selector) end
  local path = selector:gsub("^%.", "")
  if path == "" then return value end
  local at = {}
  for key in path:gmatch("[^.]+") do
    if type(value) ~= "table" or doc.islist(value) then
      errors.raise("notfound", string.format("selector %q: %s is not a map, so it has no key %q", selector,
        #at > 0 and table.concat(at, ".") or "the document", key), { selector = selector, key = key })
    end
    local nextv = value[key]
    if nextv == nil then
      local keys = doc.keys(value)
      errors.raise("notfound", string.format("selector %q: key %q not found%s (available: %s)", selector, key,
        #at > 0 and (" in " .. table.concat(at, ".")) or "", table.concat(keys, ", ")),
        { selector = selector, key = key, available = doc.list(keys) })
    end
    at[#at + 1] = key
    value = nextv
  end
  return value
end

local function answer_query(req, ctx, raw, selector, format, partial)
  if selector ~= nil and type(selector) ~= "string" then
    errors.raise("invalid", "selector must be a string like components.gpu-operator.version")
  end
  selector = selector or ""
  local e = entry(ctx, raw, partial)
  if not e.hydrated then
    local recipe = engine()
    e.hydrated = recipe.hydrate and recipe.hydrate(e.result, ctx.library) or e.result
    e.selected, e.nselected = {}, 0
  end
  local slot = e.selected[selector]
  if not slot then
    local value = select(e.hydrated, selector)
    slot = { value = value }
    if e.nselected < 256 then
      e.selected[selector] = slot
      e.nselected = e.nselected + 1
    end
  end
  return respond(req, slot, format, function() return slot.value end)
end

-- GET /v1/query?selector=PATH&<criteria>&format=
function M.query(req, ctx)
  local p = http.params(req.query, QUERY_PARAMS)
  local format = http.format(req.headers.accept, p.format)
  local selector = p.selector
  local partial = allow_partial(p["allow-partial"])
  p.format, p.selector, p["allow-partial"] = nil, nil, nil
  return answer_query(req, ctx, stated(raw_criteria(p, "the query"), "the query"), selector, format, partial)
end

-- POST /v1/query (body: {criteria: {...} | RecipeCriteria, selector: PATH})
function M.query_post(req, ctx)
  local p = http.params(req.query, { format = true, ["allow-partial"] = true })
  local format = http.format(req.headers.accept, p.format)
  local d = http.body(req, "a query document {criteria, selector}")
  if type(d) ~= "table" or doc.islist(d) then
    errors.raise("invalid", "the request body must be a map {criteria: {...}, selector: PATH}")
  end
  local bad = errors.problems()
  for k in pairs(d) do
    if k ~= "criteria" and k ~= "selector" then
      bad:add(tostring(k), string.format("unknown field %s in the query document (accepted: criteria, selector)",
        errors.show(k)), { field = errors.show(k) })
    end
  end
  if d.criteria == nil then bad:add("criteria", "the query document has no criteria") end
  bad:raise("invalid")
  return answer_query(req, ctx, body_criteria(d.criteria, "criteria"), d.selector, format,
    allow_partial(p["allow-partial"]))
end

M.canonical = canonical
M.raw_criteria = raw_criteria
M.allow_partial = allow_partial
M.body_criteria = body_criteria

return M
