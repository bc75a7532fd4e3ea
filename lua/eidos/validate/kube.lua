-- eidos.validate.kube: the Kubernetes facts the validation checks share,
-- in one place: when a workload is ready, which workloads belong to a
-- component, which nodes are GPU nodes and how many GPUs they offer, where
-- a kind lives in the API, and a constraint expression evaluated against a
-- live value (the same engine as readiness, eidos.constraint).
local M = {}

M.WORKLOADS = {
  { gv = "apps/v1", resource = "deployments", kind = "Deployment" },
  { gv = "apps/v1", resource = "daemonsets", kind = "DaemonSet" },
  { gv = "apps/v1", resource = "statefulsets", kind = "StatefulSet" },
}

-- kind -> where it is served (expectedResources may name any of these)
M.KINDS = {
  Deployment = { gv = "apps/v1", resource = "deployments", namespaced = true },
  DaemonSet = { gv = "apps/v1", resource = "daemonsets", namespaced = true },
  StatefulSet = { gv = "apps/v1", resource = "statefulsets", namespaced = true },
  Service = { gv = "v1", resource = "services", namespaced = true },
  ConfigMap = { gv = "v1", resource = "configmaps", namespaced = true },
  ServiceAccount = { gv = "v1", resource = "serviceaccounts", namespaced = true },
  Namespace = { gv = "v1", resource = "namespaces", namespaced = false },
  CustomResourceDefinition = { gv = "apiextensions.k8s.io/v1", resource = "customresourcedefinitions", namespaced = false },
  APIService = { gv = "apiregistration.k8s.io/v1", resource = "apiservices", namespaced = false },
  ClusterPolicy = { gv = "nvidia.com/v1", resource = "clusterpolicies", namespaced = false },
  DeviceClass = { gv = "resource.k8s.io/v1", resource = "deviceclasses", namespaced = false },
  ValidatingWebhookConfiguration = { gv = "admissionregistration.k8s.io/v1", resource = "validatingwebhookconfigurations",
                                     namespaced = false },
  MutatingWebhookConfiguration = { gv = "admissionregistration.k8s.io/v1", resource = "mutatingwebhookconfigurations",
                                   namespaced = false },
}

local function num(v) return tonumber(v) or 0 end

-- ready(obj) -> ok, expected text, actual text. Deployments and
-- StatefulSets: desired replicas = ready = updated (and the controller has
-- seen the latest generation); DaemonSets: desired scheduled = ready =
-- updated.
function M.ready(obj)
  local spec = type(obj.spec) == "table" and obj.spec or {}
  local st = type(obj.status) == "table" and obj.status or {}
  local desired, ready, updated
  if obj.kind == "DaemonSet" then
    desired, ready, updated = num(st.desiredNumberScheduled), num(st.numberReady), num(st.updatedNumberScheduled)
  else
    desired = spec.replicas == nil and 1 or num(spec.replicas)
    ready, updated = num(st.readyReplicas), num(st.updatedReplicas)
  end
  local gen = type(obj.metadata) == "table" and tonumber(obj.metadata.generation)
  local seen = tonumber(st.observedGeneration)
  local stale = gen and seen and seen < gen
  local want = string.format("%d desired, %d ready, %d updated", desired, desired, desired)
  local got = string.format("%d desired, %d ready, %d updated%s", desired, ready, updated,
    stale and string.format(" (generation %d not yet observed)", gen) or "")
  return ready == desired and updated == desired and not stale, want, got
end

-- workloads(reader, ns) -> Deployments, DaemonSets and StatefulSets of ns
function M.workloads(reader, ns)
  local out = {}
  for _, w in ipairs(M.WORKLOADS) do
    for _, o in ipairs(reader:list(w.gv, w.resource, ns) or {}) do out[#out + 1] = o end
  end
  return out
end

-- release_of(obj) -> the Helm release (or Argo CD application) that made it
function M.release_of(obj)
  local md = type(obj.metadata) == "table" and obj.metadata or {}
  local a = type(md.annotations) == "table" and md.annotations or {}
  local l = type(md.labels) == "table" and md.labels or {}
  return a["meta.helm.sh/release-name"] or l["app.kubernetes.io/instance"] or l["argocd.argoproj.io/instance"]
end

-- belongs(obj, comp, exclusive) -> the workload is the component's: made by
-- its release, listed in its expected resources, or (exclusive: the
-- namespace is the component's alone in the recipe) anywhere in its namespace
function M.belongs(obj, comp, exclusive)
  local r = M.release_of(obj)
  if r and (r == comp.name or (comp.release and r == comp.release.name)) then return true end
  for _, e in ipairs(comp.expected_resources or {}) do
    if e.kind == obj.kind and e.name == obj.metadata.name then return true end
  end
  return exclusive and r == nil
end

-- namespaces shared by more than one component, or system ones
local SYSTEM = { ["kube-system"] = true, ["default"] = true, ["kube-public"] = true }
function M.exclusive(components, comp)
  if SYSTEM[comp.namespace] then return false end
  for _, o in ipairs(components) do
    if o ~= comp and o.namespace == comp.namespace then return false end
  end
  return true
end

-- component_workloads(reader, components, comp) -> its workloads, sorted
function M.component_workloads(reader, components, comp)
  local ex = M.exclusive(components, comp)
  local out = {}
  for _, o in ipairs(M.workloads(reader, comp.namespace)) do
    if M.belongs(o, comp, ex) then out[#out + 1] = o end
  end
  return out
end

-- ---------------------------------------------------------------------------
-- nodes and GPUs

M.GPU = "nvidia.com/gpu"

function M.gpus(node, field)
  local st = type(node.status) == "table" and node.status or {}
  local t = type(st[field or "allocatable"]) == "table" and st[field or "allocatable"] or {}
  return math.floor(tonumber(t[M.GPU]) or 0)
end

-- is_gpu_node(node): labelled by the GPU Operator / NFD as having an NVIDIA
-- GPU, or with GPU capacity
function M.is_gpu_node(node)
  local l = type(node.metadata.labels) == "table" and node.metadata.labels or {}
  return l["nvidia.com/gpu.present"] == "true" or l["feature.node.kubernetes.io/pci-10de.present"] == "true"
    or M.gpus(node, "capacity") > 0
end

function M.gpu_nodes(reader)
  local out = {}
  for _, n in ipairs(reader:list("v1", "nodes") or {}) do
    if M.is_gpu_node(n) then out[#out + 1] = n end
  end
  return out
end

-- ---------------------------------------------------------------------------
-- Dynamic Resource Allocation

M.DRA_VERSIONS = { "resource.k8s.io/v1", "resource.k8s.io/v1beta2", "resource.k8s.io/v1beta1" }
M.DRA_GPU_DRIVER = "gpu.nvidia.com"

-- dra_version(reader) -> the newest resource.k8s.io version served, or nil
function M.dra_version(reader)
  for _, gv in ipairs(M.DRA_VERSIONS) do
    if reader:served(gv) then return gv end
  end
end

-- dra_gpus(reader, gv) -> node name -> number of GPU devices the NVIDIA DRA
-- driver publishes there (ResourceSlices of driver gpu.nvidia.com), and the
-- slices read
function M.dra_gpus(reader, gv)
  local per, slices = {}, {}
  for _, s in ipairs(reader:list(gv, "resourceslices") or {}) do
    local spec = type(s.spec) == "table" and s.spec or {}
    if spec.driver == M.DRA_GPU_DRIVER and type(spec.nodeName) == "string" then
      local n = type(spec.devices) == "table" and #spec.devices or 0
      per[spec.nodeName] = (per[spec.nodeName] or 0) + n
      slices[#slices + 1] = s
    end
  end
  return per, slices
end

-- advertised(reader) -> GPU nodes, and per node name the GPU devices the
-- DRA driver publishes there, its ResourceSlices and the resource.k8s.io
-- version (nil when DRA is not served)
function M.advertised(reader)
  local nodes = M.gpu_nodes(reader)
  local gv = #nodes > 0 and M.dra_version(reader) or nil
  local dra, slices = {}, {}
  if gv then dra, slices = M.dra_gpus(reader, gv) end
  return nodes, dra, slices, gv
end

-- clusterpolicies(reader) -> the GPU Operator's ClusterPolicies, each with
-- its status.state ("unknown" when absent)
function M.clusterpolicies(reader)
  local out = {}
  for _, cp in ipairs(reader:list("nvidia.com/v1", "clusterpolicies") or {}) do
    out[#out + 1] = { obj = cp, state = type(cp.status) == "table" and cp.status.state or "unknown" }
  end
  return out
end

-- ---------------------------------------------------------------------------
-- resources by kind

-- get_kind(reader, kind, ns, name) -> obj | nil; raises for a kind it does
-- not know
function M.get_kind(reader, kind, ns, name)
  local k = M.KINDS[kind]
  if not k then
    require("eidos.errors").raise("invalid", string.format("expected resource kind %q is not one eidos reads " ..
      "(known: %s)", kind, table.concat(require("eidos.doc").keys(M.KINDS), ", ")))
  end
  return reader:get(k.gv, k.resource, k.namespaced and ns or nil, name)
end

-- condition(obj, type) -> the condition table of that type, or nil
function M.condition(obj, ctype)
  local st = type(obj.status) == "table" and obj.status or {}
  for _, c in ipairs(type(st.conditions) == "table" and st.conditions or {}) do
    if type(c) == "table" and c.type == ctype then return c end
  end
end

-- established(crd) -> ok, why
function M.established(crd)
  local c = M.condition(crd, "Established")
  if c and c.status == "True" then return true end
  return false, c and string.format("Established=%s%s", tostring(c.status), c.reason and (" (" .. c.reason .. ")") or "")
    or "no Established condition"
end

-- holds(expr, actual, name) -> passed, reason: a constraint expression
-- (">= v24.6.0") against a live value, by the readiness engine
function M.holds(expr, actual, name)
  local constraint = require("eidos.constraint")
  local ok, ast = pcall(constraint.parse, tostring(expr), name)
  if not ok then return false, ast.msg or tostring(ast) end
  return constraint.run(ast, tostring(actual))
end

return M
