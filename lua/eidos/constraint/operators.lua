-- eidos.constraint.operators: the built-in constraint operators, a plain
-- table keyed by the operator as written in an expression. Each entry is
--
--   { parse = function(text) -> operand | nil, message [, offset],
--     eval  = function(actual, operand) -> true | false [, why] | nil, error,
--     help  = "one line for docs and error messages" }
--
-- parse gets the operand text after the operator (trimmed; a value may be
-- quoted with " or ' to keep commas, spaces or a leading operator character)
-- and returns what eval will get, or a message (and the 0-based offset of the
-- problem inside text). eval gets the snapshot value as a string (trimmed):
-- true passes; false fails ("expected <clause>, got <actual>", plus why);
-- nil, error fails with the error as the reason (e.g. not a version).
-- Operators are matched longest first; an operator whose name ends in a
-- letter needs a space or "(" after it. User operators (files in
-- lua/eidos/constraint/operators.d/, --hooks) add to or replace entries of
-- this table through eidos.constraint.user; they run sandboxed and get the
-- operand unquoted (see docs/validate.md).
local version = require("eidos.core.version")
local util = require("eidos.constraint.util")

local M = {}

local actual_version, eq_parse, equal = util.actual_version, util.text_or_version, util.same

local function lower_precision_note(a, v, c)
  if c == 0 and a.precision ~= v.precision then
    local p = math.min(a.precision, v.precision)
    return string.format("equal when compared at %d component%s", p, p == 1 and "" or "s")
  end
  return nil
end

local function cmp_op(test)
  return {
    parse = util.version_operand,
    eval = function(actual, v)
      local a, err = actual_version(actual)
      if not a then return nil, err end
      local c = version.compare(a, v)
      if test(c) then return true end
      return false, lower_precision_note(a, v, c)
    end,
  }
end

M[">="] = cmp_op(function(c) return c >= 0 end)
M[">="].help = "version at least (compared at the lower precision: >= 1.32 accepts 1.32.0 and v1.33.5-eks-3025e55)"
M["<="] = cmp_op(function(c) return c <= 0 end)
M["<="].help = "version at most (compared at the lower precision)"
M[">"] = cmp_op(function(c) return c > 0 end)
M[">"].help = "version newer (> 1.30 rejects 1.30.7: equal at two components)"
M["<"] = cmp_op(function(c) return c < 0 end)
M["<"].help = "version older"

M["=="] = {
  parse = eq_parse,
  eval = function(actual, o) return equal(actual, o) end,
  help = "equal: as versions at the lower precision when the value looks like one (== 1.32 accepts 1.32.4), else as text",
}
M["!="] = {
  parse = eq_parse,
  eval = function(actual, o)
    local eq, a, c = equal(actual, o)
    if not eq then return true end
    return false, a and lower_precision_note(a, o.v, c) or nil
  end,
  help = "not equal (the negation of ==)",
}

M["~"] = {
  parse = util.version_operand,
  eval = function(actual, v)
    local a, err = actual_version(actual)
    if not a then return nil, err end
    if a.major ~= v.major then return false, "different major version" end
    if v.precision >= 2 then
      if a.precision < 2 then return false, "the value has no minor version" end
      if a.minor ~= v.minor then return false, "different minor version" end
    end
    if version.compare(a, v) < 0 then return false, "older" end
    return true
  end,
  help = "compatible version: same major.minor and at least the given one (~1.32.2 accepts 1.32.9, not 1.33.0)",
}

-- in (a, b, c): one of the listed values (versions compared like ==)
local function set_parse(text)
  if text:sub(1, 1) ~= "(" then
    return nil, "expected a parenthesised list, e.g. (ubuntu, rhel)", 0
  end
  if text:sub(-1) ~= ")" then return nil, "missing closing parenthesis", #text end
  local items, i, n = {}, 2, #text - 1
  while true do
    while i <= n and text:sub(i, i):find("%s") do i = i + 1 end
    if i > n then
      if #items == 0 then return nil, "the list is empty", i - 1 end
      return nil, "missing value after ','", i - 1
    end
    local start, stop = i
    local q = text:sub(i, i)
    if q == '"' or q == "'" then
      local close = text:find(q, i + 1, true)
      if not close or close > n then return nil, "unterminated quoted value (missing " .. q .. ")", i - 1 end
      stop = close
    else
      stop = (text:find(",", i, true) or n + 1) - 1
      while stop >= i and text:sub(stop, stop):find("%s") do stop = stop - 1 end
    end
    local raw = text:sub(start, stop)
    if raw == "" then return nil, "empty value in the list", i - 1 end
    if raw:find("[()]") then return nil, "unexpected parenthesis in the list", i - 1 end
    local item, msg, off = eq_parse(raw)
    if not item then return nil, msg, start - 1 + (off or 0) end
    items[#items + 1] = item
    i = stop + 1
    while i <= n and text:sub(i, i):find("%s") do i = i + 1 end
    if i > n then break end
    if text:sub(i, i) ~= "," then return nil, "expected ',' or ')'", i - 1 end
    i = i + 1
  end
  return items
end

M["in"] = {
  parse = set_parse,
  eval = function(actual, items)
    for _, it in ipairs(items) do
      if equal(actual, it) then return true end
    end
    return false
  end,
  help = "one of a list: in (ubuntu, rhel); versions in the list compare like ==",
}
M["not in"] = {
  parse = set_parse,
  eval = function(actual, items)
    for _, it in ipairs(items) do
      if equal(actual, it) then return false, "it is " .. it.text end
    end
    return true
  end,
  help = "none of a list: not in (rhel, sles)",
}

return M
