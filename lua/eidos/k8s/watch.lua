-- eidos.k8s.watch: the Kubernetes objects of the watch DaemonSet
-- (deploy/agent/watch/, written by deploy/agent/generate.lua): one pod per
-- node running `eidos snapshot --watch` (eidos.snapshot.watch), which keeps
-- cm://<ns>/<prefix>-<node> current and records drift as an Event on the
-- node. The pod is the snapshot agent's (eidos.k8s.agent.pod_spec: same
-- image, securityContext and read-only mounts), restarted when it ends.
-- Its own least RBAC: in its namespace ConfigMaps get/create/update (it
-- reads what it wrote, then replaces it); in "default" Events create (the
-- API keeps the events about a Node there, eidos.snapshot.watch); cluster-
-- wide nodes get (its node for the K8s measurement and the Event's uid). The
-- watch takes only the server and node subtypes of the K8s measurement,
-- so it needs no pods or ClusterPolicy access.
local client = require("eidos.k8s.client")
local agent = require("eidos.k8s.agent")

local M = {}

M.NAME = "eidos-watch"
M.PREFIX = "eidos-snapshot"
M.INTERVAL = "10m"
-- the namespace of the drift events: a Node is cluster-scoped, and the API
-- keeps the events about such objects in "default" (as the kubelet's); an
-- Event about a Node in any other namespace is refused (a real
-- kube-apiserver: 422, involvedObject.namespace does not match
-- event.namespace)
M.EVENT_NAMESPACE = "default"

local function obj(gv, resource, namespaced, o, ns)
  o.metadata.labels = agent.labels({ ["app.kubernetes.io/component"] = "watch" })
  return { kind = o.kind, name = o.metadata.name, obj = o,
           path = client.path(gv, resource, namespaced and ns or nil) }
end

-- objects(p) -> ServiceAccount, Role, RoleBinding, the events Role and
-- RoleBinding in M.EVENT_NAMESPACE, ClusterRole, ClusterRoleBinding and
-- DaemonSet. p: namespace, image, interval (text), prefix, tolerations,
-- runtime_class
function M.objects(p)
  local ns, name = p.namespace, M.NAME
  local cname = name .. "-" .. ns
  local evns = M.EVENT_NAMESPACE
  local rbac = "rbac.authorization.k8s.io"
  local objs = {
    obj("v1", "serviceaccounts", true, { apiVersion = "v1", kind = "ServiceAccount",
      metadata = { name = name, namespace = ns } }, ns),
    obj(rbac .. "/v1", "roles", true, { apiVersion = rbac .. "/v1", kind = "Role",
      metadata = { name = name, namespace = ns },
      rules = {
        { apiGroups = { "" }, resources = { "configmaps" }, verbs = { "get", "create", "update" } },
      } }, ns),
    obj(rbac .. "/v1", "rolebindings", true, { apiVersion = rbac .. "/v1", kind = "RoleBinding",
      metadata = { name = name, namespace = ns },
      roleRef = { apiGroup = rbac, kind = "Role", name = name },
      subjects = { { kind = "ServiceAccount", name = name, namespace = ns } } }, ns),
    obj(rbac .. "/v1", "roles", true, { apiVersion = rbac .. "/v1", kind = "Role",
      metadata = { name = cname, namespace = evns },
      rules = { { apiGroups = { "" }, resources = { "events" }, verbs = { "create" } } } }, evns),
    obj(rbac .. "/v1", "rolebindings", true, { apiVersion = rbac .. "/v1", kind = "RoleBinding",
      metadata = { name = cname, namespace = evns },
      roleRef = { apiGroup = rbac, kind = "Role", name = cname },
      subjects = { { kind = "ServiceAccount", name = name, namespace = ns } } }, evns),
    obj(rbac .. "/v1", "clusterroles", false, { apiVersion = rbac .. "/v1", kind = "ClusterRole",
      metadata = { name = cname },
      rules = { { apiGroups = { "" }, resources = { "nodes" }, verbs = { "get" } } } }, ns),
    obj(rbac .. "/v1", "clusterrolebindings", false, { apiVersion = rbac .. "/v1", kind = "ClusterRoleBinding",
      metadata = { name = cname },
      roleRef = { apiGroup = rbac, kind = "ClusterRole", name = cname },
      subjects = { { kind = "ServiceAccount", name = name, namespace = ns } } }, ns),
  }
  -- $(NODE_NAME) is expanded by the kubelet from the container's env
  local args = { "snapshot", "--watch", "--interval", p.interval or M.INTERVAL, "--format", "yaml",
                 "-o", "cm://" .. ns .. "/" .. (p.prefix or M.PREFIX) .. "-$(NODE_NAME)" }
  local spec = agent.pod_spec({ image = p.image, service_account = name, tolerations = p.tolerations,
                                runtime_class = p.runtime_class }, args)
  spec.restartPolicy = "Always"
  spec.terminationGracePeriodSeconds = 30
  local sel = { ["app.kubernetes.io/name"] = "eidos", ["app.kubernetes.io/component"] = "watch" }
  objs[#objs + 1] = obj("apps/v1", "daemonsets", true, {
    apiVersion = "apps/v1", kind = "DaemonSet",
    metadata = { name = name, namespace = ns },
    spec = {
      selector = { matchLabels = sel },
      updateStrategy = { type = "RollingUpdate", rollingUpdate = { maxUnavailable = "10%" } },
      template = { metadata = { labels = agent.labels({ ["app.kubernetes.io/component"] = "watch" }) }, spec = spec },
    } }, ns)
  return objs
end

return M
