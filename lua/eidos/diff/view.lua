-- eidos.diff.view: the table format of a DiffResult, for a person to read
-- (not to read back): CHANGE, PATH, OLD, NEW columns in finding order and a
-- summary line naming the ignore patterns, fitted to the width
-- (eidos.columns). Values are shown on one line (control characters
-- escaped) and cut to VALUE_WIDTH characters (whole with --wide).
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

-- cut(s[, n]) -> s cut to n characters (VALUE_WIDTH) with "...", or
-- whole with --wide
function M.cut(s, n)
  if require("eidos.term").wide() then return s end
  return require("eidos.columns").elide(s, n or M.VALUE_WIDTH)
end

local plural = require("eidos.text").count

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
    out[#out + 1] = require("eidos.columns").render(rows, { middle = { [2] = true }, min = { 8, 40 } })
  end
  local ign = r.metadata.ignore
  local line = #r.findings == 0 and "no differences" or
    string.format("%s: %d changed, %d added, %d removed, %d moved", plural(s.total, "difference"),
      s.changed, s.added, s.removed, s.moved)
  if s.ignored > 0 then
    line = line .. string.format(" (%d ignored: %s)", s.ignored, table.concat(ign or {}, ", "))
  end
  out[#out + 1] = require("eidos.columns").text(line)
  return table.concat(out, #r.findings > 0 and "\n" or "")
end

return M
