-- spec/e2e/console_http_spec.lua: how eidosd serves the console, over real
-- sockets (curl): GET / is the page for a client that prefers text/html
-- and today's JSON index for everyone else (Accept: */* and no Accept
-- included); /ui/ paths are the assets (fingerprinted ones immutable, the
-- page no-cache, ETags and 304, gzip when asked for, a strict CSP) or the
-- page for a browser's deep link, else 404; files under an override root
-- replace the built-in ones; the I/O threads answer them while every Lua
-- thread is busy.
local support = require("support")
local srv = require("e2e.eidosd")

if not srv.available() then
  describe("eidosd's console", function() pending("not built: " .. srv.bin) end)
  return
end

local BROWSER = "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

-- the files the page loads (its links to views, /ui/validate, are not files)
local function assets(page)
  local out = {}
  for p in page:gmatch('"(/ui/[%w%._%-]+%.[%w]+)"') do out[#out + 1] = p end
  return out
end

describe("eidosd's console", function()
  local s
  setup(function() s = srv.start({ args = { "--rate=0" } }) end)
  teardown(function() srv.stop(s) end)

  it("is GET / for a client that prefers HTML; everyone else keeps the JSON index", function()
    for _, accept in ipairs({ BROWSER, "Accept: text/html", "Accept: application/json;q=0.5, text/html" }) do
      local r = srv.get(s, "/?service=eks&accelerator=gb200", { accept })
      assert.are.equal(200, r.status, accept)
      assert.are.equal("text/html; charset=utf-8", r.headers["content-type"], accept)
      assert.truthy(r.body:find("<!doctype html>", 1, true))
    end
    for _, accept in ipairs({ "Accept: */*", "Accept: application/json", "Accept: text/*",
                              "Accept: text/html;q=0.5, application/json", "Accept: text/html;q=0, */*",
                              "Accept: application/yaml, text/html;q=0.9" }) do
      local r = srv.get(s, "/", { accept })
      assert.are.equal(200, r.status, accept)
      assert.truthy(r.headers["content-type"]:match("^application/"), accept .. ": " .. r.headers["content-type"])
    end
    local r = srv.get(s, "/")
    assert.are.equal("eidosd", r.json.service)
    for _, route in ipairs(r.json.routes) do
      if route.path == "/ui/" then assert.are.same({ "GET", "HEAD" }, route.methods) end
    end
    -- other methods still reach the API's answer
    r = srv.request(s, "POST", "/", { body = "{}", headers = { BROWSER, "Content-Type: application/json" } })
    assert.are.equal(405, r.status)
  end)

  it("serves the page no-cache with a strict CSP, its assets fingerprinted and immutable, both with ETags", function()
    local page = srv.get(s, "/", { BROWSER })
    assert.are.equal("no-cache", page.headers["cache-control"])
    local csp = page.headers["content-security-policy"]
    for _, d in ipairs({ "default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
                         "frame-ancestors 'none'", "require-trusted-types-for 'script'" }) do
      assert.truthy(csp:find(d, 1, true), d)
    end
    assert.falsy(csp:find("unsafe", 1, true))
    assert.falsy(page.body:find("<script>", 1, true), "no inline script")
    assert.falsy(page.body:find(" style=", 1, true), "no inline style")
    assert.truthy(page.headers.vary:find("Accept", 1, true))
    local list = assets(page.body)
    assert.truthy(#list >= 3, page.body)
    for _, p in ipairs(list) do
      assert.truthy(p:match("%.%x%x%x%x%x%x%x%x%x%x%.%w+$"), p)
      local r = srv.get(s, p)
      assert.are.equal(200, r.status, p)
      assert.are.equal("public, max-age=31536000, immutable", r.headers["cache-control"], p)
      assert.are.equal("nosniff", r.headers["x-content-type-options"])
      local plain = p:gsub("%.%x+(%.%w+)$", "%1")
      local r2 = srv.get(s, plain)
      assert.are.equal(200, r2.status, plain)
      assert.are.equal("no-cache", r2.headers["cache-control"], plain)
      assert.are.equal(r.body, r2.body, plain)
      local again = srv.get(s, p, { "If-None-Match: " .. r.headers.etag })
      assert.are.equal(304, again.status, p)
      assert.are.equal("", again.body)
    end
    local again = srv.get(s, "/", { BROWSER, "If-None-Match: " .. page.headers.etag })
    assert.are.equal(304, again.status)
    -- HEAD: the headers of GET
    local head = srv.request(s, "HEAD", list[1])
    assert.are.equal(200, head.status)
    assert.are.equal(srv.get(s, list[1]).headers.etag, head.headers.etag)
  end)

  it("sends gzip to a client that accepts it, with its own ETag, and the same bytes once inflated", function()
    local page = srv.get(s, "/", { BROWSER })
    local js
    for _, p in ipairs(assets(page.body)) do if p:match("^/ui/app%..*%.js$") then js = p end end
    assert.is_string(js)
    local plain = srv.get(s, js)
    local d = support.tmpdir()
    local r = srv.request(s, "GET", js, { headers = { "Accept-Encoding: gzip" } })
    assert.are.equal("gzip", r.headers["content-encoding"])
    assert.truthy(#r.body < #plain.body)
    assert.are_not.equal(plain.headers.etag, r.headers.etag)
    assert.truthy(r.headers.vary:find("Accept-Encoding", 1, true))
    support.write(d .. "/a.gz", r.body)
    local out = support.sh("gzip -dc " .. support.q(d .. "/a.gz"))
    assert.are.equal(plain.body, out.out)
    os.execute("rm -rf " .. support.q(d))
    -- a conditional request with the gzip tag is answered 304
    local again = srv.request(s, "GET", js, { headers = { "Accept-Encoding: gzip", "If-None-Match: " .. r.headers.etag } })
    assert.are.equal(304, again.status)
    assert.is_nil(plain.headers["content-encoding"])
  end)

  it("answers a browser's deep link with the page, and anything else under /ui/ with 404 or 405", function()
    local r = srv.get(s, "/ui/validate?service=eks", { BROWSER })
    assert.are.equal(200, r.status)
    assert.truthy(r.body:find("<!doctype html>", 1, true))
    r = srv.get(s, "/ui/validate")
    assert.are.equal(404, r.status)
    assert.are.equal("NOT_FOUND", r.json.code)
    assert.truthy(r.json.message:find("/ui/validate", 1, true))
    assert.are.equal("/ui/validate", r.json.details.path)
    r = srv.request(s, "POST", "/ui/app.js", { body = "x" })
    assert.are.equal(405, r.status)
    assert.are.equal("GET, HEAD", r.headers.allow)
    -- a hostile path is named, cut short, in valid JSON
    r = srv.get(s, "/ui/" .. string.rep("%22", 400))
    assert.are.equal(404, r.status)
    assert.is_table(r.json)
    -- the route label of metrics stays bounded
    local m = srv.metrics(s)
    local n = 0
    for k in pairs(m) do if k:find('route="/ui/"', 1, true) then n = n + 1 end end
    assert.truthy(n > 0)
    for k in pairs(m) do assert.falsy(k:find("app%.%x+%.js"), k) end
  end)
end)

describe("eidosd's console from an override root", function()
  it("serves ui/ files found under --lua-path or EIDOS_HOME in place of the built-in ones", function()
    local d = support.tmpdir()
    os.execute("mkdir -p " .. support.q(d .. "/ui"))
    local css = "/* a platform team's colours */\nbody { background: #102030; }\n"
    support.write(d .. "/ui/style.css", css)
    local s = srv.start({ args = { "--rate=0", "--lua-path=" .. d } })
    local ok, err = pcall(function()
      local page = srv.get(s, "/", { BROWSER })
      local href = page.body:match('href="(/ui/style%.%x+%.css)"')
      assert.is_string(href, page.body)
      local r = srv.get(s, href)
      assert.are.equal(css, r.body)
      assert.are.equal(require("eidos.core.sha256").hex(css):sub(1, 10), href:match("style%.(%x+)%.css"))
      assert.truthy((support.read(s.log) or ""):find("override the built-in ones", 1, true))
    end)
    srv.stop(s)
    os.execute("rm -rf " .. support.q(d))
    assert(ok, err)
  end)

  it("is answered by the I/O threads while every Lua thread is busy", function()
    local s = srv.start({ stub = true, args = { "--rate=0", "--handlers=1", "--request-timeout=10s" } })
    local ok, err = pcall(function()
      -- the stand-in engine's slow switch holds the only handler
      local slow = srv.bg(s, "GET", "/v1/recipe?service=eks&nodes=4303") -- 3 s in C
      srv.sleep(0.3)
      local t0 = srv.now()
      local r = srv.get(s, "/", { BROWSER })
      assert.are.equal(200, r.status)
      assert.truthy(srv.now() - t0 < 1.5, "the page waited for Lua")
      srv.collect(slow, 15)
    end)
    srv.stop(s)
    assert(ok, err)
  end)
end)
