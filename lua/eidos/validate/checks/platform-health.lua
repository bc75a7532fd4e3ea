-- platform-health (upstream's catalog name): every component of the recipe
-- runs -- all its Deployments, DaemonSets and StatefulSets are ready (the
-- attribution of workloads-ready). One result for the platform, naming the
-- components that are not.
local kube = require("eidos.validate.kube")

return {
  phase = "conformance",
  order = 71,
  description = "every component's workloads are ready",
  remediation = "validate --phase deployment names each workload that is not ready.",
  run = function(ctx)
    local comps = ctx:components()
    local bad, n = {}, 0
    for _, c in ipairs(comps) do
      for _, w in ipairs(kube.component_workloads(ctx.cluster, comps, c)) do
        n = n + 1
        if not kube.ready(w) then bad[#bad + 1] = string.format("%s (%s %s)", c.name, w.kind, w.metadata.name) end
      end
    end
    if #bad == 0 then
      return ctx:pass({ expected = "every workload ready", actual = string.format("%d workloads of %d components ready",
        n, #comps) })
    end
    ctx:fail({ expected = "every workload ready", actual = string.format("%d of %d not ready", #bad, n),
      reason = "not ready: " .. table.concat(bad, ", ") })
  end,
}
