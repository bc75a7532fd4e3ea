-- eidos.core.sha256: known digests, streaming equals one-shot, files.
local sha256 = require("eidos.core.sha256")
local fs = require("eidos.core.fs")

local EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
local ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
local LONG = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
local MILLION_A = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

describe("eidos.core.sha256", function()
  it("hashes strings (FIPS 180-2 vectors)", function()
    assert.are.equal(EMPTY, sha256.hex(""))
    assert.are.equal(ABC, sha256.hex("abc"))
    assert.are.equal(LONG, sha256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
    assert.are.equal(MILLION_A, sha256.hex(string.rep("a", 1000000)))
  end)

  it("hashes binary data with NUL bytes", function()
    assert.are_not.equal(sha256.hex("a\0b"), sha256.hex("a"))
    assert.are.equal(64, #sha256.hex("\0\1\2\255"))
  end)

  it("streams: updates in pieces give the one-shot digest and hex() is repeatable", function()
    local h = sha256.new()
    assert.are.equal(EMPTY, h:hex())
    assert.are.equal(h, h:update("a"))
    h:update("b"):update("c")
    assert.are.equal(ABC, h:hex())
    assert.are.equal(ABC, h:hex())
    local m = sha256.new()
    for _ = 1, 1000 do m:update(string.rep("a", 1000)) end
    assert.are.equal(MILLION_A, m:hex())
    h:update("")
    assert.are.equal(ABC, h:hex())
    assert.are.equal("eidos.sha256.Hasher", getmetatable(h).__name)
  end)

  it("can be closed and then refuses use", function()
    do
      local h <close> = sha256.new()
      h:update("x")
    end
    local h = sha256.new()
    getmetatable(h).__close(h)
    assert.has_error(function() h:update("x") end)
    assert.has_error(function() h:hex() end)
  end)

  it("hashes files, large and empty", function()
    local tmp = assert(fs.mkdtemp("/tmp/eidos-sha-spec."))
    local big = string.rep("0123456789abcdef", 70000) -- > one 64 KiB read
    assert(fs.write_atomic(tmp .. "/big", big))
    assert(fs.write_atomic(tmp .. "/empty", ""))
    assert.are.equal(sha256.hex(big), sha256.file(tmp .. "/big"))
    assert.are.equal(EMPTY, sha256.file(tmp .. "/empty"))
    local p = io.popen("sha256sum " .. tmp .. "/big")
    assert.are.equal(sha256.hex(big), p:read("a"):match("^(%x+)"))
    p:close()
    local r, msg, code = sha256.file(tmp .. "/missing")
    assert.is_nil(r)
    assert.are.equal("notfound", code)
    assert.is_truthy(msg:find(tmp .. "/missing", 1, true))
    r, msg = sha256.file(tmp)
    assert.is_nil(r)
    assert.is_truthy(msg:find(tmp, 1, true))
    assert(fs.remove_tree(tmp))
  end)

  it("raises on misuse", function()
    assert.has_error(function() sha256.hex() end)
    assert.has_error(function() sha256.hex({}) end)
    assert.has_error(function() sha256.new():update() end)
    assert.has_error(function() sha256.new().update({}, "x") end)
  end)
end)
