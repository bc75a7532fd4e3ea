-- operator-health (upstream's catalog name): the GPU Operator runs -- its
-- Deployment gpu-operator is ready in the component's namespace and its
-- ClusterPolicy reports state ready (the operator's own verdict on the
-- driver, toolkit, device plugin and validators it manages).
local cluster = require("eidos.validate.cluster")
local kube = require("eidos.validate.kube")

return {
  phase = "deployment",
  order = 50,
  description = "the GPU Operator's Deployment is ready and its ClusterPolicy state is ready",
  remediation = "kubectl -n gpu-operator get pods; the ClusterPolicy's status.conditions say which operand is not ready.",
  run = function(ctx)
    local c = ctx:needs("gpu-operator")
    if not c then return end
    local dep = ctx.cluster:get("apps/v1", "deployments", c.namespace, "gpu-operator")
    if not dep then
      return ctx:fail({ component = c.name, expected = "Deployment " .. c.namespace .. "/gpu-operator ready",
        actual = "absent", reason = "the GPU Operator Deployment " .. c.namespace .. "/gpu-operator does not exist" })
    end
    local ok, want, got = kube.ready(dep)
    if not ok then
      return ctx:fail({ component = c.name, evidence = { cluster.ref(dep) }, expected = want, actual = got,
        reason = "the GPU Operator Deployment is not ready: " .. got })
    end
    local cps = kube.clusterpolicies(ctx.cluster)
    if #cps == 0 then
      return ctx:fail({ component = c.name, evidence = { cluster.ref(dep) }, expected = "a ClusterPolicy in state ready",
        actual = "no ClusterPolicy", reason = "the GPU Operator runs but there is no ClusterPolicy (nvidia.com/v1)" })
    end
    for _, cp in ipairs(cps) do
      if cp.state ~= "ready" then
        return ctx:fail({ component = c.name, evidence = { cluster.ref(dep), cluster.ref(cp.obj) },
          expected = "ClusterPolicy state ready", actual = "ClusterPolicy state " .. tostring(cp.state),
          reason = string.format("ClusterPolicy %s is %s", cp.obj.metadata.name, tostring(cp.state)) })
      end
    end
    ctx:pass({ component = c.name, evidence = { cluster.ref(dep), cluster.ref(cps[1].obj) },
      expected = "Deployment ready, ClusterPolicy ready", actual = "Deployment ready, ClusterPolicy ready" })
  end,
}
