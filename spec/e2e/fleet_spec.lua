-- The fleet, through the eidos binary against the test API server and its
-- simulated fleet (spec/fixtures/k8s/sim_fleet.py: per-node agent pods that
-- succeed, fail, stay pending or cannot pull their image, and per-node
-- snapshots): `eidos snapshot --deploy-agent --all-nodes` over 64 nodes,
-- a partial failure, two concurrent runs in one namespace, the agent's
-- flags in the Job it creates, --prune, the labels the real agent puts on
-- its ConfigMap, and --watch (drift events, SIGTERM).
local fake = require("k8s_fake")
local support = require("support")
local cjson = require("cjson")

local available = fake.available() and support.exists(support.eidos)
local describe_if = available and describe or pending

local NODES = 64

describe_if("the fleet (test API server, 64 simulated nodes)", function()
  local srv, kc

  setup(function()
    srv = fake.start({ nodes = NODES, pods = 5, job_delay = 0.2 })
    kc = srv:kubeconfig("cert")
  end)

  teardown(function()
    if srv then srv:stop() end
    fake.cleanup()
  end)

  before_each(function() srv:reset() end)

  local function run(args, env)
    local e = { EIDOS_HOME = support.root, HOME = srv.dir .. "/nohome", KUBECONFIG = kc, EIDOS_AGENT_POLL = "0.2" }
    for k, v in pairs(env or {}) do e[k] = v end
    return support.run(args, { env = e })
  end

  local function fleet(extra, env)
    local args = { "snapshot", "--deploy-agent", "--all-nodes", "--namespace", "gpu-operator", "--image", "eidos:test",
                   "--parallel", "16" }
    for _, a in ipairs(extra or {}) do args[#args + 1] = a end
    return run(args, env)
  end

  local function api()
    local c = require("eidos.k8s.client")
    c.set_defaults({ kubeconfig = kc })
    return c.shared()
  end

  local function list(path, sel)
    return assert(api():list(path, { label_selector = sel }))
  end

  local function names(items, prefix)
    local out = {}
    for _, o in ipairs(items) do
      if not prefix or o.metadata.name:sub(1, #prefix) == prefix then out[#out + 1] = o.metadata.name end
    end
    table.sort(out)
    return out
  end

  local function leftovers(run_id)
    local sel = "eidos.nvidia.com/run-id=" .. run_id
    local n = 0
    for _, p in ipairs({ "/apis/batch/v1/namespaces/gpu-operator/jobs", "/api/v1/namespaces/gpu-operator/serviceaccounts",
                         "/apis/rbac.authorization.k8s.io/v1/namespaces/gpu-operator/roles",
                         "/apis/rbac.authorization.k8s.io/v1/namespaces/gpu-operator/rolebindings",
                         "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                         "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings" }) do
      n = n + #list(p, sel)
    end
    return n
  end

  it("64 nodes: one snapshot per node, labelled with its node and the run; nothing else left", function()
    srv:control("fleet", { overrides = { ["gpu-node-17"] = { ["GPU.smi.driver"] = "550.54.15" },
                                         ["gpu-node-9"] = { ["K8s.server.version"] = "v1.29.15-eks-3025e55" } } })
    local r = fleet({ "-o", "cm://gpu-operator/fleet", "-t", "json" })
    assert.are.equal(0, r.code, r.err)
    local run_id = r.err:match("fleet run (%w+) in gpu%-operator")
    assert.truthy(run_id, r.err)
    assert.truthy(r.err:find("64 done, 0 failed", 1, true), r.err)
    assert.truthy(r.err:find("wrote 64 snapshots to cm://gpu-operator/fleet-*", 1, true), r.err)
    local cms = list("/api/v1/namespaces/gpu-operator/configmaps", "eidos.nvidia.com/run-id=" .. run_id)
    assert.are.equal(NODES, #cms)
    local seen = {}
    for _, cm in ipairs(cms) do
      local node = cm.metadata.labels["eidos.nvidia.com/node"]
      assert.are.equal("fleet-" .. node, cm.metadata.name)
      assert.are.equal(node, cm.metadata.annotations["eidos.nvidia.com/node"])
      assert.are.equal("json", cm.data.format) -- -t json reaches the agents
      local d = cjson.decode(cm.data["snapshot.json"])
      assert.are.equal(node, d.metadata["source-node"])
      seen[node] = true
    end
    for i = 1, NODES do assert.is_true(seen["gpu-node-" .. i], "gpu-node-" .. i) end
    -- at most --parallel Jobs at once: 64 creations, each a node of its own
    local created = 0
    for _, q in ipairs(srv:requests()) do
      if q.method == "POST" and q.path:find("/jobs", 1, true) then created = created + 1 end
    end
    assert.are.equal(NODES, created)
    assert.are.equal(0, leftovers(run_id))

    -- the fleet validated: the node with another driver is an outlier, the
    -- one with an old server fails K8s.server.version; exit per the flags
    local args = { "validate", "-s", "cm://gpu-operator/fleet-*", "-c", "K8s.server.version >= 1.30",
                   "-c", "GPU.smi.driver >= 550", "-t", "json" }
    r = run(args)
    assert.are.equal(9, r.code, r.err)
    assert.truthy(r.err:find("validation failed on 1 of 64 nodes", 1, true), r.err)
    local v = cjson.decode(r.out)
    assert.are.equal("FleetValidationResult", v.kind)
    assert.are.equal("fail", v.status)
    assert.are.same({ nodes = 64, passed = 63, partial = 0, failed = 1, error = 0, constraints = 2 }, v.summary)
    assert.are.equal(NODES, #v.nodes)
    assert.are.equal("gpu-node-1", v.nodes[1].node)
    assert.are.equal("gpu-node-64", v.nodes[64].node)
    assert.are.same({ { constraint = "K8s.server.version", expression = ">= 1.30", nodes = { "gpu-node-9" } } }, v.failing)
    local by = {}
    for _, o in ipairs(v.outliers) do by[o.path] = o end
    assert.are.same({ path = "GPU.smi.driver", majority = "570.86.15", count = 63,
                      nodes = { { node = "gpu-node-17", value = "550.54.15" } } }, by["GPU.smi.driver"])
    assert.are.same({ { node = "gpu-node-9", value = "v1.29.15-eks-3025e55" } }, by["K8s.server.version"].nodes)
    assert.are.equal(2, #v.outliers)
    args[#args + 1] = "--fail-on-error=false"
    r = run(args)
    assert.are.equal(0, r.code, r.err)
    -- the same ConfigMaps by their run's label
    r = run({ "validate", "--snapshot-selector", "eidos.nvidia.com/run-id=" .. run_id, "--namespace", "gpu-operator",
              "-c", "K8s.server.version >= 1.30", "-c", "GPU.smi.driver >= 550", "-t", "json", "--fail-on-error=false" })
    assert.are.equal(0, r.code, r.err)
    local v2 = cjson.decode(r.out)
    assert.are.same(v.failing, v2.failing)
    assert.are.same(v.outliers, v2.outliers)
  end)

  it("-o DIR/ and -o cm:// in another namespace: the CLI writes them, labelled; the agents' ConfigMaps are removed",
    function()
      local dir = srv.dir .. "/fleet-dir"
      local r = fleet({ "--node-selector", "pool=gpu-b", "-o", dir .. "/", "-t", "json" })
      assert.are.equal(0, r.code, r.err)
      local files = support.entries(dir)
      assert.are.equal(NODES / 2, #files)
      assert.are.equal("gpu-node-10.json", files[1])
      -- one closing line for the run, not one per file
      assert.truthy(r.err:find("wrote 32 snapshots to " .. dir .. "/*.json", 1, true), r.err)
      assert.is_nil(r.err:find("wrote output", 1, true), r.err)
      local d = cjson.decode(support.read(dir .. "/gpu-node-10.json"))
      assert.are.equal("gpu-node-10", d.metadata["source-node"])
      r = fleet({ "--node-selector", "pool=gpu-b", "-o", "cm://default/copy" })
      assert.are.equal(0, r.code, r.err)
      local cms = list("/api/v1/namespaces/default/configmaps", "eidos.nvidia.com/node=gpu-node-2")
      assert.are.same({ "copy-gpu-node-2" }, names(cms))
      assert.truthy(cms[1].metadata.labels["eidos.nvidia.com/run-id"])
      assert.are.same({}, names(list("/api/v1/namespaces/gpu-operator/configmaps"), "eidos-agent-"))
    end)

  it("two concurrent runs in one namespace both complete", function()
    local d = srv.dir .. "/concurrent"
    os.execute("mkdir -p " .. support.q(d))
    local cmd = {}
    for i, out in ipairs({ "cm://gpu-operator/run-a", d .. "/b/" }) do
      local words = { "env", "EIDOS_HOME=" .. support.q(support.root), "KUBECONFIG=" .. support.q(kc),
                      "EIDOS_AGENT_POLL=0.2", support.q(support.eidos_abs), "snapshot", "--deploy-agent", "--all-nodes",
                      "--namespace", "gpu-operator", "--image", "eidos:test", "--parallel", "8", "-o", support.q(out) }
      cmd[#cmd + 1] = string.format("(%s > %s/out%d 2> %s/err%d; echo $? > %s/rc%d) &", table.concat(words, " "),
        d, i, d, i, d, i)
    end
    cmd[#cmd + 1] = "wait"
    local r = support.sh(table.concat(cmd, "\n"))
    assert.are.equal(0, r.code, r.err)
    for i = 1, 2 do
      assert.are.equal("0\n", support.read(d .. "/rc" .. i), support.read(d .. "/err" .. i))
      assert.truthy(support.read(d .. "/err" .. i):find("64 done, 0 failed", 1, true), support.read(d .. "/err" .. i))
    end
    assert.are.equal(NODES, #names(list("/api/v1/namespaces/gpu-operator/configmaps"), "run-a-"))
    assert.are.equal(NODES, #support.entries(d .. "/b"))
    -- the runs overlapped: each created Jobs while the other had some
    local a = support.read(d .. "/err1"):match("fleet run (%w+)")
    local b = support.read(d .. "/err2"):match("fleet run (%w+)")
    assert.are_not.equal(a, b)
  end)

  it("the agent's flags reach the Job; a named ServiceAccount is created and kept", function()
    local r = run({ "snapshot", "--deploy-agent", "--namespace", "gpu-operator", "--image", "eidos:test",
                    "--image-pull-secret", "regcred", "--image-pull-secret", "mirror", "--service-account-name", "snap-sa",
                    "--job-name", "snap", "--privileged", "--require-gpu", "--no-cleanup", "-o", srv.dir .. "/one.yaml" })
    assert.are.equal(0, r.code, r.err)
    local job = assert(api():get("/apis/batch/v1/namespaces/gpu-operator/jobs/snap"))
    local spec = job.spec.template.spec
    assert.are.same({ { name = "regcred" }, { name = "mirror" } }, spec.imagePullSecrets)
    assert.are.equal("snap-sa", spec.serviceAccountName)
    local c = spec.containers[1]
    assert.is_true(c.securityContext.privileged)
    assert.is_true(c.securityContext.allowPrivilegeEscalation)
    assert.is_nil(c.securityContext.capabilities)
    assert.are.equal("1", c.resources.limits["nvidia.com/gpu"])
    assert.are.equal("1", c.resources.requests["nvidia.com/gpu"])
    assert.are.equal("--require-gpu", c.args[#c.args])
    local rb = assert(api():get("/apis/rbac.authorization.k8s.io/v1/namespaces/gpu-operator/rolebindings/eidos-agent"))
    assert.are.equal("snap-sa", rb.subjects[1].name)
    -- the default: unprivileged, no GPU asked
    r = run({ "snapshot", "--deploy-agent", "--namespace", "gpu-operator", "--image", "eidos:test", "-o", srv.dir .. "/two.yaml" })
    assert.are.equal(0, r.code, r.err)
    for _, q in ipairs(srv:requests()) do
      assert.is_false(q.method == "DELETE" and q.path:find("serviceaccounts/snap%-sa") ~= nil, q.path)
    end
    local sa = assert(api():get("/api/v1/namespaces/gpu-operator/serviceaccounts/snap-sa"))
    assert.is_nil(sa.metadata.labels["eidos.nvidia.com/run-id"]) -- no run's, so --prune keeps it
    assert.truthy(api():delete("/apis/batch/v1/namespaces/gpu-operator/jobs/snap"))
  end)

  it("refuses flags that do not fit, exit 2; a selector that matches nothing, exit 3", function()
    local cases = {
      { { "snapshot", "--image-pull-secret", "x" }, "--image-pull-secret only applies with --deploy-agent" },
      { { "snapshot", "--privileged" }, "--privileged only applies with --deploy-agent" },
      { { "snapshot", "--job-name", "x" }, "--job-name only applies with --deploy-agent" },
      { { "snapshot", "--service-account-name", "x" }, "--service-account-name only applies with --deploy-agent" },
      { { "snapshot", "--all-nodes" }, "--all-nodes only applies with --deploy-agent" },
      { { "snapshot", "--deploy-agent", "--parallel", "3" }, "--parallel only applies with --all-nodes" },
      { { "snapshot", "--namespace", "x" }, "--namespace only applies with --deploy-agent or --prune" },
      { { "snapshot", "--keep", "2" }, "--keep only applies with --prune" },
      { { "snapshot", "--deploy-agent", "--require-gpu", "--runtime-class", "nvidia" }, "cannot be used together" },
      { { "snapshot", "--deploy-agent", "--all-nodes" }, "give -o cm://NAMESPACE/PREFIX" },
      { { "snapshot", "--deploy-agent", "--all-nodes", "-o", "x/", "-t", "table" }, "a table cannot be read back" },
      { { "snapshot", "--deploy-agent", "--all-nodes", "-o", "README.md" }, "is a file" },
      { { "snapshot", "--deploy-agent", "--all-nodes", "-o", "x/", "--job-name", string.rep("j", 43) }, "at most 42" },
      { { "snapshot", "--deploy-agent", "--image-pull-secret", "Bad_Name" }, "not a valid Kubernetes name" },
      { { "snapshot", "--deploy-agent", "--all-nodes", "-o", "x/", "--parallel", "0" }, "--parallel" },
      { { "snapshot", "--prune", "--deploy-agent" }, "cannot be used together" },
      { { "snapshot", "--prune", "-o", "old.yaml" }, "--prune writes no snapshot: leave --output out" },
      { { "snapshot", "--prune", "-t", "json" }, "leave --format out" },
      { { "snapshot", "--watch", "--deploy-agent" }, "cannot be used together" },
      { { "snapshot", "--watch" }, "--watch keeps a stored snapshot current" },
    }
    for _, c in ipairs(cases) do
      local r = run(c[1])
      assert.are.equal(2, r.code, table.concat(c[1], " ") .. ": " .. r.err)
      assert.truthy(r.err:find(c[2], 1, true), table.concat(c[1], " ") .. ": " .. r.err)
    end
    local r = fleet({ "--node-selector", "pool=none", "-o", srv.dir .. "/none/" })
    assert.are.equal(3, r.code, r.err)
    assert.truthy(r.err:find("no node matches --node-selector pool=none", 1, true), r.err)
    -- -o cm:// into a namespace that does not exist: exit 3 before any Job runs (one Job or the fleet)
    srv:reset()
    for _, one in ipairs({ fleet({ "-o", "cm://nosuch-ns/fleet" }), run({ "snapshot", "--deploy-agent", "--namespace",
                             "gpu-operator", "--image", "eidos:test", "-o", "cm://nosuch-ns/fleet" }) }) do
      assert.are.equal(3, one.code, one.err)
      assert.truthy(one.err:find('cm://nosuch-ns/fleet: namespace "nosuch-ns" does not exist', 1, true), one.err)
    end
    for _, q in ipairs(srv:requests()) do
      assert.is_nil(q.path:find("/jobs", 1, true), q.method .. " " .. q.path)
    end
    -- --require-gpu keeps its local meaning without --deploy-agent
    r = run({ "snapshot", "--require-gpu", "--only", "GPU", "--sysroot", "spec/fixtures/sysroot/basic" },
      { PATH = "/nonexistent", EIDOS_NVML_LIB = "/nonexistent.so" })
    assert.are.equal(3, r.code, r.err)
  end)

  it("--prune --keep N removes the older runs' ConfigMaps and leftovers, keeps the newest", function()
    local ids = {}
    for i = 1, 3 do
      local extra = { "--node-selector", "kubernetes.io/hostname=gpu-node-" .. i, "-o", "cm://gpu-operator/pr" .. i }
      if i == 1 then extra[#extra + 1] = "--no-cleanup" end
      local r = fleet(extra)
      assert.are.equal(0, r.code, r.err)
      ids[i] = r.err:match("fleet run (%w+)")
      os.execute("sleep 1.1") -- creation times one second apart
    end
    assert.is_true(leftovers(ids[1]) > 0)
    local r = run({ "snapshot", "--prune", "--keep", "1", "--namespace", "gpu-operator" })
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.err:find("kept 1 (" .. ids[3] .. ")", 1, true), r.err)
    assert.are.same({}, names(list("/api/v1/namespaces/gpu-operator/configmaps"), "pr1-"))
    assert.are.same({}, names(list("/api/v1/namespaces/gpu-operator/configmaps"), "pr2-"))
    assert.are.same({ "pr3-gpu-node-3" }, names(list("/api/v1/namespaces/gpu-operator/configmaps"), "pr3-"))
    assert.are.equal(0, leftovers(ids[1]))
  end)

  it("eidos diff reads cm:// and https:// (two nodes of a fleet run differ in their driver)", function()
    srv:control("fleet", { overrides = { ["gpu-node-2"] = { ["GPU.smi.driver"] = "580.105.08" } } })
    local r = fleet({ "--node-selector", "pool=gpu-b", "-o", "cm://gpu-operator/d" })
    assert.are.equal(0, r.code, r.err)
    local cm = assert(api():get("/api/v1/namespaces/gpu-operator/configmaps/d-gpu-node-4"))
    support.write(srv.dir .. "/files/node-4.yaml", cm.data["snapshot.yaml"])
    r = run({ "diff", srv.base .. "/__files/node-4.yaml", "cm://gpu-operator/d-gpu-node-2", "-t", "json",
              "--ignore", "*source-node" }, { EIDOS_CA_FILE = srv.dir .. "/ca.crt" })
    assert.are.equal(0, r.code, r.err)
    local v = cjson.decode(r.out)
    assert.are.equal(1, v.summary.total, r.out)
    assert.are.same({ "changed", "GPU.smi.driver", "570.86.15", "580.105.08" },
      { v.findings[1].change, v.findings[1].path, v.findings[1].old, v.findings[1].new })
    assert.are.equal("cm://gpu-operator/d-gpu-node-2", v.metadata.new)
  end)

  it("the real agent labels the ConfigMap it writes with its node and run", function()
    local r = run({ "snapshot", "--only", "OS", "--sysroot", "spec/fixtures/sysroot/basic", "-o", "cm://default/agent-like" },
      { NODE_NAME = "gpu-node-7", EIDOS_RUN_ID = "0abcdefghij", EIDOS_AGENT_MODE = "true" })
    assert.are.equal(0, r.code, r.err)
    local cm = assert(api():get("/api/v1/namespaces/default/configmaps/agent-like"))
    assert.are.equal("gpu-node-7", cm.metadata.labels["eidos.nvidia.com/node"])
    assert.are.equal("0abcdefghij", cm.metadata.labels["eidos.nvidia.com/run-id"])
    assert.are.equal("gpu-node-7", cm.metadata.annotations["eidos.nvidia.com/node"])
  end)
end)

describe_if("a partial failure (test API server, 12 simulated nodes)", function()
  local srv

  setup(function() srv = fake.start({ nodes = 12, pods = 5, job_delay = 0.2 }) end)
  teardown(function()
    if srv then srv:stop() end
    fake.cleanup()
  end)

  it("failed, pending, unpullable and not-Ready nodes are reported with logs and events; the others written", function()
    srv:control("fleet", { outcomes = { ["gpu-node-5"] = "fail", ["gpu-node-9"] = "pending", ["gpu-node-11"] = "pull" },
                           not_ready = { "gpu-node-2" } })
    local dir = srv.dir .. "/partial"
    local r = support.run({ "snapshot", "--deploy-agent", "--all-nodes", "--namespace", "gpu-operator", "--image", "eidos:test",
                            "--timeout", "5s", "-o", dir .. "/" },
      { env = { EIDOS_HOME = support.root, KUBECONFIG = srv:kubeconfig("cert"), EIDOS_AGENT_POLL = "0.2" } })
    assert.are.equal(1, r.code, r.err)
    assert.truthy(r.err:find("4 of 12 nodes failed", 1, true), r.err)
    assert.truthy(r.err:find("gpu-node-2: node is not Ready (Ready=False: KubeletNotReady)", 1, true), r.err)
    assert.truthy(r.err:find("gpu%-node%-5: the agent Job gpu%-operator/eidos%-agent%-%w+%-%x+ failed: BackoffLimitExceeded"), r.err)
    assert.truthy(r.err:find("gpu%-node%-9: the agent Job [^\n]* did not finish within 5s: pod [^\n]* cannot be scheduled: "
      .. "0/12 nodes are available: 1 Insufficient nvidia%.com/gpu"), r.err)
    assert.truthy(r.err:find("gpu%-node%-11: the agent cannot start: [^\n]*ErrImagePull"), r.err)
    -- the failing node's log and events
    assert.truthy(r.err:find("=== node gpu-node-5: ", 1, true), r.err)
    assert.truthy(r.err:find("nvidia-smi: exit status 9", 1, true), r.err)
    assert.truthy(r.err:find("FailedScheduling", 1, true), r.err)
    local files = support.entries(dir)
    assert.are.equal(8, #files)
    for _, n in ipairs({ 2, 5, 9, 11 }) do assert.is_false(support.exists(dir .. "/gpu-node-" .. n .. ".yaml")) end
    -- every failure of one kind: that kind's code
    r = support.run({ "snapshot", "--deploy-agent", "--all-nodes", "--namespace", "gpu-operator", "--image", "eidos:test",
                      "--node-selector", "kubernetes.io/hostname=gpu-node-9", "--timeout", "1s", "-o", dir .. "/" },
      { env = { EIDOS_HOME = support.root, KUBECONFIG = srv:kubeconfig("cert"), EIDOS_AGENT_POLL = "0.2" } })
    assert.are.equal(5, r.code, r.err)
  end)
end)

describe_if("eidos snapshot --watch (test API server)", function()
  local srv, kc, root

  setup(function()
    srv = fake.start({ nodes = 3, pods = 5 })
    kc = srv:kubeconfig("cert")
    root = srv.dir .. "/watch-root"
    assert(os.execute("rm -rf " .. support.q(root) .. " && cp -r spec/fixtures/sysroot/basic " .. support.q(root)))
  end)
  teardown(function()
    if srv then srv:stop() end
    fake.cleanup()
  end)

  local function api()
    local c = require("eidos.k8s.client")
    c.set_defaults({ kubeconfig = kc })
    return c.shared()
  end

  -- start(tag, output) -> handle: the watcher runs in the background until stop
  local function start(tag, output)
    local d = srv.dir .. "/" .. tag
    os.execute("rm -rf " .. support.q(d) .. " && mkdir -p " .. support.q(d))
    local words = { "env", "EIDOS_HOME=" .. support.q(support.root), "KUBECONFIG=" .. support.q(kc), "NODE_NAME=gpu-node-1",
                    support.q(support.eidos), "snapshot", "--watch", "--interval", "1s", "--only", "OS,K8s",
                    "--sysroot", support.q(root), "-o", support.q(output) }
    os.execute(string.format("(%s > %s/out 2> %s/err < /dev/null & echo $! > %s/pid; wait $!; echo $? > %s/rc) &",
      table.concat(words, " "), d, d, d, d))
    return { dir = d }
  end

  local function stop(h)
    local pid = assert(support.read(h.dir .. "/pid"), "no pid"):match("%d+")
    os.execute("kill -TERM " .. pid)
    for _ = 1, 100 do
      if support.exists(h.dir .. "/rc") and support.read(h.dir .. "/rc") ~= "" then break end
      os.execute("sleep 0.1")
    end
    return tonumber(support.read(h.dir .. "/rc")), support.read(h.dir .. "/err")
  end

  local function until_true(f, what)
    for _ = 1, 150 do
      local v = f()
      if v then return v end
      os.execute("sleep 0.1")
    end
    error("gave up waiting for " .. what)
  end

  local function drift_events()
    return assert(api():list("/api/v1/namespaces/default/events",
      { field_selector = "involvedObject.name=gpu-node-1,reason=SnapshotDrift" }))
  end

  local function set_version(v)
    local p = root .. "/etc/os-release"
    support.write(p, (support.read(p):gsub('VERSION_ID="[^"]*"', 'VERSION_ID="' .. v .. '"')))
  end

  it("writes the node's snapshot, records a change as an Event on the node, stops on SIGTERM", function()
    -- written to gpu-operator; the Event about the (cluster-scoped) Node
    -- goes to "default", the only namespace the API accepts it in
    local out = "cm://gpu-operator/eidos-snapshot-gpu-node-1"
    local h = start("w1", out)
    local cm = until_true(function() return api():get("/api/v1/namespaces/gpu-operator/configmaps/eidos-snapshot-gpu-node-1") end,
      "the first snapshot")
    assert.are.equal("gpu-node-1", cm.metadata.labels["eidos.nvidia.com/node"])
    local d = require("eidos.doc").decode(cm.data["snapshot.yaml"], "cm")
    local subs = {}
    for _, m in ipairs(d.measurements) do
      if m.type == "K8s" then for _, st in ipairs(m.subtypes) do subs[#subs + 1] = st.subtype end end
    end
    assert.are.same({ "server", "node" }, subs) -- no cluster-wide image or policy subtypes
    assert.are.equal(0, #drift_events())
    set_version("24.10")
    local ev = until_true(function() return drift_events()[1] end, "the drift event")
    assert.are.equal("Node", ev.involvedObject.kind)
    assert.truthy(ev.involvedObject.uid)
    assert.are.equal("Warning", ev.type)
    assert.truthy(ev.message:find("OS.release.VERSION_ID 24.04 -> 24.10", 1, true), ev.message)
    until_true(function()
      local c2 = api():get("/api/v1/namespaces/gpu-operator/configmaps/eidos-snapshot-gpu-node-1")
      return c2.data["snapshot.yaml"]:find('VERSION_ID: "24.10"', 1, true)
    end, "the new snapshot")
    os.execute("sleep 1.5") -- more intervals: nothing changed, no new event
    assert.are.equal(1, #drift_events())
    local code, err = stop(h)
    assert.are.equal(0, code, err)
    assert.truthy(err:find("drift on node gpu-node-1: 1 change: OS.release.VERSION_ID 24.04 -> 24.10", 1, true), err)
    assert.truthy(err:find("watch: stopped by SIGTERM", 1, true), err)
    -- a watcher started again compares with what is stored
    set_version("25.04")
    h = start("w2", out)
    until_true(function() return #drift_events() == 2 end, "the second drift event")
    code, err = stop(h)
    assert.are.equal(0, code, err)
    set_version("24.04")
  end)

  it("to a file: the file is replaced whole, nothing else left in its directory", function()
    local dir = srv.dir .. "/wfile"
    os.execute("mkdir -p " .. support.q(dir))
    local h = start("w3", dir .. "/node.yaml")
    until_true(function() return support.exists(dir .. "/node.yaml") end, "the file")
    set_version("26.04")
    until_true(function() return support.read(dir .. "/node.yaml"):find('VERSION_ID: "26.04"', 1, true) end, "the change")
    local code, err = stop(h)
    assert.are.equal(0, code, err)
    assert.are.same({ "node.yaml" }, support.entries(dir))
    set_version("24.04")
  end)
end)
