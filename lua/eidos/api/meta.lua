-- eidos.api.meta: GET / (the index of endpoints, from the routing table)
-- and GET /openapi.yaml (api/openapi.yaml: a file of that relative path
-- under an override root wins, else the copy compiled into eidosd).
local doc = require("eidos.doc")
local errors = require("eidos.errors")
local http = require("eidos.api.http")

local M = {}

local INDEX_ORDER = { "service", "version", "commit", "documentation", "routes" }
local ROUTE_ORDER = { "path", "methods", "summary" }

local cache = {}

-- GET /[?format=json|yaml]
function M.index(req, ctx)
  local p = http.params(req.query, { format = true })
  local format = http.format(req.headers.accept, p.format)
  local b = cache[format]
  if not b then
    local build = require("eidos.core.build")
    local routes = doc.list()
    for _, r in ipairs(require("eidos.api.routes")) do
      local methods = {}
      for m in pairs(r.methods or {}) do methods[#methods + 1] = m end
      if (r.methods or {}).GET then methods[#methods + 1] = "HEAD" end
      table.sort(methods)
      routes[#routes + 1] = doc.ordered({ path = r.path, methods = doc.list(methods), summary = r.summary }, ROUTE_ORDER)
    end
    local body = http.encode(doc.ordered({
      service = "eidosd", version = build.version, commit = build.commit,
      documentation = "/openapi.yaml", routes = routes,
    }, INDEX_ORDER), format)
    b = { body = body, etag = http.etag(body) }
    cache[format] = b
  end
  if http.not_modified(req.headers["if-none-match"], b.etag) then
    return 304, nil, { "etag", b.etag, "vary", "Accept" }, false
  end
  return 200, b.body, { "content-type", http.media[format], "etag", b.etag, "cache-control", "public, max-age=60",
                        "vary", "Accept" }, true
end

local function openapi_text(server)
  local res = require("eidos.core.res")
  local text = res.read("api/openapi.yaml")
  if text then return text end
  if server then return server.openapi() end
  errors.raise("notfound", "the OpenAPI document is not available")
end

-- GET /openapi.yaml
function M.openapi(req, ctx)
  http.params(req.query, {})
  local b = cache.openapi
  if not b then
    local body = openapi_text(ctx.server)
    b = { body = body, etag = http.etag(body) }
    cache.openapi = b
  end
  if http.not_modified(req.headers["if-none-match"], b.etag) then
    return 304, nil, { "etag", b.etag }, false
  end
  return 200, b.body, { "content-type", "application/yaml", "etag", b.etag, "cache-control", "public, max-age=3600" }, true
end

return M
