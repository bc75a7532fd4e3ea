-- gpu-allocatable: every GPU node advertises its GPUs to the scheduler --
-- allocatable nvidia.com/gpu above zero (the device plugin), or GPU
-- devices in ResourceSlices of the NVIDIA DRA driver (gpu.nvidia.com) when
-- DRA hands out the GPUs. A cluster without GPU nodes fails: nothing could
-- run on a GPU.
local cluster = require("eidos.validate.cluster")
local kube = require("eidos.validate.kube")

return {
  phase = "conformance",
  always = true,
  order = 10,
  description = "GPUs are advertised as allocatable on every GPU node (nvidia.com/gpu, or DRA ResourceSlices)",
  remediation = "Check the device plugin (or DRA kubelet plugin) pod on the node: kubectl -n gpu-operator get pods -o wide.",
  run = function(ctx)
    local nodes, dra = kube.advertised(ctx.cluster)
    if #nodes == 0 then
      return ctx:fail({ expected = "at least one GPU node", actual = "none",
        reason = "no GPU node: no node is labelled nvidia.com/gpu.present=true (GPU Operator / NFD) or has nvidia.com/gpu capacity" })
    end
    for _, n in ipairs(nodes) do
      local dp, d = kube.gpus(n, "allocatable"), dra[n.metadata.name] or 0
      local want = string.format("node %s: allocatable %s > 0", n.metadata.name, kube.GPU)
      if dp > 0 or d > 0 then
        ctx:pass({ component = n.metadata.name, evidence = { cluster.ref(n) }, expected = want,
          actual = dp > 0 and string.format("node %s: %d allocatable", n.metadata.name, dp)
            or string.format("node %s: %d GPUs in DRA ResourceSlices", n.metadata.name, d) })
      else
        ctx:fail({ component = n.metadata.name, evidence = { cluster.ref(n) }, expected = want,
          actual = string.format("node %s: 0 allocatable (capacity %d), no DRA GPU devices", n.metadata.name,
            kube.gpus(n, "capacity")),
          reason = string.format("GPU node %s advertises no allocatable GPU", n.metadata.name) })
      end
    end
  end,
}
