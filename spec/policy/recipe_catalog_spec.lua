-- eidos.recipe.catalog and the built-in catalog's data: curated leaves
-- (recipe list), provider-independent leaves, a validation block per leaf,
-- the validator catalog, and every component version compared with
-- upstream's catalog (spec/fixtures/upstream/versions.yaml).
local recipe = require("eidos.recipe")
local catalog = require("eidos.recipe.catalog")
local lint = require("eidos.recipe.lint")
local yaml = require("eidos.core.yaml")
local version = require("eidos.core.version")
local support = require("support")

local lib = recipe.library()

local function build(t, opts)
  opts = opts or {}
  opts.library = opts.library or lib
  opts.version = "test"
  return recipe.build(recipe.criteria(t), opts)
end

local function names(r)
  local out = {}
  for i, c in ipairs(r.componentRefs) do out[i] = c.name end
  return out
end

local function has(list, x)
  for _, v in ipairs(list) do if v == x then return true end end
  return false
end

describe("the recipe catalog", function()
  describe("recipe list", function()
    local d = recipe.list(lib)

    it("lists every overlay that pins accelerator, intent and os, once, in catalog order", function()
      local want = 0
      for _, e in ipairs(lib:index().list) do
        local c = e.criteria
        if c and c.accelerator ~= "any" and c.intent ~= "any" and c.os ~= "any" then want = want + 1 end
      end
      assert.are.equal("RecipeList", d.kind)
      assert.are.equal(want, #d.recipes)
      assert.is_true(#d.recipes >= 104 + 24, #d.recipes .. " leaves")
      local seen = {}
      for _, r in ipairs(d.recipes) do
        assert.is_nil(seen[r.overlay], r.overlay)
        seen[r.overlay] = true
      end
      -- catalog order: service any (self-managed) first, then eks, ...; platform any before a platform
      assert.are.equal("any", d.recipes[1].criteria.service)
      assert.are.equal("any", d.recipes[1].criteria.platform)
      assert.are.equal("h100-any-ubuntu-training", d.recipes[1].overlay)
    end)

    it("every listed tuple resolves to its leaf without --allow-partial", function()
      for _, r in ipairs(d.recipes) do
        local res = build(r.criteria)
        local applied = res.metadata.appliedOverlays
        assert.are.equal(r.overlay, applied[#applied], r.overlay)
        assert.is_nil(res.metadata.warnings, r.overlay)
      end
    end)

    it("filters by any criterion; any selects the leaves that leave it unpinned", function()
      local f = recipe.list(lib, recipe.criteria({ service = "eks", accelerator = "gb200", intent = "training" }))
      local got = {}
      for i, r in ipairs(f.recipes) do got[i] = r.overlay end
      -- criteria() fills the other fields with any: os any and platform any match no leaf
      assert.are.same({}, got)
      f = recipe.list(lib, { service = "eks", accelerator = "gb200", intent = "training" })
      got = {}
      for i, r in ipairs(f.recipes) do got[i] = r.overlay end
      assert.are.same({ "gb200-eks-ubuntu-training", "gb200-eks-ubuntu-training-kubeflow",
                        "gb200-eks-amazonlinux-training", "gb200-eks-amazonlinux-training-kubeflow" }, got)
      f = recipe.list(lib, { service = "any" })
      for _, r in ipairs(f.recipes) do assert.matches("%-any%-", r.overlay) end
      assert.are.equal(24, #f.recipes)
    end)
  end)

  describe("fail closed on the built-in catalog", function()
    it("kubeflow leaves stay OS-specific: no os names platform and the OS leaves", function()
      local ok, e = pcall(build, { service = "eks", accelerator = "h100", intent = "training", platform = "kubeflow" })
      assert.is_false(ok)
      assert.are.equal("platform", e.detail.criterion)
      assert.matches("--service eks --accelerator h100 --intent training --os ubuntu --platform kubeflow", e.msg, 1, true)
      local r = build({ service = "eks", accelerator = "h100", intent = "training", platform = "kubeflow" },
        { allow_partial = true })
      assert.is_false(has(names(r), "kubeflow-trainer"))
      assert.matches("platform=kubeflow", r.metadata.warnings[1], 1, true)
    end)
  end)

  describe("provider-independent leaves (self-managed clusters)", function()
    it("--service any with an accelerator gives a usable recipe without provider parts", function()
      for _, t in ipairs({ { accelerator = "h100", intent = "training" },
                           { accelerator = "h100", intent = "training", os = "ubuntu", platform = "kubeflow" },
                           { accelerator = "gb200", intent = "inference", os = "ubuntu", platform = "dynamo" },
                           { service = "self-managed", accelerator = "a100", intent = "inference" } }) do
        local r = build(t)
        local comps = names(r)
        for _, n in ipairs(comps) do
          assert.is_falsy(n:match("^aws%-") or n:match("^gke%-") or n == "network-operator", n)
        end
        for _, n in ipairs({ "gpu-operator", "nvidia-dra-driver-gpu", "kai-scheduler", "kube-prometheus-stack" }) do
          assert.is_true(has(comps, n), n)
        end
        for _, o in ipairs(r.metadata.appliedOverlays) do
          assert.is_falsy(o:match("^eks") or o:match("^gke") or o:match("^aks") or o:match("^oke") or o:match("^kind"), o)
        end
        if t.platform == "kubeflow" then assert.is_true(has(comps, "kubeflow-trainer")) end
        if t.intent == "inference" then assert.is_true(has(comps, "kgateway")) end
      end
    end)

    it("under a provider the provider's overlays win (its constraints, its values)", function()
      local r = build({ service = "gke", accelerator = "h100", intent = "training", os = "ubuntu" })
      local k8s
      for _, c in ipairs(r.constraints) do if c.name == "K8s.server.version" then k8s = c.value end end
      assert.are.equal(">= 1.31", k8s)
      local applied = r.metadata.appliedOverlays
      assert.are.equal("h100-gke-ubuntu-training", applied[#applied])
      -- kind's Debian node image: the provider-independent ubuntu leaf checks only the kernel
      r = build({ service = "kind", accelerator = "h100", intent = "training", os = "ubuntu" })
      for _, c in ipairs(r.constraints) do assert.are_not.equal("OS.release.ID", c.name) end
    end)
  end)

  describe("data", function()
    it("every curated leaf has a validation block in upstream's format", function()
      for _, l in ipairs(catalog.leaves(lib)) do
        local r = build(l.criteria)
        local v = r.validation
        assert.is_table(v, l.name)
        assert.is_table(v.deployment, l.name)
        assert.is_table(v.conformance, l.name)
        assert.is_true(has(v.conformance.checks, "dra-support"), l.name)
        assert.are.equal(l.criteria.intent == "inference", has(v.conformance.checks, "inference-gateway"), l.name)
        assert.are.equal(l.criteria.platform ~= "any", has(v.conformance.checks, "robust-controller"), l.name)
        if v.performance then
          assert.are.equal("training", l.criteria.intent, l.name)
          local c = v.performance.constraints[1]
          assert.are.equal("nccl-all-reduce-bw", c.name)
          assert.matches("^>= %d+$", c.value)
          assert.are.equal("GB/s", c.unit)
          assert.are.equal(2, v.performance.nodeSelection.maxNodes)
        end
      end
      -- upstream's thresholds where upstream states one
      local function bw(t)
        return build(t).validation.performance.constraints[1].value
      end
      assert.are.equal(">= 300", bw({ service = "eks", accelerator = "h100", os = "ubuntu", intent = "training" }))
      assert.are.equal(">= 250", bw({ service = "gke", accelerator = "h100", os = "cos", intent = "training" }))
      assert.are.equal(">= 100", bw({ service = "aks", accelerator = "h100", os = "ubuntu", intent = "training" }))
    end)

    it("GKE A3 Mega (H100 on COS) training gets GPUDirect-TCPXO; inference gets the inference gateway", function()
      local r = build({ service = "gke", accelerator = "h100", os = "cos", intent = "training" })
      local tcpxo
      for _, c in ipairs(r.componentRefs) do if c.name == "gke-nccl-tcpxo" then tcpxo = c end end
      assert.is_table(tcpxo)
      assert.are.equal("kube-system", tcpxo.namespace)
      assert.are.equal(2, #tcpxo.manifestFiles)
      for _, svc in ipairs({ "eks", "gke", "aks", "oke", "kind" }) do
        r = build({ service = svc, intent = "inference" })
        local gw
        for _, c in ipairs(r.componentRefs) do if c.name == "kgateway" then gw = c end end
        assert.is_table(gw, svc)
        assert.is_true(has(gw.manifestFiles, "components/kgateway/manifests/inference-gateway.yaml"), svc)
        assert.is_true(has(r.deploymentOrder, "kgateway-crds"), svc)
      end
      -- the manifests render as YAML documents with the hook annotations
      for _, f in ipairs({ "components/kgateway-crds/manifests/gateway-api-crds.yaml",
                           "components/kgateway/manifests/inference-gateway.yaml",
                           "components/kubeflow-trainer/manifests/torch-distributed.yaml",
                           "components/gke-nccl-tcpxo/manifests/nccl-tcpxo-installer.yaml",
                           "components/gke-nccl-tcpxo/manifests/nri-device-injector.yaml" }) do
        local text = recipe.read(lib, f)
        local docs = require("eidos.doc").decode_all(text, f)
        assert.is_true(#docs >= 1, f)
        for _, d in ipairs(docs) do
          assert.is_string(d.kind, f)
          assert.is_string(d.metadata.name, f)
        end
      end
      r = build({ service = "eks", accelerator = "h100", os = "ubuntu", intent = "training", platform = "kubeflow" })
      for _, c in ipairs(r.componentRefs) do
        if c.name == "kubeflow-trainer" then
          assert.are.same({ "components/kubeflow-trainer/manifests/torch-distributed.yaml" }, c.manifestFiles)
        end
      end
    end)

    it("every component version agrees with upstream's catalog, or the difference is recorded", function()
      local t = yaml.load(support.read("spec/fixtures/upstream/versions.yaml"))
      local reg = lib:registry()
      for _, c in ipairs(t.components) do
        local e = reg.byname[c.name]
        assert.is_table(e, c.name .. " is in upstream's catalog but not in recipes/registry.yaml")
        local ours = e.helm and e.helm.defaultVersion
        if c.upstream ~= "none" then
          local want = c.eidos or c.upstream
          assert.are.equal(want, ours, string.format("%s: ours %s, upstream %s%s", c.name, tostring(ours), c.upstream,
            c.eidos and " (recorded difference)" or ""))
          if c.eidos then
            assert.is_string(c.reason, c.name)
            assert.is_true(version.compare(c.eidos, c.upstream) >= 0, c.name .. ": a recorded difference may not lag")
          end
        end
      end
      -- overlays never pin versions, so the registry is what every recipe resolves
      for _, e in ipairs(lib:index().list) do
        for _, ref in ipairs(lib:spec(e).componentRefs) do
          assert.is_nil(ref.version, e.name .. " pins " .. ref.name)
        end
      end
    end)

    it("recipe lint passes; a check missing from the validator catalog is a problem", function()
      local report = recipe.lint(lib)
      assert.are.same({}, report.problems)
      local d = support.tmpdir()
      os.execute("mkdir -p " .. support.q(d .. "/overlays") .. " " .. support.q(d .. "/validators"))
      support.write(d .. "/registry.yaml", "kind: ComponentRegistry\ncomponents: []\n")
      support.write(d .. "/validators/catalog.yaml", "kind: ValidatorCatalog\nvalidators:\n" ..
        "  - {name: nccl-all-reduce-bw, phase: performance, image: x}\n")
      support.write(d .. "/overlays/base.yaml", "kind: RecipeMetadata\napiVersion: eidos.nvidia.com/v1alpha1\n" ..
        "metadata: {name: base}\nspec:\n  constraints:\n    - {name: K8s.server.version, value: '>= 1.30'}\n")
      support.write(d .. "/overlays/x.yaml", "kind: RecipeMetadata\napiVersion: eidos.nvidia.com/v1alpha1\n" ..
        "metadata: {name: x}\nspec:\n  criteria: {service: eks}\n  constraints:\n" ..
        "    - {name: K8s.server.version, value: '>= 1.30'}\n  validation:\n" ..
        "    conformance: {checks: [nccl-all-reduce-bw, no-such-check]}\n    smoke: {checks: []}\n")
      report = lint.run(recipe.library({ data = d, data_mode = "replace" }))
      local msgs = {}
      for _, p in ipairs(report.problems) do
        if p.check == "validation" then msgs[#msgs + 1] = p.message end
      end
      table.sort(msgs)
      assert.are.equal(3, #msgs)
      assert.matches('check "nccl%-all%-reduce%-bw" is a performance check', msgs[1])
      assert.matches('conformance check "no%-such%-check" is not in', msgs[2])
      assert.matches('unknown validation phase "smoke"', msgs[3])
      os.execute("rm -rf " .. support.q(d))
    end)
  end)
end)
