-- fuzz/adapters/sandbox.lua: the hook sandbox (eidos.core.sandbox,
-- src/host/sandbox*.c, src/core/pattern.c) running generated Lua. The first
-- byte of the input picks how the rest becomes a hook:
--   'r' (or byte % 3 == 0): the rest is the body of a hook function, as text;
--   'g' (or 1): the rest drives a generator that strings together fragments
--       known to be hard on a sandbox (C loops of the library, patterns,
--       coroutines with <close> handlers, pcall around limits, big results);
--   'p' (or 2): subject NUL pattern [NUL replacement]: string.find, match,
--       gmatch and gsub in the sandbox must answer as Lua's own do.
-- Properties (a failure raises "fuzz: ..."): every call returns within its
-- time limit plus SLACK_MS of CPU time; the hook's state never holds more
-- than its memory limit; what it hands back costs the host at most that
-- limit; a failure is one of the documented reasons, with the matching
-- code; after a limit fired the box answers again, from a fresh state.
local dir = ...
local common = dofile(dir .. "/lib/common.lua")
local sandbox = require("eidos.core.sandbox")

local LIMITS = { time_ms = 20, memory = 2 * 1024 * 1024, print = function() end }
local SLACK_MS = 300 -- sanitizers and libFuzzer's instrumentation, on a shared machine
local CODE = { time = "timeout", memory = "internal", error = "internal", value = "invalid", result = "invalid" }

local function fail(fmt, ...) error("fuzz: " .. string.format(fmt, ...), 0) end

-- run f(...) timing its CPU seconds and measuring the host's heap growth (KiB)
local function measured(f, ...)
  collectgarbage("collect")
  local k0, t0 = collectgarbage("count"), os.clock()
  local r = table.pack(f(...))
  local secs = os.clock() - t0
  local grown = collectgarbage("count") - k0
  return r, secs, grown
end

local function check_call(what, box, r, secs, grown)
  if secs * 1000 > LIMITS.time_ms + SLACK_MS then
    fail("%s took %.0f ms of CPU time, its limit is %d ms", what, secs * 1000, LIMITS.time_ms)
  end
  if grown > LIMITS.memory / 1024 * 2 + 512 then
    fail("%s: the host grew by %.0f KiB for a hook limited to %d KiB", what, grown, LIMITS.memory // 1024)
  end
  if box and box:memory() > LIMITS.memory then
    fail("%s: the hook holds %d bytes, its limit is %d", what, box:memory(), LIMITS.memory)
  end
  if not r[1] then
    local reason, code = r[4], r[3]
    if CODE[reason] == nil or CODE[reason] ~= code then
      fail("%s: failure with reason %s and code %s: %s", what, tostring(reason), tostring(code), tostring(r[2]))
    end
    if type(r[2]) ~= "string" or not r[2]:find("fuzz.lua", 1, true) then
      fail("%s: failure message does not name the hook: %s", what, tostring(r[2]))
    end
  end
end

-- open a box on `file` and call f(x), then g() (which must always work)
local function run_hook(file)
  local res, secs, grown = measured(sandbox.new, file, "fuzz.lua", LIMITS)
  local box = res[1]
  if not box then
    check_call("loading", nil, { false, res[2], res[3], res[4] }, secs, grown)
    return
  end
  for round = 1, 2 do
    local r
    r, secs, grown = measured(box.call, box, "f", { 1, "two", { three = 3 } })
    check_call("call " .. round, box, r, secs, grown)
    r, secs = measured(box.call, box, "g")
    -- a wall-clock limit of 20 ms may pass while the process waits for a
    -- CPU on a loaded machine: that is no finding when it used little CPU
    local preempted = r[4] == "time" and secs * 1000 < LIMITS.time_ms
    if (r[1] ~= true or r[2] ~= "alive") and not preempted then
      fail("the box did not answer after call %d: %s", round, tostring(r[2]))
    end
  end
  box:close()
end

local function wrap(body)
  return "return { g = function() return 'alive' end, f = function(x)\n" .. body .. "\nend }"
end

-- ---- 'g': fragments, holes filled from the input ----

local PATTERNS = { ".-.-b", "(.-)%1", "%b()", "%f[%w]%w+", "(a*)*", "[%a_][%w_]*", "^(.-)$", "x?y?z?", "(()a)",
                   "%d+%.?%d*", ".-$", "[^a]-a", "(%w+)=(%w+)", "a-b-c-d" }
local NUMBERS = { 0, 1, 2, 3, 100, 1000, 40000, 1 << 20, 1 << 30, 1e15, -1, math.maxinteger, 2 ^ 53 }
local FRAGMENTS = {
  "s = string.rep(%S, %N)",
  "s = (s or 'ab'):rep(%N, %S)",
  "v = (s or ''):find(%P)",
  "v = (s or ''):find(%S, %N, true)",
  "v = (s or ''):match(%P)",
  "for a in (s or ''):gmatch(%P) do n = (n or 0) + 1 end",
  "s = (s or ''):gsub(%P, %S)",
  "s = (s or ''):gsub(%P, function(c) return c .. c end)",
  "t = table.move(t or {}, 1, %N, 2)",
  "t = setmetatable({}, { __len = function() return %N end, __index = rawlen })",
  "t = setmetatable({}, { __index = function(_, k) return k end })",
  "table.insert(t or {}, 1, 'x')",
  "v = table.remove(t or {}, 1)",
  "v = table.concat(t or {}, ',', 1, %N)",
  "table.sort(t or {})",
  "v = select('#', table.unpack(t or {}, 1, %N))",
  "co = coroutine.wrap(function() local g <close> = setmetatable({}, { __close = function() %B end }) %B end); pcall(co)",
  "co = coroutine.create(function() %B end); coroutine.resume(co); pcall(coroutine.close, co)",
  "pcall(function() %B end)",
  "xpcall(function() %B end, function() %B end)",
  "while %N > 0 do %B end",
  "for i = 1, %N do %B end",
  "v = load(%S)",
  "print(s)",
  "v = os.date(%S)",
  "v = string.format('%%s %%d', s or '', %N)",
  "r = { s, s, s, t }",
  "do local big = {} for i = 1, %N do big[i] = { i } end end",
  "v = utf8.len(s or '')",
  "s = (s or 'x') .. (s or 'x')",
  "error(%S)",
  "return s, t, v, r",
  "x = { x, x }",
}
local BODIES = { "while true do end", "", "error('in')", "s = (s or 'a') .. s", "coroutine.yield()", "return 1" }

local function generate(bytes)
  local pos, out = 1, {}
  local function byte()
    local b = bytes:byte(pos) or 0
    pos = pos + 1
    return b
  end
  while pos <= #bytes and #out < 24 do
    local frag = FRAGMENTS[byte() % #FRAGMENTS + 1]
    frag = frag:gsub("%%([SNPB])", function(k)
      local b = byte()
      if k == "N" then return string.format("%.17g", NUMBERS[b % #NUMBERS + 1]) end
      if k == "P" then return string.format("%q", PATTERNS[b % #PATTERNS + 1]) end
      if k == "B" then return BODIES[b % #BODIES + 1] end
      local len = b % 8
      local str = bytes:sub(pos, pos + len - 1)
      pos = pos + len
      return string.format("%q", str)
    end)
    out[#out + 1] = frag
  end
  out[#out + 1] = "return s, t, v, r"
  return table.concat(out, "\n")
end

-- ---- 'p': the matcher against Lua's own ----

local differ
do
  local box
  local function get()
    if not box then
      box = assert(sandbox.new([[
        return {
          run = function(name, ...) return table.pack(pcall(string[name], ...)) end,
          gmatch = function(s, p)
            local out = {}
            local ok, e = pcall(function()
              for a, b in s:gmatch(p) do out[#out + 1] = { a, b }; if #out >= 100 then break end end
            end)
            return ok, ok and out or e
          end,
        }]], "fuzz.lua", { time_ms = 50, memory = 8 * 1024 * 1024 }))
    end
    return box
  end
  differ = function(rest)
    local parts = common.split(rest, "\0", 3)
    local s, p, repl = parts[1], parts[2] or "", parts[3] or "<%0>"
    local b = get()
    for _, call in ipairs({ { "find", s, p }, { "match", s, p }, { "find", s, p, 2 }, { "gsub", s, p, repl },
                            { "gsub", s, p, { a = "A" } }, { "find", s, p, 1, true } }) do
      local ok, got = b:call("run", table.unpack(call))
      if ok then -- not cut by its limit: Lua's own takes as many steps
        local want = table.pack(pcall(string[call[1]], table.unpack(call, 2)))
        got.n, want.n = nil, nil
        local same, where = common.same(want, got)
        if not same then fail("string.%s(%q, %q): %s", call[1], s, p, where) end
      end
    end
    local ok, gok, glist = b:call("gmatch", s, p)
    if ok then
      local list = {}
      local sok = pcall(function()
        for a, c in s:gmatch(p) do list[#list + 1] = { a, c }; if #list >= 100 then break end end
      end)
      if sok ~= gok or (sok and not common.same(list, glist)) then fail("string.gmatch(%q, %q) differs", s, p) end
    end
  end
end

return function(input)
  local mode, rest = input:byte(1) or 0, input:sub(2)
  mode = mode == 114 and 0 or mode == 103 and 1 or mode == 112 and 2 or mode % 3 -- 'r', 'g', 'p'
  if mode == 0 then
    run_hook(wrap(rest))
  elseif mode == 1 then
    run_hook(wrap(generate(rest)))
  else
    differ(rest)
  end
end
