-- spec/policy/api_spec.lua: the Lua side of the HTTP API without a server:
-- flag values (durations, sizes, listen addresses), strict query strings,
-- content negotiation, ETags, the error body, and the app's routing (405
-- with Allow, 404, errors turned into JSON without file paths).
local config = require("eidos.api.config")
local http = require("eidos.api.http")
local errors = require("eidos.errors")
local cjson = require("cjson")

local function raises(code, f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok)
  assert.is_true(errors.is(e), tostring(e))
  assert.are.equal(code, e.code)
  return e
end

describe("eidos.api.config", function()
  -- durations and sizes are the flag model's (eidos.units): the same
  -- strings mean the same as on every other flag
  it("reads durations and sizes through the flag model", function()
    local o = config.parse({ "--request-timeout", "1m30s", "--shutdown-timeout", "500ms", "--shutdown-delay", "7",
                             "--body-limit", "4MB" })
    local cfg = config.normalize(o)
    assert.are.equal(90, cfg.request_timeout)
    assert.are.equal(0.5, cfg.shutdown_timeout)
    assert.are.equal(7, cfg.shutdown_delay)
    assert.are.equal(4000000, cfg.body_limit)
    assert.are.equal(4194304, config.normalize(config.parse({ "--body-limit", "4Mi" })).body_limit)
    assert.are.equal(4194304, config.normalize(config.parse({})).body_limit)
    local e = raises("invalid", config.parse, { "--request-timeout", "soon" })
    assert.truthy(e.msg:find("--request-timeout", 1, true))
    assert.truthy(e.msg:find("soon", 1, true))
    raises("invalid", config.parse, { "--body-limit", "4 parsecs" })
    raises("invalid", config.parse, { "--request-timeout", "0s" })
  end)
  it("reads listen addresses", function()
    assert.are.same({ "", 8080 }, { config.listen(":8080") })
    assert.are.same({ "127.0.0.1", 0 }, { config.listen("127.0.0.1:0") })
    assert.are.same({ "::1", 9000 }, { config.listen("[::1]:9000") })
    assert.are.same({ "", 80 }, { config.listen("80") })
    raises("invalid", config.listen, "localhost")
    raises("invalid", config.listen, ":99999")
  end)
  it("normalizes the flags into the server configuration", function()
    local cfg = config.normalize(config.parse({ "--listen", "127.0.0.1:9", "--rate", "5", "--burst", "10",
      "--body-limit", "1Ki", "--allow-services", "eks, gke", "--access-log=false" }))
    assert.are.equal(9, cfg.port)
    assert.are.equal(1024, cfg.body_limit)
    assert.are.same({ "eks", "gke" }, cfg.allow.service)
    assert.is_false(cfg.access_log)
    assert.are.equal(30, cfg.shutdown_timeout)
    raises("invalid", function() return config.normalize(config.parse({ "--tls-cert", "a.pem" })) end)
    raises("invalid", config.parse, { "--rate", "-1" })
    raises("invalid", config.parse, { "--threads", "two" })
    assert.are.same({ "10.0.0.0/8", "::1" },
      config.normalize(config.parse({ "--trusted-proxies", "10.0.0.0/8, ::1" })).trusted_proxies)
    raises("invalid", function() return config.normalize(config.parse({ "--trusted-proxies", "ingress" })) end)
  end)
  it("reads the thread pools, the queue limit and the cache bounds", function()
    local cfg = config.normalize(config.parse({ "--handlers", "3", "--bundlers", "1", "--queue-limit", "10",
      "--cache-size", "2Mi", "--cache-entries", "100" }))
    assert.are.same({ 3, 1, 10, 2097152, 100 }, { cfg.handlers, cfg.bundlers, cfg.queue_limit, cfg.cache_size,
      cfg.cache_entries })
    local d = config.normalize(config.parse({}))
    assert.are.same({ 0, 0, 256, 16777216, 65536 }, { d.handlers, d.bundlers, d.queue_limit, d.cache_size,
      d.cache_entries })
    local e = raises("invalid", config.parse, { "--queue-limit", "0" })
    assert.truthy(e.msg:find("--queue-limit", 1, true), e.msg)
    raises("invalid", config.parse, { "--handlers", "-1" })
    raises("invalid", config.parse, { "--bundlers", "257" })
    raises("invalid", config.parse, { "--cache-size", "lots" })
    -- 0 turns the cache off
    local off = config.normalize(config.parse({ "--cache-size", "0", "--cache-entries", "0" }))
    assert.are.same({ 0, 0 }, { off.cache_size, off.cache_entries })
  end)
  it("gives the flags back as arguments", function()
    local specs = { { name = "listen", arg = "A" }, { name = "set", arg = "S", repeatable = true },
                    { name = "access-log" } }
    assert.are.same({ "--listen=:1", "--set=a", "--set=b", "--access-log=false" },
      config.to_args({ listen = ":1", set = { "a", "b" }, ["access-log"] = false }, specs))
  end)
end)

describe("eidos.api.http", function()
  it("parses query strings strictly", function()
    local p = http.params("service=eks&set=a%3Ab%3D1&set=c+d", { service = true, set = "list" })
    assert.are.equal("eks", p.service)
    assert.are.same({ "a:b=1", "c d" }, p.set)
    local e = raises("invalid", http.params, "servce=eks", { service = true, os = true })
    assert.truthy(e.msg:find("servce", 1, true))
    assert.truthy(e.msg:find("os, service", 1, true))
    raises("invalid", http.params, "service=eks&service=gke", { service = true })
  end)
  it("negotiates JSON or YAML", function()
    assert.are.equal("json", http.format(nil))
    assert.are.equal("json", http.format("*/*"))
    assert.are.equal("yaml", http.format("application/yaml"))
    assert.are.equal("yaml", http.format("text/yaml, application/json;q=0.5"))
    assert.are.equal("json", http.format("application/yaml;q=0.5, application/json"))
    assert.are.equal("json", http.format("text/html"))
    assert.are.equal("yaml", http.format("application/json", "yaml"))
    raises("invalid", http.format, nil, "xml")
  end)
  it("matches If-None-Match", function()
    assert.is_true(http.not_modified('"a"', '"a"'))
    assert.is_true(http.not_modified('"x", W/"a"', '"a"'))
    assert.is_true(http.not_modified("*", '"a"'))
    assert.is_false(http.not_modified('"b"', '"a"'))
    assert.is_false(http.not_modified(nil, '"a"'))
  end)
  it("writes the error body in a fixed key order", function()
    local body = http.error_body(429, "RATE_LIMIT_EXCEEDED", "slow down", { limit = 1 }, "id-1")
    assert.truthy(body:match('^{"code":"RATE_LIMIT_EXCEEDED","message":"slow down","details":{"limit":1},'
      .. '"requestId":"id%-1","timestamp":"[^"]+","retryable":true}\n$'), body)
    assert.truthy(http.error_body(400, "INVALID_REQUEST", "x", nil, "i"):find('"details":{}', 1, true))
  end)
  it("reads bodies by Content-Type", function()
    assert.are.equal("eks", http.body({ headers = { ["content-type"] = "application/json" }, body = '{"a":"eks"}' }, "x").a)
    assert.are.equal("eks", http.body({ headers = {}, body = "a: eks\n" }, "x").a)
    local ok, e = pcall(http.body, { headers = { ["content-type"] = "text/csv" }, body = "a" }, "x")
    assert.is_false(ok)
    assert.is_true(http.is_fail(e))
    assert.are.equal(415, e.status)
    raises("invalid", http.body, { headers = {}, body = "  " }, "x")
  end)
end)

describe("eidos.api app", function()
  local app
  setup(function()
    local routes = {
      { path = "/t", methods = { GET = "spec_api_handlers#ok", POST = "spec_api_handlers#boom" } },
      { path = "/bad", methods = { GET = "spec_api_handlers#bad" } },
      { path = "/health", builtin = "health", methods = { GET = true } },
    }
    package.loaded.spec_api_handlers = {
      ok = function() return 200, "ok\n", { "content-type", "text/plain" }, true end,
      boom = function() error("exploded in /srv/app/lua/eidos/api/x.lua:12") end,
      bad = function() errors.raise("invalid", "bad value \"q\" (accepted: a, b)", { field = "q" }) end,
    }
    package.loaded["eidos.api.recipe"] = package.loaded["eidos.api.recipe"] or require("eidos.api.recipe")
    app = require("eidos.api").new(config.normalize({}), { routes = routes })
  end)
  teardown(function() package.loaded.spec_api_handlers = nil end)

  local function req(method, path)
    return { method = method, path = path, query = "", headers = {}, id = "rid" }
  end

  it("calls the handler of the route and method; HEAD is GET", function()
    assert.are.same({ 200, "ok\n", { "content-type", "text/plain", "x-api-version", "v1" }, true },
      { app.handle(req("GET", "/t")) })
    assert.are.equal(200, (app.handle(req("HEAD", "/t"))))
  end)
  it("answers 405 with Allow", function()
    local status, body, headers = app.handle(req("PUT", "/t"))
    assert.are.equal(405, status)
    local j = cjson.decode(body)
    assert.are.equal("METHOD_NOT_ALLOWED", j.code)
    assert.are.equal("rid", j.requestId)
    local h = {}
    for i = 1, #headers, 2 do h[headers[i]] = headers[i + 1] end
    assert.are.equal("GET, HEAD, POST", h.allow)
  end)
  it("answers 404 for unknown paths and for built-in routes C answers", function()
    assert.are.equal(404, (app.handle(req("GET", "/nope"))))
    assert.are.equal(404, (app.handle(req("GET", "/health"))))
  end)
  it("turns structured errors into their status and keeps their message", function()
    local status, body = app.handle(req("GET", "/bad"))
    assert.are.equal(400, status)
    local j = cjson.decode(body)
    assert.are.equal("INVALID_REQUEST", j.code)
    assert.are.equal('bad value "q" (accepted: a, b)', j.message)
    assert.are.equal("q", j.details.field)
    assert.is_false(j.retryable)
  end)
  it("answers 500 without the cause for unexpected errors, and logs the cause", function()
    local log = require("eidos.log")
    local logged, orig = {}, log.error
    log.error = function(msg, f) logged[#logged + 1] = { msg = msg, f = f } end
    local status, body = app.handle(req("POST", "/t"))
    log.error = orig
    assert.are.equal(1, #logged)
    assert.are.equal("rid", logged[1].f.requestId)
    assert.truthy(logged[1].f.error:find("exploded", 1, true))
    assert.are.equal(500, status)
    local j = cjson.decode(body)
    assert.are.equal("internal server error", j.message)
    assert.falsy(body:find("srv", 1, true))
    assert.is_true(j.retryable)
  end)
end)

describe("api/openapi.yaml", function()
  local d
  setup(function()
    local support = require("support")
    d = assert(require("eidos.core.yaml").load(assert(support.read(support.root .. "/api/openapi.yaml"))))
  end)

  it("is OpenAPI 3 with every $ref resolving", function()
    assert.truthy(tostring(d.openapi):match("^3%.0%.%d+$"))
    local n = 0
    local function walk(v)
      if type(v) ~= "table" then return end
      for k, x in pairs(v) do
        if k == "$ref" then
          local node = d
          for part in x:gsub("^#/", ""):gmatch("[^/]+") do node = type(node) == "table" and node[part] or nil end
          assert.is_table(node, "unresolved $ref " .. x)
          n = n + 1
        else
          walk(x)
        end
      end
    end
    walk(d)
    assert.truthy(n > 50)
  end)
  it("describes every route of the routing table, with its methods", function()
    for _, r in ipairs(require("eidos.api.routes")) do
      local item = d.paths[r.path]
      assert.is_table(item, r.path)
      for m in pairs(r.methods) do
        local op = item[m:lower()]
        assert.is_table(op, m .. " " .. r.path)
        assert.is_table(op.responses, m .. " " .. r.path)
      end
    end
  end)
  it("lists every error code the server answers", function()
    local codes = {}
    for _, c in ipairs(d.components.schemas.Error.properties.code.enum) do codes[c] = true end
    for _, c in pairs(http.codes) do assert.is_true(codes[c], c) end
    for _, c in ipairs({ "METHOD_NOT_ALLOWED", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE" }) do
      assert.is_true(codes[c], c)
    end
  end)
end)
