-- eidos.recipe: matching, ordering, inheritance, merge rules, registry
-- defaults, deployment order, snapshot exclusion, values hydration,
-- selectors, provenance and --data layering, on the small libraries in
-- spec/fixtures/recipes/ (and the built-in library where the rule is about
-- it).
local recipe = require("eidos.recipe")
local emit = require("eidos.core.emit")
local yaml = require("eidos.core.yaml")
local support = require("support")

local RULES = "spec/fixtures/recipes/rules"

local function lib(dir, mode)
  return recipe.library({ data = dir or RULES, data_mode = mode or "replace" })
end

local function build(t, opts)
  opts = opts or {}
  opts.library = opts.library or lib()
  opts.version = opts.version or "test"
  return recipe.build(recipe.criteria(t), opts)
end

local function names(list, key)
  local out = {}
  for i, x in ipairs(list) do out[i] = key and x[key] or x end
  return out
end

local function ref(r, name)
  for _, c in ipairs(r.componentRefs) do if c.name == name then return c end end
end

local function err_of(f)
  local ok, e = pcall(f)
  assert.is_false(ok, "expected an error")
  return e
end

-- a throw-away library directory: files = {relpath = text}
local function tmplib(files)
  local d = support.tmpdir()
  for rel, text in pairs(files) do
    local dir = (d .. "/" .. rel):match("^(.*)/[^/]*$")
    os.execute("mkdir -p " .. support.q(dir))
    support.write(d .. "/" .. rel, text)
  end
  return d
end

local REG = [[
kind: ComponentRegistry
components:
  - {name: a, displayName: A, helm: {defaultRepository: "https://r", defaultChart: "x/a", defaultVersion: "1"}}
  - {name: b, displayName: B}
  - {name: c, displayName: C}
]]
local function overlay(name, body)
  return "kind: RecipeMetadata\napiVersion: eidos.nvidia.com/v1alpha1\nmetadata:\n  name: " .. name .. "\nspec:\n" .. body
end

describe("eidos.recipe", function()
  describe("matching and order", function()
    it("applies base, the wildcard overlay and the matching chain, least specific first", function()
      local r = build({ service = "eks", accelerator = "h100", intent = "training" })
      assert.are.same({ "base", "catchall", "eks", "eks-training", "h100-eks-training" }, r.metadata.appliedOverlays)
    end)

    it("a generic query never pulls in a specialised overlay", function()
      assert.are.same({ "base", "catchall", "eks" }, build({ service = "eks" }).metadata.appliedOverlays)
      assert.are.same({ "base", "catchall" },
        build({ accelerator = "h100" }, { allow_partial = true }).metadata.appliedOverlays)
      assert.are.same({ "base", "catchall", "eks", "eks-training" },
        build({ service = "eks", intent = "training" }).metadata.appliedOverlays)
    end)

    it("orders by inheritance depth, then specificity, then name (a total order)", function()
      -- nodes8 (depth 1, 2 fields) comes after eks (depth 1, 1 field), before eks-training (depth 2)
      local r = build({ service = "eks", accelerator = "h100", intent = "training", os = "ubuntu", nodes = 8 })
      assert.are.same({ "base", "catchall", "eks", "nodes8", "eks-training", "h100-eks-training",
                        "h100-eks-ubuntu-training" }, r.metadata.appliedOverlays)
    end)

    it("applies ancestors that do not match themselves, each once", function()
      local r = build({ service = "kind", intent = "inference" })
      assert.are.same({ "base", "catchall", "shared-tuning", "kind-inference" }, r.metadata.appliedOverlays)
      assert.are.same(true, ref(r, "alpha").overrides.tuned)
    end)

    it("fails closed on a stated value no applied overlay pins, naming it and the recipes that do", function()
      local e = err_of(function() build({ service = "eks", os = "rhel" }) end)
      assert.are.equal("invalid", e.code)
      assert.matches("os=rhel is not honoured by any overlay", e.msg, 1, true)
      assert.matches("no curated recipe of the library pins os=rhel", e.msg, 1, true)
      assert.matches("--allow-partial", e.msg, 1, true)
      assert.are.equal("os", e.detail.criterion)
      -- the nearest leaf that pins the value, ranked by agreement with the rest of the query
      e = err_of(function()
        build({ service = "eks", accelerator = "h100", intent = "training", platform = "kubeflow" },
          { library = recipe.library() })
      end)
      assert.matches("platform=kubeflow is not honoured", e.msg, 1, true)
      assert.are.same({ "platform" }, names(e.detail.criteria))
      assert.are.equal("kubeflow", e.detail.nearest[1].platform)
      assert.are.equal("eks", e.detail.nearest[1].service)
      assert.are.equal("h100", e.detail.nearest[1].accelerator)
      -- never nodes: no overlay pins it, a node count alone is fine
      assert.are.same({ "base", "catchall", "eks" }, build({ service = "eks", nodes = 4 }).metadata.appliedOverlays)
    end)

    it("--allow-partial: warns about query values no overlay is specific to, and about an empty query", function()
      local r = build({ service = "eks", os = "rhel" }, { allow_partial = true })
      assert.are.same({ "no overlay is specific to os=rhel; the recipe is not tuned for it" }, r.metadata.warnings)
      r = build({})
      assert.matches("no criteria given", r.metadata.warnings[1], 1, true)
      assert.are.same({ "base", "catchall" }, r.metadata.appliedOverlays)
    end)

    it("the built-in library: explicit intent on real data", function()
      local b = recipe.library()
      local r = recipe.build(recipe.criteria({ service = "eks", intent = "training" }), { library = b })
      for _, n in ipairs(r.metadata.appliedOverlays) do
        assert.is_nil(n:match("^h100") or n:match("^gb200"), "generic query pulled in " .. n)
      end
      r = recipe.build(recipe.criteria({ service = "eks", accelerator = "gb200", os = "ubuntu", intent = "training" }),
        { library = b })
      local applied = table.concat(r.metadata.appliedOverlays, " ")
      assert.matches("^base ", applied)
      assert.matches("eks%-training", applied)
      assert.matches("gb200%-eks%-ubuntu%-training$", applied)
    end)
  end)

  describe("inheritance errors", function()
    it("a cycle is an error naming every overlay and file in it", function()
      local d = tmplib({
        ["registry.yaml"] = REG,
        ["overlays/base.yaml"] = overlay("base", "  componentRefs: [{name: a}]\n"),
        ["overlays/x.yaml"] = overlay("x", "  base: y\n  criteria: {service: eks}\n"),
        ["overlays/y.yaml"] = overlay("y", "  base: x\n"),
      })
      local e = err_of(function() build({ service = "eks" }, { library = lib(d) }) end)
      assert.are.equal("invalid", e.code)
      assert.matches("circular inheritance", e.msg, 1, true)
      assert.matches("x (" .. d .. "/overlays/x.yaml) -> y (" .. d .. "/overlays/y.yaml) -> x", e.msg, 1, true)
      os.execute("rm -rf " .. support.q(d))
    end)

    it("a missing parent is an error naming the overlay, its file and the missing name", function()
      local d = tmplib({
        ["registry.yaml"] = REG,
        ["overlays/base.yaml"] = overlay("base", "  componentRefs: [{name: a}]\n"),
        ["overlays/x.yaml"] = overlay("x", "  base: nope\n  criteria: {service: eks}\n"),
        -- the file name is not the identity: metadata.name is
        ["overlays/nope-file.yaml"] = overlay("not-nope", "  componentRefs: []\n"),
      })
      local e = err_of(function() build({ service = "eks" }, { library = lib(d) }) end)
      assert.are.equal("notfound", e.code)
      assert.matches('overlay "x" (' .. d .. '/overlays/x.yaml) names spec.base "nope"', e.msg, 1, true)
      os.execute("rm -rf " .. support.q(d))
    end)

    it("a library without overlays/base.yaml is an error", function()
      local d = tmplib({ ["registry.yaml"] = REG, ["overlays/x.yaml"] = overlay("x", "  criteria: {service: eks}\n") })
      local e = err_of(function() build({ service = "eks" }, { library = lib(d) }) end)
      assert.matches("no overlays/base.yaml", e.msg, 1, true)
      os.execute("rm -rf " .. support.q(d))
    end)
  end)

  describe("merge rules", function()
    local r = build({ service = "eks", accelerator = "h100", intent = "training", nodes = 8 })

    it("non-empty string fields win, later overlays last", function()
      local a = ref(r, "alpha")
      assert.are.equal("custom-ns", a.namespace)            -- overlay over registry default
      assert.are.equal("1.5.0", a.version)                  -- eks-training over registry
      assert.are.equal("components/alpha/values-training.yaml", a.valuesFile)
    end)

    it("overrides merge by top-level key (a later key replaces the subtree)", function()
      local a = ref(r, "alpha")
      assert.are.same({ c = 3 }, a.overrides.top)           -- base's top {a, b} replaced
      assert.are.equal(true, a.overrides.extra)
      assert.are.equal(8, a.overrides.replicas)
    end)

    it("manifestFiles are appended without duplicates, order kept", function()
      assert.are.same({ "components/alpha/manifests/one.yaml", "components/alpha/manifests/two.yaml" },
        names(ref(r, "alpha").manifestFiles))
    end)

    it("dependencyRefs are replaced", function()
      assert.are.same({ "gamma" }, names(ref(r, "beta").dependencyRefs))
    end)

    it("constraints merge by name (the later replaces the whole entry) and are sorted by name", function()
      assert.are.same({ "K8s.server.version", "OS.release.ID" }, names(r.constraints, "name"))
      assert.are.equal(">= 1.30", r.constraints[1].value)
      assert.are.equal("upgrade", r.constraints[1].remediation)
    end)

    it("validation phases: each phase given replaces that phase", function()
      assert.are.same({ "one" }, names(r.validation.deployment.checks))
      assert.are.same({ "perf" }, names(r.validation.performance.checks))
    end)

    it("componentRefs are sorted by name; registry defaults fill the rest", function()
      assert.are.same({ "alpha", "beta", "delta", "gamma" }, names(r.componentRefs, "name"))
      local b = ref(r, "beta")
      assert.are.same({ "Helm", "oci://registry.example.com/charts", "beta", "v2.0.0", "beta-system" },
        { b.type, b.source, b.chart, b.version, b.namespace })
      assert.are.equal("alpha", ref(r, "alpha").chart)     -- text after the last / of defaultChart
      local d = ref(r, "delta")
      assert.are.equal("", d.source)                        -- no repository: source "" and no chart
      assert.is_nil(d.chart)
      local k = ref(build({ service = "eks", accelerator = "h100", intent = "training", os = "ubuntu" }), "kappa")
      assert.are.same({ "Kustomize", "https://github.com/example/kappa", "v0.9.0", "deploy/overlays/prod" },
        { k.type, k.source, k.tag, k.path })
    end)

    it("never mutates the cached overlays", function()
      local again = build({ service = "eks", accelerator = "h100", intent = "training", nodes = 8 })
      ref(again, "alpha").overrides.top.c = 99
      local third = build({ service = "eks", accelerator = "h100", intent = "training", nodes = 8 })
      assert.are.equal(3, ref(third, "alpha").overrides.top.c)
      assert.are.equal(emit.yaml(r), emit.yaml(third))
    end)
  end)

  describe("deploymentOrder", function()
    it("is Kahn's order with the ready set taken alphabetically", function()
      local r = build({ service = "eks", accelerator = "h100", intent = "training" })
      assert.are.same({ "alpha", "delta", "gamma", "beta" }, names(r.deploymentOrder))
    end)

    it("an unknown dependency is an error naming both components and the overlay", function()
      local d = tmplib({
        ["registry.yaml"] = REG,
        ["overlays/base.yaml"] = overlay("base", "  componentRefs:\n    - {name: a, dependencyRefs: [zz]}\n"),
      })
      local e = err_of(function() build({}, { library = lib(d) }) end)
      assert.matches('component "a" depends on "zz", which is not in the recipe', e.msg, 1, true)
      assert.matches('overlay "base"', e.msg, 1, true)
      os.execute("rm -rf " .. support.q(d))
    end)

    it("a cycle is an error naming the components in it", function()
      local d = tmplib({
        ["registry.yaml"] = REG,
        ["overlays/base.yaml"] = overlay("base", "  componentRefs:\n    - {name: a, dependencyRefs: [b]}\n" ..
          "    - {name: b, dependencyRefs: [c]}\n    - {name: c, dependencyRefs: [a]}\n"),
      })
      local e = err_of(function() build({}, { library = lib(d) }) end)
      assert.matches("circular dependency between components: a -> b -> c -> a", e.msg, 1, true)
      os.execute("rm -rf " .. support.q(d))
    end)
  end)

  describe("snapshot mode", function()
    local function snap(path)
      return yaml.load(io.open(path):read("a"))
    end

    it("excludes matched overlays whose own constraints fail, listing each failure", function()
      local s = snap("spec/fixtures/snapshots/recipe-eks-h100.yaml")
      local r = build({ service = "eks", accelerator = "h100", intent = "training", os = "ubuntu" },
        { snapshot = s, allow_partial = true })
      assert.are.same({ "h100-eks-ubuntu-training" }, names(r.metadata.excludedOverlays))
      local w = r.metadata.constraintWarnings[1]
      assert.are.same({ "h100-eks-ubuntu-training", "OS.release.VERSION_ID", ">= 24.04", "22.04" },
        { w.overlay, w.constraint, w.expected, w.actual })
      assert.matches("24.04", w.reason, 1, true)
      assert.are.same({ "base", "catchall", "eks", "eks-training", "h100-eks-training" }, r.metadata.appliedOverlays)
      assert.matches("excluded", table.concat(r.metadata.warnings, " "), 1, true)
      assert.is_nil(ref(r, "kappa"))
    end)

    it("fails closed when the overlay that honours a criterion is excluded, saying why", function()
      local s = snap("spec/fixtures/snapshots/recipe-eks-h100.yaml")
      local e = err_of(function()
        build({ service = "eks", accelerator = "h100", intent = "training", os = "ubuntu" }, { snapshot = s })
      end)
      assert.are.equal("invalid", e.code)
      assert.matches("os=ubuntu is not honoured", e.msg, 1, true)
      assert.matches("excluded against the snapshot: h100-eks-ubuntu-training (OS.release.VERSION_ID: expected " ..
        ">= 24.04, got 22.04)", e.msg, 1, true)
    end)

    it("keeps overlays that pass and reports empty lists in snapshot mode", function()
      local s = snap("spec/fixtures/snapshots/recipe-eks-h100.yaml")
      local r = build({ service = "eks", accelerator = "h100", intent = "training" }, { snapshot = s })
      assert.are.same({}, names(r.metadata.excludedOverlays))
      assert.are.same({}, names(r.metadata.constraintWarnings))
      assert.are.equal("excludedOverlays: []", emit.yaml(r):match("excludedOverlays: %[%]"))
    end)

    it("a failing measurement excludes the overlay and everything below it; none is applied and excluded", function()
      local s = snap("spec/fixtures/snapshots/recipe-kind-gh200.yaml")
      local r = build({ service = "eks", accelerator = "h100", intent = "training", os = "ubuntu" },
        { snapshot = s, allow_partial = true })
      assert.are.same({ "h100-eks-training", "h100-eks-ubuntu-training" }, names(r.metadata.excludedOverlays))
      local w = r.metadata.constraintWarnings
      assert.are.equal(1, #w)
      assert.are.same({ "h100-eks-training", "OS.release.ID", "debian" }, { w[1].overlay, w[1].constraint, w[1].actual })
      -- an excluded overlay stays out even though its child would need it
      assert.are.same({ "base", "catchall", "eks", "eks-training" }, r.metadata.appliedOverlays)
      for _, a in ipairs(r.metadata.appliedOverlays) do
        for _, x in ipairs(r.metadata.excludedOverlays) do assert.are_not.equal(a, x) end
      end
    end)

    it("a measurement the snapshot lacks leaves the constraint unknown: nothing excluded, nothing reported", function()
      -- the fixture has no OS.release.VERSION_ID: h100-eks-ubuntu-training's only constraint is unknown
      local s = snap("spec/fixtures/snapshots/recipe-kind-gh200.yaml")
      local l = lib()
      local r, info = recipe.build(recipe.criteria({ service = "eks", intent = "training" }),
        { library = l, snapshot = s, version = "test" })
      assert.are.same({}, names(r.metadata.excludedOverlays))
      local calls, seen, distinct = 0, {}, 0
      local _, info2 = recipe.build(recipe.criteria({ service = "eks", accelerator = "h100", intent = "training",
        os = "ubuntu" }), { library = l, allow_partial = true, version = "test", evaluate = function(c)
          calls = calls + 1
          if not seen[c] then seen[c] = true; distinct = distinct + 1 end
          if c.name ~= "OS.release.VERSION_ID" then return { status = "passed", actual = "x" } end
          return { status = "skipped", reason = "no OS.release.VERSION_ID in the snapshot" }
        end })
      assert.are.same({ { overlay = "h100-eks-ubuntu-training", constraint = "OS.release.VERSION_ID",
        reason = "no OS.release.VERSION_ID in the snapshot" } }, info2.unknown)
      assert.is_table(info.unknown)
      -- each overlay's constraints are evaluated once, though several chains share the ancestors
      assert.are.equal(distinct, calls)
    end)
  end)

  describe("values", function()
    local l = lib()
    local r = build({ service = "eks", accelerator = "h100", intent = "training", nodes = 8 })

    it("values.yaml -> valuesFile -> overrides, deep-merged (lists replaced)", function()
      local v = recipe.component_values(l, ref(r, "alpha"))
      assert.are.same({
        image = { repository = "example/alpha", tag = "1.5" },
        resources = { limits = { ["nvidia.com/gpu"] = 1 } },
        list = { "c" }, training = true, extra = true, replicas = 8,
        top = { a = 0, c = 3, z = 26 },
      }, v)
    end)

    it("a ref without valuesFile or overrides has no values", function()
      assert.are.same({}, recipe.component_values(l, ref(r, "beta")))
    end)

    it("hydrate keys components by name; select walks maps, dotted keys and lists", function()
      local h = recipe.hydrate(r, l)
      assert.are.equal("1.5", recipe.select(h, "components.alpha.values.image.tag"))
      assert.are.equal("1.5", recipe.select(h, ".components.alpha.values.image.tag"))
      assert.are.equal(1, recipe.select(h, "components.alpha.values.resources.limits.nvidia.com/gpu"))
      assert.are.equal("delta", recipe.select(h, "deploymentOrder.1"))
      assert.are.equal("eks", recipe.select(h, "criteria.service"))
      assert.are.equal(8, recipe.select(h, "criteria.nodes"))
      assert.are.equal(h, recipe.select(h, ""))
      assert.is_nil(h.components.beta.values)
    end)

    it("a missing key is notfound and lists the keys available there", function()
      local h = recipe.hydrate(r, l)
      local e = err_of(function() recipe.select(h, "components.alpha.values.nope") end)
      assert.are.equal("notfound", e.code)
      assert.matches("extra, image, list, replicas, resources, top, training", e.msg, 1, true)
      e = err_of(function() recipe.select(h, "components.alpha.values.image.tag.x") end)
      assert.are.equal("notfound", e.code)
      e = err_of(function() recipe.select(h, "components.zeta") end)
      assert.matches("alpha, beta, delta, gamma", e.msg, 1, true)
    end)
  end)

  describe("explain", function()
    it("names the overlay or file behind every field, value and constraint", function()
      local r = build({ service = "eks", accelerator = "h100", intent = "training", nodes = 8 })
      local ex = recipe.explain(r, lib())
      assert.are.equal("RecipeExplanation", ex.kind)
      local function entry(list, k, v)
        for _, x in ipairs(list) do if x[k] == v then return x end end
      end
      local alpha = entry(ex.components, "name", "alpha")
      assert.are.equal("h100-eks-training", entry(alpha.fields, "field", "namespace").overlay)
      assert.are.equal("registry", entry(alpha.fields, "field", "source").via)
      assert.are.equal("eks-training", entry(alpha.fields, "field", "version").overlay)
      assert.are.equal("nodes8", entry(alpha.fields, "field", "overrides.replicas").overlay)
      assert.are.equal("base", entry(alpha.fields, "field", "manifestFiles[0]").overlay)
      assert.are.equal("h100-eks-training", entry(alpha.fields, "field", "manifestFiles[1]").overlay)
      local v = entry(alpha.values, "path", "image.repository")
      assert.are.same({ "values.yaml", RULES .. "/components/alpha/values.yaml" }, { v.via, v.file })
      v = entry(alpha.values, "path", "image.tag")
      assert.are.same({ "valuesFile", "eks-training" }, { v.via, v.overlay })
      v = entry(alpha.values, "path", "top.c")
      assert.are.same({ "overrides", "eks-training" }, { v.via, v.overlay })
      v = entry(alpha.values, "path", "top.z")
      assert.are.equal("values.yaml", v.via)
      assert.is_not_nil(entry(alpha.values, "path", 'resources.limits["nvidia.com/gpu"]'))
      local c = entry(ex.constraints, "name", "K8s.server.version")
      assert.are.equal("eks", c.overlay)
      local o = entry(ex.overlays, "name", "shared-tuning")
      assert.is_nil(o)
      o = entry(recipe.explain(build({ service = "kind", intent = "inference" }), lib()).overlays, "name", "shared-tuning")
      assert.matches("ancestor", o.reason)
    end)
  end)

  describe("--data layering", function()
    it("layers a directory over the built-in library: same path replaces, new overlays add, registry merges", function()
      local d = tmplib({
        ["registry.yaml"] = "kind: ComponentRegistry\ncomponents:\n" ..
          "  - {name: gpu-operator, helm: {defaultVersion: v99.0.0}}\n" ..
          "  - {name: my-addon, displayName: Mine, helm: {defaultRepository: 'https://mine', defaultChart: addon}}\n",
        ["overlays/my-eks.yaml"] = overlay("my-eks", "  criteria: {service: eks, platform: kubeflow}\n" ..
          "  componentRefs:\n    - {name: my-addon}\n"),
      })
      local l = recipe.library({ data = d })
      local r = recipe.build(recipe.criteria({ service = "eks", platform = "kubeflow" }), { library = l })
      assert.is_not_nil(ref(r, "my-addon"))
      assert.are.equal("https://mine", ref(r, "my-addon").source)
      local g = ref(r, "gpu-operator")
      assert.are.equal("v99.0.0", g.version)                 -- merged over the built-in entry
      assert.are.equal("https://helm.ngc.nvidia.com/nvidia", g.source)
      assert.matches("my%-eks", table.concat(r.metadata.appliedOverlays, " "))
      os.execute("rm -rf " .. support.q(d))
    end)

    it("an overlay of the directory with a built-in overlay's name wins", function()
      local d = tmplib({ ["overlays/other-path.yaml"] = overlay("eks", "  criteria: {service: eks}\n" ..
        "  constraints:\n    - {name: K8s.server.version, value: '>= 1.99'}\n"),
        ["registry.yaml"] = "kind: ComponentRegistry\ncomponents: []\n" })
      local l = recipe.library({ data = d })
      local r = recipe.build(recipe.criteria({ service = "eks" }), { library = l })
      assert.are.equal(">= 1.99", r.constraints[1].value)
      os.execute("rm -rf " .. support.q(d))
    end)

    it("replace mode uses the directory alone; both modes need its registry", function()
      local l = lib(RULES, "replace")
      assert.is_nil(l:registry().byname["gpu-operator"])
      local d = tmplib({ ["overlays/base.yaml"] = overlay("base", "  componentRefs: []\n") })
      local e = err_of(function() recipe.library({ data = d, data_mode = "replace" }) end)
      assert.matches("registry.yaml is required in external data directory " .. d, e.msg, 1, true)
      -- layered (the default) too, as upstream: a directory without registry.yaml is refused
      e = err_of(function() recipe.library({ data = d }) end)
      assert.are.equal("invalid", e.code)
      assert.matches("registry.yaml is required in external data directory " .. d, e.msg, 1, true)
      e = err_of(function() recipe.library({ data = d .. "/nope" }) end)
      assert.are.equal("notfound", e.code)
      e = err_of(function() recipe.library({ data = d .. "/overlays/base.yaml" }) end)
      assert.matches("not a directory", e.msg, 1, true)
      os.execute("rm -rf " .. support.q(d))
    end)

    it("reads upstream spellings: recipeMetadata kind, other apiVersions, skips other kinds", function()
      local d = tmplib({
        ["registry.yaml"] = REG,
        ["overlays/base.yaml"] = "kind: recipeMetadata\napiVersion: cns.nvidia.com/v1alpha1\nmetadata: {name: base}\n" ..
          "spec:\n  componentRefs: [{name: a}]\n",
        ["overlays/eks.yaml"] = "kind: RecipeMetadata\napiVersion: aicr.nvidia.com/v1alpha1\nmetadata:\n  name: eks\n" ..
          "spec:\n  criteria:\n    service: eks\n  componentRefs:\n    - name: b\n",
        ["validators/catalog.yaml"] = "apiVersion: aicr.nvidia.com/v1\nkind: ValidatorCatalog\nvalidators: []\n",
        ["overlays/notes.yml"] = "ignored: true\n",
      })
      local r = build({ service = "eks" }, { library = lib(d) })
      assert.are.same({ "base", "eks" }, r.metadata.appliedOverlays)
      assert.are.same({ "a", "b" }, names(r.componentRefs, "name"))
      os.execute("rm -rf " .. support.q(d))
    end)
  end)

  it("output order follows the RecipeResult schema", function()
    local r = build({ service = "eks", accelerator = "h100", intent = "training" })
    local text = emit.yaml(r)
    local keys = {}
    for k in text:gmatch("\n?([%a]+):") do if not keys[k] then keys[#keys + 1] = k; keys[k] = true end end
    assert.are.same({ "kind", "apiVersion", "metadata", "version", "appliedOverlays", "criteria" },
      { keys[1], keys[2], keys[3], keys[4], keys[5], keys[6] })
    assert.matches("\nconstraints:.*\ncomponentRefs:.*\ndeploymentOrder:.*\nvalidation:", text)
    assert.matches("%- name: alpha\n  namespace: custom%-ns\n  chart: alpha\n  type: Helm\n  source:", text)
  end)
end)
