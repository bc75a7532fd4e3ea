-- gfd-labels: every GPU node carries the labels GPU Feature Discovery
-- writes (the product, the GPU count and memory), which node selectors and
-- schedulers rely on. The list is M.LABELS; override this file to change it.
local cluster = require("eidos.validate.cluster")
local kube = require("eidos.validate.kube")

local M = {
  phase = "conformance",
  always = true,
  order = 50,
  description = "every GPU node has the GPU Feature Discovery labels (nvidia.com/gpu.product, .count, .memory)",
  remediation = "Check the gpu-feature-discovery pod of the node (the GPU Operator's gfd.enabled).",
  LABELS = { "nvidia.com/gpu.product", "nvidia.com/gpu.count", "nvidia.com/gpu.memory" },
}

function M.run(ctx)
  local nodes = kube.gpu_nodes(ctx.cluster)
  if #nodes == 0 then return ctx:skip({ reason = "no GPU node (see gpu-allocatable)" }) end
  for _, n in ipairs(nodes) do
    local l = type(n.metadata.labels) == "table" and n.metadata.labels or {}
    local missing = {}
    for _, k in ipairs(M.LABELS) do if l[k] == nil or l[k] == "" then missing[#missing + 1] = k end end
    if #missing == 0 then
      ctx:pass({ component = n.metadata.name, evidence = { cluster.ref(n) }, expected = table.concat(M.LABELS, ", "),
        actual = l["nvidia.com/gpu.product"] .. " x" .. l["nvidia.com/gpu.count"] })
    else
      ctx:fail({ component = n.metadata.name, evidence = { cluster.ref(n) }, expected = table.concat(M.LABELS, ", "),
        actual = "missing " .. table.concat(missing, ", "),
        reason = string.format("GPU node %s lacks the GPU Feature Discovery label%s %s", n.metadata.name,
          #missing == 1 and "" or "s", table.concat(missing, ", ")) })
    end
  end
end

return M
