-- eidos.snapshot.view: the table format of a Snapshot, for a person to read
-- (not to read back). A header line, then one section per measurement with
-- aligned SUBTYPE / KEY / VALUE columns (eidos.columns: fitted to the width,
-- long values wrapped); keys in natural order; a subtype with many keys
-- shows their count unless --wide; a measurement that was not taken shows
-- its status and reason. Control characters in values are shown escaped
-- (\n, \t) so each value stays one line of text.
local doc = require("eidos.doc")
local model = require("eidos.snapshot.model")

local M = {}

local function scalar(v)
  local s = model.scalar(v)
  if s == nil then s = tostring(v) end
  return (s:gsub("[%c]", function(c)
    if c == "\n" then return "\\n" elseif c == "\t" then return "\\t" end
    return string.format("\\x%02x", c:byte())
  end))
end

-- subtypes with more keys than this show their count only (unless --wide)
M.LIMIT = 24

local function section(out, m, long, wide)
  local columns = require("eidos.columns")
  local title = m.type
  if m.status and m.status ~= "ok" then
    out[#out + 1] = columns.text(string.format("%s: %s (%s)", title, m.status, m.reason or "")) .. "\n"
    return
  end
  out[#out + 1] = title .. "\n"
  local rows = { { "SUBTYPE", "KEY", "VALUE" } }
  for _, st in ipairs(m.subtypes or {}) do
    local data = st.data or {}
    local keys = doc.keys(data)
    local ctx = type(st.context) == "table" and doc.keys(st.context) or {}
    if #keys == 0 then rows[#rows + 1] = { st.subtype, "-", "" } end
    if not wide and #keys > M.LIMIT then
      rows[#rows + 1] = { st.subtype, string.format("(%d keys)", #keys), "" }
      long[#long + 1] = string.format("%s %s", title, st.subtype)
    else
      for _, k in ipairs(keys) do rows[#rows + 1] = { st.subtype, k, scalar(data[k]) } end
    end
    for _, k in ipairs(ctx) do rows[#rows + 1] = { st.subtype, "(" .. k .. ")", scalar(st.context[k]) } end
  end
  out[#out + 1] = columns.render(rows, { indent = "  ", middle = { [2] = true }, wrap = { [3] = true },
    min = { 16, 40 } })
  out[#out + 1] = "\n"
end

-- render(snapshot document) -> text: fitted to the width (eidos.columns);
-- a subtype with more than LIMIT keys shows its count, and a last line
-- says how to see them (--wide, or -t yaml)
function M.render(d)
  local out = {}
  local md = d.metadata or {}
  out[#out + 1] = require("eidos.columns").text(string.format("%s %s  node=%s  time=%s  version=%s",
    d.kind or "Snapshot", d.apiVersion or "", tostring(md["source-node"] or md.source or "-"),
    tostring(md.timestamp or "-"), tostring(md.version or "-"))) .. "\n"
  local long = {}
  local wide = require("eidos.term").wide()
  for _, m in ipairs(d.measurements or {}) do section(out, m, long, wide) end
  if #long > 0 then
    out[#out + 1] = require("eidos.columns").text(string.format("%s: more than %d keys each, counted only; --wide lists " ..
      "every key (-t yaml gives the whole document)", table.concat(long, ", "), M.LIMIT))
  end
  return table.concat(out)
end

return M
