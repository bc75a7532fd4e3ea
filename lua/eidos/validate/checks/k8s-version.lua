-- k8s-version: the live API server's version (GET /version) meets the
-- recipe's constraint K8s.server.version, by the same engine as readiness
-- (which reads the version from a snapshot instead).
local kube = require("eidos.validate.kube")

local NAME = "K8s.server.version"

return {
  phase = "conformance",
  always = true,
  order = 60,
  description = "the API server's version meets the recipe's constraint " .. NAME,
  remediation = "Upgrade the cluster's Kubernetes control plane to a supported version.",
  run = function(ctx)
    local con
    for _, c in ipairs(type(ctx.recipe.constraints) == "table" and ctx.recipe.constraints or {}) do
      if type(c) == "table" and c.name == NAME then con = c end
    end
    if not con then return ctx:skip({ reason = "the recipe has no constraint " .. NAME }) end
    local v = ctx.cluster:version()
    local actual = tostring(v.gitVersion)
    local ev = { { apiVersion = "version", kind = "Version", name = "version" } }
    local ok, why = kube.holds(con.value, actual, NAME)
    if ok then return ctx:pass({ evidence = ev, expected = tostring(con.value), actual = actual }) end
    ctx:fail({ evidence = ev, expected = tostring(con.value), actual = actual, reason = why,
      remediation = con.remediation })
  end,
}
