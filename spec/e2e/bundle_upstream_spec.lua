-- `eidos bundle -d helm-components` against the bundle assertions of the
-- upstream tool (aicr v0.11.1; its chainsaw tests and Go tests as recorded
-- in shared/reference/anchor-bundle-api.md, section 6), on the built-in
-- recipe library: the tree, scripts and their order, checksums, scheduling
-- paths, --set, --nodes, --workload-gate, --workload-selector with the
-- training warning, disabled components, no timestamps, reproducibility,
-- yamllint and eidos verify.
local support = require("support")
local yaml = require("eidos.core.yaml")
local fs = require("eidos.core.fs")

local BIG = "spec/fixtures/bundle/recipe-eks-gb200-ubuntu-training.yaml"
-- --set and every scheduling option (upstream's bundle-variants test gives each one)
local ALL_FLAGS = {
  "--set", "gpu-operator:driver.version=999.99.99",
  "--system-node-selector", "nodeGroup=system-pool",
  "--system-node-toleration", "dedicated=system-workload:NoSchedule",
  "--accelerated-node-selector", "nodeGroup=customer-gpu",
  "--accelerated-node-toleration", "dedicated=worker-workload:NoSchedule",
  "--workload-gate", "skyhook.nvidia.com/runtime-required=true:NoSchedule",
  "--workload-selector", "workload-type=training",
  "--nodes", "8",
}

local function run(args)
  return support.run(args, { env = { EIDOS_HOME = support.root } })
end

local function bundle(out, extra)
  local args = { "bundle", "-r", BIG, "-o", out, "-d", "helm-components" }
  for _, a in ipairs(extra or {}) do args[#args + 1] = a end
  local r = run(args)
  assert.are.equal(0, r.code, r.err)
  return r
end

local function load(path)
  local v, msg = yaml.load(assert(support.read(path), path))
  assert.is_truthy(v ~= nil, path .. ": " .. tostring(msg))
  return v
end

local function sh(cmd) return os.execute(cmd) == true end

describe("helm-components against upstream's bundle assertions", function()
  local tmp, out, r
  local recipe = load(BIG)
  setup(function()
    tmp = support.tmpdir()
    out = tmp .. "/b"
    r = bundle(out, ALL_FLAGS)
  end)
  teardown(function() fs.remove_tree(tmp) end)

  it("has the tree: deploy.sh, undeploy.sh, README.md, recipe.yaml, checksums.txt, <component>/values.yaml and README.md", function()
    for _, f in ipairs({ "deploy.sh", "undeploy.sh", "README.md", "recipe.yaml", "checksums.txt" }) do
      assert.is_true(support.exists(out .. "/" .. f), f)
    end
    for _, ref in ipairs(recipe.componentRefs) do
      assert.is_true(support.exists(out .. "/" .. ref.name .. "/values.yaml"), ref.name)
      assert.is_true(support.exists(out .. "/" .. ref.name .. "/README.md"), ref.name)
    end
    assert.is_true(support.exists(out .. "/gpu-operator/manifests/dcgm-exporter.yaml"))
    assert.is_true(support.exists(out .. "/skyhook-customizations/manifests/tuning.yaml"))
    -- a manifest that renders empty (GKE-only quota on EKS) is left out
    assert.is_false(support.exists(out .. "/gpu-operator/manifests/gke-resourcequota.yaml"))
    assert.is_true(sh("test -x " .. out .. "/deploy.sh && test -x " .. out .. "/undeploy.sh"))
  end)

  it("installs in deploymentOrder and removes in reverse", function()
    local dep, undep = {}, {}
    for n in support.read(out .. "/deploy.sh"):gmatch("\ncomponent ([%w-]+) ") do dep[#dep + 1] = n end
    for n in support.read(out .. "/undeploy.sh"):gmatch("\nremove ([%w-]+) ") do undep[#undep + 1] = n end
    assert.are.same(recipe.deploymentOrder, dep)
    local rev = {}
    for i = #dep, 1, -1 do rev[#rev + 1] = dep[i] end
    assert.are.same(rev, undep)
    local text = support.read(out .. "/deploy.sh")
    assert.truthy(text:find("component gpu-operator install gpu-operator gpu-operator 1 1 'gpu-operator' --repo " ..
      "'https://helm.ngc.nvidia.com/nvidia' --version 'v25.10.1'", 1, true))
    assert.truthy(text:find("component kai-scheduler install kai-scheduler kai-scheduler 0 0 " ..
      "'oci://ghcr.io/nvidia/kai-scheduler/kai-scheduler' --version", 1, true))
  end)

  it("writes checksums.txt as sha256sum -c reads it, covering every file", function()
    local n = 0
    for line in support.read(out .. "/checksums.txt"):gmatch("[^\n]+") do
      assert.matches("^%x+  [%w./_-]+$", line)
      assert.are.equal(64, #line:match("^(%x+)"))
      n = n + 1
    end
    assert.are.equal(#fs.walk(out) - 1, n)
    assert.is_true(sh("cd " .. out .. " && sha256sum -c --quiet checksums.txt"))
    local v = run({ "verify", out })
    assert.are.equal(0, v.code, v.out .. v.err)
  end)

  it("puts each scheduling flag at gpu-operator's exact Helm paths", function()
    local v = load(out .. "/gpu-operator/values.yaml")
    assert.are.same({ nodeGroup = "system-pool" }, v.operator.nodeSelector)
    assert.are.same({ nodeGroup = "customer-gpu" }, v.daemonsets.nodeSelector)
    assert.are.same({ { key = "dedicated", operator = "Equal", value = "worker-workload", effect = "NoSchedule" } },
      v.daemonsets.tolerations)
    assert.are.same({ { key = "dedicated", operator = "Equal", value = "system-workload", effect = "NoSchedule" } },
      v.operator.tolerations)
    assert.are.equal("999.99.99", v.driver.version)
    assert.is_nil(v.enabled)
  end)

  it("writes --nodes as an integer, --workload-gate as a string, --workload-selector for Skyhook", function()
    local op = load(out .. "/skyhook-operator/values.yaml")
    assert.are.equal(8, op.estimatedNodeCount)
    assert.truthy(support.read(out .. "/skyhook-operator/values.yaml"):find("\nestimatedNodeCount: 8\n", 1, true))
    assert.are.equal("skyhook.nvidia.com/runtime-required=true:NoSchedule", op.controllerManager.manager.env.runtimeRequiredTaint)
    local cust = load(out .. "/skyhook-customizations/values.yaml")
    assert.are.same({ ["workload-type"] = "training" }, cust.workloadSelector)
    assert.are.same({ nodeGroup = "customer-gpu" }, cust.acceleratedNodeSelector)
    local sky = load(out .. "/skyhook-customizations/manifests/tuning.yaml")
    assert.are.same({ ["workload-type"] = "training" }, sky.spec.podNonInterruptLabels.matchLabels)
    assert.are.same({ nodeGroup = "customer-gpu" }, sky.spec.nodeSelectors.matchLabels)
    assert.are.same({ { key = "dedicated", operator = "Equal", value = "worker-workload", effect = "NoSchedule" } },
      sky.spec.additionalTolerations)
    -- every flag's text lands in some values.yaml
    local all = ""
    for _, f in ipairs(fs.walk(out)) do if f:match("values%.yaml$") then all = all .. support.read(out .. "/" .. f) end end
    for _, s in ipairs({ "system-pool", "system-workload", "customer-gpu", "worker-workload", "runtime-required",
                         "workload-type: training", "999.99.99" }) do
      assert.truthy(all:find(s, 1, true), s)
    end
    assert.is_nil(r.err:find("workload-selector is not set", 1, true))
  end)

  it("warns, as upstream does, when Skyhook customizations run for training without --workload-selector", function()
    local r2 = bundle(tmp .. "/w")
    assert.matches("warning: skyhook%-customizations is in the bundle but %-%-workload%-selector is not set%. " ..
      "Skyhook may interrupt %(drain%) nodes that run training jobs", r2.err)
    local sky = load(tmp .. "/w/skyhook-customizations/manifests/tuning.yaml")
    assert.is_nil(sky.spec.podNonInterruptLabels)
    assert.are.same({ ["nvidia.com/gpu.present"] = "true" }, sky.spec.nodeSelectors.matchLabels)
    assert.are.equal(1, load(tmp .. "/w/skyhook-operator/values.yaml").estimatedNodeCount) -- the library's value
  end)

  it("refuses bad option values with exit 2 and writes nothing", function()
    for _, args in ipairs({ { "--nodes", "-3" }, { "--nodes", "many" }, { "--workload-gate", "x=y:Sometimes" },
                            { "--workload-selector", "noequals" }, { "-d", "helm-component" } }) do
      local o = tmp .. "/bad"
      local cmd = { "bundle", "-r", BIG, "-o", o, "-d", "helm-components" }
      for _, a in ipairs(args) do cmd[#cmd + 1] = a end
      local rr = run(cmd)
      assert.are.equal(2, rr.code, table.concat(args, " ") .. ": " .. rr.err)
      assert.truthy(rr.err:find(args[2], 1, true), rr.err)
      assert.is_false(support.exists(o))
    end
  end)

  it("leaves out a component switched off with --set NAME:enabled=false; enabled never reaches values", function()
    bundle(tmp .. "/d", { "--set", "skyhook-customizations:enabled=false", "--set", "gpuoperator:enabled=true" })
    assert.is_false(support.exists(tmp .. "/d/skyhook-customizations"))
    assert.is_nil(support.read(tmp .. "/d/deploy.sh"):find("component skyhook-customizations", 1, true))
    for _, f in ipairs(fs.walk(tmp .. "/d")) do
      if f:match("values%.yaml$") then assert.is_nil(load(tmp .. "/d/" .. f).enabled, f) end
    end
  end)

  it("carries no timestamp and is reproducible", function()
    for _, f in ipairs(fs.walk(out)) do
      local text = support.read(out .. "/" .. f)
      for _, w in ipairs({ "GeneratedAt:", "generated_at:", "timestamp:", "Timestamp:" }) do
        assert.is_nil(text:find(w, 1, true), f .. " has " .. w)
      end
    end
    local again = bundle(tmp .. "/again", ALL_FLAGS)
    assert.is_truthy(again)
    assert.are.equal(support.read(out .. "/checksums.txt"), support.read(tmp .. "/again/checksums.txt"))
  end)

  it("passes yamllint", function()
    if not sh("command -v yamllint >/dev/null 2>&1") then
      pending("yamllint not found (scripts/install-deps)")
      return
    end
    local p = io.popen("yamllint -c " .. support.root .. "/.yamllint.yaml " .. out .. " 2>&1; echo rc=$?")
    local o = p:read("a")
    p:close()
    assert.truthy(o:find("^rc=0"), o)
  end)
end)
