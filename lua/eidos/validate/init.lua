-- eidos.validate: checks a list of constraints against a snapshot model and
-- builds the ValidationResult document (the CLI command, and any API route,
-- only load inputs and write the result). Policy decided here:
--   * every constraint is checked for a well-formed path and expression
--     first; any malformed one is an "invalid" error (exit 2) naming all;
--   * results keep input order; a path the snapshot lacks is "skipped" with
--     the reason and the nearest paths, never dropped;
--   * strict turns each skip into a failure (reason prefixed "strict: ");
--   * a failure of a severity "warning" constraint is reported but does not
--     make the overall status "fail" (it makes it "partial");
--   * status: fail (a failure that is not a warning), partial (a skip or a
--     warning), pass (everything passed, or nothing to check).
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local constraint = require("eidos.constraint")

local M = {}

M.KIND = "ValidationResult"
M.API_VERSION = "eidos.nvidia.com/v1alpha1"

local DOC_ORDER = { "kind", "apiVersion", "metadata", "status", "summary", "results" }
local META_ORDER = { "version", "timestamp", "recipe", "snapshot", "strict" }
local SUMMARY_ORDER = { "passed", "failed", "skipped", "warnings", "total" }
local RESULT_ORDER = { "name", "expression", "status", "actual", "reason", "severity", "remediation", "nearest" }

local SEVERITIES = { error = true, warning = true }

-- timestamp() -> RFC 3339 UTC from SOURCE_DATE_EPOCH (eidos.units), or nil (omitted)
function M.timestamp()
  return require("eidos.units").env("SOURCE_DATE_EPOCH", "timestamp")
end

-- check_all(list): raise one "invalid" error naming every malformed constraint
function M.check_all(list)
  local bad = {}
  for i, c in ipairs(list) do
    local ok, err = pcall(function()
      if type(c) ~= "table" or doc.islist(c) then
        errors.raise("invalid", string.format("constraint %d is %s, not a map {name, value}", i, errors.show(c)))
      end
      if c.severity ~= nil and not SEVERITIES[c.severity] then
        errors.raise("invalid", string.format("constraint %s: severity %s is not accepted (accepted: error, warning)",
          errors.show(c.name), errors.show(c.severity)))
      end
      constraint.check(c)
    end)
    if not ok then
      if not errors.is(err) then error(err, 0) end
      bad[#bad + 1] = (type(c) == "table" and c.origin and (c.origin .. ": ") or "") .. err.msg
    end
    if i > 0 and #bad >= 20 then break end
  end
  if #bad == 1 then errors.raise("invalid", bad[1]) end
  if #bad > 1 then
    errors.raise("invalid", string.format("%d malformed constraints:\n  %s", #bad, table.concat(bad, "\n  ")))
  end
end

-- recipe_constraints(d, where) -> the constraints of the RecipeResult d
-- ({name, value, severity, remediation, origin}), checked: every entry that
-- is not {name, value} with a string expression is named in one "invalid"
-- error; a value YAML read as a number is compared as written, with a
-- warning when it was a float (1.30 read as 1.3). where names d in messages.
function M.recipe_constraints(d, where)
  local list = d.constraints
  if list == nil or list == doc.null then return {} end
  if type(list) ~= "table" or (next(list) ~= nil and #list == 0) then
    errors.raise("invalid", where .. ": constraints must be a list of {name, value}")
  end
  local out = {}
  local bad = errors.problems()
  for i, c in ipairs(list) do
    local path = string.format("constraints[%d]", i - 1)
    local at = where .. ": " .. path
    local v = type(c) == "table" and c.value
    if type(c) ~= "table" or type(c.name) ~= "string" or c.name == "" then
      bad:add(path, at .. ": expected {name, value} with name a snapshot path such as K8s.server.version")
    elseif type(v) == "number" then
      -- YAML read an unquoted value as a number: 1.30 is now 1.3
      local s = require("eidos.snapshot.model").scalar(v)
      if math.type(v) == "float" then
        require("eidos.log").warn(string.format(
          "%s (%s): value %s is a YAML number, compared as %q; quote it to keep it as written", at, c.name, s, s))
      end
      v = s
    elseif type(v) == "boolean" then
      v = v and "true" or "false"
    elseif type(v) ~= "string" then
      bad:add(path, string.format("%s (%s): value must be a string expression such as \">= 1.32\"", at, c.name))
    end
    if bad:count() == 0 then
      local sev = c.severity
      if sev == doc.null or sev == "" then sev = nil end
      out[#out + 1] = { name = c.name, value = v, severity = sev, remediation = c.remediation, origin = at }
    end
  end
  bad:raise("invalid")
  return out
end

-- run(list, m, opts) -> ValidationResult document.
-- list: constraints {name, value, severity?, remediation?}; m: snapshot model;
-- opts: {strict=, recipe= source, snapshot= source, version=}
function M.run(list, m, opts)
  opts = opts or {}
  M.check_all(list)
  local results = {}
  local sum = { passed = 0, failed = 0, skipped = 0, warnings = 0, total = #list }
  local blocking = 0
  for i, c in ipairs(list) do
    local r = constraint.evaluate(c, m)
    if r.status == "skipped" and opts.strict then
      r.status = "failed"
      r.reason = "strict: " .. r.reason
    end
    sum[r.status] = sum[r.status] + 1
    if r.status == "failed" then
      if r.severity == "warning" then sum.warnings = sum.warnings + 1 else blocking = blocking + 1 end
    end
    if r.nearest then r.nearest = doc.list(r.nearest) end
    if r.status == "passed" then r.remediation = nil end
    results[i] = doc.ordered(r, RESULT_ORDER)
  end
  local status = "pass"
  if blocking > 0 then status = "fail"
  elseif sum.skipped > 0 or sum.warnings > 0 then status = "partial" end
  local meta = doc.ordered({
    version = opts.version or require("eidos.core.build").version,
    timestamp = M.timestamp(),
    recipe = opts.recipe,
    snapshot = opts.snapshot,
    strict = opts.strict or nil,
  }, META_ORDER)
  return doc.ordered({
    kind = M.KIND, apiVersion = M.API_VERSION, metadata = meta, status = status,
    summary = doc.ordered(sum, SUMMARY_ORDER), results = doc.list(results),
  }, DOC_ORDER)
end

-- blocking failures in a result document (what --fail-on-error acts on)
function M.failed(d)
  return d.status == "fail"
end

return M
