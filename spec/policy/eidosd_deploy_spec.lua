-- spec/policy/eidosd_deploy_spec.lua: deploy/eidosd/ parses and keeps the
-- promises of docs/api.md: non-root, read-only root file system with an
-- emptyDir at /tmp, probes on /health and /ready, resources, a grace period
-- longer than the server's shutdown, and the Service, HPA, PDB and
-- NetworkPolicy all selecting the same pods.
local yaml = require("eidos.core.yaml")
local support = require("support")

local dir = support.root .. "/deploy/eidosd/"

local function load(name)
  local docs = assert(yaml.load_all(assert(support.read(dir .. name), name)))
  local by = {}
  for _, d in ipairs(docs) do by[d.kind] = d end
  return by
end

local function duration(s) -- "5s" -> 5
  return tonumber(s:match("^(%d+)s$"))
end

describe("deploy/eidosd", function()
  local dep, pod, c
  setup(function()
    local d = load("deployment.yaml")
    dep = d.Deployment
    pod = dep.spec.template.spec
    c = pod.containers[1]
    assert.are.equal("ServiceAccount", d.ServiceAccount.kind)
  end)

  it("runs eidosd as non-root on a read-only root with an emptyDir /tmp", function()
    assert.are.same({ "eidosd" }, c.command)
    assert.is_true(pod.securityContext.runAsNonRoot)
    assert.truthy(pod.securityContext.runAsUser > 0)
    assert.is_true(c.securityContext.readOnlyRootFilesystem)
    assert.is_false(c.securityContext.allowPrivilegeEscalation)
    assert.are.same({ "ALL" }, c.securityContext.capabilities.drop)
    assert.is_false(pod.automountServiceAccountToken)
    local mounted = false
    for _, m in ipairs(c.volumeMounts) do if m.mountPath == "/tmp" and m.name == "tmp" then mounted = true end end
    assert.is_true(mounted)
    assert.is_table(pod.volumes[1].emptyDir)
  end)
  it("probes /health and /ready and sets resources", function()
    assert.are.equal("/health", c.livenessProbe.httpGet.path)
    assert.are.equal("/ready", c.readinessProbe.httpGet.path)
    assert.truthy(c.resources.requests.cpu and c.resources.requests.memory)
    assert.truthy(c.resources.limits.cpu and c.resources.limits.memory)
  end)
  it("gives the pod more time than the server's shutdown delay and timeout", function()
    local delay, timeout = 0, 30
    for _, a in ipairs(c.args) do
      delay = a:match("^%-%-shutdown%-delay=(.*)$") and duration(a:match("=(.*)$")) or delay
      timeout = a:match("^%-%-shutdown%-timeout=(.*)$") and duration(a:match("=(.*)$")) or timeout
    end
    assert.truthy(delay < timeout)
    assert.truthy(pod.terminationGracePeriodSeconds > timeout)
  end)
  it("has a Service, HPA, PDB and NetworkPolicy for the same pods", function()
    local labels = dep.spec.template.metadata.labels
    local function selects(sel)
      for k, v in pairs(sel) do if labels[k] ~= v then return false end end
      return true
    end
    assert.is_true(selects(dep.spec.selector.matchLabels))
    local svc = load("service.yaml").Service
    assert.is_true(selects(svc.spec.selector))
    assert.are.equal("http", svc.spec.ports[1].targetPort)
    local hpa = load("hpa.yaml").HorizontalPodAutoscaler
    assert.are.equal("eidosd", hpa.spec.scaleTargetRef.name)
    assert.truthy(hpa.spec.minReplicas >= 2)
    local pdb = load("pdb.yaml").PodDisruptionBudget
    assert.is_true(selects(pdb.spec.selector.matchLabels))
    assert.truthy(pdb.spec.minAvailable < hpa.spec.minReplicas)
    local np = load("networkpolicy.yaml").NetworkPolicy
    assert.is_true(selects(np.spec.podSelector.matchLabels))
    assert.are.same({ "Ingress", "Egress" }, np.spec.policyTypes)
  end)
end)
