-- deploy.sh and undeploy.sh of the helm and helm-components bundles, run
-- against stand-in helm, kubectl and sleep commands
-- (spec/fixtures/bundle/fakebin: they record every call and fail on
-- request), the closest honest substitute for a cluster here: the order of
-- the installs, retries with their backoff, --best-effort, each pre-flight
-- check, manifests around a chart, stuck releases, orphaned webhooks,
-- namespaces and PVCs on removal. The scripts pass bash -n and shellcheck
-- (Debian package shellcheck; that check is pending without it).
local support = require("support")
local fs = require("eidos.core.fs")

local SMALL = "spec/fixtures/bundle/recipe-small.yaml"
local LIB = "spec/fixtures/bundle/root"
local BIG = "spec/fixtures/bundle/recipe-eks-gb200-ubuntu-training.yaml"
local FAKEBIN = support.root .. "/spec/fixtures/bundle/fakebin"
local q = support.q

-- the small recipe's components in deployment order, with their namespaces
local ORDER = { "cert-manager", "aws-efa", "skyhook-customizations", "gpu-operator", "kai-scheduler" }
local NS = { ["cert-manager"] = "cert-manager", ["aws-efa"] = "kube-system", ["skyhook-customizations"] = "skyhook",
             ["gpu-operator"] = "gpu-operator", ["kai-scheduler"] = "kai-scheduler" }

local function bundle(out, deployer, recipe, extra)
  local args = { "bundle", "-r", recipe or SMALL, "-o", out, "-d", deployer }
  if not recipe then table.insert(args, 1, "--lua-path=" .. LIB) end
  for _, a in ipairs(extra or {}) do args[#args + 1] = a end
  local r = support.run(args, { env = { EIDOS_HOME = support.root } })
  assert.are.equal(0, r.code, r.err)
end

local function has(cmd) return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == true end

-- a fresh state for the fakes; files: name -> text
local function state(files)
  local d = support.tmpdir()
  for name, text in pairs(files or {}) do support.write(d .. "/" .. name, text) end
  return d
end

-- run a script of the bundle -> {code, out (stdout and stderr), calls (list)}
local function script(dir, name, st, args)
  local cmd = string.format("cd / && env PATH=%s FAKE_STATE=%s bash %s %s 2>&1; echo \"rc=$?\"",
    q(FAKEBIN .. ":" .. os.getenv("PATH")), q(st), q(dir .. "/" .. name), args or "")
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  local code = tonumber(out:match("rc=(%d+)%s*$"))
  local calls = {}
  for line in (support.read(st .. "/calls") or ""):gmatch("[^\n]+") do calls[#calls + 1] = line end
  return { code = code, out = out, calls = calls }
end

local function grep(calls, pattern)
  local out = {}
  for _, c in ipairs(calls) do if c:find(pattern) then out[#out + 1] = c end end
  return out
end

-- the releases installed, in call order
local function installed(calls)
  local out = {}
  for _, c in ipairs(grep(calls, "^helm upgrade %-%-install ")) do out[#out + 1] = c:match("^helm upgrade %-%-install (%S+)") end
  return out
end

local function lines(...) return table.concat({ ... }, "\n") .. "\n" end

describe("bundle scripts", function()
  local tmp, b = nil, {}
  setup(function()
    tmp = support.tmpdir()
    for _, d in ipairs({ "helm", "helm-components" }) do
      b[d] = tmp .. "/" .. d
      bundle(b[d], d)
    end
  end)
  teardown(function() fs.remove_tree(tmp) end)

  describe("lint", function()
    it("bash -n and shellcheck pass on both deployers' scripts, small and large recipes", function()
      bundle(tmp .. "/big-helm", "helm", BIG)
      bundle(tmp .. "/big-hc", "helm-components", BIG, { "--nodes", "8", "--workload-selector", "team=ml" })
      local files = {}
      for _, d in ipairs({ b.helm, b["helm-components"], tmp .. "/big-helm", tmp .. "/big-hc" }) do
        for _, s in ipairs({ "deploy.sh", "undeploy.sh" }) do
          local f = d .. "/" .. s
          assert.is_true(os.execute("bash -n " .. q(f)) == true, f)
          assert.is_true(os.execute("test -x " .. q(f)) == true, f .. " is not executable")
          files[#files + 1] = q(f)
        end
      end
      if not has("shellcheck") then
        pending("shellcheck not found: install the Debian package shellcheck (scripts/install-deps)")
        return
      end
      local p = io.popen("shellcheck " .. table.concat(files, " ") .. " 2>&1; echo rc=$?")
      local out = p:read("a")
      p:close()
      assert.truthy(out:find("^rc=0"), out)
    end)

    it("--help prints the usage; an unknown option or a bad value exits 2", function()
      for _, d in ipairs({ "helm", "helm-components" }) do
        local st = state()
        local r = script(b[d], "deploy.sh", st, "--help")
        assert.are.equal(0, r.code)
        assert.matches("Usage: ./deploy.sh", r.out)
        assert.matches("%-%-retries N", r.out)
        assert.is_nil(r.out:find("set -euo", 1, true))
        assert.are.equal(2, script(b[d], "deploy.sh", st, "--retries abc").code)
        assert.are.equal(2, script(b[d], "deploy.sh", st, "--retries 100").code)
        assert.are.equal(2, script(b[d], "deploy.sh", st, "--nope").code)
        assert.are.equal(2, script(b[d], "deploy.sh", st, "--timeout soon").code)
        assert.matches("%-%-keep%-namespaces", script(b[d], "undeploy.sh", st, "--help").out)
        assert.are.equal(2, script(b[d], "undeploy.sh", st, "--nope").code)
        assert.are.same({}, script(b[d], "undeploy.sh", st, "--nope").calls)
      end
    end)
  end)

  for _, d in ipairs({ "helm", "helm-components" }) do
    describe(d .. " deploy.sh", function()
      it("checks the cluster, then installs every component in deployment order", function()
        local st = state()
        local r = script(b[d], "deploy.sh", st)
        assert.are.equal(0, r.code, r.out)
        assert.matches("Pre%-flight checks passed %(helm v3%.14%.2%+gfake, kubectl context fake%-context%)", r.out)
        assert.matches("Deployment complete%.", r.out)
        -- helm-components: skyhook-customizations has no chart, only manifests
        local charts = {}
        for _, n in ipairs(ORDER) do
          if d == "helm" or n ~= "skyhook-customizations" then charts[#charts + 1] = n end
        end
        assert.are.same(charts, installed(r.calls))
        -- the pre-flight reads come before any change
        local first_change
        for i, c in ipairs(r.calls) do
          if c:find("^helm upgrade") or c:find("^kubectl create") or c:find("^kubectl apply") then first_change = i break end
        end
        for _, probe in ipairs({ "^kubectl get %-%-raw=/version", "^helm version", "^kubectl get namespaces",
                                 "^kubectl get customresourcedefinitions", "^kubectl get validatingwebhookconfigurations" }) do
          local at
          for i, c in ipairs(r.calls) do if c:find(probe) then at = i break end end
          assert.is_truthy(at and at < first_change, probe)
        end
        -- each release in its namespace, waited for; namespaces created labelled
        for _, c in ipairs(grep(r.calls, "^helm upgrade")) do
          local n = c:match("^helm upgrade %-%-install (%S+)")
          assert.matches("%-%-namespace " .. NS[n]:gsub("%-", "%%-") .. " ", c)
          assert.matches("%-%-wait %-%-timeout 15m", c)
          if d == "helm-components" then
            assert.matches("%-f " .. (b[d] .. "/" .. n .. "/values.yaml"):gsub("%p", "%%%0"), c)
          else -- the umbrella chart with every other component switched off
            for _, o in ipairs(ORDER) do
              assert.are.equal(o ~= n, c:find(" --set " .. o .. ".enabled=false", 1, true) ~= nil, c)
            end
          end
        end
        assert.are.equal(1, #grep(r.calls, "^kubectl create namespace skyhook$"))
        assert.are.equal(1, #grep(r.calls, "^kubectl label namespace skyhook eidos%.nvidia%.com/bundle=eidos%-eks%-h100%-training"))
        assert.matches("skyhook|Active|eidos%-eks%-h100%-training", support.read(st .. "/namespaces"))
      end)

      it("retries a failed step with backoff 5, 20, 45 s, then goes on", function()
        local st = state({ ["fail-upgrade-gpu-operator"] = "3" })
        local r = script(b[d], "deploy.sh", st)
        assert.are.equal(0, r.code, r.out)
        assert.are.same({ "sleep 5", "sleep 20", "sleep 45" }, grep(r.calls, "^sleep"))
        assert.are.equal(4, #grep(r.calls, "^helm upgrade %-%-install gpu%-operator "))
        assert.matches("helm upgrade %-%-install gpu%-operator failed %(attempt 1 of 6%); retrying in 5s", r.out)
        assert.are.equal("kai-scheduler", installed(r.calls)[#installed(r.calls)])
      end)

      it("stops at a component that fails every retry (--retries 1), naming it", function()
        local st = state({ ["fail-upgrade-gpu-operator"] = "9" })
        local r = script(b[d], "deploy.sh", st, "--retries 1")
        assert.are.equal(1, r.code)
        assert.are.same({ "sleep 5" }, grep(r.calls, "^sleep"))
        assert.matches("gpu%-operator failed after 2 attempt", r.out)
        assert.matches("gpu%-operator failed; stopped", r.out)
        assert.are.same({}, grep(r.calls, "install kai%-scheduler"))
        assert.is_nil(r.out:find("Deployment complete", 1, true))
      end)

      it("--retries 0 fails at once; --best-effort goes on and exits 1 listing the failures", function()
        local st = state({ ["fail-upgrade-cert-manager"] = "9", ["fail-upgrade-gpu-operator"] = "9" })
        local r = script(b[d], "deploy.sh", st, "--retries 0 --best-effort")
        assert.are.equal(1, r.code)
        assert.are.same({}, grep(r.calls, "^sleep"))
        assert.are.equal("kai-scheduler", installed(r.calls)[#installed(r.calls)])
        assert.matches("2 component%(s%) failed: cert%-manager gpu%-operator", r.out)
      end)

      it("--no-wait waits only for what a later component needs; --dry-run changes nothing", function()
        local r = script(b[d], "deploy.sh", state(), "--no-wait")
        assert.are.equal(0, r.code, r.out)
        local waited = {}
        for _, c in ipairs(grep(r.calls, "^helm upgrade.*%-%-wait")) do waited[#waited + 1] = c:match("install (%S+)") end
        -- cert-manager and skyhook-customizations precede gpu-operator, which precedes kai-scheduler
        assert.are.same(d == "helm" and { "cert-manager", "skyhook-customizations", "gpu-operator" }
                                      or { "cert-manager", "gpu-operator" }, waited)
        local st = state()
        r = script(b[d], "deploy.sh", st, "--dry-run")
        assert.are.equal(0, r.code, r.out)
        assert.matches("helm upgrade %-%-install kai%-scheduler", r.out)
        assert.are.same({}, r.calls)
      end)

      describe("pre-flight", function()
        local function refused(files, pattern)
          local st = state(files)
          local r = script(b[d], "deploy.sh", st)
          assert.are.equal(1, r.code, r.out)
          assert.matches(pattern, r.out)
          assert.are.same({}, grep(r.calls, "^helm upgrade"))
          assert.are.same({}, grep(r.calls, "^kubectl create"))
          -- --skip-preflight goes ahead
          local s2 = state(files)
          local r2 = script(b[d], "deploy.sh", s2, "--skip-preflight")
          return r2
        end

        it("refuses an old helm", function()
          refused({ ["helm-version"] = "v3.7.1+g1d11fcb\n" }, "helm v3%.7%.1%+g1d11fcb is too old: this bundle needs helm 3%.8")
          refused({ ["helm-version"] = "v2.17.0\n" }, "too old")
        end)

        it("stops when the cluster does not answer", function()
          local r = refused({ unreachable = "" }, "the cluster of kubectl context 'fake%-context' does not answer: Unable to connect")
          assert.are.equal(0, r.code, r.out) -- the fake answers the rest
        end)

        it("refuses a namespace of the bundle that is being deleted", function()
          local r = refused({ namespaces = "gpu-operator|Terminating|\nother|Terminating|\n" },
            "namespace gpu%-operator is being deleted")
          assert.is_nil(r.out:find("namespace other", 1, true))
        end)

        it("refuses a release stuck in pending-install or pending-upgrade, naming the fix", function()
          refused({ releases = "kai-scheduler kai-scheduler pending-install\n" },
            "release kai%-scheduler in kai%-scheduler is stuck in pending%-install.-helm uninstall kai%-scheduler %-n kai%-scheduler %-%-no%-hooks")
          refused({ releases = "cert-manager cert-manager pending-upgrade\n" }, "helm rollback cert%-manager %-n cert%-manager")
        end)

        it("refuses a CRD being deleted, or owned by a release of ours in another namespace", function()
          refused({ crds = "skyhooks.skyhook.nvidia.com|2026-01-01T00:00:00Z||\n" }, "CRD skyhooks%.skyhook%.nvidia%.com is being deleted")
          refused({ crds = "certificates.cert-manager.io||cert-manager|security\nfoo.example.com||other|x\n" },
            "CRD certificates%.cert%-manager%.io belongs to release cert%-manager in namespace security, but this bundle installs cert%-manager in cert%-manager")
          local r = script(b[d], "deploy.sh", state({ crds = "certificates.cert-manager.io||cert-manager|cert-manager\n" }))
          assert.are.equal(0, r.code, r.out)
        end)

        it("refuses a webhook calling a missing service of a bundle namespace, not one elsewhere", function()
          refused({ ["webhooks-validatingwebhookconfigurations"] = "gpu-operator-admission|gpu-operator/gone gpu-operator/here \n",
                    services = "gpu-operator/here\n" },
            "validatingwebhookconfigurations gpu%-operator%-admission calls service gpu%-operator/gone, which does not exist")
          local r = script(b[d], "deploy.sh", state({
            ["webhooks-mutatingwebhookconfigurations"] = "elsewhere|other-ns/gone \nurl-only|/ \n",
            ["webhooks-validatingwebhookconfigurations"] = "fine|cert-manager/cert-manager-webhook \n",
            services = "cert-manager/cert-manager-webhook\n" }))
          assert.are.equal(0, r.code, r.out)
        end)
      end)
    end)

    describe(d .. " undeploy.sh", function()
      local all = lines("cert-manager cert-manager deployed", "aws-efa kube-system deployed",
        "skyhook-customizations skyhook deployed", "gpu-operator gpu-operator deployed", "kai-scheduler kai-scheduler deployed")

      it("removes in reverse order; deletes the namespaces deploy.sh created, empty ones only", function()
        local st = state({ releases = all .. "user-app kai-scheduler deployed\n",
          namespaces = lines("gpu-operator|Active|eidos-eks-h100-training", "kai-scheduler|Active|eidos-eks-h100-training",
            "cert-manager|Active|", "skyhook|Active|eidos-eks-h100-training", "kube-system|Active|eidos-eks-h100-training"),
          pvcs = "skyhook data-0\n" })
        local r = script(b[d], "undeploy.sh", st)
        assert.are.equal(0, r.code, r.out)
        local gone = {}
        for _, c in ipairs(grep(r.calls, "^helm uninstall")) do gone[#gone + 1] = c:match("^helm uninstall (%S+)") end
        if d == "helm-components" then
          -- the manifest-only component is not a release; its manifests are deleted
          assert.are.equal(1, #grep(r.calls, "^kubectl delete %-%-namespace skyhook %-f .*/skyhook%-customizations/manifests/"))
        end
        assert.are.same({ "kai-scheduler", "gpu-operator", "skyhook-customizations", "aws-efa", "cert-manager" }, gone)
        assert.are.same({ "kubectl delete namespace gpu-operator --wait=false" }, grep(r.calls, "^kubectl delete namespace"))
        assert.matches("namespace kai%-scheduler kept: it still holds the release%(s%) user%-app", r.out)
        assert.matches("namespace skyhook kept: it holds 1 PersistentVolumeClaim", r.out)
        assert.are.same({}, grep(r.calls, "delete persistentvolumeclaims"))
        assert.matches("Removal complete%. CRDs are kept%.", r.out)
      end)

      it("--delete-pvcs deletes the claims (all of them only where deploy.sh made the namespace); --keep-namespaces keeps them", function()
        local st = state({ releases = all, pvcs = "skyhook data-0\ngpu-operator x\n",
          namespaces = lines("skyhook|Active|eidos-eks-h100-training", "gpu-operator|Active|") })
        local r = script(b[d], "undeploy.sh", st, "--delete-pvcs")
        assert.are.equal(0, r.code, r.out)
        assert.are.equal(1, #grep(r.calls, "^kubectl delete persistentvolumeclaims %-%-all %-%-namespace skyhook"))
        assert.are.equal(1, #grep(r.calls, "^kubectl delete persistentvolumeclaims %-%-namespace gpu%-operator .*app%.kubernetes%.io/instance=gpu%-operator"))
        assert.are.same({ "kubectl delete namespace skyhook --wait=false" }, grep(r.calls, "^kubectl delete namespace"))
        st = state({ releases = all, namespaces = "skyhook|Active|eidos-eks-h100-training\n" })
        r = script(b[d], "undeploy.sh", st, "--keep-namespaces")
        assert.are.equal(0, r.code, r.out)
        assert.are.same({}, grep(r.calls, "^kubectl delete namespace"))
      end)

      it("uninstalls a stuck release without hooks, and retries a failing one without hooks", function()
        local st = state({ releases = lines("cert-manager cert-manager pending-install", "gpu-operator gpu-operator deployed"),
                           ["fail-uninstall-gpu-operator"] = "1" })
        local r = script(b[d], "undeploy.sh", st, "--timeout 120")
        assert.are.equal(0, r.code, r.out)
        assert.are.same({ "helm uninstall cert-manager --namespace cert-manager --no-hooks --wait --timeout 120s" },
          grep(r.calls, "^helm uninstall cert%-manager"))
        assert.matches("release cert%-manager is stuck in pending%-install", r.out)
        assert.are.same({ "helm uninstall gpu-operator --namespace gpu-operator --wait --timeout 120s",
                          "helm uninstall gpu-operator --namespace gpu-operator --no-hooks --wait --timeout 120s" },
          grep(r.calls, "^helm uninstall gpu%-operator"))
        assert.matches("no release kai%-scheduler in namespace kai%-scheduler", r.out)
      end)

      it("deletes webhook configurations left calling a removed service of a component's namespace", function()
        local st = state({ releases = all, services = "cert-manager/cert-manager-webhook\n",
          namespaces = lines("cert-manager|Active|", "kai-scheduler|Active|"),
          ["webhooks-validatingwebhookconfigurations"] = lines("kai-admission|kai-scheduler/kai-webhook ",
            "cert-manager-webhook|cert-manager/cert-manager-webhook ", "unrelated|other/gone ") })
        local r = script(b[d], "undeploy.sh", st)
        assert.are.equal(0, r.code, r.out)
        assert.are.same({ "kubectl delete validatingwebhookconfigurations kai-admission --ignore-not-found" },
          grep(r.calls, "^kubectl delete validatingwebhookconfigurations kai"))
        assert.are.same({}, grep(r.calls, "^kubectl delete %S+ cert%-manager%-webhook"))
        assert.are.same({}, grep(r.calls, "^kubectl delete %S+ unrelated"))
      end)

      it("goes on past a component it cannot remove and exits 1 naming it", function()
        local st = state({ releases = all, ["fail-uninstall-gpu-operator"] = "1", ["fail-uninstall-nohooks-gpu-operator"] = "1" })
        local r = script(b[d], "undeploy.sh", st)
        assert.are.equal(1, r.code, r.out)
        assert.matches("gpu%-operator was not removed completely; going on", r.out)
        assert.matches("not removed completely: gpu%-operator\n", r.out)
        assert.are.equal(1, #grep(r.calls, "^helm uninstall cert%-manager "))
      end)

      it("--dry-run prints the commands and touches nothing", function()
        local st = state({ releases = all })
        local r = script(b[d], "undeploy.sh", st, "--dry-run --delete-pvcs")
        assert.are.equal(0, r.code, r.out)
        assert.are.same({}, r.calls)
        assert.matches("helm uninstall kai%-scheduler %-%-namespace kai%-scheduler %-%-wait %-%-timeout 10m", r.out)
        assert.matches("kubectl delete persistentvolumeclaims %-%-all %-%-namespace gpu%-operator", r.out)
      end)
    end)
  end

  describe("helm-components manifests", function()
    it("applies a chart component's manifests before and after its chart, tolerating missing CRDs before", function()
      local st = state({ ["apply-gpu-operator"] = "1", ["apply-gpu-operator.out"] = lines(
        "configmap/dcgm-metrics created",
        'error: resource mapping not found for name: "x" namespace: "gpu-operator" from "m.yaml": no matches for kind "NVIDIADriver" in version "nvidia.com/v1alpha1"',
        "ensure CRDs are installed first") })
      local r = script(b["helm-components"], "deploy.sh", st)
      assert.are.equal(0, r.code, r.out)
      local seq = {}
      for _, c in ipairs(r.calls) do
        if c:find("gpu%-operator/manifests/") then seq[#seq + 1] = "apply"
        elseif c:find("^helm upgrade %-%-install gpu%-operator ") then seq[#seq + 1] = "chart" end
      end
      assert.are.same({ "apply", "chart", "apply" }, seq)
      assert.matches("objects whose CRD comes with the chart are applied after it", r.out)
    end)

    it("fails on any other apply error before the chart", function()
      local st = state({ ["apply-gpu-operator"] = "1", ["apply-gpu-operator.out"] =
        'Error from server (Forbidden): configmaps is forbidden: User "x" cannot create resource "configmaps"\n' })
      local r = script(b["helm-components"], "deploy.sh", st)
      assert.are.equal(1, r.code, r.out)
      assert.matches("Forbidden", r.out)
      assert.are.same({}, grep(r.calls, "install gpu%-operator"))
    end)

    it("retries a manifest-only component's apply (its CRD may still be arriving)", function()
      local st = state({ ["apply-skyhook-customizations"] = "2", ["apply-skyhook-customizations.out"] =
        'error: resource mapping not found for name: "t" namespace: "" from "t.yaml": no matches for kind "Skyhook"\n' })
      local r = script(b["helm-components"], "deploy.sh", st)
      assert.are.equal(0, r.code, r.out)
      assert.are.same({ "sleep 5", "sleep 20" }, grep(r.calls, "^sleep"))
      assert.are.equal(3, #grep(r.calls, "^kubectl apply %-%-namespace skyhook %-f .*skyhook%-customizations/manifests/"))
    end)
  end)
end)
