-- eidos.validate.report: the text renderings of a ValidationResult: an
-- aligned table for people (status words coloured when asked) and JUnit XML
-- for CI systems (one testsuite, one testcase per constraint, <failure> and
-- <skipped> carrying the reasons; everything XML-escaped, control
-- characters and invalid UTF-8 replaced so the file always parses).
local strx = require("eidos.text")
local M = {}

local COLORS = { passed = "32", failed = "31", skipped = "33", pass = "32", fail = "31", partial = "33" }

local function paint(word, on, pad)
  local s = word .. string.rep(" ", (pad or #word) - #word)
  if not on or not COLORS[word] then return s end
  return "\27[" .. COLORS[word] .. "m" .. word .. "\27[0m" .. string.rep(" ", (pad or #word) - #word)
end

local function oneline(s)
  return (tostring(s or ""):gsub("[\r\n\t]+", " "))
end

-- table(d, color) -> text
function M.table(d, color)
  local head = { "STATUS", "CONSTRAINT", "EXPRESSION", "ACTUAL", "REASON" }
  local rows = {}
  for _, r in ipairs(d.results) do
    rows[#rows + 1] = { r.status, oneline(r.name), oneline(r.expression), r.actual and oneline(r.actual) or "-",
                        oneline(r.reason), warning = r.severity == "warning" and r.status == "failed" }
  end
  local w = {}
  for c = 1, 4 do
    w[c] = #head[c]
    for _, row in ipairs(rows) do if #row[c] > w[c] then w[c] = #row[c] end end
  end
  local out = {}
  local function line(cells, first)
    local parts = { first }
    for c = 2, 4 do parts[#parts + 1] = cells[c] .. string.rep(" ", w[c] - #cells[c]) end
    parts[#parts + 1] = cells[5]
    out[#out + 1] = strx.rtrim(table.concat(parts, "  "))
  end
  line(head, head[1] .. string.rep(" ", w[1] - #head[1]))
  for _, row in ipairs(rows) do
    local cells = row
    if row.warning then cells = { row[1], row[2], row[3], row[4], "warning: " .. row[5] } end
    line(cells, paint(row[1], color, w[1]))
  end
  local s = d.summary
  out[#out + 1] = ""
  out[#out + 1] = string.format("%d constraint%s: %d passed, %d failed%s, %d skipped -> %s",
    s.total, s.total == 1 and "" or "s", s.passed, s.failed,
    s.warnings > 0 and string.format(" (%d warning%s)", s.warnings, s.warnings == 1 and "" or "s") or "",
    s.skipped, paint(d.status, color))
  return table.concat(out, "\n") .. "\n"
end

-- xml(s): escape text for an attribute or element body
local function xml(s)
  s = tostring(s or "")
  if not utf8.len(s) then s = s:gsub("[\128-\255]", "?") end
  s = s:gsub("[%z\1-\8\11\12\14-\31\127]", "?")
  return (s:gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;" }))
end
M.xml = xml

local function details(r)
  local b = { "constraint: " .. tostring(r.name), "expression: " .. tostring(r.expression) }
  if r.actual then b[#b + 1] = "actual: " .. r.actual end
  if r.reason then b[#b + 1] = "reason: " .. r.reason end
  if r.remediation then b[#b + 1] = "remediation: " .. r.remediation end
  return xml(table.concat(b, "\n"))
end

-- junit(d) -> JUnit XML text
function M.junit(d)
  local failures, skipped = 0, 0
  for _, r in ipairs(d.results) do
    if r.status == "failed" and r.severity ~= "warning" then failures = failures + 1 end
    if r.status == "skipped" then skipped = skipped + 1 end
  end
  local n = #d.results
  local m = d.metadata or {}
  local ts = m.timestamp and string.format(' timestamp="%s"', xml((m.timestamp:gsub("Z$", "")))) or ""
  local b = {
    '<?xml version="1.0" encoding="UTF-8"?>',
    string.format('<testsuites name="eidos validate" tests="%d" failures="%d" errors="0" skipped="%d">',
      n, failures, skipped),
    string.format('  <testsuite name="eidos validate" tests="%d" failures="%d" errors="0" skipped="%d"%s>',
      n, failures, skipped, ts),
    "    <properties>",
  }
  for _, k in ipairs({ "version", "recipe", "snapshot", "strict" }) do
    if m[k] ~= nil then
      b[#b + 1] = string.format('      <property name="%s" value="%s"/>', k, xml(tostring(m[k])))
    end
  end
  b[#b + 1] = string.format('      <property name="status" value="%s"/>', xml(d.status))
  b[#b + 1] = "    </properties>"
  for _, r in ipairs(d.results) do
    local classname = "eidos.validate." .. (tostring(r.name):match("^([^.]+)") or "constraint")
    local open = string.format('    <testcase classname="%s" name="%s"', xml(classname),
      xml(tostring(r.name) .. " " .. tostring(r.expression)))
    if r.status == "passed" then
      b[#b + 1] = open .. "/>"
    elseif r.status == "skipped" then
      b[#b + 1] = open .. ">"
      b[#b + 1] = string.format('      <skipped message="%s"/>', xml(r.reason))
      b[#b + 1] = "    </testcase>"
    elseif r.severity == "warning" then
      b[#b + 1] = open .. ">"
      b[#b + 1] = "      <system-err>warning: " .. details(r) .. "</system-err>"
      b[#b + 1] = "    </testcase>"
    else
      b[#b + 1] = open .. ">"
      b[#b + 1] = string.format('      <failure message="%s" type="failed">%s</failure>', xml(r.reason), details(r))
      b[#b + 1] = "    </testcase>"
    end
  end
  b[#b + 1] = "  </testsuite>"
  b[#b + 1] = "</testsuites>"
  return table.concat(b, "\n") .. "\n"
end

return M
