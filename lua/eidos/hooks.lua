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
-- The limits of hooks live here, and only here (LIMITS).
local errors = require("eidos.errors")
local log = require("eidos.log")
local strx = require("eidos.text")

local M = {}

M.POINTS = { "criteria", "select", "recipe", "operators", "snapshot", "bundle", "template_helpers" }
local known = {}
for _, p in ipairs(M.POINTS) do known[p] = true end

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

local MAX_FILE = 4 * 1024 * 1024 -- bytes of one hook file
local MAX_LINE = 4096 -- bytes of a printed line that reach the log (all of it counts against the limit)

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
local loaded = nil -- list of {file=, box=, points={}}

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
  loaded = nil
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

-- sandbox(text, name) -> box | nil, msg, code, reason: a sandbox under the
-- limits in force whose print goes to the logger (info), long lines cut
function M.sandbox(text, name)
  local l = M.limits()
  l.print = function(line)
    if #line > MAX_LINE then line = string.format("%s... (%d bytes)", line:sub(1, MAX_LINE), #line) end
    log.info(string.format("hook %s: %s", name, line))
  end
  return require("eidos.core.sandbox").new(text, name, l)
end

-- the message for HTTP clients: the hook's file name, no server paths
local function public(name, reason, check)
  if reason == "time" then
    return string.format("hook %s exceeded its time limit of %d ms", name, config.time_ms)
  elseif reason == "memory" then
    local mib = config.memory % (1024 * 1024) == 0
    return string.format("hook %s exceeded its memory limit of %d %s", name,
      mib and config.memory // (1024 * 1024) or config.memory, mib and "MiB" or "bytes")
  elseif reason == "result" then
    return string.format("hook %s returned a bad result: %s", name, check)
  end
  return string.format("hook %s failed", name)
end

-- a hook failed; reason: "time", "memory", "error" (from the sandbox),
-- "value" (a result that cannot cross) or "result" (a check of the point)
local function fail(file, reason, msg)
  if config.lenient then
    log.warn(string.format("hook %s skipped: %s", file, msg))
    return
  end
  if reason == "value" then reason = "result" end
  local name = file:match("[^/]*$")
  local detail = { hook = name, public = public(name, reason, msg) }
  if reason == "time" then
    errors.raise("timeout", string.format("hook %s failed: %s (--hook-timeout)", file, msg), detail)
  elseif reason == "memory" then
    errors.raise("internal", string.format("hook %s failed: %s (--hook-memory)", file, msg), detail)
  elseif reason == "result" then
    errors.raise("invalid", string.format("hook %s returned a bad result: %s", file, msg), detail)
  end
  errors.raise("internal", string.format("hook %s failed: %s", file, msg), detail)
end

-- the *.lua files of dir, each a regular file (a FIFO must not be opened:
-- reading it would block)
local function files_of(fs, dir)
  local kind = fs.exists(dir)
  if kind ~= "dir" then
    errors.raise("invalid", string.format("hooks directory %q %s", dir,
      kind and ("is not a directory (it is a " .. kind .. ")") or "does not exist"))
  end
  local out = {}
  local names, lmsg, lcode = fs.list(dir)
  for _, name in ipairs(errors.check(names, lmsg, lcode)) do
    if name:match("%.lua$") then
      local file = strx.rstrip(dir, "/") .. "/" .. name
      require("eidos.docio").check_file(file, "hook file", { scanned = true })
      out[#out + 1] = file
    end
  end
  return out
end

-- load(): load every hook file now (eidosd does it at start, so that a
-- broken hook stops the server rather than failing requests)
function M.load()
  if loaded then return loaded end
  loaded = {}
  if #config.dirs == 0 then return loaded end
  local fs = require("eidos.core.fs")
  for _, dir in ipairs(config.dirs) do
    for _, file in ipairs(files_of(fs, dir)) do
      local src = errors.check(fs.read(file, MAX_FILE))
      local box, msg, _, reason = M.sandbox(src, file)
      if not box then
        fail(file, reason, msg)
      else
        local points = {}
        for _, k in ipairs(box:keys()) do
          if not known[k] then
            fail(file, "result", string.format("unknown hook point %q (accepted: %s)", k, table.concat(M.POINTS, ", ")))
          else
            points[k] = box:kind(k)
          end
        end
        loaded[#loaded + 1] = { file = file, box = box, points = points }
      end
    end
  end
  return loaded
end

-- the hooks that implement point, in order
function M.with(point)
  local out = {}
  if #config.dirs == 0 then return out end
  for _, h in ipairs(M.load()) do
    if h.points[point] then out[#out + 1] = h end
  end
  return out
end

-- has(point) -> does any hook implement point?
function M.has(point) return #M.with(point) > 0 end

-- checks of each point's result: return nil or a message
local check = {}

function check.criteria(v)
  if type(v) ~= "table" then return "criteria must be a table, got " .. type(v) end
  local bad, keys = errors.problems(), false
  for k, x in pairs(v) do
    if type(k) ~= "string" then keys = true
    elseif type(x) ~= "string" and math.type(x) ~= "integer" then
      bad:add(k, string.format("criteria field %q must be a string or integer, got %s", k, type(x)))
    end
  end
  if keys then bad:add("", "criteria keys must be strings") end
  return (bad:message())
end

function check.select(v, input)
  if type(v) ~= "table" then return "candidates must be a list, got " .. type(v) end
  local allowed = {}
  for _, c in ipairs(input) do allowed[type(c) == "table" and c.name or c] = true end
  for i, c in ipairs(v) do
    local name = type(c) == "table" and c.name or c
    if not allowed[name] then
      return string.format("candidate %d (%s) is not one of the matched overlays", i, errors.show(name))
    end
  end
end

function check.recipe(v)
  if type(v) ~= "table" then return "recipe must be a table, got " .. type(v) end
  if v.kind ~= "RecipeResult" then return string.format("recipe kind must stay RecipeResult, got %s", errors.show(v.kind)) end
  if type(v.componentRefs) ~= "table" then return "recipe componentRefs must be a list" end
  local seen = {}
  for i, c in ipairs(v.componentRefs) do
    if type(c) ~= "table" or type(c.name) ~= "string" or not c.name:match("^[a-z0-9][a-z0-9%-]*$") then
      return string.format("componentRefs[%d] needs a name of lower-case letters, digits and '-'", i)
    end
    if seen[c.name] then return string.format("component %q appears twice", c.name) end
    seen[c.name] = true
  end
  for i, n in ipairs(v.deploymentOrder or {}) do
    if not seen[n] then return string.format("deploymentOrder[%d] names unknown component %s", i, errors.show(n)) end
  end
  for i, c in ipairs(v.constraints or {}) do
    if type(c) ~= "table" or type(c.name) ~= "string" or type(c.value) ~= "string" then
      return string.format("constraints[%d] needs a string name and value", i)
    end
  end
end

function check.snapshot(v)
  if type(v) ~= "table" then return "measurements must be a list, got " .. type(v) end
  for i, m in ipairs(v) do
    if type(m) ~= "table" or type(m.type) ~= "string" or type(m.subtypes) ~= "table" then
      return string.format("measurement %d needs a type and a list of subtypes", i)
    end
  end
end

function check.bundle(v)
  if type(v) ~= "table" then return "files must be a map of path to content, got " .. type(v) end
  local fs = require("eidos.core.fs")
  local bad, types = errors.problems(), false
  for path, content in pairs(v) do
    if type(path) ~= "string" or type(content) ~= "string" then
      types = true
    else
      local ok, msg = fs.join("/bundle", path)
      if not ok then bad:add(path, string.format("file path %q escapes the bundle: %s", path, msg)) end
    end
  end
  if types then bad:add("", "files must map string paths to string contents") end
  return (bad:message())
end

-- call `point` on every hook in order: input() gives each call its value,
-- take(result) receives each checked result
local function each(point, input, take, ...)
  for _, h in ipairs(M.with(point)) do
    local v = input()
    local res = table.pack(h.box:call(point, v, ...))
    if not res[1] then
      fail(h.file, res[4], res[2])
    else
      local bad = check[point] and check[point](res[2], v)
      if bad then fail(h.file, "result", bad) else take(res[2]) end
    end
  end
end

-- apply(point, value, ...) -> value after every hook of that point, each
-- hook given the previous one's result (criteria, select, recipe, bundle);
-- the very value given when no hook implements the point
function M.apply(point, value, ...)
  if #config.dirs == 0 then return value end
  each(point, function() return value end, function(r) value = r end, ...)
  return value
end

-- collect(point, value, ...) -> list of every hook's checked result, each
-- hook given the same value (points that add rather than transform:
-- snapshot(s) -> extra measurements); {} without hooks
function M.collect(point, value, ...)
  local out = {}
  if #config.dirs == 0 then return out end
  each(point, function() return value end, function(r) out[#out + 1] = r end, ...)
  return out
end

-- operators from hooks: name -> {hook=file, eval=function(actual, operand) -> ok, reason}
function M.operators()
  local out = {}
  for _, h in ipairs(M.with("operators")) do
    for _, name in ipairs(h.box:keys({ "operators" })) do
      local box, file = h.box, h.file
      out[name] = {
        hook = file,
        eval = function(actual, operand)
          local ok, r, reason, why = box:call({ "operators", name, "eval" }, actual, operand)
          if not ok then fail(file, why, r); return false, "hook operator failed: " .. tostring(r) end
          return r == true, reason
        end,
      }
    end
  end
  return out
end

-- template helpers from hooks: name -> function(...) -> value; {} without hooks
function M.template_helpers()
  local out = {}
  for _, h in ipairs(M.with("template_helpers")) do
    for _, name in ipairs(h.box:keys({ "template_helpers" })) do
      local box, file = h.box, h.file
      out[name] = function(...)
        local ok, r, _, why = box:call({ "template_helpers", name }, ...)
        if not ok then fail(file, why, r); return "" end
        return r
      end
    end
  end
  return out
end

return M
