-- cmake/luacompile.lua -- run at build time by lua5.4 (the release eidos
-- links) to precompile one module of lua/ for embedding: what `luac5.4 -o
-- OUT SRC` writes, less the names of local variables and upvalues.
-- Those names are most of a chunk's debug information by load cost (each
-- is a string the loader interns: 12,988 locals and 3,832 upvalue names
-- across lua/, against 20,716 string constants) and only name variables
-- in some runtime error messages ("(local 'x')" becomes no name, "global
-- 'x'" becomes "field 'x'") and traceback lines ("in local 'f'" becomes
-- "in function <file:line>"). The source name and line information stay:
-- error positions (file:line) and --debug tracebacks keep pointing into
-- lua/. See docs/performance.md.
-- usage: lua5.4 luacompile.lua SRC OUT (SRC relative to the source tree,
-- as luac names it: the chunk is "@SRC")
local src, out = ...
local fn = assert(loadfile(src))
local dump = string.dump(fn)

-- the Lua 5.4 dump format (ldump.c): a header, then a function: source,
-- line defined, last line, 3 bytes, code, constants, upvalues, protos,
-- then the debug part: line info, absolute line info, locals, upvalue names
local pos = 1
local parts = {}
local function byte()
  local b = dump:byte(pos)
  pos = pos + 1
  return b
end
local function size() -- ldump.c's dumpSize: MSB first, 7 bits a byte, last byte has 0x80
  local x = 0
  repeat
    local b = byte()
    x = (x << 7) | (b & 0x7f)
  until b & 0x80 ~= 0
  return x
end
local function skip(n) pos = pos + n end -- (pos = pos + size() would add to the old pos)
local function skip_string()
  local n = size()
  if n > 0 then skip(n - 1) end
end
local function keep(from) parts[#parts + 1] = dump:sub(from, pos - 1) end

local function func()
  local from = pos
  skip_string()                         -- source
  size(); size(); skip(3)               -- linedefined, lastlinedefined, numparams, is_vararg, maxstacksize
  skip(4 * size())                      -- code
  for _ = 1, size() do                  -- constants
    local t = byte()
    if t == 3 or t == 19 then skip(8)               -- float, integer
    elseif t == 4 or t == 20 then skip_string() end  -- short, long string
  end
  skip(3 * size())                      -- upvalues (instack, idx, kind)
  local n = size()                      -- protos
  keep(from)
  for _ = 1, n do func() end
  from = pos
  skip(size())                          -- lineinfo
  for _ = 1, size() do size(); size() end -- abslineinfo (pc, line)
  keep(from)
  for _ = 1, size() do skip_string(); size(); size() end -- locals (name, startpc, endpc)
  for _ = 1, size() do skip_string() end                 -- upvalue names
  parts[#parts + 1] = "\x80\x80"        -- no locals, no upvalue names
end

-- header: signature, version, format, LUAC_DATA, 3 sizes, LUAC_INT, LUAC_NUM, then sizeupvalues
assert(dump:sub(1, 4) == "\27Lua" and dump:byte(5) == 0x54, "luacompile: not a Lua 5.4 dump")
pos = 4 + 2 + 6 + 3 + 8 + 8 + 1 + 1
keep(1)
func()
assert(pos == #dump + 1, "luacompile: unexpected dump layout")
local code = table.concat(parts)
assert(load(code, "=" .. src, "b"), "luacompile: the rewritten chunk does not load")

local f = assert(io.open(out, "wb"))
assert(f:write(code))
assert(f:close())
