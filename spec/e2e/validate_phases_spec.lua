-- eidos validate --phase deployment|conformance|performance|all against the
-- test API server simulating a cluster on which a recipe's bundle was
-- deployed (spec/fixtures/k8s/sim_cluster.py, state from spec/sim_state.lua):
-- a matching cluster passes; one wrong chart version, one DaemonSet not
-- ready, one missing CRD and one drifted value each give exactly one failed
-- check naming the component and both values; every check has a passing and
-- a failing case; both Helm release shapes (umbrella, direct), both storage
-- drivers, Argo CD and Flux bundles; RBAC denial (exit 4) and an
-- unreachable API (exit 6); CTRF against the CTRF JSON schema, JUnit
-- against a JUnit XML schema; --evidence-dir with sha256sum -c; the NCCL
-- test as a Job and as a TrainJob with a published all_reduce_perf output.
-- No real cluster or GPU is involved: the server speaks the real API paths
-- and object shapes.
local fake = require("k8s_fake")
local support = require("support")
local sim = require("sim_state")
local cjson = require("cjson")

local available = fake.available() and support.exists(support.eidos)
local describe_if = available and describe or pending

local function has_cmd(c) return os.execute("command -v " .. c .. " >/dev/null 2>&1") == true end

describe_if("eidos validate phases (test API server)", function()
  local srv, dir, kc

  local function run(args, env)
    local e = { EIDOS_HOME = support.root, HOME = dir .. "/nohome", KUBECONFIG = kc, SOURCE_DATE_EPOCH = "",
                EIDOS_AGENT_POLL = "0.2" }
    for k, v in pairs(env or {}) do e[k] = v end
    return support.run(args, { env = e })
  end

  -- recipes and bundles of every deployer, made once
  local R = {}
  setup(function()
    srv = fake.start({ pods = 5, job_delay = 0.2 })
    dir = srv.dir .. "/phases"
    os.execute("mkdir -p " .. support.q(dir))
    kc = srv:kubeconfig("cert")
    local function sh(args)
      local r = run(args)
      assert(r.code == 0, table.concat(args, " ") .. ": " .. r.err)
    end
    R.kubeflow = dir .. "/kubeflow.yaml"
    sh({ "recipe", "--service", "eks", "--accelerator", "h100", "--os", "ubuntu", "--intent", "training",
         "--platform", "kubeflow", "-o", R.kubeflow })
    R.training = dir .. "/training.yaml"
    sh({ "recipe", "--service", "eks", "--accelerator", "h100", "--os", "ubuntu", "--intent", "training",
         "-o", R.training })
    for _, d in ipairs({ "helm", "helm-components", "argocd", "flux" }) do
      R[d] = dir .. "/b-" .. d
      sh({ "bundle", "-r", R.kubeflow, "-d", d, "-o", R[d] })
    end
    R.targz = dir .. "/bundle.tar.gz"
    sh({ "bundle", "-r", R.kubeflow, "-o", R.targz })
  end)

  teardown(function()
    if srv then srv:stop() end
    fake.cleanup()
  end)

  -- a fresh cluster holding what the bundle deployed
  local function cluster(bundle, opts)
    srv:reset()
    srv:control("disable", { groups = {} })
    srv:control("nccl", { logs = (support.read("spec/fixtures/k8s/nccl-all-reduce-h100-2node.txt"):gsub("## [^\n]*\n", "")) })
    -- every case starts from the server's own seed
    if srv.seeded then srv:control("restore", { name = "seed" })
    else srv:control("checkpoint", { name = "seed" }); srv.seeded = true end
    local st = sim.build(bundle, opts)
    sim.load(srv, st)
    return st
  end

  local function validate(args, env)
    local a = { "validate", "-t", "json" }
    for _, x in ipairs(args) do a[#a + 1] = x end
    local r = run(a, env)
    local ok, d = pcall(cjson.decode, r.out)
    r.doc = ok and d or nil
    return r
  end

  local function checks(d, status)
    local out = {}
    for _, p in ipairs(d.phases) do
      for _, c in ipairs(p.checks) do
        if status == nil or c.status == status then c.phase = p.name; out[#out + 1] = c end
      end
    end
    return out
  end

  local function show(list)
    local t = {}
    for _, c in ipairs(list) do
      t[#t + 1] = string.format("%s/%s %s %s: %s [%s | %s]", c.phase, c.name, tostring(c.component), c.status,
        tostring(c.reason), tostring(c.expected), tostring(c.actual))
    end
    return table.concat(t, "\n")
  end

  describe("a cluster that matches the recipe", function()
    it("passes --phase all (helm umbrella bundle; performance as a TrainJob)", function()
      cluster(R.helm)
      local r = validate({ "-r", R.kubeflow, "--bundle", R.helm, "--phase", "all", "-s",
        "spec/fixtures/k8s/agent-snapshot.yaml", "--namespace", "default" })
      assert.are.equal(0, r.code, r.err .. "\n" .. (r.doc and show(checks(r.doc, "failed")) or r.out))
      local d = r.doc
      assert.are.same({ "readiness", "deployment", "conformance", "performance" },
        { d.phases[1].name, d.phases[2].name, d.phases[3].name, d.phases[4].name })
      assert.are.same({}, checks(d, "failed"), show(checks(d, "failed")))
      assert.are.same({}, checks(d, "error"), show(checks(d, "error")))
      for _, p in ipairs(d.phases) do assert.are.equal("passed", p.status, p.name) end
      assert.are.equal("helm", d.metadata.deployer)
      -- every component's release, workloads and values were looked at
      local seen = {}
      for _, c in ipairs(checks(d, "passed")) do seen[c.name .. "/" .. tostring(c.component)] = c end
      for _, comp in ipairs({ "gpu-operator", "cert-manager", "kubeflow-trainer", "kai-scheduler" }) do
        assert.truthy(seen["helm-release/" .. comp], comp)
        assert.truthy(seen["values-drift/" .. comp], comp)
        assert.truthy(seen["workloads-ready/" .. comp], comp)
      end
      assert.truthy(seen["expected-resources/gpu-operator"])
      assert.are.equal("chart gpu-operator v25.10.1 in eidos-eks-h100-ubuntu-training-kubeflow 0.1.0, revision 1 deployed",
        seen["helm-release/gpu-operator"].actual)
      assert.are.same({ apiVersion = "v1", kind = "Secret", namespace = "gpu-operator",
                        name = "sh.helm.release.v1.gpu-operator.v1" }, seen["helm-release/gpu-operator"].evidence[1])
      local bw = seen["nccl-all-reduce-bw/nil"]
      assert.truthy(bw, show(checks(d)))
      assert.are.equal(">= 300 GB/s", bw.expected)
      assert.matches("^338%.82 GB/s %(2 nodes x 8 GPUs, 8589934592 bytes%)", bw.actual)
      -- the TrainJob path, cleaned up afterwards
      local created, deleted = {}, {}
      for _, q in ipairs(srv:requests()) do
        if q.method == "POST" and q.path:find("trainer.kubeflow.org", 1, true) then created[#created + 1] = q.path end
        if q.method == "DELETE" and q.path:find("eidos-nccl", 1, true) then deleted[#deleted + 1] = q.path end
      end
      assert.are.equal(2, #created, table.concat(created, " "))
      assert.is_true(#deleted >= 2)
    end)

    it("passes deployment with the direct shape (helm-components), ConfigMap storage, a .tar.gz bundle", function()
      cluster(R["helm-components"], { storage = "configmap" })
      local r = validate({ "-r", R.kubeflow, "--bundle", R["helm-components"], "--phase", "deployment" })
      assert.are.equal(0, r.code, r.err .. (r.doc and show(checks(r.doc, "failed")) or ""))
      local hr
      for _, c in ipairs(checks(r.doc, "passed")) do
        if c.name == "helm-release" and c.component == "gpu-operator" then hr = c end
      end
      assert.are.equal("chart gpu-operator v25.10.1, revision 2 deployed", hr.actual)
      assert.are.equal("ConfigMap", hr.evidence[1].kind)
      assert.are.equal("helm-components", r.doc.metadata.deployer)
      -- the umbrella bundle as an archive, without --recipe: the bundle's recipe.yaml
      cluster(R.helm)
      r = validate({ "--bundle", R.targz, "--phase", "deployment" })
      assert.are.equal(0, r.code, r.err .. (r.doc and show(checks(r.doc, "failed")) or ""))
      assert.are.equal("helm", r.doc.metadata.deployer)
    end)

    it("--bundle oci://: the bundle pushed to a registry (docker-registry) checks as its directory does", function()
      local oreg = require("oci_registry")
      if oreg.missing() then return pending("needs " .. oreg.missing()) end
      local reg = oreg.start()
      local ok, err = pcall(function()
        cluster(R["helm-components"])
        local ref = "oci://" .. reg.host .. "/eidos/deployed:v1"
        local r = run({ "bundle", "-r", R.kubeflow, "-d", "helm-components", "-o", ref, "--plain-http" })
        assert.are.equal(0, r.code, r.err)
        local from_dir = validate({ "--bundle", R["helm-components"], "--phase", "deployment" })
        local from_oci = validate({ "--bundle", ref, "--phase", "deployment", "--plain-http" })
        assert.are.equal(0, from_oci.code, from_oci.err)
        assert.are.equal("helm-components", from_oci.doc.metadata.deployer)
        assert.are.equal(ref, from_oci.doc.metadata.bundle)
        assert.are.equal(show(checks(from_dir.doc)), show(checks(from_oci.doc)))
        -- a tag that is not there: exit 3, naming the registry
        r = validate({ "--bundle", "oci://" .. reg.host .. "/eidos/deployed:nope", "--phase", "deployment",
                       "--plain-http" })
        assert.are.equal(3, r.code, r.err)
        assert.matches("registry " .. reg.host, r.err, 1, true)
      end)
      reg.stop()
      assert(ok, err)
    end)

    it("without --bundle compares with the recipe hydrated as a helm bundle", function()
      cluster(R.helm)
      local r = validate({ "-r", R.kubeflow, "--phase", "deployment" })
      assert.are.equal(0, r.code, r.err .. (r.doc and show(checks(r.doc, "failed")) or ""))
      assert.is_nil(r.doc.metadata.bundle)
    end)
  end)

  describe("the done-when drifts: each exactly one failed check naming the component and both values", function()
    local function one_failure(mutate, check, component, expected, actual)
      cluster(R.helm)
      mutate()
      local r = validate({ "-r", R.kubeflow, "--bundle", R.helm, "--phase", "deployment" })
      assert.are.equal(9, r.code, r.err)
      local f = checks(r.doc, "failed")
      assert.are.equal(1, #f, show(f))
      assert.are.equal(check, f[1].name)
      assert.are.equal(component, f[1].component)
      assert.matches(expected, f[1].expected, 1, true)
      assert.matches(actual, f[1].actual, 1, true)
      assert.is_string(f[1].remediation)
      assert.matches("validation failed: 1 of %d+ checks failed: deployment " .. check:gsub("%-", "%%-")
        .. " %(" .. component:gsub("%-", "%%-") .. "%)", r.err)
      return f[1]
    end

    it("a release at the wrong chart version", function()
      local c = one_failure(function()
        local chart = require("eidos.core.yaml").load(support.read(R.helm .. "/Chart.yaml"))
        for _, d in ipairs(chart.dependencies) do if d.name == "cert-manager" then d.version = "v1.16.0" end end
        local values = require("eidos.core.yaml").load(support.read(R.helm .. "/values.yaml"))
        local config = { ["gpu-operator"] = { enabled = false } }
        srv:control("helm", { release = { name = "cert-manager", namespace = "cert-manager", version = 2,
          info = { status = "deployed" }, chart = { metadata = { name = chart.name, version = chart.version,
          dependencies = chart.dependencies }, values = values }, config = config } })
      end, "helm-release", "cert-manager", "chart cert-manager v1.17.2", "chart cert-manager v1.16.0")
      assert.matches("release cert-manager holds cert-manager at v1.16.0, the recipe says v1.17.2", c.reason, 1, true)
    end)

    it("a DaemonSet not ready", function()
      one_failure(function()
        local ds = sim.workload("DaemonSet", "kube-system", "aws-efa-k8s-device-plugin")
        ds.status.numberReady = 1
        srv:control("apply", { objects = { ds } })
      end, "workloads-ready", "aws-efa", "3 desired, 3 ready, 3 updated", "3 desired, 1 ready, 3 updated")
    end)

    it("a missing CRD", function()
      one_failure(function()
        srv:control("delete", { apiVersion = "apiextensions.k8s.io/v1", kind = "CustomResourceDefinition",
          name = "trainjobs.trainer.kubeflow.org" })
      end, "expected-resources", "kubeflow-trainer", "CustomResourceDefinition trainjobs.trainer.kubeflow.org", "absent")
    end)

    it("a drifted value", function()
      one_failure(function()
        local chart = require("eidos.core.yaml").load(support.read(R.helm .. "/Chart.yaml"))
        local values = require("eidos.core.yaml").load(support.read(R.helm .. "/values.yaml"))
        local config = {}
        for k in pairs(values) do if k ~= "gpu-operator" then config[k] = { enabled = false } end end
        config["gpu-operator"] = { driver = { version = "570.86.15" } }
        srv:control("helm", { release = { name = "gpu-operator", namespace = "gpu-operator", version = 2,
          info = { status = "deployed" }, chart = { metadata = { name = chart.name, version = chart.version,
          dependencies = chart.dependencies }, values = values }, config = config } })
      end, "values-drift", "gpu-operator", "driver.version: " .. tostring(
        require("eidos.core.yaml").load(support.read(R.helm .. "/values.yaml"))["gpu-operator"].driver.version),
        "driver.version: 570.86.15")
    end)
  end)

  -- run one phase after a change; the failed (or errored) checks of one name
  local function after(mutate, phase, name, status, args)
    cluster(R.helm)
    mutate()
    local a = { "-r", (args and args.recipe) or R.kubeflow, "--bundle", R.helm, "--phase", phase }
    for _, x in ipairs(args and args.extra or {}) do a[#a + 1] = x end
    local r = validate(a)
    assert.truthy(r.doc, r.err)
    local got = {}
    for _, c in ipairs(checks(r.doc, status or "failed")) do if c.name == name then got[#got + 1] = c end end
    assert.is_true(#got > 0, "no " .. (status or "failed") .. " " .. name .. ":\n" .. show(checks(r.doc)))
    return got, r
  end

  local function patched(o, f) f(o); return o end

  describe("every check fails when its fact is wrong", function()
    it("helm-release: no release, a release that is not deployed, a release in plain JSON", function()
      local f = after(function()
        srv:control("delete", { apiVersion = "v1", kind = "Secret", namespace = "kai-scheduler",
          name = "sh.helm.release.v1.kai-scheduler.v1" })
      end, "deployment", "helm-release")
      assert.are.equal("kai-scheduler", f[1].component)
      assert.are.equal("no release", f[1].actual)
      f = after(function()
        srv:control("helm", { release = { name = "kai-scheduler", namespace = "kai-scheduler", version = 2,
          info = { status = "pending-upgrade", description = "Preparing upgrade" },
          chart = { metadata = { name = "kai-scheduler", version = "v0.13.0" }, values = {} }, config = {} } })
      end, "deployment", "helm-release")
      assert.are.equal("status pending-upgrade (revision 2)", f[1].actual)
      assert.matches("the latest revision (2) of release kai-scheduler is pending-upgrade: Preparing upgrade", f[1].reason, 1, true)
      -- Helm writes plain JSON when compression does not pay; a corrupt record is an error, not a pass
      local ok = after(function()
        local rel = sim.build(R["helm-components"]).releases[1].release
        srv:control("helm", { release = rel, encoding = "plain" })
      end, "deployment", "helm-release", "passed")
      assert.is_true(#ok > 0)
      local e, r = after(function()
        srv:control("helm", { release = { name = "kai-scheduler", namespace = "kai-scheduler", version = 3,
          info = { status = "deployed" }, chart = { metadata = {} } }, encoding = "garbage" })
      end, "deployment", "helm-release", "error")
      assert.matches("Helm release record Secret kai-scheduler/sh.helm.release.v1.kai-scheduler.v3: corrupt gzip data",
        e[1].reason, 1, true)
      assert.are.equal(1, r.code, r.err)
    end)

    it("expected-resources: a CRD that is not established", function()
      local f = after(function()
        srv:control("apply", { objects = { patched(sim.crd("queues.scheduling.run.ai"), function(o)
          o.status.conditions[2].status = "False"; o.status.conditions[2].reason = "Installing" end) } })
      end, "deployment", "expected-resources")
      assert.are.equal("kai-scheduler", f[1].component)
      assert.are.equal("Established=False (Installing)", f[1].actual)
    end)

    it("operator-health, gpu-operator-version and check-nvidia-smi (the recipe's own deployment checks)", function()
      local f = after(function()
        srv:control("apply", { objects = { { apiVersion = "nvidia.com/v1", kind = "ClusterPolicy",
          metadata = { name = "cluster-policy" }, spec = {}, status = { state = "notReady" } } } })
      end, "deployment", "operator-health")
      assert.are.equal("ClusterPolicy state notReady", f[1].actual)
      f = after(function()
        srv:control("apply", { objects = { sim.workload("Deployment", "gpu-operator", "gpu-operator", nil,
          { image = "nvcr.io/nvidia/gpu-operator:v24.3.0" }) } })
      end, "deployment", "gpu-operator-version")
      assert.are.equal(">= v24.6.0", f[1].expected)
      assert.are.equal("v24.3.0", f[1].actual)
      f = after(function()
        srv:control("delete", { apiVersion = "v1", kind = "Pod", namespace = "gpu-operator",
          name = "nvidia-operator-validator-gpu-node-2" })
      end, "deployment", "check-nvidia-smi")
      assert.are.equal("node gpu-node-2: no validator pod on the node", f[1].actual)
    end)

    it("gitops-sync and values-drift for Argo CD and Flux bundles", function()
      cluster(R.argocd)
      local r = validate({ "-r", R.kubeflow, "--bundle", R.argocd, "--phase", "deployment" })
      assert.are.equal(0, r.code, r.err .. (r.doc and show(checks(r.doc, "failed")) or ""))
      assert.are.equal("argocd", r.doc.metadata.deployer)
      local app = require("eidos.core.yaml").load(support.read(R.argocd .. "/applications/cert-manager.yaml"))
      app.status = { sync = { status = "OutOfSync" }, health = { status = "Degraded", message = "webhook not ready" } }
      local src = app.spec.sources and app.spec.sources[1] or app.spec.source
      src.helm.valuesObject.cainjector.replicaCount = 3
      srv:control("apply", { objects = { app } })
      r = validate({ "-r", R.kubeflow, "--bundle", R.argocd, "--phase", "deployment" })
      assert.are.equal(9, r.code)
      local f = checks(r.doc, "failed")
      assert.are.equal(2, #f, show(f))
      assert.are.equal("gitops-sync", f[1].name)
      assert.are.equal("OutOfSync, Degraded", f[1].actual)
      assert.are.equal("values-drift", f[2].name)
      assert.are.equal("cainjector.replicaCount: 3", f[2].actual)

      cluster(R.flux)
      r = validate({ "-r", R.kubeflow, "--bundle", R.flux, "--phase", "deployment" })
      assert.are.equal(0, r.code, r.err .. (r.doc and show(checks(r.doc, "failed")) or ""))
      local hr = require("eidos.core.yaml").load(support.read(R.flux .. "/gpu-operator/helmrelease.yaml"))
      hr.status = { conditions = { { type = "Ready", status = "False", reason = "UpgradeFailed",
                                     message = "timed out waiting for the condition" } } }
      srv:control("apply", { objects = { hr } })
      r = validate({ "-r", R.kubeflow, "--bundle", R.flux, "--phase", "deployment" })
      f = checks(r.doc, "failed")
      assert.are.equal(1, #f, show(f))
      assert.are.equal("Ready=False (UpgradeFailed)", f[1].actual)
      assert.matches("timed out waiting for the condition", f[1].reason, 1, true)
    end)

    it("conformance: each named check fails on its fact", function()
      local function node(n, f) return patched(sim.gpu_node(n), f) end
      local f = after(function()
        srv:control("apply", { objects = { node("gpu-node-3", function(o) o.status.allocatable["nvidia.com/gpu"] = "0" end) } })
      end, "conformance", "gpu-allocatable")
      assert.are.equal("gpu-node-3", f[1].component)
      assert.are.equal("node gpu-node-3: 0 allocatable (capacity 8), no DRA GPU devices", f[1].actual)
      f = after(function() srv:control("disable", { groups = { "resource.k8s.io" } }) end, "conformance", "dra-support")
      assert.are.equal("not served", f[1].actual)
      f = after(function()
        srv:control("delete", { apiVersion = "apiextensions.k8s.io/v1", kind = "CustomResourceDefinition",
          name = "podgroups.scheduling.run.ai" })
      end, "conformance", "gang-scheduling")
      assert.are.equal("absent", f[1].actual)
      f = after(function()
        srv:control("apply", { objects = { { apiVersion = "resource.k8s.io/v1", kind = "ResourceSlice",
          metadata = { name = "gpu-node-1-gpu.nvidia.com-x" },
          spec = { driver = "gpu.nvidia.com", nodeName = "gpu-node-1", pool = { name = "gpu-node-1" },
                   devices = { { name = "gpu-0" }, { name = "gpu-1" } } } } } })
      end, "conformance", "gpu-advertised-once")
      assert.are.equal("8 by the device plugin (allocatable nvidia.com/gpu), 2 by DRA (gpu.nvidia.com)", f[1].actual)
      f = after(function()
        srv:control("apply", { objects = { node("gpu-node-1", function(o) o.metadata.labels["nvidia.com/gpu.memory"] = nil end) } })
      end, "conformance", "gfd-labels")
      assert.are.equal("missing nvidia.com/gpu.memory", f[1].actual)
      local strict = dir .. "/kubeflow-1.31.yaml"
      support.write(strict, (support.read(R.kubeflow):gsub("value: '>= 1.30'", "value: '>= 1.31'")))
      f = after(function() end, "conformance", "k8s-version", "failed", { recipe = strict })
      assert.are.equal(">= 1.31", f[1].expected)
      assert.are.equal("v1.30.14-eks-3025e55", f[1].actual)
      f = after(function()
        srv:control("apply", { objects = { { apiVersion = "nvidia.com/v1", kind = "ClusterPolicy",
          metadata = { name = "cluster-policy" }, spec = {}, status = { state = "notReady" } } } })
      end, "conformance", "gpu-operator-health")
      assert.are.equal("state notReady", f[1].actual)
      f = after(function()
        srv:control("apply", { objects = { patched(sim.workload("Deployment", "kubeflow-system", "kubeflow-trainer-controller-manager"),
          function(o) o.status.readyReplicas = 0 end) } })
      end, "conformance", "platform-health")
      assert.matches("kubeflow-trainer (Deployment kubeflow-trainer-controller-manager)", f[1].reason, 1, true)
      f = after(function()
        srv:control("apply", { objects = { { apiVersion = "apiregistration.k8s.io/v1", kind = "APIService",
          metadata = { name = "v1beta1.custom.metrics.k8s.io" }, spec = {},
          status = { conditions = { { type = "Available", status = "False", reason = "FailedDiscoveryCheck" } } } } } })
      end, "conformance", "pod-autoscaling")
      assert.are.equal("Available=False (FailedDiscoveryCheck)", f[1].actual)
    end)

    it("a check the recipe names that eidos has no module for is skipped, saying so", function()
      local sk = after(function() end, "conformance", "accelerator-metrics", "skipped")
      assert.matches("eidos has no check module accelerator-metrics", sk[1].reason, 1, true)
    end)
  end)

  describe("performance", function()
    it("runs the NCCL test as an Indexed Job without the Trainer, then cleans up", function()
      cluster(R.helm)
      local r = validate({ "-r", R.training, "--phase", "performance", "--namespace", "default" })
      assert.are.equal(0, r.code, r.err .. (r.doc and show(checks(r.doc)) or ""))
      local c = r.doc.phases[1].checks[1]
      assert.are.equal("nccl-all-reduce-bw", c.name)
      assert.are.equal("passed", c.status)
      local posted = {}
      for _, q in ipairs(srv:requests()) do
        if q.method == "POST" and not q.path:find("selfsubjectaccessreviews", 1, true) then posted[#posted + 1] = q.path end
      end
      assert.are.same({ "/api/v1/namespaces/default/secrets", "/api/v1/namespaces/default/services",
                        "/apis/batch/v1/namespaces/default/jobs" }, posted)
      local c2 = require("eidos.k8s.client")
      c2.set_defaults({ kubeconfig = kc })
      assert.is_nil((c2.shared():get("/apis/batch/v1/namespaces/default/jobs/eidos-nccl")))
      assert.is_nil((c2.shared():get("/api/v1/namespaces/default/secrets/eidos-nccl-ssh")))
    end)

    it("fails below the threshold, and cannot run without enough nodes or a result in the log", function()
      cluster(R.helm)
      local low = dir .. "/kubeflow-400.yaml"
      support.write(low, (support.read(R.kubeflow):gsub("value: '>= 300'", "value: '>= 400'")))
      local r = validate({ "-r", low, "--phase", "performance", "--namespace", "default" })
      assert.are.equal(9, r.code, r.err)
      local c = r.doc.phases[1].checks[1]
      assert.are.equal("failed", c.status)
      assert.are.equal(">= 400 GB/s", c.expected)
      assert.matches("bus bandwidth 338.82 GB/s at 8589934592 bytes is below >= 400 GB/s (average over all sizes 70.742 GB/s)",
        c.reason, 1, true)
      local many = dir .. "/kubeflow-5nodes.yaml"
      support.write(many, (support.read(R.kubeflow):gsub("maxNodes: 2", "maxNodes: 5")))
      r = validate({ "-r", many, "--phase", "performance", "--namespace", "default" })
      assert.are.equal(1, r.code, r.err)
      c = r.doc.phases[1].checks[1]
      assert.are.equal("error", c.status)
      assert.matches("the test needs 5 GPU nodes with allocatable GPUs matching nodeSelection.selector; 3 found", c.reason, 1, true)
      srv:control("nccl", { logs = "mpirun: cannot connect to host\n" })
      r = validate({ "-r", R.kubeflow, "--phase", "performance", "--namespace", "default" })
      assert.are.equal(1, r.code)
      assert.matches("has no result: no all_reduce_perf result rows in the output (1 lines)",
        r.doc.phases[1].checks[1].reason, 1, true)
    end)
  end)

  describe("readiness without --snapshot", function()
    it("takes the snapshot with the agent (the agent flags apply) and checks the recipe's constraints", function()
      cluster(R.helm)
      local r = validate({ "-r", R.kubeflow, "--namespace", "gpu-operator", "--image", "eidos:test" })
      assert.are.equal(0, r.code, r.err)
      assert.are.equal("cm://gpu-operator/eidos-snapshot", r.doc.metadata.snapshot)
      assert.is_true(#r.doc.results > 0)
      local job
      for _, q in ipairs(srv:requests()) do
        if q.method == "POST" and q.path:find("/jobs", 1, true) then job = q.path end
      end
      assert.are.equal("/apis/batch/v1/namespaces/gpu-operator/jobs", job)
    end)
  end)

  describe("exit codes", function()
    it("4 when RBAC denies a read (naming the rule), 6 when the API is unreachable", function()
      cluster(R.helm)
      srv:control("deny", { verb = "list", resource = "secrets" })
      local r = validate({ "-r", R.kubeflow, "--bundle", R.helm, "--phase", "deployment" })
      assert.are.equal(4, r.code, r.err)
      local e = checks(r.doc, "error")
      assert.is_true(#e > 0)
      assert.matches('cannot list resource "secrets"', e[1].reason, 1, true)
      assert.matches("could not run", r.err, 1, true)
      local dead = dir .. "/kc-dead"
      support.write(dead, "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        .. "users: [{name: u, user: {token: x}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
        .. "current-context: x\n")
      r = validate({ "-r", R.kubeflow, "--phase", "deployment,conformance" }, { KUBECONFIG = dead })
      assert.are.equal(6, r.code, r.err)
      for _, c in ipairs(checks(r.doc)) do assert.is_true(c.status == "error" or c.status == "skipped", c.name) end
      -- a failure wins over an error; --fail-on-error=false leaves the errors' code
      r = validate({ "-r", R.kubeflow, "--phase", "deployment", "--fail-on-error=false" }, { KUBECONFIG = dead })
      assert.are.equal(6, r.code)
    end)

    it("a result with errors only renders in every format for every phase (exit 6, never 8)", function()
      local dead = dir .. "/kc-dead"
      support.write(dead, "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:1'}}]\n"
        .. "users: [{name: u, user: {token: x}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
        .. "current-context: x\n")
      for _, ph in ipairs({ "readiness", "deployment", "conformance", "performance", "all" }) do
        for _, t in ipairs({ "table", "yaml", "json", "junit", "ctrf" }) do
          -- the agent (and so --image) runs for readiness only
          local a = { "validate", "-r", R.training, "--phase", ph, "-t", t }
          if ph == "readiness" or ph == "all" then a[#a + 1] = "--image"; a[#a + 1] = "eidos:test" end
          local r = run(a, { KUBECONFIG = dead })
          local what = ph .. " -t " .. t
          assert.are.equal(6, r.code, what .. ": " .. r.err)
          assert.matches("could not run", r.err, 1, true)
          assert.not_matches("internal error", r.err, 1, true)
          assert.matches("error", r.out, 1, true)
          if t == "json" or t == "ctrf" then assert.is_table(cjson.decode(r.out), what) end
          if t == "table" and (ph == "readiness" or ph == "all") then
            assert.matches("error +readiness +snapshot", r.out, what)
          end
        end
      end
    end)

    it("each check that could not run names a read it made, not the first one that failed", function()
      local dead = dir .. "/kc-dead2"
      support.write(dead, "clusters: [{name: c, cluster: {server: 'http://127.0.0.1:1'}}]\n"
        .. "users: [{name: u, user: {token: x}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
        .. "current-context: x\n")
      local r = validate({ "-r", R.kubeflow, "--phase", "deployment,conformance" }, { KUBECONFIG = dead })
      assert.are.equal(6, r.code, r.err)
      local seen = 0
      for _, c in ipairs(checks(r.doc, "error")) do
        local phase, name = c.phase, c.name
        if phase == "conformance" then
          -- its own read comes first; the one that found the API down may follow
          assert.not_matches("secrets", (c.reason:gsub(" %(.*$", "")), 1, true)
        end
        if name == "k8s-version" then assert.matches("^GET /version: ", c.reason) end
        if name == "gpu-allocatable" or name == "gfd-labels" then assert.matches("^list nodes ", c.reason) end
        if name == "dra-support" then assert.matches("^discovery of resource.k8s.io", c.reason) end
        if c.reason:find("not sent", 1, true) then
          seen = seen + 1
          assert.matches("the API server is unreachable %(.+ failed before%)$", c.reason)
        end
      end
      assert.is_true(seen > 10, tostring(seen))
    end)

    it("3 when no cluster is configured, for every phase that reads one (one error, no result)", function()
      for _, ph in ipairs({ "readiness", "deployment", "conformance", "performance", "all" }) do
        local r = run({ "validate", "-r", R.training, "--phase", ph, "-t", "table" }, { KUBECONFIG = dir .. "/none" })
        assert.are.equal(3, r.code, ph .. ": " .. r.err)
        assert.are.equal("", r.out)
        assert.matches('none of the files in KUBECONFIG="' .. dir .. '/none" exists', r.err, 1, true)
        assert.matches(ph == "readiness" and "no cluster to take one from" or "reads the cluster, and there is none",
          r.err, 1, true)
      end
    end)

    it("2 for bad input: a phase, a zip bundle, --bundle without a cluster phase, no recipe", function()
      for _, c in ipairs({
        { { "--phase", "deploy" }, 'invalid phase "deploy" (accepted: readiness, deployment, conformance, performance, all); did you mean "deployment"?' },
        { { "--phase", "deployment", "--bundle", dir .. "/x.zip", "-r", R.kubeflow }, "is a zip archive" },
        { { "--bundle", R.helm, "-c", "OS.release.ID ubuntu", "-s", "spec/fixtures/k8s/agent-snapshot.yaml" }, "--bundle only applies" },
        { { "--phase", "conformance" }, "--phase conformance needs the recipe" },
      }) do
        if c[2]:find("zip") then support.write(dir .. "/x.zip", "PK") end
        local r = validate(c[1])
        assert.are.equal(2, r.code, r.err)
        assert.matches(c[2], r.err, 1, true)
        assert.are.equal("", r.out)
      end
      local r = validate({ "--phase", "deployment", "--bundle", dir .. "/nothing" })
      assert.are.equal(3, r.code)
    end)
  end)

  describe("reports", function()
    it("-t ctrf validates against the CTRF JSON schema; error checks are CTRF 'other'", function()
      if not has_cmd("python3") or os.execute("python3 -c 'import jsonschema' 2>/dev/null") ~= true then
        pending("python3-jsonschema is not installed (scripts/install-deps)"); return
      end
      cluster(R.helm)
      srv:control("deny", { verb = "list", resource = "secrets", namespace = "gpu-operator" })
      local r = run({ "validate", "-r", R.kubeflow, "--bundle", R.helm, "--phase", "deployment,conformance",
                      "-t", "ctrf", "-o", dir .. "/ctrf.json" })
      assert.are.equal(4, r.code, r.err)
      local p = io.popen("python3 -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), "
        .. "json.load(open(sys.argv[2]))); print(\"valid\")' " .. support.q(dir .. "/ctrf.json") .. " "
        .. support.q(support.root .. "/spec/fixtures/ctrf/ctrf.schema.json") .. " 2>&1")
      local out = p:read("a")
      p:close()
      assert.are.equal("valid\n", out)
      local d = cjson.decode(support.read(dir .. "/ctrf.json"))
      assert.are.equal("CTRF", d.reportFormat)
      assert.are.equal("eidos", d.results.tool.name)
      local n, other = 0, 0
      for _, t in ipairs(d.results.tests) do
        n = n + 1
        if t.status == "other" then other = other + 1; assert.are.equal("error", t.rawStatus) end
        assert.is_true(math.type(t.duration) == "integer" or t.duration == math.floor(t.duration))
      end
      assert.are.equal(n, d.results.summary.tests)
      assert.are.equal(other, d.results.summary.other)
      assert.is_true(other > 0)
      -- the schema check itself refuses a broken report
      d.results.tests[1].status = "error"
      support.write(dir .. "/bad.json", cjson.encode(d))
      p = io.popen("python3 -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), "
        .. "json.load(open(sys.argv[2])))' " .. support.q(dir .. "/bad.json") .. " "
        .. support.q(support.root .. "/spec/fixtures/ctrf/ctrf.schema.json") .. " >/dev/null 2>&1; echo $?")
      assert.are_not.equal("0\n", p:read("a"))
      p:close()
    end)

    it("-t junit validates against a JUnit XML schema, with a testsuite per phase", function()
      if not has_cmd("xmllint") then pending("xmllint is not installed (scripts/install-deps)"); return end
      cluster(R.helm)
      local ds = sim.workload("DaemonSet", "kube-system", "aws-efa-k8s-device-plugin")
      ds.status.numberReady = 0
      srv:control("apply", { objects = { ds } })
      local r = run({ "validate", "-r", R.kubeflow, "--bundle", R.helm, "--phase", "readiness,deployment,conformance",
        "-s", "spec/fixtures/k8s/agent-snapshot.yaml", "-t", "junit", "-o", dir .. "/junit.xml" })
      assert.are.equal(9, r.code, r.err)
      assert.is_true(os.execute("xmllint --noout --schema spec/fixtures/junit/junit.xsd " .. support.q(dir .. "/junit.xml")
        .. " 2>" .. support.q(dir .. "/xmllint.err")) == true, support.read(dir .. "/xmllint.err"))
      local xml = support.read(dir .. "/junit.xml")
      local _, suites = xml:gsub("<testsuite ", "")
      assert.are.equal(3, suites)
      assert.truthy(xml:find('<testcase classname="eidos.validate.deployment" name="workloads-ready aws-efa">', 1, true))
      assert.truthy(xml:find('<failure message="DaemonSet kube-system/aws-efa-k8s-device-plugin is not ready', 1, true))
    end)

    it("-t table shows the phases; output is byte-identical across runs", function()
      cluster(R.helm)
      local a = run({ "validate", "-r", R.kubeflow, "--bundle", R.helm, "--phase", "deployment,conformance", "-t", "table" })
      assert.are.equal(0, a.code, a.err)
      assert.truthy(a.out:find("^STATUS%s+PHASE%s+CHECK%s+COMPONENT%s+DETAIL\n"), a.out)
      -- --wide: expected, actual and reason each in a column of its own
      local w = run({ "--wide", "validate", "-r", R.kubeflow, "--bundle", R.helm, "--phase", "deployment,conformance",
        "-t", "table" })
      assert.truthy(w.out:find("^STATUS%s+PHASE%s+CHECK%s+COMPONENT%s+EXPECTED%s+ACTUAL%s+REASON\n"), w.out)
      assert.truthy(a.out:find("\ndeployment:  %d+ checks: %d+ passed, 0 failed"), a.out)
      local b = run({ "validate", "-r", R.kubeflow, "--bundle", R.helm, "--phase", "deployment,conformance", "-t", "table" })
      assert.are.equal(a.out, b.out)
      -- every line fits 120 columns (eidos.columns), and 80 with COLUMNS=80; the phases all run
      local t = run({ "validate", "-r", R.kubeflow, "--bundle", R.helm, "--phase", "all", "-s",
        "spec/fixtures/k8s/agent-snapshot.yaml", "--namespace", "default", "-t", "table" })
      local t80 = run({ "validate", "-r", R.kubeflow, "--bundle", R.helm, "--phase", "all", "-s",
        "spec/fixtures/k8s/agent-snapshot.yaml", "--namespace", "default", "-t", "table" }, { COLUMNS = "80" })
      for _, c in ipairs({ { t, 120 }, { t80, 80 } }) do
        assert.are.equal(0, c[1].code, c[1].err)
        assert.truthy(c[1].out:find("\nperformance: ", 1, true), c[1].out)
        for line in c[1].out:gmatch("[^\n]+") do
          assert.is_true((utf8.len(line) or #line) <= c[2], c[2] .. ": " .. line)
        end
      end
      local y1 = run({ "validate", "-r", R.kubeflow, "--bundle", R.helm, "--phase", "all", "-s",
        "spec/fixtures/k8s/agent-snapshot.yaml", "--namespace", "default" })
      local y2 = run({ "validate", "-r", R.kubeflow, "--bundle", R.helm, "--phase", "all", "-s",
        "spec/fixtures/k8s/agent-snapshot.yaml", "--namespace", "default" })
      assert.are.equal(y1.out, y2.out)
      local c1 = run({ "validate", "-r", R.kubeflow, "--phase", "conformance", "-t", "ctrf" }, { SOURCE_DATE_EPOCH = "1767225600" })
      local c2 = run({ "validate", "-r", R.kubeflow, "--phase", "conformance", "-t", "ctrf" }, { SOURCE_DATE_EPOCH = "1767225600" })
      assert.are.equal(c1.out, c2.out)
      assert.truthy(c1.out:find('"start": 1767225600000', 1, true), c1.out)
    end)

    it("--evidence-dir holds every object read, redacted, and sha256sum -c passes there", function()
      cluster(R.helm)
      local ev = dir .. "/evidence"
      local r = run({ "validate", "-r", R.kubeflow, "--bundle", R.helm, "--phase", "all", "-s",
        "spec/fixtures/k8s/agent-snapshot.yaml", "--namespace", "default", "--evidence-dir", ev, "-o", dir .. "/r.yaml" })
      assert.are.equal(0, r.code, r.err)
      assert.is_true(os.execute("cd " .. support.q(ev) .. " && sha256sum -c --quiet checksums.txt") == true)
      local files = {}
      local p = io.popen("cd " .. support.q(ev) .. " && find . -type f | sort")
      for l in p:lines() do files[l:sub(3)] = true end
      p:close()
      assert.truthy(files["result.json"])
      assert.truthy(files["objects/core/v1/Secret/gpu-operator/sh.helm.release.v1.gpu-operator.v1.json"])
      assert.truthy(files["objects/apps/v1/DaemonSet/kube-system/aws-efa-k8s-device-plugin.json"])
      assert.truthy(files["objects/apiextensions.k8s.io/v1/CustomResourceDefinition/_cluster/clusterpolicies.nvidia.com.json"])
      assert.truthy(files["releases/gpu-operator/gpu-operator.v1.json"])
      assert.truthy(files["logs/default/eidos-nccl-launcher-0-0.log"])
      -- the Secret's data is redacted; the decoded release has no manifest
      local s = cjson.decode(support.read(ev .. "/objects/core/v1/Secret/gpu-operator/sh.helm.release.v1.gpu-operator.v1.json"))
      assert.are.equal("<redacted>", s.data.release)
      local rel = cjson.decode(support.read(ev .. "/releases/gpu-operator/gpu-operator.v1.json"))
      assert.is_nil(rel.manifest)
      assert.are.equal("eidos-eks-h100-ubuntu-training-kubeflow", rel.chart.metadata.name)
      -- every object the run cites is in the evidence
      local d = cjson.decode(support.read(ev .. "/result.json"))
      for _, c in ipairs(checks(d)) do
        for _, e in ipairs(c.evidence or {}) do
          if e.kind ~= "Version" and not e.name:find("^eidos%-nccl") then
            local g, v = e.apiVersion:match("^(.+)/(.+)$")
            local path = string.format("objects/%s/%s/%s/%s/%s.json", g or "core", v or e.apiVersion, e.kind,
              e.namespace or "_cluster", e.name)
            assert.truthy(files[path], path)
          end
        end
      end
      -- a second run replaces it; a directory that is not evidence is refused
      r = run({ "validate", "-r", R.kubeflow, "--phase", "conformance", "--evidence-dir", ev })
      assert.are.equal(0, r.code, r.err)
      assert.is_nil(support.read(ev .. "/logs/default/eidos-nccl-launcher-0-0.log"))
      os.execute("mkdir -p " .. support.q(dir .. "/mine") .. " && touch " .. support.q(dir .. "/mine/keep"))
      r = run({ "validate", "-r", R.kubeflow, "--phase", "conformance", "--evidence-dir", dir .. "/mine" })
      assert.are.equal(2, r.code)
      assert.matches("holds no checksums.txt", r.err, 1, true)
    end)
  end)

  describe("check modules are policy files", function()
    it("a check dropped in lua/eidos/validate/checks/ runs; one of the same name replaces the built-in", function()
      cluster(R.helm)
      local home = dir .. "/home"
      os.execute("mkdir -p " .. support.q(home .. "/lua/eidos/validate/checks"))
      support.write(home .. "/lua/eidos/validate/checks/node-count.lua", [[
return { phase = "conformance", always = true, order = 1,
  run = function(ctx)
    local n = #(ctx.cluster:list("v1", "nodes") or {})
    if n >= 4 then return ctx:pass({ expected = ">= 4 nodes", actual = n .. " nodes" }) end
    ctx:fail({ expected = ">= 4 nodes", actual = n .. " nodes", reason = "too few nodes", remediation = "add nodes" })
  end }
]])
      support.write(home .. "/lua/eidos/validate/checks/accelerator-metrics.lua", [[
return { phase = "conformance", run = function(ctx) ctx:pass({ actual = "site check" }) end }
]])
      local r = run({ "--lua-path", support.root, "validate", "-r", R.kubeflow, "--phase", "conformance", "-t", "json" },
        { EIDOS_HOME = home })
      local d = cjson.decode(r.out)
      assert.are.equal(9, r.code)
      assert.are.equal("node-count", d.phases[1].checks[1].name)
      assert.are.equal("3 nodes", d.phases[1].checks[1].actual)
      assert.are.equal("add nodes", d.phases[1].checks[1].remediation)
      local am
      for _, c in ipairs(d.phases[1].checks) do if c.name == "accelerator-metrics" then am = c end end
      assert.are.equal("passed", am.status)
      support.write(home .. "/lua/eidos/validate/checks/broken.lua", "return { phase = 'conformance', always = true, run = function() error('boom') end }")
      r = run({ "--lua-path", support.root, "validate", "-r", R.kubeflow, "--phase", "conformance", "-t", "json",
        "--fail-on-error=false" }, { EIDOS_HOME = home })
      assert.are.equal(8, r.code, r.err)
      assert.matches("check broken failed to run: .*broken.lua:1: boom", r.err)
    end)
  end)
end)
