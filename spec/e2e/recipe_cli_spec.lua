-- eidos recipe / eidos query as a user runs them: criteria flags and
-- files, validation and exit codes, the no-criteria note, snapshot mode
-- (our own fixture always; the two real snapshots when ../shared is there),
-- selectors, --explain, output files, --data, and byte-identical output
-- over 20 fresh processes. Runs the binary with EIDOS_HOME at the source
-- tree so the Lua and data on disk are the ones tested.
local support = require("support")
-- the working directory (ctest runs specs from the source tree without
-- updating $PWD, which support.root reads)
local ROOT = io.popen("pwd"):read("l")
local yaml = require("eidos.core.yaml")

local RULES = "spec/fixtures/recipes/rules"

local function run(args, opts)
  opts = opts or {}
  opts.env = opts.env or {}
  if opts.env.EIDOS_HOME == nil then opts.env.EIDOS_HOME = ROOT end
  return support.run(args, opts)
end

local function ok(args, opts)
  local r = run(args, opts)
  assert.are.equal(0, r.code, table.concat(args, " ") .. "\n" .. (r.err or ""))
  return r
end

local function doc_of(r) return yaml.load(r.out) end

describe("eidos recipe (CLI)", function()
  it("builds a recipe from flags, in yaml, json and table", function()
    local r = ok({ "recipe", "--service", "eks", "--accelerator", "gb200", "--os", "ubuntu", "--intent", "training" })
    local d = doc_of(r)
    assert.are.equal("RecipeResult", d.kind)
    assert.are.equal("eidos.nvidia.com/v1alpha1", d.apiVersion)
    assert.are.same({ service = "eks", accelerator = "gb200", os = "ubuntu", intent = "training", platform = "any" },
      d.criteria)
    assert.are.equal("base", d.metadata.appliedOverlays[1])
    assert.is_true(#d.componentRefs > 0 and #d.deploymentOrder == #d.componentRefs)
    assert.matches("^kind: RecipeResult\napiVersion: eidos.nvidia.com/v1alpha1\nmetadata:\n  version: ", r.out)
    local j = ok({ "recipe", "--service", "eks", "--gpu", "gb200", "--os", "ubuntu", "--intent", "training", "-t", "json" })
    assert.are.same(d, yaml.load(j.out))
    local t = ok({ "recipe", "--service", "eks", "--intent", "training", "-t", "table" })
    assert.matches("criteria:  service=eks, intent=training", t.out, 1, true)
    assert.matches("deployment order: ", t.out, 1, true)
  end)

  it("is byte-identical over 20 fresh processes", function()
    local first
    for i = 1, 20 do
      local r = ok({ "recipe", "--service", "eks", "--accelerator", "h100", "--os", "ubuntu", "--intent", "training",
                     "--platform", "kubeflow" })
      if i == 1 then first = r.out else assert.are.equal(first, r.out, "run " .. i .. " differs") end
    end
    local q = ok({ "query", "--service", "eks", "--intent", "training", "--selector", "." })
    for _ = 1, 4 do assert.are.equal(q.out, ok({ "query", "--service", "eks", "--intent", "training", "--selector", "." }).out) end
  end)

  it("accepts aliases and any case; an unknown value exits 2 listing what is accepted", function()
    local d = doc_of(ok({ "recipe", "--service", "EKS", "--gpu", "H100", "--os", "AL2023", "--intent", "Training" }))
    assert.are.equal("amazonlinux", d.criteria.os)
    assert.are.equal("any", doc_of(ok({ "recipe", "--service", "self-managed", "--accelerator", "h100",
      "--intent", "training" })).criteria.service)
    local r = run({ "recipe", "--service", "eksx" })
    assert.are.equal(2, r.code)
    assert.matches('invalid service "eksx"', r.err, 1, true)
    assert.matches("eks, gke, aks, oke, kind", r.err, 1, true)
    r = run({ "recipe", "--accelerator", "t4" })
    assert.are.equal(2, r.code)
    assert.matches("h100, h200, gb200, b200, a100, l40", r.err, 1, true)
    assert.are.equal(2, run({ "recipe", "--nodes", "-2" }).code)
    assert.are.equal(2, run({ "recipe", "--accelerator", "h100", "--gpu", "a100" }).code)
    assert.are.equal(2, run({ "recipe", "bogus" }).code)
  end)

  it("with no criteria at all is an error (exit 2) naming the flags, as upstream; an empty criteria file is not", function()
    for _, args in ipairs({ { "recipe" }, { "query", "--selector", "." }, { "recipe", "--service", "any" } }) do
      local r = run(args)
      assert.are.equal(2, r.code, table.concat(args, " "))
      assert.matches("no criteria provided: specify at least one of --service, --accelerator, --intent, --os, " ..
        "--platform, --nodes, --criteria, or use --snapshot", r.err, 1, true)
      assert.are.equal("", r.out)
    end
    local dir = support.tmpdir()
    support.write(dir .. "/c.yaml", "kind: RecipeCriteria\nspec: {}\n")
    local r = ok({ "recipe", "--criteria", dir .. "/c.yaml" })
    assert.matches("states no criteria", r.err, 1, true)
    local d = doc_of(r)
    assert.are.same({ "base", "monitoring-hpa" }, d.metadata.appliedOverlays)
    assert.are.equal("any", d.criteria.service)
    os.execute("rm -rf " .. support.q(dir))
  end)

  it("reads a RecipeCriteria file; flags override it", function()
    local dir = support.tmpdir()
    support.write(dir .. "/c.yaml", "kind: recipeCriteria\napiVersion: cns.nvidia.com/v1alpha1\nmetadata: {name: x}\n" ..
      "spec: {service: eks, accelerator: h100, os: ubuntu, intent: inference, nodes: 4}\n")
    support.write(dir .. "/c.json", '{"kind":"RecipeCriteria","apiVersion":"aicr.nvidia.com/v1alpha1",' ..
      '"spec":{"service":"eks","accelerator":"h100","intent":"training"}}')
    local d = doc_of(ok({ "recipe", "--criteria", dir .. "/c.yaml", "--intent", "training" }))
    assert.are.same({ service = "eks", accelerator = "h100", os = "ubuntu", intent = "training", platform = "any",
                      nodes = 4 }, d.criteria)
    d = doc_of(ok({ "recipe", "-c", dir .. "/c.json" }))
    assert.are.equal("training", d.criteria.intent)
    support.write(dir .. "/bad.yaml", "kind: Snapshot\nspec: {}\n")
    local r = run({ "recipe", "--criteria", dir .. "/bad.yaml" })
    assert.are.equal(2, r.code)
    assert.matches("RecipeCriteria, recipeCriteria", r.err, 1, true)
    support.write(dir .. "/badv.yaml", "spec: {service: nope}\n")
    r = run({ "recipe", "--criteria", dir .. "/badv.yaml" })
    assert.are.equal(2, r.code)
    assert.matches('invalid service "nope"', r.err, 1, true)
    assert.are.equal(3, run({ "recipe", "--criteria", dir .. "/missing.yaml" }).code)
    os.execute("rm -rf " .. support.q(dir))
  end)

  it("writes to a file atomically with -o", function()
    local dir = support.tmpdir()
    ok({ "recipe", "--service", "eks", "--intent", "training", "-o", dir .. "/r.yaml" })
    local d = yaml.load(support.read(dir .. "/r.yaml"))
    assert.are.equal("RecipeResult", d.kind)
    assert.are_not.equal(0, run({ "recipe", "--service", "eks", "-o", dir .. "/no/such/dir/r.yaml" }).code)
    os.execute("rm -rf " .. support.q(dir))
  end)

  describe("snapshot mode", function()
    it("derives criteria from our own fixture snapshot and excludes failing overlays", function()
      local r = ok({ "recipe", "--snapshot", "spec/fixtures/snapshots/recipe-eks-h100.yaml", "--intent", "training",
                     "--data", RULES, "--data-mode", "replace", "--log-level", "info", "--allow-partial" })
      local d = doc_of(r)
      assert.are.same({ service = "eks", accelerator = "h100", os = "ubuntu", intent = "training", platform = "any" },
        d.criteria)
      assert.are.same({ "h100-eks-ubuntu-training" }, d.metadata.excludedOverlays)
      assert.are.equal("OS.release.VERSION_ID", d.metadata.constraintWarnings[1].constraint)
      assert.matches("snapshot: service=eks (from K8s.server.version", r.err, 1, true)
      -- values only derived from the snapshot warn; stated, os=ubuntu (honoured only by the excluded
      -- overlay) fails closed without --allow-partial
      r = ok({ "recipe", "--snapshot", "spec/fixtures/snapshots/recipe-eks-h100.yaml", "--intent", "training",
               "--data", RULES, "--data-mode", "replace" })
      assert.matches("no overlay is specific to os=ubuntu", r.err, 1, true)
      r = run({ "recipe", "--snapshot", "spec/fixtures/snapshots/recipe-eks-h100.yaml", "--intent", "training",
                "--os", "ubuntu", "--data", RULES, "--data-mode", "replace" })
      assert.are.equal(2, r.code)
      assert.matches("os=ubuntu is not honoured", r.err, 1, true)
      assert.matches("h100-eks-ubuntu-training (OS.release.VERSION_ID: expected >= 24.04, got 22.04)", r.err, 1, true)
      -- flags override derived values
      d = doc_of(ok({ "recipe", "--snapshot", "spec/fixtures/snapshots/recipe-eks-h100.yaml", "--os", "rhel", "--allow-partial",
                      "--data", RULES, "--data-mode", "replace" }))
      assert.are.equal("rhel", d.criteria.os)
    end)

    it("builds the eks/h100/ubuntu recipe of our fixture against the built-in library", function()
      local d = doc_of(ok({ "recipe", "--snapshot", "spec/fixtures/snapshots/recipe-eks-h100.yaml", "--intent", "training" }))
      assert.are.same({ "eks", "h100", "ubuntu" }, { d.criteria.service, d.criteria.accelerator, d.criteria.os })
      assert.is_table(d.metadata.excludedOverlays)
    end)

    it("rejects a document that is not a snapshot", function()
      local r = run({ "recipe", "--snapshot", "spec/fixtures/recipes/rules/registry.yaml" })
      assert.are.equal(2, r.code)
      assert.matches("Snapshot", r.err, 1, true)
    end)

    local shared = support.shared()
    local cases = { { "h100-eks-ubuntu.yaml", "h100" }, { "gb200-eks-ubuntu.yaml", "gb200" } }
    for _, c in ipairs(cases) do
      local file, acc = c[1], c[2]
      it("gives an eks/" .. acc .. "/ubuntu recipe for the real snapshot " .. file, function()
        if not shared then pending("../shared is not present") return end
        for _, intent in ipairs({ "training", "inference" }) do
          local d = doc_of(ok({ "recipe", "--snapshot", shared .. "/fixtures/snapshots/" .. file, "--intent", intent }))
          assert.are.same({ "eks", acc, "ubuntu", intent }, { d.criteria.service, d.criteria.accelerator, d.criteria.os,
            d.criteria.intent })
          local last = d.metadata.appliedOverlays[#d.metadata.appliedOverlays]
          assert.matches(acc, last, 1, true)
          assert.matches("ubuntu", last, 1, true)
          assert.are.same({}, d.metadata.excludedOverlays)
        end
      end)
    end
  end)

  describe("eidos query", function()
    it("prints one hydrated value: strings bare, maps as YAML, JSON with -t json", function()
      local base = { "query", "--data", RULES, "--data-mode", "replace", "--service", "eks", "--gpu", "h100",
                     "--intent", "training" }
      local function q(sel, extra)
        local a = {}
        for _, x in ipairs(base) do a[#a + 1] = x end
        a[#a + 1] = "--selector"
        a[#a + 1] = sel
        for _, x in ipairs(extra or {}) do a[#a + 1] = x end
        return ok(a).out
      end
      assert.are.equal("1.5\n", q("components.alpha.values.image.tag"))
      assert.are.equal('"1.5"\n', q("components.alpha.values.image.tag", { "-t", "json" }))
      assert.are.equal("1\n", q("components.alpha.values.resources.limits.nvidia.com/gpu"))
      assert.are.equal("repository: example/alpha\ntag: \"1.5\"\n", q("components.alpha.values.image"))
      assert.are.equal("eks\n", q("criteria.service"))
      assert.are.equal("alpha\n", q(".deploymentOrder.0"))
      local r = run({ "query", "--data", RULES, "--data-mode", "replace", "--service", "eks",
                      "--selector", "components.alpha.values.nope" })
      assert.are.equal(3, r.code)
      assert.matches("available keys: image, list, resources, top", r.err, 1, true)
      assert.are.equal(2, run({ "query", "--service", "eks" }).code)
    end)

    it("query --explain names the file or overlay of each value", function()
      local r = ok({ "query", "--data", RULES, "--data-mode", "replace", "--service", "eks", "--gpu", "h100",
                     "--intent", "training", "--selector", "components.alpha.values.image", "--explain" })
      assert.matches("components.alpha.values.image.repository%s+example/alpha%s+values.yaml", r.out)
      assert.matches("components.alpha.values.image.tag%s+1.5%s+valuesFile eks%-training", r.out)
    end)

    it("gives the documented value on the built-in library", function()
      local r = ok({ "query", "--service", "eks", "--accelerator", "gb200", "--os", "ubuntu", "--intent", "training",
                     "--selector", "components.gpu-operator.values.driver.version" })
      assert.matches("^%d+%.%d+%.%d+\n$", r.out)
    end)
  end)

  it("recipe --explain prints a RecipeExplanation (yaml) or a table", function()
    local d = doc_of(ok({ "recipe", "--data", RULES, "--data-mode", "replace", "--service", "eks", "--intent", "training",
                          "--explain" }))
    assert.are.equal("RecipeExplanation", d.kind)
    local t = ok({ "recipe", "--service", "eks", "--intent", "training", "--explain", "-t", "table" }).out
    assert.matches("OVERLAY%s+WHY%s+FILE", t)
    assert.matches("\ncomponent gpu%-operator\n  FIELD / VALUE PATH%s+VALUE%s+FROM\n", t)
    assert.matches("values%.", t)
  end)

  it("calls the criteria, select and recipe hooks of --hooks files", function()
    local dir = support.tmpdir()
    support.write(dir .. "/h.lua", [[
return {
  criteria = function(c) if c.service == "amazon" then c.service = "eks" end return c end,
  select = function(names, c)
    local out = {}
    for _, n in ipairs(names) do if n ~= "catchall" then out[#out + 1] = n end end
    return out
  end,
  recipe = function(r) r.metadata.warnings = { "hooked" } return r end,
}
]])
    local r = ok({ "recipe", "--hooks", dir, "--data", RULES, "--data-mode", "replace", "--service", "amazon",
                   "--intent", "training" })
    local d = doc_of(r)
    assert.are.equal("eks", d.criteria.service)
    assert.are.same({ "base", "eks", "eks-training" }, d.metadata.appliedOverlays)
    assert.are.same({ "hooked" }, d.metadata.warnings)
    -- key order survives the hook
    assert.matches("^kind: RecipeResult\napiVersion: [^\n]*\nmetadata:\n  version: [^\n]*\n  appliedOverlays:", r.out)
    os.execute("rm -rf " .. support.q(dir))
  end)

  it("layers --data over the built-in library", function()
    local dir = support.tmpdir()
    os.execute("mkdir -p " .. support.q(dir .. "/overlays"))
    support.write(dir .. "/registry.yaml", "kind: ComponentRegistry\ncomponents: []\n")
    support.write(dir .. "/overlays/team.yaml", "kind: RecipeMetadata\napiVersion: eidos.nvidia.com/v1alpha1\n" ..
      "metadata:\n  name: team\nspec:\n  criteria:\n    service: eks\n    platform: dynamo\n" ..
      "  constraints:\n    - name: K8s.server.version\n      value: \">= 1.33\"\n")
    local d = doc_of(ok({ "recipe", "--data", dir, "--service", "eks", "--platform", "dynamo" }))
    local applied = table.concat(d.metadata.appliedOverlays, " ")
    assert.matches("team", applied, 1, true)
    assert.matches(" eks", applied, 1, true)
    local r = run({ "recipe", "--data", dir .. "/missing", "--service", "eks" })
    assert.are.equal(3, r.code)
    r = run({ "recipe", "--data-mode", "replace", "--service", "eks" })
    assert.are.equal(2, r.code)
    os.execute("rm -rf " .. support.q(dir))
  end)
end)
