-- spec/e2e/server_metrics_spec.lua: eidosd's /metrics after some traffic
-- passes `promtool check metrics` (Debian package prometheus; the check is
-- skipped with a message without it) and carries every family the API
-- promises: requests by route, method and code, the duration histogram by
-- route, requests in flight, rate-limit rejects, recipe and bundle build
-- durations, bundle sizes and build info.
local support = require("support")
local srv = require("e2e.eidosd")

if not srv.available() then
  describe("eidosd /metrics", function()
    pending("not built: " .. srv.bin .. " is missing (libh2o-evloop-dev, see scripts/install-deps)")
  end)
  return
end

describe("eidosd /metrics", function()
  local s, text
  setup(function()
    s = srv.start({ stub = true, args = { "--rate=0.1", "--burst=5" } })
    local recipe = srv.get(s, "/v1/recipe?service=eks&accelerator=h100")
    srv.request(s, "POST", "/v1/bundle", { headers = { "Content-Type: application/json" }, body = recipe.body })
    srv.get(s, "/nope")
    srv.request(s, "POST", "/health", { body = "x" }) -- not rate limited
    for _ = 1, 3 do srv.get(s, "/v1/recipe?service=gke") end -- the last one is over the burst
    local _, r = srv.metrics(s)
    text = r.body
  end)
  teardown(function() srv.stop(s) end)

  it("passes promtool check metrics", function()
    if not srv.have("promtool") then
      pending("promtool not found: install the Debian package prometheus (scripts/install-deps)")
      return
    end
    local d = support.tmpdir()
    support.write(d .. "/metrics", text)
    local p = io.popen("promtool check metrics < " .. d .. "/metrics 2>&1; echo rc=$?")
    local out = p:read("a")
    p:close()
    os.execute("rm -rf " .. d)
    assert.truthy(out:find("rc=0", 1, true), out)
  end)

  it("has every promised family", function()
    for _, fam in ipairs({
      "eidos_http_requests_total counter", "eidos_http_request_duration_seconds histogram",
      "eidos_http_requests_in_flight gauge", "eidos_rate_limit_rejects_total counter",
      "eidos_recipe_build_duration_seconds histogram", "eidos_bundle_build_duration_seconds histogram",
      "eidos_bundle_size_bytes histogram", "eidos_build_info gauge", "process_resident_memory_bytes gauge",
    }) do
      assert.truthy(text:find("# TYPE " .. fam, 1, true), fam)
    end
  end)

  it("counts by route, method and code, never by raw path", function()
    assert.truthy(text:find('eidos_http_requests_total{route="/v1/recipe",method="GET",code="200"}', 1, true))
    assert.truthy(text:find('eidos_http_requests_total{route="/v1/recipe",method="GET",code="429"}', 1, true))
    assert.truthy(text:find('eidos_http_requests_total{route="/v1/bundle",method="POST",code="200"} 1', 1, true))
    assert.truthy(text:find('eidos_http_requests_total{route="unmatched",method="GET",code="404"} 1', 1, true))
    assert.truthy(text:find('eidos_http_requests_total{route="/health",method="POST",code="405"} 1', 1, true))
    assert.falsy(text:find("/nope", 1, true))
    assert.truthy(text:find("eidos_rate_limit_rejects_total [1-9]"))
    assert.truthy(text:find("eidos_bundle_size_bytes_count 1", 1, true))
    assert.truthy(text:find("eidos_bundle_build_duration_seconds_count 1", 1, true))
    assert.truthy(text:find('eidos_build_info{version="', 1, true))
  end)
end)
