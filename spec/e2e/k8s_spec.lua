-- Kubernetes as a user meets it, through the eidos binary against the test
-- API server (TLS, certificates generated here): the kubeconfig sources
-- that come from the environment (KUBECONFIG merged, ~/.kube/config,
-- in-cluster service account), cm:// across snapshot -> recipe -> validate,
-- and the snapshot agent Job succeeding and failing.
local fake = require("k8s_fake")
local support = require("support")
local cjson = require("cjson")

local available = fake.available() and support.exists(support.eidos)
local describe_if = available and describe or pending

describe_if("eidos with Kubernetes (test API server)", function()
  local srv

  setup(function()
    srv = fake.start({ pods = 50 })
  end)

  teardown(function()
    if srv then srv:stop() end
    fake.cleanup()
  end)

  before_each(function()
    srv:reset()
  end)

  local function run(args, env)
    local e = { EIDOS_HOME = support.root, HOME = srv.dir .. "/nohome", KUBECONFIG = "" }
    for k, v in pairs(env or {}) do e[k] = v end
    return support.run(args, { env = e })
  end

  local function probe(env, kubeconfig, context)
    local r = run({ "lua", "spec/fixtures/k8s/probe.lua", kubeconfig or "", context or "" }, env)
    assert.are.equal(0, r.code, r.err)
    return cjson.decode(r.out)
  end

  describe("connection sources", function()
    it("KUBECONFIG with several files is merged; the first file to define a name wins", function()
      local good = srv:kubeconfig("token", { name = "kc-good" })
      -- a second file defining the same names with a dead server, and an extra context
      local other = srv.dir .. "/kc-other"
      support.write(other, table.concat({
        "clusters:", "- name: fake-cluster", "  cluster: {server: 'https://127.0.0.1:1'}",
        "- name: spare", "  cluster: {server: '" .. srv.base .. "', certificate-authority: ca.crt}",
        "users:", "- name: spare-user", "  user: {token: " .. fake.TOKEN .. "}",
        "contexts:", "- name: spare-ctx", "  context: {cluster: spare, user: spare-user, namespace: kube-system}",
        "current-context: spare-ctx", "" }, "\n"))
      local r = probe({ KUBECONFIG = good .. ":" .. srv.dir .. "/missing:" .. other })
      assert.are.equal(3, r.nodes, r.error)
      assert.are.equal("fake", r.context)
      assert.are.equal("default", r.namespace)
      -- a context from the second file, its cluster from the second file too
      r = probe({ KUBECONFIG = good .. ":" .. other }, "", "spare-ctx")
      assert.are.equal(3, r.nodes, r.error)
      assert.are.equal("kube-system", r.namespace)
      -- the order decides: the dead server first
      r = probe({ KUBECONFIG = other .. ":" .. good }, "", "fake")
      assert.are.equal("unavailable", r.code, cjson.encode(r))
      -- --kubeconfig beats KUBECONFIG
      r = probe({ KUBECONFIG = other }, good)
      assert.are.equal(3, r.nodes, r.error)
    end)

    it("~/.kube/config when nothing else is given", function()
      local home = srv.dir .. "/home"
      os.execute("mkdir -p " .. support.q(home .. "/.kube"))
      local kc = srv:kubeconfig("cert-data", { name = "kc-home" })
      support.write(home .. "/.kube/config", support.read(kc))
      local r = probe({ HOME = home })
      assert.are.equal(3, r.nodes, r.error)
      assert.are.equal("cert", r.auth)
      assert.truthy(r.source:find("~/.kube/config", 1, true))
    end)

    it("the in-cluster service account", function()
      local sa = srv.dir .. "/sa"
      os.execute("mkdir -p " .. support.q(sa))
      support.write(sa .. "/token", fake.TOKEN .. "\n")
      support.write(sa .. "/ca.crt", support.read(srv.dir .. "/ca.crt"))
      support.write(sa .. "/namespace", "gpu-operator")
      local env = { EIDOS_SERVICEACCOUNT_DIR = sa, KUBERNETES_SERVICE_HOST = "127.0.0.1",
                    KUBERNETES_SERVICE_PORT = tostring(srv.port) }
      local r = probe(env)
      assert.are.equal(3, r.nodes, r.error)
      assert.are.equal("token-file", r.auth)
      assert.are.equal("gpu-operator", r.namespace)
      assert.are.equal("in-cluster", r.context)
    end)

    it("says what it tried when there is nothing", function()
      local r = probe({})
      assert.are.equal("notfound", r.code)
      assert.truthy(r.error:find("KUBECONFIG", 1, true) and r.error:find("in-cluster", 1, true), r.error)
    end)
  end)

  describe("cm:// through the commands", function()
    it("snapshot -o cm:// then recipe and validate read it", function()
      local env = { KUBECONFIG = srv:kubeconfig("cert") }
      local r = run({ "snapshot", "--only", "OS", "--sysroot", "spec/fixtures/sysroot/basic",
                      "-o", "cm://default/snap" }, env)
      assert.are.equal(0, r.code, r.err)
      r = run({ "recipe", "--snapshot", "cm://default/snap", "-o", "cm://default/recipe" }, env)
      assert.are.equal(0, r.code, r.err)
      r = run({ "validate", "--snapshot", "cm://default/snap", "--recipe", "cm://default/recipe", "-t", "json" }, env)
      assert.are.equal(0, r.code, r.err)
      local v = cjson.decode(r.out)
      assert.truthy(v.kind)
      -- the ConfigMaps hold one document each, under the documented keys
      local c = require("eidos.k8s.client")
      c.set_defaults({ kubeconfig = env.KUBECONFIG })
      local snap = c.check(c.shared():get("/api/v1/namespaces/default/configmaps/snap"))
      assert.truthy(snap.data["snapshot.yaml"])
      local rec = c.check(c.shared():get("/api/v1/namespaces/default/configmaps/recipe"))
      assert.are.equal("yaml", rec.data.format)
      local key
      for k in pairs(rec.data) do if k:match("%.yaml$") then key = k end end
      assert.truthy(key, cjson.encode(rec.data))
    end)

    it("--kubeconfig <(...) and KUBECONFIG=/dev/fd/N: a pipe is read once and serves the whole run", function()
      local kc = srv:kubeconfig("cert-data")
      local r = run({ "snapshot", "--only", "OS", "--sysroot", "spec/fixtures/sysroot/basic", "-o", "cm://default/snap" },
        { KUBECONFIG = kc })
      assert.are.equal(0, r.code, r.err)
      local function bash(script)
        return support.sh(string.format("EIDOS_HOME=%s HOME=%s KUBECONFIG= bash -c %s", support.q(support.root),
          support.q(srv.dir .. "/nohome"), support.q(script)))
      end
      local eidos = support.q(support.eidos_abs)
      -- the recipe reads the snapshot from cm://, then writes one: two clients, one pipe
      r = bash(eidos .. " --kubeconfig <(cat " .. support.q(kc) .. ") recipe --snapshot cm://default/snap " ..
        "--service eks --intent training --allow-partial -o cm://default/from-pipe")
      assert.are.equal(0, r.code, r.err)
      assert.truthy(r.err:find("wrote recipe to cm://default/from-pipe (", 1, true), r.err)
      r = bash("KUBECONFIG=<(cat " .. support.q(kc) .. ") " .. eidos ..
        " validate -s cm://default/snap -r cm://default/from-pipe -t json")
      assert.are.equal(0, r.code, r.err)
      assert.truthy(r.out:find('"ValidationResult"', 1, true), r.out)
      -- a kubeconfig pipe that never ends: exit 5 naming it, not a hang
      local fifo = srv.dir .. "/kc-fifo"
      os.execute("rm -f " .. support.q(fifo) .. " && mkfifo " .. support.q(fifo))
      local t0 = os.time()
      r = run({ "--kubeconfig", fifo, "validate", "-s", "cm://default/snap", "-c", "OS.release.ID ubuntu" },
        { EIDOS_INPUT_TIMEOUT = "1s" })
      assert.are.equal(5, r.code, r.err)
      assert.truthy(r.err:find('kubeconfig "' .. fifo .. '": the FIFO did not end within 1s', 1, true), r.err)
      assert.is_true(os.time() - t0 < 20)
    end)

    it("a label selector is checked before the server is asked; the server answers a bad one 400", function()
      local env = { KUBECONFIG = srv:kubeconfig("cert") }
      local c = require("eidos.k8s.client")
      c.set_defaults({ kubeconfig = env.KUBECONFIG })
      local api, path = c.shared(), c.path("v1", "configmaps", "default")
      for _, m in ipairs({ { "a", "ml" }, { "b", "infra" }, { "c", "web" } }) do
        c.check(api:create(path, { apiVersion = "v1", kind = "ConfigMap",
          metadata = { name = "sel-" .. m[1], labels = { team = m[2] } }, data = { x = "1" } }))
      end
      local function names(sel)
        local out = {}
        for _, o in ipairs(c.check(api:list(path, { label_selector = sel }))) do
          if o.metadata.name:match("^sel%-") then out[#out + 1] = o.metadata.name end
        end
        table.sort(out)
        return table.concat(out, " ")
      end
      -- set-based selectors select, as on a real server
      assert.are.equal("sel-a sel-b", names("team in (ml, infra)"))
      assert.are.equal("sel-c", names("team notin (ml,infra),team"))
      assert.are.equal("", names("!team"))
      -- a real kube-apiserver refuses an unparsable one: 400 BadRequest, "unable to parse requirement"
      local items, err = api:list(path, { label_selector = "bad!!" })
      assert.is_nil(items)
      assert.are.equal(400, err.status)
      assert.truthy(err.msg:find("unable to parse requirement", 1, true), err.msg)
      -- eidos refuses it first: exit 2 naming it, where and what is accepted; nothing is asked of the server
      srv:reset()
      for _, bad in ipairs({ { "bad!!", 'at character 4 ("!"): expected an operator' },
                             { "team=ml,", "at character 9 (the end): expected a requirement after ','" },
                             { "team in ml", 'at character 9 ("ml"): expected \'(\' after in' },
                             { "-team=ml", 'bad label key "-team"' },
                             { "team=ml!", 'at character 8 ("!")' } }) do
        local r = run({ "validate", "--snapshot-selector=" .. bad[1], "-n", "default", "-c", "OS.release.ID == ubuntu" }, env)
        assert.are.equal(2, r.code, r.err)
        assert.truthy(r.err:find(string.format("invalid --snapshot-selector %q: ", bad[1]), 1, true), r.err)
        assert.truthy(r.err:find(bad[2], 1, true), r.err)
        assert.truthy(r.err:find("accepted: comma-separated KEY=VALUE", 1, true), r.err)
      end
      assert.are.same({}, srv:requests())
      -- a good one reaches the server and selects
      local r = run({ "validate", "--snapshot-selector", "team in (nobody)", "-n", "default",
                      "-c", "OS.release.ID == ubuntu" }, env)
      assert.are.equal(3, r.code, r.err)
      assert.truthy(r.err:find("no ConfigMap matches", 1, true), r.err)
    end)

    it("a missing ConfigMap is exit 3, an unreachable server exit 6", function()
      local r = run({ "validate", "--snapshot", "cm://default/nothing", "-c", "OS.release.ID == ubuntu" },
        { KUBECONFIG = srv:kubeconfig("cert") })
      assert.are.equal(3, r.code, r.err)
      assert.truthy(r.err:find('ConfigMap "nothing" not found', 1, true), r.err)
      local dead = srv.dir .. "/kc-dead"
      support.write(dead, "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        .. "users: [{name: u, user: {token: x}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
        .. "current-context: x\n")
      r = run({ "validate", "--snapshot", "cm://default/nothing", "-c", "OS.release.ID == ubuntu" },
        { KUBECONFIG = dead })
      assert.are.equal(6, r.code, r.err)
    end)
  end)

  it("snapshot --only K8s measures server, images, the GPU Operator policy and the node", function()
    local r = run({ "snapshot", "--only", "K8s", "-t", "json" },
      { KUBECONFIG = srv:kubeconfig("token"), NODE_NAME = "gpu-node-2" })
    assert.are.equal(0, r.code, r.err)
    local d = cjson.decode(r.out)
    local m = d.measurements[1]
    assert.are.equal("K8s", m.type)
    local by = {}
    for _, st in ipairs(m.subtypes) do by[st.subtype] = st.data end
    assert.are.equal("v1.30.14-eks-3025e55", by.server.version)
    assert.are.equal("linux/amd64", by.server.platform)
    -- 50 pods over 25 image names; registries and digests dropped, highest tag kept
    assert.truthy(by.image["gpu-operator"]:match("^v%d+%.%d+%.%d+$"), by.image["gpu-operator"])
    assert.truthy(by.image.busybox)
    assert.is_nil(by.image["nvcr.io/nvidia/gpu-operator"])
    assert.are.equal("570.86.15", by.policy["driver.version"])
    assert.are.equal("true", by.policy["driver.enabled"])
    assert.are.equal("single", by.policy["mig.strategy"])
    -- an array is canonical JSON: keys sorted, "/" not escaped, the same
    -- text on every run (the decoder's table order never shows)
    assert.are.equal('[{"effect":"NoSchedule","key":"nvidia.com/gpu","operator":"Exists"}]',
      by.policy["daemonsets.tolerations"])
    assert.are.equal("gpu-node-2", by.node["source-node"])
    assert.are.equal("eks", by.node.provider)
    assert.are.equal("containerd", by.node["container-runtime-name"])
    assert.are.equal("1.7.24", by.node["container-runtime-version"])
    assert.are.equal("Ubuntu 22.04.5 LTS", by.node["os-image"])
    -- paged: 50 pods in one page of 500
    local pages = 0
    for _, q in ipairs(srv:requests()) do
      if q.path:find("/api/v1/pods?limit=500", 1, true) then pages = pages + 1 end
    end
    assert.are.equal(1, pages)
  end)

  describe("snapshot agent", function()
    local function agent(extra, env)
      local args = { "snapshot", "--deploy-agent", "--namespace", "gpu-operator", "--image", "eidos:test" }
      for _, a in ipairs(extra or {}) do args[#args + 1] = a end
      local e = { KUBECONFIG = srv:kubeconfig("cert"), EIDOS_AGENT_POLL = "0.2" }
      for k, v in pairs(env or {}) do e[k] = v end
      return run(args, e)
    end

    local function exists(path)
      local c = require("eidos.k8s.client")
      c.set_defaults({ kubeconfig = srv:kubeconfig("cert") })
      local obj = c.shared():get(path)
      return obj ~= nil
    end

    it("runs the Job, writes the snapshot and cleans up", function()
      local out = srv.dir .. "/agent-out.json"
      local r = agent({ "--node-selector", "pool=gpu-b", "--toleration", "nvidia.com/gpu=present:NoSchedule",
                        "-o", out, "-t", "json" })
      assert.are.equal(0, r.code, r.err)
      local d = cjson.decode(support.read(out))
      assert.are.equal("Snapshot", d.kind)
      assert.are.equal("gpu-node-1", d.metadata["source-node"])
      -- the Job as created
      local job
      for _, q in ipairs(srv:requests()) do
        if q.method == "POST" and q.path:find("/jobs", 1, true) then job = q end
      end
      assert.truthy(job)
      assert.is_false(exists("/apis/batch/v1/namespaces/gpu-operator/jobs/eidos-agent"))
      assert.is_false(exists("/apis/rbac.authorization.k8s.io/v1/clusterroles/eidos-agent-gpu-operator"))
      assert.is_false(exists("/apis/rbac.authorization.k8s.io/v1/namespaces/gpu-operator/roles/eidos-agent"))
      assert.is_false(exists("/api/v1/namespaces/gpu-operator/serviceaccounts/eidos-agent"))
      assert.is_false(exists("/api/v1/namespaces/gpu-operator/configmaps/eidos-snapshot"))
    end)

    it("-o cm:// in the agent's namespace keeps that ConfigMap; --no-cleanup keeps the rest", function()
      local r = agent({ "-o", "cm://gpu-operator/agent-snap", "--no-cleanup" })
      assert.are.equal(0, r.code, r.err)
      assert.is_true(exists("/api/v1/namespaces/gpu-operator/configmaps/agent-snap"))
      assert.is_true(exists("/apis/batch/v1/namespaces/gpu-operator/jobs/eidos-agent"))
      assert.is_true(exists("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/eidos-agent-gpu-operator"))
      -- a second run replaces the old Job
      r = agent({ "-o", "cm://gpu-operator/agent-snap" })
      assert.are.equal(0, r.code, r.err)
      assert.is_false(exists("/apis/batch/v1/namespaces/gpu-operator/jobs/eidos-agent"))
      assert.is_true(exists("/api/v1/namespaces/gpu-operator/configmaps/agent-snap"))
    end)

    it("without a terminal: progress lines while it waits, then the closing line; --quiet: none", function()
      srv:control("job", { outcome = "complete", delay = 1.5 })
      local out = srv.dir .. "/agent-progress.yaml"
      local r = agent({ "-o", out }, { EIDOS_PROGRESS_INTERVAL = "0.3s" })
      assert.are.equal(0, r.code, r.err)
      assert.is_nil(r.err:find("\27", 1, true), r.err) -- no escape sequences into a pipe
      local waiting = 0
      for _ in r.err:gmatch("agent Job gpu%-operator/eidos%-agent: pod eidos%-agent%-[%w-]+ is %a+[^\n]*%(%d+s%)\n") do
        waiting = waiting + 1
      end
      assert.is_true(waiting >= 2, r.err)
      local done = r.err:find("agent Job gpu-operator/eidos-agent: completed (", 1, true)
      local wrote = r.err:find("wrote snapshot to " .. out .. " (", 1, true)
      assert.truthy(done, r.err)
      assert.truthy(wrote and wrote > done, r.err)
      assert.truthy(r.err:match("\nwrote snapshot to [^\n]+ %(%d+ measurements?, [^\n]*GPUs?; [%d.]+ K?i?B%)\n$"), r.err)
      -- the same as JSON log lines
      r = agent({ "-o", out, "--log-json" }, { EIDOS_PROGRESS_INTERVAL = "0.3s" })
      assert.are.equal(0, r.code, r.err)
      for line in r.err:gmatch("[^\n]+") do
        local j = cjson.decode(line)
        assert.are.equal("info", j.level, line)
      end
      assert.truthy(r.err:find('"msg":"wrote snapshot to ', 1, true), r.err)
      r = agent({ "-o", out, "--quiet" }, { EIDOS_PROGRESS_INTERVAL = "0.3s" })
      assert.are.equal(0, r.code, r.err)
      assert.are.equal("", r.err)
      -- -o the ConfigMap the agent writes itself: the closing line names it
      r = agent({ "-o", "cm://gpu-operator/agent-snap" })
      assert.are.equal(0, r.code, r.err)
      assert.truthy(r.err:find("\nwrote snapshot to cm://gpu-operator/agent-snap (", 1, true), r.err)
    end)

    it("on a terminal: one live line rewritten in place, cleared before the closing line", function()
      srv:control("job", { outcome = "complete", delay = 1.5 })
      local out = srv.dir .. "/agent-tty.yaml"
      local words = { "env", "EIDOS_HOME=" .. support.root, "HOME=" .. srv.dir .. "/nohome", "TERM=xterm",
                      "KUBECONFIG=" .. srv:kubeconfig("cert"), "EIDOS_AGENT_POLL=0.2", support.eidos_abs,
                      "snapshot", "--deploy-agent", "--namespace", "gpu-operator", "--image", "eidos:test", "-o", out }
      for i, w in ipairs(words) do words[i] = support.q(w) end
      -- script(1) gives the command a pseudo-terminal; stdout goes to a file
      local r = support.sh("script -qec " .. support.q(table.concat(words, " ") .. " 2>&1") .. " /dev/null")
      assert.are.equal(0, r.code, r.err)
      local redraws = select(2, r.out:gsub("\r\27%[Kagent Job gpu%-operator/eidos%-agent: ", ""))
      assert.is_true(redraws >= 3, r.out)
      assert.truthy(r.out:find("\r\27[Kagent Job gpu-operator/eidos-agent: completed (", 1, true), r.out)
      assert.truthy(r.out:find("\r?\nwrote snapshot to " .. out:gsub("%p", "%%%0") .. " %(.-%)\r?\n$"), r.out)
    end)

    it("a failed Job: exit 1 with the pod's log and the events, and cleanup", function()
      srv:control("job", { outcome = "fail" })
      local r = agent({ "-o", srv.dir .. "/never.yaml" })
      assert.are.equal(1, r.code, r.err)
      assert.truthy(r.err:find("--- agent log (pod gpu-operator/eidos-agent-", 1, true), r.err)
      assert.truthy(r.err:find("nvidia-smi: exit status 9", 1, true), r.err)
      assert.truthy(r.err:find("BackoffLimitExceeded", 1, true), r.err)
      assert.truthy(r.err:find("SuccessfulCreate", 1, true), r.err)
      assert.truthy(r.err:find("Job gpu-operator/eidos-agent failed", 1, true), r.err)
      assert.is_false(support.exists(srv.dir .. "/never.yaml"))
      assert.is_false(exists("/apis/batch/v1/namespaces/gpu-operator/jobs/eidos-agent"))
    end)

    it("an unschedulable pod: exit 5 after --timeout, naming the reason", function()
      local r = agent({ "--node-selector", "pool=none", "--timeout", "2s" })
      assert.are.equal(5, r.code, r.err)
      assert.truthy(r.err:find("didn't match Pod's node affinity/selector", 1, true), r.err)
      assert.truthy(r.err:find("FailedScheduling", 1, true), r.err)
    end)

    it("missing permissions: exit 4 listing them, nothing created", function()
      srv:control("deny", { verb = "create", resource = "clusterrolebindings" })
      srv:control("deny", { verb = "create", resource = "jobs", group = "batch" })
      local r = agent({})
      assert.are.equal(4, r.code, r.err)
      assert.truthy(r.err:find("create clusterrolebindings.rbac.authorization.k8s.io (cluster-wide)", 1, true), r.err)
      assert.truthy(r.err:find("create jobs.batch in namespace gpu-operator", 1, true), r.err)
      for _, q in ipairs(srv:requests()) do
        assert.is_false(q.method == "POST" and not q.path:find("selfsubjectaccessreviews", 1, true), q.path)
      end
    end)

    -- what a real kube-apiserver v1.37.2 with kube-controller-manager did
    -- (spec/fixtures/k8s/sim_admission.py): the Job is created with a
    -- Warning header, its pod is refused for ever (FailedCreate events)
    it("a namespace whose Pod Security level refuses the pod: the server's warning, exit 6 at once", function()
      local c = require("eidos.k8s.client")
      c.set_defaults({ kubeconfig = srv:kubeconfig("cert") })
      local ns = { apiVersion = "v1", kind = "Namespace", metadata = { name = "psa-baseline",
        labels = { ["pod-security.kubernetes.io/enforce"] = "baseline" } } }
      c.check(c.shared():create("/api/v1/namespaces", ns))
      local t0 = os.time()
      local r = run({ "snapshot", "--deploy-agent", "--namespace", "psa-baseline", "--image", "eidos:test",
                      "--timeout", "120s", "-o", srv.dir .. "/psa.yaml" },
        { KUBECONFIG = srv:kubeconfig("cert"), EIDOS_AGENT_POLL = "0.2" })
      assert.are.equal(6, r.code, r.err)
      assert.is_true(os.time() - t0 < 60, "waited for --timeout") -- not the 120 s timeout
      assert.truthy(r.err:find('warning: the Kubernetes API server warns about create jobs.batch in namespace '
        .. '"psa-baseline": would violate PodSecurity "baseline:latest": hostPath volumes (volumes "os-release", '
        .. '"run-systemd")\n', 1, true), r.err)
      assert.truthy(r.err:find('error: the snapshot agent cannot start: the API server refused to create its pod: '
        .. 'pods "eidos%-agent%-%w+" is forbidden: violates PodSecurity "baseline:latest": hostPath volumes'), r.err)
      assert.truthy(r.err:find("label the namespace pod-security.kubernetes.io/enforce=privileged", 1, true), r.err)
      assert.truthy(r.err:find("FailedCreate", 1, true), r.err) -- the events are shown
      assert.is_false(support.exists(srv.dir .. "/psa.yaml"))
      assert.is_false(exists("/apis/batch/v1/namespaces/psa-baseline/jobs/eidos-agent"))
      -- a fleet run: every node fails the same way, at once
      r = run({ "snapshot", "--deploy-agent", "--all-nodes", "--namespace", "psa-baseline", "--image", "eidos:test",
                "--timeout", "120s", "-o", srv.dir .. "/psa-fleet/" },
        { KUBECONFIG = srv:kubeconfig("cert"), EIDOS_AGENT_POLL = "0.2" })
      assert.are.equal(6, r.code, r.err)
      assert.truthy(r.err:find("3 of 3 nodes failed", 1, true), r.err)
      assert.truthy(r.err:find("gpu-node-2: the agent cannot start: the API server refused to create its pod: ", 1,
        true), r.err)
      -- a namespace eidos creates itself is at the privileged level, and the agent runs there
      r = run({ "snapshot", "--deploy-agent", "--namespace", "eidos-new", "--image", "eidos:test",
                "-o", srv.dir .. "/new.yaml" }, { KUBECONFIG = srv:kubeconfig("cert"), EIDOS_AGENT_POLL = "0.2" })
      assert.are.equal(0, r.code, r.err)
      local created = c.check(c.shared():get("/api/v1/namespaces/eidos-new"))
      assert.are.equal("privileged", created.metadata.labels["pod-security.kubernetes.io/enforce"])
      assert.is_nil(r.err:find("would violate", 1, true), r.err)
    end)

    it("refuses bad flags and nesting", function()
      local r = agent({ "--toleration", "a=b:Sometimes" })
      assert.are.equal(2, r.code)
      assert.truthy(r.err:find("NoSchedule, PreferNoSchedule, NoExecute", 1, true), r.err)
      r = agent({ "--node-selector", "novalue" })
      assert.are.equal(2, r.code)
      r = agent({}, { EIDOS_AGENT_MODE = "true" })
      assert.are.equal(2, r.code)
    end)
  end)
end)
