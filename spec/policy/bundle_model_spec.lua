-- eidos.bundle: the component model built from a RecipeResult and a tiny
-- in-memory library -- deployment order, enable switches, overrides in
-- order, dependencies, manifests rendered at bundle time, names that
-- cannot escape the output, and the deployers' files.
local bundle = require("eidos.bundle")
local memory_library = require("memory_library")
local overrides = require("eidos.bundle.overrides")
local yaml = require("eidos.core.yaml")

local REGISTRY = [[
components:
  - name: alpha
    valueOverrideKeys: [a]
    helm: {defaultRepository: "https://charts.example.com", defaultChart: "repo/alpha-chart", defaultVersion: "1.0.0", defaultNamespace: alpha-ns}
    nodeScheduling:
      system: {nodeSelectorPaths: [nodeSelector], tolerationPaths: [tolerations]}
  - name: beta
    helm: {defaultRepository: "oci://ghcr.io/example", defaultChart: beta, defaultVersion: v2.0.0, defaultNamespace: beta}
  - name: gamma
    helm: {defaultRepository: "", defaultNamespace: gamma}
]]

local function lib(extra)
  local files = {
    ["registry.yaml"] = REGISTRY,
    ["components/alpha/values.yaml"] = "image: {tag: v1}\nlist: [1, 2]\nenabled: true\n",
    ["components/beta/values.yaml"] = "replicas: 1\n",
    ["components/gamma/values.yaml"] = "greeting: hello\n",
    ["components/gamma/manifests/cm.yaml"] =
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: g\n  namespace: {{ .Release.Namespace }}\n' ..
      'data:\n  greeting: {{ index .Values "gamma" "greeting" | quote }}\n  alpha: {{ (index .Values "alpha").image.tag }}\n',
    ["components/gamma/manifests/empty.yaml"] = "{{- if false }}\nkind: X\n{{- end }}\n# only a comment\n",
  }
  for k, v in pairs(extra or {}) do files[k] = v end
  return memory_library.from_reader(function(rel) return files[rel], "mem:" .. rel end)
end

local function recipe(mod)
  local r = yaml.load([[
kind: RecipeResult
apiVersion: eidos.nvidia.com/v1alpha1
metadata: {version: 1.2.3}
criteria: {service: eks, accelerator: h100, intent: training, os: any, platform: any}
componentRefs:
  - {name: alpha, type: Helm, source: "https://charts.example.com", chart: alpha-chart, version: 1.0.0, namespace: alpha-ns,
     valuesFile: components/alpha/values.yaml}
  - {name: beta, type: Helm, source: "oci://ghcr.io/example", chart: beta, version: v2.0.0, namespace: beta,
     valuesFile: components/beta/values.yaml, dependencyRefs: [alpha]}
  - {name: gamma, type: Helm, source: "", namespace: gamma, valuesFile: components/gamma/values.yaml,
     manifestFiles: [components/gamma/manifests/empty.yaml, components/gamma/manifests/cm.yaml]}
deploymentOrder: [alpha, gamma, beta]
]])
  if mod then mod(r) end
  return r
end

local function prepare(r, ops, sched)
  return bundle.prepare(r, { library = lib(), ops = ops or {}, scheduling = sched, version = "0.5.0", origin = "t" })
end

local function names(m)
  local out = {}
  for _, c in ipairs(m.Components) do out[#out + 1] = c.Name end
  return out
end

local function errmsg(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  return e.msg, e.code
end

describe("eidos.bundle model", function()
  it("orders components by deploymentOrder, leftovers after by name", function()
    assert.are.same({ "alpha", "gamma", "beta" }, names(prepare(recipe())))
    local m = prepare(recipe(function(r) r.deploymentOrder = { "beta" } end))
    assert.are.same({ "beta", "alpha", "gamma" }, names(m))
    assert.are.same({ 0, 1, 2 }, { m.Components[1].Wave, m.Components[2].Wave, m.Components[3].Wave })
  end)

  it("derives chart facts, an alias when the chart name differs, OCI", function()
    local m = prepare(recipe())
    local a, g, b = m.Components[1], m.Components[2], m.Components[3]
    assert.are.equal("alpha-chart", a.Chart)
    assert.are.equal("alpha", a.Alias)
    assert.is_nil(b.Alias)
    assert.is_true(b.IsOCI)
    assert.are.equal("ghcr.io/example", b.OCIHost)
    assert.is_false(g.HasChart)
    assert.are.equal("eidos-eks-h100-training", m.Chart.Name)
    assert.are.equal("0.5.0", m.Chart.Version)
    assert.are.equal("1.2.3", m.Chart.AppVersion)
  end)

  it("keeps the component's own 'enabled' value out of its values", function()
    local m = prepare(recipe())
    assert.is_nil(m.Components[1].Values.enabled)
    assert.are.equal("v1", m.Components[1].Values.image.tag)
  end)

  it("records dependencies and which components must be waited for", function()
    local m = prepare(recipe())
    assert.are.same({ "alpha" }, { table.unpack(m.Components[3].DependsOn) })
    assert.is_true(m.Components[1].Wait)
    assert.is_false(m.Components[2].Wait)
  end)

  it("renders manifests at bundle time and drops empty ones", function()
    local g = prepare(recipe()).Components[2]
    assert.are.equal(1, #g.Manifests)
    assert.are.equal("cm.yaml", g.Manifests[1].Name)
    assert.matches("namespace: gamma\n", g.Manifests[1].Text, 1, true)
    assert.matches('greeting: "hello"\n', g.Manifests[1].Text, 1, true)
    assert.matches("alpha: v1\n", g.Manifests[1].Text, 1, true)
  end)

  describe("overrides", function()
    it("apply in order, by name or by valueOverrideKey", function()
      local ops = { overrides.parse_set("alpha:image.tag=v2"), overrides.parse_set("a:image.tag=v3"),
                    overrides.parse_set("beta:replicas=3") }
      local m = prepare(recipe(), ops)
      assert.are.equal("v3", m.Components[1].Values.image.tag)
      assert.are.equal(3, m.byname.beta.Values.replicas)
    end)

    it("--set C:enabled=false drops a component; true brings a recipe-disabled one back", function()
      local m = prepare(recipe(), { overrides.parse_set("beta:enabled=false") })
      assert.are.same({ "alpha", "gamma" }, names(m))
      local r = recipe(function(x) x.componentRefs[1].overrides = { enabled = false } end)
      assert.are.same({ "gamma", "beta" }, names(prepare(r)))
      assert.are.same({ "alpha", "gamma", "beta" }, names(prepare(r, { overrides.parse_set("alpha:enabled=true") })))
      -- the last switch wins
      local ops = { overrides.parse_set("beta:enabled=false"), overrides.parse_set("beta:enabled=true") }
      assert.are.same({ "alpha", "gamma", "beta" }, names(prepare(recipe(), ops)))
    end)

    it("drops the dependencies on a dropped component", function()
      local m = prepare(recipe(), { overrides.parse_set("alpha:enabled=false") })
      assert.are.same({}, { table.unpack(m.byname.beta.DependsOn) })
    end)

    it("rejects an unknown component, listing the known ones", function()
      local msg, code = errmsg(prepare, recipe(), { overrides.parse_set("delta:x=1") })
      assert.are.equal("invalid", code)
      assert.matches('unknown component "delta" (components of this recipe: alpha, beta, gamma)', msg, 1, true)
    end)

    it("rejects an override that cannot take effect on a disabled component", function()
      local msg = errmsg(prepare, recipe(), { overrides.parse_set("beta:enabled=false"), overrides.parse_set("beta:x=1") })
      assert.matches("cannot take effect: component beta is disabled", msg, 1, true)
    end)

    it("rejects a non-boolean enabled", function()
      local msg = errmsg(prepare, recipe(), { overrides.parse_set("beta:enabled=maybe") })
      assert.matches("beta.enabled must be true or false", msg, 1, true)
    end)

    it("rejects dropping every component", function()
      local ops = {}
      for _, n in ipairs({ "alpha", "beta", "gamma" }) do ops[#ops + 1] = overrides.parse_set(n .. ":enabled=false") end
      assert.matches("no enabled components", errmsg(prepare, recipe(), ops), 1, true)
    end)

    it("scheduling flags win over --set at the same path", function()
      local sched = overrides.parse_scheduling({ ["system-node-selector"] = { "role=system" } })
      local m = prepare(recipe(), { overrides.parse_set("alpha:nodeSelector.x=y") }, sched)
      assert.are.same({ role = "system" }, m.Components[1].Values.nodeSelector)
    end)
  end)

  describe("refuses unsafe or unusable input", function()
    local cases = {
      { "a component name with a path separator", function(r) r.componentRefs[1].name = "../alpha" end, "component name" },
      { "an upper-case component name", function(r) r.componentRefs[1].name = "Alpha" end, "component name" },
      { "a duplicate component", function(r) r.componentRefs[2].name = "alpha" end, "listed twice" },
      { "a bad namespace", function(r) r.componentRefs[1].namespace = "a/b" end, "not a DNS label" },
      { "a manifest file name starting with a dot", function(r)
          r.componentRefs[3].manifestFiles = { "components/gamma/manifests/.hidden.yaml" } end, "unusable file name" },
      { "a manifest that is not YAML", function(r)
          r.componentRefs[3].manifestFiles = { "components/gamma/manifests/x.sh" } end, "not a .yaml" },
      { "another kind of document", function(r) r.kind = "Snapshot" end, "expected a RecipeResult" },
      { "no components", function(r) r.componentRefs = {} end, "no componentRefs" },
      { "a Kustomize component", function(r) r.componentRefs[1].type = "Kustomize" end, "accepted: Helm" },
    }
    for _, c in ipairs(cases) do
      it(c[1], function()
        local msg, code = errmsg(prepare, recipe(c[2]))
        assert.are.equal("invalid", code)
        assert.matches(c[3], msg, 1, true)
      end)
    end
  end)

  describe("chart naming", function()
    it("uses the criteria that are set", function()
      assert.are.equal("eidos-stack", bundle.chart_name({ service = "any" }))
      assert.are.equal("eidos-gke-cos", bundle.chart_name({ service = "gke", os = "cos", accelerator = "any" }))
    end)

    it("keeps the chart version SemVer 2", function()
      assert.are.equal("1.2.3", bundle.chart_version("v1.2.3"))
      assert.are.equal("1.2.3-rc.1", bundle.chart_version("1.2.3-rc.1"))
      assert.are.equal("0.0.0-dev", bundle.chart_version("dev"))
      assert.are.equal("0.0.0-1.2-dirty", bundle.chart_version("1.2-dirty"))
    end)
  end)

  describe("deployers", function()
    local function files_of(deployer, repo)
      local b = bundle.build(recipe(), { library = lib(), deployer = deployer, version = "0.5.0", repo = repo or { URL = "X", Revision = "HEAD", Path = "" } })
      local t = {}
      for _, f in ipairs(b.files) do t[f.path] = f end
      return t
    end

    it("helm: guards manifests with the component switch and escapes braces", function()
      local r = recipe(function(x)
        x.componentRefs[3].manifestFiles = { "components/gamma/manifests/alert.yaml" }
      end)
      local l = lib({ ["components/gamma/manifests/alert.yaml"] = 'kind: X\nsummary: \'{{ "{{" }} $labels.x }}\'\n' })
      local b = bundle.build(r, { library = l, deployer = "helm", version = "0.5.0" })
      local t = {}
      for _, f in ipairs(b.files) do t[f.path] = f.data end
      local text = t["templates/gamma/alert.yaml"]
      assert.are.equal('# {{- if (index .Values "gamma").enabled }}\nkind: X\n' ..
        "summary: '{{`{{`}} $labels.x }}'\n# {{- end }}\n", text)
      -- rendered the way Helm would, it gives back the manifest, or nothing
      local template = require("eidos.template")
      assert.are.equal("#\nkind: X\nsummary: '{{ $labels.x }}'\n#\n",
        template.render(text, "h", { Values = { gamma = { enabled = true } } }))
      assert.are.equal("#\n", template.render(text, "h", { Values = { gamma = { enabled = false } } }))
      assert.is_truthy(yaml.load(text))
    end)

    it("helm: executable scripts, recipe.yaml, no other paths", function()
      local t = files_of("helm")
      assert.are.equal("0755", t["deploy.sh"].mode)
      assert.are.equal("0755", t["undeploy.sh"].mode)
      for _, p in ipairs({ "Chart.yaml", "values.yaml", "README.md", "recipe.yaml", "templates/gamma/cm.yaml" }) do
        assert.is_truthy(t[p], p)
      end
    end)

    it("argocd and flux write one file set per component", function()
      local a = files_of("argocd")
      for _, p in ipairs({ "app-of-apps.yaml", "applications/alpha.yaml", "applications/gamma.yaml",
                           "manifests/gamma/cm.yaml", "README.md", "recipe.yaml" }) do
        assert.is_truthy(a[p], p)
      end
      local f = files_of("flux")
      for _, p in ipairs({ "kustomization.yaml", "alpha/source.yaml", "alpha/helmrelease.yaml", "beta/source.yaml",
                           "gamma/manifests/cm.yaml", "gamma/manifests.yaml", "README.md" }) do
        assert.is_truthy(f[p], p)
      end
      assert.is_nil(f["gamma/helmrelease.yaml"])
      assert.matches("kind: OCIRepository", f["beta/source.yaml"].data, 1, true)
      assert.matches("dependsOn:\n  - name: alpha\n", f["beta/helmrelease.yaml"].data, 1, true)
    end)
  end)
end)
