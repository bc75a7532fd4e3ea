-- eidos and OCI registries, against a real registry on loopback (Debian's
-- docker-registry, spec/oci_registry.lua) and a real client (skopeo):
-- bundles pushed with the documented media types and a digest that depends
-- on content only, pulled back byte-identical, verified (a changed blob, a
-- missing or wrong signature fail with exit 9), signed with referrers
-- found through the sha256-<hex> tag; skopeo reads what eidos pushed and
-- eidos pulls what skopeo copied; basic and token auth with a Docker
-- config (auths, credHelpers, credsStore, identity token); retries through
-- a proxy that fails with 503/429/502; chunked uploads; catalogs and
-- documents; an unreachable registry; SBOMs. cosign, when on PATH, checks
-- the signatures offline. Skipped visibly when a tool is missing.
local support = require("support")
local R = require("oci_registry")
local fs = require("eidos.core.fs")
local sha256 = require("eidos.core.sha256")
local cjson = require("cjson")

local SMALL = "spec/fixtures/bundle/recipe-small.yaml"
local LIB = "spec/fixtures/bundle/root"

local function sh(cmd) return os.execute(cmd) == true end
local function has_cmd(c) return sh("command -v " .. c .. " >/dev/null 2>&1") end
local q = support.q

local BIN = support.eidos:sub(1, 1) == "/" and support.eidos or (support.root .. "/" .. support.eidos)

local function run(args, opts)
  opts = opts or {}
  opts.bin = opts.bin or BIN
  opts.env = opts.env or {}
  if opts.env.EIDOS_HOME == nil then opts.env.EIDOS_HOME = support.root end
  if opts.env.DOCKER_CONFIG == nil then opts.env.DOCKER_CONFIG = "/nonexistent-docker-config" end
  return support.run(args, opts)
end

local function ok(r) assert.are.equal(0, r.code, (r.err or "") .. (r.out or "")) return r end

-- eidos bundle ... -o oci://host/repo:tag [extra] -> pinned name
local function push(host, repo, extra, opts)
  local args = { "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-o", "oci://" .. host .. "/" .. repo, "--plain-http" }
  for _, a in ipairs(extra or {}) do args[#args + 1] = a end
  local r = ok(run(args, opts))
  local name = r.out:match("^(%S+)\n$")
  assert.is_truthy(name, "stdout is the pinned name: " .. r.out)
  return name, r
end

local function skopeo(args)
  local p = io.popen("skopeo " .. args .. " 2>&1")
  local out = p:read("a")
  local okc = p:close()
  return okc, out
end

local function raw_manifest(host, ref, extra)
  local okc, out = skopeo("inspect --raw --tls-verify=false " .. (extra or "") .. " docker://" .. host .. "/" .. ref)
  assert.is_true(okc, out)
  return out
end

local function same_tree(a, b)
  local la, lb = assert(fs.walk(a)), assert(fs.walk(b))
  assert.are.same(la, lb)
  for _, f in ipairs(la) do
    assert.are.equal(sha256.file(a .. "/" .. f), sha256.file(b .. "/" .. f), f)
  end
end

local function keypair(dir, name, kind)
  local priv, pub = dir .. "/" .. name .. ".pem", dir .. "/" .. name .. ".pub"
  local gen = kind == "ecdsa" and ("openssl ecparam -name prime256v1 -genkey -noout -out " .. priv)
    or ("openssl genpkey -algorithm ed25519 -out " .. priv)
  assert(sh(gen .. " 2>/dev/null && openssl pkey -in " .. priv .. " -pubout -out " .. pub .. " 2>/dev/null"))
  return priv, pub
end

local missing = R.missing() or (not has_cmd("skopeo") and "skopeo") or nil

-- inside a describe: mark it pending when a tool is missing
local function skipped()
  if missing then
    pending("skipped: " .. missing .. " is not installed (scripts/install-deps installs docker-registry, skopeo," ..
      " apache2-utils)")
    return true
  end
  return false
end

-- a registry and a temporary directory for the tests of a describe:
-- set(registry, tmpdir) is called in its setup; both go in its teardown
local function fixture(opts, set)
  local reg, tmp
  setup(function()
    reg = R.start(opts)
    tmp = support.tmpdir()
    set(reg, tmp)
  end)
  teardown(function()
    if reg then reg.stop() end
    if tmp then sh("rm -rf " .. q(tmp)) end
  end)
end

-- run fn(registry, tmpdir) with a registry of its own, always stopped
local function with_registry(opts, fn)
  local reg = R.start(opts)
  local tmp = support.tmpdir()
  local ok2, err = pcall(fn, reg, tmp)
  reg.stop()
  sh("rm -rf " .. q(tmp))
  assert(ok2, err)
end

describe("OCI distribution against docker-registry", function()
  if skipped() then return end
  local reg, tmp
  fixture(nil, function(r, t) reg, tmp = r, t end)

  it("pushes a Helm chart whose digest depends on content only, and pulls it back byte-identical", function()
    local name = push(reg.host, "eidos/helm:v1")
    local digest = name:match("@(sha256:%x+)$")
    assert.are.equal(reg.host .. "/eidos/helm@" .. digest, name)
    local raw = raw_manifest(reg.host, "eidos/helm:v1")
    assert.are.equal(digest, "sha256:" .. sha256.hex(raw))
    local m = cjson.decode(raw)
    assert.are.equal("application/vnd.oci.image.manifest.v1+json", m.mediaType)
    assert.are.equal("application/vnd.cncf.helm.config.v1+json", m.config.mediaType)
    assert.are.equal(1, #m.layers)
    assert.are.equal("application/vnd.cncf.helm.chart.content.v1.tar+gzip", m.layers[1].mediaType)
    assert.is_nil(m.annotations)
    assert.is_nil(raw:find(reg.host, 1, true))
    -- same inputs, any tag, any repository: same digest
    assert.are.equal(name, (push(reg.host, "eidos/helm:v1")))
    assert.are.equal(digest, push(reg.host, "eidos/helm:other-tag"):match("@(sha256:%x+)$"))
    assert.are.equal(digest, push(reg.host, "elsewhere/x:v2"):match("@(sha256:%x+)$"))
    -- the chart config is Chart.yaml as JSON
    local cfg = cjson.decode((assert(support.read(R.blob_path(reg, m.config.digest)))))
    assert.are.equal("v2", cfg.apiVersion)
    assert.matches("^eidos%-", cfg.name)
    -- pull: byte-identical to the same bundle written to a directory
    ok(run({ "bundle", "pull", "oci://" .. reg.host .. "/eidos/helm:v1", "-o", tmp .. "/pulled", "--plain-http" }))
    ok(run({ "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-o", tmp .. "/local" }))
    same_tree(tmp .. "/local", tmp .. "/pulled")
    assert.is_true(sh("test -x " .. q(tmp .. "/pulled/deploy.sh")))
    -- and by digest
    ok(run({ "bundle", "pull", "oci://" .. name, "-o", tmp .. "/by-digest.tar.gz", "--plain-http" }))
    local r = ok(run({ "verify", "oci://" .. reg.host .. "/eidos/helm:v1", "--plain-http" }))
    assert.matches("referrers: signature absent; attestation absent", r.out, 1, true)
    assert.matches("not signed", r.out, 1, true)
  end)

  it("pushes Flux content for flux and an eidos bundle artifact for argocd", function()
    push(reg.host, "eidos/flux:v1", { "-d", "flux" })
    local m = cjson.decode(raw_manifest(reg.host, "eidos/flux:v1"))
    assert.are.equal("application/vnd.cncf.flux.config.v1+json", m.config.mediaType)
    assert.are.equal("application/vnd.cncf.flux.content.v1.tar+gzip", m.layers[1].mediaType)
    push(reg.host, "eidos/argo:v1", { "-d", "argocd", "--repo", "https://git.example.com/x.git" })
    m = cjson.decode(raw_manifest(reg.host, "eidos/argo:v1"))
    assert.are.equal("application/vnd.eidos.bundle.v1", m.artifactType)
    assert.are.equal("application/vnd.oci.empty.v1+json", m.config.mediaType)
    assert.are.equal("e30=", m.config.data)
    assert.are.equal("application/vnd.oci.image.layer.v1.tar+gzip", m.layers[1].mediaType)
    assert.are.equal("bundle.tar.gz", m.layers[1].annotations["org.opencontainers.image.title"])
    ok(run({ "bundle", "pull", "oci://" .. reg.host .. "/eidos/flux:v1", "-o", tmp .. "/flux", "--plain-http" }))
    ok(run({ "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-d", "flux", "-o", tmp .. "/flux-local" }))
    same_tree(tmp .. "/flux-local", tmp .. "/flux")
  end)

  it("signs: referrers through the sha256-<hex> tag; verify checks them with --key", function()
    local priv, pub = keypair(tmp, "k")
    local _, other = keypair(tmp, "o")
    local name = push(reg.host, "eidos/signed:v1", { "--sign-key", priv, "--sbom" })
    local digest = name:match("@(sha256:%x+)$")
    -- Ed25519 signatures are deterministic: same digest again
    assert.are.equal(name, (push(reg.host, "eidos/signed:v1", { "--sign-key", priv, "--sbom" })))
    local idx = cjson.decode(raw_manifest(reg.host, "eidos/signed:" .. digest:gsub(":", "-")))
    assert.are.equal("application/vnd.oci.image.index.v1+json", idx.mediaType)
    local types = {}
    for _, d in ipairs(idx.manifests) do types[#types + 1] = d.artifactType end
    table.sort(types)
    assert.are.same({ "application/vnd.dsse.envelope.v1+json", "application/vnd.eidos.signature.v1" }, types)
    for _, d in ipairs(idx.manifests) do
      local rm = cjson.decode(raw_manifest(reg.host, "eidos/signed@" .. d.digest))
      assert.are.equal(digest, rm.subject.digest)
    end
    local loc = "oci://" .. reg.host .. "/eidos/signed:v1"
    local r = ok(run({ "verify", loc, "--plain-http", "--key", pub }))
    assert.matches("referrers: signature verified; attestation consistent", r.out, 1, true)
    r = run({ "verify", loc, "--plain-http", "--key", other, "-t", "json" })
    assert.are.equal(9, r.code)
    local rep = cjson.decode(r.out)
    assert.are.equal("failed", rep.referrers.signature)
    -- without --key a signed artifact passes and says the signature is unchecked
    r = ok(run({ "verify", loc, "--plain-http" }))
    assert.matches("pass --key", r.out, 1, true)
    -- an unsigned artifact with --key: missing signature, exit 9
    push(reg.host, "eidos/unsigned:v1")
    r = run({ "verify", "oci://" .. reg.host .. "/eidos/unsigned:v1", "--plain-http", "--key", pub })
    assert.are.equal(9, r.code)
    assert.matches("no signature of the manifest is attached", r.out, 1, true)
  end)

  it("a changed blob in the registry fails verify and pull with exit 9, writing nothing", function()
    local name = push(reg.host, "eidos/tamper:v1", { "-d", "argocd" })
    local m = cjson.decode(raw_manifest(reg.host, "eidos/tamper:v1"))
    local path = R.blob_path(reg, m.layers[1].digest)
    local data = assert(support.read(path))
    -- same size, one byte changed near the end (inside the gzip stream)
    local i = #data - 10
    support.write(path, data:sub(1, i - 1) .. string.char((data:byte(i) + 1) % 256) .. data:sub(i + 1))
    local r = run({ "verify", "oci://" .. name, "--plain-http" })
    assert.are.equal(9, r.code, r.err)
    assert.matches("content was changed", r.out .. r.err, 1, true)
    r = run({ "bundle", "pull", "oci://" .. name, "--plain-http", "-o", tmp .. "/tampered" })
    assert.are.equal(9, r.code, r.err)
    assert.is_nil(fs.exists(tmp .. "/tampered"))
    support.write(path, data)
  end)

  it("skopeo reads what eidos pushed, and eidos pulls what skopeo copied back", function()
    local name = push(reg.host, "eidos/interop:v1")
    local layout = tmp .. "/layout"
    local okc, out = skopeo("copy --src-tls-verify=false docker://" .. reg.host .. "/eidos/interop:v1 oci:" .. layout .. ":v1")
    assert.is_true(okc, out)
    assert.are.equal("file", fs.exists(layout .. "/index.json"))
    okc, out = skopeo("copy --dest-tls-verify=false oci:" .. layout .. ":v1 docker://" .. reg.host .. "/copied/back:v7")
    assert.is_true(okc, out)
    assert.are.equal(name:match("@(.*)$"), "sha256:" .. sha256.hex(raw_manifest(reg.host, "copied/back:v7")))
    ok(run({ "bundle", "pull", "oci://" .. reg.host .. "/copied/back:v7", "-o", tmp .. "/back", "--plain-http" }))
    ok(run({ "bundle", "pull", "oci://" .. name, "-o", tmp .. "/orig", "--plain-http" }))
    same_tree(tmp .. "/orig", tmp .. "/back")
    ok(run({ "verify", "oci://" .. reg.host .. "/copied/back:v7", "--plain-http" }))
  end)

  it("an unreachable registry exits 6 and writes nothing locally; other schemes are refused", function()
    local cwd = tmp .. "/cwd"
    fs.mkdir_p(cwd)
    -- a port nothing listens on: the registry's, after the fact, is in use;
    -- port 1 is privileged and unused here
    local r = run({ "--lua-path=" .. support.root .. "/" .. LIB, "bundle", "-r", support.root .. "/" .. SMALL, "-o",
      "oci://127.0.0.1:1/x/y:v1", "--plain-http" }, { cwd = cwd })
    assert.are.equal(6, r.code, r.err)
    assert.matches("registry 127.0.0.1:1", r.err, 1, true)
    assert.matches("check blob", r.err, 1, true)
    -- a plain-HTTP registry without --plain-http: exit 6, and the message says what to add
    r = run({ "--lua-path=" .. support.root .. "/" .. LIB, "bundle", "-r", support.root .. "/" .. SMALL, "-o",
      "oci://" .. reg.host .. "/x/y:v1" }, { cwd = cwd })
    assert.are.equal(6, r.code, r.err)
    assert.matches("registry " .. reg.host, r.err, 1, true)
    assert.matches("add --plain-http", r.err, 1, true)
    for _, o in ipairs({ "s3://bucket/x", "file:///tmp/x", "oci://Host/Repo:v1", "oci://h/x" }) do
      r = run({ "--lua-path=" .. support.root .. "/" .. LIB, "bundle", "-r", support.root .. "/" .. SMALL, "-o", o },
        { cwd = cwd })
      assert.are.equal(2, r.code, o .. ": " .. r.err)
    end
    assert.are.same({}, assert(fs.list(cwd)))
    r = run({ "verify", "s3://x/y" })
    assert.are.equal(2, r.code)
    assert.matches("not a local path", r.err, 1, true)
  end)

  it("catalogs: catalog push, then --data oci:// gives what --data DIR gives", function()
    local data = support.root .. "/spec/fixtures/recipes/rules"
    local cat = "oci://" .. reg.host .. "/eidos/catalog:2025.06"
    local r = ok(run({ "catalog", "push", data, cat, "--plain-http" }))
    assert.matches("^" .. reg.host:gsub("%p", "%%%0") .. "/eidos/catalog@sha256:%x+\n$", r.out)
    local m = cjson.decode(raw_manifest(reg.host, "eidos/catalog:2025.06"))
    assert.are.equal("application/vnd.eidos.catalog.v1", m.artifactType)
    local args = { "recipe", "--service", "eks", "--accelerator", "h100", "--intent", "training", "--allow-partial",
                   "--data-mode", "replace" }
    local function with(d)
      local a = { table.unpack(args) }
      a[#a + 1] = "--data"
      a[#a + 1] = d
      a[#a + 1] = "--plain-http"
      return a
    end
    -- a directory without registry.yaml is no catalog
    r = run({ "catalog", "push", support.root .. "/spec/fixtures/recipes", cat, "--plain-http" })
    assert.are.equal(2, r.code)
    assert.matches("no registry.yaml", r.err, 1, true)
    local from_dir = ok(run(with(data))).out
    local from_oci = ok(run(with(cat))).out
    assert.are.equal(from_dir, from_oci)
    -- a bundle artifact is not a catalog
    push(reg.host, "eidos/notcat:v1")
    r = run(with("oci://" .. reg.host .. "/eidos/notcat:v1"))
    assert.are.equal(2, r.code)
    assert.matches("not a recipe catalog", r.err, 1, true)
    -- and a catalog is not a bundle: pull and verify refuse it, writing nothing
    local out = reg.dir .. "/catalog-as-bundle"
    for _, a in ipairs({ { "bundle", "pull", cat, "-o", out, "--plain-http" }, { "verify", cat, "--plain-http" } }) do
      r = run(a)
      assert.are.equal(2, r.code, r.err)
      assert.matches("is a recipe catalog (artifactType application/vnd.eidos.catalog.v1), not a bundle; " ..
        "a catalog is read with --data " .. cat, r.err, 1, true)
      assert.is_false(support.exists(out))
    end
  end)

  it("eidosd --plain-http --data oci://: the registry flags reach every Lua state of the server", function()
    local server = require("e2e.eidosd")
    if not server.available() then return pending("no eidosd built") end
    -- a catalog layered over the built-in library whose eks overlay adds a
    -- constraint the built-in one does not have
    local data = tmp .. "/srvcat"
    sh("mkdir -p " .. q(data .. "/overlays") .. " && cp " .. q(support.root .. "/recipes/registry.yaml") .. " "
      .. q(data .. "/registry.yaml"))
    support.write(data .. "/overlays/eks.yaml", (support.read(support.root .. "/recipes/overlays/eks.yaml"):gsub(
      "  constraints:\n", "  constraints:\n    - name: K8s.server.platform\n      value: eks-from-the-catalog\n", 1)))
    local cat = "oci://" .. reg.host .. "/eidos/srvcat:v1"
    ok(run({ "catalog", "push", data, cat, "--plain-http" }))
    local want = ok(run({ "recipe", "--service", "eks", "--accelerator", "h100", "--intent", "training",
      "--allow-partial", "--data", cat, "--plain-http", "-t", "json" })).out
    assert.matches("eks-from-the-catalog", want, 1, true)
    -- the handlers and bundlers are threads with states of their own: two
    -- of each, so the answer cannot come from the start-up state by chance
    local s = server.start({ args = { "--plain-http", "--data", cat, "--handlers=2", "--bundlers=2", "--rate=0" },
                             env = { DOCKER_CONFIG = "/nonexistent-docker-config" } })
    local answers = {}
    for i = 1, 4 do
      answers[i] = server.get(s, "/v1/recipe?service=eks&accelerator=h100&intent=training&allow-partial=true")
    end
    server.stop(s)
    for _, a in ipairs(answers) do
      assert.are.equal(200, a.status, a.body)
      -- the catalog's overlay was applied, as for the CLI
      assert.matches("eks-from-the-catalog", a.body, 1, true)
      assert.are.same(cjson.decode(want).constraints, a.json.constraints)
    end
    -- without --plain-http the server stops at start, naming the registry
    local r = support.run({ "--listen=127.0.0.1:0", "--data", cat, "--handlers=1", "--bundlers=1" },
      { bin = server.bin, env = { EIDOS_HOME = support.root, DOCKER_CONFIG = "/nonexistent-docker-config" } })
    assert.are_not.equal(0, r.code)
    assert.matches(reg.host, r.err, 1, true)
  end)

  it("documents: recipe -o oci:// and --recipe oci:// (a document or a bundle's recipe.yaml)", function()
    local rec = "oci://" .. reg.host .. "/eidos/recipes:eks"
    local r = ok(run({ "recipe", "--service", "eks", "--accelerator", "h100", "--intent", "training", "-o", rec,
      "--plain-http" }))
    assert.matches("/eidos/recipes@sha256:", r.out, 1, true)
    local m = cjson.decode(raw_manifest(reg.host, "eidos/recipes:eks"))
    assert.are.equal("application/vnd.eidos.document.v1", m.artifactType)
    assert.are.equal("application/yaml", m.layers[1].mediaType)
    ok(run({ "bundle", "-r", rec, "-o", tmp .. "/from-doc", "--plain-http" }))
    -- a bundle's recipe.yaml serves as the recipe
    local name = push(reg.host, "eidos/forrecipe:v1")
    ok(run({ "--lua-path=" .. LIB, "bundle", "-r", "oci://" .. name, "-o", tmp .. "/again", "--plain-http" }))
    ok(run({ "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-o", tmp .. "/direct" }))
    same_tree(tmp .. "/direct", tmp .. "/again")
  end)

  it("retries 503, 429 (Retry-After) and 502 with back-off, and uploads large blobs in chunks", function()
    local flaky = R.flaky(reg)
    local name = push(flaky, "eidos/retry:v1", { "-d", "flux" })
    local log = assert(support.read(reg.dir .. "/flaky.log"))
    assert.matches("^503 HEAD [^\n]*\n429 HEAD [^\n]*\n502 HEAD [^\n]*\n404 HEAD", log)
    assert.are.equal(name:match("@.*"), push(reg.host, "eidos/retry:v1", { "-d", "flux" }):match("@.*"))
    -- chunked: a 300 KiB blob in 64 KiB PATCHes, read back by skopeo
    local oci = require("eidos.oci")
    local artifact = require("eidos.oci.artifact")
    oci.configure({ plain_http = true, chunk = 64 * 1024, config = "/nonexistent/config.json" })
    local big = {}
    for i = 1, 300 * 1024 / 64 do big[i] = sha256.hex(tostring(i)) end
    local packed = artifact.pack("catalog", { { path = "big.yaml", data = "x: " .. table.concat(big) .. "\n" } })
    local before = #(support.read(reg.dir .. "/flaky.log") or "")
    local digest = oci.push("oci://" .. flaky .. "/eidos/chunked:v1", packed)
    oci.configure({})
    local tail = assert(support.read(reg.dir .. "/flaky.log")):sub(before + 1)
    local patches = 0
    for _ in tail:gmatch("202 PATCH ") do patches = patches + 1 end
    assert.is_true(patches >= 2, tail)
    assert.are.equal(digest, "sha256:" .. sha256.hex(raw_manifest(reg.host, "eidos/chunked:v1")))
    local layout = tmp .. "/chunked"
    local okc, out = skopeo("copy --src-tls-verify=false docker://" .. reg.host .. "/eidos/chunked:v1 oci:" .. layout .. ":x")
    assert.is_true(okc, out)
  end)

  it("--sbom: an SPDX 2.3 document of charts and images, deterministic", function()
    local env = { SOURCE_DATE_EPOCH = "1700000000" }
    ok(run({ "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-o", tmp .. "/s1", "--sbom" }, { env = env }))
    ok(run({ "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-o", tmp .. "/s2", "--sbom" }, { env = env }))
    same_tree(tmp .. "/s1", tmp .. "/s2")
    local d = cjson.decode((assert(support.read(tmp .. "/s1/sbom.spdx.json"))))
    assert.are.equal("SPDX-2.3", d.spdxVersion)
    assert.are.equal("2023-11-14T22:13:20Z", d.creationInfo.created)
    assert.matches("^https://eidos.nvidia.com/spdx/bundle/%x+$", d.documentNamespace)
    local names = {}
    for _, p in ipairs(d.packages) do names[p.SPDXID] = p end
    assert.is_truthy(names["SPDXRef-Package-bundle"])
    local sums = assert(support.read(tmp .. "/s1/checksums.txt"))
    assert.matches("  sbom.spdx.json\n", sums, 1, true)
    -- the namespace follows the content: another override, another namespace
    ok(run({ "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-o", tmp .. "/s3", "--sbom", "--set",
      "gpu-operator:driver.version=1.2.3" }, { env = env }))
    local d3 = cjson.decode((assert(support.read(tmp .. "/s3/sbom.spdx.json"))))
    assert.are_not.equal(d.documentNamespace, d3.documentNamespace)
    -- the binary's own SBOM
    local v = cjson.decode(ok(run({ "version", "--sbom" })).out)
    assert.are.equal("SPDX-2.3", v.spdxVersion)
    local pk = {}
    for _, p in ipairs(v.packages) do pk[p.name] = p end
    assert.is_truthy(pk.eidos and pk["libcurl4-openssl-dev"] and pk["lua5.4"])
    assert.is_nil(pk["lua-busted"])
  end)
end)

describe("OCI registries over TLS", function()
  if skipped() then return end
  it("verifies the certificate: refused (exit 6), trusted with EIDOS_CA_FILE, or skipped with --insecure-tls", function()
    with_registry({ tls = true }, function(reg)
      local args = { "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-o", "oci://" .. reg.host .. "/eidos/tls:v1" }
      local r = run(args)
      assert.are.equal(6, r.code, r.err)
      assert.matches("registry " .. reg.host, r.err, 1, true)
      assert.matches("certificate", r.err, 1, true)
      r = ok(run(args, { env = { EIDOS_CA_FILE = reg.dir .. "/tls.crt" } }))
      local name = r.out:match("^(%S+)\n$")
      args[#args + 1] = "--insecure-tls"
      assert.are.equal(name .. "\n", ok(run(args)).out)
      local okc, out = skopeo("inspect --raw --tls-verify=false docker://" .. reg.host .. "/eidos/tls:v1")
      assert.is_true(okc, out)
      ok(run({ "verify", "oci://" .. name, "--insecure-tls" }))
    end)
  end)
end)

describe("the eidos image as an OCI layout, pushed to docker-registry", function()
  if skipped() then return end
  local full = os.getenv("EIDOS_ROOTFS_TAR")
  if not full or full == "" then
    pending("the Debian root file system (mmdebstrap, needs the mirror) is not built by the specs: run" ..
      " scripts/build-image, or set EIDOS_ROOTFS_TAR=build/image/rootfs.tar to test that tar here")
  end
  it("tools/oci-image.lua writes the layout, pushes it; skopeo reads both and copies it", function()
    with_registry({}, function(reg, tmp)
      local tar = full
      if not tar or tar == "" then
        -- a small stand-in root file system: the binary and the user
        local root = tmp .. "/root"
        assert(sh("mkdir -p " .. q(root .. "/usr/bin") .. " " .. q(root .. "/etc") .. " && cp " .. q(BIN) .. " " ..
          q(root .. "/usr/bin/eidos") .. " && printf 'eidos:x:65532:65532::/home/eidos:/usr/sbin/nologin\\n' > " ..
          q(root .. "/etc/passwd")))
        tar = tmp .. "/rootfs.tar"
        assert(sh("tar --sort=name --numeric-owner --owner=0 --group=0 --mtime=@0 -C " .. q(root) .. " -cf " .. q(tar) .. " ."))
      end
      if full and full ~= "" and sh("[ \"$(id -u)\" = 0 ] && command -v chroot >/dev/null") then
        -- the real root file system runs both binaries as the image's user
        assert(sh("mkdir -p " .. q(tmp .. "/rfs") .. " && tar -xf " .. q(full) .. " -C " .. q(tmp .. "/rfs")))
        local run_in = "chroot --userspec=65532:65532 " .. q(tmp .. "/rfs") .. " "
        assert.is_true(sh(run_in .. "/usr/bin/eidos version -t json >/dev/null"))
        assert.is_true(sh(run_in .. "/usr/bin/eidosd --help >/dev/null"))
      end
      local env = { SOURCE_DATE_EPOCH = "1700000000" }
      local layout = tmp .. "/layout"
      local r = ok(run({ "lua", "tools/oci-image.lua", "build", tar, layout, "v9.9.9" }, { env = env, cwd = support.root }))
      assert.matches("diff_id sha256:" .. sha256.file(tar), r.out, 1, true)
      local okc, out = skopeo("inspect oci:" .. layout .. ":v9.9.9")
      assert.is_true(okc, out)
      local name = ok(run({ "--plain-http", "lua", "tools/oci-image.lua", "push", layout,
        "oci://" .. reg.host .. "/nvidia/eidos:v9.9.9" }, { cwd = support.root })).out:match("^(%S+)\n$")
      assert.is_truthy(name)
      okc, out = skopeo("inspect --config --tls-verify=false docker://" .. reg.host .. "/nvidia/eidos:v9.9.9")
      assert.is_true(okc, out)
      local cfg = cjson.decode(out)
      assert.are.equal("65532:65532", cfg.config.User)
      assert.are.same({ "/usr/bin/eidos" }, cfg.config.Entrypoint)
      assert.are.equal("linux", cfg.os)
      assert.are.equal("2023-11-14T22:13:20Z", cfg.created)
      assert.are.same({ "sha256:" .. sha256.file(tar) }, cfg.rootfs.diff_ids)
      okc, out = skopeo("copy --src-tls-verify=false docker://" .. reg.host .. "/nvidia/eidos:v9.9.9 oci:" .. tmp ..
        "/copy:x")
      assert.is_true(okc, out)
      local m = cjson.decode(raw_manifest(reg.host, "nvidia/eidos:v9.9.9"))
      assert.are.equal(m.layers[1].digest, "sha256:" .. sha256.file(tmp .. "/copy/blobs/sha256/" ..
        m.layers[1].digest:sub(8)))
      -- the same rootfs and time give the same image
      ok(run({ "lua", "tools/oci-image.lua", "build", tar, tmp .. "/layout2", "v9.9.9" }, { env = env, cwd = support.root }))
      assert.are.equal(support.read(layout .. "/index.json"), support.read(tmp .. "/layout2/index.json"))
    end)
  end)
end)

describe("OCI registry authentication", function()
  if skipped() then return end
  local b64 = require("eidos.core.base64").encode

  for _, mode in ipairs({ "htpasswd", "token" }) do
    describe("with " .. mode, function()
      local reg, tmp
      fixture({ auth = mode }, function(r, t) reg, tmp = r, t end)

      local function cfg(name, json)
        return tmp .. "/" .. name, R.docker_config(tmp .. "/" .. name, json)
      end

      it("auths: pushes and pulls with the config's credentials; skopeo reads it", function()
        local dir, path = cfg("auths", string.format('{"auths":{"https://%s":{"auth":"%s"}}}', reg.host,
          b64(R.USER .. ":" .. R.PASSWORD)))
        local name = push(reg.host, "eidos/auth:v1", nil, { env = { DOCKER_CONFIG = dir } })
        ok(run({ "bundle", "pull", "oci://" .. name, "-o", tmp .. "/p", "--plain-http" }, { env = { DOCKER_CONFIG = dir } }))
        local okc, out = skopeo("inspect --raw --tls-verify=false --authfile " .. q(path) .. " docker://" .. reg.host ..
          "/eidos/auth:v1")
        assert.is_true(okc, out)
        -- --registry-config FILE instead of DOCKER_CONFIG
        ok(run({ "verify", "oci://" .. name, "--plain-http", "--registry-config", path }))
      end)

      it("credHelpers and credsStore run docker-credential-NAME get", function()
        local bin = R.cred_helper(tmp .. "/h", "eidostest", R.USER, R.PASSWORD)
        local env = { PATH = bin .. ":" .. os.getenv("PATH") }
        env.DOCKER_CONFIG = cfg("helpers", string.format('{"credHelpers":{"%s":"eidostest"}}', reg.host))
        push(reg.host, "eidos/helper:v1", nil, { env = env })
        assert.matches(reg.host, assert(support.read(bin .. "/asked")), 1, true)
        env.DOCKER_CONFIG = cfg("store", string.format('{"auths":{"%s":{}},"credsStore":"eidostest"}', reg.host))
        push(reg.host, "eidos/store:v1", nil, { env = env })
      end)

      if mode == "token" then
        it("an identity token is exchanged at the token service (OAuth2 refresh_token)", function()
          local dir = cfg("idtoken", string.format('{"auths":{"%s":{"identitytoken":"%s"}}}', reg.host, R.REFRESH))
          push(reg.host, "eidos/idtoken:v1", nil, { env = { DOCKER_CONFIG = dir } })
        end)
      end

      it("a wrong password exits 4 naming the registry; no credentials likewise", function()
        local dir = cfg("wrong", string.format('{"auths":{"%s":{"username":"%s","password":"nope"}}}', reg.host, R.USER))
        local r = run({ "--lua-path=" .. LIB, "bundle", "-r", SMALL, "-o", "oci://" .. reg.host .. "/eidos/x:v1",
          "--plain-http" }, { env = { DOCKER_CONFIG = dir } })
        assert.are.equal(4, r.code, r.err)
        assert.matches("registry " .. reg.host, r.err, 1, true)
        r = run({ "bundle", "pull", "oci://" .. reg.host .. "/eidos/x:v1", "-o", tmp .. "/none", "--plain-http" })
        assert.are.equal(4, r.code, r.err)
        assert.matches("no credentials for " .. reg.host, r.err, 1, true)
      end)
    end)
  end
end)

describe("cosign verifies eidos signatures offline", function()
  if missing or not has_cmd("cosign") then
    pending("skipped: cosign is not on PATH (no Debian package; see docs/bundle.md for the development check)")
    return
  end
  it("verify-blob (checksums.txt.sig, the manifest signature) and verify-blob-attestation", function()
    with_registry({}, function(reg, tmp)
      for _, kind in ipairs({ "ed25519", "ecdsa" }) do
        local priv, pub = keypair(tmp, kind, kind)
        local name = push(reg.host, "eidos/cosign-" .. kind .. ":v1", { "--sign-key", priv, "-d", "argocd" })
        local out = tmp .. "/" .. kind
        ok(run({ "bundle", "pull", "oci://" .. name, "-o", out, "--plain-http" }))
        local c = "cosign %s --key " .. q(pub) .. " --insecure-ignore-tlog=true %s >/dev/null 2>&1"
        assert.is_true(sh(string.format(c, "verify-blob", "--signature " .. q(out .. "/checksums.txt.sig") .. " " ..
          q(out .. "/checksums.txt"))), kind .. ": verify-blob checksums.txt")
        assert.is_true(sh(string.format(c, "verify-blob-attestation", "--type https://eidos.nvidia.com/bundle/provenance/v1" ..
          " --signature " .. q(out .. "/attestation.dsse.json") .. " " .. q(out .. "/recipe.yaml"))),
          kind .. ": verify-blob-attestation recipe.yaml")
        assert.is_false(sh(string.format(c, "verify-blob-attestation", "--type https://eidos.nvidia.com/bundle/provenance/v1" ..
          " --signature " .. q(out .. "/attestation.dsse.json") .. " " .. q(out .. "/checksums.txt"))),
          kind .. ": a file that is not a subject must fail")
        -- the manifest signature attached as a referrer
        local digest = name:match("@(sha256:%x+)$")
        local idx = cjson.decode(raw_manifest(reg.host, "eidos/cosign-" .. kind .. ":" .. digest:gsub(":", "-")))
        for _, d in ipairs(idx.manifests) do
          if d.artifactType == "application/vnd.eidos.signature.v1" then
            local rm = cjson.decode(raw_manifest(reg.host, "eidos/cosign-" .. kind .. "@" .. d.digest))
            support.write(tmp .. "/manifest.json", raw_manifest(reg.host, "eidos/cosign-" .. kind .. ":v1"))
            support.write(tmp .. "/manifest.sig", assert(support.read(R.blob_path(reg, rm.layers[1].digest))))
            assert.is_true(sh(string.format(c, "verify-blob", "--signature " .. q(tmp .. "/manifest.sig") .. " " ..
              q(tmp .. "/manifest.json"))), kind .. ": verify-blob manifest")
          end
        end
      end
    end)
  end)
end)
