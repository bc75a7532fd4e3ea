-- eidos.api.recipe: GET/POST /v1/recipe and GET/POST /v1/query, on top of
-- the recipe engine (eidos.recipe: library, criteria, build, hydrate).
-- Criteria are validated by the engine exactly as the CLI validates them,
-- then checked against the server's allowlists.
--
-- Caching, in two layers:
--   - Encoded answers (bytes and ETag) live in eidosd's response cache,
--     shared by every thread and bounded by bytes (--cache-size). Each is
--     stored under its request and under its canonical criteria (the
--     engine's normalised table, written as canonical JSON), so
--     `?service=EKS&gpu=h100` and `?accelerator=h100&service=eks` share one
--     build, one body and one ETag (server.answer_cached).
--   - Recipes of criteria that resolve to the same overlays are equal but
--     for their head (kind, apiVersion, metadata, criteria:
--     recipe.head). Each Lua thread keeps the encoded rest (the tail) once
--     per overlay set and format, bounded by SHARED_BYTES; an answer is
--     sent as two parts {head, tail}, and the response cache keeps one copy
--     of a tail for every answer that ends with it.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local http = require("eidos.api.http")
local crit = require("eidos.recipe.criteria")
local recipe = require("eidos.recipe")

local M = {}

-- the criteria fields, in output order, and the query parameters: the
-- fields, their aliases (gpu), format and allow-partial, as on the command line
M.FIELDS = { table.unpack(crit.FIELDS) }
M.FIELDS[#M.FIELDS + 1] = "nodes"
-- the criteria query parameters alone (other endpoints take them too)
M.CRITERIA_PARAMS = {}
for _, f in ipairs(M.FIELDS) do M.CRITERIA_PARAMS[f] = true end
for _, a in ipairs(crit.FIELD_ALIASES) do M.CRITERIA_PARAMS[a.alias] = true end
local RECIPE_PARAMS = { format = true, ["allow-partial"] = true, explain = true }
for k in pairs(M.CRITERIA_PARAMS) do RECIPE_PARAMS[k] = true end
local QUERY_PARAMS = { selector = true }
for k, v in pairs(RECIPE_PARAMS) do QUERY_PARAMS[k] = v end

local SHARED_BYTES = 4 * 1048576 -- encoded tails kept per Lua thread
local HYDRATED_MAX = 16 -- hydrated recipes (for /v1/query) kept per Lua thread
local CACHE_CONTROL = "public, max-age=600"

-- the monotonic clock of the server capability s (ctx.server), os.clock() without one
local function clock(s)
  return s and s.clock() or os.clock()
end

-- ---- criteria ----

-- criteria from a map of raw values (query parameters or a bare criteria
-- map); the values go to the engine as given, so they are checked, and
-- explained when wrong, exactly as on the command line
local function raw_criteria(t, where)
  local c = {}
  local bad = errors.problems()
  for k in pairs(t) do
    if not RECIPE_PARAMS[k] or k == "format" or k == "allow-partial" or k == "explain" then
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

-- boolean(v, name) -> the boolean of a query parameter (absent: false)
local function boolean(v, name)
  if v == nil then return false end
  local t = { ["true"] = true, ["1"] = true, yes = true, [""] = true, ["false"] = false, ["0"] = false, no = false }
  if type(v) == "boolean" then return v end
  local b = t[tostring(v):lower()]
  if b == nil then
    errors.raise("invalid", string.format("%s %q is not a boolean (accepted: true, false, 1, 0)", name, tostring(v)),
      { parameter = name })
  end
  return b
end

-- allow_partial(v) -> boolean of the allow-partial parameter
local function allow_partial(v) return boolean(v, "allow-partial") end

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
  -- the key: every field's value, length-prefixed (unambiguous whatever
  -- the values hold), short because eidosd keeps one per answer
  local parts = {}
  for i, f in ipairs(M.FIELDS) do
    local v = c[f]
    if type(v) ~= "string" and type(v) ~= "number" then return c, nil end
    v = tostring(v)
    parts[i] = #v .. ":" .. v
  end
  return c, table.concat(parts)
end

-- ---- the shared context ----

-- context(cfg, opts) -> ctx: loads the library once per worker and indexes
-- the allowlists (cfg.allow: canonical values, checked by eidos.api.config
-- at start); ctx.server: opts.server, eidosd's server capability (nil
-- outside eidosd)
function M.context(cfg, opts)
  local ctx = { cfg = cfg, shared = {}, shared_bytes = 0, hydrated = {}, hydrated_order = {}, allow_list = {},
                server = opts and opts.server }
  ctx.library = recipe.library({ data = cfg.data })
  -- read-only from here on: index every overlay now, not per request
  ctx.library:index()
  for _, a in ipairs(require("eidos.api.config").allow_fields) do
    local values = cfg.allow and cfg.allow[a.field]
    if values then
      local set, canon = {}, {}
      for _, cv in ipairs(values) do
        if cv ~= "any" and not set[cv] then
          set[cv] = true
          canon[#canon + 1] = cv
        end
      end
      ctx.allow_list[#ctx.allow_list + 1] = { field = a.field, set = set, values = canon }
    end
  end
  return ctx
end

-- ---- responses ----

local function headers(format, etag)
  return { "content-type", http.media[format], "etag", etag, "cache-control", CACHE_CONTROL, "vary", "Accept" }
end

-- ---- recipes: head + shared tail ----

-- the encoded head and tail of a result: head .. tail is http.encode(result)
-- (checked for every curated combination by spec/policy/api_recipe_spec.lua)
local function split_encode(result, format)
  local head, tail = {}, {}
  local keys = recipe.HEAD
  local is_head = {}
  for _, k in ipairs(keys) do
    is_head[k] = true
    head[k] = result[k]
  end
  for k, v in pairs(result) do if not is_head[k] then tail[k] = v end end
  head = doc.ordered(head, keys)
  local h = http.encode(head, format)
  if next(tail) == nil then return h, nil end
  local t = http.encode(doc.ordered(tail, recipe.TAIL), format)
  if format == "json" then return h:sub(1, -3) .. ",", t:sub(2) end
  return h, t
end

local function encode_head(head, format)
  local h = http.encode(head, format)
  if format == "json" then return h:sub(1, -3) .. "," end
  return h
end

-- the head of a recipe as two parts: what every recipe of the same
-- overlays begins with (kind, apiVersion, metadata.version and
-- .appliedOverlays: e.prefix, shared) and the rest (warnings, criteria)
local function head_parts(e, head, format)
  local f = encode_head(head, format)
  local p = e.prefix[format]
  if not p then
    local m = head.metadata
    p = http.encode(doc.ordered({ kind = head.kind, apiVersion = head.apiVersion,
      metadata = doc.ordered({ version = m.version, appliedOverlays = m.appliedOverlays }, getmetatable(m).__order) },
      recipe.HEAD), format)
    if format == "json" then p = p:sub(1, -4) end -- open: `...]` before `}}\n`
    e.prefix[format] = p
  end
  if #p < #f and f:sub(1, #p) == p then return p, f:sub(#p + 1) end
  return nil, f
end

-- the per-thread store of tails by overlay set: {applied, tails = {format -> text}}
local function shared_entry(ctx, key, result)
  local e = ctx.shared[key]
  if e then return e end
  if ctx.shared_bytes > SHARED_BYTES then -- full: start again (bounded, and rare)
    ctx.shared, ctx.shared_bytes = {}, 0
  end
  local applied = {}
  for i, n in ipairs(result.metadata.appliedOverlays) do applied[i] = n end
  e = { applied = applied, tails = {}, prefix = {} }
  ctx.shared[key] = e
  return e
end

-- the body of the recipe for canonical criteria c: a list of parts, those
-- shared with other recipes marked in body.share (eidosd keeps one copy of
-- them); builds only when no recipe of the same overlays was encoded yet
local function recipe_body(ctx, c, format, partial)
  local key = recipe.shared_key(c, ctx.library)
  local e = key and ctx.shared[key]
  local built = false
  if not (e and e.tails[format]) then
    local result = recipe.build(c, { library = ctx.library, allow_partial = partial })
    built = true
    if not key then return { http.encode(result, format) }, built end
    local _, tail = split_encode(result, format)
    if not tail then return { http.encode(result, format) }, built end
    e = shared_entry(ctx, key, result)
    e.tails[format] = tail
    ctx.shared_bytes = ctx.shared_bytes + #tail + 64
  end
  local prefix, rest = head_parts(e, recipe.head(c, e.applied, ctx.library, { allow_partial = partial }), format)
  if not prefix then return { rest, e.tails[format], share = { false, true } }, built end
  return { prefix, rest, e.tails[format], share = { true, false, true } }, built
end

local function etag_of(parts)
  local h = require("eidos.core.sha256").new()
  for _, p in ipairs(parts) do h:update(p) end
  return '"' .. h:hex():sub(1, 32) .. '"'
end

-- the answer of an encoded body (a string or a list of parts): 304 when
-- If-None-Match names its ETag, else 200 with the caching headers
local function answer_body(req, body, format, cacheable, alias)
  local etag = etag_of(type(body) == "table" and body or { body })
  if http.not_modified(req.headers["if-none-match"], etag) then
    return 304, nil, { "etag", etag, "cache-control", CACHE_CONTROL, "vary", "Accept" }, false
  end
  return 200, body, headers(format, etag), cacheable, alias
end

-- the answer for canonical criteria (key: their canonical JSON): from the
-- response cache, else built; cacheable: the request's own key may be
-- cached too (GET)
local function recipe_answer(req, ctx, raw, format, cacheable, partial)
  local c, key = canonical(ctx, raw)
  local s = ctx.server
  local alias = key and ("recipe\n" .. format .. "\n" .. key .. (partial and "\npartial" or ""))
  if alias and s and s.answer_cached(alias) then
    s.count("recipe_cache_hits")
    return s.CACHED, nil, nil, cacheable
  end
  if s then s.count("recipe_cache_misses") end
  local t0 = clock(s)
  local body, built = recipe_body(ctx, c, format, partial)
  if s and built then s.observe("recipe_build_seconds", clock(s) - t0) end
  return answer_body(req, body, format, cacheable, alias)
end

-- the RecipeExplanation of canonical criteria (`eidos recipe --explain`):
-- where each overlay, constraint, component field and value comes from
local function explain_answer(req, ctx, raw, format, cacheable, partial)
  local c, key = canonical(ctx, raw)
  local s = ctx.server
  local alias = key and ("explain\n" .. format .. "\n" .. key .. (partial and "\npartial" or ""))
  if alias and s and s.answer_cached(alias) then return s.CACHED, nil, nil, cacheable end
  local result = recipe.build(c, { library = ctx.library, allow_partial = partial })
  local d = recipe.explain(result, ctx.library)
  -- files by their path in the library, never where the server keeps them
  local roots = http.roots(ctx.cfg)
  local function unroot(list)
    for _, o in ipairs(list or {}) do if type(o.file) == "string" then o.file = http.unroot(o.file, roots) end end
  end
  unroot(d.overlays)
  unroot(d.constraints)
  for _, comp in ipairs(d.components) do
    unroot(comp.fields)
    unroot(comp.values)
  end
  return answer_body(req, http.encode(d, format), format, cacheable, alias)
end

-- GET /v1/recipe?service=&accelerator=&intent=&os=&platform=&nodes=&format=&allow-partial=&explain=
function M.get(req, ctx)
  local p = http.params(req.query, RECIPE_PARAMS)
  local format = http.format(req.headers.accept, p.format)
  local partial = allow_partial(p["allow-partial"])
  local explain = boolean(p.explain, "explain")
  p.format, p["allow-partial"], p.explain = nil, nil, nil
  local raw = stated(raw_criteria(p, "the query"), "the query")
  if explain then return explain_answer(req, ctx, raw, format, true, partial) end
  return recipe_answer(req, ctx, raw, format, true, partial)
end

-- the criteria of a POSTed RecipeCriteria document (read by the engine, as
-- `eidos recipe --criteria` reads it) or of a bare map of criteria fields
local function body_criteria(d, where)
  if type(d) ~= "table" or doc.islist(d) then
    errors.raise("invalid", string.format("%s must be a RecipeCriteria document or a map of criteria", where))
  end
  if d.kind ~= nil or d.apiVersion ~= nil or d.spec ~= nil or d.metadata ~= nil then
    return recipe.criteria_doc(d, where)
  end
  return raw_criteria(d, where)
end

-- POST /v1/recipe (body: RecipeCriteria as JSON or YAML; ?format=&allow-partial=&explain=)
function M.post(req, ctx)
  local p = http.params(req.query, { format = true, ["allow-partial"] = true, explain = true })
  local format = http.format(req.headers.accept, p.format)
  local d = http.body(req, "a RecipeCriteria document")
  local answer = boolean(p.explain, "explain") and explain_answer or recipe_answer
  return answer(req, ctx, body_criteria(d, "the request body"), format, false, allow_partial(p["allow-partial"]))
end

-- ---- /v1/query ----

-- the hydrated recipe of canonical criteria (a few kept per Lua thread)
local function hydrated(ctx, c, key, partial)
  if key and partial then key = key .. "\npartial" end
  local h = key and ctx.hydrated[key]
  if h then return h end
  local result = recipe.build(c, { library = ctx.library, allow_partial = partial })
  h = recipe.hydrate(result, ctx.library)
  if key then
    if #ctx.hydrated_order >= HYDRATED_MAX then ctx.hydrated[table.remove(ctx.hydrated_order, 1)] = nil end
    ctx.hydrated[key] = h
    ctx.hydrated_order[#ctx.hydrated_order + 1] = key
  end
  return h
end

local function answer_query(req, ctx, raw, selector, format, cacheable, partial)
  if selector ~= nil and type(selector) ~= "string" then
    errors.raise("invalid", "selector must be a string like components.gpu-operator.version")
  end
  selector = selector or ""
  local c, key = canonical(ctx, raw)
  local s = ctx.server
  local alias = key and ("query\n" .. format .. "\n" .. key .. (partial and "\npartial\n" or "\n") .. selector)
  if alias and s and s.answer_cached(alias) then return s.CACHED, nil, nil, cacheable end
  local body = http.encode(recipe.select(hydrated(ctx, c, key, partial), selector), format)
  return answer_body(req, body, format, cacheable, alias)
end

-- GET /v1/query?selector=PATH&<criteria>&format=
function M.query(req, ctx)
  local p = http.params(req.query, QUERY_PARAMS)
  local format = http.format(req.headers.accept, p.format)
  local selector = p.selector
  local partial = allow_partial(p["allow-partial"])
  p.format, p.selector, p["allow-partial"] = nil, nil, nil
  return answer_query(req, ctx, stated(raw_criteria(p, "the query"), "the query"), selector, format, true, partial)
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
  return answer_query(req, ctx, body_criteria(d.criteria, "criteria"), d.selector, format, false,
    allow_partial(p["allow-partial"]))
end

-- GET /v1/criteria[?format=]: the CriteriaList (`eidos criteria`), each
-- field's values narrowed to those this server offers (--allow-*; any is
-- always offered), with the aliases and recipe counts of those values
function M.criteria(req, ctx)
  local p = http.params(req.query, { format = true })
  local format = http.format(req.headers.accept, p.format)
  local d = recipe.criteria_list(ctx.library)
  for _, a in ipairs(ctx.allow_list) do
    for _, f in ipairs(d.fields) do
      if f.name == a.field and #f.values > 0 then
        local values = doc.list({})
        for _, v in ipairs(f.values) do if a.set[v] then values[#values + 1] = v end end
        local aliases = {}
        for _, k in ipairs(doc.keys(f.aliases)) do
          if a.set[f.aliases[k]] or f.aliases[k] == "any" then aliases[k] = f.aliases[k] end
        end
        local keep = { any = true }
        for _, v in ipairs(values) do keep[v] = true end
        local order = getmetatable(f.recipes).__order
        local recipes, keys = {}, {}
        for _, k in ipairs(order) do
          if keep[k] then recipes[k] = f.recipes[k]; keys[#keys + 1] = k end
        end
        f.values, f.aliases, f.recipes = values, aliases, doc.ordered(recipes, keys)
      end
    end
  end
  return answer_body(req, http.encode(d, format), format, true)
end

-- build(ctx, raw, partial) -> the RecipeResult of raw criteria, checked
-- and allowlisted as GET /v1/recipe checks them, and the canonical criteria
function M.build(ctx, raw, partial)
  local c = canonical(ctx, raw)
  return recipe.build(c, { library = ctx.library, allow_partial = partial }), c
end

M.canonical = canonical
M.boolean = boolean
M.raw_criteria = raw_criteria
M.allow_partial = allow_partial
M.body_criteria = body_criteria

return M
