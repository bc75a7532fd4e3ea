-- The bundle options upstream has beside the node scheduling flags:
-- --nodes (written at the registry's nodeCountPaths), --workload-gate (a
-- taint string at accelerated.taintStrPaths), --workload-selector (at
-- podScheduling.workload.workloadSelectorPaths), and the registry's
-- bundle-time checks (eidos.bundle.checks) such as upstream's warning when
-- Skyhook customizations run for training without a workload selector.
local bundle = require("eidos.bundle")
local memory_library = require("memory_library")
local overrides = require("eidos.bundle.overrides")
local checks = require("eidos.bundle.checks")
local yaml = require("eidos.core.yaml")

local REGISTRY = [[
components:
  - name: op
    helm: {defaultRepository: "https://charts.example.com", defaultChart: op, defaultVersion: 1.0.0, defaultNamespace: op}
    nodeScheduling:
      nodeCountPaths: [estimatedNodeCount, sizing.nodes]
      accelerated:
        taintStrPaths: [controllerManager.env.runtimeRequiredTaint]
  - name: tuning
    helm: {defaultRepository: "", defaultNamespace: op}
    nodeScheduling:
      accelerated: {nodeSelectorPaths: [acceleratedNodeSelector]}
    podScheduling:
      workload: {workloadSelectorPaths: [workloadSelector, other.podLabels]}
    validations:
      - function: CheckWorkloadSelectorMissing
        severity: warning
        conditions: {intent: [training]}
        message: Skyhook may interrupt running jobs.
]]

local function lib(registry)
  local files = {
    ["registry.yaml"] = registry or REGISTRY,
    ["components/op/values.yaml"] = "sizing: 3\ncontrollerManager: {env: {keep: x}}\n",
    ["components/tuning/values.yaml"] = "enabled: true\n",
    ["components/tuning/manifests/t.yaml"] = "kind: Skyhook\nspec:\n  podNonInterruptLabels: " ..
      "{{ toJson (index .Values \"tuning\").workloadSelector }}\n",
  }
  return memory_library.from_reader(function(rel) return files[rel], "mem:" .. rel end)
end

local function recipe(intent)
  return yaml.load(string.format([[
kind: RecipeResult
apiVersion: eidos.nvidia.com/v1alpha1
criteria: {service: eks, accelerator: h100, intent: %s}
componentRefs:
  - {name: op, type: Helm, source: "https://charts.example.com", chart: op, version: 1.0.0, namespace: op,
     valuesFile: components/op/values.yaml}
  - {name: tuning, type: Helm, source: "", namespace: op, valuesFile: components/tuning/values.yaml,
     manifestFiles: [components/tuning/manifests/t.yaml]}
deploymentOrder: [op, tuning]
]], intent or "training"))
end

local function build(opts, r, registry)
  return bundle.build(r or recipe(), { library = lib(registry), scheduling = overrides.parse_scheduling(opts),
                                       deployer = "helm-components", version = "0.5.0", origin = "t" })
end

local function comp(b, name)
  for _, c in ipairs(b.model.Components) do if c.Name == name then return c end end
end

local function errmsg(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return e.msg, e.code
end

describe("bundle workload options", function()
  describe("parsing", function()
    it("reads --nodes, --workload-gate and --workload-selector", function()
      local s = overrides.parse_scheduling({ nodes = "8", ["workload-gate"] = "dedicated=training:NoSchedule",
                                             ["workload-selector"] = { "team=ml", "job=pretrain", "team=ai" } })
      assert.are.equal(8, s.nodes)
      assert.are.equal("dedicated=training:NoSchedule", s.gate)
      assert.are.same({ team = "ai", job = "pretrain" }, s.workload.selector)
      assert.are.equal("nvidia.com/gpu:NoExecute", overrides.parse_scheduling({ ["workload-gate"] = "nvidia.com/gpu:NoExecute" }).gate)
      assert.is_true(overrides.has_scheduling(s))
    end)

    it("takes --nodes 0 as not given, like upstream", function()
      local s = overrides.parse_scheduling({ nodes = "0" })
      assert.is_nil(s.nodes)
      assert.is_false(overrides.has_scheduling(s))
    end)

    it("refuses bad values, naming the flag, the value and the syntax (exit 2)", function()
      for _, case in ipairs({
        { { nodes = "-1" }, 'invalid %-%-nodes "%-1" %(accepted: a node count' },
        { { nodes = "1e3" }, '"1e3"' }, { { nodes = "" }, '%-%-nodes ""' }, { { nodes = " 8" }, '" 8"' },
        { { nodes = "99999999999999999999" }, "99999999999999999999" },
        { { ["workload-gate"] = "dedicated=training" }, "%-%-workload%-gate" },
        { { ["workload-gate"] = "a:Nope" }, 'unknown effect "Nope"' },
        { { ["workload-selector"] = { "team" } }, "invalid %-%-workload%-selector \"team\"" },
        { { ["workload-selector"] = { "bad key=x" } }, "bad label key" },
      }) do
        local msg, code = errmsg(overrides.parse_scheduling, case[1])
        assert.are.equal("invalid", code)
        assert.matches(case[2], msg)
      end
    end)
  end)

  describe("applying", function()
    it("writes the node count and the gate at the registry's paths", function()
      local b = build({ nodes = "12", ["workload-gate"] = "dedicated=training:NoSchedule" })
      local v = comp(b, "op").Values
      assert.are.equal(12, v.estimatedNodeCount)
      assert.are.equal(math.type(v.estimatedNodeCount), "integer")
      -- a non-map on the way is replaced, as the other scheduling paths are
      assert.are.same({ nodes = 12 }, v.sizing)
      assert.are.same({ keep = "x", runtimeRequiredTaint = "dedicated=training:NoSchedule" }, v.controllerManager.env)
      assert.is_nil(comp(b, "tuning").Values.estimatedNodeCount)
    end)

    it("writes the workload selector at podScheduling paths and the manifests see it", function()
      local b = build({ ["workload-selector"] = { "team=ml" } })
      local v = comp(b, "tuning").Values
      assert.are.same({ team = "ml" }, v.workloadSelector)
      assert.are.same({ podLabels = { team = "ml" } }, v.other)
      assert.is_nil(comp(b, "op").Values.workloadSelector)
      assert.matches('podNonInterruptLabels: {"team":"ml"}', comp(b, "tuning").Manifests[1].Text)
    end)

    it("writes nothing without the flags", function()
      local b = build({})
      assert.are.same({ sizing = 3, controllerManager = { env = { keep = "x" } } }, comp(b, "op").Values)
    end)
  end)

  describe("registry checks", function()
    it("warns when a training recipe has Skyhook customizations and no --workload-selector", function()
      local b = build({})
      assert.are.equal(1, #b.notes)
      assert.matches("^tuning is in the bundle but %-%-workload%-selector is not set%. Skyhook may interrupt", b.notes[1])
      assert.are.same({}, build({ ["workload-selector"] = { "team=ml" } }).notes)
      assert.are.same({}, build({}, recipe("inference")).notes)
      -- a recipe for any intent may be used for training: it warns too
      assert.are.equal(1, #build({}, recipe("any")).notes)
    end)

    it("refuses the bundle for a failing check of severity error", function()
      local reg = REGISTRY:gsub("severity: warning", "severity: error")
      local msg, code = errmsg(build, {}, nil, reg)
      assert.are.equal("invalid", code)
      assert.matches("%-%-workload%-selector is not set", msg)
    end)

    it("knows upstream's check names and refuses unknown ones and severities", function()
      assert.is_function(checks.FUNCTIONS.CheckWorkloadSelectorMissing)
      assert.is_function(checks.FUNCTIONS.CheckAcceleratedSelectorMissing)
      local msg = errmsg(build, {}, nil, (REGISTRY:gsub("CheckWorkloadSelectorMissing", "CheckNope")))
      assert.matches('registry: component tuning, validations%[0%]: unknown check "CheckNope" %(accepted: ' ..
        "CheckAcceleratedSelectorMissing, CheckWorkloadSelectorMissing%)", msg)
      msg = errmsg(build, {}, nil, (REGISTRY:gsub("severity: warning", "severity: fatal")))
      assert.matches('unknown severity "fatal"', msg)
    end)

    it("checks the accelerated selector for the conditions listed", function()
      local notes = checks.run({ { Name = "c", entry = { validations = {
        { ["function"] = "CheckAcceleratedSelectorMissing", conditions = { intent = { "training", "inference" } } } } } } },
        { intent = "inference" }, { accelerated = {} })
      assert.are.same({ "c is in the bundle but --accelerated-node-selector is not set" }, notes)
      assert.are.same({}, checks.run({ { Name = "c", entry = { validations = {
        { ["function"] = "CheckAcceleratedSelectorMissing" } } } } }, {}, { accelerated = { selector = { a = "b" } } }))
    end)
  end)
end)
