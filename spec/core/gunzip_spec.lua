-- eidos.core.archive.gunzip: inflating gzip held in memory (zlib), as Helm
-- release records are read: round trips, concatenated members, and hostile
-- input refused without costing more than the cap (a gzip bomb, truncated
-- or corrupt streams, trailing garbage, data that is not gzip).
local archive = require("eidos.core.archive")
local support = require("support")

local function gzip_cli(data, args)
  local tmp = os.tmpname()
  support.write(tmp, data)
  local p = io.popen("gzip -c " .. (args or "") .. " " .. support.q(tmp))
  local out = p:read("a")
  p:close()
  os.remove(tmp)
  return out
end

describe("eidos.core.archive.gunzip", function()
  it("inflates what gzip wrote, at any level, and what archive.gzip wrote", function()
    local data = {}
    for i = 1, 20000 do data[#data + 1] = string.format("{\"key%d\": %d},", i, i * 7919 % 1000) end
    data = table.concat(data)
    for _, lvl in ipairs({ "-1", "-6", "-9" }) do
      assert.are.equal(data, assert(archive.gunzip(gzip_cli(data, lvl))))
    end
    assert.are.equal(data, assert(archive.gunzip(assert(archive.gzip(data)))))
    assert.are.equal("", assert(archive.gunzip(gzip_cli(""))))
  end)

  it("reads concatenated members as gzip -d does", function()
    local a, b = gzip_cli("first\n"), gzip_cli("second\n")
    assert.are.equal("first\nsecond\n", assert(archive.gunzip(a .. b)))
  end)

  local function refused(data, pat, opts)
    local v, msg, code = archive.gunzip(data, opts)
    assert.is_nil(v)
    assert.are.equal("invalid", code)
    assert.matches(pat, msg, 1, true)
  end

  it("refuses data that is not gzip, truncated, corrupt, or followed by garbage", function()
    refused("", "not gzip data")
    refused("{\"name\": \"x\"}", "not gzip data")
    local z = gzip_cli(string.rep("helm release ", 5000))
    refused(z:sub(1, #z // 2), "truncated gzip data")
    refused(z:sub(1, #z - 4), "truncated gzip data")
    -- a flipped byte in the CRC trailer
    local bad = z:sub(1, #z - 8) .. string.char((z:byte(#z - 7) + 1) % 256) .. z:sub(#z - 6)
    refused(bad, "corrupt gzip data")
    refused(z .. "garbage", "7 bytes of trailing data")
  end)

  it("stops a gzip bomb at the cap, in time bounded by the cap", function()
    -- 64 MiB of zeros compress to ~64 KiB
    local p = io.popen("head -c 67108864 /dev/zero | gzip -c -9")
    local bomb = p:read("a")
    p:close()
    assert.is_true(#bomb < 200 * 1024)
    local t0 = os.clock()
    refused(bomb, "expands to more than 1048576 bytes", { max_size = 1048576 })
    assert.is_true(os.clock() - t0 < 2, "took " .. (os.clock() - t0) .. " s")
    -- exactly at the cap is accepted
    local exact = gzip_cli(string.rep("a", 4096))
    assert.are.equal(4096, #assert(archive.gunzip(exact, { max_size = 4096 })))
    refused(exact, "more than 4095 bytes", { max_size = 4095 })
    assert.has_error(function() archive.gunzip(exact, { max_size = "big" }) end)
  end)
end)
