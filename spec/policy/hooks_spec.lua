-- The hook sandbox: hostile hooks are contained with a clear error, never a
-- crash or a hang; well-behaved hooks transform data, crossing as copies.
local sandbox = require("eidos.core.sandbox")
local hooks = require("eidos.hooks")
local support = require("support")

local MEMCASE = { time_ms = 20000, memory = 8 * 1024 * 1024 }

local function box(src, opts)
  return sandbox.new(src, "/hooks/test.lua", opts or { time_ms = 100, memory = 8 * 1024 * 1024 })
end

-- call a hook function `f` defined in src; returns ok, result-or-message
local function call(src, opts, ...)
  local b, msg = box("return { f = function(...) " .. src .. " end }", opts)
  assert(b, msg)
  local t0 = os.clock()
  local r = table.pack(b:call("f", ...))
  assert.is_true(os.clock() - t0 < 20, "hook call was not cut short")
  b:close()
  return r[1], r[2]
end

describe("hook sandbox", function()
  it("runs well-behaved hooks on copies of plain data", function()
    local b = assert(box([[return { recipe = function(r) r.extra = #r.list; r.list[1] = "changed"; return r end }]]))
    local input = { list = { "a", "b" } }
    local ok, out = b:call("recipe", input)
    assert.is_true(ok)
    assert.are.equal(2, out.extra)
    assert.are.equal("changed", out.list[1])
    assert.are.equal("a", input.list[1]) -- the host's table is untouched
  end)

  describe("contains", function()
    local cases = {
      { "a plain infinite loop", "while true do end", "time limit" },
      { "a loop inside pcall", "while true do pcall(function() while true do end end) end", "time limit" },
      { "pcall around the loop", "local ok, e = pcall(function() while true do end end); while true do end", "time limit" },
      { "xpcall with a looping handler", "xpcall(function() while true do end end, function() while true do end end); return 1", "time limit" },
      { "a loop inside a coroutine", "local co = coroutine.wrap(function() while true do end end); co()", "time limit" },
      { "coroutines that catch", "while true do local co = coroutine.create(function() while true do end end); coroutine.resume(co) end", "time limit" },
      -- memory bombs get a long time limit, so the memory cap is what stops them
      { "string.rep bombs", "local s = string.rep('x', 1 << 30); return #s", "memory limit", MEMCASE },
      { "string.rep in pcall, retried", "while true do pcall(string.rep, 'x', 1 << 30) end", "time limit" },
      { "table growth", "local t = {}; for i = 1, 1e9 do t[i] = i end", "memory limit", MEMCASE },
      { "deep recursion", "local function f(n) return 1 + f(n + 1) end; return f(1)", nil, MEMCASE },
      { "reaching io", "return io.open('/etc/passwd')", "io" },
      { "os.execute", "return os.execute('true')", "execute" },
      { "require", "return require('os')", "require" },
      { "dofile", "return dofile('/etc/passwd')", "dofile" },
      { "loadfile", "return loadfile('/etc/passwd')", "loadfile" },
      { "debug", "return debug.getinfo(1)", "debug" },
      { "string.dump", "return string.dump(function() end)", "dump" },
      { "string.dump through a string", "return ('').dump(function() end)", "dump" },
      { "load with bytecode", "local f, e = load('\\27Lua'); if not f then error(e) end", "binary" },
      { "tampering with the string metatable", "local mt = getmetatable(''); mt.__index = nil", "index" },
      { "an error object whose __tostring loops", "error(setmetatable({}, { __tostring = function() while true do end end }))", "table value" },
      { "collectgarbage", "collectgarbage('stop')", "collectgarbage" },
      { "a looping finalizer", "setmetatable({}, { __gc = function() while true do end end })", "__gc" },
      { "xpcall whose handler loops after a normal error", "xpcall(error, function() while true do end end); return 1", "time limit" },
      { "returning a function", "return print", "cannot pass a function" },
    }
    for _, c in ipairs(cases) do
      it(c[1], function()
        local ok, msg = call(c[2], c[4])
        assert.is_false(ok, c[1] .. " was not refused")
        assert.is_string(msg)
        if c[3] then assert.truthy(msg:find(c[3], 1, true), msg) end
      end)
    end

    it("a hook file whose top level loops or bombs", function()
      local b, msg = box("while true do end")
      assert.is_nil(b)
      assert.truthy(msg:find("time limit", 1, true), msg)
      b, msg = box("local t = {} for i = 1, 1e9 do t[i] = tostring(i) end", MEMCASE)
      assert.is_nil(b)
      assert.truthy(msg:find("memory limit", 1, true), msg)
      b, msg = box("return 42")
      assert.is_nil(b)
      assert.truthy(msg:find("must return a table", 1, true), msg)
    end)

    it("names the file and line of an error", function()
      local b = assert(box("return {\n f = function()\n  error('boom')\n end }"))
      local ok, msg = b:call("f")
      assert.is_false(ok)
      assert.are.equal("/hooks/test.lua:3: boom", msg)
    end)

    it("keeps the sandbox usable after a contained failure", function()
      local b = assert(box("return { spin = function() while true do end end, ok = function() return 'fine' end }"))
      assert.is_false((b:call("spin")))
      local ok, r = b:call("ok")
      assert.is_true(ok)
      assert.are.equal("fine", r)
    end)
  end)
end)

describe("eidos.hooks", function()
  local dir
  before_each(function()
    dir = support.tmpdir()
  end)
  after_each(function()
    os.execute("rm -rf " .. dir)
    hooks.configure({ dirs = {} })
  end)

  it("applies hooks in file-name order and checks results", function()
    support.write(dir .. "/20-second.lua", "return { criteria = function(c) c.trail = (c.trail or '') .. 'b'; return c end }")
    support.write(dir .. "/10-first.lua", "return { criteria = function(c) c.trail = (c.trail or '') .. 'a'; return c end }")
    hooks.configure({ dirs = { dir } })
    local c = hooks.apply("criteria", { service = "eks" })
    assert.are.equal("ab", c.trail)
    assert.are.equal("eks", c.service)
  end)

  it("stops on a bad result (exit 2) and on a crash (exit 8), or skips when lenient", function()
    support.write(dir .. "/bad.lua", "return { recipe = function(r) return { kind = 'Other' } end }")
    hooks.configure({ dirs = { dir } })
    local ok, e = pcall(hooks.apply, "recipe", { kind = "RecipeResult", componentRefs = {} })
    assert.is_false(ok)
    assert.are.equal("invalid", e.code)
    assert.truthy(e.msg:find("bad.lua", 1, true), e.msg)
    support.write(dir .. "/bad.lua", "return { recipe = function(r) error('kaput') end }")
    hooks.configure({ dirs = { dir } })
    ok, e = pcall(hooks.apply, "recipe", { kind = "RecipeResult", componentRefs = {} })
    assert.is_false(ok)
    assert.are.equal("internal", e.code)
    assert.truthy(e.msg:find("bad.lua:1: kaput", 1, true), e.msg)
    hooks.configure({ dirs = { dir }, lenient = true })
    local r = hooks.apply("recipe", { kind = "RecipeResult", componentRefs = {} })
    assert.are.equal("RecipeResult", r.kind)
  end)

  it("refuses unknown hook points and bundle paths that escape", function()
    support.write(dir .. "/x.lua", "return { recipes = function(r) return r end }")
    hooks.configure({ dirs = { dir } })
    local ok, e = pcall(hooks.with, "recipe")
    assert.is_false(ok)
    assert.truthy(e.msg:find("unknown hook point", 1, true), e.msg)
    support.write(dir .. "/x.lua", "return { bundle = function(f) f['../../etc/x'] = 'pwn'; return f end }")
    hooks.configure({ dirs = { dir } })
    ok, e = pcall(hooks.apply, "bundle", { ["README.md"] = "hi" }, {})
    assert.is_false(ok)
    assert.truthy(e.msg:find("escapes the bundle", 1, true), e.msg)
  end)

  it("exposes hook operators and template helpers as host functions", function()
    support.write(dir .. "/ops.lua", [[return {
      operators = { even = { eval = function(actual, operand) return tonumber(actual) % 2 == 0, 'odd' end } },
      template_helpers = { shout = function(s) return string.upper(s) .. '!' end },
    }]])
    hooks.configure({ dirs = { dir } })
    local ops = hooks.operators()
    assert.is_true((ops.even.eval("4")))
    local okv, reason = ops.even.eval("3")
    assert.is_false(okv)
    assert.are.equal("odd", reason)
    assert.are.equal("HI!", hooks.template_helpers().shout("hi"))
  end)
end)
