-- eidos.validate.result: the shape of a ValidationResult with phases, its
-- statuses and the exit status it gives -- one home for every reader and
-- writer (the CLI, the report writers, fleet validation, the web console).
--
--   kind, apiVersion, metadata {version, timestamp, recipe, snapshot,
--   bundle, deployer, strict}, status, summary + results (the readiness
--   constraints, as before phases; present when readiness ran), phases:
--   [{name, status, checks: [{name, component, status, reason, expected,
--   actual, evidence: [{apiVersion, kind, namespace, name}], remediation}]}]
--
-- Check status: passed, failed, skipped, or error (the check could not run:
-- never passed). Phase status: failed when a check failed (a readiness
-- constraint of severity warning does not count), else error when one
-- could not run, else skipped when none passed, else passed. Overall
-- status: fail, error, partial (something skipped, or a warning failed),
-- pass -- for a readiness-only run exactly what it was before phases.
local doc = require("eidos.doc")

local M = {}

M.KIND = "ValidationResult"
M.API_VERSION = "eidos.nvidia.com/v1alpha1"
M.PHASES = { "readiness", "deployment", "conformance", "performance" }
M.STATUSES = { "passed", "failed", "skipped", "error" }
M.DOC_ORDER = { "kind", "apiVersion", "metadata", "status", "summary", "results", "phases" }
M.META_ORDER = { "version", "timestamp", "recipe", "snapshot", "bundle", "deployer", "strict" }
M.PHASE_ORDER = { "name", "status", "checks" }
M.CHECK_ORDER = { "name", "component", "status", "reason", "expected", "actual", "evidence", "remediation" }
M.EVIDENCE_ORDER = { "apiVersion", "kind", "namespace", "name" }

local is_phase = {}
for _, p in ipairs(M.PHASES) do is_phase[p] = true end
function M.is_phase(p) return is_phase[p] == true end

local function text(v)
  if v == nil or v == doc.null then return nil end
  if type(v) == "number" then return tostring(math.tointeger(v) or v) end
  if type(v) == "table" then return doc.encode(v, "json"):gsub("%s*\n%s*", " ") end
  return tostring(v)
end
M.text = text

-- check(t) -> a check in the document's shape (only its keys, in order)
function M.check(t)
  local ev
  if type(t.evidence) == "table" and #t.evidence > 0 then
    ev = doc.list({})
    for _, e in ipairs(t.evidence) do
      ev[#ev + 1] = doc.ordered({ apiVersion = e.apiVersion, kind = e.kind, namespace = e.namespace,
                                  name = e.name }, M.EVIDENCE_ORDER)
    end
  end
  return doc.ordered({ name = text(t.name), component = text(t.component), status = t.status, reason = text(t.reason),
    expected = text(t.expected), actual = text(t.actual), evidence = ev,
    remediation = t.status ~= "passed" and t.status ~= "skipped" and text(t.remediation) or nil }, M.CHECK_ORDER)
end

-- phase_status(checks) -> passed | failed | error | skipped
function M.phase_status(checks)
  local passed, errored = false, false
  for _, c in ipairs(checks) do
    if c.status == "failed" and not c.warning then return "failed" end
    if c.status == "error" then errored = true end
    if c.status == "passed" or (c.status == "failed" and c.warning) then passed = true end
  end
  if errored then return "error" end
  return passed and "passed" or "skipped"
end

-- counts(d) -> {tests, passed, failed, skipped, error, blocking} over every
-- check of every phase (blocking: failed ones that are not warnings)
function M.counts(d)
  local n = { tests = 0, passed = 0, failed = 0, skipped = 0, error = 0, blocking = 0, warnings = 0 }
  for _, p in ipairs(type(d.phases) == "table" and d.phases or {}) do
    for _, c in ipairs(p.checks or {}) do
      n.tests = n.tests + 1
      n[c.status] = (n[c.status] or 0) + 1
    end
    if p.name == "readiness" and d.summary then
      n.warnings = d.summary.warnings or 0
    end
  end
  n.blocking = n.failed - n.warnings
  return n
end

-- document(phases, readiness, meta) -> the ValidationResult. phases: list
-- of {name, checks = {raw check tables}}; readiness: the readiness
-- ValidationResult of eidos.validate.run (or nil when readiness did not run)
function M.document(phases, readiness, meta)
  local out = doc.list({})
  local blocking, errored, partial = false, false, false
  for _, p in ipairs(phases) do
    local st = M.phase_status(p.checks)
    local checks = doc.list({})
    for i, c in ipairs(p.checks) do
      checks[i] = M.check(c)
      if c.status == "failed" and not c.warning then blocking = true end
      if c.status == "error" then errored = true end
      if c.status == "skipped" or (c.status == "failed" and c.warning) then partial = true end
    end
    out[#out + 1] = doc.ordered({ name = p.name, status = st, checks = checks }, M.PHASE_ORDER)
  end
  local status = blocking and "fail" or errored and "error" or partial and "partial" or "pass"
  local rmeta = readiness and readiness.metadata or {}
  local md = doc.ordered({
    version = rmeta.version or require("eidos.core.build").version,
    timestamp = rmeta.timestamp or require("eidos.validate").timestamp(),
    recipe = meta.recipe or rmeta.recipe,
    snapshot = meta.snapshot or rmeta.snapshot,
    bundle = meta.bundle, deployer = meta.deployer,
    strict = meta.strict or rmeta.strict,
  }, M.META_ORDER)
  return doc.ordered({
    kind = M.KIND, apiVersion = M.API_VERSION, metadata = md, status = status,
    summary = readiness and readiness.summary or nil, results = readiness and readiness.results or nil,
    phases = out,
  }, M.DOC_ORDER)
end

local ERROR_EXIT = { "unauthorized", "unavailable", "timeout", "internal" }

-- exit(d, codes, fail_on_error) -> nil (exit 0), or an errors code name and
-- a message: checkfailed (9) when a check failed and fail_on_error; else,
-- when a check could not run, unauthorized (4, RBAC), unavailable (6, the
-- API unreachable), timeout (5), internal (8, a check crashed) or failure (1)
function M.exit(d, codes, fail_on_error, strict)
  local n = M.counts(d)
  if n.blocking > 0 and fail_on_error then
    local only_readiness = #d.phases == 1 and d.phases[1].name == "readiness" and d.summary
    if only_readiness then
      local s = d.summary
      return "checkfailed", string.format("validation failed: %d of %d constraint%s failed%s",
        s.failed - s.warnings, s.total, s.total == 1 and "" or "s",
        strict and " (--strict counts skipped constraints as failed)" or "")
    end
    local names = {}
    for _, p in ipairs(d.phases) do
      for _, c in ipairs(p.checks) do
        if c.status == "failed" and #names < 5 then
          names[#names + 1] = string.format("%s %s%s", p.name, c.name, c.component and (" (" .. c.component .. ")") or "")
        end
      end
    end
    return "checkfailed", string.format("validation failed: %d of %d check%s failed: %s%s", n.blocking, n.tests,
      n.tests == 1 and "" or "s", table.concat(names, ", "), n.blocking > #names and ", ..." or "")
  end
  if n.error > 0 then
    local code = "failure"
    for _, c in ipairs(ERROR_EXIT) do
      if (codes or {})[c] then code = c; break end
    end
    local first
    for _, p in ipairs(d.phases) do
      for _, c in ipairs(p.checks) do
        if c.status == "error" and not first then first = string.format("%s %s: %s", p.name, c.name, c.reason) end
      end
    end
    return code, string.format("%d check%s could not run (%s)", n.error, n.error == 1 and "" or "s", first)
  end
  return nil
end

return M
