-- gitops-sync: for a bundle made with the argocd or flux deployer, each
-- component's Argo CD Application is Synced and Healthy at the bundle's
-- chart version, or its Flux HelmRelease is Ready at that version.
local cluster = require("eidos.validate.cluster")

local function app_source(app)
  local spec = type(app.spec) == "table" and app.spec or {}
  local list = type(spec.sources) == "table" and spec.sources or { spec.source }
  for _, s in ipairs(list) do if type(s) == "table" and s.chart then return s end end
end

-- absent(ctx, c, kind, at, file): the object is missing
local function absent(ctx, c, kind, at, file)
  return ctx:fail({ component = c.name, expected = kind .. " " .. at.namespace .. "/" .. at.name, actual = "absent",
    reason = string.format("no %s %s in namespace %s (apply the bundle's %s)", kind, at.name, at.namespace, file) })
end

-- other_version(ctx, c, ev, what, got) -> true after a failure when the
-- chart version got is not the bundle's
local function other_version(ctx, c, ev, what, got)
  if not got or not c.version or require("eidos.validate.helm").same_version(got, c.version) then return false end
  ctx:fail({ component = c.name, evidence = ev, expected = "chart " .. tostring(c.chart) .. " " .. c.version,
    actual = "chart " .. tostring(c.chart) .. " " .. tostring(got),
    reason = string.format("%s runs chart version %s, the bundle says %s", what, tostring(got), c.version) })
  return true
end

local function argocd(ctx, c)
  local app = ctx.cluster:get("argoproj.io/v1alpha1", "applications", c.app.namespace, c.app.name)
  if not app then return absent(ctx, c, "Argo CD Application", c.app, "app-of-apps.yaml") end
  local ev = { cluster.ref(app) }
  local st = type(app.status) == "table" and app.status or {}
  local sync = type(st.sync) == "table" and st.sync.status or "Unknown"
  local health = type(st.health) == "table" and st.health.status or "Unknown"
  local src = app_source(app)
  if other_version(ctx, c, ev, "Application " .. c.app.name, src and src.targetRevision) then return end
  if sync ~= "Synced" or health ~= "Healthy" then
    local msg = type(st.health) == "table" and st.health.message
    return ctx:fail({ component = c.name, evidence = ev, expected = "Synced, Healthy",
      actual = sync .. ", " .. health,
      reason = string.format("Application %s is %s and %s%s", c.app.name, sync, health, msg and (": " .. msg) or "") })
  end
  ctx:pass({ component = c.name, evidence = ev, expected = "Synced, Healthy", actual = sync .. ", " .. health })
end

local function flux(ctx, c)
  local hr = ctx.cluster:get("helm.toolkit.fluxcd.io/v2", "helmreleases", c.helmrelease.namespace, c.helmrelease.name)
  if not hr then return absent(ctx, c, "Flux HelmRelease", c.helmrelease, "kustomization.yaml") end
  local ev = { cluster.ref(hr) }
  local ready = require("eidos.validate.kube").condition(hr, "Ready")
  if not ready or ready.status ~= "True" then
    return ctx:fail({ component = c.name, evidence = ev, expected = "Ready=True",
      actual = ready and string.format("Ready=%s (%s)", tostring(ready.status), tostring(ready.reason)) or "no Ready condition",
      reason = string.format("HelmRelease %s is not ready%s", c.helmrelease.name,
        ready and ready.message and (": " .. ready.message) or "") })
  end
  local st = type(hr.status) == "table" and hr.status or {}
  local hist = type(st.history) == "table" and st.history[1]
  local got = type(hist) == "table" and hist.chartVersion or st.lastAttemptedRevision
  if other_version(ctx, c, ev, "HelmRelease " .. c.helmrelease.name, got) then return end
  ctx:pass({ component = c.name, evidence = ev, expected = "Ready=True", actual = "Ready=True"
    .. (got and (", chart version " .. tostring(got)) or "") })
end

return {
  phase = "deployment",
  always = true,
  order = 15,
  description = "Argo CD Applications are Synced and Healthy, Flux HelmReleases are Ready (argocd and flux bundles)",
  remediation = "Look at the Application (argocd app get) or HelmRelease (flux get helmreleases) for the reason.",
  run = function(ctx)
    local list = ctx:components(function(c) return c.app or c.helmrelease end)
    if #list == 0 then
      return ctx:skip({ reason = string.format("the deployer is %s: no Argo CD Application or Flux HelmRelease to check",
        tostring(ctx:model().deployer)) })
    end
    ctx:each(list, function(c)
      if c.app then return argocd(ctx, c) end
      return flux(ctx, c)
    end)
  end,
}
