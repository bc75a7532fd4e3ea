-- dra-support: when the recipe deploys the NVIDIA DRA driver
-- (nvidia-dra-driver-gpu), the cluster serves the Dynamic Resource
-- Allocation API (resource.k8s.io v1, v1beta2 or v1beta1) and the driver's
-- DeviceClasses (*.nvidia.com) exist. Read-only (upstream's check of the
-- same name also allocates a GPU through a ResourceClaim).
local cluster = require("eidos.validate.cluster")
local kube = require("eidos.validate.kube")

return {
  phase = "conformance",
  always = true,
  order = 20,
  description = "the DRA API (resource.k8s.io) is served and the NVIDIA DRA driver's DeviceClasses exist, when the recipe enables the driver",
  remediation = "DRA needs Kubernetes 1.32+ with the DynamicResourceAllocation feature (GA in 1.34); deploy nvidia-dra-driver-gpu again.",
  run = function(ctx)
    local c = ctx:needs("nvidia-dra-driver-gpu")
    if not c then return end
    local gv = kube.dra_version(ctx.cluster)
    if not gv then
      return ctx:fail({ component = c.name, expected = "resource.k8s.io served (" .. table.concat(kube.DRA_VERSIONS, ", ") .. ")",
        actual = "not served", reason = "the API server does not serve resource.k8s.io; the DRA driver cannot work" })
    end
    local classes, ev = {}, {}
    for _, dc in ipairs(ctx.cluster:list(gv, "deviceclasses") or {}) do
      if tostring(dc.metadata.name):match("%.nvidia%.com$") then
        classes[#classes + 1] = dc.metadata.name
        ev[#ev + 1] = cluster.ref(dc)
      end
    end
    if #classes == 0 then
      return ctx:fail({ component = c.name, expected = "DeviceClasses *.nvidia.com", actual = gv .. " served, no NVIDIA DeviceClass",
        reason = "resource.k8s.io is served but the NVIDIA DRA driver has created no DeviceClass" })
    end
    ctx:pass({ component = c.name, evidence = ev, expected = "resource.k8s.io served, NVIDIA DeviceClasses",
      actual = gv .. "; " .. table.concat(classes, ", ") })
  end,
}
