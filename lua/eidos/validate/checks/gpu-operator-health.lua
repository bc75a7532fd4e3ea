-- gpu-operator-health (upstream's catalog name): the GPU Operator's
-- ClusterPolicy reports state ready.
local cluster = require("eidos.validate.cluster")

return {
  phase = "conformance",
  order = 70,
  description = "the GPU Operator's ClusterPolicy is ready",
  remediation = "kubectl get clusterpolicy -o yaml: status.conditions name the operand that is not ready.",
  run = function(ctx)
    local cps = ctx.cluster:list("nvidia.com/v1", "clusterpolicies")
    if not cps or #cps == 0 then
      return ctx:fail({ component = "gpu-operator", expected = "a ClusterPolicy in state ready", actual = "none",
        reason = "no ClusterPolicy (nvidia.com/v1): the GPU Operator is not deployed" })
    end
    for _, cp in ipairs(cps) do
      local state = type(cp.status) == "table" and cp.status.state or "unknown"
      if state == "ready" then
        ctx:pass({ component = "gpu-operator", evidence = { cluster.ref(cp) }, expected = "state ready", actual = "state ready" })
      else
        ctx:fail({ component = "gpu-operator", evidence = { cluster.ref(cp) }, expected = "state ready",
          actual = "state " .. tostring(state), reason = string.format("ClusterPolicy %s is %s", cp.metadata.name, tostring(state)) })
      end
    end
  end,
}
