-- eidos bundle and eidos verify, run as a user would: golden bundles per
-- deployer (tools/regen-golden-bundle regenerates them), byte-identical
-- output for directories and archives, every YAML file parses and passes
-- yamllint with .yamllint.yaml, Chart.yaml / Application / HelmRelease
-- carry their required fields, sha256sum -c passes, verify catches
-- tampering, and every bad flag value exits 2 naming it. The binary runs
-- with EIDOS_HOME at the source tree so the Lua and templates on disk are
-- what is tested.
local support = require("support")
local yaml = require("eidos.core.yaml")
local fs = require("eidos.core.fs")

local SMALL = "spec/fixtures/bundle/recipe-small.yaml"
local LIB = "spec/fixtures/bundle/root"
local BIG = "spec/fixtures/bundle/recipe-eks-gb200-ubuntu-training.yaml"
local GOLDEN = "spec/golden/bundle"

local function run(args, opts)
  opts = opts or {}
  opts.env = opts.env or {}
  if opts.env.EIDOS_HOME == nil then opts.env.EIDOS_HOME = support.root end
  return support.run(args, opts)
end

local function sh(cmd) return os.execute(cmd) == true end
local function has_cmd(c) return sh("command -v " .. c .. " >/dev/null 2>&1") end

local function bundle(out, extra, recipe, lib)
  local args = { "bundle", "-r", recipe or SMALL, "-o", out }
  if lib ~= false then table.insert(args, 1, "--lua-path=" .. (lib or LIB)) end
  for _, a in ipairs(extra or {}) do args[#args + 1] = a end
  local r = run(args)
  assert.are.equal(0, r.code, r.err)
  return r
end

-- relative paths of the files below dir, sorted
local function tree(dir) return assert(fs.walk(dir)) end

local function golden_args()
  local t = {}
  for line in io.lines(GOLDEN .. "/ARGS") do
    local d, rest = line:match("^([%w-]+)|(.*)$")
    if d then
      local args = { "-d", d }
      for w in rest:gmatch("%S+") do args[#args + 1] = w end
      t[#t + 1] = { deployer = d, args = args }
    end
  end
  return t
end

local function load_yaml(path)
  local v, msg = yaml.load(assert(support.read(path)))
  assert.is_truthy(v, path .. ": " .. tostring(msg))
  return v
end

local function yaml_files(dir)
  local out = {}
  for _, f in ipairs(tree(dir)) do
    if f:match("%.ya?ml$") then out[#out + 1] = f end
  end
  return out
end

describe("eidos bundle", function()
  local tmp
  before_each(function() tmp = support.tmpdir() end)
  after_each(function() fs.remove_tree(tmp) end)

  describe("golden bundles", function()
    for _, g in ipairs(golden_args()) do
      it(g.deployer .. " matches " .. GOLDEN .. "/" .. g.deployer .. " (tools/regen-golden-bundle)", function()
        local out = tmp .. "/" .. g.deployer
        bundle(out, g.args)
        local want = tree(GOLDEN .. "/" .. g.deployer)
        assert.are.same(want, tree(out))
        for _, f in ipairs(want) do
          assert.are.equal(support.read(GOLDEN .. "/" .. g.deployer .. "/" .. f), support.read(out .. "/" .. f), f)
        end
      end)
    end
  end)

  describe("determinism", function()
    for _, d in ipairs({ "helm", "argocd", "flux" }) do
      it("gives identical bytes twice (" .. d .. ": directory, tar.gz, zip)", function()
        bundle(tmp .. "/a", { "-d", d }, BIG, false)
        bundle(tmp .. "/b", { "-d", d }, BIG, false)
        local files = tree(tmp .. "/a")
        assert.are.same(files, tree(tmp .. "/b"))
        for _, f in ipairs(files) do
          assert.are.equal(support.read(tmp .. "/a/" .. f), support.read(tmp .. "/b/" .. f), f)
        end
        for _, ext in ipairs({ "tar.gz", "zip" }) do
          bundle(tmp .. "/x/bundle." .. ext, { "-d", d }, BIG, false)
          bundle(tmp .. "/y/bundle." .. ext, { "-d", d }, BIG, false)
          assert.are.equal(support.read(tmp .. "/x/bundle." .. ext), support.read(tmp .. "/y/bundle." .. ext), ext)
        end
        -- the archive holds the same files under one top directory
        assert.is_true(sh("cd " .. tmp .. "/x && tar -xzf bundle.tar.gz"))
        for _, f in ipairs(files) do
          assert.are.equal(support.read(tmp .. "/a/" .. f), support.read(tmp .. "/x/bundle/" .. f), f)
        end
      end)
    end
  end)

  describe("generated files", function()
    for _, d in ipairs({ "helm", "argocd", "flux" }) do
      it("parse, lint and check (" .. d .. ", eks/gb200/ubuntu/training)", function()
        local out = tmp .. "/" .. d
        bundle(out, { "-d", d, "--repo", "https://git.example.com/x.git" }, BIG, false)
        for _, f in ipairs(yaml_files(out)) do load_yaml(out .. "/" .. f) end
        assert.is_true(sh("cd " .. out .. " && sha256sum -c --quiet checksums.txt"))
        if has_cmd("yamllint") then
          local p = io.popen("yamllint -f parsable -c .yamllint.yaml " .. out .. " 2>&1")
          local report = p:read("a")
          p:close()
          assert.are.equal("", report)
        end
        local v = run({ "verify", out })
        assert.are.equal(0, v.code, v.out .. v.err)
      end)
    end

    it("helm: Chart.yaml follows Helm's v2 schema, values has one key per component", function()
      bundle(tmp .. "/h", { "-d", "helm" }, BIG, false)
      local chart = load_yaml(tmp .. "/h/Chart.yaml")
      local allowed = { apiVersion = 1, name = 1, version = 1, kubeVersion = 1, description = 1, type = 1, keywords = 1,
                        home = 1, sources = 1, dependencies = 1, maintainers = 1, icon = 1, appVersion = 1,
                        deprecated = 1, annotations = 1 }
      for k in pairs(chart) do assert.is_truthy(allowed[k], "unknown Chart.yaml key " .. k) end
      assert.are.equal("v2", chart.apiVersion)
      assert.matches("^[a-z0-9][a-z0-9-]*$", chart.name)
      assert.are.equal("eidos-eks-gb200-ubuntu-training", chart.name)
      assert.matches("^%d+%.%d+%.%d+", chart.version)
      assert.are.equal("application", chart.type)
      assert.are.equal("string", type(chart.appVersion))
      local recipe = load_yaml(BIG)
      local values = load_yaml(tmp .. "/h/values.yaml")
      local pos = {}
      for i, n in ipairs(recipe.deploymentOrder) do pos[n] = i end
      local last = 0
      local dkeys = { name = 1, version = 1, repository = 1, condition = 1, tags = 1, ["import-values"] = 1, alias = 1 }
      for _, dep in ipairs(chart.dependencies) do
        for k in pairs(dep) do assert.is_truthy(dkeys[k], "unknown dependency key " .. k) end
        assert.is_truthy(dep.name and dep.version and dep.repository and dep.condition)
        local comp = dep.condition:match("^(.-)%.enabled$")
        assert.are.equal(dep.alias or dep.name, comp)
        assert.is_true(pos[comp] > last, "dependencies follow deploymentOrder")
        last = pos[comp]
        assert.are.equal(true, values[comp].enabled)
      end
      for _, ref in ipairs(recipe.componentRefs) do assert.are.equal(true, values[ref.name].enabled, ref.name) end
      -- deploy.sh installs in deploymentOrder, undeploy.sh removes in reverse
      local dep, undep = {}, {}
      for n in support.read(tmp .. "/h/deploy.sh"):gmatch("\ncomponent ([%w-]+) ") do dep[#dep + 1] = n end
      for n in support.read(tmp .. "/h/undeploy.sh"):gmatch("\nremove ([%w-]+) ") do undep[#undep + 1] = n end
      assert.are.same(recipe.deploymentOrder, dep)
      local rev = {}
      for i = #dep, 1, -1 do rev[#rev + 1] = dep[i] end
      assert.are.same(rev, undep)
      assert.is_true(sh("bash -n " .. tmp .. "/h/deploy.sh && bash -n " .. tmp .. "/h/undeploy.sh"))
      assert.is_true(sh("test -x " .. tmp .. "/h/deploy.sh"))
    end)

    it("helm: deploy.sh --dry-run prints one release per component in order", function()
      bundle(tmp .. "/h", { "-d", "helm" })
      local p = io.popen("cd " .. tmp .. "/h && mkdir -p charts && ./deploy.sh --dry-run --no-wait 2>&1")
      local out = p:read("a")
      p:close()
      local rels = {}
      for n, ns in out:gmatch("helm upgrade %-%-install ([%w-]+) %S+ %-%-namespace ([%w-]+)") do rels[#rels + 1] = n .. "@" .. ns end
      assert.are.same({ "cert-manager@cert-manager", "aws-efa@kube-system", "skyhook-customizations@skyhook",
                        "gpu-operator@gpu-operator", "kai-scheduler@kai-scheduler" }, rels)
      -- cert-manager is needed by gpu-operator: waited for even with --no-wait
      assert.matches("install cert%-manager [^\n]*%-%-wait", out)
      assert.matches("%-%-set gpu%-operator%.enabled=false", out)
    end)

    it("argocd: Applications carry their required fields and sync waves", function()
      bundle(tmp .. "/a", { "-d", "argocd", "--repo", "https://git.example.com/x.git", "--path", "clusters/a" }, BIG, false)
      local recipe = load_yaml(BIG)
      for i, name in ipairs(recipe.deploymentOrder) do
        local app = load_yaml(tmp .. "/a/applications/" .. name .. ".yaml")
        assert.are.equal("argoproj.io/v1alpha1", app.apiVersion)
        assert.are.equal("Application", app.kind)
        assert.are.equal(name, app.metadata.name)
        assert.are.equal("argocd", app.metadata.namespace)
        assert.are.equal(tostring(i - 1), app.metadata.annotations["argocd.argoproj.io/sync-wave"])
        assert.is_truthy(app.spec.project)
        assert.is_truthy(app.spec.destination.server and app.spec.destination.namespace)
        local sources = app.spec.sources or { app.spec.source }
        assert.is_truthy(#sources >= 1)
        for _, s in ipairs(sources) do
          assert.is_truthy(s.repoURL and s.targetRevision and (s.chart or s.path))
          assert.is_nil(s.repoURL:find("EIDOS-GIT", 1, true))
        end
        local opts = table.concat(app.spec.syncPolicy.syncOptions, ",")
        assert.matches("CreateNamespace=true", opts, 1, true)
      end
      local root = load_yaml(tmp .. "/a/app-of-apps.yaml")
      assert.are.equal("https://git.example.com/x.git", root.spec.source.repoURL)
      assert.are.equal("clusters/a/applications", root.spec.source.path)
      local gpu = load_yaml(tmp .. "/a/applications/gpu-operator.yaml")
      assert.matches("ServerSideApply=true", table.concat(gpu.spec.syncOptions or gpu.spec.syncPolicy.syncOptions, ","), 1, true)
      assert.are.equal("clusters/a/manifests/gpu-operator", gpu.spec.sources[2].path)
      assert.are.equal("580.105.08", gpu.spec.sources[1].helm.valuesObject.driver.version)
    end)

    it("argocd without --repo: a placeholder that is not a URL, a warning and README steps", function()
      local r = bundle(tmp .. "/a", { "-d", "argocd" })
      assert.matches("no --repo given", r.err, 1, true)
      local root = load_yaml(tmp .. "/a/app-of-apps.yaml")
      assert.are.equal("EIDOS-GIT-REPOSITORY-URL-NOT-SET", root.spec.source.repoURL)
      assert.is_nil(root.spec.source.repoURL:find("://", 1, true))
      local readme = support.read(tmp .. "/a/README.md")
      assert.matches("Fill in the Git repository first", readme, 1, true)
      assert.matches("--repo https://", readme, 1, true)
    end)

    it("flux: HelmReleases, sources and dependsOn follow the deployment order", function()
      bundle(tmp .. "/f", { "-d", "flux" }, BIG, false)
      local recipe = load_yaml(BIG)
      local seen = {}
      for _, name in ipairs(recipe.deploymentOrder) do
        local hr_path = tmp .. "/f/" .. name .. "/helmrelease.yaml"
        if fs.exists(hr_path) then
          local hr = load_yaml(hr_path)
          assert.are.equal("helm.toolkit.fluxcd.io/v2", hr.apiVersion)
          assert.are.equal("HelmRelease", hr.kind)
          assert.are.equal(name, hr.metadata.name)
          assert.is_truthy(hr.metadata.namespace)
          assert.is_truthy(hr.spec.interval)
          local src = load_yaml(tmp .. "/f/" .. name .. "/source.yaml")
          assert.is_truthy(src.spec.url)
          if hr.spec.chartRef then
            assert.are.equal("OCIRepository", hr.spec.chartRef.kind)
            assert.are.equal("OCIRepository", src.kind)
            assert.matches("^oci://", src.spec.url)
            assert.is_truthy(src.spec.interval and src.spec.ref.tag)
          else
            local cs = hr.spec.chart.spec
            assert.is_truthy(cs.chart and cs.version and cs.sourceRef.kind and cs.sourceRef.name)
            assert.are.equal("HelmRepository", src.kind)
            assert.are.equal(src.metadata.name, cs.sourceRef.name)
          end
          for _, dep in ipairs(hr.spec.dependsOn or {}) do
            assert.is_true(seen[dep.name], name .. " depends on " .. dep.name .. " before it is released")
          end
          seen[name] = true
        end
      end
      local k = load_yaml(tmp .. "/f/kustomization.yaml")
      for _, res in ipairs(k.resources) do assert.are.equal("file", fs.exists(tmp .. "/f/" .. res), res) end
      local gpu = load_yaml(tmp .. "/f/gpu-operator/helmrelease.yaml")
      assert.are.same({ "cert-manager", "kube-prometheus-stack" }, { gpu.spec.dependsOn[1].name, gpu.spec.dependsOn[2].name })
    end)
  end)

  describe("overrides and scheduling", function()
    it("--set, --set-json, --values and enabled=false reach the bundle", function()
      local vf = tmp .. "/v.yaml"
      support.write(vf, "gpu-operator:\n  driver:\n    version: from-file\n  extra: {a: 1}\n")
      bundle(tmp .. "/h", { "--values", vf, "--set", "gpu-operator:driver.version=from-set",
        "--set-json", 'gpu-operator:toolkit.env=[{"name":"X","value":"1"}]', "--set", "cert-manager:replicas=2",
        "--set", "aws-efa:enabled=false", "--set", [[gpu-operator:nodeSelector.nvidia\.com/gpu=true]] })
      local v = load_yaml(tmp .. "/h/values.yaml")
      assert.are.equal("from-set", v["gpu-operator"].driver.version)
      assert.are.equal(1, v["gpu-operator"].extra.a)
      assert.are.equal("X", v["gpu-operator"].toolkit.env[1].name)
      assert.are.equal(2, v["cert-manager"].replicas)
      assert.are.equal(true, v["gpu-operator"].nodeSelector["nvidia.com/gpu"])
      assert.is_nil(v["aws-efa"])
      local chart = support.read(tmp .. "/h/Chart.yaml")
      assert.is_nil(chart:find("aws-efa", 1, true))
    end)

    it("applies --set of one flag in command-line order", function()
      bundle(tmp .. "/h", { "--set", "gpu-operator:x=1", "--set", "gpu-operator:x=2" })
      assert.are.equal(2, load_yaml(tmp .. "/h/values.yaml")["gpu-operator"].x)
    end)

    it("invents no tolerations or selectors without scheduling flags", function()
      bundle(tmp .. "/h", {})
      local text = support.read(tmp .. "/h/values.yaml")
      assert.is_nil(text:find("tolerations", 1, true))
      assert.is_nil(text:find("nodeSelector", 1, true))
    end)

    it("writes scheduling flags at the registry paths", function()
      bundle(tmp .. "/h", { "--system-node-selector", "role=system", "--system-node-toleration", "dedicated=system:NoSchedule",
        "--accelerated-node-selector", "nvidia.com/gpu.present=true" })
      local v = load_yaml(tmp .. "/h/values.yaml")
      assert.are.same({ role = "system" }, v["cert-manager"].webhook.nodeSelector)
      assert.are.same({ key = "dedicated", operator = "Equal", value = "system", effect = "NoSchedule" },
        v["gpu-operator"].operator.tolerations[1])
      assert.are.same({ ["nvidia.com/gpu.present"] = "true" }, v["gpu-operator"].daemonsets.nodeSelector)
      -- the manifest reads the component values
      local tuning = support.read(tmp .. "/h/templates/skyhook-customizations/tuning.yaml")
      assert.matches("nvidia.com/gpu.present: \"true\"", tuning, 1, true)
    end)
  end)

  describe("bad input exits 2 naming it", function()
    local cases = {
      { { "--deployer", "kustomize" }, 'invalid value "kustomize" for --deployer' },
      { { "--set", "nocolon" }, '--set "nocolon"' },
      { { "--set", "gpu-operator:novalue" }, "missing '='" },
      { { "--set", "nosuch:a=1" }, 'unknown component "nosuch" (components of this recipe: aws-efa, cert-manager,' },
      { { "--set", "gpu-operator:driver.version.x=1" }, "driver.version is a string, not a map" },
      { { "--set", "gpu-operator:enabled=maybe" }, "gpu-operator.enabled must be true or false" },
      { { "--set-json", "gpu-operator:a=[1," }, '--set-json "gpu-operator:a=[1,"' },
      { { "--values", "/" }, '--values "/" is a directory, not a regular file' },
      { { "--system-node-selector", "role" }, '--system-node-selector "role"' },
      { { "--accelerated-node-selector", "a=b c" }, "--accelerated-node-selector" },
      { { "--system-node-toleration", "k=v:Never" }, 'unknown effect "Never"' },
      { { "--accelerated-node-toleration", "a:b:NoSchedule" }, "--accelerated-node-toleration" },
      { { "--repo", "not a url" }, '--repo "not a url"' },
      { { "--path", "../up" }, '--path "../up"' },
      { { "--revision", "" }, "--revision" },
      { { "--sign-key", "/nonexistent/key.pem" }, '--sign-key file "/nonexistent/key.pem" not found', 3 },
      { { "--data-mode", "merge" }, '"merge" for --data-mode' },
    }
    for _, c in ipairs(cases) do
      it(table.concat(c[1], " "), function()
        local args = { "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-o", tmp .. "/out" }
        for _, a in ipairs(c[1]) do args[#args + 1] = a end
        local r = run(args)
        assert.are.equal(c[3] or 2, r.code, r.err)
        assert.matches(c[2], r.err, 1, true)
        assert.is_nil(fs.exists(tmp .. "/out"))
      end)
    end

    it("a recipe of another kind, a missing recipe, no output", function()
      local f = tmp .. "/snap.yaml"
      support.write(f, "kind: Snapshot\napiVersion: v1\n")
      local r = run({ "bundle", "-r", f, "-o", tmp .. "/o" })
      assert.are.equal(2, r.code)
      assert.matches("expected a RecipeResult", r.err, 1, true)
      r = run({ "bundle", "-r", tmp .. "/none.yaml", "-o", tmp .. "/o" })
      assert.are.equal(3, r.code)
      r = run({ "bundle", "-r", SMALL })
      assert.are.equal(2, r.code)
      assert.matches("missing -o/--output", r.err, 1, true)
    end)

    it("refuses a non-empty output without --force, an archive to overwrite, a file as directory", function()
      bundle(tmp .. "/h", {})
      local r = run({ "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-o", tmp .. "/h" })
      assert.are.equal(2, r.code)
      assert.matches("not empty; use --force", r.err, 1, true)
      bundle(tmp .. "/h", { "--force", "-d", "flux" })
      assert.are.equal("file", fs.exists(tmp .. "/h/kustomization.yaml"))
      assert.is_nil(fs.exists(tmp .. "/h/Chart.yaml"))
      bundle(tmp .. "/b.zip", {})
      r = run({ "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-o", tmp .. "/b.zip" })
      assert.are.equal(2, r.code)
      assert.matches("already exists", r.err, 1, true)
      r = run({ "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-o", tmp .. "/b.zip/x" })
      assert.are.equal(2, r.code)
    end)
  end)

  describe("templates", function()
    it("a template on the override path replaces the built-in one", function()
      local root = tmp .. "/over"
      fs.mkdir_p(root .. "/templates/helm")
      support.write(root .. "/templates/helm/README.md.tpl", "# Custom {{ .Chart.Name }} ({{ len .Components }} components)\n")
      bundle(tmp .. "/h", { "--lua-path=" .. root })
      assert.are.equal("# Custom eidos-eks-h100-training (5 components)\n", support.read(tmp .. "/h/README.md"))
    end)

    it("--hooks: template_helpers reach the templates, bundle() adds and changes files", function()
      local hooks, root = tmp .. "/hooks", tmp .. "/over"
      fs.mkdir_p(hooks)
      fs.mkdir_p(root .. "/templates/helm")
      support.write(hooks .. "/h.lua", [[
return {
  bundle = function(files, recipe)
    files["NOTICE.txt"] = "for " .. recipe.criteria.service .. "\n"
    files["values.yaml"] = files["values.yaml"] .. "# reviewed\n"
    return files
  end,
  template_helpers = { shout = function(s) return string.upper(s) .. "!" end },
}
]])
      support.write(root .. "/templates/helm/README.md.tpl", "# {{ shout .Chart.Name }}\n")
      bundle(tmp .. "/h", { "--hooks", hooks, "--lua-path=" .. root })
      assert.are.equal("# EIDOS-EKS-H100-TRAINING!\n", support.read(tmp .. "/h/README.md"))
      assert.are.equal("for eks\n", support.read(tmp .. "/h/NOTICE.txt"))
      assert.matches("# reviewed\n$", support.read(tmp .. "/h/values.yaml"))
      assert.is_true(sh("test -x " .. tmp .. "/h/deploy.sh"))
      assert.is_true(sh("cd " .. tmp .. "/h && sha256sum -c --quiet checksums.txt"))
    end)

    it("a broken template fails naming the file and line, and writes nothing", function()
      local root = tmp .. "/over"
      fs.mkdir_p(root .. "/templates/helm")
      support.write(root .. "/templates/helm/Chart.yaml.tpl", "apiVersion: v2\nname: {{ .Chart.Name | nosuch }}\n")
      local r = run({ "--lua-path=" .. root, "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-o", tmp .. "/h" })
      assert.are.equal(2, r.code)
      assert.matches('templates/helm/Chart.yaml.tpl:2: function "nosuch" not defined', r.err, 1, true)
      assert.is_nil(fs.exists(tmp .. "/h"))
    end)
  end)
end)

describe("eidos verify", function()
  local tmp
  before_each(function() tmp = support.tmpdir() end)
  after_each(function() fs.remove_tree(tmp) end)

  it("exits 0 on a good bundle, 9 on tampering, 2 on bad input", function()
    local out = tmp .. "/b"
    assert.are.equal(0, run({ "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-o", out }).code)
    local r = run({ "verify", out })
    assert.are.equal(0, r.code, r.out)
    assert.matches("^OK: 8 files listed", r.out)
    support.write(out .. "/values.yaml", support.read(out .. "/values.yaml") .. " ")
    support.write(out .. "/new.yaml", "x: 1\n")
    os.remove(out .. "/deploy.sh")
    r = run({ "verify", out, "-t", "json" })
    assert.are.equal(9, r.code)
    local report = require("cjson").decode(r.out)
    assert.is_false(report.ok)
    local kinds = {}
    for _, p in ipairs(report.problems) do kinds[#kinds + 1] = p.kind .. ":" .. p.path end
    table.sort(kinds)
    assert.are.same({ "changed:values.yaml", "extra:new.yaml", "missing:deploy.sh" }, kinds)
    assert.are.equal(2, run({ "verify", tmp .. "/nope" }).code)
    assert.are.equal(3, run({ "verify", out, "--key", tmp .. "/nokey.pub" }).code) -- a file not found
    assert.are.equal(2, run({ "verify" }).code)
  end)

  it("checks the signature of a signed bundle, and rejects a wrong key", function()
    if not has_cmd("openssl") then return pending("openssl CLI not found") end
    assert(sh("cd " .. tmp .. " && openssl genpkey -algorithm ed25519 -out k.pem 2>/dev/null && " ..
      "openssl pkey -in k.pem -pubout -out k.pub 2>/dev/null && openssl genpkey -algorithm ed25519 -out o.pem 2>/dev/null" ..
      " && openssl pkey -in o.pem -pubout -out o.pub 2>/dev/null"))
    local out = tmp .. "/b"
    local r = run({ "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-o", out, "--sign-key", tmp .. "/k.pem" })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("file", fs.exists(out .. "/checksums.txt.sig"))
    assert.are.equal("file", fs.exists(out .. "/attestation.dsse.json"))
    assert.is_true(sh("cd " .. out .. " && sha256sum -c --quiet checksums.txt"))
    r = run({ "verify", out, "--key", tmp .. "/k.pub" })
    assert.are.equal(0, r.code, r.out)
    assert.matches("signature verified", r.out, 1, true)
    r = run({ "verify", out, "--key", tmp .. "/o.pub" })
    assert.are.equal(9, r.code)
    assert.matches("signature does not match", r.out, 1, true)
    -- a bad signing key is invalid input
    support.write(tmp .. "/bad.pem", "not a key\n")
    r = run({ "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-o", tmp .. "/c", "--sign-key", tmp .. "/bad.pem" })
    assert.are.equal(2, r.code)
    assert.matches("--sign-key", r.err, 1, true)
    -- signing with the same Ed25519 key is deterministic
    run({ "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-o", tmp .. "/d", "--sign-key", tmp .. "/k.pem" })
    assert.are.equal(support.read(out .. "/checksums.txt.sig"), support.read(tmp .. "/d/checksums.txt.sig"))
  end)
end)
