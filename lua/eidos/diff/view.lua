-- eidos.diff.view: the table format of a DiffResult, for a person to read
-- (not to read back): CHANGE, PATH, OLD, NEW columns in finding order and a
-- summary line naming the ignore patterns. Values are shown on one line
-- (control characters escaped) and cut to VALUE_WIDTH characters.
-- columns(rows) is the aligned-columns writer the fleet views share.
local M = {}

M.VALUE_WIDTH = 40

-- one(v) -> v on one line: scalars as a snapshot reads them, control
-- characters escaped
function M.one(v)
  if v == nil then return "-" end
  local s = require("eidos.snapshot.model").scalar(v) or tostring(v)
  return (s:gsub("%c", function(c)
    if c == "\n" then return "\\n" elseif c == "\t" then return "\\t" end
    return string.format("\\x%02x", c:byte())
  end))
end

function M.cut(s, n)
  n = n or M.VALUE_WIDTH
  if utf8.len(s) and utf8.len(s) > n then return s:sub(1, utf8.offset(s, n - 2) - 1) .. "..." end
  if not utf8.len(s) and #s > n then return s:sub(1, n - 3) .. "..." end
  return s
end

local function width(s) return utf8.len(s) or #s end

-- columns(rows) -> text: rows of cells aligned in columns two spaces
-- apart, the last column unpadded, trailing blanks removed
function M.columns(rows)
  local w = {}
  for _, r in ipairs(rows) do
    for c = 1, #r - 1 do w[c] = math.max(w[c] or 0, width(r[c])) end
  end
  local out = {}
  for _, r in ipairs(rows) do
    local parts = {}
    for c = 1, #r do
      parts[c] = c < #r and (r[c] .. string.rep(" ", w[c] - width(r[c]))) or r[c]
    end
    out[#out + 1] = (table.concat(parts, "  "):gsub("%s+$", ""))
  end
  return table.concat(out, "\n") .. "\n"
end

local function plural(n, word) return string.format("%d %s%s", n, word, n == 1 and "" or "s") end

-- render(result) -> text
function M.render(r)
  local s = r.summary
  local out = {}
  if #r.findings > 0 then
    local rows = { { "CHANGE", "PATH", "OLD", "NEW" } }
    for _, f in ipairs(r.findings) do
      local old, new = M.cut(M.one(f.old)), M.cut(M.one(f.new))
      if f.change == "moved" then
        old, new = "position " .. (f.from + 1), "position " .. (f.to + 1)
      end
      rows[#rows + 1] = { f.change, M.one(f.path), old, new }
    end
    out[#out + 1] = M.columns(rows)
  end
  local ign = r.metadata.ignore
  local line = #r.findings == 0 and "no differences" or
    string.format("%s: %d changed, %d added, %d removed, %d moved", plural(s.total, "difference"),
      s.changed, s.added, s.removed, s.moved)
  if s.ignored > 0 then
    line = line .. string.format(" (%d ignored: %s)", s.ignored, table.concat(ign or {}, ", "))
  end
  out[#out + 1] = line .. "\n"
  return table.concat(out, #r.findings > 0 and "\n" or "")
end

return M
