-- spec/e2e/server_spec.lua: eidosd end to end, over real sockets on a free
-- loopback port: every endpoint and error status, ETag/304, request ids,
-- the rate limit and its headers, the body limit, deadlines, clients that
-- go away mid-request, and graceful shutdown with a request in flight.
-- The main server runs the real recipe engine once lua/eidos/recipe has
-- landed (the stand-in of spec/fixtures/server until then); the servers
-- that need a slow or failing build always use the stand-in.
local support = require("support")
local srv = require("e2e.eidosd")
local yaml = require("eidos.core.yaml")

if not srv.available() then
  describe("eidosd", function()
    pending("not built: " .. srv.bin .. " is missing (libh2o-evloop-dev, see scripts/install-deps)")
  end)
  return
end

local Q = "/v1/recipe?service=eks&accelerator=h100&intent=training&os=ubuntu"
local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

-- every error answer has the same shape and tells no server secrets
local function assert_error(r, status, code)
  assert.are.equal(status, r.status)
  assert.are.equal("application/json", r.headers["content-type"])
  assert.is_table(r.json, "error body is not JSON: " .. r.body)
  local j = r.json
  assert.are.equal(code, j.code)
  assert.is_string(j.message)
  assert.is_table(j.details)
  assert.are.equal(r.headers["x-request-id"], j.requestId)
  assert.truthy(j.timestamp:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%dZ$"), j.timestamp)
  assert.are.equal(status == 429 or status >= 500, j.retryable)
  assert.falsy(r.body:find("traceback", 1, true), r.body)
  assert.falsy(r.body:find("%.lua"), r.body)
  assert.falsy(r.body:find(support.root, 1, true), r.body)
  return j
end

describe("eidosd", function()
  local s

  setup(function()
    s = srv.start({ args = { "--body-limit=64KiB", "--rate=0" } })
  end)
  teardown(function() srv.stop(s) end)

  describe("GET /", function()
    it("lists the endpoints", function()
      local r = srv.get(s, "/")
      assert.are.equal(200, r.status)
      assert.are.equal("eidosd", r.json.service)
      local paths = {}
      for _, route in ipairs(r.json.routes) do paths[route.path] = route.methods end
      for _, p in ipairs({ "/v1/recipe", "/v1/query", "/v1/bundle", "/health", "/ready", "/metrics", "/openapi.yaml" }) do
        assert.is_table(paths[p], p)
      end
    end)
    it("answers other methods with 405 and Allow", function()
      local r = srv.request(s, "POST", "/", { body = "{}", headers = { "Content-Type: application/json" } })
      assert_error(r, 405, "METHOD_NOT_ALLOWED")
      assert.are.equal("GET, HEAD", r.headers.allow)
    end)
  end)

  it("GET /openapi.yaml serves the OpenAPI 3 document", function()
    local r = srv.get(s, "/openapi.yaml")
    assert.are.equal(200, r.status)
    assert.are.equal("application/yaml", r.headers["content-type"])
    local d = assert(yaml.load(r.body))
    assert.truthy(tostring(d.openapi):match("^3%."))
    for _, p in ipairs({ "/v1/recipe", "/v1/query", "/v1/bundle", "/health", "/ready", "/metrics" }) do
      assert.is_table(d.paths[p], p)
    end
  end)

  describe("probes", function()
    it("GET /health is 200", function()
      local r = srv.get(s, "/health")
      assert.are.equal(200, r.status)
      assert.are.equal("healthy", r.json.status)
      assert.are.equal("no-store", r.headers["cache-control"])
    end)
    it("GET /ready is 200 while serving", function()
      local r = srv.get(s, "/ready")
      assert.are.equal(200, r.status)
      assert.are.equal("ready", r.json.status)
    end)
    it("HEAD is answered without a body", function()
      for _, path in ipairs({ "/health", Q, Q }) do -- built-in, Lua, response cache
        local out = srv.raw("head-then-get", s.port, path)
        local a, b, body = out:match("^(.-)|(.-)|(.*)$")
        assert.are.equal("HTTP/1.1 200 OK", a, out)
        assert.are.equal("HTTP/1.1 200 OK", b, out)
        assert.truthy(body:match('^{"status":"healthy"'), out)
      end
    end)
    it("other methods get 405 with Allow", function()
      local r = srv.request(s, "POST", "/health", { body = "x" })
      assert_error(r, 405, "METHOD_NOT_ALLOWED")
      assert.are.equal("GET, HEAD", r.headers.allow)
    end)
  end)

  describe("GET /v1/recipe", function()
    local first
    setup(function() first = srv.get(s, Q) end)

    it("answers JSON with an ETag and Cache-Control", function()
      assert.are.equal(200, first.status, first.body)
      assert.are.equal("application/json", first.headers["content-type"])
      assert.are.equal("RecipeResult", first.json.kind)
      assert.are.equal("eks", first.json.criteria.service)
      assert.truthy(first.headers.etag:match('^"%x+"$'), first.headers.etag)
      assert.truthy(first.headers["cache-control"]:find("max-age", 1, true))
      assert.are.equal("Accept", first.headers.vary)
    end)
    it("generates a request id", function()
      assert.truthy(first.headers["x-request-id"]:match(UUID), first.headers["x-request-id"])
    end)
    it("answers the same bytes again (cached) with the same ETag", function()
      for _ = 1, 3 do
        local r = srv.get(s, Q)
        assert.are.equal(first.body, r.body)
        assert.are.equal(first.headers.etag, r.headers.etag)
        assert.are_not.equal(first.headers["x-request-id"], r.headers["x-request-id"])
      end
    end)
    it("answers 304 to If-None-Match with the ETag", function()
      for _ = 1, 3 do -- from Lua, then from the response cache
        local r = srv.get(s, Q, { "If-None-Match: " .. first.headers.etag })
        assert.are.equal(304, r.status)
        assert.are.equal("", r.body)
        assert.are.equal(first.headers.etag, r.headers.etag)
      end
      local r = srv.get(s, Q, { 'If-None-Match: "other", W/' .. first.headers.etag })
      assert.are.equal(304, r.status)
      r = srv.get(s, Q, { 'If-None-Match: "0123"' })
      assert.are.equal(200, r.status)
    end)
    it("shares one answer between spellings of the same criteria", function()
      local r = srv.get(s, "/v1/recipe?os=ubuntu&intent=training&gpu=h100&service=EKS")
      assert.are.equal(200, r.status, r.body)
      assert.are.equal(first.headers.etag, r.headers.etag)
    end)
    it("answers YAML for Accept: application/yaml and ?format=yaml", function()
      for _, r in ipairs({ srv.get(s, Q, { "Accept: application/yaml" }), srv.get(s, Q .. "&format=yaml") }) do
        assert.are.equal(200, r.status)
        assert.are.equal("application/yaml", r.headers["content-type"])
        local d = assert(yaml.load(r.body))
        assert.are.equal("RecipeResult", d.kind)
        assert.are_not.equal(first.headers.etag, r.headers.etag)
      end
      local r = srv.get(s, Q, { "Accept: application/yaml;q=0.5, application/json" })
      assert.are.equal("application/json", r.headers["content-type"])
    end)
    it("rejects an unknown criteria value with 400 naming it and what is accepted", function()
      local r = srv.get(s, "/v1/recipe?service=nope")
      local j = assert_error(r, 400, "INVALID_REQUEST")
      assert.truthy(j.message:find("nope", 1, true), j.message)
      assert.truthy(j.message:find("eks", 1, true), j.message)
    end)
    it("rejects an unknown or repeated query parameter", function()
      local j = assert_error(srv.get(s, "/v1/recipe?servce=eks"), 400, "INVALID_REQUEST")
      assert.truthy(j.message:find("servce", 1, true))
      assert.truthy(j.message:find("accelerator", 1, true))
      assert_error(srv.get(s, "/v1/recipe?service=eks&service=gke"), 400, "INVALID_REQUEST")
      assert_error(srv.get(s, "/v1/recipe?nodes=-1"), 400, "INVALID_REQUEST")
      assert_error(srv.get(s, "/v1/recipe?format=xml"), 400, "INVALID_REQUEST")
    end)
    it("answers other methods with 405 and Allow", function()
      local r = srv.request(s, "DELETE", Q)
      assert_error(r, 405, "METHOD_NOT_ALLOWED")
      assert.are.equal("GET, HEAD, POST", r.headers.allow)
    end)
  end)

  describe("POST /v1/recipe", function()
    local get
    setup(function() get = srv.get(s, Q) end)

    it("takes a RecipeCriteria document as JSON", function()
      local r = srv.request(s, "POST", "/v1/recipe", { headers = { "Content-Type: application/json" },
        body = '{"kind":"RecipeCriteria","apiVersion":"eidos.nvidia.com/v1alpha1","metadata":{"name":"t"},'
          .. '"spec":{"service":"eks","accelerator":"h100","intent":"training","os":"ubuntu"}}' })
      assert.are.equal(200, r.status, r.body)
      assert.are.equal(get.headers.etag, r.headers.etag)
      assert.are.equal(get.body, r.body)
    end)
    it("takes it as YAML, and answers YAML when asked", function()
      local r = srv.request(s, "POST", "/v1/recipe", {
        headers = { "Content-Type: application/yaml", "Accept: application/yaml" },
        body = "kind: RecipeCriteria\nspec:\n  service: eks\n  accelerator: h100\n  intent: training\n  os: ubuntu\n" })
      assert.are.equal(200, r.status, r.body)
      assert.are.equal("application/yaml", r.headers["content-type"])
      assert.are.equal("RecipeResult", yaml.load(r.body).kind)
    end)
    it("rejects an empty body, a wrong kind and an unknown field with 400", function()
      local function post(body)
        return srv.request(s, "POST", "/v1/recipe", { headers = { "Content-Type: application/json" }, body = body })
      end
      assert_error(post(""), 400, "INVALID_REQUEST")
      assert_error(post('{"kind":"Snapshot"}'), 400, "INVALID_REQUEST")
      assert_error(post('{"spec":{"servise":"eks"}}'), 400, "INVALID_REQUEST")
      assert_error(post('{"spec": [1, 2'), 400, "INVALID_REQUEST")
    end)
    it("rejects another Content-Type with 415", function()
      local r = srv.request(s, "POST", "/v1/recipe", { headers = { "Content-Type: text/plain" }, body = "service: eks" })
      local j = assert_error(r, 415, "UNSUPPORTED_MEDIA_TYPE")
      assert.truthy(j.message:find("application/json", 1, true))
    end)
    it("rejects a body over --body-limit with 413", function()
      local big = '{"spec":{"service":"eks"},"pad":"' .. string.rep("x", 70 * 1024) .. '"}'
      local r = srv.request(s, "POST", "/v1/recipe", { headers = { "Content-Type: application/json" }, body = big })
      local j = assert_error(r, 413, "PAYLOAD_TOO_LARGE")
      assert.are.equal(65536, j.details.limitBytes)
      -- and the server is fine afterwards
      assert.are.equal(200, srv.get(s, "/health").status)
    end)
  end)

  describe("/v1/query", function()
    it("answers one value of the hydrated recipe", function()
      local r = srv.get(s, "/v1/query?service=eks&accelerator=h100&intent=training&selector=criteria.service")
      assert.are.equal(200, r.status, r.body)
      assert.are.equal('"eks"\n', r.body)
      assert.truthy(r.headers.etag)
      local again = srv.get(s, "/v1/query?service=eks&accelerator=h100&intent=training&selector=criteria.service",
        { "If-None-Match: " .. r.headers.etag })
      assert.are.equal(304, again.status)
    end)
    it("answers a map as YAML when asked", function()
      local r = srv.get(s, "/v1/query?service=eks&selector=criteria&format=yaml")
      assert.are.equal(200, r.status, r.body)
      assert.are.equal("eks", yaml.load(r.body).service)
    end)
    it("answers 404 for a missing key, listing the keys there", function()
      local r = srv.get(s, "/v1/query?service=eks&selector=criteria.nope")
      local j = assert_error(r, 404, "NOT_FOUND")
      assert.truthy(j.message:find("nope", 1, true), j.message)
      assert.truthy(j.message:find("service", 1, true), j.message)
    end)
    it("takes POST {criteria, selector}", function()
      local r = srv.request(s, "POST", "/v1/query", { headers = { "Content-Type: application/json" },
        body = '{"criteria":{"service":"eks","accelerator":"h100","intent":"training"},"selector":"criteria.accelerator"}' })
      assert.are.equal(200, r.status, r.body)
      assert.are.equal('"h100"\n', r.body)
      assert_error(srv.request(s, "POST", "/v1/query", { headers = { "Content-Type: application/json" },
        body = '{"selector":"criteria"}' }), 400, "INVALID_REQUEST")
    end)
  end)

  describe("POST /v1/bundle", function()
    it("answers a zip with X-Bundle-Files and X-Bundle-Size, or 503 without a bundler", function()
      local recipe = srv.get(s, Q)
      local r = srv.request(s, "POST", "/v1/bundle?deployer=helm",
        { headers = { "Content-Type: application/json" }, body = recipe.body })
      if not s.stub and not srv.real_bundler() then
        assert_error(r, 503, "SERVICE_UNAVAILABLE")
        return
      end
      assert.are.equal(200, r.status, r.body)
      assert.are.equal("application/zip", r.headers["content-type"])
      assert.are.equal("PK\3\4", r.body:sub(1, 4))
      assert.truthy(tonumber(r.headers["x-bundle-files"]) > 0)
      assert.truthy(tonumber(r.headers["x-bundle-size"]) > 0)
      assert.truthy(r.headers["content-disposition"]:find("attachment", 1, true))
    end)
    it("rejects an unknown option, a bad body and a wrong kind with 400", function()
      local function post(q, body)
        return srv.request(s, "POST", "/v1/bundle" .. q, { headers = { "Content-Type: application/json" }, body = body })
      end
      assert_error(post("?deployr=helm", '{"kind":"RecipeResult"}'), 400, "INVALID_REQUEST")
      if s.stub or srv.real_bundler() then
        assert_error(post("", "[1,2,3]"), 400, "INVALID_REQUEST")
        assert_error(post("", '{"kind":"RecipeCriteria"}'), 400, "INVALID_REQUEST")
      end
    end)
    it("accepts only POST", function()
      local r = srv.get(s, "/v1/bundle")
      assert_error(r, 405, "METHOD_NOT_ALLOWED")
      assert.are.equal("POST", r.headers.allow)
    end)
  end)

  it("answers an unknown path with 404", function()
    local r = srv.get(s, "/v2/recipe")
    local j = assert_error(r, 404, "NOT_FOUND")
    assert.truthy(j.message:find("/v1/recipe", 1, true), j.message)
  end)

  describe("X-Request-Id", function()
    it("echoes a valid incoming id, on errors too", function()
      for _, path in ipairs({ "/health", Q, "/nope" }) do
        local r = srv.get(s, path, { "X-Request-Id: trace-1234.abc:5" })
        assert.are.equal("trace-1234.abc:5", r.headers["x-request-id"])
      end
      local r = srv.get(s, "/nope", { "X-Request-Id: 6f1d2c3e-1111-4222-8333-944455556666" })
      assert.are.equal("6f1d2c3e-1111-4222-8333-944455556666", r.json.requestId)
    end)
    it("replaces an invalid one", function()
      for _, id in ipairs({ "has space", string.rep("a", 200), "semi;colon" }) do
        local r = srv.get(s, "/health", { "X-Request-Id: " .. id })
        assert.truthy(r.headers["x-request-id"]:match(UUID), r.headers["x-request-id"])
      end
    end)
  end)

  describe("clients that go away", function()
    it("a client closing half way through a body, or before its answer, leaves the server well", function()
      assert.are.equal("aborted", srv.raw("abort-body", s.port))
      assert.are.equal("aborted", srv.raw("abort-wait", s.port, Q))
      assert.are.equal("held", srv.raw("hold", s.port, 0.2))
      srv.sleep(0.3)
      local m = srv.metrics(s)
      assert.are.equal(1, m.eidos_http_requests_in_flight) -- this /metrics request
      assert.are.equal(1, m.eidos_http_connections)
      assert.are.equal(200, srv.get(s, Q).status)
    end)
  end)

  it("writes one JSON access-log line per request", function()
    srv.get(s, "/health", { "X-Request-Id: access-log-probe" })
    srv.sleep(0.2)
    local line = (support.read(s.log) or ""):match("[^\n]*access%-log%-probe[^\n]*")
    assert.truthy(line)
    local j = require("cjson").decode(line)
    assert.are.equal("request", j.msg)
    assert.are.equal(200, j.status)
    assert.are.equal("/health", j.route)
    assert.are.equal("GET", j.method)
    assert.is_number(j.durationMs)
  end)
end)

describe("eidosd with the stand-in engine", function()
  local s
  setup(function()
    s = srv.start({ stub = true, args = { "--request-timeout=700ms", "--rate=0" } })
  end)
  teardown(function() srv.stop(s) end)

  it("answers 500 without details when a handler fails, and logs the cause", function()
    local r = srv.get(s, "/v1/recipe?service=eks&nodes=5005", { "X-Request-Id: fail-probe" })
    local j = assert_error(r, 500, "INTERNAL")
    assert.are.equal("internal server error", j.message)
    assert.falsy(r.body:find("secret", 1, true))
    srv.sleep(0.2)
    local log = support.read(s.log)
    assert.truthy(log:find('"level":"error"[^\n]*fail%-probe') or log:find('fail%-probe[^\n]*"level":"error"'))
    assert.are.equal(1, srv.metrics(s).eidos_handler_errors_total)
  end)
  it("answers 504 when a request passes its deadline", function()
    local r = srv.get(s, "/v1/recipe?service=eks&nodes=4242")
    local j = assert_error(r, 504, "TIMEOUT")
    assert.are.equal(700, j.details.deadlineMs)
    assert.are.equal(200, srv.get(s, "/v1/recipe?service=eks").status)
  end)
  it("answers the bundler's errors: 400 for a bad recipe, 503 when it is unavailable", function()
    local function post(q, body)
      return srv.request(s, "POST", "/v1/bundle" .. q, { headers = { "Content-Type: application/json" }, body = body })
    end
    assert_error(post("", '{"kind":"RecipeResult","componentRefs":[]}'), 400, "INVALID_REQUEST")
    local r = post("?deployer=offline", '{"kind":"RecipeResult","componentRefs":[{"name":"a"}]}')
    local j = assert_error(r, 503, "SERVICE_UNAVAILABLE")
    assert.is_true(j.retryable)
  end)
end)

describe("eidosd rate limit", function()
  local s
  setup(function() s = srv.start({ args = { "--rate=1", "--burst=2" } }) end)
  teardown(function() srv.stop(s) end)

  it("lets a burst through with X-RateLimit headers, then answers 429 with Retry-After", function()
    local a, b, c = srv.get(s, "/"), srv.get(s, "/"), srv.get(s, "/")
    assert.are.equal(200, a.status)
    assert.are.equal("2", a.headers["x-ratelimit-limit"])
    assert.are.equal("1", a.headers["x-ratelimit-remaining"])
    assert.truthy(tonumber(a.headers["x-ratelimit-reset"]) >= os.time())
    assert.are.equal(200, b.status)
    assert.are.equal("0", b.headers["x-ratelimit-remaining"])
    local j = assert_error(c, 429, "RATE_LIMIT_EXCEEDED")
    assert.are.equal("1", c.headers["retry-after"])
    assert.are.equal("0", c.headers["x-ratelimit-remaining"])
    assert.are.equal(1, j.details.limit)
    assert.are.equal(2, j.details.burst)
  end)
  it("does not limit the probes and the metrics", function()
    for _ = 1, 5 do assert.are.equal(200, srv.get(s, "/health").status) end
    local m = srv.metrics(s)
    assert.truthy(m.eidos_rate_limit_rejects_total >= 1)
  end)
  it("refills at --rate", function()
    srv.sleep(1.1)
    assert.are.equal(200, srv.get(s, "/").status)
  end)
end)

describe("eidosd behind a trusted proxy", function()
  local s
  setup(function() s = srv.start({ args = { "--rate=0.001", "--burst=1", "--trusted-proxies=127.0.0.0/8, ::1" } }) end)
  teardown(function() srv.stop(s) end)

  it("limits each client named by X-Forwarded-For, believing only the trusted hops", function()
    local function get(xff) return srv.get(s, "/", { "X-Forwarded-For: " .. xff, "X-Request-Id: xff-" .. xff:gsub("[^%w]", "") }) end
    assert.are.equal(200, get("203.0.113.5").status)
    assert.are.equal(429, get("203.0.113.5").status)
    assert.are.equal(200, get("203.0.113.6").status)
    -- a client cannot escape its bucket by writing addresses in front of its own
    assert.are.equal(429, get("198.51.100.1, 203.0.113.5").status)
    -- a trusted hop between is skipped
    assert.are.equal(429, get("203.0.113.6, 127.0.0.9").status)
    srv.sleep(0.2)
    local line = (support.read(s.log) or ""):match("[^\n]*xff%-20301135[^\n]*")
    assert.truthy(line)
    assert.truthy(line:find('"client":"203.0.113.5"', 1, true), line)
  end)
end)

describe("eidosd allowlists", function()
  local s
  setup(function()
    s = srv.start({ args = { "--rate=0" }, env = { EIDOS_ALLOWED_SERVICES = "eks, gke" } })
  end)
  teardown(function() srv.stop(s) end)

  it("refuses criteria the server does not offer, naming what it offers", function()
    assert.are.equal(200, srv.get(s, "/v1/recipe?service=gke").status)
    local j = assert_error(srv.get(s, "/v1/recipe?service=aks"), 400, "INVALID_REQUEST")
    assert.truthy(j.message:find("aks", 1, true))
    assert.truthy(j.message:find("eks, gke", 1, true), j.message)
  end)
  it("refuses to start with an allowlist value that is not a criteria value", function()
    local bad = srv.start and pcall(srv.start, { args = { "--allow-services=nope" } })
    assert.is_false(bad)
  end)
  it("a bad allowlist value stops it at start (exit 2), once, naming where the value came from", function()
    local cases = {
      { args = { "--allow-os=windoze" }, bad = "windoze", from = "in --allow-os:" },
      { env = { EIDOS_ALLOWED_OS = "ubuntu, windoze" }, bad = "windoze", from = "in EIDOS_ALLOWED_OS:" },
      { env = { AICR_ALLOWED_ACCELERATORS = "h100,h1000" }, bad = "h1000", near = "h100",
        from = "in AICR_ALLOWED_ACCELERATORS (read as --allow-accelerators):" },
      { env = { EIDOS_ALLOWED_PLATFORMS = "kubeflo" }, bad = "kubeflo", near = "kubeflow", from = "in EIDOS_ALLOWED_PLATFORMS:" },
      -- the flag wins over its variable, so the message names the flag
      { args = { "--allow-intents=trainin" }, env = { EIDOS_ALLOWED_INTENTS = "training" }, bad = "trainin",
        near = "training", from = "in --allow-intents:" },
      -- eidos serve hands the environment on to eidosd
      { cli = true, env = { EIDOS_ALLOWED_OS = "windoze" }, bad = "windoze", from = "in EIDOS_ALLOWED_OS:" },
    }
    for _, c in ipairs(cases) do
      local args = { "--listen=127.0.0.1:0", "--handlers=2", "--bundlers=2", table.unpack(c.args or {}) }
      if c.cli then table.insert(args, 1, "serve") end
      local env = { EIDOS_HOME = support.root, EIDOSD = srv.bin }
      for k, v in pairs(c.env or {}) do env[k] = v end
      local r = support.run(args, { bin = not c.cli and srv.bin or nil, env = env })
      assert.are.equal(2, r.code, r.err)
      local want = string.format("invalid value \"%s\" %s", c.bad, c.from)
      -- eidosd logs JSON lines (quotes escaped), eidos serve plain text
      local text = r.err:gsub('\\"', '"')
      local _, n = text:gsub(want:gsub("%p", "%%%0"), "")
      -- in the main thread, before any worker: one message, not one per state
      assert.are.equal(1, n, r.err)
      if c.near then assert.matches(string.format("did you mean \"%s\"", c.near), text, 1, true) end
    end
  end)
end)

describe("eidos serve", function()
  it("runs eidosd with its flags", function()
    local s = srv.start({ cli = true, args = { "--rate=7", "--burst=9" } })
    local r = srv.get(s, "/")
    assert.are.equal(200, r.status)
    assert.are.equal("9", r.headers["x-ratelimit-limit"])
    srv.signal(s, "TERM")
    assert.are.equal(0, srv.wait(s, 10))
    srv.stop(s)
  end)
  it("eidosd names itself in flag errors, and its help lists only the global flags it uses", function()
    local env = { EIDOS_HOME = support.root }
    local r = support.run({ "--bogus" }, { bin = srv.bin, env = env })
    assert.are.equal(2, r.code)
    assert.matches([[unknown flag \"--bogus\" for 'eidosd' (see 'eidosd --help' for its flags)]], r.err, 1, true)
    assert.not_matches("eidos serve", r.err, 1, true)
    -- a flag eidosd has no use for is unknown to it and to `eidos serve` alike
    for _, bin in ipairs({ srv.bin, support.eidos }) do
      local args = bin == srv.bin and { "--kubeconfig", "/x" } or { "serve", "--kubeconfig", "/x" }
      r = support.run(args, { bin = bin, env = { EIDOS_HOME = support.root, EIDOSD = srv.bin } })
      assert.are.equal(2, r.code, r.err)
      local name = bin == srv.bin and "eidosd" or "eidos serve"
      assert.matches(string.format([[unknown flag \?"%%-%%-kubeconfig\?" for '%s': a global flag of eidos that '%s' ]] ..
        "does not take %%(its global flags: [^)]*%%-%%-plain%%-http", name, name), r.err)
    end
    -- so are the terminal's flags (it logs JSON lines and draws nothing)
    for _, f in ipairs({ "--quiet", "-q", "--color=never", "--wide", "--log-json" }) do
      r = support.run({ f }, { bin = srv.bin, env = env })
      assert.are.equal(2, r.code, f .. ": " .. r.err)
      assert.matches("a global flag of eidos that 'eidosd' does not take", r.err, 1, true)
    end
    -- completion offers the same flags as parsing and help
    local offered = support.run({ "__complete", "serve", "--" }, { env = env }).out
    assert.matches("--plain-http", offered, 1, true)
    assert.matches("--allow-os", offered, 1, true)
    assert.not_matches("--kubeconfig", offered, 1, true)
    assert.not_matches("--quiet", offered, 1, true)
    for _, args in ipairs({ { bin = srv.bin, "--help" }, { bin = support.eidos, "serve", "--help" } }) do
      local out = support.run(args, { bin = args.bin, env = env }).out
      local globals = out:match("Global flags:\n(.-)\n\n")
      assert.is_string(globals, out)
      for _, f in ipairs({ "--kubeconfig", "--context", "--log-json" }) do assert.not_matches(f, globals, 1, true) end
      for _, f in ipairs({ "--plain-http", "--registry-config", "--insecure-tls", "--hooks", "--max-input-size",
                           "--log-level" }) do
        assert.matches(f, globals, 1, true)
      end
      assert.matches("--data DIR|oci://REF", out, 1, true)
      -- eidosd's own defaults, not the CLI's
      assert.matches("%-%-log%-level LEVEL%s+least severe level logged %(default info", globals)
    end
  end)
  it("checks the flags before starting anything", function()
    local r = support.run({ "serve", "--rate=fast" }, { env = { EIDOSD = srv.bin, EIDOS_HOME = support.root } })
    assert.are.equal(2, r.code)
    assert.truthy(r.err:find("--rate", 1, true), r.err)
  end)
end)

describe("eidosd graceful shutdown", function()
  it("turns /ready to 503 at once and keeps serving for --shutdown-delay, then exits 0", function()
    local s = srv.start({ args = { "--shutdown-delay=1500ms" } })
    srv.signal(s, "TERM")
    srv.sleep(0.2)
    local r = srv.get(s, "/ready")
    assert.are.equal(503, r.status)
    assert.are.equal("not_ready", r.json.status)
    assert.are.equal("close", r.headers.connection)
    assert.are.equal(200, srv.get(s, "/health").status)
    assert.are.equal(0, srv.wait(s, 10))
    srv.stop(s)
  end)

  it("finishes a request whose body is still arriving, refuses new connections, exits 0", function()
    local s = srv.start({ args = { "--threads=1" } })
    local out = srv.raw("upload-across-stop", s.port, s.pid,
      '{"spec":{"service":"eks","accelerator":"h100","intent":"training","os":"ubuntu"}}')
    local status, conn, new = out:match("^(.-)|(.-)|(.*)$")
    assert.are.equal("HTTP/1.1 200 OK", status, out)
    assert.are.equal("close", conn)
    assert.are.equal("new-connection-refused", new)
    assert.are.equal(0, srv.wait(s, 10))
    srv.stop(s)
  end)

  it("finishes a request being computed when the signal comes", function()
    local s = srv.start({ stub = true })
    local d = support.tmpdir()
    os.execute(string.format("curl -s -o %s/body -w '%%{http_code}' '%s/v1/recipe?service=eks&nodes=4242' > %s/code 2>/dev/null &",
      d, s.base, d))
    srv.sleep(0.5)
    srv.signal(s, "TERM")
    assert.are.equal(0, srv.wait(s, 15))
    srv.sleep(0.2)
    assert.are.equal("200", support.read(d .. "/code"))
    assert.truthy(support.read(d .. "/body"):find("RecipeResult", 1, true))
    os.execute("rm -rf " .. d)
    srv.stop(s)
  end)

  it("exits 1 when --shutdown-timeout cuts a request that does not finish", function()
    local s = srv.start({ args = { "--threads=1", "--shutdown-timeout=1s" } })
    os.execute(string.format("python3 %s/rawclient.py hold %d 5 >/dev/null 2>&1 &", srv.fixtures, s.port))
    os.execute(string.format("python3 %s/rawclient.py stall %d 5 >/dev/null 2>&1 &", srv.fixtures, s.port))
    -- both clients connected (a loaded machine starts python slowly): theirs
    -- and this /metrics request's connection
    for _ = 1, 100 do
      if (srv.metrics(s).eidos_http_connections or 0) >= 3 then break end
      srv.sleep(0.1)
    end
    srv.sleep(0.3) -- the stalled body has arrived
    srv.signal(s, "TERM")
    local t0 = os.time()
    assert.are.equal(1, srv.wait(s, 10))
    assert.truthy(os.time() - t0 <= 3)
    srv.stop(s)
  end)
end)
