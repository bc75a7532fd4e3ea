-- eidos.constraint.user: operators written by users, from two places:
--  * lua/eidos/constraint/operators.d/*.lua in the resource tree (a file
--    under --lua-path, $EIDOS_HOME, <exe>/../share/eidos or <exe dir>);
--  * the `operators` hook point of --hooks files (eidos.hooks).
-- An operators.d file returns {[name] = {parse = function(text, v),
-- eval = function(actual, operand, av)}} (parse optional). It runs in its
-- own sandbox (eidos.hooks.sandbox: a separate Lua state with allowlisted
-- globals, under the limits of hooks); values
-- cross as copies, so an operand must be plain data. The host does the
-- common work: parse gets the operand with its quotes removed and, when it
-- parses as a version, its eidos.core.version table (else nil); eval gets
-- the actual value, the operand, and the actual value's version table (or
-- nil). Every entry's functions return what the built-in ones return, and
-- are called through a wrapper that returns ok, results... (pcall style).
local errors = require("eidos.errors")
local util = require("eidos.constraint.util")

local M = {}

M.DIR = "lua/eidos/constraint/operators.d/"

-- check_name(name, bad [, origin]) -> true when name is usable as an
-- operator in an expression, else false after adding the problem to bad
-- (an errors.problems collector), prefixed with origin when given
function M.check_name(name, bad, origin)
  if type(name) ~= "string" or name == "" or name ~= util.trim(name) or name:find("[,\"'()]") then
    bad:add(errors.show(name), string.format("%soperator name %s is not usable (a non-empty string without " ..
      "surrounding spaces, commas, quotes or parentheses)", origin and (origin .. ": ") or "", errors.show(name)))
    return false
  end
  return true
end

-- name the file in a sandbox failure message that does not already
local function named(origin, ok, ...)
  if ok then return ok, ... end
  local msg = tostring((...))
  if not msg:find(origin, 1, true) then msg = origin .. ": " .. msg end
  return false, msg
end

local function from_file(reg, path, origin)
  local res = require("eidos.core.res")
  local text = errors.check(res.read(path))
  local box, msg = require("eidos.hooks").sandbox(text, origin)
  if not box then errors.raise("invalid", "operator file " .. select(2, named(origin, false, msg))) end
  local bad = errors.problems(origin)
  local good = {}
  for _, name in ipairs(box:keys()) do
    local pk = box:kind({ name, "parse" })
    if not M.check_name(name, bad) then
      -- reported
    elseif box:kind({ name }) ~= "table" or box:kind({ name, "eval" }) ~= "function" or (pk and pk ~= "function") then
      bad:add(name, string.format("operator %q must be a table with eval = function(actual, " ..
        "operand, av) and optionally parse = function(text, v)", name))
    else
      good[#good + 1] = { name = name, pk = pk }
    end
  end
  bad:raise("invalid")
  for _, g in ipairs(good) do
    local name, pk = g.name, g.pk
    reg[name] = {
      origin = origin,
      sandboxed = true,
      user_parse = pk and function(t, v) return named(origin, box:call({ name, "parse" }, t, v)) end or nil,
      eval = function(actual, operand, av) return named(origin, box:call({ name, "eval" }, actual, operand, av)) end,
    }
  end
end

-- the resource tree lists regular files only: a FIFO or device named
-- *.lua in a root's operators.d is refused naming its type (exit 2), not
-- skipped without a word (and never opened)
local function check_regular(res)
  local fs = require("eidos.core.fs")
  local docio = require("eidos.docio")
  for _, root in ipairs(res.roots()) do
    local dir = root:gsub("/+$", "") .. "/" .. M.DIR
    if fs.exists(dir) == "dir" then
      for _, name in ipairs(errors.check(fs.list(dir))) do
        if name:match("%.lua$") then docio.check_file(dir .. name, "operator file", { scanned = true }) end
      end
    end
  end
end

-- load(reg): add the operators of every user file (sorted by path; a later
-- file wins), then those of --hooks files, to reg
function M.load(reg)
  local res = require("eidos.core.res")
  check_regular(res)
  for _, f in ipairs(res.list(M.DIR)) do
    if f.path:match("%.lua$") and not f.path:sub(#M.DIR + 1):find("/") then
      from_file(reg, f.path, f.origin == "embedded" and f.path or f.origin)
    end
  end
  local hooks = require("eidos.hooks")
  if hooks.active() then
    local ops = hooks.operators()
    local names = {}
    for name in pairs(ops) do names[#names + 1] = name end
    table.sort(names, function(a, b) return tostring(a) < tostring(b) end)
    local bad = errors.problems()
    for _, name in ipairs(names) do M.check_name(name, bad, ops[name].hook) end
    bad:raise("invalid")
    for _, name in ipairs(names) do
      local h = ops[name]
      reg[name] = { origin = h.hook, sandboxed = true,
                    eval = function(actual, operand) return true, h.eval(actual, operand) end }
    end
  end
end

return M
