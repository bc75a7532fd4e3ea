-- eidos.core.sign: Ed25519 and ECDSA P-256 signatures from PEM keys made
-- by the openssl CLI at test time (no key is committed).
local sign = require("eidos.core.sign")
local fs = require("eidos.core.fs")

local function sh(cmd)
  return os.execute(cmd .. " >/dev/null 2>&1") == true
end

local have_openssl = sh("openssl version")
local describe_if = have_openssl and describe or pending

describe_if("eidos.core.sign", function()
  local tmp
  local keys = {}

  setup(function()
    tmp = assert(fs.mkdtemp("/tmp/eidos-sign-spec."))
    local gen = {
      ed = "openssl genpkey -algorithm ed25519 -out %s",
      ec = "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out %s",
      ec384 = "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out %s",
      rsa = "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out %s",
      enc = "openssl genpkey -algorithm ed25519 -aes-128-cbc -pass pass:secret -out %s",
    }
    for name, cmd in pairs(gen) do
      local path = tmp .. "/" .. name .. ".pem"
      assert(sh(cmd:format(path)), "openssl could not make the " .. name .. " key")
      keys[name] = path
      if name == "ed" or name == "ec" then
        assert(sh(("openssl pkey -in %s -pubout -out %s"):format(path, tmp .. "/" .. name .. ".pub")))
      end
    end
  end)

  teardown(function()
    if tmp then fs.remove_tree(tmp) end
  end)

  for _, c in ipairs({ { "ed", "ed25519", 64 }, { "ec", "ecdsa-p256-sha256", nil } }) do
    local kind, alg, siglen = c[1], c[2], c[3]
    it("signs and verifies with " .. alg, function()
      local data = "bundle checksums\n\0binary"
      local sig, a = sign.sign(keys[kind], data)
      assert.is_string(sig)
      assert.are.equal(alg, a)
      if siglen then assert.are.equal(siglen, #sig) end
      local pub = fs.read(tmp .. "/" .. kind .. ".pub")
      assert.is_true(sign.verify(pub, data, sig))
      assert.is_true(sign.verify(tmp .. "/" .. kind .. ".pub", data, sig)) -- path form
      -- PEM text form of the private key gives a signature that verifies too
      local sig2 = sign.sign(fs.read(keys[kind]), data)
      assert.is_true(sign.verify(pub, data, sig2))
      -- tampering is detected
      local ok, msg, code = sign.verify(pub, data .. "x", sig)
      assert.is_nil(ok)
      assert.are.equal("unauthorized", code)
      assert.is_truthy(msg:find("does not match", 1, true))
      local bad = sig:sub(1, -2) .. string.char((sig:byte(-1) + 1) % 256)
      assert.is_nil((sign.verify(pub, data, bad)))
      assert.is_nil((sign.verify(pub, data, "")))
    end)

    it("derives the public key PEM for " .. alg, function()
      local pem = sign.public_pem(keys[kind])
      assert.are.equal(fs.read(tmp .. "/" .. kind .. ".pub"), pem)
      assert.is_truthy(pem:find("^%-%-%-%-%-BEGIN PUBLIC KEY%-%-%-%-%-\n"))
    end)
  end

  it("signatures verify with the openssl CLI", function()
    local data = "verify me with openssl\n"
    assert(fs.write_atomic(tmp .. "/data", data))
    assert(fs.write_atomic(tmp .. "/ec.sig", (sign.sign(keys.ec, data))))
    assert.is_true(sh(("openssl dgst -sha256 -verify %s -signature %s %s"):format(
      tmp .. "/ec.pub", tmp .. "/ec.sig", tmp .. "/data")))
    assert(fs.write_atomic(tmp .. "/ed.sig", (sign.sign(keys.ed, data))))
    assert.is_true(sh(("openssl pkeyutl -verify -pubin -inkey %s -rawin -in %s -sigfile %s"):format(
      tmp .. "/ed.pub", tmp .. "/data", tmp .. "/ed.sig")))
  end)

  it("a key of one kind does not verify another's signature", function()
    local sig = sign.sign(keys.ed, "x")
    local ok, _, code = sign.verify(tmp .. "/ec.pub", "x", sig)
    assert.is_nil(ok)
    assert.are.equal("unauthorized", code)
  end)

  it("refuses unsupported key types, naming them", function()
    local r, msg, code = sign.sign(keys.rsa, "x")
    assert.is_nil(r)
    assert.are.equal("invalid", code)
    assert.is_truthy(msg:find("RSA", 1, true), msg)
    assert.is_truthy(msg:find("Ed25519 and ECDSA P-256", 1, true), msg)
    r, msg = sign.sign(keys.ec384, "x")
    assert.is_nil(r)
    assert.is_truthy(msg:find("secp384r1", 1, true), msg)
    assert.is_nil((sign.public_pem(keys.rsa)))
  end)

  it("refuses encrypted keys without prompting", function()
    local r, msg, code = sign.sign(keys.enc, "x")
    assert.is_nil(r)
    assert.are.equal("invalid", code)
    assert.is_truthy(msg:find("encrypted", 1, true), msg)
    assert.is_truthy(msg:find(keys.enc, 1, true), msg)
  end)

  it("names missing files and garbage keys", function()
    local r, msg, code = sign.sign(tmp .. "/nope.pem", "x")
    assert.is_nil(r)
    assert.are.equal("notfound", code)
    assert.is_truthy(msg:find(tmp .. "/nope.pem", 1, true))
    r, msg, code = sign.sign("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n", "x")
    assert.is_nil(r)
    assert.are.equal("invalid", code)
    assert.is_truthy(msg:find("given PEM text", 1, true), msg)
    r, msg, code = sign.verify(keys.ed, "x", "sig") -- a private key where a public one belongs
    assert.is_string(msg)
    assert.is_nil(r)
    assert.are.equal("invalid", code)
    r, msg, code = sign.sign("", "x")
    assert.is_string(msg)
    assert.is_nil(r)
    assert.are.equal("invalid", code)
  end)

  it("raises on misuse", function()
    assert.has_error(function() sign.sign(keys.ed) end)
    assert.has_error(function() sign.verify(keys.ed, "x") end)
    assert.has_error(function() sign.public_pem() end)
  end)
end)
