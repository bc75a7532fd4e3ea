-- workloads-ready: the Deployments, DaemonSets and StatefulSets of each
-- component are ready (desired = ready = updated). A workload is the
-- component's when its Helm release or Argo CD application made it, when
-- the component's expected resources name it, or -- in a namespace no
-- other component of the recipe uses (kube-system and default never
-- count) -- when it is anywhere in that namespace (operators create
-- workloads of their own there). One result per workload that is not
-- ready; one passed result per component otherwise.
local cluster = require("eidos.validate.cluster")
local kube = require("eidos.validate.kube")

return {
  phase = "deployment",
  always = true,
  order = 20,
  description = "each component's Deployments, DaemonSets and StatefulSets are ready (desired = ready = updated)",
  remediation = "kubectl describe the workload and its pods for the reason (image pulls, scheduling, crashes).",
  run = function(ctx)
    local comps = ctx:components()
    ctx:each(comps, function(c)
      local ws = kube.component_workloads(ctx.cluster, comps, c)
      if #ws == 0 then
        return ctx:skip({ component = c.name, reason = string.format("no Deployment, DaemonSet or StatefulSet of %s " ..
          "in namespace %s", c.name, c.namespace) })
      end
      local bad, ev = 0, {}
      for _, w in ipairs(ws) do
        ev[#ev + 1] = cluster.ref(w)
        local ok, want, got = kube.ready(w)
        if not ok then
          bad = bad + 1
          ctx:fail({ component = c.name, evidence = { cluster.ref(w) }, expected = want, actual = got,
            reason = string.format("%s %s/%s is not ready: %s", w.kind, c.namespace, w.metadata.name, got) })
        end
      end
      if bad == 0 then
        ctx:pass({ component = c.name, evidence = ev, expected = "every workload ready",
          actual = string.format("%d workload%s ready", #ws, #ws == 1 and "" or "s") })
      end
    end)
  end,
}
