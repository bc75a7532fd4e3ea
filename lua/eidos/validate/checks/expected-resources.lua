-- expected-resources: the resources each component is expected to create
-- exist -- CustomResourceDefinitions established, workloads and other
-- objects present (their readiness is workloads-ready's). The list is the
-- componentRef's expectedResources, else the registry entry's
-- (recipes/registry.yaml); a namespaced resource without a namespace is in
-- the component's. One result per missing resource; one passed result per
-- component otherwise.
local cluster = require("eidos.validate.cluster")
local kube = require("eidos.validate.kube")

return {
  phase = "deployment",
  always = true,
  order = 30,
  description = "the CRDs and objects each component is expected to create exist (CRDs established)",
  remediation = "Deploy the component again; a CRD that is not established is described by kubectl describe crd NAME.",
  run = function(ctx)
    local list = ctx:components(function(c) return #(c.expected_resources or {}) > 0 end)
    if #list == 0 then
      return ctx:skip({ reason = "no component lists expectedResources (componentRefs or recipes/registry.yaml)" })
    end
    ctx:each(list, function(c)
      local bad, ev = 0, {}
      for _, r in ipairs(c.expected_resources) do
        local ns = r.namespace or c.namespace
        local obj = kube.get_kind(ctx.cluster, r.kind, ns, r.name)
        local k = kube.KINDS[r.kind]
        local where = k.namespaced and (ns .. "/") or ""
        if not obj then
          bad = bad + 1
          ctx:fail({ component = c.name, expected = string.format("%s %s%s", r.kind, where, r.name),
            actual = "absent", reason = string.format("%s %s%s does not exist", r.kind, where, r.name) })
        else
          ev[#ev + 1] = cluster.ref(obj)
          if r.kind == "CustomResourceDefinition" then
            local ok, why = kube.established(obj)
            if not ok then
              bad = bad + 1
              ctx:fail({ component = c.name, evidence = { cluster.ref(obj) },
                expected = "CustomResourceDefinition " .. r.name .. " established", actual = why,
                reason = string.format("CustomResourceDefinition %s is not established: %s", r.name, why) })
            end
          end
        end
      end
      if bad == 0 then
        ctx:pass({ component = c.name, evidence = ev, expected = string.format("%d expected resource%s",
          #c.expected_resources, #c.expected_resources == 1 and "" or "s"), actual = "all present" })
      end
    end)
  end,
}
