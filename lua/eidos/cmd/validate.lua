-- eidos validate: check a recipe's constraints (and ad-hoc --constraint
-- ones) against a snapshot and write a ValidationResult (yaml, json, table
-- or JUnit XML). Exit 0 unless --fail-on-error and the result is "fail"
-- (exit 9, errors.exit.checkfailed); bad input is 2, a missing file 3.
local errors = require("eidos.errors")
local flags = require("eidos.cli.flags")
local docio = require("eidos.docio")
local log = require("eidos.log")
local strx = require("eidos.text")

local function load_doc(loc, what)
  return docio.load(loc, { what = what })
end

-- "PATH EXPRESSION" (or PATH directly followed by an operator) -> constraint
local function adhoc(text)
  local path, rest = text:match("^%s*([^%s<>=!~]+)(.*)$")
  rest = rest and strx.trim(rest)
  if not path or rest == "" then
    errors.raise("invalid", string.format("--constraint %q: expected a path, then an expression, e.g. " ..
      "'K8s.server.version >= 1.32' or 'OS.release.ID ubuntu'", text))
  end
  return { name = path, value = rest, origin = "--constraint" }
end

local function recipe_constraints(loc)
  local d, origin = load_doc(loc, "recipe")
  local where = "recipe " .. tostring(origin)
  require("eidos.recipe.build").check_result(d, where)
  local list = d.constraints
  if list == nil or list == require("eidos.doc").null then return {} end
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
        log.warn(string.format("%s (%s): value %s is a YAML number, compared as %q; quote it to keep it as written",
          at, c.name, s, s))
      end
      v = s
    elseif type(v) == "boolean" then
      v = v and "true" or "false"
    elseif type(v) ~= "string" then
      bad:add(path, string.format("%s (%s): value must be a string expression such as \">= 1.32\"", at, c.name))
    end
    if bad:count() == 0 then
      local sev = c.severity
      if sev == require("eidos.doc").null or sev == "" then sev = nil end
      out[#out + 1] = { name = c.name, value = v, severity = sev, remediation = c.remediation,
                        origin = at }
    end
  end
  bad:raise("invalid")
  return out, origin
end

return {
  name = "validate",
  summary = "Check a recipe's constraints against a snapshot",
  usage = "eidos validate --snapshot S [--recipe R] [--constraint 'PATH EXPR']... [--strict] [--fail-on-error] [-t yaml|json|table|junit] [-o PATH]",
  description = "Evaluate every constraint of a recipe (RecipeResult) and each --constraint against\n" ..
    "the measurements of a snapshot, and write a ValidationResult: per constraint its\n" ..
    "expression, the actual value, passed/failed/skipped and the reason; summary counts;\n" ..
    "an overall status pass, partial (something skipped, or a warning failed) or fail.\n" ..
    "Paths are Type.subtype.key (OS.sysctl./proc/sys/kernel/osrelease); operators:\n" ..
    ">= <= > < == != (versions at the lower precision), ~1.32, in (a, b), not in (a, b),\n" ..
    "ranges '>= 1.30, < 1.34', a bare value for an exact match. See docs/validate.md.\n" ..
    "Exit codes: 0, or 9 with --fail-on-error when the status is fail; 2 invalid input;\n" ..
    "3 a file not found.",
  flags = (function()
    local f = {
      { name = "snapshot", short = "s", arg = "SOURCE", type = "uri", help = "the snapshot: a file, -, http(s):// URL or cm://NAMESPACE/NAME" },
      { name = "recipe", short = "r", arg = "SOURCE", type = "uri", help = "a RecipeResult whose constraints are checked: file, -, URL or cm://" },
      { name = "constraint", short = "c", arg = "'PATH EXPR'", repeatable = true,
        help = "an extra constraint, e.g. 'K8s.server.version >= 1.32'" },
      { name = "strict", help = "count every skipped constraint (path not in the snapshot) as failed" },
      { name = "fail-on-error", help = "exit 9 when the status is fail (with --strict, also for skips)" },
    }
    for _, o in ipairs(flags.output({ "yaml", "json", "table", "junit" })) do f[#f + 1] = o end
    return f
  end)(),
  examples = {
    "eidos validate --recipe recipe.yaml --snapshot snapshot.yaml",
    "eidos validate -s cm://gpu-operator/eidos-snapshot -c 'K8s.server.version >= 1.32' -c 'OS.release.ID in (ubuntu, rhel)'",
    "eidos validate -r recipe.yaml -s snapshot.yaml --strict --fail-on-error -t junit -o validate.xml",
  },
  run = function(ctx)
    local o = ctx.opts
    if not o.snapshot or o.snapshot == "" then
      errors.raise("invalid", "no snapshot given: --snapshot FILE, -, URL or cm://NAMESPACE/NAME is required")
    end
    if not o.recipe and not o.constraint then
      errors.raise("invalid", "nothing to validate: give --recipe RECIPE and/or --constraint 'PATH EXPR'")
    end
    if o.recipe == "-" and o.snapshot == "-" then
      errors.raise("invalid", "--recipe and --snapshot cannot both read stdin (-)")
    end
    local list, recipe_origin = {}, nil
    if o.recipe then list, recipe_origin = recipe_constraints(o.recipe) end
    for _, t in ipairs(o.constraint or {}) do list[#list + 1] = adhoc(t) end
    -- constraints are checked before the snapshot is read: bad input fails fast
    local validate = require("eidos.validate")
    validate.check_all(list)
    local d, snap_origin = load_doc(o.snapshot, "snapshot")
    local m = require("eidos.snapshot.model").from_doc(d, snap_origin)
    local result = validate.run(list, m, { strict = o.strict, recipe = recipe_origin, snapshot = snap_origin })
    if o.format == "junit" then
      docio.write(o.output, require("eidos.validate.report").junit(result))
    else
      docio.emit(result, {
        format = o.format, output = o.output,
        table = function(v)
          local tty = false
          if o.output == nil or o.output == "-" then
            tty = require("eidos.core.sys").isatty(1)
          end
          local nc = os.getenv("NO_COLOR")
          return require("eidos.validate.report").table(v, tty and (nc == nil or nc == ""))
        end,
      })
    end
    local s = result.summary
    if o["fail-on-error"] and validate.failed(result) then
      errors.raise("checkfailed", string.format("validation failed: %d of %d constraint%s failed%s",
        s.failed - s.warnings, s.total, s.total == 1 and "" or "s",
        o.strict and " (--strict counts skipped constraints as failed)" or ""))
    end
    if result.status ~= "pass" then
      log.info(string.format("validation %s: %d passed, %d failed, %d skipped", result.status,
        s.passed, s.failed, s.skipped))
    end
    return 0
  end,
}
