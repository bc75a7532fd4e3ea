-- eidos.bundle.checks: the component checks a registry entry asks for at
-- bundle time, in upstream's registry format:
--   validations:
--     - function: CheckWorkloadSelectorMissing
--       severity: warning            # or error
--       conditions: {intent: [training]}
--       message: "This may cause skyhook to evict running training jobs. ..."
-- A check runs for each bundled component whose entry lists it, when every
-- condition holds (a criterion of the recipe equals one of the listed
-- values; a recipe value of any or none holds too, since such a recipe may
-- be used for any of them). A failing check with severity warning becomes a
-- note (printed by `eidos bundle`, a Warning header of POST /v1/bundle);
-- with severity error the bundle is refused (exit 2, HTTP 400).
local errors = require("eidos.errors")

local M = {}

-- the check functions: fn(sched) -> nil when satisfied, else what is
-- missing. Named as upstream names them, so an upstream registry works.
M.FUNCTIONS = {
  CheckWorkloadSelectorMissing = function(sched)
    if not (sched.workload and sched.workload.selector) then return "--workload-selector is not set" end
  end,
  CheckAcceleratedSelectorMissing = function(sched)
    if not (sched.accelerated and sched.accelerated.selector) then return "--accelerated-node-selector is not set" end
  end,
}

local CRITERIA = { "service", "accelerator", "intent", "os", "platform" }

local function names()
  local out = {}
  for k in pairs(M.FUNCTIONS) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local function holds(conditions, criteria)
  if type(conditions) ~= "table" then return true end
  for _, k in ipairs(CRITERIA) do
    local want = conditions[k]
    if type(want) == "string" then want = { want } end
    if type(want) == "table" and #want > 0 then
      local have = criteria[k]
      if have ~= nil and have ~= "" and have ~= "any" then
        local ok = false
        for _, w in ipairs(want) do if w == have then ok = true end end
        if not ok then return false end
      end
    end
  end
  return true
end

-- run(components, criteria, sched) -> notes (list of strings). components:
-- the bundle model's, each with Name and entry (its registry entry).
-- Raises "invalid" for a failing check of severity error and for a
-- registry entry naming an unknown check or severity.
function M.run(components, criteria, sched)
  local notes = {}
  criteria = type(criteria) == "table" and criteria or {}
  for _, c in ipairs(components) do
    local list = c.entry and c.entry.validations
    for i, v in ipairs(type(list) == "table" and list or {}) do
      local at = string.format("registry: component %s, validations[%d]", c.Name, i - 1)
      local fname = type(v) == "table" and v["function"]
      local fn = M.FUNCTIONS[fname]
      if not fn then
        errors.raise("invalid", string.format("%s: unknown check %q (accepted: %s)", at, tostring(fname),
          table.concat(names(), ", ")))
      end
      local sev = v.severity or "warning"
      if sev ~= "warning" and sev ~= "error" then
        errors.raise("invalid", string.format("%s: unknown severity %q (accepted: warning, error)", at, tostring(sev)))
      end
      local missing = holds(v.conditions, criteria) and fn(sched or {})
      if missing then
        local text = string.format("%s is in the bundle but %s", c.Name, missing)
        if type(v.message) == "string" and v.message ~= "" then text = text .. ". " .. v.message end
        if sev == "error" then errors.raise("invalid", text) end
        notes[#notes + 1] = text
      end
    end
  end
  return notes
end

return M
