-- eidos.validate.report: the text renderings of a ValidationResult: an
-- aligned table for people (eidos.columns: fitted to the width; status
-- words coloured when asked) and JUnit XML
-- for CI systems (one testsuite per phase, one testcase per constraint or
-- check, <failure>, <error> and <skipped> carrying the reasons; everything
-- XML-escaped, control characters and invalid UTF-8 replaced so the file
-- always parses). The CTRF JSON report is eidos.validate.ctrf. The writers
-- read only the document (eidos.validate.result's shape), so a result read
-- back from a file, or several (fleet validation), render the same way:
-- junit_suites(suites) takes any list of {name=, checks=, properties=}.
local M = {}

local COLORS = { passed = "32", failed = "31", skipped = "33", error = "35", pass = "32", fail = "31",
                 partial = "33" }

local function paint(word, on)
  if not on or not COLORS[word] then return word end
  return "\27[" .. COLORS[word] .. "m" .. word .. "\27[0m"
end
M.paint = paint

local function oneline(s)
  return (tostring(s or ""):gsub("[\r\n\t]+", " "))
end

-- render(rows, color, opts) -> rows fitted to the width (eidos.columns),
-- the status words of the first column painted
local function render(rows, color, opts)
  opts.paint = function(text, row, col)
    if row == 1 or col ~= 1 then return text end
    return paint(text, color)
  end
  return require("eidos.columns").render(rows, opts)
end

-- the readiness table: one row per constraint (as before phases)
local function readiness_table(d, color)
  local rows = { { "STATUS", "CONSTRAINT", "EXPRESSION", "ACTUAL", "REASON" } }
  for _, r in ipairs(d.results) do
    local warning = r.severity == "warning" and r.status == "failed"
    rows[#rows + 1] = { r.status, oneline(r.name), oneline(r.expression), r.actual and oneline(r.actual) or "-",
                        (warning and "warning: " or "") .. oneline(r.reason) }
  end
  local s = d.summary
  return render(rows, color, { wrap = { [5] = true }, middle = { [2] = true }, min = { 7, 40 } }) ..
    string.format("\n%d constraint%s: %d passed, %d failed%s, %d skipped -> %s\n",
      s.total, s.total == 1 and "" or "s", s.passed, s.failed,
      s.warnings > 0 and string.format(" (%d warning%s)", s.warnings, s.warnings == 1 and "" or "s") or "",
      s.skipped, paint(d.status, color))
end

-- detail(c) -> what a person needs of a check in one column: what was
-- found for a passed check, else the reason with expected and actual
local function detail(c)
  if c.status == "passed" then return oneline(c.actual or c.expected or c.reason or "") end
  local parts = {}
  if c.reason then parts[#parts + 1] = oneline(c.reason) end
  if c.expected then parts[#parts + 1] = "expected " .. oneline(c.expected) end
  if c.actual then parts[#parts + 1] = "actual " .. oneline(c.actual) end
  return table.concat(parts, "; ")
end

-- the other phases: one row per check, then a line per phase. Fitted to
-- the width, expected, actual and reason share one wrapped DETAIL column;
-- --wide gives each its own
local function phases_table(d, color)
  local wide = require("eidos.term").wide()
  local rows = { wide and { "STATUS", "PHASE", "CHECK", "COMPONENT", "EXPECTED", "ACTUAL", "REASON" }
                      or { "STATUS", "PHASE", "CHECK", "COMPONENT", "DETAIL" } }
  for _, p in ipairs(d.phases) do
    -- readiness has its own table when its constraints were compared; its
    -- checks (e.g. the snapshot that could not be taken) are rows otherwise
    if p.name ~= "readiness" or not d.results then
      for _, c in ipairs(p.checks) do
        local row = { c.status, p.name, oneline(c.name), c.component and oneline(c.component) or "-" }
        if wide then
          row[5], row[6], row[7] = c.expected and oneline(c.expected) or "-", c.actual and oneline(c.actual) or "-",
            oneline(c.reason)
        else
          row[5] = detail(c)
        end
        rows[#rows + 1] = row
      end
    end
  end
  local out = { render(rows, color, { wrap = { [5] = true }, min = { 7, 11, 24, 24, 40 } }) }
  out[#out + 1] = ""
  for _, p in ipairs(d.phases) do
    local n = { passed = 0, failed = 0, skipped = 0, error = 0 }
    for _, c in ipairs(p.checks) do n[c.status] = (n[c.status] or 0) + 1 end
    out[#out + 1] = string.format("%-12s %d checks: %d passed, %d failed, %d skipped, %d error -> %s", p.name .. ":",
      #p.checks, n.passed, n.failed, n.skipped, n.error, paint(p.status, color))
  end
  out[#out + 1] = "status: " .. paint(d.status, color)
  return table.concat(out, "\n") .. "\n"
end

-- table(d, color) -> text: the readiness table when only readiness ran
-- and compared its constraints (as before phases); else the readiness
-- table (when it compared) and one row per check of the phases, then a
-- line per phase. A result with errors only (no snapshot could be taken,
-- the API unreachable) has checks and no constraint results.
function M.table(d, color)
  local only = type(d.phases) ~= "table" or (#d.phases == 1 and d.phases[1].name == "readiness" and d.results)
  if only then return readiness_table(d, color) end
  local parts = {}
  if d.results then parts[#parts + 1] = readiness_table(d, color) end
  parts[#parts + 1] = phases_table(d, color)
  return table.concat(parts, "\n")
end

-- xml(s): escape text for an attribute or element body
local function xml(s)
  s = tostring(s or "")
  if not utf8.len(s) then s = s:gsub("[\128-\255]", "?") end
  s = s:gsub("[%z\1-\8\11\12\14-\31\127]", "?")
  return (s:gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;" }))
end
M.xml = xml

local function details(lines)
  return xml(table.concat(lines, "\n"))
end

-- testcases of the readiness constraints (results of the document)
local function readiness_cases(d)
  local cases = {}
  for _, r in ipairs(d.results or {}) do
    local b = { "constraint: " .. tostring(r.name), "expression: " .. tostring(r.expression) }
    if r.actual then b[#b + 1] = "actual: " .. r.actual end
    if r.reason then b[#b + 1] = "reason: " .. r.reason end
    if r.remediation then b[#b + 1] = "remediation: " .. r.remediation end
    local st = r.status
    if st == "failed" and r.severity == "warning" then st = "warning" end
    cases[#cases + 1] = { classname = "eidos.validate." .. (tostring(r.name):match("^([^.]+)") or "constraint"),
      name = tostring(r.name) .. " " .. tostring(r.expression), status = st, message = r.reason, details = b }
  end
  return cases
end

M.readiness_cases = readiness_cases -- (fleet validation: a suite per node)

-- testcases of one phase's checks
function M.check_cases(phase, checks, prefix)
  local cases = {}
  for _, c in ipairs(checks) do
    local b = { "check: " .. tostring(c.name) }
    if c.component then b[#b + 1] = "component: " .. c.component end
    if c.expected then b[#b + 1] = "expected: " .. c.expected end
    if c.actual then b[#b + 1] = "actual: " .. c.actual end
    if c.reason then b[#b + 1] = "reason: " .. c.reason end
    for _, e in ipairs(c.evidence or {}) do
      b[#b + 1] = string.format("evidence: %s %s %s%s", tostring(e.apiVersion), tostring(e.kind),
        e.namespace and (e.namespace .. "/") or "", tostring(e.name))
    end
    if c.remediation then b[#b + 1] = "remediation: " .. c.remediation end
    cases[#cases + 1] = { classname = (prefix or "eidos.validate.") .. phase,
      name = tostring(c.name) .. (c.component and (" " .. c.component) or ""), status = c.status,
      message = c.reason, details = b }
  end
  return cases
end

-- junit_suites(suites) -> JUnit XML text. suites: list of {name=,
-- cases = {{classname=, name=, status= passed|failed|error|skipped|warning,
-- message=, details = {lines}}}, properties = {{name, value}}}
function M.junit_suites(suites, title, timestamp)
  local total = { tests = 0, failures = 0, errors = 0, skipped = 0 }
  local counted = {}
  for i, s in ipairs(suites) do
    local n = { tests = #s.cases, failures = 0, errors = 0, skipped = 0 }
    for _, c in ipairs(s.cases) do
      if c.status == "failed" then n.failures = n.failures + 1 end
      if c.status == "error" then n.errors = n.errors + 1 end
      if c.status == "skipped" then n.skipped = n.skipped + 1 end
    end
    for k, v in pairs(n) do total[k] = total[k] + v end
    counted[i] = n
  end
  local ts = timestamp and string.format(' timestamp="%s"', xml((timestamp:gsub("Z$", "")))) or ""
  local b = { '<?xml version="1.0" encoding="UTF-8"?>',
    string.format('<testsuites name="%s" tests="%d" failures="%d" errors="%d" skipped="%d">', xml(title),
      total.tests, total.failures, total.errors, total.skipped) }
  for i, s in ipairs(suites) do
    local n = counted[i]
    b[#b + 1] = string.format('  <testsuite name="%s" tests="%d" failures="%d" errors="%d" skipped="%d"%s>',
      xml(s.name), n.tests, n.failures, n.errors, n.skipped, ts)
    if s.properties and #s.properties > 0 then
      b[#b + 1] = "    <properties>"
      for _, p in ipairs(s.properties) do
        b[#b + 1] = string.format('      <property name="%s" value="%s"/>', xml(p[1]), xml(p[2]))
      end
      b[#b + 1] = "    </properties>"
    end
    for _, c in ipairs(s.cases) do
      local open = string.format('    <testcase classname="%s" name="%s"', xml(c.classname), xml(c.name))
      if c.status == "passed" then
        b[#b + 1] = open .. "/>"
      else
        b[#b + 1] = open .. ">"
        if c.status == "skipped" then
          b[#b + 1] = string.format('      <skipped message="%s"/>', xml(c.message))
        elseif c.status == "warning" then
          b[#b + 1] = "      <system-err>warning: " .. details(c.details) .. "</system-err>"
        elseif c.status == "error" then
          b[#b + 1] = string.format('      <error message="%s" type="error">%s</error>', xml(c.message), details(c.details))
        else
          b[#b + 1] = string.format('      <failure message="%s" type="failed">%s</failure>', xml(c.message),
            details(c.details))
        end
        b[#b + 1] = "    </testcase>"
      end
    end
    b[#b + 1] = "  </testsuite>"
  end
  b[#b + 1] = "</testsuites>"
  return table.concat(b, "\n") .. "\n"
end

-- junit(d) -> JUnit XML text: one testsuite per phase that ran
function M.junit(d)
  local m = d.metadata or {}
  local props = {}
  for _, k in ipairs({ "version", "recipe", "snapshot", "bundle", "deployer", "strict" }) do
    if m[k] ~= nil then props[#props + 1] = { k, tostring(m[k]) } end
  end
  props[#props + 1] = { "status", d.status }
  local suites = {}
  local phases = type(d.phases) == "table" and d.phases or { { name = "readiness" } }
  for _, p in ipairs(phases) do
    local cases = p.name == "readiness" and d.results and readiness_cases(d) or M.check_cases(p.name, p.checks or {})
    local name = #phases == 1 and p.name == "readiness" and "eidos validate" or ("eidos validate " .. p.name)
    suites[#suites + 1] = { name = name, cases = cases, properties = props }
  end
  return M.junit_suites(suites, "eidos validate", m.timestamp)
end

return M
