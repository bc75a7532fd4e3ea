-- spec/sim_state.lua: the objects of a cluster on which a bundle was
-- deployed, built from the bundle's own files the way each deployer (and
-- Helm) would leave them, for the test API server's simulation
-- (spec/fixtures/k8s/sim_cluster.py): Helm releases (umbrella: the bundle's
-- Chart.yaml and values.yaml, the other components switched off by --set,
-- as deploy.sh does; direct: the component's chart and its values.yaml, as
-- helm-components' deploy.sh does), Argo CD Applications and Flux
-- HelmReleases (from the bundle's files, Synced/Healthy or Ready), the
-- registry's expected resources (CRDs established, workloads ready), a
-- Deployment per component made by its release, GPU nodes with allocatable
-- GPUs and GPU Feature Discovery labels, the GPU Operator's validator pods,
-- the DRA driver's DeviceClasses and the custom metrics APIService.
--   local st = require("sim_state").build(bundle_dir, { shape = "umbrella" })
--   require("sim_state").load(srv, st)       -- POSTs it to the server
local support = require("support")
local yaml = require("eidos.core.yaml")

local M = {}

M.GPU_NODES = { "gpu-node-1", "gpu-node-2", "gpu-node-3" }

local function read_yaml(path)
  local t = support.read(path)
  return t and assert(yaml.load(t)) or nil
end

local function registry()
  local r = read_yaml(support.root .. "/recipes/registry.yaml")
  local by = {}
  for _, e in ipairs(r.components) do by[e.name] = e end
  return by
end

local function ready_status(kind, n)
  if kind == "DaemonSet" then
    return { observedGeneration = 1, desiredNumberScheduled = n, numberReady = n, updatedNumberScheduled = n,
             currentNumberScheduled = n }
  end
  return { observedGeneration = 1, replicas = n, readyReplicas = n, updatedReplicas = n, availableReplicas = n }
end

function M.workload(kind, ns, name, release, extra)
  local o = { apiVersion = "apps/v1", kind = kind,
    metadata = { name = name, namespace = ns, generation = 1, labels = { ["app.kubernetes.io/name"] = name },
                 annotations = release and { ["meta.helm.sh/release-name"] = release,
                                             ["meta.helm.sh/release-namespace"] = ns } or nil },
    spec = { selector = { matchLabels = { app = name } },
             template = { metadata = { labels = { app = name } },
                          spec = { containers = { { name = "main", image = (extra and extra.image) or ("example/" .. name .. ":v1") } } } } },
    status = ready_status(kind, kind == "DaemonSet" and #M.GPU_NODES or 1) }
  if kind ~= "DaemonSet" then o.spec.replicas = 1 end
  return o
end

function M.crd(name)
  return { apiVersion = "apiextensions.k8s.io/v1", kind = "CustomResourceDefinition", metadata = { name = name },
           spec = { group = name:match("^[^.]+%.(.+)$"), names = { plural = name:match("^([^.]+)") }, scope = "Namespaced" },
           status = { conditions = { { type = "NamesAccepted", status = "True" }, { type = "Established", status = "True" } } } }
end

function M.gpu_node(name)
  return { apiVersion = "v1", kind = "Node", metadata = { name = name, labels = {
      ["kubernetes.io/hostname"] = name, ["kubernetes.io/os"] = "linux", ["nvidia.com/gpu.present"] = "true",
      ["nvidia.com/gpu.product"] = "NVIDIA-H100-80GB-HBM3", ["nvidia.com/gpu.count"] = "8",
      ["nvidia.com/gpu.memory"] = "81559", ["pool"] = "gpu" } },
    spec = { taints = { { key = "nvidia.com/gpu", value = "present", effect = "NoSchedule" } } },
    status = { capacity = { cpu = "192", memory = "2097152Ki", ["nvidia.com/gpu"] = "8" },
               allocatable = { cpu = "191", memory = "2000000Ki", ["nvidia.com/gpu"] = "8" },
               nodeInfo = { kubeletVersion = "v1.30.14-eks-3025e55" },
               conditions = { { type = "Ready", status = "True" } } } }
end

local function deployer_of(dir)
  if support.exists(dir .. "/Chart.yaml") then return "helm" end
  if support.exists(dir .. "/app-of-apps.yaml") then return "argocd" end
  if support.exists(dir .. "/kustomization.yaml") then return "flux" end
  return "helm-components"
end

-- build(dir, opts) -> {objects = {...}, releases = {{release=, storage=}}}
-- opts: storage ("secret" default, or "configmap")
function M.build(dir, opts)
  opts = opts or {}
  local recipe = read_yaml(dir .. "/recipe.yaml")
  local reg = registry()
  local deployer = deployer_of(dir)
  local st = { objects = {}, releases = {}, deployer = deployer }
  local function add(o) st.objects[#st.objects + 1] = o end
  local chart = deployer == "helm" and read_yaml(dir .. "/Chart.yaml")
  local values = deployer == "helm" and read_yaml(dir .. "/values.yaml")
  local names = {}
  for _, r in ipairs(recipe.componentRefs) do names[#names + 1] = r.name end
  for _, r in ipairs(recipe.componentRefs) do
    local ns, e = r.namespace, reg[r.name] or {}
    local has_chart = r.source and r.source ~= ""
    if has_chart then
      if deployer == "helm" then
        local config = {}
        for _, n in ipairs(names) do if n ~= r.name then config[n] = { enabled = false } end end
        st.releases[#st.releases + 1] = { storage = opts.storage, release = {
          name = r.name, namespace = ns, version = 1,
          info = { status = "deployed", description = "Install complete" },
          chart = { metadata = { apiVersion = "v2", name = chart.name, version = chart.version,
                                 dependencies = chart.dependencies }, values = values },
          config = config } }
      elseif deployer == "helm-components" then
        st.releases[#st.releases + 1] = { storage = opts.storage, release = {
          name = r.name, namespace = ns, version = 2, info = { status = "deployed", description = "Upgrade complete" },
          chart = { metadata = { apiVersion = "v2", name = r.chart, version = r.version },
                    values = { chartDefault = true } },
          config = read_yaml(dir .. "/" .. r.name .. "/values.yaml") or {} } }
      elseif deployer == "flux" then
        local hr = read_yaml(dir .. "/" .. r.name .. "/helmrelease.yaml")
        hr.status = { conditions = { { type = "Ready", status = "True", reason = "InstallSucceeded",
                                       message = "Helm install succeeded" } },
                      history = { { chartName = r.chart, chartVersion = r.version, status = "deployed" } } }
        add(hr)
        st.releases[#st.releases + 1] = { storage = opts.storage, release = {
          name = hr.spec.releaseName, namespace = hr.spec.storageNamespace, version = 1,
          info = { status = "deployed" }, chart = { metadata = { name = r.chart, version = r.version }, values = {} },
          config = hr.spec.values or {} } }
      end
      add(M.workload("Deployment", ns, r.name .. "-controller", r.name))
    end
    local app = deployer == "argocd" and read_yaml(dir .. "/applications/" .. r.name .. ".yaml")
    if app then
      app.status = { sync = { status = "Synced" }, health = { status = "Healthy" } }
      add(app)
    end
    for _, x in ipairs(e.expectedResources or {}) do
      if x.kind == "CustomResourceDefinition" then add(M.crd(x.name))
      else
        local extra = r.name == "gpu-operator" and x.name == "gpu-operator"
          and { image = "nvcr.io/nvidia/gpu-operator:" .. r.version } or nil
        add(M.workload(x.kind, x.namespace or ns, x.name, nil, extra))
      end
    end
    if r.name == "gpu-operator" then
      for _, n in ipairs(M.GPU_NODES) do
        add({ apiVersion = "v1", kind = "Pod", metadata = { name = "nvidia-operator-validator-" .. n, namespace = ns,
                labels = { app = "nvidia-operator-validator" } },
              spec = { nodeName = n, containers = { { name = "nvidia-operator-validator", image = "validator" } } },
              status = { phase = "Running", conditions = { { type = "Ready", status = "True" } } } })
      end
    end
    if r.name == "nvidia-dra-driver-gpu" then
      for _, dc in ipairs({ "compute-domain-daemon.nvidia.com", "compute-domain-default-channel.nvidia.com" }) do
        add({ apiVersion = "resource.k8s.io/v1", kind = "DeviceClass", metadata = { name = dc },
              spec = { selectors = { { cel = { expression = "device.driver == 'compute-domain.nvidia.com'" } } } } })
      end
    end
    if r.name == "prometheus-adapter" then
      add({ apiVersion = "apiregistration.k8s.io/v1", kind = "APIService", metadata = { name = "v1beta1.custom.metrics.k8s.io" },
            spec = { group = "custom.metrics.k8s.io", version = "v1beta1", service = { name = "prometheus-adapter", namespace = ns } },
            status = { conditions = { { type = "Available", status = "True", reason = "Passed" } } } })
    end
  end
  for _, n in ipairs(M.GPU_NODES) do add(M.gpu_node(n)) end
  return st
end

-- load(srv, st): apply the objects, then store the Helm releases
function M.load(srv, st)
  srv:control("apply", { objects = st.objects })
  for _, r in ipairs(st.releases) do srv:control("helm", { release = r.release, storage = r.storage }) end
end

return M
