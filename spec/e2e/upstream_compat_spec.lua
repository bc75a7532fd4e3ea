-- spec/e2e/upstream_compat_spec.lua: documents in the shapes the upstream
-- tool (aicr) and its users write, read by the CLI and eidosd as they are
-- (fixtures in spec/fixtures/upstream/, written here from the reference
-- notes), the --api-group output option, recipe list / criteria, and the
-- fail-closed rule over HTTP.
local support = require("support")
local yaml = require("eidos.core.yaml")
local cjson = require("cjson")

local F = "spec/fixtures/upstream/"

local function run(args) return support.run(args) end
local function ok(args)
  local r = run(args)
  assert(r.code == 0, table.concat(args, " ") .. ": " .. tostring(r.err))
  return r
end

describe("upstream shapes", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. support.q(dir)) end)

  it("a snapshot without kind/apiVersion, with name: subtypes and GPU.device.model", function()
    local r = ok({ "recipe", "--snapshot", F .. "snapshot-noheader.yaml", "--intent", "training", "--log-level", "info",
                   "-o", dir .. "/r.yaml" })
    assert.truthy(r.err:find("accelerator=h100 (from GPU.device.model", 1, true), r.err)
    local d = yaml.load(support.read(dir .. "/r.yaml"))
    assert.are.same({ "eks", "h100", "ubuntu", "training" },
      { d.criteria.service, d.criteria.accelerator, d.criteria.os, d.criteria.intent })
    assert.are.equal("h100-eks-ubuntu-training", d.metadata.appliedOverlays[#d.metadata.appliedOverlays])
    assert.are.same({}, d.metadata.excludedOverlays)
    -- and validate reads it as a snapshot
    r = ok({ "validate", "--snapshot", F .. "snapshot-noheader.yaml", "--recipe", dir .. "/r.yaml", "-t", "json" })
    assert.are.equal("pass", cjson.decode(r.out).status)
  end)

  it("an aicr snapshot of a node without a driver: the accelerator from the GFD label (#1351)", function()
    local r = ok({ "recipe", "--snapshot", F .. "snapshot-driverless.yaml", "--service", "eks", "--intent", "inference",
                   "--log-level", "info" })
    local d = yaml.load(r.out)
    assert.are.equal("l40", d.criteria.accelerator)
    assert.truthy(r.err:find("NodeTopology.label.nvidia.com/gpu.product", 1, true), r.err)
    assert.are.same({}, d.metadata.excludedOverlays)
    -- the kernel is not in the snapshot: unknown, not failed, and said at info level
    assert.truthy(r.err:find("snapshot has no value for OS.sysctl./proc/sys/kernel/osrelease", 1, true), r.err)
  end)

  it("a kind: Recipe document (upstream's API and CLI examples) is read by bundle and validate", function()
    ok({ "bundle", "-r", F .. "recipe-kind-recipe.json", "-o", dir .. "/b" })
    assert.is_true(support.exists(dir .. "/b/Chart.yaml"))
    local r = ok({ "validate", "-r", F .. "recipe-kind-recipe.json", "-s", F .. "snapshot-noheader.yaml", "-t", "json" })
    assert.are.equal("pass", cjson.decode(r.out).status)
    -- an overlay is not a recipe (upstream #526): named, with what to do
    r = run({ "validate", "-r", "recipes/overlays/eks.yaml", "-s", F .. "snapshot-noheader.yaml" })
    assert.are.equal(2, r.code)
    assert.truthy(r.err:find("not a recipe: build one with 'eidos recipe'", 1, true), r.err)
  end)

  it("an aicr RecipeCriteria file", function()
    local d = yaml.load(ok({ "recipe", "--criteria", F .. "criteria-aicr.yaml" }).out)
    assert.are.equal("h100-eks-ubuntu-training-kubeflow", d.metadata.appliedOverlays[#d.metadata.appliedOverlays])
  end)

  it("--api-group aicr.nvidia.com writes upstream's apiVersion; ours by default", function()
    local q = { "recipe", "--service", "eks", "--accelerator", "h100", "--os", "ubuntu", "--intent", "training" }
    assert.matches("\napiVersion: eidos.nvidia.com/v1alpha1\n", ok(q).out, 1, true)
    q[#q + 1] = "--api-group"
    q[#q + 1] = "aicr.nvidia.com"
    local out = ok(q).out
    assert.matches("^kind: RecipeResult\napiVersion: aicr.nvidia.com/v1alpha1\n", out)
    assert.matches("\napiVersion: aicr.nvidia.com/v1alpha1\n",
      ok({ "recipe", "list", "-t", "yaml", "--api-group", "aicr.nvidia.com" }).out, 1, true)
  end)
end)

describe("catalog discovery", function()
  it("eidos recipe list -t json lists every curated leaf; filters narrow it; table for people", function()
    local all = cjson.decode(ok({ "recipe", "list", "-t", "json" }).out)
    assert.are.equal("RecipeList", all.kind)
    local lib = require("eidos.recipe").library()
    assert.are.equal(#require("eidos.recipe.catalog").leaves(lib), #all.recipes)
    local some = cjson.decode(ok({ "recipe", "list", "-t", "json", "--service", "EKS", "--gpu", "gb200",
                                   "--platform", "kubeflow" }).out)
    assert.are.equal(2, #some.recipes)
    for _, r in ipairs(some.recipes) do
      assert.are.same({ "eks", "gb200", "kubeflow" }, { r.criteria.service, r.criteria.accelerator, r.criteria.platform })
    end
    local t = ok({ "recipe", "list", "--service", "any", "--intent", "inference" }).out
    assert.matches("^SERVICE%s+ACCELERATOR%s+INTENT%s+OS%s+PLATFORM%s+OVERLAY\n", t)
    assert.matches("h100%-any%-ubuntu%-inference%-dynamo", t)
    assert.matches("\n12 recipes\n$", t)
  end)

  it("eidos criteria lists each dimension's values and aliases from data/criteria.yaml", function()
    local d = cjson.decode(ok({ "criteria", "-t", "json" }).out)
    local by = {}
    for _, f in ipairs(d.fields) do by[f.name] = f end
    assert.are.same({ "eks", "gke", "aks", "oke", "kind" }, by.service.values)
    assert.are.equal("any", by.service.aliases["self-managed"])
    assert.are.equal("amazonlinux", by.os.aliases.al2023)
    assert.are.equal("l40", by.accelerator.aliases.l40s)
    assert.are.equal(0, by.os.recipes.rhel)
    assert.is_true(by.service.recipes.any > 0)
    assert.is_table(by.nodes)
    local t = ok({ "criteria" }).out
    assert.matches("self%-managed %-> any", t)
  end)
end)

describe("fail closed (CLI)", function()
  it("--platform kubeflow without --os exits 2 naming platform; --allow-partial keeps the old recipe", function()
    local q = { "recipe", "--service", "eks", "--accelerator", "h100", "--intent", "training", "--platform", "kubeflow" }
    local r = run(q)
    assert.are.equal(2, r.code)
    assert.are.equal("", r.out)
    assert.truthy(r.err:find("platform=kubeflow is not honoured", 1, true), r.err)
    q[#q + 1] = "--allow-partial"
    r = ok(q)
    assert.truthy(r.err:find("warning: no overlay is specific to platform=kubeflow", 1, true), r.err)
    assert.are.equal("kubeflow", yaml.load(r.out).criteria.platform)
  end)

end)

local srv = require("e2e.eidosd")
if not srv.available() or not srv.real_engine() then return end

describe("eidosd (upstream request shapes, fail closed)", function()
  local s
  setup(function() s = srv.start({ args = { "--rate=0" } }) end)
  teardown(function() srv.stop(s) end)

  it("GET /v1/recipe with no criteria is 400; a criterion no overlay honours is 400 naming it", function()
    local r = srv.get(s, "/v1/recipe")
    assert.are.equal(400, r.status, r.body)
    assert.truthy(r.json.message:find("no criteria provided", 1, true), r.body)
    r = srv.get(s, "/v1/recipe?service=eks&accelerator=h100&intent=training&platform=kubeflow")
    assert.are.equal(400, r.status, r.body)
    assert.are.equal("platform", r.json.details.criterion)
    assert.are.equal("ubuntu", r.json.details.nearest[1].os)
    r = srv.get(s, "/v1/recipe?service=eks&accelerator=h100&intent=training&platform=kubeflow&allow-partial=true")
    assert.are.equal(200, r.status, r.body)
    assert.truthy(r.json.metadata.warnings[1]:find("platform=kubeflow", 1, true))
    assert.are.equal(400, srv.get(s, "/v1/recipe?service=eks&allow-partial=maybe").status)
  end)

  it("POST /v1/recipe takes an aicr RecipeCriteria; POST /v1/bundle takes a kind: Recipe body", function()
    local r = srv.request(s, "POST", "/v1/recipe", { headers = { "Content-Type: application/yaml" },
      body = support.read(F .. "criteria-aicr.yaml") })
    assert.are.equal(200, r.status, r.body)
    assert.are.equal("h100-eks-ubuntu-training-kubeflow", r.json.metadata.appliedOverlays[#r.json.metadata.appliedOverlays])
    if not srv.real_bundler() then return end
    r = srv.request(s, "POST", "/v1/bundle?deployer=helm", { headers = { "Content-Type: application/json" },
      body = support.read(F .. "recipe-kind-recipe.json") })
    assert.are.equal(200, r.status, r.body)
    r = srv.request(s, "POST", "/v1/bundle?deployer=helm", { headers = { "Content-Type: application/json" },
      body = '{"kind":"RecipeMetadata","componentRefs":[{"name":"gpu-operator"}]}' })
    assert.are.equal(400, r.status, r.body)
  end)
end)
