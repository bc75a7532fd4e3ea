-- helm-release: each component with a chart runs as a Helm release named
-- after it in its namespace (latest revision, Secret or ConfigMap storage),
-- status deployed, with the recipe's chart and version: installed directly
-- (helm-components, Flux, by hand) or as a dependency of eidos's umbrella
-- chart that the release's values enable (the helm bundle's deploy.sh).
-- Components an Argo CD bundle deployed have no release (gitops-sync).
local cluster = require("eidos.validate.cluster")

return {
  phase = "deployment",
  always = true,
  order = 10,
  description = "each component's Helm release exists, is deployed, and runs the recipe's chart and version",
  remediation = "Deploy the bundle again (./deploy.sh, or helm upgrade --install with the bundle's values).",
  run = function(ctx)
    ctx:each(ctx:components(function(c) return c.has_chart end), function(c)
      if not c.release then
        return ctx:skip({ component = c.name, reason = "deployed by Argo CD: no Helm release (see gitops-sync)" })
      end
      local st = ctx:release(c)
      local want = string.format("release %s in %s: chart %s %s, deployed", c.release.name, c.release.namespace,
        tostring(c.chart), tostring(c.version))
      if not st.rec then
        return ctx:fail({ component = c.name, expected = want, actual = "no release",
          reason = string.format("no Helm release %s in namespace %s (no Secret or ConfigMap labelled owner=helm,name=%s)",
            c.release.name, c.release.namespace, c.release.name) })
      end
      local ev = { cluster.ref(st.rec.obj) }
      local status = st.rel.info.status or st.rec.status or "unknown"
      if status ~= "deployed" then
        return ctx:fail({ component = c.name, evidence = ev, expected = "status deployed",
          actual = string.format("status %s (revision %d)", status, st.rec.revision),
          reason = string.format("the latest revision (%d) of release %s is %s%s", st.rec.revision, c.release.name,
            status, st.rel.info.description and (": " .. st.rel.info.description) or "") })
      end
      local m = st.match
      if not m.ok then
        return ctx:fail({ component = c.name, evidence = ev, expected = m.expected, actual = m.actual, reason = m.why })
      end
      ctx:pass({ component = c.name, evidence = ev, expected = m.expected,
        actual = m.actual .. string.format(", revision %d deployed", st.rec.revision) })
    end)
  end,
}
