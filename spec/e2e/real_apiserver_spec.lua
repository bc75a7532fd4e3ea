-- Opt-in: eidos against a REAL kube-apiserver, when EIDOS_REAL_KUBECONFIG
-- names a kubeconfig whose user may create namespaces, RBAC objects, Jobs
-- and ConfigMaps (cluster-admin on a test cluster). Without it every case
-- is reported pending. Everything happens in a namespace made for the run
-- (eidos-realapi-<random>), deleted at the end, plus dry-run creates
-- (?dryRun=All) that leave nothing behind. No kubelet or scheduler is
-- needed: what is checked is what the API server itself answers --
-- validation of eidos's objects with fieldValidation=Strict, Pod Security,
-- RBAC, the Status of failures. The test API server
-- (spec/fixtures/k8s/fake_apiserver.py, sim_admission.py) was made to
-- answer as this one did; this spec is how to check that again.
local support = require("support")
local cjson = require("cjson")

local kubeconfig = os.getenv("EIDOS_REAL_KUBECONFIG")
local available = kubeconfig and kubeconfig ~= "" and support.exists(support.eidos)

describe("eidos against a real kube-apiserver (EIDOS_REAL_KUBECONFIG)", function()
  if not available then
    it("needs EIDOS_REAL_KUBECONFIG", function()
      pending("set EIDOS_REAL_KUBECONFIG to the kubeconfig of a test cluster to run these")
    end)
    return
  end

  local client, c, ns

  local function run(args, env)
    local e = { EIDOS_HOME = support.root, KUBECONFIG = kubeconfig, EIDOS_AGENT_POLL = "0.5" }
    for k, v in pairs(env or {}) do e[k] = v end
    return support.run(args, { env = e })
  end

  setup(function()
    client = require("eidos.k8s.client")
    client.set_defaults({ kubeconfig = kubeconfig })
    c = client.shared()
    ns = "eidos-realapi-" .. require("eidos.k8s.fleet").run_id()
    client.check(c:create("/api/v1/namespaces", { apiVersion = "v1", kind = "Namespace",
      metadata = { name = ns, labels = { ["pod-security.kubernetes.io/enforce"] = "baseline" } } }))
  end)

  teardown(function()
    if c and ns then c:delete("/api/v1/namespaces/" .. ns) end
  end)

  it("accepts every object eidos makes with fieldValidation=Strict", function()
    local agent, watch = require("eidos.k8s.agent"), require("eidos.k8s.watch")
    local p = { namespace = ns, image = "ghcr.io/nvidia/eidos:v0.1.0", timeout = 300, cm_name = "eidos-snapshot",
                tolerations = agent.TOLERATE_ALL, node_selector = {}, image_pull_secrets = { "regcred" } }
    local objs = {}
    for _, o in ipairs(agent.objects(p)) do objs[#objs + 1] = o end
    objs[#objs + 1] = { path = client.path("batch/v1", "jobs", ns), obj = agent.job(p) }
    objs[#objs + 1] = { path = client.path("batch/v1", "jobs", ns),
                        obj = agent.job(p, { name = "eidos-agent-x-1", node = "n1", cm = "s-n1" }) }
    p.privileged = true
    objs[#objs + 1] = { path = client.path("batch/v1", "jobs", ns), obj = agent.job(p) }
    for _, o in ipairs(watch.objects({ namespace = ns, image = p.image, tolerations = agent.TOLERATE_ALL })) do
      objs[#objs + 1] = o
    end
    for _, o in ipairs(objs) do
      local _, err = c:create(o.path .. "?dryRun=All&fieldValidation=Strict", o.obj)
      assert.is_nil(err, err and (o.path .. ": " .. err.msg))
    end
  end)

  it("cm://: write, read back, many writers at once, the size limit", function()
    local r = run({ "snapshot", "--only", "K8s", "-o", "cm://" .. ns .. "/snap" })
    assert.are.equal(0, r.code, r.err)
    r = run({ "recipe", "--snapshot", "cm://" .. ns .. "/snap", "-o", "cm://" .. ns .. "/recipe" })
    assert.are.equal(0, r.code, r.err)
    -- writers racing on one ConfigMap: the 409s are retried, none gives up
    local d = support.tmpdir()
    local words = {}
    for i = 1, 8 do
      words[#words + 1] = string.format("(env EIDOS_HOME=%s KUBECONFIG=%s %s recipe --snapshot cm://%s/snap -o cm://%s/race"
        .. " >/dev/null 2>%s/err%d; echo $? > %s/rc%d) &", support.q(support.root), support.q(kubeconfig),
        support.q(support.eidos_abs), ns, ns, d, i, d, i)
    end
    assert.are.equal(0, support.sh(table.concat(words, " ") .. " wait").code)
    for i = 1, 8 do assert.are.equal("0", support.read(d .. "/rc" .. i):match("%d+"), support.read(d .. "/err" .. i)) end
    os.execute("rm -rf " .. support.q(d))
    -- the server's own limit: values over 1 MiB are 422
    local _, err = c:create(client.path("v1", "configmaps", ns), { apiVersion = "v1", kind = "ConfigMap",
      metadata = { name = "big" }, data = { a = string.rep("y", 1048576), b = "z" } })
    assert.are.equal(422, err.status)
    assert.truthy(err.msg:find("Too long: may not be more than 1048576 bytes", 1, true), err.msg)
  end)

  it("lists: built-in items without kind", function()
    local l = client.check(c:get(client.path("v1", "configmaps", ns) .. "?limit=1"))
    assert.are.equal("ConfigMapList", l.kind)
    assert.is_nil(l.items[1].kind)
  end)

  it("errors: a missing namespace is exit 3, a wrong token exit 4", function()
    local r = run({ "recipe", "--snapshot", "cm://" .. ns .. "-missing/x" })
    assert.are.equal(3, r.code, r.err)
    r = run({ "snapshot", "--only", "K8s", "-o", "cm://" .. ns .. "-missing/x" })
    assert.are.equal(3, r.code, r.err)
    local kc = support.read(kubeconfig)
    local server = assert(kc:match("server:%s*(%S+)"), "no server in the kubeconfig")
    local d = support.tmpdir()
    support.write(d .. "/kc", "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: '" .. server
      .. "', insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: not-a-token}}]\n"
      .. "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n")
    r = run({ "recipe", "--snapshot", "cm://" .. ns .. "/snap" }, { KUBECONFIG = d .. "/kc" })
    assert.are.equal(4, r.code, r.err)
    assert.truthy(r.err:find("HTTP 401", 1, true), r.err)
    os.execute("rm -rf " .. support.q(d))
  end)

  it("the agent in a baseline namespace: the server's warning, then exit 6 (with a Job controller) or 5", function()
    local r = run({ "snapshot", "--deploy-agent", "-n", ns, "--image", "eidos:test", "--timeout", "20s",
                    "-o", "/dev/null" })
    assert.truthy(r.err:find('would violate PodSecurity "baseline:latest"', 1, true), r.err)
    -- a cluster with kube-controller-manager refuses the pod: exit 6 at
    -- once; without one, nothing happens until the timeout: exit 5
    assert.truthy(r.code == 6 or r.code == 5, r.err)
    if r.code == 6 then
      assert.truthy(r.err:find("pod-security.kubernetes.io/enforce=privileged", 1, true), r.err)
    end
    local jobs = client.check(c:list(client.path("batch/v1", "jobs", ns)))
    assert.are.equal(0, #jobs, cjson.encode(jobs))
  end)
end)
