-- eidos.chunk: YAML documents as precompiled Lua chunks. At build time
-- cmake/chunkgen.lua turns each YAML file of the embedded recipes/ and data/
-- into the source of a Lua chunk (source below) and dumps it; at run time a
-- document whose embedded copy wins is built by running that chunk
-- (doc.from_chunk; doc.decode does it when res.read_code hands out a chunk)
-- instead of parsing its YAML, 6-12x faster (docs/performance.md).
--
-- The chunk builds exactly what eidos.core.yaml's load builds: maps as plain
-- tables with string keys, lists with the eidos.list metatable, YAML null as
-- emit.null, integers as integers and floats as floats (bit for bit:
-- hexadecimal literals), and a table reached twice (an alias) shared.
-- Map keys are written in natural order: a Lua table keeps no key order
-- (pairs is seeded per process), so the loader's insertion order is not a
-- property either path has. A document source cannot express exactly (a
-- NaN or infinite float, a key that is not a string, another metatable)
-- gets no chunk and is parsed at run time.
local emit = require("eidos.core.emit")

local M = {}

local LIST, NULL = emit.list_mt, emit.null

local function keys(t)
  local ks = {}
  for k in pairs(t) do
    if type(k) ~= "string" then return nil, "a map key is not a string" end
    ks[#ks + 1] = k
  end
  table.sort(ks, function(a, b)
    local c = emit.natcmp(a, b)
    if c ~= 0 then return c < 0 end
    return a < b
  end)
  return ks
end

-- source(v) -> Lua source of a chunk that, called with (setmetatable,
-- emit.list_mt, emit.null) as doc.from_chunk does, returns a value equal
-- to v | nil, reason
function M.source(v)
  -- tables reached twice become entries of T, defined before their users
  local seen, shared, order = {}, {}, {}
  local function scan(t)
    if seen[t] then
      if not shared[t] then order[#order + 1] = t; shared[t] = #order end
      return
    end
    seen[t] = true
    for _, x in pairs(t) do if type(x) == "table" then scan(x) end end
  end
  if type(v) == "table" then scan(v) end
  local out = {}
  local function put(s) out[#out + 1] = s end
  local function value(x, top)
    local t = type(x)
    if t == "string" then put(string.format("%q", x))
    elseif t == "boolean" then put(tostring(x))
    elseif t == "number" then
      if math.type(x) == "integer" then
        put(x == math.mininteger and "0x8000000000000000" or string.format("%d", x))
      elseif x ~= x or x == math.huge or x == -math.huge then
        error("a float that is not finite", 0)
      else
        put(string.format("%a", x))
      end
    elseif x == NULL then put("N")
    elseif t == "table" then
      if shared[x] and not top then put(string.format("T[%d]", shared[x])); return end
      local mt = getmetatable(x)
      if mt == LIST then
        local n, count = #x, 0
        for _ in pairs(x) do count = count + 1 end
        if count ~= n then error("a list with other keys", 0) end
        put("S({")
        for i = 1, n do value(x[i]); put(",") end
        put("},L)")
      elseif mt == nil then
        local ks, why = keys(x)
        if not ks then error(why, 0) end
        put("{")
        for _, k in ipairs(ks) do
          put(string.format("[%q]=", k))
          value(x[k])
          put(",")
        end
        put("}")
      else
        error("a table with a metatable other than eidos.list", 0)
      end
    else
      error("a " .. t .. " value", 0)
    end
  end
  local ok, why = pcall(function()
    put("local S,L,N=...\n")
    if #order > 0 then
      put("local T={}\n")
      -- a shared table may hold others: define each after those it holds
      local done, list = {}, {}
      local function visit(t)
        if done[t] then return end
        done[t] = true
        for _, x in pairs(t) do if type(x) == "table" then visit(x) end end
        if shared[t] then list[#list + 1] = t end
      end
      visit(v)
      for _, t in ipairs(list) do
        put(string.format("T[%d]=", shared[t]))
        value(t, true)
        put("\n")
      end
    end
    put("return ")
    value(v)
    put("\n")
  end)
  if not ok then return nil, why end
  return table.concat(out)
end

return M
