-- eidos.core.sandbox (src/host/sandbox.c, sandbox_lib.c): hostile hooks are
-- contained with a clear error, never a crash or a hang; a limit that fired
-- stays fired; well-behaved hooks see Lua 5.4 as documented (the bounded
-- replacements give the stock library's answers), on copies of plain data.
local sandbox = require("eidos.core.sandbox")

local LIMITS = { time_ms = 100, memory = 8 * 1024 * 1024 }
local MEMCASE = { time_ms = 20000, memory = 8 * 1024 * 1024 }

local function box(src, opts)
  return sandbox.new(src, "/hooks/test.lua", opts or LIMITS)
end

-- call a hook function `f` whose body is src; returns ok, result-or-message, code, reason
local function call(src, opts, ...)
  local b = assert(box("return { f = function(...) " .. src .. " end }", opts))
  local t0 = os.clock()
  local r = table.pack(b:call("f", ...))
  assert.is_true(os.clock() - t0 < 20, "hook call was not cut short")
  b:close()
  return r[1], r[2], r[3], r[4]
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

  it("requires its limits", function()
    assert.has_error(function() sandbox.new("return {}", "x.lua", { time_ms = 100 }) end,
      "sandbox.new: limits.memory must be a positive integer")
    assert.has_error(function() sandbox.new("return {}", "x.lua", { memory = 1e6, time_ms = 0 }) end,
      "sandbox.new: limits.time_ms must be a positive integer")
  end)

  describe("contains", function()
    local cases = {
      { "a plain infinite loop", "while true do end", "time" },
      { "a loop inside pcall", "while true do pcall(function() while true do end end) end", "time" },
      { "pcall around the loop", "local ok, e = pcall(function() while true do end end); while true do end", "time" },
      { "xpcall with a looping handler", "xpcall(function() while true do end end, function() while true do end end); return 1", "time" },
      { "a loop inside a coroutine", "local co = coroutine.wrap(function() while true do end end); co()", "time" },
      { "coroutines that catch", "while true do local co = coroutine.create(function() while true do end end); coroutine.resume(co) end", "time" },
      -- memory bombs get a long time limit, so the memory limit is what stops them
      { "string.rep bombs", "local s = string.rep('x', 1 << 30); return #s", "memory", MEMCASE },
      { "string.rep in pcall, retried: the memory limit stays fired", "while true do pcall(string.rep, 'x', 1 << 30) end", "memory" },
      { "table growth", "local t = {}; for i = 1, 1e9 do t[i] = i end", "memory", MEMCASE },
      { "deep recursion", "local function f(n) return 1 + f(n + 1) end; return f(1)", nil, MEMCASE },
      { "reaching io", "return io.open('/etc/passwd')", "error" },
      { "os.execute", "return os.execute('true')", "error" },
      { "require", "return require('os')", "error" },
      { "dofile", "return dofile('/etc/passwd')", "error" },
      { "loadfile", "return loadfile('/etc/passwd')", "error" },
      { "debug", "return debug.getinfo(1)", "error" },
      { "string.dump", "return string.dump(function() end)", "error" },
      { "string.dump through a string", "return ('').dump(function() end)", "error" },
      { "load with bytecode", "local f, e = load('\\27Lua'); if not f then error(e) end", "error" },
      { "tampering with the string metatable", "local mt = getmetatable(''); mt.__index = nil", "error" },
      { "an error object whose __tostring loops", "error(setmetatable({}, { __tostring = function() while true do end end }))", "error" },
      { "collectgarbage", "collectgarbage('stop')", "error" },
      { "a looping finalizer", "setmetatable({}, { __gc = function() while true do end end })", "error" },
      { "xpcall whose handler loops after a normal error", "xpcall(error, function() while true do end end); return 1", "time" },
      { "returning a function", "return print", "value" },
      { "returning a cycle", "local t = {}; t.t = t; return t", "value" },
      -- C loops of the library (issue 13, class 2): each must look at the clock
      { "backtracking in find", "return (string.rep('a', 40000)):find('.-.-.-b')", "time" },
      { "backtracking in match", "return (string.rep('a', 40000)):match('(.-)(.-)(.-)b')", "time" },
      { "backtracking in gmatch", "for x in (string.rep('a', 40000)):gmatch('.-.-.-b') do end", "time" },
      { "backtracking in gsub", "return (string.rep('a', 40000)):gsub('.-.-.-b', 'x')", "time" },
      { "a long back reference at every split", "return (string.rep('a', 1e6)):match('^(.*)%1x')", "time" },
      { "an unclosed %b at every position", "return (string.rep('(', 1e6)):find('%b()')", "time" },
      { "string.rep of empty strings, in a loop", "while true do string.rep('', 1e18) end", "time" },
      { "table.move over a huge range of nils", "return table.move({}, 1, 1e15, 2)", "time" },
      { "table.insert with a huge __len", "table.insert(setmetatable({}, { __len = function() return 1e15 end }), 1, 'x')", "time" },
      { "table.remove with a huge __len", "table.remove(setmetatable({}, { __len = function() return 1e15 end }), 1)", "time" },
      { "table.concat over a C __index", "return table.concat(setmetatable({}, { __index = rawlen }), '', 1, 1e15)", "time" },
      { "table.sort of a billion C-served elements", "table.sort(setmetatable({}, { __len = function() return 1 << 30 end, __index = rawlen }))", "time" },
      { "table.unpack of a million C-served elements, in a loop", "local t = setmetatable({}, { __index = rawlen }); while true do table.unpack(t, 1, 900000) end", "time", { time_ms = 100, memory = 1 << 26 } },
      { "plain find over a long subject, in a loop", "local s = string.rep('a', 4e6); while true do s:find('ab', 1, true) end", "time" },
      { "a <close> handler of a coroutine killed by the limit (wrap)", "local co = coroutine.wrap(function() local g <close> = setmetatable({}, { __close = function() while true do end end }); while true do end end); pcall(co)", "time" },
      { "a <close> handler of a coroutine killed by the limit (close)", "local co = coroutine.create(function() local g <close> = setmetatable({}, { __close = function() while true do end end }); while true do end end); coroutine.resume(co); coroutine.close(co)", "time" },
      { "a looping <close> handler of the hook's own function", "local g <close> = setmetatable({}, { __close = function() while true do end end }); while true do end", "time" },
      { "parsing huge chunks", "local t = string.rep('a = 1 ', 200000); while true do load(t) end", "time" },
      { "os.date with a huge format", "return os.date(string.rep('%c', 10000))", "error" },
      { "string.pack with a huge format", "return string.packsize(string.rep('b', 1e6))", "error" },
      -- a limit that fired stays fired (issue 13)
      { "pcall of a tripped coroutine, then a result", "local co = coroutine.create(function() while true do end end); pcall(coroutine.resume, co); return 'changed'", "time" },
      { "a tripped loop in pcall, then a result", "pcall(function() while true do end end); return 'changed'", "time" },
      { "a caught memory error, then a result", "pcall(string.rep, 'x', 1 << 30); return 'changed'", "memory" },
      -- what a hook hands the host counts (issue 13, class 3)
      { "one string returned a thousand times", "local s = string.rep('x', 1 << 20); local t = {}; for i = 1, 1000 do t[i] = s end; return t", "memory", MEMCASE },
      { "one table returned a thousand times", "local r = {}; for i = 1, 1000 do r[i] = i end; local t = {}; for i = 1, 1000 do t[i] = r end; return t", "memory", MEMCASE },
      { "printing a flood", "local s = string.rep('x', 1 << 20); for i = 1, 100 do print(s) end", "memory", MEMCASE },
    }
    local CODE = { time = "timeout", memory = "internal", error = "internal", value = "invalid" }
    for _, c in ipairs(cases) do
      it(c[1], function()
        local ok, msg, code, reason = call(c[2], c[4])
        assert.is_false(ok, c[1] .. " was not refused")
        assert.is_string(msg)
        assert.truthy(msg:find("/hooks/test.lua", 1, true), msg)
        if c[3] then
          assert.are.equal(c[3], reason, msg)
          assert.are.equal(CODE[c[3]], code, msg)
        end
        if c[3] == "time" then assert.truthy(msg:find("time limit of 100 ms", 1, true), msg) end
        if c[3] == "memory" then assert.truthy(msg:find("memory limit", 1, true), msg) end
      end)
    end

    it("names the line where the time limit fired", function()
      local b = assert(box("return {\n f = function()\n  local x = 0\n  while true do x = x + 1 end\n end }"))
      local ok, msg = b:call("f")
      assert.is_false(ok)
      assert.are.equal("/hooks/test.lua:4: hook exceeded its time limit of 100 ms", msg)
    end)

    it("a hook file whose top level loops or bombs", function()
      local b, msg, code, reason = box("while true do end")
      assert.is_nil(b)
      assert.are.same({ "timeout", "time" }, { code, reason })
      assert.truthy(msg:find("time limit", 1, true), msg)
      b, msg, code = box("local t = {} for i = 1, 1e9 do t[i] = tostring(i) end", MEMCASE)
      assert.is_nil(b)
      assert.are.equal("internal", code)
      assert.truthy(msg:find("memory limit", 1, true), msg)
      b, msg, code, reason = box("return 42")
      assert.is_nil(b)
      assert.are.same({ "invalid", "result" }, { code, reason })
      assert.truthy(msg:find("must return a table", 1, true), msg)
    end)

    it("names the file and line of an error", function()
      local b = assert(box("return {\n f = function()\n  error('boom')\n end }"))
      local ok, msg, code, reason = b:call("f")
      assert.is_false(ok)
      assert.are.equal("/hooks/test.lua:3: boom", msg)
      assert.are.same({ "internal", "error" }, { code, reason })
    end)

    it("starts over from the file after a limit fired, keeps its state after an error", function()
      local b = assert(box([[
        local n = 0
        return {
          count = function() n = n + 1; return n end,
          spin = function() while true do end end,
          boom = function() error("x") end,
        }]]))
      assert.are.same({ true, 1 }, { b:call("count") })
      assert.are.same({ true, 2 }, { b:call("count") })
      assert.is_false((b:call("boom")))
      assert.are.same({ true, 3 }, { b:call("count") }) -- an error keeps the state
      assert.is_false((b:call("spin")))
      assert.are.same({ true, 1 }, { b:call("count") }) -- a fired limit does not
    end)

    it("gives what the hook prints to the print handler, one line a call", function()
      local lines = {}
      local b = assert(sandbox.new("return { f = function() print('a', 1, true, nil, {}) print('b') end }", "p.lua",
        { time_ms = 100, memory = 1 << 22, print = function(l) lines[#lines + 1] = l end }))
      assert.is_true((b:call("f")))
      assert.are.same({ "a\t1\ttrue\tnil\ttable", "b" }, lines)
    end)
  end)

  describe("environment", function()
    it("holds exactly the allowlisted names", function()
      local ok, names = call([[
        local out = {}
        for k, v in pairs(_G) do
          if type(v) == "table" and k ~= "_G" then
            for k2 in pairs(v) do out[#out + 1] = k .. "." .. k2 end
          else
            out[#out + 1] = k
          end
        end
        table.sort(out)
        return table.concat(out, " ")
      ]])
      assert.is_true(ok, names)
      assert.are.equal(table.concat({
        "_G", "_VERSION", "assert",
        "coroutine.close", "coroutine.create", "coroutine.isyieldable", "coroutine.resume", "coroutine.running",
        "coroutine.status", "coroutine.wrap", "coroutine.yield",
        "error", "getmetatable", "ipairs", "load",
        "math.abs", "math.ceil", "math.cos", "math.deg", "math.exp", "math.floor", "math.fmod", "math.huge",
        "math.log", "math.max", "math.maxinteger", "math.min", "math.mininteger", "math.modf", "math.pi",
        "math.rad", "math.random", "math.randomseed", "math.sin", "math.sqrt", "math.tan", "math.tointeger",
        "math.type", "math.ult",
        "next", "os.clock", "os.date", "os.difftime", "os.time", "pairs", "pcall", "print",
        "rawequal", "rawget", "rawlen", "rawset", "select", "setmetatable",
        "string.byte", "string.char", "string.find", "string.format", "string.gmatch", "string.gsub",
        "string.len", "string.lower", "string.match", "string.pack", "string.packsize", "string.rep",
        "string.reverse", "string.sub", "string.unpack", "string.upper",
        "table.concat", "table.insert", "table.move", "table.pack", "table.remove", "table.sort", "table.unpack",
        "tonumber", "tostring", "type",
        "utf8.char", "utf8.charpattern", "utf8.codepoint", "utf8.codes", "utf8.len", "utf8.offset",
        "xpcall" }, " "), names)
    end)

    it("gives strings the sandbox's own methods", function()
      local ok, same = call("return ('x').find == string.find and getmetatable('') == 'locked'")
      assert.is_true(ok)
      assert.is_true(same)
    end)

    it("makes math.random deterministic", function()
      local _, a = call("return math.random(1, 1e9)")
      local _, b = call("return math.random(1, 1e9)")
      assert.are.equal(a, b)
    end)

    it("loads text with the hook's globals or a given environment", function()
      assert.are.same({ true, 3 }, { call("return load('return 1 + 2')()") })
      assert.are.same({ true, 7 }, { call("return load('return x', 'chunk', 't', { x = 7 })()") })
      local ok, msg = call("return load('return (', '=mine')")
      assert.is_true(ok)
      assert.is_nil(msg) -- load returns fail, message
    end)
  end)

  -- the bounded replacements answer as Lua's own library does
  describe("replacements agree with Lua's library", function()
    local b
    setup(function()
      b = assert(sandbox.new([[
        return {
          run = function(lib, name, args)
            local f = _G[lib][name]
            return table.pack(pcall(f, table.unpack(args, 1, args.n)))
          end,
          gmatch = function(s, p, init)
            local out = {}
            local ok, e = pcall(function()
              for a, b2, c in s:gmatch(p, init) do out[#out + 1] = { a, b2, c } end
            end)
            return ok, ok and out or e
          end,
          gsub_fn = function(s, p)
            return table.pack(pcall(string.gsub, s, p, function(x, y) if x == "b" then return nil end return "<" .. tostring(x) .. tostring(y) .. ">" end))
          end,
          tables = function(script) return load(script)() end,
        }]], "agree.lua", { time_ms = 5000, memory = 1 << 26 }))
    end)
    teardown(function() b:close() end)

    local function stock(lib, name, args)
      return table.pack(pcall(_G[lib][name], table.unpack(args, 1, args.n)))
    end

    local function show(args)
      local out = {}
      for i = 1, args.n do
        local v = args[i]
        out[i] = type(v) == "string" and string.format("%q", v) or tostring(v)
      end
      return table.concat(out, ", ")
    end

    local function agree(lib, name, ...)
      local args = table.pack(...)
      local ok, got = b:call("run", lib, name, args)
      assert.is_true(ok, got)
      local want = stock(lib, name, args)
      got.n, want.n = nil, nil
      assert.are.same(want, got, string.format("%s.%s(%s)", lib, name, show(args)))
    end

    local SUBJECTS = { "", "a", "aaa", "hello world", "  x = 1, y = 22  ", "f(a(b)c)d", "[[x]]", "a.b.c",
                       "key=value;k2=v2", "a\0b\0c", "THE (quick) fox 123 4.5e3", "ab", "abab", "\xc3\xbc ber",
                       "a$b^c", "--x--" }
    local PATTERNS = { "", "a", "^a", "a$", "^$", ".", "%a+", "%d+", "%s*", "(%w+)=(%w+)", "%b()", "%f[%w]%w+",
                       "()a()", "(a)(b)?", "[%a_][%w_]*", "[^%s]+", "%.", "[a-c]+", "[]]", "[^]]", "(.-)%s",
                       "((a)(b))", "(a)%1", "x*", "x-", "x?y", "a+b", "[%]]", "$", "^", "[a-]", "[-a]", "%$",
                       "^(.-)$", "%-%-(%a)", "[%z]", "%u%l*", "%x+", "%p", "%c", "%g+", "[%d%.]+", "%w-b",
                       "a-", "%f[%z]", "%f[%a]", "(%a+)%s*(%a*)", "[^%a]", "%S+", "[A-Z]+", "b?$" }
    local BAD = { "%", "[a", "(a", "a)", "%b", "%ba", "%f", "%fa", "%2", "(a)%2", "[%", string.rep("(", 33) .. "a" .. string.rep(")", 33), "%0" }

    it("find, match: every subject by every pattern, at several starts", function()
      for _, s in ipairs(SUBJECTS) do
        for _, p in ipairs(PATTERNS) do
          agree("string", "match", s, p)
          agree("string", "find", s, p)
          for _, init in ipairs({ 2, -2, 0, 100, -100 }) do
            agree("string", "find", s, p, init)
            agree("string", "match", s, p, init)
          end
          agree("string", "find", s, p, 1, true)
        end
      end
    end)

    it("gsub with string and table replacements, counts and limits", function()
      for _, s in ipairs(SUBJECTS) do
        for _, p in ipairs(PATTERNS) do
          agree("string", "gsub", s, p, "<%0>")
          agree("string", "gsub", s, p, "%1-%%", 2)
          agree("string", "gsub", s, p, { a = "A", x = false })
          agree("string", "gsub", s, p, "")
        end
      end
      agree("string", "gsub", "abc", "%w", "%9")
      agree("string", "gsub", "abc", "%w", "%")
      agree("string", "gsub", "abc", "%w", "%x")
      agree("string", "gsub", "abc", "%w", { a = {} })
      agree("string", "gsub", "abc", "%w", 1)
      agree("string", "gsub", "abc", "()", "%1")
    end)

    it("gsub with a function, gmatch", function()
      for _, s in ipairs(SUBJECTS) do
        for _, p in ipairs(PATTERNS) do
          local ok, got = b:call("gsub_fn", s, p)
          assert.is_true(ok)
          local want = table.pack(pcall(string.gsub, s, p, function(x, y)
            if x == "b" then return nil end
            return "<" .. tostring(x) .. tostring(y) .. ">"
          end))
          got.n, want.n = nil, nil
          assert.are.same(want, got, s .. " / " .. p)
          for _, init in ipairs({ 1, 3, -2, 50 }) do
            local cok, gok, glist = b:call("gmatch", s, p, init)
            assert.is_true(cok)
            local list = {}
            local sok, serr = pcall(function() for a, b2, c in s:gmatch(p, init) do list[#list + 1] = { a, b2, c } end end)
            assert.are.equal(sok, gok, s .. " / " .. p)
            if sok then assert.are.same(list, glist, s .. " / " .. p .. " @" .. init)
            else assert.are.equal(serr:gsub("^.-:%d+: ", ""), glist:gsub("^.-:%d+: ", ""), s .. " / " .. p) end
          end
        end
      end
    end)

    it("malformed patterns give Lua's messages", function()
      for _, p in ipairs(BAD) do
        agree("string", "find", "abc(a)", p)
        agree("string", "gsub", "abc(a)", p, "x")
      end
      agree("string", "match", string.rep("a", 300), string.rep("a?", 300)) -- pattern too complex
    end)

    it("string.rep", function()
      for _, a in ipairs({ { "ab", 3 }, { "ab", 3, "," }, { "", 5, "-" }, { "x", 0 }, { "x", -1 }, { "", 1, "," },
                           { "x", 1, "," }, { "abc", 2, "" } }) do
        agree("string", "rep", table.unpack(a))
      end
    end)

    it("table functions", function()
      for _, script in ipairs({
        "local t = {1,2,3}; table.insert(t, 'x'); table.insert(t, 1, 'y'); table.insert(t, 3, 'z'); return t",
        "local t = {1,2,3}; return { pcall(table.insert, t, 9, 'x') }",
        "local t = {1,2,3}; return { pcall(table.insert, t, 1, 2, 3) }",
        "local t = {1,2,3,4}; local a = table.remove(t); local b = table.remove(t, 1); return { a, b, t }",
        "local t = {}; return { table.remove(t), table.remove(t, 0), #t }",
        "local t = {1,2,3}; return { pcall(table.remove, t, 7) }",
        "return table.move({1,2,3,4,5}, 2, 4, 1)",
        "return table.move({1,2,3,4,5}, 1, 3, 3)",
        "return table.move({1,2,3}, 1, 3, 2, {9,9,9,9})",
        "return { pcall(table.move, {}, -1, math.maxinteger, 1) }",
        "return { table.concat({1, 2, 'x'}, ', '), table.concat({}, 'x'), table.concat({1,2,3}, '-', 2, 3), table.concat({1,2}, '', 3) }",
        "return { pcall(table.concat, {1, {}, 3}) }",
        "return { table.unpack({1, 2, 3}) }",
        "return { table.unpack({1, 2, 3}, 2) }",
        "return { table.unpack({1, 2, 3}, -1, 1) }",
        "return { select('#', table.unpack({}, 1, 0)) }",
        "return { pcall(table.unpack, {}, 1, 1e8) }",
        "local t = {5, 2, 8, 1, 9, 3, 3, 7}; table.sort(t); return t",
        "local t = {'b', 'a', 'd', 'c'}; table.sort(t, function(x, y) return x > y end); return t",
        "local t = {}; for i = 1, 200 do t[i] = (i * 7919) % 211 end; table.sort(t); return t",
        "return { (pcall(table.sort, {1, 'a', 2})) }",
        "return { pcall(table.sort, {3, 1}, 5) }",
      }) do
        local ok, got = b:call("tables", script)
        assert.is_true(ok, got)
        assert.are.same(load(script)(), got, script)
      end
    end)

    it("coroutine.wrap", function()
      for _, script in ipairs({
        "local f = coroutine.wrap(function(a) local b = coroutine.yield(a + 1); return b * 2 end); return { f(1), f(5) }",
        "local f = coroutine.wrap(function() error('inside') end); return { pcall(f) }",
        "local f = coroutine.wrap(function() error({}) end); local ok, e = pcall(f); return { ok, type(e) }",
        "local f = coroutine.wrap(function() return 1 end); f(); return { pcall(f) }",
        "local closed = false; local f = coroutine.wrap(function() local x <close> = setmetatable({}, { __close = function() closed = true end }); error('e') end); pcall(f); return { closed }",
      }) do
        local ok, got = b:call("tables", script)
        assert.is_true(ok, got)
        local want = load(script)()
        for i, v in ipairs(want) do -- error messages name the chunk: compare without it
          if type(v) == "string" then want[i] = v:gsub("^%[string.-%]:%d+: ", "") end
          if type(got[i]) == "string" then got[i] = got[i]:gsub("^%[string.-%]:%d+: ", "") end
        end
        assert.are.same(want, got, script)
      end
    end)
  end)
end)
