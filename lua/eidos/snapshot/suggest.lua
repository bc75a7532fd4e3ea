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

-- the one edit distance of every "did you mean" (eidos.nearest, computed by
-- eidos.core.editdist): case-insensitive, a swap of neighbours counts one,
-- banded, and it gives up (limit + 1) as soon as it exceeds its limit; the
-- editdist index finds the nearest of many paths in one call
local editdist = require("eidos.core.editdist")
local distance = require("eidos.nearest").distance
M.distance = distance

local function last_word(p)
  return (p:match("([^./]+)$") or p):lower()
end

-- the candidates of a list of paths, prepared once (per measurement type,
-- or for the whole model): lowered, by last word, by lowered path, in
-- sorted order (the paths that extend a given one, and those of one
-- subtype, are a run of it), and as an eidos.core.editdist index in that
-- order, without the first `skip` bytes that every path of the list shares
-- with every path it is asked about ("Type."; a common prefix changes no
-- distance)
local function prepare(paths, skip)
  local P = { paths = paths, lower = {}, byword = {}, bylower = {}, sorted = {}, subkeys = {} }
  for i, c in ipairs(paths) do
    local lc = c:lower()
    P.lower[i] = lc
    for _, idx in ipairs({ { P.byword, last_word(c) }, { P.bylower, lc } }) do
      local l = idx[1][idx[2]]
      if not l then l = {}; idx[1][idx[2]] = l end
      l[#l + 1] = i
    end
    P.sorted[i] = i
  end
  local low = P.lower
  table.sort(P.sorted, function(x, y)
    if low[x] ~= low[y] then return low[x] < low[y] end
    return x < y
  end)
  P.skip = skip or 0
  local rest = {}
  for j, i in ipairs(P.sorted) do rest[j] = low[i]:sub(P.skip + 1) end
  P.index = editdist.index(rest)
  return P
end

local function prepared(m, t)
  if t then
    t.near = t.near or prepare(type_paths(t), #t.name + 1)
    return t.near
  end
  m.near = m.near or prepare(M.paths(m))
  return m.near
end

-- first(P, s) -> the first position in sorted order whose lowered path is
-- >= s
local function first(P, s)
  local low, sorted = P.lower, P.sorted
  local a, b = 1, #sorted + 1
  while a < b do
    local mid = (a + b) // 2
    if low[sorted[mid]] < s then a = mid + 1 else b = mid end
  end
  return a
end

-- nearest(m, path, n) -> up to n existing paths closest to path: same last
-- word first (OS.release.osrelease -> OS.sysctl./proc/sys/kernel/osrelease),
-- then paths that extend it (OS.release.VERSION -> OS.release.VERSION_ID),
-- then by edit distance, then by length of the shared prefix. No rank
-- takes a pass over every path in Lua: the first two come from the
-- prepared indexes, the edit distances from eidos.core.editdist, which
-- keeps only the n nearest of a run of paths and tightens its bound as it
-- reads (runs most likely near first: the paths that sort next to this
-- one, then its subtype, then the rest), and are not computed at all when
-- the first two ranks fill n.
function M.nearest(m, path, n)
  n = n or 3
  local tname, sub = require("eidos.snapshot.model").split(path)
  local t = tname and m.types[tname:lower()]
  local P = prepared(m, t)
  local lp = path:lower()
  local limit = math.max(3, #path // 3)
  local scored, seen = {}, {}
  local function score(c, lc, rank, d)
    scored[#scored + 1] = { c, rank, d, -editdist.prefix(lp, lc) }
  end
  local function add(i, rank, d)
    seen[i] = true
    score(P.paths[i], P.lower[i], rank, d or distance(lp, P.lower[i]))
  end
  -- rank 0: the same last word
  for _, i in ipairs(P.byword[last_word(path)] or {}) do add(i, 0) end
  -- rank 1: a path this one extends (every path has two dots: only longer
  -- prefixes can be one), or one that extends this one
  local d1 = lp:find(".", 1, true)
  local d2 = d1 and lp:find(".", d1 + 1, true)
  for l = (d2 or #lp) + 1, #lp do
    for _, i in ipairs(P.bylower[lp:sub(1, l)] or {}) do if not seen[i] then add(i, 1) end end
  end
  local low, sorted = P.lower, P.sorted
  local at = first(P, lp)
  for j = at, #sorted do
    if low[sorted[j]]:sub(1, #lp) ~= lp then break end
    if not seen[sorted[j]] then add(sorted[j], 1) end
  end
  -- rank 2: within `limit` edits, the n nearest -- a run keeps those of
  -- its paths (the first ranks counted too: n is still enough, as they
  -- are at most #scored of them), and the n-th distance it found bounds
  -- the runs after it; of what the runs kept, only the distances up to the
  -- (n - #scored)-th can still show
  if #scored < n then
    local q, bound, hits = lp:sub(P.skip + 1), limit, {}
    local function run(a, b)
      if a > b then return end
      local pos, ds = P.index:nearest(q, n, bound, a, b)
      for j, p in ipairs(pos) do
        if not seen[sorted[p]] then hits[#hits + 1] = { sorted[p], ds[j] } end
      end
      if #ds >= n then
        table.sort(ds)
        if ds[n] < bound then bound = ds[n] end
      end
    end
    local N = #sorted
    local na, nb = math.max(1, at - 2 * n), math.min(N, at + 2 * n - 1)
    run(na, nb)
    local sa, sb = 1, 0
    if t and sub then
      local pre = lp:sub(1, #tname + #sub + 2) -- "type.subtype."
      sa = first(P, pre)
      sb = first(P, pre:sub(1, -2) .. "/") - 1 -- "/" follows "." in byte order
    end
    -- the subtype, then the rest, each without the neighbours already read
    for _, r in ipairs(sb >= sa and { { sa, sb }, { 1, sa - 1 }, { sb + 1, N } } or { { 1, N } }) do
      local a, b = r[1], r[2]
      if a <= nb and b >= na then
        run(a, math.min(b, na - 1))
        run(math.max(a, nb + 1), b)
      else
        run(a, b)
      end
    end
    local ds = {}
    for j, h in ipairs(hits) do ds[j] = h[2] end
    table.sort(ds)
    local last = ds[n - #scored] or limit
    for _, h in ipairs(hits) do
      if h[2] <= last and not seen[h[1]] then add(h[1], 2, h[2]) end
    end
  end
  if #scored == 0 and t and sub and t.subtypes[sub] then
    -- nothing close: the keys of the subtype asked for, nearest first
    local sk = P.subkeys[sub]
    if not sk then
      sk = { paths = {}, lower = {} }
      for _, k in ipairs(M.flat_keys(t.subtypes[sub], "", {})) do
        local c = t.name .. "." .. sub .. "." .. k
        sk.paths[#sk.paths + 1] = c
        sk.lower[#sk.lower + 1] = c:lower()
      end
      sk.index = editdist.index(sk.lower)
      P.subkeys[sub] = sk
    end
    local idx, ds = sk.index:nearest(lp, n, 1000000)
    for j, i in ipairs(idx) do score(sk.paths[i], sk.lower[i], 1, ds[j]) end
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
