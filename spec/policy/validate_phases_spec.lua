-- The parts of validate's phases that need no cluster: phase names, the
-- Helm release decoding and matching (both shapes, Helm's coalescing, the
-- inflate cap), nccl-tests output parsing, the OpenSSH key pair of the NCCL
-- Job, the exit status of a result, the JUnit and CTRF writers, and
-- redaction of evidence.
local support = require("support")
local phases = require("eidos.validate.phases")
local helm = require("eidos.validate.helm")
local nccl = require("eidos.validate.nccl")
local result = require("eidos.validate.result")
local base64 = require("eidos.core.base64")
local archive = require("eidos.core.archive")
local cjson = require("cjson")

local NCCL = "spec/fixtures/k8s/nccl-all-reduce-h100-2node.txt"

describe("validate phases (no cluster)", function()
  describe("phase names", function()
    it("defaults to readiness, reads repeats and comma lists, runs in a fixed order", function()
      assert.are.same({ "readiness" }, phases.parse(nil))
      assert.are.same({ "readiness", "deployment", "conformance", "performance" }, phases.parse({ "all" }))
      assert.are.same({ "deployment", "performance" }, phases.parse({ "performance", "Deployment,performance" }))
      local ok, e = pcall(phases.parse, { "deployment,conform" })
      assert.is_false(ok)
      assert.are.equal("invalid", e.code)
      assert.matches('invalid phase "conform" (accepted: readiness, deployment, conformance, performance, all); ' ..
        'did you mean "conformance"?', e.msg, 1, true)
      ok, e = pcall(phases.parse, { "deployment,," })
      assert.is_false(ok)
      assert.matches("an empty phase name", e.msg, 1, true)
    end)

    it("every built-in check module loads, declares its phase, and is selected by the recipe", function()
      local mods = phases.load_checks()
      local n = 0
      for name, m in pairs(mods) do
        n = n + 1
        assert.is_true(result.is_phase(m.phase), name)
        assert.is_string(m.description, name)
      end
      assert.is_true(n >= 18)
      local sel = phases.select("deployment", { validation = { deployment = {
        checks = { "operator-health", "workloads-ready", "no-such-check", "gfd-labels" } } } })
      local names = {}
      for _, s in ipairs(sel) do names[#names + 1] = s.name .. (s.module and "" or "?") end
      assert.are.same({ "helm-release", "gitops-sync", "workloads-ready", "expected-resources", "values-drift",
                        "operator-health", "no-such-check?", "gfd-labels?" }, names)
      assert.are.equal("conformance", sel[8].wrong_phase)
    end)
  end)

  describe("Helm release records", function()
    local rel = { name = "gpu-operator", namespace = "gpu-operator", version = 3,
      info = { status = "deployed" },
      chart = { metadata = { name = "gpu-operator", version = "v25.10.1" }, values = { driver = { enabled = true } },
                templates = { { name = "t.yaml", data = base64.encode("x: 1\n") } } },
      config = { driver = { version = "580.105.08" } }, manifest = "---\nkind: Secret\ndata: {password: c2VjcmV0}\n" }

    local function record(payload, kind)
      if kind == "Secret" then
        return { kind = "Secret", type = helm.SECRET_TYPE, data = { release = base64.encode(payload) },
                 metadata = { name = "sh.helm.release.v1.gpu-operator.v3", namespace = "gpu-operator",
                              labels = { owner = "helm", name = "gpu-operator", version = "3", status = "deployed" } } }
      end
      return { kind = "ConfigMap", data = { release = payload },
               metadata = { name = "sh.helm.release.v1.gpu-operator.v3", namespace = "gpu-operator",
                            labels = { version = "3" } } }
    end

    it("decodes both storage drivers, gzip'd or plain JSON, keeping only what checks read", function()
      local gz = base64.encode(assert(archive.gzip(cjson.encode(rel))))
      local plain = base64.encode(cjson.encode(rel))
      for _, p in ipairs({ gz, plain }) do
        for _, kind in ipairs({ "Secret", "ConfigMap" }) do
          local r = helm.decode({ obj = record(p, kind), storage = kind, revision = 3 })
          assert.are.equal("gpu-operator", r.name)
          assert.are.equal("deployed", r.info.status)
          assert.are.equal("v25.10.1", r.chart.metadata.version)
          assert.are.equal("580.105.08", r.config.driver.version)
          assert.is_nil(r.manifest)
          assert.is_nil(r.chart.templates)
        end
      end
      assert.are.equal(3, helm.revision(record(gz, "Secret")))
    end)

    it("refuses corrupt records, naming them, and caps what a record may inflate to", function()
      local function fails(payload, pat)
        local ok, e = pcall(helm.decode, { obj = record(payload, "ConfigMap"), storage = "ConfigMap" })
        assert.is_false(ok)
        assert.are.equal("invalid", e.code)
        assert.matches("Helm release record ConfigMap gpu-operator/sh.helm.release.v1.gpu-operator.v3: " .. pat, e.msg, 1, true)
      end
      fails("%%%", "the release is not base64")
      fails(base64.encode("not json"), "the release is not JSON")
      fails(base64.encode("\31\139\8garbage"), "corrupt gzip data")
      -- a bomb: 64 MiB of zeros, ~64 KiB gzip'd; the cap here is 1 MiB
      local p = io.popen("head -c 67108864 /dev/zero | gzip -c -9")
      local bomb = p:read("a")
      p:close()
      local doc = require("eidos.doc")
      local old = doc.limits.max_expanded
      doc.limits.max_expanded = 1048576
      local ok, e = pcall(helm.decode, { obj = record(base64.encode(bomb), "ConfigMap"), storage = "ConfigMap" })
      doc.limits.max_expanded = old
      assert.is_false(ok)
      assert.matches("gzip data expands to more than 1048576 bytes (the limit) (set by the user; change it with " ..
        "--max-expanded-size SIZE or EIDOS_MAX_EXPANDED_SIZE)", e.msg, 1, true)
      assert.are.equal(64 * 1024 * 1024, helm.max_inflated(1000))
      assert.are.equal(16 * 8 * 1024 * 1024, helm.max_inflated(8 * 1024 * 1024))
    end)

    it("matches a chart installed directly or as an enabled dependency of an umbrella chart", function()
      local comp = { name = "gpu-operator", chart = "gpu-operator", version = "v25.10.1" }
      local direct = { name = "gpu-operator", chart = { metadata = { name = "gpu-operator", version = "25.10.1" },
                       values = {} }, config = {} }
      local m = helm.match(direct, comp)
      assert.is_true(m.ok)
      assert.are.equal("direct", m.shape)
      direct.chart.metadata.version = "v25.3.0"
      m = helm.match(direct, comp)
      assert.is_false(m.ok)
      assert.are.equal("chart gpu-operator v25.3.0", m.actual)
      local umbrella = { name = "gpu-operator",
        chart = { metadata = { name = "eidos-eks", version = "0.1.0", dependencies = {
          { name = "cert-manager", version = "v1.17.2", condition = "cert-manager.enabled" },
          { name = "gpu-operator", version = "v25.10.1", condition = "gpu-operator.enabled" } } },
          values = { ["gpu-operator"] = { enabled = true, driver = { enabled = true } } } },
        config = { ["cert-manager"] = { enabled = false } } }
      m = helm.match(umbrella, comp)
      assert.is_true(m.ok)
      assert.are.equal("umbrella", m.shape)
      assert.are.same({ driver = { enabled = true } }, helm.values(umbrella, m))
      umbrella.config["gpu-operator"] = { enabled = false }
      m = helm.match(umbrella, comp)
      assert.is_false(m.ok)
      assert.matches("its values disable it (gpu-operator.enabled=false)", m.why, 1, true)
      -- an aliased dependency (the chart's name differs from the component's)
      local aliased = { name = "aws-efa", chart = { metadata = { name = "u", version = "1", dependencies = {
        { name = "aws-efa-k8s-device-plugin", alias = "aws-efa", version = "v0.5.3" } } }, values = {} }, config = {} }
      assert.is_true(helm.match(aliased, { name = "aws-efa", chart = "aws-efa-k8s-device-plugin", version = "v0.5.3" }).ok)
      local other = helm.match({ name = "x", chart = { metadata = { name = "nginx", version = "1" }, values = {} },
        config = {} }, comp)
      assert.is_false(other.ok)
      assert.is_nil(other.shape)
    end)

    it("reads the revisions that are not superseded, every revision when none is left, Secrets before ConfigMaps", function()
      local function rec(kind, v, status)
        return { kind = kind, type = kind == "Secret" and helm.SECRET_TYPE or nil, data = { release = "x" },
                 metadata = { name = "sh.helm.release.v1.r.v" .. v, labels = { owner = "helm", name = "r",
                   version = tostring(v), status = status } } }
      end
      local function reader(objs)
        local r = { asked = {} }
        function r.list(_, _, resource, _, opts)
          r.asked[#r.asked + 1] = resource .. " " .. opts.label_selector
          local out = {}
          for _, o in ipairs(objs) do
            local kind = resource == "secrets" and "Secret" or "ConfigMap"
            local sup = opts.label_selector:find("status!=superseded", 1, true)
            if o.kind == kind and not (sup and o.metadata.labels.status == "superseded") then out[#out + 1] = o end
          end
          return out
        end
        return r
      end
      local r = reader({ rec("Secret", 1, "superseded"), rec("Secret", 3, "pending-upgrade"), rec("Secret", 2, "deployed") })
      local h = helm.history(r, "ns", "r")
      assert.are.same({ 3, 2 }, { h[1].revision, h[2].revision })
      assert.are.same({ "secrets owner=helm,name=r,status!=superseded" }, r.asked)
      assert.is_nil(h[2].obj.data)              -- only the latest keeps its encoded data
      assert.are.equal("x", h[1].obj.data.release)
      r = reader({ rec("ConfigMap", 1, "superseded"), rec("ConfigMap", 2, "superseded") })
      h = helm.history(r, "ns", "r")
      assert.are.equal(2, h[1].revision)
      assert.are.equal("ConfigMap", h[1].storage)
      assert.are.same({ "secrets owner=helm,name=r,status!=superseded", "configmaps owner=helm,name=r,status!=superseded",
                        "secrets owner=helm,name=r", "configmaps owner=helm,name=r" }, r.asked)
      assert.are.same({}, helm.history(reader({}), "ns", "r"))
    end)

    it("coalesces values as Helm does: maps merge, the given ones win, null deletes", function()
      local null = require("eidos.doc").null
      assert.are.same({ a = { b = 2, c = 3 }, d = { 9 } },
        helm.coalesce({ a = { b = 1, c = 3 }, d = { 1, 2 }, e = "x" }, { a = { b = 2 }, d = { 9 }, e = null }))
    end)
  end)

  describe("nccl-tests output", function()
    it("reads the out-of-place bus bandwidth of the largest size from a published all_reduce_perf run", function()
      local r = assert(nccl.parse(support.read(NCCL)))
      assert.are.equal(338.82, r.busbw)
      assert.are.equal(8589934592, r.size)
      assert.are.equal(70.742, r.avg)
      assert.are.equal(31, r.rows)
      assert.are.equal(0, r.wrong)
      assert.are.equal(0, r.out_of_bounds)
    end)

    it("reads the format without the root column, counts wrong results, and says when there is no row", function()
      local old = table.concat({
        "#       size         count      type   redop     time   algbw   busbw  error     time   algbw   busbw  error",
        "     1048576        262144     float     sum    203.2    5.16    9.68  0e+00    207.2    5.06    9.49  0e+00",
        "   134217728      33554432     float     sum   1652.2   81.24  152.32      2   1636.7   82.01  153.76      1",
        "# Avg bus bandwidth    : 80.5", "" }, "\n")
      local r = assert(nccl.parse(old))
      assert.are.equal(152.32, r.busbw)
      assert.are.equal(3, r.wrong)
      local v, why = nccl.parse("mpirun was unable to launch\nsecond line\n")
      assert.is_nil(v)
      assert.are.equal("no all_reduce_perf result rows in the output (2 lines)", why)
    end)

    it("thresholds compare numbers, not versions", function()
      local check = require("eidos.validate.checks.nccl-all-reduce-bw")
      assert.is_true(check.holds(">= 300", 338.82))
      assert.is_false(check.holds(">= 300.5", 300.49))
      assert.is_true(check.holds("> 250, < 400", 338.82))
      local v, why = check.holds(">= fast", 1)
      assert.is_nil(v)
      assert.matches("is not a numeric comparison", why, 1, true)
    end)

    it("makes an OpenSSH Ed25519 key pair that ssh-keygen reads back", function()
      local priv, pub = nccl.ssh_keypair("eidos-nccl@test")
      assert.matches("^%-%-%-%-%-BEGIN OPENSSH PRIVATE KEY%-%-%-%-%-\n", priv)
      assert.matches("^ssh%-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[%w+/=]+ eidos%-nccl@test\n$", pub)
      local priv2 = nccl.ssh_keypair("x")
      assert.are_not.equal(priv, priv2)
      if os.execute("command -v ssh-keygen >/dev/null 2>&1") ~= true then return end
      local d = support.tmpdir()
      support.write(d .. "/k", priv)
      os.execute("chmod 600 " .. support.q(d .. "/k"))
      local p = io.popen("ssh-keygen -y -f " .. support.q(d .. "/k") .. " 2>&1")
      local got = p:read("a")
      p:close()
      os.execute("rm -rf " .. support.q(d))
      assert.are.equal(pub:match("^(ssh%-ed25519 %S+)"), got:match("^(ssh%-ed25519 %S+)"), got)
    end)

    it("builds the Job and TrainJob objects for N nodes x G GPUs", function()
      local spec = { namespace = "ns", image = "img", nodes = 2, gpus = 8, node_selector = { pool = "gpu" },
        extra_resources = { ["vpc.amazonaws.com/efa"] = 32 }, env = { NCCL_DEBUG = "WARN" }, mpirun = "/mpirun",
        binary = "/all_reduce_perf", args = { "-b", "8" }, timeout = 600 }
      local objs = nccl.job_objects(spec)
      assert.are.same({ "Secret", "Service", "Job" }, { objs[1].kind, objs[2].kind, objs[3].kind })
      local job = objs[3].obj
      assert.are.equal("Indexed", job.spec.completionMode)
      assert.are.equal(2, job.spec.parallelism)
      assert.are.equal(660, job.spec.activeDeadlineSeconds)
      local c = job.spec.template.spec.containers[1]
      assert.are.equal("8", c.resources.limits["nvidia.com/gpu"])
      assert.are.equal("32", c.resources.limits["vpc.amazonaws.com/efa"])
      assert.matches("/mpirun --allow-run-as-root -np 16 --bind-to none", c.command[3], 1, true)
      assert.matches("-H eidos-nccl-0.eidos-nccl:8,eidos-nccl-1.eidos-nccl:8", c.command[3], 1, true)
      assert.are.equal("None", objs[2].obj.spec.clusterIP)
      local t = nccl.trainjob_objects(spec)
      assert.are.same({ "TrainingRuntime", "TrainJob" }, { t[1].kind, t[2].kind })
      assert.are.equal(8, t[1].obj.spec.mlPolicy.mpi.numProcPerNode)
      assert.are.equal(2, t[2].obj.spec.trainer.numNodes)
    end)
  end)

  describe("results", function()
    local function doc_of(list)
      return result.document({ { name = "deployment", checks = list } }, nil, {})
    end

    it("phase and overall status, and the exit status: 9 for a failure, else the errors' code", function()
      local d = doc_of({ { name = "a", status = "passed" }, { name = "b", status = "skipped" } })
      assert.are.equal("passed", d.phases[1].status)
      assert.are.equal("partial", d.status)
      assert.is_nil(result.exit(d, {}, true))
      d = doc_of({ { name = "a", status = "failed", component = "x", reason = "r" },
                   { name = "b", status = "error", code = "unauthorized", reason = "denied" } })
      assert.are.equal("failed", d.phases[1].status)
      assert.are.equal("fail", d.status)
      local code, msg = result.exit(d, { unauthorized = 1 }, true)
      assert.are.equal("checkfailed", code)
      assert.are.equal("validation failed: 1 of 2 checks failed: deployment a (x)", msg)
      code = result.exit(d, { unauthorized = 1, unavailable = 1 }, false)
      assert.are.equal("unauthorized", code)
      d = doc_of({ { name = "b", status = "error", reason = "down" } })
      assert.are.equal("error", d.status)
      assert.are.equal("unavailable", (result.exit(d, { unavailable = 1 }, true)))
      assert.are.equal("timeout", (result.exit(d, { internal = 1, timeout = 1 }, true)))
      assert.are.equal("internal", (result.exit(d, { internal = 1, invalid = 1 }, true)))
      assert.are.equal("failure", (result.exit(d, { invalid = 1 }, true)))
      assert.are.equal("skipped", doc_of({}).phases[1].status)
      assert.are.equal("pass", doc_of({}).status)
    end)

    it("a check keeps only the shape's keys, in order; remediation only where something is wrong", function()
      local c = result.check({ name = "n", status = "passed", remediation = "fix", code = "x", warning = true,
        evidence = { { kind = "K", name = "o", apiVersion = "v1", extra = 1 } } })
      assert.are.equal('{\n  "name": "n",\n  "status": "passed",\n  "evidence": [\n    {\n      "apiVersion": "v1",\n' ..
        '      "kind": "K",\n      "name": "o"\n    }\n  ]\n}\n', require("eidos.doc").encode(c, "json"))
      assert.is_nil(c.remediation)
      assert.are.same({ apiVersion = "v1", kind = "K", name = "o" }, c.evidence[1])
      c = result.check({ name = "n", status = "failed", remediation = "fix", expected = 3, actual = { a = 1 } })
      assert.are.equal("fix", c.remediation)
      assert.are.equal("3", c.expected)
    end)

    it("CTRF: one test per check, error -> other with rawStatus, summary counts, integer times", function()
      local d = result.document({
        { name = "deployment", checks = { { name = "a", component = "x", status = "passed" },
                                          { name = "b", status = "error", reason = "denied" } } },
        { name = "conformance", checks = { { name = "c", status = "failed", reason = "r", expected = "1", actual = "2" } } },
      }, nil, {})
      local r = cjson.decode(require("eidos.validate.ctrf").report(d, { start = 100, stop = 102,
        durations = { { 5, 7 }, { 11 } } }))
      assert.are.equal("CTRF", r.reportFormat)
      assert.are.equal("0.0.0", r.specVersion)
      assert.are.same({ tests = 3, passed = 1, failed = 1, skipped = 0, pending = 0, other = 1, suites = 2,
                        start = 100000, stop = 102000 }, r.results.summary)
      assert.are.equal("a x", r.results.tests[1].name)
      assert.are.same({ "deployment" }, r.results.tests[1].suite)
      assert.are.equal("other", r.results.tests[2].status)
      assert.are.equal("error", r.results.tests[2].rawStatus)
      assert.are.equal(11, r.results.tests[3].duration)
      assert.are.equal("r (expected 1, actual 2)", r.results.tests[3].message)
      local t = require("eidos.validate.ctrf").tests(d, { suite_prefix = { "cluster-a" } })
      assert.are.same({ "cluster-a", "conformance" }, t[3].suite)
    end)

    it("JUnit: a testsuite per phase; errors are <error>, skips <skipped>", function()
      local d = result.document({ { name = "deployment", checks = {
        { name = "a", component = "x", status = "failed", reason = "bad <thing>", expected = "1", actual = "2",
          evidence = { { apiVersion = "v1", kind = "Secret", namespace = "ns", name = "s" } } },
        { name = "b", status = "error", reason = "denied" }, { name = "c", status = "skipped", reason = "n/a" } } } },
        nil, {})
      local x = require("eidos.validate.report").junit(d)
      assert.matches('<testsuite name="eidos validate deployment" tests="3" failures="1" errors="1" skipped="1">', x, 1, true)
      assert.matches('<failure message="bad &lt;thing&gt;" type="failed">check: a\ncomponent: x\nexpected: 1\nactual: 2\n' ..
        'reason: bad &lt;thing&gt;\nevidence: v1 Secret ns/s</failure>', x, 1, true)
      assert.matches('<error message="denied" type="error">', x, 1, true)
      assert.matches('<skipped message="n/a"/>', x, 1, true)
    end)
  end)

  describe("evidence redaction", function()
    it("replaces secret data, secret-looking values and env entries; keeps the rest", function()
      local redact = require("eidos.snapshot.redact")
      local t = redact.tree({ spec = { replicas = 2.0, auth = { password = "p", user = "u" },
        env = { { name = "API_TOKEN", value = "t" }, { name = "MODE", value = "m" } }, tls = { enabled = true } } })
      assert.are.equal(2, t.spec.replicas)
      assert.are.equal("integer", math.type(t.spec.replicas))
      assert.are.equal("<redacted>", t.spec.auth.password)
      assert.are.equal("u", t.spec.auth.user)
      assert.are.equal("<redacted>", t.spec.env[1].value)
      assert.are.equal("m", t.spec.env[2].value)
      local ev = require("eidos.validate.evidence").new()
      ev:object({ apiVersion = "v1", kind = "Secret", metadata = { name = "s", namespace = "n" },
                  data = { ["ca.crt"] = "Y2E=" } })
      ev:log("n", "p", "started\nexport NCCL_TOKEN=abc OTHER=1\n")
      local files = ev:files({ kind = "ValidationResult" })
      local by = {}
      for _, f in ipairs(files) do by[f.path] = f.data end
      assert.matches('"ca.crt": "<redacted>"', by["objects/core/v1/Secret/n/s.json"], 1, true)
      assert.are.equal("started\nexport NCCL_TOKEN=<redacted> OTHER=1\n", by["logs/n/p.log"])
      assert.matches("  objects/core/v1/Secret/n/s.json\n", by["checksums.txt"], 1, true)
      assert.are.equal("checksums.txt", files[#files].path)
    end)
  end)
end)
