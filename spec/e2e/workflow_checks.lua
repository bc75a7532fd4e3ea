-- spec/e2e/workflow_checks.lua: the content checks of the end-to-end
-- workflow (tools/e2e), on the artifacts it leaves in OUTDIR: the snapshot
-- ConfigMap, the recipes, the validation results, the bundles of each
-- deployer (directories and extracted archives), verify reports, and the
-- answers of eidosd. Each check raises an error naming the file and what
-- differs. Used two ways:
--   eidos lua spec/e2e/workflow_checks.lua OUTDIR   (tools/e2e: runs them all)
--   require("e2e.workflow_checks").checks           (workflow_spec: one `it` each)
-- Plain Lua over eidos.core.yaml and cjson: no busted, no policy modules.
local yaml = require("eidos.core.yaml")
local cjson = require("cjson")

local M = {}

M.GITVERSION = "v1.32.3-eks-4f2d1a9"          -- tools/e2e starts the test server with it
M.REPO = "https://github.com/acme/gitops.git"
M.DEPLOYERS = { "helm", "argocd", "flux" }

-- ---- helpers -------------------------------------------------------------

local function fail(fmt, ...)
  error(string.format(fmt, ...), 3)
end

local function read(path)
  local f = io.open(path, "rb")
  if not f then fail("missing file %s", path) end
  local t = f:read("a")
  f:close()
  return t
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function load_yaml(path)
  local d, msg = yaml.load(read(path))
  if d == nil then fail("%s: not YAML: %s", path, tostring(msg)) end
  return d
end

local function load_json(path)
  local ok, d = pcall(cjson.decode, read(path))
  if not ok then fail("%s: not JSON: %s", path, tostring(d)) end
  return d
end

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) == "table" then
    local ok, s = pcall(cjson.encode, v)
    if ok then return s end
  end
  return tostring(v)
end

local function eq(expected, actual, what)
  if expected ~= actual then fail("%s: expected %s, got %s", what, show(expected), show(actual)) end
end

local function truthy(v, what, ...)
  if not v then fail(what, ...) end
  return v
end

-- deep equality of plain data (numbers compare by value: 2 == 2.0)
local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function same_list(expected, actual, what)
  if not same(expected, actual) then fail("%s: expected %s, got %s", what, show(expected), show(actual)) end
end

-- every file below dir, relative, sorted (bytewise)
local function files(dir)
  local p = io.popen("cd '" .. dir:gsub("'", "'\\''") .. "' && find . -type f | LC_ALL=C sort")
  local list = {}
  for l in p:lines() do list[#list + 1] = l:sub(3) end
  p:close()
  return list
end

local function index_of(list, v)
  for i, x in ipairs(list) do if x == v then return i end end
end

local function mode(path)
  local p = io.popen("stat -c %a '" .. path:gsub("'", "'\\''") .. "'")
  local m = p:read("l")
  p:close()
  return m
end

-- the top-level keys of a YAML file in written order (comments skipped)
local function top_keys(text)
  local keys = {}
  for line in text:gmatch("[^\n]+") do
    local k = line:match('^"?([%w][%w._/-]*)"?:')
    if k then keys[#keys + 1] = k end
  end
  return keys
end

local function without(t, key)
  local c = {}
  for k, v in pairs(t) do if k ~= key then c[k] = v end end
  return c
end

local function by_name(refs)
  local m = {}
  for _, r in ipairs(refs) do m[r.name] = r end
  return m
end

local function sha256_of(path)
  local p = io.popen("sha256sum '" .. path:gsub("'", "'\\''") .. "'")
  local h = p:read("l"):match("^(%x+)")
  p:close()
  return h
end

-- the recipe every bundle is made from
local function recipe(out)
  if not M._recipe or M._recipe_out ~= out then
    M._recipe, M._recipe_out = load_yaml(out .. "/recipe.yaml"), out
  end
  return M._recipe
end

local function hydrated(out)
  return load_json(out .. "/hydrated.json")
end

-- ---- checks --------------------------------------------------------------

local C = {}
M.checks = C

C[#C + 1] = { "the snapshot ConfigMap holds one Snapshot with the node and the cluster", function(out)
  local cm = load_json(out .. "/snapshot-cm.json")
  eq("ConfigMap", cm.kind, "ConfigMap kind")
  eq("yaml", cm.data.format, "ConfigMap data.format")
  truthy(cm.data.timestamp and cm.data.timestamp:match("^%d%d%d%d%-%d%d%-%d%dT"), "ConfigMap data.timestamp %s", show(cm.data.timestamp))
  eq("eidos", cm.metadata.labels["app.kubernetes.io/name"], "label app.kubernetes.io/name")
  eq("snapshot", cm.metadata.labels["app.kubernetes.io/component"], "label app.kubernetes.io/component")
  local d = truthy(cm.data["snapshot.yaml"], "no snapshot.yaml key in ConfigMap eidos/snap")
  d = truthy(yaml.load(d), "snapshot.yaml of the ConfigMap is not YAML")
  eq("Snapshot", d.kind, "snapshot kind")
  eq("eidos.nvidia.com/v1alpha1", d.apiVersion, "snapshot apiVersion")
  eq("gpu-node-1", d.metadata["source-node"], "snapshot metadata.source-node")
  eq("2026-01-01T00:00:00Z", d.metadata.timestamp, "snapshot metadata.timestamp (SOURCE_DATE_EPOCH)")
  local types, m = {}, {}
  for i, x in ipairs(d.measurements) do
    types[i] = x.type
    m[x.type] = {}
    for _, st in ipairs(x.subtypes or {}) do m[x.type][st.subtype] = st.data end
  end
  same_list({ "K8s", "GPU", "OS", "SystemD", "NodeTopology" }, types, "measurement types")
  eq(M.GITVERSION, m.K8s.server.version, "K8s.server.version (the test server's /version)")
  truthy(m.K8s.image and m.K8s.image["gpu-operator"], "K8s.image has no gpu-operator")
  eq("570.86.15", m.K8s.policy["driver.version"], "K8s.policy driver.version (ClusterPolicy)")
  eq("gpu-node-1", m.K8s.node["source-node"], "K8s.node source-node")
  eq(2, m.GPU.smi["gpu-count"], "GPU.smi.gpu-count (fake nvidia-smi)")
  eq("NVIDIA A100-SXM4-80GB", m.GPU.smi["gpu.model"], "GPU.smi.gpu.model")
  truthy(m.GPU["gpu-1"], "no GPU subtype gpu-1")
  eq("ubuntu", m.OS.release.ID, "OS.release.ID")
  eq("24.04", m.OS.release.VERSION_ID, "OS.release.VERSION_ID")
end }

C[#C + 1] = { "the recipe's criteria are derived from the snapshot, and said where from", function(out)
  local r = recipe(out)
  eq("RecipeResult", r.kind, "recipe kind")
  eq("eidos.nvidia.com/v1alpha1", r.apiVersion, "recipe apiVersion")
  same_list({ service = "eks", accelerator = "a100", intent = "training", os = "ubuntu", platform = "any" },
    r.criteria, "recipe criteria")
  local log = read(out .. "/recipe.log")
  for _, l in ipairs({
    'snapshot: service=eks (from K8s.server.version "' .. M.GITVERSION .. '")',
    'snapshot: accelerator=a100 (from GPU.smi.gpu.model "NVIDIA A100-SXM4-80GB")',
    'snapshot: os=ubuntu (from OS.release.ID "ubuntu")' }) do
    truthy(log:find(l, 1, true), "recipe log lacks %s; it is:\n%s", show(l), log)
  end
  local applied = r.metadata.appliedOverlays
  eq("base", applied[1], "first applied overlay")
  eq("a100-eks-ubuntu-training", applied[#applied], "most specific applied overlay")
  same_list({}, r.metadata.excludedOverlays or {}, "excludedOverlays (every overlay's constraints pass)")
end }

C[#C + 1] = { "the recipe is consistent: sorted refs, full deployment order, dependencies first", function(out)
  local r = recipe(out)
  local refs, order = r.componentRefs, r.deploymentOrder
  truthy(#refs >= 5, "only %d componentRefs", #refs)
  eq(#refs, #order, "deploymentOrder length")
  for i, c in ipairs(refs) do
    if i > 1 then truthy(refs[i - 1].name < c.name, "componentRefs not sorted: %s before %s", refs[i - 1].name, c.name) end
    eq("Helm", c.type, c.name .. " type")
    truthy(c.source and c.version and c.namespace and c.chart, "%s lacks source/version/namespace/chart", c.name)
    local at = truthy(index_of(order, c.name), "%s is not in deploymentOrder", c.name)
    for _, dep in ipairs(c.dependencyRefs or {}) do
      local dat = truthy(index_of(order, dep), "%s depends on %s, not in deploymentOrder", c.name, dep)
      truthy(dat < at, "%s (position %d) is deployed before its dependency %s (position %d)", c.name, at, dep, dat)
    end
  end
  local names = {}
  for i, c in ipairs(r.constraints) do
    names[i] = c.name
    if i > 1 then truthy(r.constraints[i - 1].name < c.name, "constraints not sorted by name") end
  end
  truthy(index_of(names, "K8s.server.version"), "no K8s.server.version constraint")
  local gpuop = by_name(refs)["gpu-operator"]
  truthy(gpuop, "no gpu-operator component")
  same_list({ "cert-manager", "kube-prometheus-stack" }, gpuop.dependencyRefs, "gpu-operator dependencyRefs")
end }

C[#C + 1] = { "snapshot mode gives the same recipe as the explicit criteria", function(out)
  local a, b = recipe(out), load_yaml(out .. "/recipe-criteria.yaml")
  same_list(b.criteria, a.criteria, "criteria")
  same_list(b.metadata.appliedOverlays, a.metadata.appliedOverlays, "appliedOverlays")
  same_list(b.componentRefs, a.componentRefs, "componentRefs")
  same_list(b.deploymentOrder, a.deploymentOrder, "deploymentOrder")
  same_list(b.constraints, a.constraints, "constraints")
end }

C[#C + 1] = { "validate: every recipe constraint passes against the snapshot", function(out)
  local r, v = recipe(out), load_json(out .. "/validate.json")
  eq("ValidationResult", v.kind, "validation kind")
  eq("pass", v.status, "validation status")
  eq("recipe.yaml", v.metadata.recipe, "metadata.recipe")
  eq("cm://eidos/snap", v.metadata.snapshot, "metadata.snapshot")
  eq(#r.constraints, v.summary.total, "summary.total")
  eq(#r.constraints, v.summary.passed, "summary.passed")
  eq(0, v.summary.failed + v.summary.skipped, "failed + skipped")
  for i, c in ipairs(r.constraints) do
    local res = v.results[i]
    eq(c.name, res.name, "result " .. i .. " name (recipe order)")
    eq(c.value, res.expression, c.name .. " expression")
    eq("passed", res.status, c.name .. " status")
  end
  local actual = {}
  for _, res in ipairs(v.results) do actual[res.name] = res.actual end
  eq(M.GITVERSION, actual["K8s.server.version"], "actual K8s.server.version")
  eq("24.04", actual["OS.release.VERSION_ID"], "actual OS.release.VERSION_ID")
end }

C[#C + 1] = { "validate as a CI gate: statuses, reasons, and a JUnit report that parses", function(out)
  local r = recipe(out)
  local n = #r.constraints
  local v = load_yaml(out .. "/validate-ci.yaml")
  eq("fail", v.status, "gate status")
  same_list({ passed = n + 1, failed = 1, skipped = 1, warnings = 0, total = n + 3 }, v.summary, "gate summary")
  local res = {}
  for _, x in ipairs(v.results) do res[x.name] = x end
  local f = res["GPU.smi.gpu-count"]
  eq("failed", f.status, "GPU.smi.gpu-count status")
  eq("2", tostring(f.actual), "GPU.smi.gpu-count actual")
  eq("expected >= 8, got 2", f.reason, "GPU.smi.gpu-count reason")
  local s = res["OS.release.NOPE"]
  eq("skipped", s.status, "OS.release.NOPE status")
  truthy(s.reason:find('no key "NOPE" in OS.release', 1, true), "skip reason %s", show(s.reason))
  truthy(type(s.nearest) == "table" and #s.nearest >= 1, "no nearest paths for OS.release.NOPE")
  eq("passed", res["GPU.smi.driver"].status, "GPU.smi.driver ~580 status")
  local log = read(out .. "/validate-ci.log")
  truthy(log:find("validation failed", 1, true), "the gate's stderr does not say it failed: %s", log)
  -- the JUnit report, parsed by python3's xml.etree in tools/e2e
  local j = load_json(out .. "/validate-ci.junit.json")
  eq(1, #j.suites, "JUnit testsuites")
  local suite = j.suites[1]
  eq(n + 3, suite.tests, "JUnit tests")
  eq(1, suite.failures, "JUnit failures")
  eq(1, suite.skipped, "JUnit skipped")
  eq(n + 3, #suite.cases, "JUnit testcases")
  local byname = {}
  for _, c in ipairs(suite.cases) do byname[c.name] = c end
  local fc = truthy(byname["GPU.smi.gpu-count >= 8"], "no JUnit testcase 'GPU.smi.gpu-count >= 8'")
  eq("eidos.validate.GPU", fc.classname, "JUnit classname")
  eq("expected >= 8, got 2", fc.failure, "JUnit failure message")
  local sc = truthy(byname["OS.release.NOPE >= 1"], "no JUnit testcase 'OS.release.NOPE >= 1'")
  truthy(sc.skipped and sc.skipped:find("NOPE", 1, true), "JUnit skipped message %s", show(sc.skipped))
  local first = r.constraints[1]
  local pc = truthy(byname[first.name .. " " .. first.value], "no JUnit testcase for %s", first.name)
  truthy(pc.failure == cjson.null and pc.skipped == cjson.null, "JUnit testcase %s is not a pass", first.name)
end }

-- the checksums.txt of a bundle directory covers every other file, sorted
local function check_checksums(dir)
  local listed, paths = {}, {}
  for line in read(dir .. "/checksums.txt"):gmatch("([^\n]*)\n") do
    local h, p = line:match("^(%x+)  (.+)$")
    truthy(h and #h == 64, "%s/checksums.txt: malformed line %s", dir, show(line))
    listed[p] = h
    paths[#paths + 1] = p
  end
  for i = 2, #paths do truthy(paths[i - 1] < paths[i], "%s/checksums.txt not sorted at %s", dir, paths[i]) end
  local n = 0
  for _, f in ipairs(files(dir)) do
    if f ~= "checksums.txt" and f ~= "checksums.txt.sig" then
      n = n + 1
      eq(sha256_of(dir .. "/" .. f), listed[f], dir .. "/checksums.txt entry of " .. f)
    end
  end
  eq(n, #paths, dir .. "/checksums.txt entries")
end

local function check_common(out, d)
  local dir = out .. "/" .. d
  eq(read(out .. "/recipe.yaml"), read(dir .. "/recipe.yaml"), d .. "/recipe.yaml (the input recipe, byte for byte)")
  truthy(exists(dir .. "/README.md"), "%s has no README.md", d)
  check_checksums(dir)
  local v = load_json(out .. "/verify-" .. d .. ".json")
  eq(true, v.ok, "verify " .. d .. " ok")
  same_list({}, v.problems, "verify " .. d .. " problems")
end

C[#C + 1] = { "helm bundle: umbrella chart, values per component, manifests, scripts, signature", function(out)
  local r, hyd = recipe(out), hydrated(out)
  local refs, order = by_name(r.componentRefs), r.deploymentOrder
  local dir = out .. "/helm"
  local chart = load_yaml(dir .. "/Chart.yaml")
  eq("v2", chart.apiVersion, "Chart.yaml apiVersion")
  eq("eidos-eks-a100-ubuntu-training", chart.name, "Chart.yaml name")
  truthy(tostring(chart.version):match("^%d+%.%d+%.%d+"), "Chart.yaml version %s is not SemVer", show(chart.version))
  eq(#order, #chart.dependencies, "Chart.yaml dependencies")
  for i, dep in ipairs(chart.dependencies) do
    local c = refs[order[i]]
    eq(c.chart, dep.name, "dependency " .. i .. " chart (deployment order)")
    eq(c.version, dep.version, c.name .. " dependency version")
    eq(c.source, dep.repository, c.name .. " dependency repository")
    eq(c.name .. ".enabled", dep.condition, c.name .. " dependency condition")
    eq(c.chart ~= c.name and c.name or nil, dep.alias, c.name .. " dependency alias")
  end
  local vtext = read(dir .. "/values.yaml")
  same_list(order, top_keys(vtext), "values.yaml top-level keys (deployment order)")
  local values = load_yaml(dir .. "/values.yaml")
  for _, name in ipairs(order) do
    eq(true, values[name].enabled, name .. ".enabled in values.yaml")
    same_list(hyd[name].values or {}, without(values[name], "enabled"), name .. " values (as eidos query hydrates them)")
  end
  for _, s in ipairs({ "deploy.sh", "undeploy.sh" }) do
    eq("755", mode(dir .. "/" .. s), s .. " mode")
    truthy(read(dir .. "/" .. s):match("^#!"), "%s has no #! line", s)
  end
  eq("644", mode(dir .. "/Chart.yaml"), "Chart.yaml mode")
  local deploy = read(dir .. "/deploy.sh")
  for _, name in ipairs(order) do
    truthy(deploy:find(name, 1, true), "deploy.sh never names %s", name)
  end
  local m = load_yaml(dir .. "/templates/gpu-operator/dcgm-exporter.yaml")
  eq("ConfigMap", m.kind, "gpu-operator manifest kind")
  eq("dcgm-exporter-metrics", m.metadata.name, "gpu-operator manifest name")
  eq(values["gpu-operator"].dcgmExporter.config.name, m.metadata.name, "manifest name = dcgmExporter.config.name")
  truthy(exists(dir .. "/checksums.txt.sig"), "helm bundle signed with --sign-key has no checksums.txt.sig")
  local env = load_json(dir .. "/attestation.dsse.json")
  eq("application/vnd.in-toto+json", env.payloadType, "attestation payloadType")
  local st = cjson.decode((require("eidos.core.base64").decode(env.payload)))
  eq("https://in-toto.io/Statement/v1", st._type, "attestation _type")
  eq("helm", st.predicate.deployer, "attestation deployer")
  local v = load_json(out .. "/verify-helm.json")
  eq("verified", v.signature, "verify --key: signature")
  eq("consistent", v.attestation, "verify --key: attestation")
  check_common(out, "helm")
end }

C[#C + 1] = { "argocd bundle: app-of-apps, one Application per component in sync waves, Git sources", function(out)
  local r, hyd = recipe(out), hydrated(out)
  local refs, order = by_name(r.componentRefs), r.deploymentOrder
  local dir = out .. "/argocd"
  local root = load_yaml(dir .. "/app-of-apps.yaml")
  eq("Application", root.kind, "app-of-apps kind")
  eq("argoproj.io/v1alpha1", root.apiVersion, "app-of-apps apiVersion")
  eq(M.REPO, root.spec.source.repoURL, "app-of-apps repoURL (--repo)")
  eq("main", root.spec.source.targetRevision, "app-of-apps targetRevision (--revision)")
  eq("clusters/prod/applications", root.spec.source.path, "app-of-apps path (--path)")
  local expected_files = { "README.md", "app-of-apps.yaml", "checksums.txt", "recipe.yaml" }
  local wave = {}
  for i, name in ipairs(order) do
    local c = refs[name]
    expected_files[#expected_files + 1] = "applications/" .. name .. ".yaml"
    local a = load_yaml(dir .. "/applications/" .. name .. ".yaml")
    eq("Application", a.kind, name .. " kind")
    eq(name, a.metadata.name, name .. " metadata.name")
    eq("argocd", a.metadata.namespace, name .. " metadata.namespace")
    wave[name] = tonumber(a.metadata.annotations["argocd.argoproj.io/sync-wave"])
    eq(i - 1, wave[name], name .. " sync-wave (its 0-based position in deploymentOrder)")
    -- one source (the chart), or two (the chart, then the manifests in Git)
    local sources = a.spec.sources or { a.spec.source }
    local src = sources[1]
    local repo = c.source:gsub("^oci://", "")
    eq(repo, src.repoURL, name .. " chart repoURL")
    eq(c.chart, src.chart, name .. " chart")
    eq(c.version, src.targetRevision, name .. " targetRevision")
    same_list(hyd[name].values or {}, src.helm.valuesObject or {}, name .. " valuesObject")
    eq("https://kubernetes.default.svc", a.spec.destination.server, name .. " destination.server")
    eq(c.namespace, a.spec.destination.namespace, name .. " destination.namespace")
    local opts = a.spec.syncPolicy.syncOptions
    truthy(index_of(opts, "CreateNamespace=true"), "%s lacks CreateNamespace=true", name)
    eq(true, a.spec.syncPolicy.automated.prune, name .. " automated prune")
    if name == "gpu-operator" or name == "kube-prometheus-stack" then
      truthy(index_of(opts, "ServerSideApply=true"), "%s (large CRDs) lacks ServerSideApply=true", name)
    end
    if c.manifestFiles then
      local git = truthy(sources[2], "%s has manifests but no Git source", name)
      eq(M.REPO, git.repoURL, name .. " manifests repoURL")
      eq("main", git.targetRevision, name .. " manifests targetRevision")
      eq("clusters/prod/manifests/" .. name, git.path, name .. " manifests path")
      for _, mf in ipairs(c.manifestFiles) do
        expected_files[#expected_files + 1] = "manifests/" .. name .. "/" .. mf:match("[^/]+$")
      end
    else
      eq(1, #sources, name .. " sources")
    end
  end
  for _, c in ipairs(r.componentRefs) do
    for _, dep in ipairs(c.dependencyRefs or {}) do
      truthy(wave[dep] < wave[c.name], "%s (wave %d) is not after its dependency %s (wave %d)",
        c.name, wave[c.name], dep, wave[dep])
    end
  end
  table.sort(expected_files)
  same_list(expected_files, files(dir), "argocd bundle files")
  truthy(not read(dir .. "/README.md"):find("EIDOS-GIT-REPOSITORY-URL-NOT-SET", 1, true),
    "argocd README still carries the placeholder repository although --repo was given")
  check_common(out, "argocd")
end }

C[#C + 1] = { "flux bundle: sources, HelmReleases with dependsOn in order, manifests Kustomization", function(out)
  local r, hyd = recipe(out), hydrated(out)
  local refs, order = by_name(r.componentRefs), r.deploymentOrder
  local dir = out .. "/flux"
  local k = load_yaml(dir .. "/kustomization.yaml")
  eq("Kustomization", k.kind, "kustomization.yaml kind")
  local expected = {}
  for _, name in ipairs(order) do
    expected[#expected + 1] = name .. "/source.yaml"
    expected[#expected + 1] = name .. "/helmrelease.yaml"
    if refs[name].manifestFiles then expected[#expected + 1] = name .. "/manifests.yaml" end
  end
  same_list(expected, k.resources, "kustomization.yaml resources (deployment order)")
  for i, name in ipairs(order) do
    local c = refs[name]
    local src = load_yaml(dir .. "/" .. name .. "/source.yaml")
    eq("flux-system", src.metadata.namespace, name .. " source namespace")
    local hr = load_yaml(dir .. "/" .. name .. "/helmrelease.yaml")
    eq("HelmRelease", hr.kind, name .. " kind")
    eq("helm.toolkit.fluxcd.io/v2", hr.apiVersion, name .. " apiVersion")
    eq(name, hr.metadata.name, name .. " metadata.name")
    eq("flux-system", hr.metadata.namespace, name .. " metadata.namespace")
    eq(c.namespace, hr.spec.targetNamespace, name .. " targetNamespace")
    eq(true, hr.spec.install.createNamespace, name .. " install.createNamespace")
    eq("CreateReplace", hr.spec.install.crds, name .. " install.crds")
    same_list(hyd[name].values or {}, hr.spec.values or {}, name .. " values")
    if c.source:match("^oci://") then
      eq("OCIRepository", src.kind, name .. " source kind")
      eq(c.version, src.spec.ref.tag, name .. " OCIRepository tag")
      eq("OCIRepository", hr.spec.chartRef.kind, name .. " chartRef kind")
      eq(name, hr.spec.chartRef.name, name .. " chartRef name")
    else
      eq("HelmRepository", src.kind, name .. " source kind")
      eq(c.source, src.spec.url, name .. " HelmRepository url")
      eq(c.chart, hr.spec.chart.spec.chart, name .. " chart")
      eq(c.version, hr.spec.chart.spec.version, name .. " chart version")
      eq(name, hr.spec.chart.spec.sourceRef.name, name .. " chart sourceRef")
    end
    local deps = {}
    for j, d in ipairs(hr.spec.dependsOn or {}) do
      deps[j] = d.name
      truthy(index_of(order, d.name) < i, "%s dependsOn %s, which is not earlier in the order", name, d.name)
    end
    local want = {}
    for j, d in ipairs(c.dependencyRefs or {}) do want[j] = d end
    same_list(want, deps, name .. " dependsOn (its dependencyRefs)")
    if c.manifestFiles then
      local ks = load_yaml(dir .. "/" .. name .. "/manifests.yaml")
      eq("Kustomization", ks.kind, name .. " manifests kind")
      eq("kustomize.toolkit.fluxcd.io/v1", ks.apiVersion, name .. " manifests apiVersion")
      eq("./" .. name .. "/manifests", ks.spec.path, name .. " manifests path")
      for _, mf in ipairs(c.manifestFiles) do
        truthy(exists(dir .. "/" .. name .. "/manifests/" .. mf:match("[^/]+$")), "%s manifest %s missing", name, mf)
      end
    end
  end
  check_common(out, "flux")
end }

C[#C + 1] = { "archives hold the same bundle as the directories, under one top directory", function(out)
  for _, d in ipairs(M.DEPLOYERS) do
    local want = files(out .. "/" .. d)
    for _, a in ipairs({ "tgz", "zip" }) do
      local x = out .. "/x/" .. a
      local top = {}
      local p = io.popen("ls '" .. x .. "'")
      for l in p:lines() do top[#top + 1] = l end
      p:close()
      truthy(index_of(top, d), "the %s.%s archive has no top directory %s/", d, a, d)
      same_list(want, files(x .. "/" .. d), d .. "." .. a .. " files")
      for _, f in ipairs(want) do
        eq(sha256_of(out .. "/" .. d .. "/" .. f), sha256_of(x .. "/" .. d .. "/" .. f), d .. "." .. a .. ": " .. f)
      end
    end
  end
end }

local function server_skipped(out)
  return exists(out .. "/server/PENDING")
end
M.server_skipped = server_skipped

C[#C + 1] = { "eidosd: GET /v1/recipe with the same criteria gives the CLI's components and versions", function(out)
  if server_skipped(out) then return "pending", read(out .. "/server/PENDING") end
  local cli, srv = recipe(out), load_json(out .. "/server/recipe.json")
  eq("RecipeResult", srv.kind, "server recipe kind")
  same_list(cli.criteria, srv.criteria, "server criteria")
  same_list(cli.metadata.appliedOverlays, srv.metadata.appliedOverlays, "server appliedOverlays")
  same_list(cli.deploymentOrder, srv.deploymentOrder, "server deploymentOrder")
  same_list(cli.constraints, srv.constraints, "server constraints")
  eq(#cli.componentRefs, #srv.componentRefs, "server componentRefs")
  for i, c in ipairs(cli.componentRefs) do
    local s = srv.componentRefs[i]
    for _, f in ipairs({ "name", "version", "source", "chart", "namespace", "type", "valuesFile" }) do
      eq(c[f], s[f], "server componentRefs[" .. i .. "]." .. f)
    end
    same_list(c.dependencyRefs or {}, s.dependencyRefs or {}, c.name .. " server dependencyRefs")
  end
end }

C[#C + 1] = { "eidosd: POST /v1/bundle answers zips with the CLI bundle's files", function(out)
  if server_skipped(out) then return "pending", read(out .. "/server/PENDING") end
  for _, d in ipairs(M.DEPLOYERS) do
    local z = out .. "/server/" .. d .. ".zip"
    eq("PK\3\4", read(z):sub(1, 4), d .. ".zip magic")
    local head = read(out .. "/server/" .. d .. ".headers"):lower()
    truthy(head:find("content-type: application/zip", 1, true), "%s: no Content-Type application/zip", d)
    local want = files(out .. "/" .. d)
    if d == "helm" then   -- the CLI's helm bundle is signed; the server's is not
      local w = {}
      for _, f in ipairs(want) do
        if f ~= "checksums.txt.sig" and f ~= "attestation.dsse.json" then w[#w + 1] = f end
      end
      want = w
    end
    local got = files(out .. "/server/" .. d)
    same_list(want, got, "server " .. d .. " bundle files")
    local nfiles = tonumber(head:match("x%-bundle%-files: (%d+)"))
    eq(#got, nfiles, d .. " X-Bundle-Files")
    for _, f in ipairs(got) do
      if not (d == "helm" and f == "checksums.txt") then
        eq(sha256_of(out .. "/" .. d .. "/" .. f), sha256_of(out .. "/server/" .. d .. "/" .. f),
          "server " .. d .. " bundle: " .. f .. " differs from the CLI's")
      end
    end
  end
  -- the server's own recipe bundles the same components
  local k = load_yaml(out .. "/server/flux-json/kustomization.yaml")
  same_list(load_yaml(out .. "/flux/kustomization.yaml").resources, k.resources,
    "flux bundle of the server's recipe: kustomization resources")
end }

-- run every check; print ok/FAIL lines; true when all passed
function M.run_all(out)
  local failed = 0
  for _, c in ipairs(C) do
    local ok, a, b = pcall(c[2], out)
    if not ok then
      failed = failed + 1
      io.stdout:write("FAIL  ", c[1], "\n      ", tostring(a), "\n")
    elseif a == "pending" then
      io.stdout:write("PEND  ", c[1], ": ", tostring(b):gsub("%s+$", ""), "\n")
    else
      io.stdout:write("ok    ", c[1], "\n")
    end
  end
  io.stdout:write(string.format("%d checks, %d failed\n", #C, failed))
  return failed == 0
end

if select("#", ...) >= 1 and (...) ~= "e2e.workflow_checks" then
  local out = ...
  os.exit(M.run_all(out) and 0 or 1)
end

return M
