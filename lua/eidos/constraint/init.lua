-- eidos.constraint: constraint expressions and their evaluation against a
-- snapshot model (eidos.snapshot.model). A constraint is {name = path,
-- value = expression, severity?, remediation?}. Grammar:
--
--   expression := value                      exact text match (whole expression)
--               | clause { "," clause }      all clauses must hold (a range)
--   clause     := OPERATOR operand           >= <= > < == != ~ in, not in, user ones
--
-- A value or operand may be quoted ("..." or '...') to keep commas, spaces
-- or a leading operator character. The operator table is
-- eidos.constraint.operators plus the user operators of
-- eidos.constraint.user (lua/eidos/constraint/operators.d/*.lua files of
-- the resource tree, and the `operators` point of --hooks files), which run
-- sandboxed.
--
-- parse() raises a structured "invalid" error naming the constraint and the
-- 1-based character position; evaluate() never raises for bad data: a path
-- the snapshot lacks is "skipped" (reason + nearest paths), a value that is
-- not a version where one is needed is "failed" with the reason, and a
-- malformed expression is "failed" too.
local errors = require("eidos.errors")
local model = require("eidos.snapshot.model")
local util = require("eidos.constraint.util")
local version = require("eidos.core.version")

local M = {}

local USER_DIR = "lua/eidos/constraint/operators.d/"

local registry -- name -> operator entry (with .origin for user ones)
local names    -- operator names, longest first

local function is_word(name) return name:find("[%w_]$") ~= nil end

-- operators() -> the operator table in use (built-ins plus user files)
function M.operators()
  if not registry then
    local reg = {}
    for k, v in pairs(require("eidos.constraint.operators")) do reg[k] = v end
    -- user operators only cost a module load when there are some
    if #require("eidos.core.res").list(USER_DIR) > 0 or require("eidos.hooks").active() then
      require("eidos.constraint.user").load(reg)
    end
    local ns = {}
    for k in pairs(reg) do ns[#ns + 1] = k end
    table.sort(ns, function(a, b) if #a ~= #b then return #a > #b end return a < b end)
    registry, names = reg, ns
  end
  return registry
end

-- reset(): forget the operator table (specs; after changing the roots)
function M.reset() registry, names = nil, nil end

-- accepted operators, for messages
function M.accepted()
  M.operators()
  local out = {}
  for _, n in ipairs(names) do out[#out + 1] = n end
  table.sort(out)
  return table.concat(out, ", ")
end

-- the operator written at position i of s, or nil
local function match_op(s, i)
  for _, n in ipairs(names) do
    if s:sub(i, i + #n - 1) == n then
      local nxt = s:sub(i + #n, i + #n)
      if not is_word(n) or nxt == "" or nxt:find("[%s(]") then return n end
    end
  end
  return nil
end

local SYMBOL = "[<>=!~]"

-- end of the clause starting at i: the index of the next top-level comma,
-- or #s + 1. Commas inside quotes and parentheses do not count.
local function clause_end(s, i)
  local depth, q, qpos, opened = 0, nil, nil, {}
  for k = i, #s do
    local c = s:sub(k, k)
    if q then
      if c == q then q = nil end
    elseif c == '"' or c == "'" then q, qpos = c, k
    elseif c == "(" then depth = depth + 1; opened[depth] = k
    elseif c == ")" then
      if depth == 0 then return nil, k, "unbalanced )" end
      depth = depth - 1
    elseif c == "," and depth == 0 then return k end
  end
  if q then return nil, qpos, "unterminated quoted value (missing " .. q .. ")" end
  if depth > 0 then return nil, opened[depth], "missing closing )" end
  return #s + 1
end

local function malformed(name, expr, pos, msg)
  errors.raise("invalid", string.format("constraint %s: malformed expression %q at position %d: %s",
    errors.show(name), expr, pos, msg), { constraint = name, expression = expr, position = pos })
end

-- operand(op, text) -> ok, operand | nil, msg, offset (pcall style: ok is
-- false when a user operator crashed). User operators get the text without
-- quotes and its version table (or nil); built-ins parse the text as written.
local function operand_of(op, text)
  if not op.sandboxed then
    if op.parse then return true, op.parse(text) end
    return true, util.unquote(text)
  end
  local s, msg, off = util.unquote(text)
  if not s then return true, nil, msg, off end
  if not op.user_parse then return true, s end
  local q = (text ~= s) and 1 or 0
  local ok, v, m, o = op.user_parse(s, (version.parse(s)))
  return ok, v, m, o and (tonumber(o) or 0) + q
end

-- eval(op, actual, operand) -> ok, result, why (ok false: the operator crashed)
local function eval(op, actual, operand)
  if not op.sandboxed then return true, op.eval(actual, operand) end
  return op.eval(actual, operand, (version.parse(actual)))
end

-- parse(expr, name) -> ast. ast = {source=, kind="exact", value=} or
-- {source=, kind="all", clauses={{op=, operand=, text=, pos=}, ...}}.
-- Raises an "invalid" error naming the constraint and the position.
function M.parse(expr, name)
  if type(expr) ~= "string" then
    errors.raise("invalid", string.format("constraint %s: the expression must be a string, got %s",
      errors.show(name), errors.show(expr)))
  end
  local ops = M.operators()
  local n = #expr
  local i = expr:find("%S") or n + 1
  if i > n then
    malformed(name, expr, 1, "the expression is empty (expected a value to match exactly, or an operator and " ..
      "a value such as \">= 1.32\"; operators: " .. M.accepted() .. ")")
  end
  local opname = match_op(expr, i)
  if not opname then
    local sym = expr:match("^" .. SYMBOL .. "+", i)
    if sym then
      malformed(name, expr, i, string.format("unknown operator %q (accepted: %s; quote a value that starts with %q)",
        sym, M.accepted(), sym:sub(1, 1)))
    end
    local body = util.trim(expr)
    -- "matches ubu": a lower-case first word of several looks like an
    -- operator nobody defined; as text it could never be meant (quote it)
    local word = body:match("^(%l+)%s+%S")
    if word then
      malformed(name, expr, i, string.format("unknown operator %q (accepted: %s); add it as %s%s.lua " ..
        "(docs/validate.md, \"Adding an operator\"), or quote the value to match the text exactly: '\"%s\"'",
        word, M.accepted(), USER_DIR, word, body))
    end
    local v, msg, off = util.unquote(body)
    if not v then malformed(name, expr, i + (off or 0), msg) end
    return { source = expr, kind = "exact", value = v }
  end
  local clauses = {}
  while true do
    local j = i + #opname
    if not is_word(opname) then
      local sym = expr:match("^" .. SYMBOL .. "+", j)
      if sym then
        malformed(name, expr, i, string.format("unknown operator %q (accepted: %s)", opname .. sym, M.accepted()))
      end
    end
    local stop, epos, emsg = clause_end(expr, j)
    if not stop then malformed(name, expr, epos, emsg) end
    local k = expr:find("%S", j)
    local text = (k and k < stop) and util.trim(expr:sub(k, stop - 1)) or ""
    if text == "" then
      malformed(name, expr, (k and k < stop) and k or j, string.format("missing value after operator %q", opname))
    end
    local ok, operand, msg, off = operand_of(ops[opname], text)
    if not ok then malformed(name, expr, k, string.format("operator %q failed: %s", opname, tostring(operand))) end
    if operand == nil then
      malformed(name, expr, k + (tonumber(off) or 0), tostring(msg or ("invalid value for operator " .. opname)))
    end
    clauses[#clauses + 1] = { op = opname, operand = operand, text = util.trim(expr:sub(i, stop - 1)), pos = i }
    if stop > n then break end
    i = expr:find("%S", stop + 1)
    if not i then malformed(name, expr, stop, "missing clause after ','") end
    opname = match_op(expr, i)
    if not opname then
      malformed(name, expr, i, string.format("expected an operator after ',' (accepted: %s); to match text " ..
        "containing a comma exactly, quote it", M.accepted()))
    end
  end
  return { source = expr, kind = "all", clauses = clauses }
end

-- parse_path(name) -> true | raises invalid
function M.check_path(name)
  local t, msg = model.split(name)
  if not t then errors.raise("invalid", string.format("constraint %s: %s", errors.show(name), msg)) end
  return true
end

-- check(c) -> ast: the constraint's path and expression are well formed, or
-- an "invalid" error naming it
function M.check(c)
  if type(c) ~= "table" or type(c.name) ~= "string" or c.name == "" then
    errors.raise("invalid", "a constraint needs a name (a snapshot path such as K8s.server.version)")
  end
  M.check_path(c.name)
  local v = c.value
  -- a YAML number or boolean written unquoted: compared as it reads back
  if type(v) == "number" or type(v) == "boolean" then v = model.scalar(v) end
  return M.parse(v, c.name)
end

-- run(ast, actual) -> true | false, reason
function M.run(ast, actual)
  if ast.kind == "exact" then
    if actual == ast.value then return true end
    return false, string.format("expected %s, got %s", ast.value, actual)
  end
  local ops = M.operators()
  for _, cl in ipairs(ast.clauses) do
    local op = ops[cl.op]
    if not op then return false, string.format("operator %q is no longer defined", cl.op) end
    local ok, r, why = eval(op, actual, cl.operand)
    if not ok then
      return false, string.format("operator %q failed on %s: %s", cl.op, actual, tostring(r))
    end
    if r == nil then
      return false, string.format("expected %s, got %s: %s", cl.text, actual,
        tostring(why or ("operator " .. cl.op .. " could not evaluate the value")))
    end
    if not r then
      local msg = string.format("expected %s, got %s", cl.text, actual)
      if why and why ~= "" then msg = msg .. " (" .. tostring(why) .. ")" end
      return false, msg
    end
  end
  return true
end

local cache = setmetatable({}, { __mode = "k" })

-- evaluate(c, m) -> {name, expression, actual, status, reason, nearest?,
-- severity?, remediation?}; status "passed", "failed" or "skipped".
function M.evaluate(c, m)
  local x = c.value
  if type(x) == "number" or type(x) == "boolean" then x = model.scalar(x) end
  local r = { name = c.name, expression = x, severity = c.severity, remediation = c.remediation }
  local ok, ast = pcall(function()
    local byexpr = cache[M.operators()]
    if not byexpr then byexpr = {}; cache[M.operators()] = byexpr end
    local key = tostring(c.name) .. "\0" .. tostring(c.value)
    if not byexpr[key] then byexpr[key] = M.check(c) end
    return byexpr[key]
  end)
  if not ok then
    if not errors.is(ast) then error(ast, 0) end
    r.status, r.reason = "failed", ast.msg
    return r
  end
  local actual, why, nearest = model.lookup(m, c.name)
  if actual == nil then
    r.status = "skipped"
    r.reason = why
    if nearest and #nearest > 0 then
      r.reason = r.reason .. "; nearest: " .. table.concat(nearest, ", ")
      r.nearest = nearest
    end
    return r
  end
  actual = util.trim(actual)
  r.actual = actual
  local pass, reason = M.run(ast, actual)
  r.status = pass and "passed" or "failed"
  r.reason = reason
  return r
end

return M
