-- eidos.snapshot.view: the table format of a Snapshot, for a person to read
-- (not to read back). A header line, then one section per measurement with
-- aligned SUBTYPE / KEY / VALUE columns; keys in natural order; a
-- measurement that was not taken shows its status and reason. Control
-- characters in values are shown escaped (\n, \t) so each row stays a line.
local doc = require("eidos.doc")
local strx = require("eidos.text")
local model_scalar -- lazily: eidos.snapshot.model's scalar printing

local M = {}

local function scalar(v)
  if not model_scalar then
    local ok, model = pcall(require, "eidos.snapshot.model")
    model_scalar = ok and model.scalar or function(x) return tostring(x) end
  end
  local s = model_scalar(v)
  if s == nil then s = tostring(v) end
  return (s:gsub("[%c]", function(c)
    if c == "\n" then return "\\n" elseif c == "\t" then return "\\t" end
    return string.format("\\x%02x", c:byte())
  end))
end

local function section(out, m)
  local title = m.type
  if m.status and m.status ~= "ok" then
    out[#out + 1] = string.format("%s: %s (%s)", title, m.status, m.reason or "")
    out[#out + 1] = ""
    return
  end
  out[#out + 1] = title
  local rows = { { "SUBTYPE", "KEY", "VALUE" } }
  for _, st in ipairs(m.subtypes or {}) do
    local data = st.data or {}
    local keys = doc.keys(data)
    if #keys == 0 then rows[#rows + 1] = { st.subtype, "-", "" } end
    for _, k in ipairs(keys) do rows[#rows + 1] = { st.subtype, k, scalar(data[k]) } end
    if type(st.context) == "table" then
      for _, k in ipairs(doc.keys(st.context)) do
        rows[#rows + 1] = { st.subtype, "(" .. k .. ")", scalar(st.context[k]) }
      end
    end
  end
  local w1, w2 = 0, 0
  for _, r in ipairs(rows) do
    if #r[1] > w1 then w1 = #r[1] end
    if #r[2] > w2 then w2 = #r[2] end
  end
  for _, r in ipairs(rows) do
    local line = "  " .. r[1] .. string.rep(" ", w1 - #r[1] + 2) .. r[2] .. string.rep(" ", w2 - #r[2] + 2) .. r[3]
    out[#out + 1] = strx.rtrim(line)
  end
  out[#out + 1] = ""
end

-- render(snapshot document) -> text
function M.render(d)
  local out = {}
  local md = d.metadata or {}
  out[#out + 1] = string.format("%s %s  node=%s  time=%s  version=%s", d.kind or "Snapshot",
    d.apiVersion or "", tostring(md["source-node"] or md.source or "-"), tostring(md.timestamp or "-"),
    tostring(md.version or "-"))
  out[#out + 1] = ""
  for _, m in ipairs(d.measurements or {}) do section(out, m) end
  return table.concat(out, "\n")
end

return M
