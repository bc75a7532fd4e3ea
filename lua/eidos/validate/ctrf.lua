-- eidos.validate.ctrf: a ValidationResult as a Common Test Report Format
-- (CTRF, https://ctrf.io) JSON report, the format upstream's validate
-- emits: reportFormat "CTRF", specVersion, generatedBy, timestamp, and
-- results {tool {name, version}, summary {tests, passed, failed, skipped,
-- pending, other, start, stop}, tests [{name, status, duration, suite,
-- message, ...}]}. One test per readiness constraint and per check; the
-- check status "error" (could not run) is CTRF's "other" (rawStatus keeps
-- "error"); the suite is [phase] (fleet validation adds the cluster in
-- front: tests(d, {suite_prefix = {"cluster-a"}})).
--
-- Times: start/stop (ms since the epoch) and durations (ms) come from the
-- run's timing when given; with SOURCE_DATE_EPOCH set they are that time
-- and 0, so the report is byte-identical across runs like every output.
local doc = require("eidos.doc")

local M = {}

M.SPEC_VERSION = "0.0.0"
M.ORDER = { "reportFormat", "specVersion", "generatedBy", "timestamp", "results" }
M.RESULTS_ORDER = { "tool", "summary", "tests", "environment", "extra" }
M.SUMMARY_ORDER = { "tests", "passed", "failed", "skipped", "pending", "other", "suites", "start", "stop" }
M.TEST_ORDER = { "name", "status", "duration", "suite", "message", "rawStatus", "type", "tags", "extra" }

local STATUS = { passed = "passed", failed = "failed", skipped = "skipped", error = "other" }

local function pinned()
  local e = os.getenv("SOURCE_DATE_EPOCH")
  return e and e ~= "" and math.tointeger(tonumber(e)) or nil
end

-- tests(d, opts) -> list of CTRF tests. opts: {durations = {[phase
-- index] = {[check index] = ms}}, suite_prefix = {names}}
function M.tests(d, opts)
  opts = opts or {}
  local out = doc.list({})
  local phases = type(d.phases) == "table" and d.phases or {}
  for pi, p in ipairs(phases) do
    for ci, c in ipairs(p.checks or {}) do
      local suite = doc.list({})
      for _, s in ipairs(opts.suite_prefix or {}) do suite[#suite + 1] = s end
      suite[#suite + 1] = p.name
      local ms = pinned() and 0 or (opts.durations and opts.durations[pi] and opts.durations[pi][ci]) or 0
      local msg
      if c.status ~= "passed" then
        local parts = {}
        if c.reason then parts[#parts + 1] = c.reason end
        if c.expected or c.actual then
          parts[#parts + 1] = string.format("(expected %s, actual %s)", c.expected or "-", c.actual or "-")
        end
        if c.remediation then parts[#parts + 1] = "remediation: " .. c.remediation end
        msg = #parts > 0 and table.concat(parts, " ") or nil
      end
      local extra
      if c.component or c.evidence or c.expected then
        extra = doc.ordered({ component = c.component, expected = c.expected, actual = c.actual,
                              evidence = c.evidence }, { "component", "expected", "actual", "evidence" })
      end
      out[#out + 1] = doc.ordered({
        name = c.component and (c.name .. " " .. c.component) or c.name,
        status = STATUS[c.status] or "other", duration = math.floor(ms), suite = suite, message = msg,
        rawStatus = c.status == "error" and "error" or nil, type = "validation",
        extra = extra,
      }, M.TEST_ORDER)
    end
  end
  return out
end

-- summary(tests, start_ms, stop_ms, suites) -> the CTRF summary
function M.summary(tests, start, stop, suites)
  local s = { tests = #tests, passed = 0, failed = 0, skipped = 0, pending = 0, other = 0, suites = suites,
              start = start, stop = stop }
  for _, t in ipairs(tests) do s[t.status] = s[t.status] + 1 end
  return doc.ordered(s, M.SUMMARY_ORDER)
end

-- report(d, opts) -> CTRF JSON text. opts: {start= s, stop= s (the run's
-- wall clock, seconds since the epoch), durations=}
function M.report(d, opts)
  opts = opts or {}
  local tests = M.tests(d, opts)
  local p = pinned()
  local start = p or opts.start or os.time()
  local stop = p or opts.stop or start
  local m = d.metadata or {}
  local r = doc.ordered({
    reportFormat = "CTRF", specVersion = M.SPEC_VERSION, generatedBy = "eidos",
    timestamp = os.date("!%Y-%m-%dT%H:%M:%SZ", start),
    results = doc.ordered({
      tool = doc.ordered({ name = "eidos", version = tostring(m.version or require("eidos.core.build").version) },
        { "name", "version" }),
      summary = M.summary(tests, start * 1000, stop * 1000, type(d.phases) == "table" and #d.phases or 0),
      tests = tests,
      extra = doc.ordered({ status = d.status, recipe = m.recipe, snapshot = m.snapshot, bundle = m.bundle,
                            deployer = m.deployer }, { "status", "recipe", "snapshot", "bundle", "deployer" }),
    }, M.RESULTS_ORDER),
  }, M.ORDER)
  return doc.encode(r, "json")
end

return M
