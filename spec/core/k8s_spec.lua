-- eidos.core.k8s, eidos.core.http and the Lua Kubernetes layer
-- (eidos.k8s.config, .client, .cmstore, eidos.fetch) against the test API
-- server over TLS with certificates generated here: every kubeconfig variant
-- that can be given as a file, the injected faults (429 with Retry-After,
-- 500s, a hang past the timeout, a 409 on update), RBAC errors, paging,
-- cm:// round trips and http(s):// inputs.
local fake = require("k8s_fake")
local support = require("support")
local cjson = require("cjson")

local available = fake.available()
local describe_if = available and describe or pending

describe_if("Kubernetes client against the test API server", function()
  local srv, plain
  local config, client, cmstore, docio, core

  setup(function()
    srv = fake.start({ pods = 1234 })
    plain = fake.start({ plain = true, pods = 0 })
    config = require("eidos.k8s.config")
    client = require("eidos.k8s.client")
    cmstore = require("eidos.k8s.cmstore")
    docio = require("eidos.docio")
    core = require("eidos.core.k8s")
  end)

  teardown(function()
    if srv then srv:stop() end
    if plain then plain:stop() end
    fake.cleanup()
  end)

  before_each(function()
    srv:reset()
  end)

  local function connect(variant, opts, copts)
    local conn = config.resolve({ kubeconfig = srv:kubeconfig(variant, opts), context = copts and copts.context })
    return client.new(conn, { timeout = 2, backoff = 0.05 }), conn
  end

  local function count(method, pattern)
    local n = 0
    for _, r in ipairs(srv:requests()) do
      if r.method == method and r.path:find(pattern, 1, true) then n = n + 1 end
    end
    return n
  end

  describe("kubeconfig variants", function()
    it("client certificate and key files, relative to the kubeconfig", function()
      local c, conn = connect("cert")
      assert.are.equal("cert", conn.auth)
      assert.are.equal(srv.dir .. "/client.crt", conn.cert_file)
      local v = client.check(c:get("/version"))
      assert.are.equal("v1.30.14-eks-3025e55", v.gitVersion)
      assert.are.equal("eidos-admin", srv:requests()[1].user)
    end)

    it("client certificate, key and CA as inline base64 data", function()
      local c, conn = connect("cert-data")
      assert.truthy(conn.ca_data:find("BEGIN CERTIFICATE", 1, true))
      assert.are.equal(3, #client.check(c:list("/api/v1/nodes")))
    end)

    it("bearer token", function()
      local c, conn = connect("token")
      assert.are.equal("token", conn.auth)
      assert.are.equal(3, #client.check(c:list("/api/v1/nodes")))
      assert.are.equal("alice", srv:requests()[1].user)
    end)

    it("token file, re-read when it rotates", function()
      local tf = srv.dir .. "/token"
      support.write(tf, "first-token\n")
      srv:control("tokens", { [fake.TOKEN] = "alice", ["first-token"] = "sa" })
      local c, conn = connect("token-file", { token_file = tf })
      assert.are.equal("token-file", conn.auth)
      client.check(c:get("/api/v1/nodes"))
      srv:control("tokens", { [fake.TOKEN] = "alice", ["second-token-rotated"] = "sa2" })
      support.write(tf, "second-token-rotated\n")
      client.check(c:get("/api/v1/nodes"))
      local log = srv:requests()
      assert.are.equal("sa", log[1].user)
      assert.are.equal("sa2", log[2].user)
    end)

    it("exec credential plugin: run without a shell, cached until expiry", function()
      os.remove(srv.dir .. "/exec-runs")
      local c, conn = connect("exec")
      assert.are.equal("exec", conn.auth)
      assert.are.equal(srv.dir .. "/./exec-plugin.sh", conn.exec.command)
      client.check(c:get("/api/v1/nodes"))
      client.check(c:get("/api/v1/nodes"))
      local c2 = connect("exec")
      client.check(c2:get("/api/v1/nodes"))
      assert.are.equal("run\n", support.read(srv.dir .. "/exec-runs"))   -- one run, cached
    end)

    it("exec credential plugin: an expired credential is fetched again", function()
      os.remove(srv.dir .. "/exec-runs")
      local c = connect("exec", { exec_args = { "expired" } })
      client.check(c:get("/api/v1/nodes"))
      client.check(c:get("/api/v1/nodes"))
      assert.are.equal("run\nrun\n", support.read(srv.dir .. "/exec-runs"))
    end)

    it("exec credential plugin: a rejected token makes it run again once", function()
      os.remove(srv.dir .. "/exec-runs")
      local c = connect("exec", { exec_args = { "ok" }, exec_token = "rejected-token" })
      local _, err = c:get("/api/v1/nodes")
      assert.are.equal("unauthorized", err.code)
      assert.are.equal(401, err.status)
      assert.are.equal("run\nrun\n", support.read(srv.dir .. "/exec-runs"))
    end)

    it("exec credential plugin: failure shows its stderr", function()
      local c = connect("exec", { exec_args = { "fail" }, exec_token = "x2" })
      local _, err = c:get("/api/v1/nodes")
      assert.are.equal("unauthorized", err.code)
      assert.truthy(err.msg:find("you are not logged in", 1, true), err.msg)
      assert.truthy(err.msg:find("exited with status 1", 1, true), err.msg)
    end)

    it("insecure-skip-tls-verify without a CA", function()
      local c, conn = connect("insecure")
      assert.is_true(conn.insecure)
      assert.are.equal(3, #client.check(c:list("/api/v1/nodes")))
    end)

    it("a server certificate from an unknown CA is refused", function()
      local kc = srv:kubeconfig("token", { name = "kc-other-ca" })
      support.write(kc, support.read(kc):gsub("certificate%-authority: ca%.crt", "certificate-authority: other-ca.crt"))
      local c = client.new(config.resolve({ kubeconfig = kc }), { timeout = 2 })
      local _, err = c:get("/version")
      assert.are.equal("unavailable", err.code)
      assert.are.equal(1, err.attempts)
    end)

    it("--context picks a context; an unknown one names the accepted ones", function()
      local kc = srv:kubeconfig("token", { context = "other", namespace = "gpu-operator", name = "kc-ctx" })
      local conn = config.resolve({ kubeconfig = kc, context = "other" })
      assert.are.equal("gpu-operator", conn.namespace)
      local ok, e = pcall(config.resolve, { kubeconfig = kc, context = "nope" })
      assert.is_false(ok)
      assert.are.equal("notfound", e.code)
      assert.truthy(e.msg:find('"nope"', 1, true) and e.msg:find("other", 1, true), e.msg)
    end)

    it("refuses what it does not support, saying why", function()
      local kc = srv.dir .. "/kc-authprovider"
      support.write(kc, "clusters: [{name: c, cluster: {server: 'https://x'}}]\n"
        .. "users: [{name: u, user: {auth-provider: {name: gcp}}}]\n"
        .. "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n")
      local ok, e = pcall(config.resolve, { kubeconfig = kc })
      assert.is_false(ok)
      assert.truthy(e.msg:find("auth-provider", 1, true) and e.msg:find("exec credential plugin", 1, true), e.msg)
      ok, e = pcall(config.resolve, { kubeconfig = srv.dir .. "/missing" })
      assert.is_false(ok)
      assert.are.equal("notfound", e.code)
    end)
  end)

  describe("faults", function()
    it("429 with Retry-After, then 200", function()
      local c = connect("cert")
      srv:control("fault", { kind = "429", count = 1, retry_after = 1, match = "/api/v1/nodes" })
      local sys = require("eidos.core.sys")
      local t0 = sys.monotime()
      assert.are.equal(3, #client.check(c:list("/api/v1/nodes")))
      assert.is_true(sys.monotime() - t0 >= 0.95)
      assert.are.equal(2, count("GET", "/api/v1/nodes"))
    end)

    it("two 500s, then 200", function()
      local c = connect("cert")
      srv:control("fault", { kind = "500", count = 2 })
      assert.are.equal(3, #client.check(c:list("/api/v1/nodes")))
      assert.are.equal(3, count("GET", "/api/v1/nodes"))
    end)

    it("three 500s: an error that says what was tried", function()
      local c = connect("cert")
      srv:control("fault", { kind = "500", count = 3 })
      local _, err = c:get("/api/v1/namespaces/default/configmaps/x")
      assert.are.equal("unavailable", err.code)
      assert.truthy(err.msg:find('get configmaps "x" in namespace "default": gave up after 3 attempts', 1, true), err.msg)
      -- the same answer three times is said once
      assert.truthy(err.msg:find("backoff), each: HTTP 500 InternalError", 1, true), err.msg)
      assert.falsy(err.msg:find("2)", 1, true), err.msg)
    end)

    it("a hang past the timeout is retried", function()
      local c = client.new(config.resolve({ kubeconfig = srv:kubeconfig("cert") }), { timeout = 0.7, backoff = 0.05 })
      srv:control("fault", { kind = "hang", count = 1, seconds = 1.5, match = "/api/v1/nodes" })
      assert.are.equal(3, #client.check(c:list("/api/v1/nodes")))
      srv:control("fault", { kind = "hang", count = 3, seconds = 1.5, match = "/api/v1/nodes" })
      local _, err = c:get("/api/v1/nodes")
      assert.are.equal("timeout", err.code)
      assert.truthy(err.msg:find("within 700 ms", 1, true), err.msg)
    end)

    it("a 409 on update: reported as a conflict, and cm:// writes retry it", function()
      local c = connect("cert")
      local path = "/api/v1/namespaces/default/configmaps"
      local cm = client.check(c:create(path, { metadata = { name = "c409" }, data = { a = "1" } }))
      srv:control("fault", { kind = "conflict", count = 1 })
      cm.data.a = "2"
      local _, err = c:update(path .. "/c409", cm)
      assert.are.equal(409, err.status)
      assert.are.equal("Conflict", err.reason)
      assert.truthy(err.msg:find("the object has been modified", 1, true), err.msg)
      client.set_defaults({ kubeconfig = srv:kubeconfig("cert") })
      docio.write("cm://default/c409", "kind: Snapshot\nmeasurements: []\n", { format = "yaml" })
      srv:control("fault", { kind = "conflict", count = 2 })
      docio.write("cm://default/c409", "kind: Snapshot\nmeasurements: [1]\n", { format = "yaml" })
      assert.are.equal("kind: Snapshot\nmeasurements: [1]\n", (docio.read("cm://default/c409", { what = "snapshot" })))
      -- 1 raw update + 1 plain write + 1 write that met 2 conflicts (3 PUTs)
      assert.are.equal(5, count("PUT", "/configmaps/c409"))
    end)

    it("403 names the missing RBAC rule", function()
      local c = connect("cert")
      srv:control("deny", { verb = "list", resource = "pods", group = "" })
      local _, err = c:list("/api/v1/namespaces/gpu-operator/pods")
      assert.are.equal("unauthorized", err.code)
      assert.truthy(err.msg:find('list resource "pods" in API group "" in namespace "gpu-operator"', 1, true), err.msg)
      assert.truthy(err.msg:find('verbs: ["list"]', 1, true), err.msg)
    end)
  end)

  describe("lists", function()
    it("pages with limit and continue", function()
      local c = connect("token")
      local pods = client.check(c:list("/api/v1/pods", { limit = 100 }))
      assert.are.equal(1234, #pods)
      assert.are.equal(13, count("GET", "/api/v1/pods?limit=100"))
      local seen = {}
      for _, p in ipairs(pods) do
        local k = p.metadata.namespace .. "/" .. p.metadata.name
        assert.is_nil(seen[k])
        seen[k] = true
      end
    end)

    it("starts again when the continue token expired", function()
      local c = connect("token")
      srv:control("fault", { kind = "expire_continue", count = 1 })
      assert.are.equal(1234, #client.check(c:list("/api/v1/pods", { limit = 500 })))
    end)

    it("selects by label and field", function()
      local c = connect("token")
      local n = client.check(c:list("/api/v1/nodes", { label_selector = "pool=gpu" }))
      assert.are.equal(2, #n)
      n = client.check(c:list("/api/v1/nodes", { field_selector = "metadata.name=gpu-node-2" }))
      assert.are.equal(1, #n)
    end)
  end)

  describe("cm:// storage", function()
    before_each(function()
      client.set_defaults({ kubeconfig = srv:kubeconfig("cert") })
    end)

    it("round-trips YAML and JSON with labels, format and timestamp", function()
      local y = support.read("spec/fixtures/k8s/agent-snapshot.yaml")
      docio.write("cm://default/snap", y, { format = "yaml" })
      assert.are.equal(y, (docio.read("cm://default/snap", { what = "snapshot" })))
      local c = client.shared()
      local cm = client.check(c:get("/api/v1/namespaces/default/configmaps/snap"))
      assert.are.equal("yaml", cm.data.format)
      assert.truthy(cm.data.timestamp:match("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$"))
      assert.are.equal("eidos", cm.metadata.labels["app.kubernetes.io/name"])
      assert.are.equal("snapshot", cm.metadata.labels["app.kubernetes.io/component"])
      assert.truthy(cm.metadata.labels["app.kubernetes.io/version"])
      -- JSON replaces YAML: one document per ConfigMap
      local j = '{"kind":"Recipe","apiVersion":"eidos.nvidia.com/v1alpha1"}\n'
      docio.write("cm://default/snap", j, { format = "json" })
      cm = client.check(c:get("/api/v1/namespaces/default/configmaps/snap"))
      assert.is_nil(cm.data["snapshot.yaml"])
      assert.are.equal(j, cm.data["recipe.json"])
      assert.are.equal("recipe", cm.metadata.labels["app.kubernetes.io/component"])
      assert.are.equal(j, (docio.read("cm://default/snap", { what = "recipe" })))
      assert.are.equal(j, (docio.load and docio.read("cm://default/snap")))
    end)

    it("checks the 1 MiB limit before sending", function()
      local ok, e = pcall(docio.write, "cm://default/big", "kind: Snapshot\n" .. string.rep("x", 1048576), {})
      assert.is_false(ok)
      assert.are.equal("invalid", e.code)
      assert.truthy(e.msg:find("1048576 bytes (1 MiB)", 1, true), e.msg)
      assert.are.equal(0, count("POST", "/configmaps"))
    end)

    it("counts the limit as the API server does: the values' bytes, refused only when over", function()
      -- recorded from a real kube-apiserver v1.37.2: data values of 1048576
      -- bytes in all are accepted whatever the keys, one byte more is 422
      local filler = "kind: Snapshot\n"
      local data = cmstore.content(filler, {})
      local room = cmstore.LIMIT - cmstore.size_of(data)
      local text = filler .. string.rep("x", room)
      docio.write("cm://default/edge", text, {}) -- raises on failure
      assert.are.equal(text, (docio.read("cm://default/edge")))
      local ok, e = pcall(docio.write, "cm://default/edge", text .. "x", {})
      assert.is_false(ok)
      assert.are.equal("invalid", e.code)
      -- the server's own answer to a ConfigMap over the limit
      local c = connect("token")
      local big = { apiVersion = "v1", kind = "ConfigMap", metadata = { name = "big" },
                    data = { a = string.rep("y", cmstore.LIMIT), b = "z" } }
      local _, err = c:create("/api/v1/namespaces/default/configmaps", big)
      assert.are.equal(422, err.status)
      assert.are.equal("invalid", err.code)
      assert.truthy(err.msg:find('ConfigMap "big" is invalid: []: Too long: may not be more than 1048576 bytes', 1,
        true), err.msg)
    end)

    it("validates the location and the names", function()
      for _, bad in ipairs({ "cm://default", "cm:///x", "cm://default/", "cm://Default/x", "cm://default/Bad_Name",
                             "cm://default/-x", "cm://" .. string.rep("a", 64) .. "/x" }) do
        local ok, e = pcall(docio.write, bad, "kind: Snapshot\n", {})
        assert.is_false(ok, bad)
        assert.are.equal("invalid", e.code, bad)
        assert.truthy(e.msg:find("accepted", 1, true) or e.msg:find("lower-case", 1, true), e.msg)
      end
      assert.are.equal("ns", (cmstore.parse("cm:// ns / a.b-c ")))
    end)

    it("names a missing namespace and a missing ConfigMap", function()
      local ok, e = pcall(docio.write, "cm://nope/snap", "kind: Snapshot\n", {})
      assert.is_false(ok)
      assert.are.equal("notfound", e.code)
      assert.truthy(e.msg:find('namespace "nope" does not exist', 1, true), e.msg)
      ok, e = pcall(docio.read, "cm://default/absent", { what = "snapshot" })
      assert.is_false(ok)
      assert.are.equal("notfound", e.code)
      assert.truthy(e.msg:find('ConfigMap "absent" not found', 1, true), e.msg)
    end)

    it("refuses the table format", function()
      local ok, e = pcall(docio.write, "cm://default/t", "FIELD VALUE\n", { format = "table" })
      assert.is_false(ok)
      assert.truthy(e.msg:find("accepted: yaml, json", 1, true), e.msg)
    end)
  end)

  describe("http(s):// inputs", function()
    local fetch
    setup(function()
      fetch = require("eidos.fetch")
      support.write(srv.dir .. "/files/snap.yaml", "kind: Snapshot\nmeasurements: []\n")
      support.write(srv.dir .. "/files/page.html", "<html>login</html>")
      support.write(srv.dir .. "/files/big.json", string.rep("[1,2,3]\n", 300000))
    end)

    it("reads over http and https, checking the CA", function()
      local text = docio.read(plain.base .. "/__files/snap.yaml?sig=secret", { what = "snapshot" })
      assert.are.equal("kind: Snapshot\nmeasurements: []\n", text)
      assert.are.equal("kind: Snapshot\nmeasurements: []\n",
        (fetch.read(srv.base .. "/__files/snap.yaml", { ca_file = srv.dir .. "/ca.crt" })))
      local ok, e = pcall(fetch.read, srv.base .. "/__files/snap.yaml", {})
      assert.is_false(ok)
      assert.are.equal("unavailable", e.code)
    end)

    it("enforces the size limit, non-200 statuses and the content type", function()
      local ok, e = pcall(fetch.read, plain.base .. "/__files/big.json?token=abc", { max = 1000000, max_flag = "--max-input-size" })
      assert.is_false(ok)
      assert.are.equal("invalid", e.code)
      assert.truthy(e.msg:find("1000000", 1, true) and e.msg:find("--max-input-size", 1, true), e.msg)
      assert.falsy(e.msg:find("abc", 1, true))
      ok, e = pcall(fetch.read, plain.base .. "/__files/none.yaml", {})
      assert.is_false(ok)
      assert.are.equal("notfound", e.code)
      assert.truthy(e.msg:find("HTTP 404", 1, true), e.msg)
      ok, e = pcall(fetch.read, plain.base .. "/__files/page.html?ctype=text/html", {})
      assert.is_false(ok)
      assert.are.equal("invalid", e.code)
      assert.truthy(e.msg:find("text/html", 1, true), e.msg)
    end)

    it("follows redirects only to https", function()
      local to = srv.base .. "/__files/snap.yaml"
      assert.truthy(fetch.read(plain.base .. "/__redirect?to=" .. to, { ca_file = srv.dir .. "/ca.crt" }))
      local ok, e = pcall(fetch.read, srv.base .. "/__redirect?to=" .. plain.base .. "/__files/snap.yaml",
        { ca_file = srv.dir .. "/ca.crt" })
      assert.is_false(ok)
      assert.are.equal("invalid", e.code)
    end)

    it("times out", function()
      plain:control("fault", { kind = "hang", count = 1, seconds = 2 })
      local ok, e = pcall(fetch.read, plain.base .. "/__files/snap.yaml", { timeout = 0.5 })
      assert.is_false(ok)
      assert.are.equal("timeout", e.code)
    end)
  end)

  it("K8s measurement helpers: image names, tags, policy flattening", function()
    local k = require("eidos.snapshot.k8s")
    assert.are.same({ "container-toolkit", "v1.17.4-ubuntu20.04" },
      { k.parse_image("nvcr.io/nvidia/k8s/container-toolkit:v1.17.4-ubuntu20.04@sha256:abc") })
    assert.are.same({ "nginx", "latest" }, { k.parse_image("nginx@sha256:0123") })
    assert.are.same({ "app", "latest" }, { k.parse_image("localhost:5000/app") })
    local pods = {
      { spec = { containers = { { image = "a/x:v1.2.0" } }, initContainers = { { image = "b/y:1" } } } },
      { spec = { containers = { { image = "c/x:v1.10.0" } }, ephemeralContainers = { { image = "z" } } } },
      { spec = { containers = { { image = "d/x:v1.9.0" } } } },
    }
    assert.are.same({ x = "v1.10.0", y = "1", z = "latest" }, k.images(pods))
    local out = {}
    k.flatten("", { a = { b = true, c = 3, d = 2.5, e = {}, f = { "p", "q" } }, g = "s" }, out)
    assert.are.same({ ["a.b"] = "true", ["a.c"] = "3", ["a.d"] = "2.5", ["a.f"] = '["p","q"]', g = "s" }, out)
    -- arrays of objects as canonical JSON, keys in natural order: the text
    -- never depends on the table order of the decoder (seen on a real API
    -- server: the GPU Operator's env lists came out as {"value":..,"name":..}
    -- on some runs and {"name":..,"value":..} on others)
    for _, e in ipairs({ { name = "W", value = "a/b", k10 = 1, k9 = 2 }, { k9 = 2, k10 = 1, value = "a/b", name = "W" } }) do
      local o = {}
      k.flatten("", { env = { e, { b = { 2, 1 } } } }, o)
      assert.are.equal('[{"k9":2,"k10":1,"name":"W","value":"a/b"},{"b":[2,1]}]', o.env)
    end
  end)

  it("binding misuse raises; expected failures return nil, msg, code", function()
    assert.has_error(function() core.client() end)
    local c, msg, code = core.client({ server = "ftp://x" })
    assert.is_nil(c)
    assert.are.equal("invalid", code)
    assert.truthy(msg:find("ftp://x", 1, true))
    local d, attrs = core.describe("POST", "/apis/batch/v1/namespaces/x/jobs")
    assert.are.equal('create jobs.batch in namespace "x"', d)
    assert.are.same({ verb = "create", group = "batch", resource = "jobs", namespace = "x" }, attrs)
    assert.are.equal(cjson.null, client.null)
  end)
end)
