-- eidos.nearest: "did you mean" for every message that refuses a word --
-- unknown commands, flags, enum values, criteria values and snapshot paths
-- (eidos.snapshot.suggest) all use this one edit distance.
--   distance(a, b, max) -> edit distance of a and b (bytes, case-insensitive;
--     insertions, deletions, substitutions and swaps of two neighbouring
--     bytes count one each), or max + 1 as soon as it is known to exceed max:
--     only the diagonal band of width 2*max+1 is computed, and a row whose
--     band minimum is above max stops the computation, so the cost is
--     O(max * min(#a, #b)) instead of O(#a * #b) (eidos.core.editdist).
--   near(word, candidates, opts) -> the closest candidates (ties kept, in
--     candidate order): a candidate that starts with the word (3 bytes or
--     more) counts as distance 0, one the word starts with ("warning" for
--     "warn") as 1; otherwise within opts.max edits (default: a third of
--     the word's length, at least 1, at most 3).
--   hint(word, candidates, opts) -> 'did you mean "x"?' or "".
local M = {}

local lower = string.lower

-- the table is computed in C (src/core/editdist.c: the same recurrence,
-- with the common prefix and suffix dropped first, and Hyyro's bit-parallel
-- form for the many-candidates search of eidos.snapshot.suggest)
M.distance = require("eidos.core.editdist").distance

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
