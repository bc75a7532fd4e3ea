-- eidos.api: the HTTP API application run by each eidosd worker.
-- new(cfg, opts) loads what the handlers share (the recipe library,
-- read-only from then on) and returns an app whose handle(req) the C
-- server calls for every request it does not answer itself. opts.server:
-- the server capability eidosd hands in (src/server/lserver.c: metrics,
-- the shared response cache, clocks, the compiled-in OpenAPI document);
-- absent outside eidosd (specs), where handlers carry on without it. It
-- reaches the handlers as ctx.server; nothing probes for it.
--   handle(req) -> status, body, headers (flat list), cache, alias
-- (body: a string or a list of strings sent one after the other; alias: a
-- key the answer is also cached under, see src/server/job.c)
-- req = {method, path, query, headers (lower-case names), body, id, client}.
-- Routing, method checks (405 with Allow), and the mapping of every error
-- to the JSON error body live here. A client never sees a stack trace or a
-- server file path: unexpected errors are logged with the request id and
-- answered "internal server error".
local errors = require("eidos.errors")
local http = require("eidos.api.http")
local log = require("eidos.log")

local M = {}

local ERROR_HEADERS = { "content-type", "application/json", "cache-control", "no-store" }

-- the routes, each with its handlers resolved ("module#function")
local function resolve(routes)
  local index, list = {}, {}
  for _, r in ipairs(routes) do
    local route = { path = r.path, builtin = r.builtin, summary = r.summary, handlers = {}, allow = {} }
    for m, target in pairs(r.methods or {}) do
      route.allow[#route.allow + 1] = m
      if type(target) == "string" then
        local mod, fn = target:match("^([%w%._]+)#([%w_]+)$")
        assert(mod, "route " .. r.path .. ": handler must be 'module#function', got " .. target)
        local h = require(mod)[fn]
        assert(type(h) == "function", "route " .. r.path .. ": " .. target .. " is not a function")
        route.handlers[m] = h
      end
    end
    if route.handlers.GET or r.builtin then route.allow[#route.allow + 1] = "HEAD" end
    table.sort(route.allow)
    index[r.path] = route
    list[#list + 1] = route
  end
  return index, list
end

-- s without "path/file.lua:12: " positions, in time linear in #s (the
-- pattern "[%w._/-]*%.lua:%d+:" would retry its run from every start: a
-- 48 KB selector echoed in a message took 19 s)
local function strip_positions(s)
  local out, pos = {}, 1
  while true do
    local a, b = s:find("%.lua:%d+:%s*", pos)
    if not a then break end
    local st = a
    while st > pos and s:sub(st - 1, st - 1):find("^[%w%._/%-]") do st = st - 1 end
    out[#out + 1] = s:sub(pos, st - 1)
    pos = b + 1
  end
  out[#out + 1] = s:sub(pos)
  return table.concat(out)
end

-- strip what would tell a client where files live on the server
local function scrub(s, roots)
  return http.unroot(strip_positions(tostring(s)), roots)
end

local function scrub_table(t, roots, depth)
  if type(t) ~= "table" or depth > 6 then return t end
  local out = setmetatable({}, getmetatable(t))
  for k, v in pairs(t) do
    if type(v) == "string" then out[k] = scrub(v, roots)
    elseif type(v) == "table" then out[k] = scrub_table(v, roots, depth + 1)
    elseif type(v) ~= "function" and type(v) ~= "thread" then out[k] = v end
  end
  return out
end

function M.new(cfg, opts)
  opts = opts or {}
  local app = { cfg = cfg }
  local roots = http.roots(cfg)

  local server = opts.server
  http.use_server(server)
  app.index, app.routes = resolve(opts.routes or require("eidos.api.routes"))
  -- what the handlers share: config, the recipe library, caches, the server
  app.ctx = require("eidos.api.recipe").context(cfg, opts)

  local function count_failure()
    if server then server.count("handler_errors") end
  end

  local function fail_response(req, e)
    local status, code, msg, details, headers
    if http.is_fail(e) then
      status, code, msg, details, headers = e.status, e.code, e.msg, e.detail, e.headers
    elseif errors.is(e) then
      status = errors.http[e.code] or 500
      code = http.codes[e.code] or "INTERNAL"
      msg, details = e.msg, e.detail
      if status == 500 then
        log.error("request failed", { requestId = req.id, error = tostring(e.msg) })
        count_failure()
        msg, details = "internal server error", nil
      end
      if type(e.detail) == "table" and e.detail.hook then -- named by its file, without the server's paths
        msg, details = e.detail.public, { hook = e.detail.hook }
      end
    else
      log.error("request handler failed", { requestId = req.id, error = tostring(e) })
      count_failure()
      status, code, msg = 500, "INTERNAL", "internal server error"
    end
    local body = http.error_body(status, code, scrub(msg, roots), scrub_table(details, roots, 0), req.id)
    local h = { table.unpack(ERROR_HEADERS) }
    for i = 1, #(headers or {}) do h[#h + 1] = headers[i] end
    return status, body, h, false
  end

  local trace = function(e)
    if errors.is(e) or http.is_fail(e) then return e end
    return debug.traceback(tostring(e), 2)
  end

  local function dispatch(req)
    local route = app.index[req.path]
    if not route or route.builtin then
      local paths = {}
      for _, r in ipairs(app.routes) do paths[#paths + 1] = r.path end
      errors.raise("notfound", string.format("no endpoint %s (endpoints: %s)", req.path, table.concat(paths, ", ")),
        { path = req.path })
    end
    req.api_version = http.api_version(req.headers.accept)
    local m = req.method == "HEAD" and "GET" or req.method
    local h = route.handlers[m]
    if not h then
      http.fail(405, "METHOD_NOT_ALLOWED",
        string.format("method %s is not allowed on %s (allowed: %s)", req.method, route.path, table.concat(route.allow, ", ")),
        { method = req.method, allowed = setmetatable({ table.unpack(route.allow) }, require("eidos.doc").list_mt) },
        { "allow", table.concat(route.allow, ", ") })
    end
    return h(req, app.ctx)
  end

  -- every answer of a Lua handler names the API version (upstream's
  -- X-API-Version; the probes and /metrics, answered in C, do not)
  local function versioned(req, status, body, headers, cache, alias)
    local out = {}
    for i = 1, #(headers or {}), 2 do
      if headers[i] ~= "x-api-version" then
        out[#out + 1] = headers[i]
        out[#out + 1] = headers[i + 1]
      end
    end
    out[#out + 1] = "x-api-version"
    out[#out + 1] = req.api_version or http.API_VERSIONS[1]
    return status, body, out, cache, alias
  end

  function app.handle(req)
    local ok, status, body, headers, cache, alias = xpcall(dispatch, trace, req)
    if ok then return versioned(req, status, body, headers, cache, alias) end
    return versioned(req, fail_response(req, status))
  end

  return app
end

return M
