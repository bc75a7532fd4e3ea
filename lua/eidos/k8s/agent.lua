-- eidos.k8s.agent: the Kubernetes side of `eidos snapshot --deploy-agent`
-- (its flags and their parsing: eidos.cli.agent). Runs the snapshot on a
-- cluster node as a Kubernetes Job and brings the result back:
--   1. checks with SelfSubjectAccessReviews that the caller may create what
--      follows (a missing permission: exit 4, listing every missing rule);
--   2. creates the namespace if missing, the ServiceAccount, a Role and
--      RoleBinding that allow only the ConfigMap the agent writes, and a
--      read-only ClusterRole and ClusterRoleBinding (nodes, pods, nvidia.com
--      clusterpolicies) whose names carry the namespace, so agents in two
--      namespaces never share or delete each other's bindings;
--   3. replaces any previous agent Job and creates one that runs
--      `eidos snapshot -o cm://<ns>/<name>` on the selected node with a
--      restrictive securityContext: no privilege escalation, all
--      capabilities dropped, read-only root filesystem, RuntimeDefault
--      seccomp, no host namespaces, and only two read-only hostPath mounts
--      (/etc/os-release and /run/systemd for the systemd D-Bus socket; the
--      kernel's /proc and /sys facts are visible in any container);
--   4. waits, with a progress line on a terminal, until the Job is Complete
--      or Failed, the timeout passes, or its pod cannot start (image pull
--      failure); on failure prints the pod's log and the events of the Job
--      and pod to stderr;
--   5. deletes the Job, the RBAC objects and the intermediate ConfigMap
--      unless --no-cleanup (also after a failure);
--   6. returns the snapshot text read from the ConfigMap.
-- Exit codes: 1 the Job failed (logs and events shown), 4 missing RBAC
-- permission, 5 timeout (the pending reason shown), 6 the image cannot be
-- pulled or the API is unreachable.
local errors = require("eidos.errors")
local log = require("eidos.log")
local client = require("eidos.k8s.client")
local cmstore = require("eidos.k8s.cmstore")
local job = require("eidos.k8s.job")

local M = {}

M.NAME = "eidos-agent"
M.DEFAULT_CM = "eidos-snapshot"
M.DEFAULT_NAMESPACE = "default"
M.DEFAULT_TIMEOUT = "5m"
M.TOLERATE_ALL = { { operator = "Exists" } } -- the tolerations when none is given

local LABEL = { ["app.kubernetes.io/name"] = "eidos", ["app.kubernetes.io/component"] = "agent",
                ["app.kubernetes.io/managed-by"] = "eidos" }

-- ---------------------------------------------------------------------------
-- objects

local function labels(extra)
  local l = {}
  for k, v in pairs(LABEL) do l[k] = v end
  for k, v in pairs(extra or {}) do l[k] = v end
  return l
end

function M.cluster_name(ns) return M.NAME .. "-" .. ns end

-- the objects, in creation order: {path=, name=, obj=, kind=}
function M.objects(p)
  local ns, name, cm = p.namespace, M.NAME, p.cm_name
  local cname = M.cluster_name(ns)
  local objs = {}
  local function add(gv, resource, namespaced, obj)
    obj.metadata.labels = labels()
    objs[#objs + 1] = { kind = obj.kind, name = obj.metadata.name, namespaced = namespaced,
                        path = client.path(gv, resource, namespaced and ns or nil), obj = obj }
  end
  add("v1", "serviceaccounts", true, { apiVersion = "v1", kind = "ServiceAccount",
    metadata = { name = name, namespace = ns } })
  add("rbac.authorization.k8s.io/v1", "roles", true, {
    apiVersion = "rbac.authorization.k8s.io/v1", kind = "Role",
    metadata = { name = name, namespace = ns },
    rules = {
      { apiGroups = { "" }, resources = { "configmaps" }, verbs = { "create" } },
      { apiGroups = { "" }, resources = { "configmaps" }, resourceNames = { cm }, verbs = { "get", "update", "patch" } },
    } })
  add("rbac.authorization.k8s.io/v1", "rolebindings", true, {
    apiVersion = "rbac.authorization.k8s.io/v1", kind = "RoleBinding",
    metadata = { name = name, namespace = ns },
    roleRef = { apiGroup = "rbac.authorization.k8s.io", kind = "Role", name = name },
    subjects = { { kind = "ServiceAccount", name = name, namespace = ns } } })
  add("rbac.authorization.k8s.io/v1", "clusterroles", false, {
    apiVersion = "rbac.authorization.k8s.io/v1", kind = "ClusterRole",
    metadata = { name = cname },
    rules = {
      { apiGroups = { "" }, resources = { "nodes", "pods" }, verbs = { "get", "list" } },
      { apiGroups = { "nvidia.com" }, resources = { "clusterpolicies" }, verbs = { "get", "list" } },
    } })
  add("rbac.authorization.k8s.io/v1", "clusterrolebindings", false, {
    apiVersion = "rbac.authorization.k8s.io/v1", kind = "ClusterRoleBinding",
    metadata = { name = cname },
    roleRef = { apiGroup = "rbac.authorization.k8s.io", kind = "ClusterRole", name = cname },
    subjects = { { kind = "ServiceAccount", name = name, namespace = ns } } })
  return objs
end

function M.job(p)
  local ns = p.namespace
  local env = {
    { name = "EIDOS_AGENT_MODE", value = "true" },
    { name = "NODE_NAME", valueFrom = { fieldRef = { fieldPath = "spec.nodeName" } } },
  }
  if p.runtime_class then env[#env + 1] = { name = "NVIDIA_VISIBLE_DEVICES", value = "all" } end
  local spec = {
    serviceAccountName = M.NAME,
    restartPolicy = "Never",
    automountServiceAccountToken = true,
    securityContext = {
      -- root inside the pod (the systemd D-Bus socket only answers uid 0),
      -- but without capabilities or privilege escalation
      runAsUser = 0, runAsGroup = 0, runAsNonRoot = false,
      seccompProfile = { type = "RuntimeDefault" },
    },
    tolerations = p.tolerations,
    containers = { {
      name = "eidos",
      image = p.image,
      -- a moving tag (latest, or none) is pulled every time; a release
      -- tag or digest once
      imagePullPolicy = (p.image:match("@sha256:") or
        ((p.image:match(":([%w_.-]+)$") or "latest") ~= "latest" and not p.image:match(":%d+/[^:]*$")))
        and "IfNotPresent" or "Always",
      command = { "eidos" },
      args = { "snapshot", "--format", "yaml", "-o", "cm://" .. ns .. "/" .. p.cm_name },
      env = env,
      resources = {
        requests = { cpu = "100m", memory = "128Mi", ["ephemeral-storage"] = "64Mi" },
        limits = { cpu = "1", memory = "512Mi", ["ephemeral-storage"] = "256Mi" },
      },
      securityContext = {
        privileged = false, allowPrivilegeEscalation = false, readOnlyRootFilesystem = true,
        capabilities = { drop = { "ALL" } },
      },
      volumeMounts = {
        { name = "tmp", mountPath = "/tmp" },
        { name = "os-release", mountPath = "/etc/os-release", readOnly = true },
        { name = "run-systemd", mountPath = "/run/systemd", readOnly = true },
      },
    } },
    volumes = {
      { name = "tmp", emptyDir = { sizeLimit = "64Mi" } },
      { name = "os-release", hostPath = { path = "/etc/os-release", type = "File" } },
      { name = "run-systemd", hostPath = { path = "/run/systemd", type = "Directory" } },
    },
  }
  if next(p.node_selector) then spec.nodeSelector = p.node_selector end
  if p.runtime_class then spec.runtimeClassName = p.runtime_class end
  return {
    apiVersion = "batch/v1", kind = "Job",
    metadata = { name = M.NAME, namespace = ns, labels = labels() },
    spec = {
      backoffLimit = 0, completions = 1, parallelism = 1,
      ttlSecondsAfterFinished = 3600,
      activeDeadlineSeconds = math.floor(p.timeout) + 60,
      template = { metadata = { labels = labels() }, spec = spec },
    },
  }
end

-- ---------------------------------------------------------------------------
-- steps

-- the permissions the caller needs: {verb, group, resource, namespaced}
M.NEEDED = {
  { "create", "", "serviceaccounts", true }, { "delete", "", "serviceaccounts", true },
  { "create", "rbac.authorization.k8s.io", "roles", true },
  { "create", "rbac.authorization.k8s.io", "rolebindings", true },
  { "create", "rbac.authorization.k8s.io", "clusterroles", false },
  { "create", "rbac.authorization.k8s.io", "clusterrolebindings", false },
  { "create", "batch", "jobs", true }, { "get", "batch", "jobs", true }, { "delete", "batch", "jobs", true },
  { "get", "", "configmaps", true }, { "list", "", "pods", true }, { "get", "", "pods/log", true },
  { "list", "", "events", true },
}

local function ensure_namespace(c, ns)
  local _, err = c:get(client.path("v1", "namespaces", nil, ns))
  if not err then return end
  if err.status ~= 404 then client.check(nil, err) end
  local _, cerr = c:create("/api/v1/namespaces", { apiVersion = "v1", kind = "Namespace",
    metadata = { name = ns, labels = { ["app.kubernetes.io/managed-by"] = "eidos" } } })
  if cerr and cerr.status ~= 409 then client.check(nil, cerr) end
  log.info("created namespace " .. ns)
end

-- create, or replace (keeping the server's resourceVersion) when it exists
local function apply(c, o)
  local _, err = c:create(o.path, o.obj)
  if not err then return end
  if err.status ~= 409 then client.check(nil, err) end
  for _ = 1, 3 do
    local cur = client.check(c:get(o.path .. "/" .. o.name))
    o.obj.metadata.resourceVersion = cur.metadata.resourceVersion
    local _, uerr = c:update(o.path .. "/" .. o.name, o.obj)
    o.obj.metadata.resourceVersion = nil
    if not uerr then return end
    if uerr.status ~= 409 then client.check(nil, uerr) end
  end
  errors.raise("failure", string.format("%s %s kept changing while being updated", o.kind, o.name))
end

-- the Job run of eidos.k8s.job
local function run_of(c, p)
  return { c = c, namespace = p.namespace, name = M.NAME, what = "snapshot agent", image = p.image,
           timeout = p.timeout, path = client.path("batch/v1", "jobs", p.namespace, M.NAME) }
end

local function cleanup(c, p, objs)
  local list = { { path = client.path("batch/v1", "jobs", p.namespace, M.NAME), what = "Job",
                   opts = { propagation = "Background" } } }
  for i = #objs, 1, -1 do
    local o = objs[i]
    list[#list + 1] = { path = o.path .. "/" .. o.name, what = o.kind .. " " .. o.name }
  end
  if p.cm_temporary then
    list[#list + 1] = { path = client.path("v1", "configmaps", p.namespace, p.cm_name), what = "ConfigMap " .. p.cm_name }
  end
  job.cleanup(c, list, "snapshot agent")
end

-- default_image() -> the agent image of this build
function M.default_image()
  local version = tostring(require("eidos.core.build").version)
  return "ghcr.io/nvidia/eidos:" .. ((version:match("^%d+%.%d+%.%d+$") and "v" .. version) or "latest")
end

-- deploy(p) -> snapshot text (YAML), the ConfigMap location it came from.
-- p (eidos.cli.agent.params): namespace, image, timeout (seconds),
-- node_selector (map), tolerations (nil: tolerate every taint),
-- runtime_class, cm_name, cm_temporary, no_cleanup, kubeconfig, context
function M.deploy(p)
  p.tolerations = p.tolerations or M.TOLERATE_ALL
  p.node_selector = p.node_selector or {}
  local c = client.shared({ kubeconfig = p.kubeconfig, context = p.context })
  job.preflight(c, p.namespace, M.NEEDED, "deploy the snapshot agent")
  ensure_namespace(c, p.namespace)
  local objs = M.objects(p)
  local ok, res = pcall(function()
    for _, o in ipairs(objs) do apply(c, o) end
    local run = run_of(c, p)
    job.delete_and_wait(c, run.path, string.format("agent Job %s/%s", p.namespace, M.NAME))
    client.check(c:create(client.path("batch/v1", "jobs", p.namespace), M.job(p)))
    log.info(string.format("created agent Job %s/%s (image %s)", p.namespace, M.NAME, p.image))
    job.wait(run)
    return (cmstore.read("cm://" .. p.namespace .. "/" .. p.cm_name,
      { what = "snapshot", kubeconfig = p.kubeconfig, context = p.context }))
  end)
  if p.no_cleanup then
    log.info(string.format("kept the agent Job, RBAC objects and ConfigMap in namespace %s (--no-cleanup)", p.namespace))
  else
    cleanup(c, p, objs)
  end
  if not ok then error(res, 0) end
  return res, "cm://" .. p.namespace .. "/" .. p.cm_name
end

return M
