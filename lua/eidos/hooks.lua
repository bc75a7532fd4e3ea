-- eidos.hooks: operator-written Lua hooks. Every *.lua file of each --hooks
-- directory (repeatable; also EIDOS_HOOKS, colon-separated) is loaded into
-- its own sandbox (eidos.core.sandbox: own Lua state, allowlisted globals,
-- time and memory limits that hold). A hook file returns a table naming
-- the hook points it implements:
--   criteria(c) -> c            normalise or add criteria values
--   select(candidates, c) -> candidates   filter or reorder overlays (names)
--   recipe(r) -> r              transform the RecipeResult
--   operators = {name = {eval = function(actual, operand) -> bool[, reason]}}
--   snapshot(s) -> measurements extra derived measurements
--   bundle(files, recipe) -> files        add or change bundle files
--   template_helpers = {name = function(...) ...}
-- Callers just call apply(point, value, ...) (or collect, operators,
-- template_helpers): with no hook at that point they get the value back
-- untouched, at the cost of a table lookup. Hooks run in a deterministic
-- order (directory order, then file name); results are checked. A hook
-- that fails stops the command naming its file (and line where known):
-- exit 5 over its time limit, 8 over its memory limit or on an error, 2 for
-- a bad result; with --hooks-lenient it is logged and skipped instead.
-- The limits of hooks live here, and only here (LIMITS). Running hooks is
-- eidos.hooks.run's, loaded only once a hook point is reached with hooks
-- configured: a command without hooks pays a check of the configuration.
local errors = require("eidos.errors")

local M = {}

M.POINTS = { "criteria", "select", "recipe", "operators", "snapshot", "bundle", "template_helpers" }

-- the limits of every hook (and of operators.d files), with their flags:
-- time_ms in milliseconds, memory in bytes; kind: how the flag's value is
-- written (eidos.units)
M.LIMITS = {
  { key = "time_ms", default = 100, flag = "hook-timeout", kind = "duration" },
  { key = "memory", default = 32 * 1024 * 1024, flag = "hook-memory", kind = "size" },
}
local DEFAULT = {}
for _, l in ipairs(M.LIMITS) do DEFAULT[l.key] = l.default end
local MIN_MEMORY = 64 * 1024 -- a hook's state needs ~30 KiB to start

-- default_text(flag) -> the default of a limit's flag as written on the
-- command line ("100ms", "32Mi"), for --help: the flag model's
-- default_text of --hook-timeout and --hook-memory
function M.default_text(flag)
  local units = require("eidos.units")
  for _, l in ipairs(M.LIMITS) do
    if l.flag == flag then
      return l.kind == "size" and units.format_size(l.default) or units.format_duration(l.default)
    end
  end
  error("no hook limit has the flag --" .. tostring(flag))
end

local config = { dirs = {}, lenient = false, time_ms = DEFAULT.time_ms, memory = DEFAULT.memory }

-- configure{dirs=, lenient=, time_ms=, memory=bytes}
function M.configure(c)
  config.dirs = {}
  for _, d in ipairs(c.dirs or {}) do config.dirs[#config.dirs + 1] = d end
  local env = os.getenv("EIDOS_HOOKS")
  if env and env ~= "" and #config.dirs == 0 then
    for d in env:gmatch("[^:]+") do config.dirs[#config.dirs + 1] = d end
  end
  config.lenient = c.lenient or false
  config.time_ms = c.time_ms or DEFAULT.time_ms
  config.memory = c.memory or DEFAULT.memory
  config.loaded = nil -- the hooks, once read (list of {file=, box=, points={}})
end

-- from_flags(opts): the global flags --hooks, --hooks-lenient,
-- --hook-timeout (a duration in ms) and --hook-memory (a size in bytes), as
-- the flag model parsed them
function M.from_flags(opts)
  local c = { dirs = opts.hooks, lenient = opts["hooks-lenient"] }
  local t, m = opts["hook-timeout"], opts["hook-memory"]
  if t ~= nil then c.time_ms = math.max(1, math.ceil(t)) end
  if m ~= nil then
    if m < MIN_MEMORY then
      errors.raise("invalid", string.format("--hook-memory of %d bytes is too small for a hook (accepted: at least %s)",
        m, require("eidos.units").format_size(MIN_MEMORY)))
    end
    c.memory = math.floor(m)
  end
  M.configure(c)
end

-- limits() -> {time_ms=, memory=bytes} in force
function M.limits()
  return { time_ms = config.time_ms, memory = config.memory }
end

function M.active() return #config.dirs > 0 end

local function run() return require("eidos.hooks.run") end

-- sandbox(text, name) -> box | nil, msg, code, reason: a sandbox under the
-- limits in force whose print goes to the logger (info), long lines cut
function M.sandbox(text, name) return run().sandbox(config, text, name) end

-- load(): load every hook file now (eidosd does it at start, so that a
-- broken hook stops the server rather than failing requests)
function M.load()
  if #config.dirs == 0 then
    config.loaded = config.loaded or {}
    return config.loaded
  end
  return run().load(config)
end

-- the hooks that implement point, in order
function M.with(point)
  if #config.dirs == 0 then return {} end
  return run().with(config, point)
end

-- has(point) -> does any hook implement point?
function M.has(point) return #M.with(point) > 0 end

-- apply(point, value, ...) -> value after every hook of that point, each
-- hook given the previous one's result (criteria, select, recipe, bundle);
-- the very value given when no hook implements the point
function M.apply(point, value, ...)
  if #config.dirs == 0 then return value end
  return run().apply(config, point, value, ...)
end

-- collect(point, value, ...) -> list of every hook's checked result, each
-- hook given the same value (points that add rather than transform:
-- snapshot(s) -> extra measurements); {} without hooks
function M.collect(point, value, ...)
  if #config.dirs == 0 then return {} end
  return run().collect(config, point, value, ...)
end

-- operators from hooks: name -> {hook=file, eval=function(actual, operand) -> ok, reason}
function M.operators()
  if #config.dirs == 0 then return {} end
  return run().operators(config)
end

-- template helpers from hooks: name -> function(...) -> value; {} without hooks
function M.template_helpers()
  if #config.dirs == 0 then return {} end
  return run().template_helpers(config)
end

return M
