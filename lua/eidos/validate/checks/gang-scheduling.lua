-- gang-scheduling: when the recipe deploys a gang scheduler (the KAI
-- Scheduler), all-or-nothing scheduling is available: its PodGroup and
-- Queue CRDs are established and its workloads are ready. Read-only
-- (upstream's check of the same name also schedules a pod group).
local cluster = require("eidos.validate.cluster")
local kube = require("eidos.validate.kube")

local SCHEDULERS = {
  ["kai-scheduler"] = { "podgroups.scheduling.run.ai", "queues.scheduling.run.ai" },
}

return {
  phase = "conformance",
  always = true,
  order = 30,
  description = "gang scheduling is available (the gang scheduler's CRDs established, its workloads ready) when the recipe has one",
  remediation = "Deploy the gang scheduler again; kubectl get crd and its namespace's pods say what is missing.",
  run = function(ctx)
    local c, crds
    for name, l in pairs(SCHEDULERS) do
      if ctx:component(name) then c, crds = ctx:component(name), l end
    end
    if not c then return ctx:skip({ reason = "the recipe has no gang scheduler (kai-scheduler)" }) end
    local ev = {}
    for _, name in ipairs(crds) do
      local crd = ctx.cluster:get("apiextensions.k8s.io/v1", "customresourcedefinitions", nil, name)
      if not crd then
        return ctx:fail({ component = c.name, expected = "CustomResourceDefinition " .. name .. " established",
          actual = "absent", reason = "gang scheduling needs " .. name .. ", which does not exist" })
      end
      local ok, why = kube.established(crd)
      if not ok then
        return ctx:fail({ component = c.name, evidence = { cluster.ref(crd) }, expected = name .. " established",
          actual = why, reason = name .. " is not established: " .. why })
      end
      ev[#ev + 1] = cluster.ref(crd)
    end
    local ws = kube.component_workloads(ctx.cluster, ctx:components(), c)
    if #ws == 0 then
      return ctx:fail({ component = c.name, evidence = ev, expected = "the scheduler's workloads ready",
        actual = "no workload in " .. c.namespace, reason = "the gang scheduler runs no workload in namespace " .. c.namespace })
    end
    for _, w in ipairs(ws) do
      local ok, want, got = kube.ready(w)
      if not ok then
        return ctx:fail({ component = c.name, evidence = { cluster.ref(w) }, expected = want, actual = got,
          reason = string.format("%s %s of the gang scheduler is not ready", w.kind, w.metadata.name) })
      end
      ev[#ev + 1] = cluster.ref(w)
    end
    ctx:pass({ component = c.name, evidence = ev, expected = "CRDs established, workloads ready",
      actual = string.format("%d CRDs established, %d workloads ready", #crds, #ws) })
  end,
}
