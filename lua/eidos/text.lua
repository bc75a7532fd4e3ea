-- eidos.text: string helpers that stay linear on hostile input. Lua
-- patterns like "^%s*(.-)%s*$" or "%s+$" backtrack: on a long run of white
-- space followed by anything else they try every start in the run, so
-- their time grows with the square of the run (40,000 spaces: 3.7 s). Trim
-- with these instead.
local M = {}

local function space(b) return b == 32 or (b >= 9 and b <= 13) end

-- rtrim(s) -> s without trailing white space (time: the trailing run)
function M.rtrim(s)
  local n = #s
  while n > 0 and space(s:byte(n)) do n = n - 1 end
  return s:sub(1, n)
end

-- rstrip(s, ch) -> s without the trailing run of the character ch ("/")
function M.rstrip(s, ch)
  local b, n = ch:byte(), #s
  while n > 0 and s:byte(n) == b do n = n - 1 end
  return s:sub(1, n)
end

-- ltrim(s) -> s without leading white space
function M.ltrim(s)
  local i = s:find("%S")
  return i and s:sub(i) or ""
end

-- trim(s) -> s without leading and trailing white space
function M.trim(s)
  local i = s:find("%S")
  if not i then return "" end
  local n = #s
  while space(s:byte(n)) do n = n - 1 end
  return s:sub(i, n)
end

-- count(n, word) -> "1 file", "2 files": a count and its noun, the noun
-- plural (an added "s") unless n is 1; words whose plural differs pass it
-- as a third argument
function M.count(n, word, plural)
  return string.format("%d %s", n, n == 1 and word or (plural or word .. "s"))
end

return M
