-- bench/sandbox.lua (run by bench/sandbox through `eidos lua`): the cost of
-- the hook sandbox's bounded library against Lua's own, per call, with the
-- same Lua loop on both sides: the host's loop calls Lua's string library,
-- the hook's loop (a sandbox, 10 s and 64 MiB limits) calls ours, count
-- hook and all. Prints one line a case: name, ns per call in the host, in
-- the sandbox, and their ratio.
local sandbox = require("eidos.core.sandbox")

local CASES = {
  { "empty loop (the count hook's share)", 2e7, "" },
  { "find plain, short", 2e6, [[x = ("hello world"):find("wor", 1, true)]] },
  { "find without specials, short", 2e6, [[x = ("hello world"):find("wor")]] },
  { "find with captures, short", 1e6, [[x = ("key = value"):find("(%w+)%s*=%s*(%w+)")]] },
  { "match trim", 1e6, [[x = ("  some text here  "):match("^%s*(.-)%s*$")]] },
  { "match anchored failure", 2e6, [[x = ("hello"):match("^%d+$")]] },
  { "gsub 4 replacements", 5e5, [[x = ("a,b,c,d,e"):gsub(",", ";")]] },
  { "gmatch 7 words", 3e5, [[for w in ("a bb ccc d ee fff g"):gmatch("%a+") do x = w end]] },
  { "find absent in 10 KB", 3e3, [[x = s10k:find("y%d")]] },
  { "find plain absent in 10 KB", 3e4, [[x = s10k:find("yz", 1, true)]] },
  { "rep 1 KB", 5e5, [[x = ("ab"):rep(512)]] },
  { "table.concat 10", 5e5, [[x = table.concat(t10, ",")]] },
  { "table.insert + remove", 1e6, [[table.insert(t10, 1, 0); table.remove(t10, 1)]] },
  { "table.sort 10", 2e5, [[local c = { 5, 3, 9, 1, 7, 2, 8, 4, 6, 0 }; table.sort(c)]] },
}

local function source(body, n)
  return "local s10k, t10, x = string.rep('x', 10000), { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }\n" ..
    "return function() for _ = 1, " .. string.format("%d", n) .. " do " .. body .. " end end"
end

local function host(body, n)
  local f = assert(load(source(body, n)))()
  local t0 = os.clock()
  f()
  return (os.clock() - t0) / n * 1e9
end

local function boxed(body, n)
  local b = assert(sandbox.new("local run = (function() " .. source(body, n) .. " end)()\n" ..
    "return { run = function() local t0 = os.clock(); run(); return os.clock() - t0 end }",
    "bench.lua", { time_ms = 10000, memory = 64 * 1024 * 1024 }))
  local ok, secs = b:call("run")
  assert(ok, secs)
  b:close()
  return secs / n * 1e9
end

for _, c in ipairs(CASES) do
  local h, s = host(c[3], c[2]), boxed(c[3], c[2])
  print(string.format("%s\t%.1f\t%.1f\t%.2f", c[1], h, s, s / h))
end
