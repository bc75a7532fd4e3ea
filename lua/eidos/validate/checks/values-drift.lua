-- values-drift: the values each component runs with are the bundle's (or,
-- without --bundle, the recipe's hydrated values), key by key. A chart
-- installed directly runs with its chart's values coalesced with the
-- values given at install, so both sides are coalesced over the chart's
-- values; an umbrella release runs with the component's key of the
-- umbrella's values and the given ones. An Argo CD Application's values
-- are its helm.valuesObject. One failed result per key that differs (at
-- most 25 a component), naming the key and both values; values under
-- secret-looking keys are shown as <redacted>.
local cluster = require("eidos.validate.cluster")
local doc = require("eidos.doc")
local helm = require("eidos.validate.helm")
local redact = require("eidos.snapshot.redact")

local MAX = 25
local null = doc.null

local function absent(v) return v == nil or v == null end
local function ismap(v) return type(v) == "table" and v[1] == nil end

local function empty(v) return absent(v) or (type(v) == "table" and next(v) == nil) end

local function equal(a, b)
  if empty(a) and empty(b) then return true end
  if type(a) ~= type(b) then return false end
  if type(a) ~= "table" then return a == b end
  for k, v in pairs(a) do if not equal(v, b[k]) then return false end end
  for k, v in pairs(b) do if a[k] == nil and not absent(v) then return false end end
  return true
end

local function show(v, secret)
  if absent(v) then return "(not set)" end
  if secret then return redact.marker end
  return require("eidos.validate.result").text(v)
end

-- diff(exp, act, path, out, secret): differing leaves (lists compare whole)
local function diff(exp, act, path, out, secret)
  if (ismap(exp) or absent(exp)) and (ismap(act) or absent(act)) and not (absent(exp) and absent(act))
      and not (type(exp) == "table" and next(exp) == nil and absent(act))
      and not (type(act) == "table" and next(act) == nil and absent(exp)) then
    exp, act = absent(exp) and {} or exp, absent(act) and {} or act
    local keys, seen = {}, {}
    for k in pairs(exp) do if not seen[k] then seen[k] = true; keys[#keys + 1] = k end end
    for k in pairs(act) do if not seen[k] then seen[k] = true; keys[#keys + 1] = k end end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do
      diff(exp[k], act[k], path == "" and tostring(k) or (path .. "." .. tostring(k)), out,
        secret or redact.secret_name(tostring(k)))
    end
  elseif not equal(exp, act) then
    out[#out + 1] = { key = path == "" and "." or path, expected = show(exp, secret), actual = show(act, secret) }
  end
end

return {
  phase = "deployment",
  always = true,
  order = 40,
  description = "each component's values are the bundle's (or the recipe's), key by key",
  remediation = "Deploy the bundle again, or regenerate the bundle with the values the cluster should keep (--set).",
  run = function(ctx)
    ctx:each(ctx:components(function(c) return c.has_chart end), function(c)
      local exp, act, ev = c.values or {}
      if c.app then
        local app = ctx.cluster:get("argoproj.io/v1alpha1", "applications", c.app.namespace, c.app.name)
        if not app then return ctx:skip({ component = c.name, reason = "no Application to compare (see gitops-sync)" }) end
        ev = { cluster.ref(app) }
        local spec = type(app.spec) == "table" and app.spec or {}
        for _, s in ipairs(type(spec.sources) == "table" and spec.sources or { spec.source }) do
          if type(s) == "table" and s.chart then
            local h = type(s.helm) == "table" and s.helm or {}
            act = type(h.valuesObject) == "table" and h.valuesObject
              or (type(h.values) == "string" and h.values ~= "" and doc.decode(h.values, "Application " .. c.app.name))
              or {}
          end
        end
        act = act or {}
      else
        local st = ctx:release(c)
        if not st.rec then return ctx:skip({ component = c.name, reason = "no release to compare (see helm-release)" }) end
        if not st.match.shape then return ctx:skip({ component = c.name, reason = "the release runs another chart (see helm-release)" }) end
        ev = { cluster.ref(st.rec.obj) }
        act = helm.values(st.rel, st.match)
        if st.match.shape == "direct" then exp = helm.coalesce(st.rel.chart.values, exp) end
      end
      local out = {}
      diff(exp, act, "", out, false)
      if #out == 0 then
        return ctx:pass({ component = c.name, evidence = ev, expected = "the bundle's values", actual = "the same values" })
      end
      for i, d in ipairs(out) do
        if i > MAX then
          ctx:fail({ component = c.name, evidence = ev, expected = "the bundle's values",
            actual = string.format("%d more keys differ", #out - MAX),
            reason = string.format("%d more keys of %s differ (--evidence-dir keeps the release's values)", #out - MAX, c.name) })
          break
        end
        ctx:fail({ component = c.name, evidence = ev, expected = d.key .. ": " .. d.expected,
          actual = d.key .. ": " .. d.actual,
          reason = string.format("value %s of %s is %s in the cluster, %s in the bundle", d.key, c.name, d.actual, d.expected) })
      end
    end)
  end,
}
