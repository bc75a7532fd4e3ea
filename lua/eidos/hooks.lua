-- eidos.hooks: operator-written Lua hooks. Every *.lua file of each --hooks
-- directory (repeatable; also EIDOS_HOOKS, colon-separated) is loaded into
-- its own sandbox (eidos.core.sandbox: own Lua state, allowlisted globals,
-- memory and time caps). A hook file returns a table naming the hook points
-- it implements:
--   criteria(c) -> c            normalise or add criteria values
--   select(candidates, c) -> candidates   filter or reorder overlays (names)
--   recipe(r) -> r              transform the RecipeResult
--   operators = {name = {eval = function(actual, operand) -> bool[, reason]}}
--   snapshot(s) -> measurements extra derived measurements
--   bundle(files, recipe) -> files        add or change bundle files
--   template_helpers = {name = function(...) ...}
-- Hooks run in a deterministic order (directory order, then file name);
-- results are checked. A hook that fails stops the command with its file,
-- line and message (exit 8 for a crash, 2 for a bad result); with
-- --hooks-lenient it is logged and skipped instead.
local errors = require("eidos.errors")
local log = require("eidos.log")
local strx = require("eidos.text")

local M = {}

M.POINTS = { "criteria", "select", "recipe", "operators", "snapshot", "bundle", "template_helpers" }
local known = {}
for _, p in ipairs(M.POINTS) do known[p] = true end

local config = { dirs = {}, lenient = false, time_ms = 100, memory = 32 * 1024 * 1024 }
local loaded = nil -- list of {file=, box=, points={}}

-- configure{dirs=, lenient=, time_ms=, memory=} (from the global flags)
function M.configure(c)
  config.dirs = {}
  for _, d in ipairs(c.dirs or {}) do config.dirs[#config.dirs + 1] = d end
  local env = os.getenv("EIDOS_HOOKS")
  if env and env ~= "" and #config.dirs == 0 then
    for d in env:gmatch("[^:]+") do config.dirs[#config.dirs + 1] = d end
  end
  config.lenient = c.lenient or false
  config.time_ms = c.time_ms or config.time_ms
  config.memory = c.memory or config.memory
  loaded = nil
end

function M.active() return #config.dirs > 0 end

local function fail(file, kind, msg)
  if config.lenient then
    log.warn(string.format("hook %s skipped: %s", file, msg))
    return
  end
  if kind == "result" then
    errors.raise("invalid", string.format("hook %s returned a bad result: %s", file, msg))
  end
  errors.raise("internal", string.format("hook %s failed: %s", file, msg))
end

local function load_all()
  if loaded then return loaded end
  loaded = {}
  if #config.dirs == 0 then return loaded end
  local fs = require("eidos.core.fs")
  local sandbox = require("eidos.core.sandbox")
  for _, dir in ipairs(config.dirs) do
    if fs.exists(dir) ~= "dir" then
      errors.raise("invalid", string.format("hooks directory %q does not exist", dir))
    end
    for _, name in ipairs(fs.list(dir)) do
      if name:match("%.lua$") then
        local file = strx.rstrip(dir, "/") .. "/" .. name
        local src = errors.check(fs.read(file, 4 * 1024 * 1024))
        local box, msg = sandbox.new(src, file, { time_ms = config.time_ms, memory = config.memory })
        if not box then
          -- a file that loads but returns no table is a bad result, not a crash
          fail(file, msg:find("must return a table", 1, true) and "result" or "crash", msg)
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
  end
  return loaded
end

-- the hooks that implement point, in order
function M.with(point)
  local out = {}
  for _, h in ipairs(load_all()) do
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
local function each(point, input, take, ...)
  for _, h in ipairs(M.with(point)) do
    local v = input()
    local res = table.pack(h.box:call(point, v, ...))
    if not res[1] then
      fail(h.file, "crash", res[2])
    else
      local bad = check[point] and check[point](res[2], v)
      if bad then fail(h.file, "result", bad) else take(res[2]) end
    end
  end
end

-- apply(point, value, ...) -> value after every hook of that point, each
-- hook given the previous one's result (criteria, select, recipe, bundle)
function M.apply(point, value, ...)
  if not M.active() then return value end
  each(point, function() return value end, function(r) value = r end, ...)
  return value
end

-- collect(point, value, ...) -> list of every hook's checked result, each
-- hook given the same value (points that add rather than transform:
-- snapshot(s) -> extra measurements)
function M.collect(point, value, ...)
  local out = {}
  if not M.active() then return out end
  each(point, function() return value end, function(r) out[#out + 1] = r end, ...)
  return out
end

-- operators from hooks: name -> {eval=function(actual, operand) -> ok, reason}
function M.operators()
  local out = {}
  if not M.active() then return out end
  for _, h in ipairs(M.with("operators")) do
    for _, name in ipairs(h.box:keys({ "operators" })) do
      local box, file = h.box, h.file
      out[name] = {
        hook = file,
        eval = function(actual, operand)
          local ok, r, reason = box:call({ "operators", name, "eval" }, actual, operand)
          if not ok then fail(file, "crash", r); return false, "hook operator failed: " .. tostring(r) end
          return r == true, reason
        end,
      }
    end
  end
  return out
end

-- template helpers from hooks: name -> function(...) -> value
function M.template_helpers()
  local out = {}
  if not M.active() then return out end
  for _, h in ipairs(M.with("template_helpers")) do
    for _, name in ipairs(h.box:keys({ "template_helpers" })) do
      local box, file = h.box, h.file
      out[name] = function(...)
        local ok, r = box:call({ "template_helpers", name }, ...)
        if not ok then fail(file, "crash", r); return "" end
        return r
      end
    end
  end
  return out
end

return M
