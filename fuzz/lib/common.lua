-- fuzz/lib/common.lua: helpers shared by the fuzz adapters. An adapter
-- gets the fuzz/ directory as its chunk argument and loads this file with
-- dofile(dir .. "/lib/common.lua").
local M = {}

local NULL = require("eidos.core.emit").null

-- same(a, b) -> true | false, where: deep equality of loaded documents
-- (NaN equals NaN; integers and floats must keep their subtype)
function M.same(a, b, path)
  path = path or "$"
  if type(a) ~= type(b) then return false, path .. ": " .. type(a) .. " vs " .. type(b) end
  if type(a) == "number" then
    if a ~= a and b ~= b then return true end
    if math.type(a) ~= math.type(b) then return false, path .. ": " .. math.type(a) .. " vs " .. math.type(b) end
    if a ~= b then return false, string.format("%s: %.17g vs %.17g", path, a, b) end
    return true
  end
  if type(a) ~= "table" then
    if a ~= b then return false, string.format("%s: %q vs %q", path, tostring(a), tostring(b)) end
    return true
  end
  for k, v in pairs(a) do
    local ok, where = M.same(v, b[k], path .. "." .. tostring(k))
    if not ok then return false, where end
  end
  for k in pairs(b) do
    if a[k] == nil then return false, path .. "." .. tostring(k) .. ": missing on the left" end
  end
  return true
end

M.NULL = NULL

-- odd_key(v) -> nil | reason: a map key anywhere in v that eidos cannot
-- write and read back, for reasons documented in docs/fuzzing.md:
--  * "nul": the key holds a NUL byte. The emitters (src/bind/lemit.c) read
--    keys as C strings, so the key is written cut at the NUL and may
--    collide with another key (open finding);
--  * "long": the key, as written in JSON (quotes and escapes included),
--    is longer than 1024 characters. The JSON is valid, but libyaml (YAML
--    1.2's limit on implicit keys) refuses to read it back through the
--    YAML loader. (Counted generously here.)
-- The round-trip checks skip such documents.
function M.odd_key(v, depth)
  depth = depth or 0
  if type(v) ~= "table" or depth > 300 then return nil end
  for k, x in pairs(v) do
    if type(k) == "string" then
      if k:find("\0", 1, true) then return "nul" end
      -- libyaml counts the key as written (quotes and escapes included)
      local _, odd = k:gsub('[%c"\\\128-\255]', "")
      if #k + 5 * odd > 1000 then return "long" end
    end
    local r = M.odd_key(x, depth + 1)
    if r then return r end
  end
  return nil
end

-- expanded(v, node_cost, limit) -> a lower bound of what the loader counts
-- for v (src/bind/lyaml.c): node_cost per node, plus the bytes of every
-- string and key; a table reached twice (an alias) counts twice. Stops
-- counting past limit (returns limit + 1). Numbers, booleans and null count
-- node_cost only: their text is gone once loaded, so this never exceeds
-- the loader's own count.
function M.expanded(v, node_cost, limit)
  local total = 0
  local function walk(x)
    if total > limit then return end
    total = total + node_cost
    if type(x) == "string" then
      total = total + #x
    elseif type(x) == "table" then
      for k, y in pairs(x) do
        if type(k) == "string" then total = total + #k end
        walk(y)
      end
    end
  end
  walk(v)
  return total > limit and limit + 1 or total
end

-- depth(v) -> levels of nesting of v (a scalar is 0), counted up to cap
function M.depth(v, cap, d)
  d = d or 0
  if type(v) ~= "table" or d > cap then return d end
  local m = d + 1
  for _, x in pairs(v) do
    local dx = M.depth(x, cap, d + 1)
    if dx > m then m = dx end
  end
  return m
end

-- split(s, sep) -> list of the parts of s between plain-text separators
function M.split(s, sep, max)
  local out, i = {}, 1
  while true do
    if max and #out == max - 1 then out[#out + 1] = s:sub(i); return out end
    local j = s:find(sep, i, true)
    if not j then out[#out + 1] = s:sub(i); return out end
    out[#out + 1] = s:sub(i, j - 1)
    i = j + #sep
  end
end

return M
