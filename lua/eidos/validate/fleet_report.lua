-- eidos.validate.fleet_report: the text formats of a FleetValidationResult
-- (eidos.validate.fleet), beside the single result's (eidos.validate.report):
--   table  the nodes that did not pass, the failing constraints with their
--          nodes, the outliers, and a summary line (eidos.columns: fitted
--          to the width)
--   junit  one <testsuite> per node (eidos.validate.report's readiness
--          cases and junit_suites), and one "outliers" suite of warnings
--   ctrf   eidos.validate.ctrf's tests of each node, suite [node, phase];
--          failing and outliers under results.extra
local doc = require("eidos.doc")
local report = require("eidos.validate.report")
local view = require("eidos.diff.view")

local M = {}

local plural = require("eidos.text").count


local function value(v) return v == doc.null and "(missing)" or view.cut(view.one(v)) end

-- table(r, color) -> text
function M.table(r, color)
  local out = {}
  local rows = { { "NODE", "STATUS", "FAILED", "SKIPPED", "FIRST PROBLEM" } }
  for _, e in ipairs(r.nodes) do
    local res = e.result
    if res.status ~= "pass" then
      local first
      for _, x in ipairs(res.results) do
        if x.status ~= "passed" and not first then first = x.name .. ": " .. (x.reason or x.status) end
      end
      rows[#rows + 1] = { e.node, res.status, tostring(res.summary.failed), tostring(res.summary.skipped),
                          first or "" }
    end
  end
  local columns = require("eidos.columns")
  if #rows > 1 then out[#out + 1] = columns.render(rows, { wrap = { [5] = true } }) end
  if #r.failing > 0 then
    rows = { { "FAILING CONSTRAINT", "EXPRESSION", "NODES" } }
    for _, f in ipairs(r.failing) do
      local shown = {}
      for i = 1, math.min(5, #f.nodes) do shown[i] = f.nodes[i] end
      local more = #f.nodes > 5 and string.format(" and %d more", #f.nodes - 5) or ""
      rows[#rows + 1] = { f.constraint, f.expression,
                          string.format("%d: %s%s", #f.nodes, table.concat(shown, ", "), more) }
    end
    out[#out + 1] = columns.render(rows, { wrap = { [3] = true }, middle = { true } })
  end
  if #r.outliers > 0 then
    rows = { { "OUTLIER PATH", "MAJORITY", "NODE", "VALUE" } }
    for _, o in ipairs(r.outliers) do
      for i, n in ipairs(o.nodes) do
        local major = string.format("%s (%d of %d)", value(o.majority), o.count, r.summary.nodes)
        rows[#rows + 1] = { i == 1 and o.path or "", i == 1 and major or "", n.node, value(n.value) }
      end
    end
    out[#out + 1] = columns.render(rows, { middle = { true } })
  end
  local s = r.summary
  out[#out + 1] = require("eidos.columns").text(string.format("%s, %s each: %d passed, %d partial, %d failed%s; %s -> %s",
    plural(s.nodes, "node"), plural(s.constraints, "constraint"), s.passed, s.partial, s.failed,
    s.error > 0 and string.format(", %d error", s.error) or "", plural(#r.outliers, "outlier path"),
    report.paint(r.status, color)))
  return table.concat(out, "\n")
end

-- junit(r) -> JUnit XML text: a <testsuite> per node (its readiness cases
-- as the single report writes them), and one "outliers" suite whose cases
-- are warnings naming the nodes that differ
function M.junit(r)
  local suites = {}
  for _, e in ipairs(r.nodes) do
    local res = e.result
    suites[#suites + 1] = { name = e.node, cases = report.readiness_cases(res),
      properties = { { "snapshot", tostring(res.metadata.snapshot) }, { "status", res.status } } }
  end
  local cases = {}
  for _, o in ipairs(r.outliers) do
    local lines = { string.format("majority %s (%d of %d nodes)", value(o.majority), o.count, r.summary.nodes) }
    for _, n in ipairs(o.nodes) do lines[#lines + 1] = n.node .. ": " .. value(n.value) end
    cases[#cases + 1] = { classname = "eidos.validate.outlier", name = o.path, status = "warning",
                          message = lines[1], details = lines }
  end
  suites[#suites + 1] = { name = "outliers", cases = cases }
  return report.junit_suites(suites, "eidos validate (fleet)", r.metadata.timestamp)
end

-- ctrf(r) -> CTRF JSON text: each node's tests as the single report has
-- them, their suite [node, phase]; failing and outliers under
-- results.extra; times pinned by SOURCE_DATE_EPOCH, else now
function M.ctrf(r)
  local ctrf = require("eidos.validate.ctrf")
  local tests = doc.list({})
  for _, e in ipairs(r.nodes) do
    for _, t in ipairs(ctrf.tests(e.result, { suite_prefix = { e.node } })) do tests[#tests + 1] = t end
  end
  local e = os.getenv("SOURCE_DATE_EPOCH")
  local t = e and e ~= "" and math.tointeger(tonumber(e)) or os.time()
  local m = r.metadata
  return doc.encode(doc.ordered({
    reportFormat = "CTRF", specVersion = ctrf.SPEC_VERSION, generatedBy = "eidos",
    timestamp = os.date("!%Y-%m-%dT%H:%M:%SZ", t),
    results = doc.ordered({
      tool = doc.ordered({ name = "eidos", version = tostring(m.version) }, { "name", "version" }),
      summary = ctrf.summary(tests, t * 1000, t * 1000, #r.nodes),
      tests = tests,
      extra = doc.ordered({ kind = r.kind, status = r.status, recipe = m.recipe, failing = r.failing,
                            outliers = r.outliers }, { "kind", "status", "recipe", "failing", "outliers" }),
    }, ctrf.RESULTS_ORDER),
  }, ctrf.ORDER), "json")
end

return M
