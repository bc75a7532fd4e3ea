-- eidos.oci.ref, .auth and .artifact without a registry: the reference
-- grammar and its errors, WWW-Authenticate parsing, credentials from a
-- Docker config (auths, credHelpers over auths, credsStore), and the exact
-- bytes of the manifests eidos writes (key order, no volatile fields).
-- The registry itself is exercised in spec/e2e/oci_spec.lua.
local ref = require("eidos.oci.ref")
local auth = require("eidos.oci.auth")
local artifact = require("eidos.oci.artifact")
local support = require("support")

describe("eidos.oci.ref", function()
  it("parses registry, repository, tag and digest", function()
    local r = ref.parse("oci://registry.example.com:5000/platform/gpu-stack:0.1.0")
    assert.are.same({ "registry.example.com:5000", "platform/gpu-stack", "0.1.0" }, { r.registry, r.repository, r.tag })
    local d = "sha256:" .. string.rep("ab", 32)
    r = ref.parse("oci://127.0.0.1:5000/a/b_c/d-e@" .. d)
    assert.are.equal(d, r.digest)
    assert.is_nil(r.tag)
    r = ref.parse("oci://[::1]:5000/x:v1@" .. d)
    assert.are.equal("[::1]:5000", r.registry)
    assert.are.equal("v1", r.tag)
    assert.are.equal("[::1]:5000/x@" .. d, ref.name(r))
  end)

  it("refuses what the distribution grammar refuses, naming the part", function()
    for text, why in pairs({
      ["oci://host"] = "no repository", ["oci://host/Repo:v1"] = "component \"Repo\"",
      ["oci://host/repo"] = "no :TAG", ["oci://host/repo:-x"] = "tag \"-x\"",
      ["oci://host/repo@sha256:abc"] = "digest", ["oci://-host/x:v1"] = "registry",
      ["oci://host:99999/x:v1"] = "bad port", ["oci://host/a..b:v1"] = "component",
      ["https://host/x:v1"] = "does not start with oci://",
    }) do
      local msg = support.raises("invalid", ref.parse, text)
      assert.matches(why, msg, 1, true)
      assert.matches("accepted: oci://REGISTRY/REPOSITORY:TAG", msg, 1, true)
    end
  end)
end)

describe("eidos.oci.auth", function()
  it("parses WWW-Authenticate challenges, several and quoted", function()
    local c = auth.challenges('Bearer realm="https://auth.example.com/token",service="registry.example.com",' ..
      'scope="repository:a/b:pull,push"\nBasic realm="x \\"y\\""')
    assert.are.equal(2, #c)
    assert.are.equal("bearer", c[1].scheme)
    assert.are.equal("https://auth.example.com/token", c[1].params.realm)
    assert.are.equal("repository:a/b:pull,push", c[1].params.scope)
    assert.are.equal("basic", c[2].scheme)
    assert.are.equal('x "y"', c[2].params.realm)
    assert.are.same({}, auth.challenges(nil))
  end)

  it("finds credentials as Docker does", function()
    local b64 = require("eidos.core.base64").encode
    local cfg = { auths = {
      ["https://r1.example.com/v1/"] = { auth = b64("u1:p:w") },
      ["r2.example.com"] = { username = "u2", password = "p2" },
      ["r3.example.com"] = { identitytoken = "tok" },
      ["r4.example.com"] = { auth = "%%%" },
    } }
    local c = auth.credentials(cfg, "r1.example.com", "cfg.json")
    assert.are.same({ "u1", "p:w", "cfg.json" }, { c.username, c.password, c.from })
    assert.are.equal("p2", auth.credentials(cfg, "r2.example.com").password)
    assert.are.equal("tok", auth.credentials(cfg, "r3.example.com").identitytoken)
    assert.is_nil(auth.credentials(cfg, "other.example.com"))
    support.raises("invalid", auth.credentials, cfg, "r4.example.com")
    assert.are.equal("Basic dTE6cDp3", auth.basic(c))
    -- a helper name that could run anything else is refused
    support.raises("invalid", auth.credentials, { credHelpers = { ["r1.example.com"] = "../../bin/sh" } }, "r1.example.com")
    -- a helper that is not installed: unavailable, naming it
    local msg = support.raises("unavailable", auth.credentials, { credsStore = "eidos-spec-none" }, "r9.example.com")
    assert.matches("docker-credential-eidos-spec-none", msg, 1, true)
  end)

  it("--registry-config FILE must exist; the default file may be absent", function()
    support.raises("notfound", auth.load, { config = "/nonexistent/config.json" })
    local tmp = support.tmpdir()
    support.write(tmp .. "/bad.json", "[1,2")
    support.raises("invalid", auth.load, { config = tmp .. "/bad.json" })
    os.execute("rm -rf " .. support.q(tmp))
  end)
end)

describe("eidos.oci.artifact", function()
  it("writes manifests as compact JSON in a fixed key order, nothing volatile", function()
    local cfg = artifact.empty()
    local l = artifact.descriptor(artifact.LAYER_TGZ, "layer", { annotations = { [artifact.TITLE] = "b.tar.gz" } })
    local m = artifact.manifest({ artifact_type = artifact.BUNDLE_TYPE, config = cfg, layers = { l },
      subject = { mediaType = artifact.MANIFEST, digest = "sha256:" .. string.rep("0", 64), size = 3 } })
    assert.are.equal('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",' ..
      '"artifactType":"application/vnd.eidos.bundle.v1","config":{"mediaType":"application/vnd.oci.empty.v1+json",' ..
      '"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="},' ..
      '"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:' ..
      require("eidos.core.sha256").hex("layer") .. '","size":5,"annotations":{"org.opencontainers.image.title":' ..
      '"b.tar.gz"}}],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:' ..
      string.rep("0", 64) .. '","size":3}}', m)
    -- a descriptor decoded from JSON (sizes as floats) is written with integers
    local d = artifact.copy_descriptor(require("cjson").decode('{"mediaType":"x","digest":"sha256:1","size":12,"extra":1}'))
    assert.are.equal('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":' ..
      '[{"mediaType":"x","digest":"sha256:1","size":12}]}', artifact.index({ d }))
  end)

  it("packs by kind and unpacks back, a Helm chart under its top directory", function()
    local files = {
      { path = "Chart.yaml", data = "apiVersion: v2\nname: demo\nversion: 1.0.0\n" },
      { path = "deploy.sh", data = "#!/bin/sh\n", mode = "0755" },
      { path = "templates/a.yaml", data = "a: 1\n" },
    }
    local h = artifact.pack("helm", files)
    local m = require("cjson").decode(h.manifest)
    assert.are.equal(artifact.HELM_CONFIG, m.config.mediaType)
    assert.are.equal('{"name":"demo","version":"1.0.0","apiVersion":"v2"}', h.blobs[1].data)
    local names = {}
    for _, e in ipairs(require("eidos.core.archive").read(h.blobs[2].data)) do names[#names + 1] = e.path end
    assert.are.same({ "demo", "demo/Chart.yaml", "demo/deploy.sh", "demo/templates", "demo/templates/a.yaml" }, names)
    local back = artifact.unpack(m, h.blobs[2].data, "spec")
    assert.are.same({ "Chart.yaml", "deploy.sh", "templates/a.yaml" }, { back[1].path, back[2].path, back[3].path })
    assert.are.equal("0755", back[2].mode)
    assert.are.equal(h.manifest, artifact.pack("helm", files).manifest)
    local f = artifact.pack("flux", files)
    assert.are.equal(artifact.FLUX_LAYER, require("cjson").decode(f.manifest).layers[1].mediaType)
    assert.are.equal("flux", artifact.kind_of(require("cjson").decode(f.manifest)))
    assert.are.equal("catalog", artifact.kind_of(require("cjson").decode(artifact.pack("catalog", files).manifest)))
  end)
end)
