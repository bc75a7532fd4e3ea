-- eidos.k8s.agent: the Kubernetes side of `eidos snapshot --deploy-agent`
-- (its flags and their parsing: eidos.cli.agent). Runs the snapshot on a
-- cluster node as a Kubernetes Job and brings the result back:
--   1. checks with SelfSubjectAccessReviews that the caller may create what
--      follows (a missing permission: exit 4, listing every missing rule);
--   2. creates the namespace if missing (at the privileged Pod Security
--      level, M.namespace), the ServiceAccount, a Role and
--      RoleBinding that allow only the ConfigMap the agent writes, and a
--      read-only ClusterRole and ClusterRoleBinding (nodes, pods, nvidia.com
--      clusterpolicies) whose names carry the namespace, so agents in two
--      namespaces never share or delete each other's bindings;
--   3. replaces any previous agent Job of the same name and creates one
--      that runs `eidos snapshot -o cm://<ns>/<name>` on the selected node
--      with a restrictive securityContext: no privilege escalation, all
--      capabilities dropped, read-only root filesystem, RuntimeDefault
--      seccomp, no host namespaces, and only two read-only hostPath mounts
--      (/etc/os-release and /run/systemd for the systemd D-Bus socket; the
--      kernel's /proc and /sys facts are visible in any container);
--      --privileged makes the container privileged instead (all devices
--      and capabilities, escalation allowed), --require-gpu requests one
--      nvidia.com/gpu, --image-pull-secret and --service-account-name name
--      what the pod uses;
--   4. waits until the Job is Complete or Failed, the timeout passes, or
--      its pod cannot start (image pull failure), telling where it is
--      through eidos.progress (a live line on a terminal, a log line every
--      few seconds without one); on failure prints the pod's log and the
--      events of the Job and pod to stderr;
--   5. deletes the Job, the RBAC objects and the intermediate ConfigMap
--      unless --no-cleanup (also after a failure);
--   6. returns the snapshot text read from the ConfigMap.
-- Exit codes: 1 the Job failed (logs and events shown), 4 missing RBAC
-- permission, 5 timeout (the pending reason shown), 6 the image cannot be
-- pulled or the API is unreachable. The objects and the pod are shared with
-- the fleet run (eidos.k8s.fleet) and the watch DaemonSet (eidos.k8s.watch).
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

-- labels(extra) -> the agent's labels and extra
function M.labels(extra)
  local l = {}
  for k, v in pairs(LABEL) do l[k] = v end
  for k, v in pairs(extra or {}) do l[k] = v end
  return l
end

function M.cluster_name(ns) return M.NAME .. "-" .. ns end

-- the objects, in creation order: {path=, name=, obj=, kind=, keep=}.
-- Names: p.service_account (default M.NAME; one the user named, p.sa_given,
-- is created only when missing and never deleted), p.role_name (default
-- M.NAME), p.cluster_role (default M.cluster_name(ns)); the Role allows the
-- ConfigMaps p.cm_names (default {p.cm_name}); p.labels are added to the
-- objects' labels.
function M.objects(p)
  local ns = p.namespace
  local sa, role = p.service_account or M.NAME, p.role_name or M.NAME
  local cname = p.cluster_role or M.cluster_name(ns)
  local objs = {}
  local function add(gv, resource, namespaced, obj, keep)
    -- an object to keep is no run's: --prune leaves it alone
    obj.metadata.labels = M.labels(not keep and p.labels or nil)
    objs[#objs + 1] = { kind = obj.kind, name = obj.metadata.name, namespaced = namespaced, keep = keep,
                        path = client.path(gv, resource, namespaced and ns or nil), obj = obj }
  end
  add("v1", "serviceaccounts", true, { apiVersion = "v1", kind = "ServiceAccount",
    metadata = { name = sa, namespace = ns } }, p.sa_given)
  add("rbac.authorization.k8s.io/v1", "roles", true, {
    apiVersion = "rbac.authorization.k8s.io/v1", kind = "Role",
    metadata = { name = role, namespace = ns },
    rules = {
      { apiGroups = { "" }, resources = { "configmaps" }, verbs = { "create" } },
      { apiGroups = { "" }, resources = { "configmaps" }, resourceNames = p.cm_names or { p.cm_name },
        verbs = { "get", "update", "patch" } },
    } })
  add("rbac.authorization.k8s.io/v1", "rolebindings", true, {
    apiVersion = "rbac.authorization.k8s.io/v1", kind = "RoleBinding",
    metadata = { name = role, namespace = ns },
    roleRef = { apiGroup = "rbac.authorization.k8s.io", kind = "Role", name = role },
    subjects = { { kind = "ServiceAccount", name = sa, namespace = ns } } })
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
    subjects = { { kind = "ServiceAccount", name = sa, namespace = ns } } })
  return objs
end

-- the container's securityContext: restricted, or --privileged
local function container_security(p)
  if p.privileged then
    return { privileged = true, allowPrivilegeEscalation = true, readOnlyRootFilesystem = true }
  end
  return { privileged = false, allowPrivilegeEscalation = false, readOnlyRootFilesystem = true,
           capabilities = { drop = { "ALL" } } }
end

-- pod_spec(p, args [, node]) -> the agent's pod spec: the eidos container
-- running `eidos ARGS` as described above; node pins it to that node
function M.pod_spec(p, args, node)
  local env = {
    { name = "EIDOS_AGENT_MODE", value = "true" },
    { name = "NODE_NAME", valueFrom = { fieldRef = { fieldPath = "spec.nodeName" } } },
  }
  if p.run then env[#env + 1] = { name = "EIDOS_RUN_ID", value = p.run } end
  if p.runtime_class then env[#env + 1] = { name = "NVIDIA_VISIBLE_DEVICES", value = "all" } end
  local res = {
    requests = { cpu = "100m", memory = "128Mi", ["ephemeral-storage"] = "64Mi" },
    limits = { cpu = "1", memory = "512Mi", ["ephemeral-storage"] = "256Mi" },
  }
  if p.require_gpu then res.requests["nvidia.com/gpu"], res.limits["nvidia.com/gpu"] = "1", "1" end
  local spec = {
    serviceAccountName = p.service_account or M.NAME,
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
      args = args,
      env = env,
      resources = res,
      securityContext = container_security(p),
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
  if p.image_pull_secrets and #p.image_pull_secrets > 0 then
    spec.imagePullSecrets = {}
    for i, n in ipairs(p.image_pull_secrets) do spec.imagePullSecrets[i] = { name = n } end
  end
  if node then
    -- the node by its name, as the DaemonSet controller pins pods
    spec.affinity = { nodeAffinity = { requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms = { {
      matchFields = { { key = "metadata.name", operator = "In", values = { node } } } } } } } }
  elseif p.node_selector and next(p.node_selector) then
    spec.nodeSelector = p.node_selector
  end
  if p.runtime_class then spec.runtimeClassName = p.runtime_class end
  return spec
end

-- job(p [, unit]) -> the Job. unit (one node of a fleet run): {name=,
-- node= (the pod is pinned to it by node affinity), cm= (the ConfigMap it
-- writes), labels=}; without it the Job is p.job_name (default M.NAME)
-- writing p.cm_name on a node picked by p.node_selector.
function M.job(p, unit)
  unit = unit or {}
  local args = { "snapshot", "--format", p.agent_format or "yaml", "-o",
                 "cm://" .. p.namespace .. "/" .. (unit.cm or p.cm_name) }
  if p.require_gpu then args[#args + 1] = "--require-gpu" end
  local l = unit.labels or p.labels
  return {
    apiVersion = "batch/v1", kind = "Job",
    metadata = { name = unit.name or p.job_name or M.NAME, namespace = p.namespace, labels = M.labels(l) },
    spec = {
      backoffLimit = 0, completions = 1, parallelism = 1,
      ttlSecondsAfterFinished = 3600,
      activeDeadlineSeconds = math.floor(p.timeout) + 60,
      template = { metadata = { labels = M.labels(l) }, spec = M.pod_spec(p, args, unit.node) },
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

-- namespace(ns) -> the Namespace eidos makes for its agents (created when
-- missing, and in deploy/agent/): at the privileged Pod Security level,
-- because baseline and restricted refuse the agent's read-only hostPath
-- mounts (a real API server then creates the Job but never its pod)
function M.namespace(ns)
  return { apiVersion = "v1", kind = "Namespace", metadata = { name = ns, labels = {
    ["app.kubernetes.io/managed-by"] = "eidos",
    ["pod-security.kubernetes.io/enforce"] = "privileged",
  } } }
end

-- ensure_namespace(c, ns): creates M.namespace(ns) when missing; an
-- existing namespace is left as it is
function M.ensure_namespace(c, ns)
  local _, err = c:get(client.path("v1", "namespaces", nil, ns))
  if not err then return end
  if err.status ~= 404 then client.check(nil, err) end
  local _, cerr = c:create("/api/v1/namespaces", M.namespace(ns))
  if cerr and cerr.status ~= 409 then client.check(nil, cerr) end
  log.info("created namespace " .. ns .. " (Pod Security level privileged)")
end

-- create, or replace (keeping the server's resourceVersion) when it
-- exists; an object to keep (a ServiceAccount the user named) is only
-- created when missing
function M.apply(c, o)
  local _, err = c:create(o.path, o.obj)
  if not err then return end
  if err.status ~= 409 then client.check(nil, err) end
  if o.keep then return end
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
  local name = p.job_name or M.NAME
  return { c = c, namespace = p.namespace, name = name, what = "snapshot agent", image = p.image,
           timeout = p.timeout, path = client.path("batch/v1", "jobs", p.namespace, name) }
end

-- removals(objs) -> the eidos.k8s.job.cleanup list of the objects made by
-- M.objects, in reverse order, but those to keep
function M.removals(objs)
  local list = {}
  for i = #objs, 1, -1 do
    local o = objs[i]
    if not o.keep then list[#list + 1] = { path = o.path .. "/" .. o.name, what = o.kind .. " " .. o.name } end
  end
  return list
end

local function cleanup(c, p, objs)
  local list = { { path = client.path("batch/v1", "jobs", p.namespace, p.job_name or M.NAME), what = "Job",
                   opts = { propagation = "Background" } } }
  for _, r in ipairs(M.removals(objs)) do list[#list + 1] = r end
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
  local run = run_of(c, p)
  local act = require("eidos.progress").new(string.format("agent Job %s/%s", p.namespace, run.name))
  act:update("checking permissions")
  job.preflight(c, p.namespace, M.NEEDED, "deploy the snapshot agent")
  M.ensure_namespace(c, p.namespace)
  local objs = M.objects(p)
  local ok, res = pcall(function()
    act:update("creating its ServiceAccount and RBAC objects")
    for _, o in ipairs(objs) do M.apply(c, o) end
    run.progress = act
    act:update("replacing the previous Job")
    job.delete_and_wait(c, run.path, string.format("agent Job %s/%s", p.namespace, run.name))
    client.check(c:create(client.path("batch/v1", "jobs", p.namespace), M.job(p)))
    log.info(string.format("created agent Job %s/%s (image %s)", p.namespace, run.name, p.image))
    act:update("waiting for the pod")
    job.wait(run)
    act:update("reading the snapshot")
    local text = cmstore.read("cm://" .. p.namespace .. "/" .. p.cm_name,
      { what = "snapshot", kubeconfig = p.kubeconfig, context = p.context })
    act:finish("completed")
    return text
  end)
  if not ok then log.live(nil) end
  if p.no_cleanup then
    log.info(string.format("kept the agent Job, RBAC objects and ConfigMap in namespace %s (--no-cleanup)", p.namespace))
  else
    cleanup(c, p, objs)
  end
  if not ok then error(res, 0) end
  return res, "cm://" .. p.namespace .. "/" .. p.cm_name
end

return M
