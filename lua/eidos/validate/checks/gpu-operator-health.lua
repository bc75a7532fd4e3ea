-- gpu-operator-health (upstream's catalog name): the GPU Operator's
-- ClusterPolicy reports state ready.
local cluster = require("eidos.validate.cluster")
local kube = require("eidos.validate.kube")

return {
  phase = "conformance",
  order = 70,
  description = "the GPU Operator's ClusterPolicy is ready",
  remediation = "kubectl get clusterpolicy -o yaml: status.conditions name the operand that is not ready.",
  run = function(ctx)
    local cps = kube.clusterpolicies(ctx.cluster)
    if #cps == 0 then
      return ctx:fail({ component = "gpu-operator", expected = "a ClusterPolicy in state ready", actual = "none",
        reason = "no ClusterPolicy (nvidia.com/v1): the GPU Operator is not deployed" })
    end
    for _, cp in ipairs(cps) do
      local ev = { cluster.ref(cp.obj) }
      if cp.state == "ready" then
        ctx:pass({ component = "gpu-operator", evidence = ev, expected = "state ready", actual = "state ready" })
      else
        ctx:fail({ component = "gpu-operator", evidence = ev, expected = "state ready", actual = "state " .. tostring(cp.state),
          reason = string.format("ClusterPolicy %s is %s", cp.obj.metadata.name, tostring(cp.state)) })
      end
    end
  end,
}
