-- check-nvidia-smi (upstream's catalog name), read-only: on every GPU node
-- the GPU Operator's validator pod (app=nvidia-operator-validator) is
-- running and ready -- its driver validation runs nvidia-smi on the node,
-- so a ready validator is a passed nvidia-smi. Nothing is created (upstream
-- runs a pod per node; eidos reads what the operator already ran).
local cluster = require("eidos.validate.cluster")
local kube = require("eidos.validate.kube")

local function ready(pod)
  local st = type(pod.status) == "table" and pod.status or {}
  if st.phase ~= "Running" then return false, "phase " .. tostring(st.phase) end
  local c = kube.condition(pod, "Ready")
  if not c or c.status ~= "True" then return false, "not Ready" end
  return true
end

return {
  phase = "deployment",
  order = 52,
  description = "nvidia-smi works on every GPU node (the GPU Operator's validator pod is ready there)",
  remediation = "kubectl -n gpu-operator logs the nvidia-operator-validator pod of the node (init container driver-validation).",
  run = function(ctx)
    local c = ctx:needs("gpu-operator")
    if not c then return end
    local nodes = kube.gpu_nodes(ctx.cluster)
    if #nodes == 0 then
      return ctx:fail({ component = c.name, expected = "GPU nodes", actual = "none",
        reason = "no GPU node (label nvidia.com/gpu.present=true or nvidia.com/gpu capacity)" })
    end
    local pods = ctx.cluster:list("v1", "pods", c.namespace, { label_selector = "app=nvidia-operator-validator" }) or {}
    local on = {}
    for _, p in ipairs(pods) do
      local n = type(p.spec) == "table" and p.spec.nodeName
      if n then on[n] = p end
    end
    local bad = 0
    for _, n in ipairs(nodes) do
      local p = on[n.metadata.name]
      local ok, why = false, "no validator pod on the node"
      if p then ok, why = ready(p) end
      if not ok then
        bad = bad + 1
        ctx:fail({ component = c.name, evidence = { cluster.ref(n), p and cluster.ref(p) or nil },
          expected = "node " .. n.metadata.name .. ": validator ready", actual = "node " .. n.metadata.name .. ": " .. why,
          reason = string.format("nvidia-smi is not validated on node %s: %s", n.metadata.name, why) })
      end
    end
    if bad == 0 then
      ctx:pass({ component = c.name, expected = "validator ready on every GPU node",
        actual = string.format("%d GPU node%s validated", #nodes, #nodes == 1 and "" or "s") })
    end
  end,
}
