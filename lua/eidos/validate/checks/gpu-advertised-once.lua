-- gpu-advertised-once: no GPU node has its GPUs advertised twice -- by the
-- device plugin (allocatable nvidia.com/gpu) and by the NVIDIA DRA driver
-- (GPU devices in its ResourceSlices) -- so no GPU can be handed to two
-- pods. Passes trivially when the cluster does not serve DRA.
local cluster = require("eidos.validate.cluster")
local kube = require("eidos.validate.kube")

return {
  phase = "conformance",
  always = true,
  order = 40,
  description = "the device plugin and the DRA driver do not both advertise the GPUs of a node",
  remediation = "Turn one of them off: the GPU Operator's devicePlugin.enabled=false, or the DRA driver's resources.gpus.enabled=false.",
  run = function(ctx)
    local nodes, dra, slices, gv = kube.advertised(ctx.cluster)
    if #nodes == 0 then return ctx:skip({ reason = "no GPU node (see gpu-allocatable)" }) end
    if not gv then
      return ctx:pass({ expected = "GPUs advertised by one mechanism", actual = "DRA not served: device plugin only" })
    end
    for _, n in ipairs(nodes) do
      local dp, d = kube.gpus(n, "allocatable"), dra[n.metadata.name] or 0
      local ev = { cluster.ref(n) }
      for _, s in ipairs(slices) do if s.spec.nodeName == n.metadata.name then ev[#ev + 1] = cluster.ref(s) end end
      if dp > 0 and d > 0 then
        ctx:fail({ component = n.metadata.name, evidence = ev, expected = "one of: device plugin, DRA",
          actual = string.format("%d by the device plugin (allocatable %s), %d by DRA (%s)", dp, kube.GPU, d, kube.DRA_GPU_DRIVER),
          reason = string.format("node %s advertises its GPUs twice: %d allocatable %s and %d DRA devices", n.metadata.name,
            dp, kube.GPU, d) })
      else
        ctx:pass({ component = n.metadata.name, evidence = ev, expected = "one of: device plugin, DRA",
          actual = dp > 0 and "device plugin" or d > 0 and "DRA" or "neither (see gpu-allocatable)" })
      end
    end
  end,
}
