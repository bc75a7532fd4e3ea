-- eidos.snapshot.suggest: what a snapshot model has, for messages: every
-- path, and the paths nearest to one that does not exist. Loaded only when
-- a lookup misses (or paths are listed), so a passing validation never
-- compiles it.
local M = {}

local function natsort(list)
  local emit = require("eidos.core.emit")
  table.sort(list, function(a, b) return emit.natcmp(a, b) < 0 end)
  return list
end

local ismap = require("eidos.snapshot.model").ismap

-- flat_keys(data, prefix, out) -> out: the keys of a data map as path
-- suffixes (nested maps flattened with dots), naturally sorted
function M.flat_keys(data, prefix, out)
  local ks = {}
  for k in pairs(data) do ks[#ks + 1] = tostring(k) end
  for _, k in ipairs(natsort(ks)) do
    local v = data[k]
    if ismap(v) and next(v) ~= nil then M.flat_keys(v, prefix .. k .. ".", out)
    else out[#out + 1] = prefix .. k end
  end
  return out
end

local function type_paths(t)
  if not t.paths then
    local out = {}
    for _, s in ipairs(t.order) do
      for _, k in ipairs(M.flat_keys(t.subtypes[s], "", {})) do out[#out + 1] = t.name .. "." .. s .. "." .. k end
    end
    t.paths = out
  end
  return t.paths
end

-- paths(m) -> every path with a value, in measurement order, keys naturally sorted
function M.paths(m)
  local out = {}
  for _, key in ipairs(m.order) do
    for _, p in ipairs(type_paths(m.types[key])) do out[#out + 1] = p end
  end
  return out
end

-- the one edit distance (eidos.nearest): case-insensitive, banded, gives
-- up above its limit
local distance = require("eidos.nearest").distance
M.distance = distance

local function last_word(p)
  return (p:match("([^./]+)$") or p):lower()
end

-- nearest(m, path, n) -> up to n existing paths closest to path: same last
-- word first (OS.release.osrelease -> OS.sysctl./proc/sys/kernel/osrelease),
-- then paths that extend it (OS.release.VERSION -> OS.release.VERSION_ID),
-- then by edit distance, then by length of the shared prefix.
function M.nearest(m, path, n)
  n = n or 3
  local tname, sub = require("eidos.snapshot.model").split(path)
  local cands = {}
  local t = tname and m.types[tname:lower()]
  if t then
    cands = type_paths(t)
  else
    cands = M.paths(m)
  end
  local want = last_word(path)
  local limit = math.max(3, #path // 3)
  local scored = {}
  local lp = path:lower()
  for _, c in ipairs(cands) do
    local lc = c:lower()
    local rank = (last_word(c) == want) and 0
      or (lc:sub(1, #lp) == lp or lp:sub(1, #lc) == lc) and 1 or 2
    local d = distance(path, c, rank < 2 and 1000 or limit)
    if rank < 2 or d <= limit then
      local pre = 0
      while pre < #lp and lp:byte(pre + 1) == lc:byte(pre + 1) do pre = pre + 1 end
      scored[#scored + 1] = { c, rank, d, -pre }
    end
  end
  if #scored == 0 and t and sub then
    -- nothing close: the keys of the subtype asked for (or the subtypes)
    local data = t.subtypes[sub]
    if data then
      for _, k in ipairs(M.flat_keys(data, "", {})) do
        local c = t.name .. "." .. sub .. "." .. k
        local lc = c:lower()
        local pre = 0
        while pre < #lp and lp:byte(pre + 1) == lc:byte(pre + 1) do pre = pre + 1 end
        scored[#scored + 1] = { c, 1, distance(path, c, 1000), -pre }
      end
    end
  end
  table.sort(scored, function(x, y)
    if x[2] ~= y[2] then return x[2] < y[2] end
    if x[3] ~= y[3] then return x[3] < y[3] end
    if x[4] ~= y[4] then return x[4] < y[4] end
    return x[1] < y[1]
  end)
  local out = {}
  for i = 1, math.min(n, #scored) do out[i] = scored[i][1] end
  return out
end

return M
