-- eidos.columns: the one renderer of text tables and prose for people
-- (every -t table view, --help). Tables are ASCII, columns separated by two
-- spaces, and fit a width: eidos.term.width() by default, min(120, the
-- terminal's width), or everything with --wide. When a table is too wide,
-- the columns asked to wrap are narrowed first (their cells continue on
-- the next lines), then the longest columns are cut to a common cap (short
-- columns keep their width) and their cells elided with "..." (at the end,
-- or in the middle for columns whose end matters, such as file paths). Callers put the most
-- useful columns first; the first column keeps up to 32 characters.
-- Widths count UTF-8 characters.
local strx = require("eidos.text")

local M = {}

local function term_width() return require("eidos.term").width() end

-- len(s) -> its width in characters (bytes when not valid UTF-8)
local function len(s) return utf8.len(s) or #s end
M.len = len

-- cut(s, n) -> the first n characters of s
local function cut(s, n)
  if n <= 0 then return "" end
  if not utf8.len(s) then return s:sub(1, n) end
  local b = utf8.offset(s, n + 1)
  return b and s:sub(1, b - 1) or s
end

-- tail(s, n) -> the last n characters of s
local function tail(s, n)
  if n <= 0 then return "" end
  local l = utf8.len(s)
  if not l then return s:sub(-n) end
  if n >= l then return s end
  return s:sub(utf8.offset(s, l - n + 1))
end

-- elide(s, w[, middle]) -> s cut to w characters with "..." where text is
-- left out: at the end, or in the middle
function M.elide(s, w, middle)
  if len(s) <= w then return s end
  if w <= 3 then return cut("...", w) end
  if middle then
    local keep = w - 3
    return cut(s, keep // 2) .. "..." .. tail(s, keep - keep // 2)
  end
  return cut(s, w - 3) .. "..."
end

-- after(s, pos, k) -> the byte index k characters after pos (past the
-- end: #s + 1); bytes count as characters where s is not valid UTF-8
local function after(s, pos, k, bytes)
  if bytes then return math.min(pos + k, #s + 1) end
  return utf8.offset(s, k + 1, pos) or (#s + 1)
end

-- wrap(s, w) -> list of lines of at most w characters: broken after spaces
-- and commas where there is one, else hard. Linear in #s (one pass, no
-- re-slicing of the rest).
function M.wrap(s, w)
  w = math.max(w, 1)
  s = strx.rtrim(s)
  local bytes = utf8.len(s) == nil
  local lines, pos, n = {}, 1, #s
  while pos <= n do
    local stop = after(s, pos, w, bytes)         -- the first character past w
    if stop > n then lines[#lines + 1] = s:sub(pos); break end
    local head = s:sub(pos, after(s, stop, 1, bytes) - 1) -- w + 1 characters
    -- the last space (it may be the character after w) or comma (within w)
    local at = math.max(head:match("^.*()%s") or 0, s:sub(pos, stop - 1):match("^.*(),") or 0)
    if at > 1 and at > #head // 3 then
      lines[#lines + 1] = strx.rtrim(s:sub(pos, pos + at - 1))
      pos = s:find("%S", pos + at) or (n + 1)
    else
      lines[#lines + 1] = s:sub(pos, stop - 1)
      pos = stop
    end
  end
  if #lines == 0 then lines[1] = "" end
  return lines
end

-- text(s, opts) -> prose fitted to the width: each line of s wrapped, its
-- continuation lines indented by opts.hang (default 4 spaces) past the
-- line's own indentation; opts.width as for render
function M.text(s, opts)
  opts = opts or {}
  local width = opts.width or term_width()
  local hang = opts.hang or "    "
  local out = {}
  for line in (s:gsub("\n$", "") .. "\n"):gmatch("(.-)\n") do
    if len(line) <= width then
      out[#out + 1] = line
    else
      local lead = line:match("^%s*")
      local body = line:sub(#lead + 1)
      local first = M.wrap(body, width - len(lead))[1]
      out[#out + 1] = lead .. first
      local pad = lead .. hang
      local rest = strx.ltrim(body:sub(#first + 1))
      if rest ~= "" then
        for _, l in ipairs(M.wrap(rest, width - len(pad))) do out[#out + 1] = pad .. l end
      end
    end
  end
  return table.concat(out, "\n") .. "\n"
end

-- cap(nat, mins, avail, which) -> widths with the columns of the set
-- which cut to the largest common cap that fits avail (never below their
-- minimum), the others kept; and whether they fit
local function cap(nat, mins, avail, which)
  local function total(c)
    local t = 0
    for i, n in ipairs(nat) do t = t + (which[i] and math.min(n, math.max(c, mins[i])) or n) end
    return t
  end
  local lo, hi = 0, 0
  for i, n in ipairs(nat) do if which[i] then hi = math.max(hi, n) end end
  while lo < hi do
    local mid = (lo + hi + 1) // 2
    if total(mid) <= avail then lo = mid else hi = mid - 1 end
  end
  local w = {}
  for i, n in ipairs(nat) do w[i] = which[i] and math.min(n, math.max(lo, mins[i])) or n end
  return w, total(lo) <= avail
end

-- widths(nat, mins, avail, wrap) -> the column widths: nat when they fit;
-- else the wrapping columns are cut first (they lose nothing), then every
-- column, the widest first; minimums give way last (to 3)
local function widths(nat, mins, avail, wrap)
  local all = {}
  for i = 1, #nat do all[i] = true end
  local w, ok = cap(nat, mins, avail, wrap)
  if ok then return w end
  local wmin = {}
  for i, n in ipairs(nat) do wmin[i] = wrap[i] and math.min(n, mins[i]) or n end
  w, ok = cap(wmin, mins, avail, all)
  if ok then return w end
  local three = {}
  for i = 1, #mins do three[i] = math.min(mins[i], 3) end
  return (cap(nat, three, avail, all))
end

-- render(rows, opts) -> text, one line per row (more where a cell wraps),
-- each ending in "\n"; trailing spaces removed. rows: lists of cells
-- (strings; nil is empty), the first the header. opts:
--   width   the width to fit (default eidos.term.width())
--   indent  text before every line (default "")
--   gap     spaces between columns (default 2)
--   wrap    set of column indexes whose cells wrap instead of being elided
--   middle  set of column indexes elided in the middle (paths)
--   min     {[i] = n}: column i keeps at least n characters
--   optional set of column indexes left out (the last first) when the
--           other columns would not fit whole; a last line names them
--   paint   function(text, row, col) -> text with colour, given a cell's
--           (first line's) text; widths are computed without it
function M.render(rows, opts)
  opts = opts or {}
  local indent = opts.indent or ""
  local wrap, middle = opts.wrap or {}, opts.middle or {}
  local ncol = 0
  for _, r in ipairs(rows) do ncol = math.max(ncol, #r) end
  if ncol == 0 then return "" end
  local cells = {}
  local nat = {}
  for i = 1, ncol do nat[i] = 0 end
  for ri, r in ipairs(rows) do
    cells[ri] = {}
    for i = 1, ncol do
      local c = r[i] == nil and "" or tostring(r[i])
      cells[ri][i] = c
      if len(c) > nat[i] then nat[i] = len(c) end
    end
  end
  local mins = {}
  local head = rows[1] or {}
  for i = 1, ncol do
    local m = (opts.min and opts.min[i]) or (i == 1 and 32) or math.max(len(tostring(head[i] or "")), 8)
    if wrap[i] then -- a wrapped column keeps 32 characters, or its longest word up to 24
      m = (opts.min and opts.min[i]) or math.max(m, 32)
      for ri = 2, #cells do
        for word in cells[ri][i]:gmatch("%S+") do m = math.max(m, math.min(len(word), 24)) end
      end
    end
    mins[i] = math.min(nat[i], m)
  end
  local width = opts.width or term_width()
  local gap = opts.gap or 2
  local function room(n) return width - len(indent) - gap * (n - 1) end
  -- optional columns are left out, the last first, while the others do
  -- not fit at their minimums
  local drop, dropped = {}, {}
  local function need()
    local t, n = 0, 0
    for i = 1, ncol do if not drop[i] then t, n = t + (wrap[i] and mins[i] or math.max(mins[i], nat[i])), n + 1 end end
    return t, n
  end
  for i = ncol, 1, -1 do
    local t, n = need()
    if t <= room(n) then break end
    if opts.optional and opts.optional[i] then drop[i] = true; table.insert(dropped, 1, tostring(head[i] or i)) end
  end
  if #dropped > 0 then
    local keep = {}
    for i = 1, ncol do if not drop[i] then keep[#keep + 1] = i end end
    local function pick(t) local o = {}; for k, i in ipairs(keep) do o[k] = t[i] end; return o end
    for ri = 1, #cells do cells[ri] = pick(cells[ri]) end
    nat, mins, wrap, middle = pick(nat), pick(mins), pick(wrap), pick(middle)
    ncol = #keep
  end
  local avail = room(ncol)
  local w = widths(nat, mins, avail, wrap)
  local out = {}
  for ri, r in ipairs(cells) do
    local parts, height = {}, 1
    for i = 1, ncol do
      local c = r[i]
      if len(c) <= w[i] then parts[i] = { c }
      elseif wrap[i] then parts[i] = M.wrap(c, w[i])
      else parts[i] = { M.elide(c, w[i], middle[i]) } end
      height = math.max(height, #parts[i])
    end
    for l = 1, height do
      local line = {}
      for i = 1, ncol do
        local c = parts[i][l] or ""
        local pad = i < ncol and string.rep(" ", w[i] - len(c)) or ""
        if opts.paint and l == 1 and c ~= "" then line[i] = opts.paint(c, ri, i) .. pad
        else line[i] = c .. pad end
      end
      out[#out + 1] = strx.rtrim(indent .. table.concat(line, string.rep(" ", gap)))
    end
  end
  if #dropped > 0 and opts.hint ~= false then
    out[#out + 1] = string.format("(%s left out to fit %d columns; --wide shows %s)", table.concat(dropped, ", "), width,
      #dropped == 1 and "it" or "them")
  end
  return table.concat(out, "\n") .. "\n"
end

return M
