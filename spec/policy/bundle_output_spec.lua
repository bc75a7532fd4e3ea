-- eidos.bundle.output and eidos.bundle.verify: checksums, safe writing of
-- directories and archives, signatures and the in-toto statement, and the
-- checks of 'eidos verify'. Keys are generated with the openssl CLI at test
-- time (skipped without it); none are committed.
local output = require("eidos.bundle.output")
local verify = require("eidos.bundle.verify")
local fs = require("eidos.core.fs")
local sha256 = require("eidos.core.sha256")
local support = require("support")

local function files()
  return {
    { path = "values.yaml", data = "a: 1\n" },
    { path = "deploy.sh", data = "#!/bin/sh\necho hi\n", mode = "0755" },
    { path = "templates/x/cm.yaml", data = "kind: ConfigMap\n" },
    { path = "README.md", data = "# b\n" },
    { path = "recipe.yaml", data = "kind: RecipeResult\n" },
  }
end

local function bundle_of(list)
  return { files = list or files(), model = { Tool = { Version = "0.5.0" }, Deployer = "helm",
           criteria = { service = "eks", accelerator = "h100" }, Components = { { Name = "x" } } } }
end

local function sh(cmd) return os.execute(cmd) == true end
local have_openssl = sh("command -v openssl >/dev/null 2>&1")

local function keypair(dir, kind)
  local priv, pub = dir .. "/" .. kind .. ".pem", dir .. "/" .. kind .. ".pub"
  local gen = kind == "ed25519" and ("openssl genpkey -algorithm ed25519 -out " .. priv)
    or ("openssl ecparam -name prime256v1 -genkey -noout -out " .. priv)
  assert(sh(gen .. " 2>/dev/null && openssl pkey -in " .. priv .. " -pubout -out " .. pub .. " 2>/dev/null"))
  return support.read(priv), support.read(pub)
end

local function problems(r)
  local out = {}
  for _, p in ipairs(r.problems) do out[#out + 1] = p.kind .. ":" .. p.path end
  table.sort(out)
  return out
end

describe("eidos.bundle.output", function()
  local tmp
  before_each(function() tmp = support.tmpdir() end)
  after_each(function() fs.remove_tree(tmp) end)

  it("checksums: sha256, two spaces, path, sorted, every file but itself", function()
    local all = output.finish(bundle_of())
    local sums
    for _, f in ipairs(all) do if f.path == "checksums.txt" then sums = f.data end end
    local lines = {}
    for l in sums:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.equal(5, #lines)
    assert.are.equal(sha256.hex("# b\n") .. "  README.md", lines[1])
    local paths = {}
    for i, l in ipairs(lines) do
      assert.matches("^%x+  ", l)
      paths[i] = l:sub(67)
    end
    assert.are.same({ "README.md", "deploy.sh", "recipe.yaml", "templates/x/cm.yaml", "values.yaml" }, paths)
    assert.are.equal("\n", sums:sub(-1))
  end)

  it("refuses file paths that leave the bundle", function()
    for _, p in ipairs({ "../x", "/etc/x", "a/../../x", "checksums.txt" }) do
      local ok = pcall(output.finish, bundle_of({ { path = p, data = "" } }))
      assert.is_false(ok, p)
    end
  end)

  it("writes a directory through a temporary sibling, with modes", function()
    local out = tmp .. "/b"
    assert.are.equal("dir", output.write(output.finish(bundle_of()), out))
    assert.are.equal("#!/bin/sh\necho hi\n", support.read(out .. "/deploy.sh"))
    assert.is_true(sh("test -x " .. out .. "/deploy.sh"))
    assert.is_false(sh("test -x " .. out .. "/values.yaml"))
    assert.are.same({ "b" }, fs.list(tmp)) -- nothing left beside it
    assert.is_true(sh("cd " .. out .. " && sha256sum -c --quiet checksums.txt"))
  end)

  it("refuses a non-empty directory without force, replaces it with force", function()
    local out = tmp .. "/b"
    fs.mkdir_p(out)
    support.write(out .. "/old.txt", "x")
    local ok, e = pcall(output.write, output.finish(bundle_of()), out)
    assert.is_false(ok)
    assert.are.equal("invalid", e.code)
    assert.matches("not empty; use --force", e.msg, 1, true)
    -- --force replaces a bundle only, never any other directory
    ok, e = pcall(output.write, output.finish(bundle_of()), out, { force = true })
    assert.is_false(ok)
    assert.matches("not a bundle", e.msg, 1, true)
    assert.are.equal("file", fs.exists(out .. "/old.txt"))
    support.write(out .. "/checksums.txt", "")
    output.write(output.finish(bundle_of()), out, { force = true })
    assert.is_nil(fs.exists(out .. "/old.txt"))
    assert.are.equal("file", fs.exists(out .. "/values.yaml"))
    -- an empty directory is fine without force
    fs.mkdir_p(tmp .. "/empty")
    output.write(output.finish(bundle_of()), tmp .. "/empty")
  end)

  it("writes identical archives with one top directory; refuses to overwrite", function()
    for _, ext in ipairs({ "tar.gz", "zip" }) do
      local a, b = tmp .. "/one/bundle." .. ext, tmp .. "/two/bundle." .. ext
      output.write(output.finish(bundle_of()), a)
      output.write(output.finish(bundle_of()), b)
      assert.are.equal(support.read(a), support.read(b))
      local ok, e = pcall(output.write, output.finish(bundle_of()), a)
      assert.is_false(ok)
      assert.matches("already exists", e.msg, 1, true)
      output.write(output.finish(bundle_of()), a, { force = true })
    end
    assert.is_true(sh("cd " .. tmp .. "/one && tar -xzf bundle.tar.gz && cd bundle && sha256sum -c --quiet checksums.txt" ..
      " && test -x deploy.sh"))
  end)

  describe("signing and verification", function()
    if not have_openssl then
      pending("openssl CLI not found")
      return
    end

    for _, kind in ipairs({ "ed25519", "ecdsa" }) do
      it("signs checksums.txt and attests the files (" .. kind .. ")", function()
        local priv, pub = keypair(tmp, kind)
        local out = tmp .. "/b"
        output.write(output.finish(bundle_of(), { sign_key = priv }), out)
        local r = verify.verify(out, { key = pub })
        assert.are.same({}, problems(r))
        assert.are.equal("verified", r.signature)
        assert.are.equal("consistent", r.attestation)
        local env = require("eidos.doc").decode(support.read(out .. "/attestation.dsse.json"), "att")
        assert.are.equal("application/vnd.in-toto+json", env.payloadType)
        assert.are.equal(1, #env.signatures)
        local payload = require("eidos.core.base64").decode(env.payload)
        local st = require("eidos.doc").decode(payload, "statement")
        assert.are.equal("https://in-toto.io/Statement/v1", st._type)
        assert.are.equal(output.PREDICATE_TYPE, st.predicateType)
        assert.are.equal(5, #st.subject)
        assert.are.equal(sha256.hex("kind: RecipeResult\n"), st.predicate.recipe.digest.sha256)
        assert.are.equal("0.5.0", st.predicate.tool.version)
        assert.are.equal("eks", st.predicate.recipe.criteria.service)
        -- the signature is base64 of the raw signature, checkable by openssl
        if kind == "ed25519" then
          assert.is_true(sh(string.format("cd %s && base64 -d checksums.txt.sig > sig.bin && openssl pkeyutl -verify " ..
            "-pubin -inkey ../%s.pub -rawin -in checksums.txt -sigfile sig.bin >/dev/null 2>&1", out, kind)))
          os.remove(out .. "/sig.bin")
        end
        -- the DSSE signature, checked by openssl alone over the PAE bytes
        -- built here from the DSSE v1 spec: "DSSEv1" SP LEN(type) SP type
        -- SP LEN(body) SP body
        local pae = string.format("DSSEv1 %d %s %d %s", #env.payloadType, env.payloadType, #payload, payload)
        support.write(tmp .. "/pae.bin", pae)
        support.write(tmp .. "/dsse.b64", env.signatures[1].sig)
        local check = kind == "ed25519"
          and "openssl pkeyutl -verify -pubin -inkey %s.pub -rawin -in pae.bin -sigfile dsse.sig"
          or "openssl dgst -sha256 -verify %s.pub -signature dsse.sig pae.bin"
        local cmd = "cd " .. tmp .. " && base64 -d dsse.b64 > dsse.sig && " .. string.format(check, kind) ..
          " >/dev/null 2>&1"
        assert.is_true(sh(cmd), "openssl rejects the DSSE signature")
        -- and rejects it over other bytes
        support.write(tmp .. "/pae.bin", pae .. " ")
        assert.is_false(sh(cmd))
      end)
    end

    it("still verifies a bundle signed with a bare in-toto statement (attestation.intoto.json)", function()
      local priv, pub = keypair(tmp, "ed25519")
      local attest = require("eidos.bundle.attest")
      local list = files()
      table.sort(list, function(a, b) return a.path < b.path end)
      list[#list + 1] = { path = "attestation.intoto.json", data = attest.statement(list, {
        version = "0.4.0", deployer = "helm", recipe_sha256 = sha256.hex("kind: RecipeResult\n"), criteria = {},
        components = {} }) }
      table.sort(list, function(a, b) return a.path < b.path end)
      local sums = output.checksums_text(list)
      list[#list + 1] = { path = "checksums.txt", data = sums }
      list[#list + 1] = { path = "checksums.txt.sig", data = (attest.sign(priv, sums)) }
      output.write(list, tmp .. "/old")
      local r = verify.verify(tmp .. "/old", { key = pub })
      assert.are.same({}, problems(r))
      assert.are.equal("verified", r.signature)
      assert.are.equal("consistent", r.attestation)
      support.write(tmp .. "/old/values.yaml", "a: 9\n")
      assert.are.same({ "changed:values.yaml" }, problems(verify.verify(tmp .. "/old", { key = pub })))
    end)

    it("catches a changed byte, an added file, a removed file, a wrong key", function()
      local priv, pub = keypair(tmp, "ed25519")
      fs.mkdir_p(tmp .. "/other")
      local _, other = keypair(tmp .. "/other", "ed25519") -- a second, unrelated pair
      local out = tmp .. "/b"
      output.write(output.finish(bundle_of(), { sign_key = priv }), out)
      assert.are.same({}, problems(verify.verify(out)))
      assert.are.equal("unchecked", verify.verify(out).signature)
      local r = verify.verify(out, { key = other })
      assert.are.same({ "attestation:attestation.dsse.json", "signature:checksums.txt.sig" }, problems(r))
      support.write(out .. "/values.yaml", "a: 2\n")
      support.write(out .. "/extra.txt", "x")
      os.remove(out .. "/README.md")
      r = verify.verify(out, { key = pub })
      assert.are.same({ "changed:values.yaml", "extra:extra.txt", "missing:README.md" }, problems(r))
      assert.is_false(r.ok)
      -- a signature over altered checksums fails too
      support.write(out .. "/checksums.txt", support.read(out .. "/checksums.txt") .. "\n")
      assert.are.equal("failed", verify.verify(out, { key = pub }).signature)
    end)

    it("reports a missing signature when a key is given", function()
      local _, pub = keypair(tmp, "ed25519")
      output.write(output.finish(bundle_of()), tmp .. "/b")
      local r = verify.verify(tmp .. "/b", { key = pub })
      assert.are.equal("absent", r.signature)
      assert.is_false(r.ok)
    end)
  end)

  it("verify: malformed and unsafe checksum lines, missing checksums.txt", function()
    local out = tmp .. "/b"
    output.write(output.finish(bundle_of()), out)
    support.write(out .. "/checksums.txt", "nothex  values.yaml\n" .. string.rep("0", 64) .. "  ../escape\n")
    local r = verify.verify(out)
    local kinds = {}
    for _, p in ipairs(r.problems) do kinds[p.kind] = true end
    assert.is_true(kinds.malformed and kinds.unsafe and kinds.extra)
    os.remove(out .. "/checksums.txt")
    assert.are.same("missing", verify.verify(out).problems[1].kind)
    local ok, e = pcall(verify.verify, tmp .. "/nope")
    assert.is_false(ok)
    assert.are.equal("invalid", e.code)
  end)
end)
