-- pod-autoscaling (upstream's catalog name), read-only: pods can scale on
-- GPU metrics -- the custom metrics API that prometheus-adapter serves
-- (APIService v1beta1.custom.metrics.k8s.io) is Available. Upstream's check
-- also scales a deployment.
local cluster = require("eidos.validate.cluster")
local kube = require("eidos.validate.kube")

local API = "v1beta1.custom.metrics.k8s.io"

return {
  phase = "conformance",
  order = 72,
  description = "the custom metrics API (" .. API .. ", prometheus-adapter) is available",
  remediation = "kubectl get apiservice " .. API .. " -o yaml says why it is not available.",
  run = function(ctx)
    local c = ctx:needs("prometheus-adapter")
    if not c then return end
    local s = ctx.cluster:get("apiregistration.k8s.io/v1", "apiservices", nil, API)
    if not s then
      return ctx:fail({ component = c.name, expected = "APIService " .. API .. " Available", actual = "absent",
        reason = "APIService " .. API .. " does not exist" })
    end
    local a = kube.condition(s, "Available")
    if a and a.status == "True" then
      return ctx:pass({ component = c.name, evidence = { cluster.ref(s) }, expected = "Available", actual = "Available" })
    end
    ctx:fail({ component = c.name, evidence = { cluster.ref(s) }, expected = "Available",
      actual = a and ("Available=" .. tostring(a.status) .. " (" .. tostring(a.reason) .. ")") or "no Available condition",
      reason = "APIService " .. API .. " is not available" .. (a and a.message and (": " .. a.message) or "") })
  end,
}
