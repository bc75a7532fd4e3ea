-- The executable's exit path (src/host/main.c): the Lua state is closed
-- without freeing each object (outside sanitizer builds), but everything
-- closing means is still done -- every finalizer runs, files a script left
-- open are flushed and closed -- and the exit code is the command's.
-- The state's heap (src/host/heap.c): small blocks come from a pool and are
-- reused by size once freed; the collector starts only once the heap has
-- grown past a few MiB, and then collects as usual.
local support = require("support")

describe("eidos at exit", function()
  it("runs every finalizer and flushes files a script left open", function()
    local d = support.tmpdir()
    support.write(d .. "/t.lua", [[
      local out = assert(io.open(arg[1], "w"))
      out:write(string.rep("y", 100000))
      for i = 1, 3 do
        setmetatable({}, { __gc = function() io.stderr:write("finalized ", i, "\n") end })
      end
      _G.keep = setmetatable({}, { __gc = function() io.stderr:write("finalized kept\n") end })
    ]])
    local r = support.run({ "lua", d .. "/t.lua", d .. "/out2.txt" })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal(string.rep("y", 100000), support.read(d .. "/out2.txt"))
    for _, w in ipairs({ "finalized 1", "finalized 2", "finalized 3", "finalized kept" }) do
      assert.is_truthy(r.err:find(w, 1, true), r.err)
    end
    os.execute("rm -rf " .. support.q(d))
  end)

  it("keeps the command's exit code when finalizers run at exit", function()
    local d = support.tmpdir()
    support.write(d .. "/t.lua", [[
      _G.keep = setmetatable({}, { __gc = function() io.stderr:write("finalized kept\n") end })
      io.write("partial")
      error("boom")
    ]])
    local r = support.run({ "lua", d .. "/t.lua" })
    assert.are.equal(8, r.code, r.err)
    assert.are.equal("partial", r.out)
    assert.is_truthy(r.err:find("finalized kept", 1, true), r.err)
    assert.is_truthy(r.err:find("boom", 1, true), r.err)
    os.execute("rm -rf " .. support.q(d))
  end)

  it("starts the garbage collector once the heap is large, and then collects", function()
    local d = support.tmpdir()
    support.write(d .. "/t.lua", [[
      local at_start = collectgarbage("isrunning")
      local finalized = 0
      -- 200 MiB of garbage, in blocks small and large
      for i = 1, 20000 do
        local t = { string.rep("x", 10000 + i % 7), i }
        for j = 1, 20 do t[#t + 1] = { j, tostring(i * j) } end
        setmetatable(t, { __gc = function() finalized = finalized + 1 end })
      end
      io.write(tostring(at_start), " ", tostring(collectgarbage("isrunning")), " ",
        collectgarbage("count") < 64 * 1024 and "bounded" or ("grew to " .. collectgarbage("count") .. " KiB"), " ",
        finalized > 0 and "finalized" or "none finalized", "\n")
    ]])
    local r = support.run({ "lua", d .. "/t.lua" })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("false true bounded finalized\n", r.out)
    os.execute("rm -rf " .. support.q(d))
  end)

  it("keeps every value intact while blocks of every size are made, grown, shrunk, freed and reused", function()
    local d = support.tmpdir()
    support.write(d .. "/t.lua", [[
      local keep, tables = {}, {}
      for round = 1, 3 do
        for n = 0, 600 do keep[#keep + 1] = string.rep(string.char(65 + (n + round) % 26), n) end
        local t = {}
        for i = 1, 300 do t[i] = { i, tostring(i), string.rep("z", i), x = i } end -- arrays grow past the pool's sizes
        for i = 300, 1, -1 do t[i] = nil end
        local m = {}
        for i = 1, 200 do m["k" .. i] = i end                                      -- a hash part grows
        for i = 1, 190 do m["k" .. i] = nil end
        for i = 1, 5 do m["n" .. i] = i end                                        -- and is rebuilt smaller
        tables[round] = m
        collectgarbage()                                                           -- blocks back to the pool
      end
      for round = 1, 3 do
        for n = 0, 600 do
          local s = keep[(round - 1) * 601 + n + 1]
          assert(s == string.rep(string.char(65 + (n + round) % 26), n), "string " .. n)
        end
        local m = tables[round]
        for i = 191, 200 do assert(m["k" .. i] == i) end
        for i = 1, 5 do assert(m["n" .. i] == i) end
      end
      io.write("intact\n")
    ]])
    local r = support.run({ "lua", d .. "/t.lua" })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("intact\n", r.out)
    os.execute("rm -rf " .. support.q(d))
  end)
end)
