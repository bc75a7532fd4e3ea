-- eidos.hooks.run: the part of eidos.hooks that runs hooks -- loading the
-- files into sandboxes, calling a point on each hook in order, checking
-- what each returns, turning failures into errors. eidos.hooks (the
-- configuration and the entry points) loads it on the first hook point
-- a command reaches with hooks configured, so a command without hooks
-- does not load it. Every function takes eidos.hooks' configuration:
-- {dirs=, lenient=, time_ms=, memory=, loaded=} (loaded: the hooks, once
-- read).
local errors = require("eidos.errors")
local log = require("eidos.log")
local strx = require("eidos.text")

local R = {}

local POINTS = require("eidos.hooks").POINTS
local known = {}
for _, p in ipairs(POINTS) do known[p] = true end

local MAX_FILE = 4 * 1024 * 1024 -- bytes of one hook file
local MAX_LINE = 4096 -- bytes of a printed line that reach the log (all of it counts against the limit)

-- sandbox(text, name) -> box | nil, msg, code, reason: a sandbox under the
-- limits in force whose print goes to the logger (info), long lines cut
function R.sandbox(config, text, name)
  local l = { time_ms = config.time_ms, memory = config.memory }
  l.print = function(line)
    if #line > MAX_LINE then line = string.format("%s... (%d bytes)", line:sub(1, MAX_LINE), #line) end
    log.info(string.format("hook %s: %s", name, line))
  end
  return require("eidos.core.sandbox").new(text, name, l)
end

-- the message for HTTP clients: the hook's file name, no server paths
local function public(config, name, reason, check)
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
local function fail(config, file, reason, msg)
  if config.lenient then
    log.warn(string.format("hook %s skipped: %s", file, msg))
    return
  end
  if reason == "value" then reason = "result" end
  local name = file:match("[^/]*$")
  local detail = { hook = name, public = public(config, name, reason, msg) }
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
function R.load(config)
  if config.loaded then return config.loaded end
  local loaded = {}
  config.loaded = loaded
  if #config.dirs == 0 then return loaded end
  local fs = require("eidos.core.fs")
  for _, dir in ipairs(config.dirs) do
    for _, file in ipairs(files_of(fs, dir)) do
      local src = errors.check(fs.read(file, MAX_FILE))
      local box, msg, _, reason = R.sandbox(config, src, file)
      if not box then
        fail(config, file, reason, msg)
      else
        local points = {}
        for _, k in ipairs(box:keys()) do
          if not known[k] then
            fail(config, file, "result", string.format("unknown hook point %q (accepted: %s)", k, table.concat(POINTS, ", ")))
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
function R.with(config, point)
  local out = {}
  if #config.dirs == 0 then return out end
  for _, h in ipairs(R.load(config)) do
    if h.points[point] then out[#out + 1] = h end
  end
  return out
end

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
local function each(config, point, input, take, ...)
  for _, h in ipairs(R.with(config, point)) do
    local v = input()
    local res = table.pack(h.box:call(point, v, ...))
    if not res[1] then
      fail(config, h.file, res[4], res[2])
    else
      local bad = check[point] and check[point](res[2], v)
      if bad then fail(config, h.file, "result", bad) else take(res[2]) end
    end
  end
end

-- apply(point, value, ...) -> value after every hook of that point, each
-- hook given the previous one's result (criteria, select, recipe, bundle);
-- the very value given when no hook implements the point
function R.apply(config, point, value, ...)
  each(config, point, function() return value end, function(r) value = r end, ...)
  return value
end

-- collect(point, value, ...) -> list of every hook's checked result, each
-- hook given the same value (points that add rather than transform:
-- snapshot(s) -> extra measurements); {} without hooks
function R.collect(config, point, value, ...)
  local out = {}
  each(config, point, function() return value end, function(r) out[#out + 1] = r end, ...)
  return out
end

-- name -> make(box, file, name) for every name the hooks of point define
-- under it (operators, template_helpers), in hook order
local function named(config, point, make)
  local out = {}
  for _, h in ipairs(R.with(config, point)) do
    for _, name in ipairs(h.box:keys({ point })) do out[name] = make(h.box, h.file, name) end
  end
  return out
end

-- operators from hooks: name -> {hook=file, eval=function(actual, operand) -> ok, reason}
function R.operators(config)
  return named(config, "operators", function(box, file, name)
    return {
      hook = file,
      eval = function(actual, operand)
        local ok, r, reason, why = box:call({ "operators", name, "eval" }, actual, operand)
        if not ok then fail(config, file, why, r); return false, "hook operator failed: " .. tostring(r) end
        return r == true, reason
      end,
    }
  end)
end

-- template helpers from hooks: name -> function(...) -> value; {} without hooks
function R.template_helpers(config)
  return named(config, "template_helpers", function(box, file, name)
    return function(...)
      local ok, r, _, why = box:call({ "template_helpers", name }, ...)
      if not ok then fail(config, file, why, r); return "" end
      return r
    end
  end)
end

return R
