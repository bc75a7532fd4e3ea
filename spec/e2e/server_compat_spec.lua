-- eidosd answering clients and deployments made for the upstream server
-- (aicrd): AICR_ALLOWED_* as aliases of EIDOS_ALLOWED_* (ours win, with a
-- warning naming both), X-API-Version and the vendor media types of Accept,
-- and POST /v1/bundle with upstream's parameters: bundlers (ignored, with a
-- Warning header), nodes, workload-gate, workload-selector, and the
-- helm-components deployer.
local support = require("support")
local srv = require("e2e.eidosd")

if not srv.available() or not srv.real_engine() then
  describe("eidosd upstream compatibility", function()
    pending("not built, or no recipe engine: " .. srv.bin)
  end)
  return
end

local RECIPE = "/v1/recipe?service=eks&accelerator=h100&intent=training&os=ubuntu"

local function assert_error(r, status, code)
  assert.are.equal(status, r.status, r.body)
  assert.is_truthy(r.json, r.body)
  assert.are.equal(code, r.json.code)
  return r.json
end

-- the text of one file of a zip answer
local function unzip(body, path)
  local d = support.tmpdir()
  support.write(d .. "/b.zip", body)
  local p = io.popen("unzip -p " .. support.q(d .. "/b.zip") .. " " .. support.q(path) .. " 2>&1")
  local text = p:read("a")
  p:close()
  os.execute("rm -rf " .. support.q(d))
  return text
end

describe("eidosd with upstream's allowlist variables", function()
  it("AICR_ALLOWED_ACCELERATORS=h100 refuses gb200 with 400 on recipe, query and bundle", function()
    local s = srv.start({ args = { "--rate=0" }, env = { AICR_ALLOWED_ACCELERATORS = "h100" } })
    local ok, err = pcall(function()
      assert.are.equal(200, srv.get(s, RECIPE).status)
      local j = assert_error(srv.get(s, "/v1/recipe?service=eks&accelerator=gb200"), 400, "INVALID_REQUEST")
      assert.truthy(j.message:find('accelerator "gb200" is not offered by this server (allowed: h100)', 1, true), j.message)
      assert_error(srv.get(s, "/v1/query?accelerator=gb200&selector=criteria"), 400, "INVALID_REQUEST")
      local body = srv.get(s, RECIPE).body:gsub('"accelerator":"h100"', '"accelerator":"gb200"')
      assert_error(srv.request(s, "POST", "/v1/bundle", { headers = { "Content-Type: application/json" }, body = body }),
        400, "INVALID_REQUEST")
    end)
    srv.stop(s)
    assert(ok, err)
  end)

  it("with both variables set, EIDOS_ALLOWED_* wins and the log names both", function()
    local s = srv.start({ args = { "--rate=0" },
      env = { AICR_ALLOWED_ACCELERATORS = "h100", EIDOS_ALLOWED_ACCELERATORS = "gb200", AICR_ALLOWED_SERVICES = "eks" } })
    local ok, err = pcall(function()
      local r = srv.get(s, "/v1/recipe?service=eks&accelerator=gb200&intent=training&os=ubuntu")
      assert.are.equal(200, r.status, r.body)
      local j = assert_error(srv.get(s, "/v1/recipe?service=eks&accelerator=h100"), 400, "INVALID_REQUEST")
      assert.truthy(j.message:find("(allowed: gb200)", 1, true), j.message)
      j = assert_error(srv.get(s, "/v1/recipe?service=gke&accelerator=gb200"), 400, "INVALID_REQUEST")
      assert.truthy(j.message:find('service "gke" is not offered by this server (allowed: eks)', 1, true), j.message)
      local log = support.read(s.log)
      local _, n = log:gsub("EIDOS_ALLOWED_ACCELERATORS=gb200 and AICR_ALLOWED_ACCELERATORS=h100 are both set: " ..
        "EIDOS_ALLOWED_ACCELERATORS applies", "")
      assert.are.equal(1, n, log) -- once, not once per worker
      assert.is_nil(log:find("AICR_ALLOWED_SERVICES", 1, true))
    end)
    srv.stop(s)
    assert(ok, err)
  end)

  it("eidos serve hands them on; a bad value stops the server", function()
    local s = srv.start({ cli = true, args = { "--rate=0" }, env = { AICR_ALLOWED_ACCELERATORS = "h100" } })
    local ok, err = pcall(function()
      local j = assert_error(srv.get(s, "/v1/recipe?service=eks&accelerator=gb200"), 400, "INVALID_REQUEST")
      assert.truthy(j.message:find("(allowed: h100)", 1, true), j.message)
    end)
    srv.stop(s)
    assert(ok, err)
    assert.is_false(pcall(srv.start, { env = { AICR_ALLOWED_ACCELERATORS = "h1000" } }))
  end)
end)

describe("eidosd for upstream's clients", function()
  local s, recipe
  setup(function()
    s = srv.start({ args = { "--rate=0" } })
    recipe = srv.get(s, RECIPE).body
  end)
  teardown(function() srv.stop(s) end)

  local function bundle(q)
    return srv.request(s, "POST", "/v1/bundle" .. q, { headers = { "Content-Type: application/json" }, body = recipe })
  end

  it("names the API version on every answer of the API, errors included; not on the probes", function()
    assert.are.equal("v1", srv.get(s, RECIPE).headers["x-api-version"])
    assert.are.equal("v1", srv.get(s, "/v1/recipe?service=nope").headers["x-api-version"])
    assert.are.equal("v1", srv.get(s, "/nope").headers["x-api-version"])
    assert.are.equal("v1", srv.get(s, "/").headers["x-api-version"])
    assert.is_nil(srv.get(s, "/health").headers["x-api-version"])
  end)

  it("answers JSON to upstream's and our vendor media types of v1, 406 to another version", function()
    for _, mt in ipairs({ "application/vnd.nvidia.aicr.v1+json", "application/vnd.nvidia.eidos.v1+json" }) do
      local r = srv.get(s, RECIPE, { "Accept: " .. mt })
      assert.are.equal(200, r.status)
      assert.are.equal("RecipeResult", r.json.kind)
      assert.are.equal("v1", r.headers["x-api-version"])
    end
    local j = assert_error(srv.get(s, RECIPE, { "Accept: application/vnd.nvidia.aicr.v2+json" }), 406, "NOT_ACCEPTABLE")
    assert.truthy(j.message:find("API version v2 is not served here (served: v1)", 1, true), j.message)
    assert.are.equal(200, srv.get(s, RECIPE, { "Accept: application/vnd.nvidia.aicr.v2+json, application/vnd.nvidia.aicr.v1+json" }).status)
  end)

  it("accepts and ignores bundlers=, saying so in a Warning header", function()
    local r = bundle("?bundlers=gpu-operator&bundlers=cert-manager&deployer=helm&workload-selector=team=ml")
    assert.are.equal(200, r.status, r.body)
    assert.are.equal("PK\3\4", r.body:sub(1, 4))
    assert.matches('^299 %- "the bundlers parameter is ignored: the bundle holds every enabled component', r.headers.warning)
    -- every component is in the bundle
    assert.truthy(unzip(r.body, "Chart.yaml"):find('name: "kai-scheduler"', 1, true))
  end)

  it("takes nodes, workload-gate and workload-selector, and the helm-components deployer", function()
    local r = bundle("?deployer=helm-components&nodes=16&workload-gate=dedicated%3Dtraining:NoSchedule" ..
      "&workload-selector=team%3Dml&workload-selector=job=pretrain")
    assert.are.equal(200, r.status, r.body)
    assert.is_nil(r.headers.warning)
    local op = unzip(r.body, "skyhook-operator/values.yaml")
    assert.truthy(op:find("\nestimatedNodeCount: 16\n", 1, true), op)
    assert.truthy(op:find("runtimeRequiredTaint: dedicated=training:NoSchedule", 1, true), op)
    local t = unzip(r.body, "skyhook-customizations/manifests/tuning.yaml")
    assert.truthy(t:find("podNonInterruptLabels:\n    matchLabels:\n      job: pretrain\n      team: ml\n", 1, true), t)
    assert.truthy(#unzip(r.body, "deploy.sh") > 0)
  end)

  it("warns in a Warning header where eidos bundle warns: training without workload-selector", function()
    local r = bundle("?deployer=helm-components")
    assert.are.equal(200, r.status, r.body)
    assert.matches("skyhook%-customizations is in the bundle but %-%-workload%-selector is not set", r.headers.warning)
  end)

  it("refuses bad values of the new parameters with 400", function()
    for _, q in ipairs({ "?nodes=-1", "?nodes=x", "?workload-gate=a:Never", "?workload-selector=team",
                         "?workload-gate=a:NoSchedule&workload-gate=b:NoSchedule", "?deployer=helm-component" }) do
      local j = assert_error(bundle(q), 400, "INVALID_REQUEST")
      assert.is_truthy(j.message ~= "", q)
    end
  end)
end)
