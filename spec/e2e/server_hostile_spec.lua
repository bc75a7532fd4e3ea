-- spec/e2e/server_hostile_spec.lua: eidosd against hostile and unlucky
-- clients (issue 13, class 4). Every request's cost is bounded by its size
-- (huge selectors, many small segments, long runs of spaces in criteria and
-- headers, repeated headers, pipelining); --request-timeout cuts a handler
-- even while it runs C code (504), and the probes, /metrics and cached
-- answers never wait for a Lua thread; bundles have their own threads; a
-- full queue is 503; a client that goes away cancels its work; slow
-- clients are cut at --request-timeout; --shutdown-timeout is a real
-- deadline; SIGTERM under load ends cleanly.
--
-- Time bounds are generous (sanitizer builds on a loaded machine) and
-- still far below what the quadratic or unbounded paths took (seconds to
-- minutes); what they assert is that the answer does not wait for the slow
-- thing, not how fast this machine is.
local support = require("support")
local srv = require("e2e.eidosd")

if not srv.available() then
  describe("eidosd hostile requests", function() pending("eidosd is not built") end)
  return
end

local q = support.q
local Q = "/v1/recipe?service=eks&accelerator=h100&intent=training&os=ubuntu"

-- send raw bytes (a file written from text) and read up to n responses
local function send(s, text, n)
  local d = support.tmpdir()
  support.write(d .. "/req", text)
  local out = srv.raw("send", s.port, d .. "/req", n or 1)
  os.execute("rm -rf " .. q(d))
  local parts = {}
  for p in (out .. "|"):gmatch("([^|]*)|") do parts[#parts + 1] = p end
  local secs = tonumber(table.remove(parts))
  return parts, secs, out
end

describe("eidosd: cost bounded by the request's size", function()
  local s
  setup(function() s = srv.start({ args = { "--rate=0", "--request-timeout=20s" } }) end)
  teardown(function() srv.stop(s) end)

  it("answers a 48 KB selector of 24,000 segments at once, twice in parallel, and /health meanwhile", function()
    local sel = "components." .. string.rep("a.", 24000) .. "b"
    local a = srv.bg(s, "GET", "/v1/query?service=eks&selector=" .. sel)
    local b = srv.bg(s, "POST", "/v1/query", { headers = { "Content-Type: application/json" },
      body = '{"criteria":{"service":"eks"},"selector":"' .. sel .. '"}' })
    local h = srv.get(s, "/health")
    assert.are.equal(200, h.status)
    assert.truthy(h.seconds < 1, "health took " .. tostring(h.seconds))
    for _, r in ipairs({ srv.collect(a, 30), srv.collect(b, 30) }) do
      assert.are.equal(404, r.status, r.body:sub(1, 200))
      assert.are.equal("NOT_FOUND", r.json.code)
      assert.truthy(r.seconds < 3, "the selector took " .. r.seconds .. " s")
    end
  end)

  it("answers a query string of 60,000 empty segments or 20,000 parameters at once", function()
    local r1 = srv.get(s, "/v1/recipe?service=eks" .. string.rep("&", 60000))
    assert.are.equal(200, r1.status)
    assert.truthy(r1.seconds < 3, r1.seconds)
    local r2 = srv.get(s, "/v1/recipe?service=eks" .. string.rep("&x=1", 20000))
    assert.are.equal(400, r2.status)
    assert.truthy(r2.seconds < 3, r2.seconds)
    -- 20,000 distinct unknown names: one error naming the first 20, counting the rest
    local names = {}
    for i = 1, 20000 do names[i] = "p" .. i .. "=1" end
    local parts, secs = send(s, "GET /v1/recipe?" .. table.concat(names, "&") .. " HTTP/1.1\r\nHost: x\r\n"
      .. "Connection: close\r\n\r\n", 1)
    assert.are.equal("HTTP/1.1 400 Bad Request", parts[1])
    assert.truthy(secs < 3, secs)
  end)

  it("keeps an error about a huge query small", function()
    local names = {}
    for i = 1, 5000 do names[i] = "p" .. i .. "=1" end
    local r = srv.get(s, "/v1/recipe?" .. table.concat(names, "&"))
    assert.are.equal(400, r.status)
    assert.truthy(#r.body < 20000, #r.body)
    assert.truthy(r.json.message:find("4980 more", 1, true), r.json.message:sub(1, 200))
  end)

  it("answers criteria holding 200 KB of spaces at once (400 naming the value)", function()
    for _, body in ipairs({ '{"service":"eks' .. string.rep(" ", 200000) .. 'x"}',
                            '{"service":"' .. string.rep(" ", 200000) .. 'eks"}' }) do
      local r = srv.request(s, "POST", "/v1/recipe", { headers = { "Content-Type: application/json" }, body = body })
      assert.truthy(r.status == 400 or r.status == 200, r.body:sub(1, 200))
      assert.truthy(r.seconds < 3, r.seconds)
    end
  end)

  it("answers 300 KB headers (If-None-Match, Accept, X-Forwarded-For) and 90 repeated headers at once", function()
    local spaces = string.rep(" ", 300000)
    for i, h in ipairs({ "If-None-Match: x" .. spaces .. "y", "Accept: application/json;" .. spaces .. "x",
                         "X-Forwarded-For: 10.0.0.1," .. spaces .. "x", "X-Request-Id: a" .. spaces .. "b" }) do
      -- a fresh criteria each time: the answer is made by Lua, not taken from the cache
      local parts, secs = send(s, "GET /v1/recipe?service=eks&nodes=" .. (70 + i) .. " HTTP/1.1\r\nHost: x\r\n" .. h
        .. "\r\nConnection: close\r\n\r\n", 1)
      assert.are.equal("HTTP/1.1 200 OK", parts[1], h:sub(1, 20))
      assert.truthy(secs < 3, h:sub(1, 20) .. " took " .. secs)
    end
    local many = {}
    for i = 1, 90 do many[i] = "Accept: application/json" .. string.rep(" ", 3000) .. ";q=0." .. (i % 9 + 1) end
    local parts, secs = send(s, "GET /v1/recipe?service=gke&nodes=77 HTTP/1.1\r\nHost: x\r\n" .. table.concat(many, "\r\n")
      .. "\r\nConnection: close\r\n\r\n", 1)
    assert.are.equal("HTTP/1.1 200 OK", parts[1])
    assert.truthy(secs < 3, secs)
  end)

  it("answers 64 pipelined requests in order on one connection", function()
    local reqs, want = {}, {}
    for i = 1, 64 do
      local path = ({ "/health", Q, "/v1/recipe?service=aks&nodes=" .. i, "/nope" })[i % 4 + 1]
      reqs[i] = "GET " .. path .. " HTTP/1.1\r\nHost: x\r\n" .. (i == 64 and "Connection: close\r\n" or "") .. "\r\n"
      want[i] = path == "/nope" and "HTTP/1.1 404 Not Found" or "HTTP/1.1 200 OK"
    end
    local parts, secs = send(s, table.concat(reqs), 64)
    assert.are.same(want, parts)
    assert.truthy(secs < 10, secs)
  end)

  it("answers a bundle path of 300 KB of slashes at once", function()
    local recipe = srv.get(s, Q)
    local r = srv.request(s, "POST", "/v1/bundle?deployer=argocd&path=a" .. string.rep("/", 100000) .. "b",
      { headers = { "Content-Type: application/json" }, body = recipe.body })
    assert.truthy(r.status == 400 or r.status == 200, r.body:sub(1, 200))
    assert.truthy(r.seconds < 5, r.seconds)
  end)
end)

describe("eidosd: deadlines hold whatever the Lua thread does", function()
  local s
  setup(function()
    s = srv.start({ stub = true, args = { "--rate=0", "--handlers=1", "--bundlers=1", "--request-timeout=1500ms",
                                          "--queue-limit=2" } })
  end)
  teardown(function() srv.stop(s) end)

  it("answers 504 at --request-timeout while the handler is stuck in C, and the probes meanwhile", function()
    local warm = srv.get(s, "/v1/recipe?service=eks")
    assert.are.equal(200, warm.status)
    local slow = srv.bg(s, "GET", "/v1/recipe?service=eks&nodes=4304") -- 4 s in C
    srv.sleep(0.3)
    for _, path in ipairs({ "/health", "/ready", "/metrics", "/v1/recipe?service=eks" }) do
      local r = srv.get(s, path)
      assert.are.equal(200, r.status, path)
      assert.truthy(r.seconds < 1, path .. " took " .. r.seconds)
    end
    local r = srv.collect(slow, 20)
    assert.are.equal(504, r.status)
    assert.are.equal("TIMEOUT", r.json.code)
    assert.are.equal(1500, r.json.details.deadlineMs)
    assert.truthy(r.seconds >= 1.4 and r.seconds < 3, "504 after " .. r.seconds .. " s")
    srv.sleep(3) -- the stuck thread comes back
    assert.are.equal(200, srv.get(s, "/v1/recipe?service=gke").status)
  end)

  it("builds bundles on their own threads: a recipe does not wait behind a bundle", function()
    local bundle = srv.bg(s, "POST", "/v1/bundle?deployer=slow", { headers = { "Content-Type: application/json" },
      body = '{"kind":"RecipeResult","componentRefs":[{"name":"a"}]}' })
    srv.sleep(0.3)
    local r = srv.get(s, "/v1/recipe?service=oke&nodes=9")
    assert.are.equal(200, r.status)
    assert.truthy(r.seconds < 1, "the recipe waited " .. r.seconds .. " s")
    local b = srv.collect(bundle, 20)
    assert.are.equal(504, b.status) -- 2 s of bundle > the 1.5 s deadline
  end)

  it("answers 503 with Retry-After when the queue of its threads is full", function()
    local held = {}
    for i = 1, 3 do held[i] = srv.bg(s, "GET", "/v1/recipe?service=kind&nodes=" .. (4301 + i)) end
    srv.sleep(0.5)
    local r = srv.get(s, "/v1/recipe?service=kind&nodes=1")
    assert.are.equal(503, r.status)
    assert.are.equal("SERVICE_UNAVAILABLE", r.json.code)
    assert.are.equal("1", r.headers["retry-after"])
    assert.are.equal(2, r.json.details.queueLimit)
    assert.are.equal(200, srv.get(s, "/health").status)
    for _, h in ipairs(held) do srv.collect(h, 20) end
    srv.sleep(4)
    assert.truthy(srv.metrics(s).eidos_queue_rejects_total >= 1)
  end)

  it("answers 503 when the requests it is answering already hold its byte budget", function()
    -- the budget is max(64 MiB, two bodies at --body-limit): three 35 MiB bodies
    -- waiting behind a blocked thread are one too many
    local b = srv.start({ stub = true, args = { "--rate=0", "--handlers=1", "--body-limit=40MiB",
                                                "--request-timeout=10s" } })
    local block = srv.bg(b, "GET", "/v1/recipe?service=eks&nodes=4303") -- 3 s in C
    srv.sleep(0.3)
    local body = string.rep(" ", 35 * 1048576) .. "{}"
    local held = { srv.bg(b, "POST", "/v1/recipe", { headers = { "Content-Type: application/json" }, body = body }),
                   srv.bg(b, "POST", "/v1/recipe", { headers = { "Content-Type: application/json" }, body = body }) }
    srv.sleep(1)
    local r = srv.request(b, "POST", "/v1/recipe", { headers = { "Content-Type: application/json" }, body = body })
    assert.are.equal(503, r.status, r.body)
    assert.are.equal(83886080, r.json.details.queueBytes)
    assert.are.equal(200, srv.get(b, "/health").status)
    srv.collect(block, 20)
    for _, h in ipairs(held) do srv.collect(h, 20) end
    srv.stop(b)
  end)

  it("stops the work of a client that went away", function()
    local before = srv.metrics(s).eidos_requests_cancelled_total or 0
    -- 2 s of Lua; the client leaves after 0.3 s; the hook stops the work, so
    -- the next request on the single handler thread does not wait 2 s
    assert.are.equal("aborted", srv.raw("abort-wait", s.port, "/v1/recipe?service=aks&nodes=4242"))
    local r = srv.get(s, "/v1/recipe?service=aks&nodes=2")
    assert.are.equal(200, r.status)
    assert.truthy(r.seconds < 0.7, "waited " .. r.seconds .. " s behind abandoned work")
    assert.are.equal(before + 1, srv.metrics(s).eidos_requests_cancelled_total)
  end)
end)

describe("eidosd: slow clients", function()
  local s
  setup(function() s = srv.start({ args = { "--rate=0", "--request-timeout=1s" } }) end)
  teardown(function() srv.stop(s) end)

  it("closes a connection whose body or head trickles past --request-timeout", function()
    for _, what in ipairs({ "body", "head" }) do
      local out = srv.raw("trickle", s.port, what, 0.1, 10)
      local how, secs = out:match("^(.-)|([%d.]+)$")
      assert.are.equal("closed", how, out)
      assert.truthy(tonumber(secs) >= 0.9 and tonumber(secs) < 3, what .. ": " .. out)
    end
    assert.are.equal(200, srv.get(s, "/health").status)
  end)
end)

describe("eidosd: clients that do not read", function()
  local s
  setup(function() s = srv.start({ stub = true, args = { "--rate=0", "--request-timeout=1s" } }) end)
  teardown(function() srv.stop(s) end)

  it("cuts a connection whose answer is not read within --request-timeout", function()
    local out = srv.raw("no-read", s.port, "/v1/bundle?deployer=huge", 3.5)
    local bytes, how = out:match("^(%d+)|(%a+)$")
    assert.are.equal("cut", how, out)
    assert.truthy(tonumber(bytes) > 0)
    local m = srv.metrics(s)
    assert.are.equal(1, m.eidos_slow_readers_cut_total)
    assert.are.equal(1, m.eidos_http_connections) -- this one
  end)
end)

describe("eidosd: --shutdown-timeout is a real deadline", function()
  it("answers what is still running 503 with Connection: close and exits 1 at the deadline", function()
    local s = srv.start({ stub = true, args = { "--handlers=1", "--shutdown-timeout=2s" } })
    local slow = srv.bg(s, "GET", "/v1/recipe?service=eks&nodes=4310") -- 10 s in C
    srv.sleep(0.5)
    local t0 = srv.now()
    srv.signal(s, "TERM")
    local rc = srv.wait(s, 15)
    local took = srv.now() - t0
    assert.are.equal(1, rc)
    assert.truthy(took < 4, "exited after " .. took .. " s")
    local r = srv.collect(slow, 10)
    assert.are.equal(503, r.status)
    assert.are.equal("SERVICE_UNAVAILABLE", r.json.code)
    assert.are.equal("close", r.headers.connection)
    local log = support.read(s.log) or ""
    assert.truthy(log:find('"requestsCut":1', 1, true), log)
    assert.truthy(log:find('"luaThreadsLeftBusy":1', 1, true), log) -- the one stuck in C, no other
    srv.stop(s)
  end)

  it("ends cleanly on SIGTERM under a load of cached, uncached, bundle and hostile requests", function()
    local s = srv.start({ args = { "--rate=0", "--shutdown-timeout=10s", "--request-timeout=5s" } })
    local recipe = srv.get(s, Q)
    support.write(s.dir .. "/recipe.json", recipe.body)
    local loops = {}
    local function loop(i, n, curl_args)
      local out = s.dir .. "/load" .. i
      support.write(out .. ".sh", string.format("for n in $(seq %d); do curl -s -o /dev/null -w '%%{http_code}\\n'"
        .. " --max-time 10 %s >> %s; done; touch %s.done\n", n, curl_args, q(out), q(out)))
      os.execute("sh " .. q(out .. ".sh") .. " >/dev/null 2>&1 &")
      loops[#loops + 1] = out
    end
    loop(1, 300, q(s.base .. Q))                                           -- cached
    loop(2, 300, '"' .. s.base .. '/v1/recipe?service=gke&nodes=$n"')     -- uncached
    loop(3, 100, q(s.base .. "/v1/query?service=eks&selector=" .. string.rep("a.", 2000))) -- hostile
    loop(4, 300, q(s.base .. "/health"))
    loop(5, 100, "-H 'Content-Type: application/json' --data-binary @" .. q(s.dir .. "/recipe.json") .. " "
      .. q(s.base .. "/v1/bundle?deployer=helm"))                           -- bundles
    srv.sleep(1.5)
    srv.signal(s, "TERM")
    local rc = srv.wait(s, 20)
    assert.are.equal(0, rc, support.read(s.log))
    for _, f in ipairs(loops) do
      for _ = 1, 200 do
        if support.exists(f .. ".done") then break end
        srv.sleep(0.1)
      end
      local n = 0
      for code in (support.read(f) or ""):gmatch("%d+") do
        n = n + 1
        -- answered in full (200, the query's 404), refused once closed (000), or 503 while draining
        assert.truthy(code == "200" or code == "404" or code == "000" or code == "503", f .. ": " .. code)
      end
      assert.truthy(n > 0, f)
    end
    assert.falsy((support.read(s.log) or ""):find('"level":"error"', 1, true), support.read(s.log))
    srv.stop(s)
  end)
end)
