-- eidos.core.base64: the Lua face of the one base64 (src/core/base64.c,
-- whose RFC 4648 vectors are in spec/core/c/test_base64.c): binary strings
-- round-trip, decode failures are nil, message, "invalid", misuse raises.
local base64 = require("eidos.core.base64")

describe("eidos.core.base64", function()
  it("encodes and decodes RFC 4648 vectors, standard and URL-safe", function()
    assert.are.equal("Zm9vYg==", base64.encode("foob"))
    assert.are.equal("foob", base64.decode("Zm9vYg=="))
    assert.are.equal("Zm9vYg", base64.encode_url("foob"))
    assert.are.equal("foob", base64.decode_url("Zm9vYg"))
    assert.are.equal("foob", base64.decode_url("Zm9vYg=="))
    assert.are.equal("-_-_", base64.encode_url("\xfb\xff\xbf"))
    assert.are.equal("+/+/", base64.encode("\xfb\xff\xbf"))
    assert.are.equal("", base64.encode(""))
    assert.are.equal("", base64.decode(""))
  end)

  it("round-trips every byte value and large inputs", function()
    local t = {}
    for i = 0, 255 do t[#t + 1] = string.char(i) end
    local all = table.concat(t)
    assert.are.equal(all, base64.decode(base64.encode(all)))
    assert.are.equal(all, base64.decode_url(base64.encode_url(all)))
    local big = string.rep(all, 4096) -- 1 MiB, beyond any fixed buffer
    assert.are.equal(big, base64.decode(base64.encode(big)))
  end)

  it("skips whitespace of line-wrapped data", function()
    assert.are.equal("hello", base64.decode("aGVs bG8="))
    assert.are.equal("foobar", base64.decode("Zm9v\r\nYmFy\n"))
  end)

  it("refuses what is not base64 with nil, a message naming the byte, invalid", function()
    local v, msg, code = base64.decode("a*b=")
    assert.is_nil(v)
    assert.are.equal("invalid", code)
    assert.truthy(msg:find("'*' at byte 1", 1, true), msg)
    v, msg = base64.decode("Zg")
    assert.is_nil(v)
    assert.truthy(msg:find("padding", 1, true), msg)
    v, msg = base64.decode("Zm-_")
    assert.is_nil(v)
    assert.truthy(msg:find("URL-safe", 1, true), msg)
    assert.is_nil((base64.decode_url("Zm+/")))
  end)

  it("raises on misuse", function()
    assert.has_error(function() base64.encode({}) end)
    assert.has_error(function() base64.decode() end)
  end)
end)
