-- eidos.api.bundle: POST /v1/bundle. The body is a RecipeResult (JSON or
-- YAML); the query carries the bundle options with the CLI's flag names
-- (deployer, set, the scheduling selectors and tolerations, ...). The
-- bundler (eidos.bundle) lays out the files; eidos.core.archive writes
-- them as a zip in memory (reproducible: fixed times and order), sent as
-- application/zip with X-Bundle-Files and X-Bundle-Size (uncompressed
-- bytes). Nothing touches the file system, so a read-only root is fine.
-- The same options and body give the same bytes: eidosd answers a repeated
-- request from its response cache (cache_key).
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local http = require("eidos.api.http")
local recipe_api = require("eidos.api.recipe")

local M = {}

-- query parameters: the bundle options the CLI shares (eidos.bundle.options:
-- true = once, "list" = repeatable); not --values, --sign-key or --data,
-- which name server files (the server's own --data applies)
M.PARAMS = require("eidos.bundle.options").params()
-- upstream's clients send bundlers=...; upstream ignores it, and so do we,
-- saying so in a Warning header
M.PARAMS.bundlers = "list"

local BUNDLERS_IGNORED = "the bundlers parameter is ignored: the bundle holds every enabled component of the recipe" ..
  " (leave one out with set=COMPONENT:enabled=false)"

-- the files of the bundle: eidos.bundle's build + finish with the options
-- parsed here (the CLI's eidos.bundle.options). A bundler that offers
-- files(recipe, opts) instead makes them itself: the stand-in of the server
-- specs (spec/fixtures/server, put on the override path) does, to be slow,
-- huge or unavailable on demand
local function bundle_files(d, opts, seq, ctx)
  local b = require("eidos.bundle")
  if b.files then return b.files(d, opts) end
  local options = require("eidos.bundle.options")
  local deployer = options.deployer(opts.deployer or options.DEFAULT_DEPLOYER, "deployer")
  local sched = options.scheduling(opts)
  local ops = options.ops(seq)
  if not ctx.bundle_library then
    ctx.bundle_library = require("eidos.bundle.library").open({
      library_opts = ctx.cfg.data and { data = ctx.cfg.data } or nil })
  end
  local built = b.build(d, { ops = ops, scheduling = sched, origin = "in the request body", deployer = deployer,
                             repo = options.repo(opts, deployer, function(n) return n end),
                             library = ctx.bundle_library })
  return require("eidos.bundle.output").finish(built, {}), built.notes
end

-- set and set-json in the order they appear in the query (the CLI's
-- command-line order, eidos.bundle.options.ops)
local function set_sequence(query)
  local seq = {}
  for pair in (query or ""):gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=(.*)$")
    if k then
      k = http.unescape(k)
      if k == "set" or k == "set-json" then seq[#seq + 1] = { name = k, value = http.unescape(v) } end
    end
  end
  return seq
end

-- the key under which eidosd caches the answer to this request: a bundle is
-- a function of the options, the body, Accept and the server's library
-- (same inputs, same bytes), so repeated requests are answered from the response
-- cache. None while user hooks are configured (they may not be pure).
local function cache_key(req, s)
  if not (s and s.cache) then return nil end
  if require("eidos.hooks").active() then return nil end
  local h = require("eidos.core.sha256").new()
  h:update(req.query or "")
  h:update("\n")
  h:update(req.headers["content-type"] or "")
  h:update("\n")
  h:update(req.headers.accept or "") -- the answer's X-API-Version follows it
  h:update("\n")
  h:update(req.body or "")
  return "bundle\n" .. h:hex()
end

-- POST /v1/bundle?deployer=helm&set=gpu-operator:driver.version=570.1&...
function M.post(req, ctx)
  local opts = http.params(req.query, M.PARAMS)
  opts._seq = set_sequence(req.query)
  local s = ctx.server
  local key = cache_key(req, s)
  if key and s.answer_cached(key) then return s.CACHED end
  local d = http.body(req, "a RecipeResult document")
  require("eidos.recipe.build").check_result(d, "the request body")
  -- a recipe that names its criteria must stay within the server's allowlists
  if type(d.criteria) == "table" and #ctx.allow_list > 0 then
    local c = {}
    for _, f in ipairs(recipe_api.FIELDS) do c[f] = d.criteria[f] end
    recipe_api.canonical(ctx, c)
  end
  local t0 = s and s.clock() or os.clock()
  local entries, notes = bundle_files(d, opts, opts._seq, ctx)
  local archive = require("eidos.core.archive")
  local zip = errors.check(archive.bytes("zip", entries))
  local nfiles, size = 0, 0
  for _, e in ipairs(entries) do
    if not e.dir then
      nfiles = nfiles + 1
      size = size + #(e.data or "")
    end
  end
  local secs = (s and s.clock() or os.clock()) - t0
  if s then
    s.observe("bundle_build_seconds", secs)
    s.observe("bundle_size_bytes", #zip)
  end
  local headers = {
    "content-type", "application/zip",
    "content-disposition", 'attachment; filename="bundle.zip"',
    "x-bundle-files", tostring(nfiles),
    "x-bundle-size", tostring(size),
    "x-bundle-duration", string.format("%.3fs", secs),
    "cache-control", "no-store",
  }
  -- what `eidos bundle` would print as warnings
  if opts.bundlers then notes = { BUNDLERS_IGNORED, table.unpack(notes or {}) } end
  for _, n in ipairs(notes or {}) do
    headers[#headers + 1] = "warning"
    headers[#headers + 1] = http.warning(n)
  end
  return 200, zip, headers, false, key
end

local OPTIONS_ORDER = { "kind", "apiVersion", "deployers", "parameters" }
local PARAM_ORDER = { "name", "arg", "type", "repeatable", "values", "default", "help" }

-- GET /v1/bundle/options[?format=]: the BundleOptions document -- the
-- deployers present and the query parameters of POST /v1/bundle (the
-- `eidos bundle` flags shared with the API: eidos.bundle.options), so a
-- client (the console) builds its form from the server it talks to
function M.options(req, ctx)
  local p = http.params(req.query, { format = true })
  local format = http.format(req.headers.accept, p.format)
  local options = require("eidos.bundle.options")
  local params = doc.list({})
  for _, f in ipairs(options.flags) do
    if f.api then
      local values = type(f.values) == "function" and f.values() or f.values
      params[#params + 1] = doc.ordered({
        name = f.name, arg = f.arg, type = f.type or "string", repeatable = f.repeatable and true or false,
        values = values and doc.list({ table.unpack(values) }) or nil, default = f.default, help = f.help,
      }, PARAM_ORDER)
    end
  end
  local body = http.encode(doc.ordered({
    kind = "BundleOptions", apiVersion = require("eidos.recipe.build").API_VERSION,
    deployers = doc.list(options.deployers()), parameters = params,
  }, OPTIONS_ORDER), format)
  local etag = http.etag(body)
  if http.not_modified(req.headers["if-none-match"], etag) then
    return 304, nil, { "etag", etag, "vary", "Accept" }, false
  end
  return 200, body, { "content-type", http.media[format], "etag", etag, "cache-control", "public, max-age=600",
                      "vary", "Accept" }, true
end

return M
