-- spec/e2e/server_metrics_spec.lua: eidosd's /metrics after some traffic
-- passes `promtool check metrics` (Debian package prometheus; the check is
-- skipped with a message without it) and carries every family the API
-- promises: requests by route, method and code, the duration histogram by
-- route, requests in flight, rate-limit rejects, recipe and bundle build
-- durations, bundle sizes and build info; and upstream's (aicr_) names of
-- the same counts, with upstream's labels and buckets.
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

  it("offers upstream's (aicr) names beside ours, from the same counts", function()
    for _, fam in ipairs({
      "aicr_http_requests_total counter", "aicr_http_request_duration_seconds histogram",
      "aicr_http_requests_in_flight gauge", "aicr_rate_limit_rejects_total counter",
      "aicr_panic_recoveries_total counter", "aicr_recipe_build_duration_seconds histogram",
      "aicr_recipe_cache_misses_total counter",
    }) do
      assert.truthy(text:find("# TYPE " .. fam, 1, true), fam)
    end
    -- upstream's labels: method, path (our route), status
    assert.truthy(text:find('aicr_http_requests_total{method="POST",path="/v1/bundle",status="200"} 1', 1, true))
    assert.truthy(text:find('aicr_http_requests_total{method="GET",path="/v1/recipe",status="429"}', 1, true))
    assert.truthy(text:find('aicr_http_requests_total{method="GET",path="unmatched",status="404"} 1', 1, true))
    -- like upstream, the probes and /metrics are not counted under these names
    assert.falsy(text:find('aicr_[%w_]+{[^}]*path="/health"'))
    assert.falsy(text:find('aicr_[%w_]+{[^}]*path="/metrics"'))
    -- upstream's buckets, cumulative counts equal to ours at the same bounds
    local les = {}
    for le in text:gmatch('aicr_http_request_duration_seconds_bucket{method="POST",path="/v1/bundle",le="([^"]+)"}') do
      les[#les + 1] = le
    end
    assert.are.same({ "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf" }, les)
    assert.truthy(text:find('aicr_http_request_duration_seconds_count{method="POST",path="/v1/bundle"} 1', 1, true))
    for le in text:gmatch('aicr_recipe_build_duration_seconds_bucket{le="([^"]+)"}') do
      assert.truthy(({ ["1"] = 1, ["5"] = 1, ["10"] = 1, ["30"] = 1, ["+Inf"] = 1 })[le], le)
    end
    local ours = text:match("\neidos_rate_limit_rejects_total (%d+)")
    assert.are.equal(ours, text:match("\naicr_rate_limit_rejects_total (%d+)"))
    assert.are.equal(text:match("\neidos_handler_errors_total (%d+)"), text:match("\naicr_panic_recoveries_total (%d+)"))
  end)
end)
