-- eidos.nearest: "did you mean" for every message that refuses a word --
-- unknown commands, flags, enum values, criteria values and snapshot paths
-- (eidos.snapshot.suggest) all use this one edit distance.
--   distance(a, b, max) -> edit distance of a and b (bytes, case-insensitive;
--     insertions, deletions, substitutions and swaps of two neighbouring
--     bytes count one each), or max + 1 as soon as it is known to exceed max:
--     only the diagonal band of width 2*max+1 is computed, and a row whose
--     band minimum is above max stops the computation, so the cost is
--     O(max * min(#a, #b)) instead of O(#a * #b).
--   near(word, candidates, opts) -> the closest candidates (ties kept, in
--     candidate order): a candidate that starts with the word (3 bytes or
--     more) counts as distance 0, one the word starts with ("warning" for
--     "warn") as 1; otherwise within opts.max edits (default: a third of
--     the word's length, at least 1, at most 3).
--   hint(word, candidates, opts) -> 'did you mean "x"?' or "".
local M = {}

local byte, lower, min = string.byte, string.lower, math.min

function M.distance(a, b, max)
  a, b = lower(a), lower(b)
  local la, lb = #a, #b
  if la > lb then a, b, la, lb = b, a, lb, la end -- a is the shorter
  max = max or lb
  if lb - la > max then return max + 1 end
  if la == 0 then return lb end
  local prev2, prev, cur = {}, {}, {}
  local big = max + 1
  for j = 0, min(lb, max) do prev[j] = j end
  for j = min(lb, max) + 1, lb do prev[j] = big end
  local pa -- the previous byte of a
  for i = 1, la do
    local lo, hi = i - max, i + max
    if lo < 1 then lo = 1 end
    if hi > lb then hi = lb end
    cur[0] = i <= max and i or big
    if lo > 1 then cur[lo - 1] = big end
    local ca = byte(a, i)
    local best = cur[0]
    local pb = lo > 1 and byte(b, lo - 1) or nil -- the previous byte of b
    for j = lo, hi do
      local cb = byte(b, j)
      local v = prev[j - 1] + (ca == cb and 0 or 1)
      local d = prev[j] + 1
      if d < v then v = d end
      d = cur[j - 1] + 1
      if d < v then v = d end
      -- two neighbouring bytes swapped count as one edit
      if pa and j > 1 and ca == pb and pa == cb then
        d = prev2[j - 2] + 1
        if d < v then v = d end
      end
      if v > big then v = big end
      cur[j] = v
      if v < best then best = v end
      pb = cb
    end
    if hi < lb then cur[hi + 1] = big end
    if best > max then return big end
    prev2, prev, cur = prev, cur, prev2
    pa = ca
  end
  local d = prev[lb]
  return d > max and big or d
end

function M.near(word, candidates, opts)
  opts = opts or {}
  local w = lower(word)
  local limit = opts.max or math.max(1, math.min(3, #w // 3))
  local best, out = limit + 1, {}
  for _, c in ipairs(candidates) do
    local lc = lower(c)
    local d
    if #w >= 3 and lc:sub(1, #w) == w then d = 0
    elseif #lc >= 3 and w:sub(1, #lc) == lc then d = 1
    else d = M.distance(w, lc, limit) end
    if d < best then best, out = d, { c }
    elseif d == best and d <= limit then out[#out + 1] = c end
  end
  return out
end

-- hint(word, candidates, opts) -> 'did you mean "a"?', 'did you mean
-- "a" or "b"?)' or "" (opts.show(c) formats a candidate, e.g. with "--")
function M.hint(word, candidates, opts)
  local list = M.near(word, candidates, opts)
  if #list == 0 or #list > 3 then return "" end
  local show = opts and opts.show or function(c) return c end
  local q = {}
  for i, c in ipairs(list) do q[i] = string.format("%q", show(c)) end
  local text = #q == 1 and q[1] or (table.concat(q, ", ", 1, #q - 1) .. " or " .. q[#q])
  return "did you mean " .. text .. "?"
end

return M
