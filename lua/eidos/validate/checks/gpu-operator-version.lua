-- gpu-operator-version (upstream's catalog name): the running GPU Operator
-- version -- the image tag of its Deployment's operator container, else
-- the Helm release's chart version -- meets the phase constraint
-- Deployment.gpu-operator.version (e.g. ">= v24.6.0"), evaluated by the
-- same engine as readiness constraints.
local cluster = require("eidos.validate.cluster")
local kube = require("eidos.validate.kube")

local NAME = "Deployment.gpu-operator.version"

local function image_tag(dep)
  local spec = type(dep.spec) == "table" and type(dep.spec.template) == "table" and dep.spec.template.spec or {}
  for _, cont in ipairs(type(spec) == "table" and type(spec.containers) == "table" and spec.containers or {}) do
    local img = type(cont) == "table" and cont.image
    if type(img) == "string" and img:find("gpu%-operator") then
      return (img:gsub("@.*$", "")):match(":([^:/]+)$")
    end
  end
end

return {
  phase = "deployment",
  order = 51,
  description = "the running GPU Operator version meets the constraint " .. NAME,
  remediation = "Upgrade the GPU Operator to a version the recipe accepts (deploy the bundle again).",
  run = function(ctx)
    local c = ctx:needs("gpu-operator")
    if not c then return end
    local con = ctx:constraint(NAME)
    if not con then
      return ctx:skip({ component = c.name, reason = "the recipe's validation.deployment has no constraint " .. NAME })
    end
    local dep = ctx.cluster:get("apps/v1", "deployments", c.namespace, "gpu-operator")
    local version, ev = dep and image_tag(dep), dep and { cluster.ref(dep) } or {}
    if not version and c.release then
      local st = ctx:release(c)
      if st.rec then
        version = st.match and st.match.dep and st.match.dep.version or st.rel.chart.metadata.version
        ev[#ev + 1] = cluster.ref(st.rec.obj)
      end
    end
    if not version then
      return ctx:fail({ component = c.name, evidence = ev, expected = tostring(con.value), actual = "not found",
        reason = "no running GPU Operator found (no Deployment gpu-operator with an image tag, no Helm release)" })
    end
    local ok, why = kube.holds(con.value, version, NAME)
    if ok then return ctx:pass({ component = c.name, evidence = ev, expected = tostring(con.value), actual = version }) end
    ctx:fail({ component = c.name, evidence = ev, expected = tostring(con.value), actual = version,
      reason = why, remediation = con.remediation })
  end,
}
