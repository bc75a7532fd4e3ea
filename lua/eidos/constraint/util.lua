-- eidos.constraint.util: helpers the operators are built from, also handed
-- to user operator files (as `util`): trimming, quoted values, version
-- operands, and the "text or version" equality that ==, != and in share.
local version = require("eidos.core.version")
local strx = require("eidos.text")

local M = {}

M.trim = strx.trim

-- unquote(text) -> string | nil, message, offset. "x" and 'x' are literal
-- (no escapes); anything else is taken as written.
function M.unquote(text)
  local q = text:sub(1, 1)
  if q ~= '"' and q ~= "'" then return text end
  local close = text:find(q, 2, true)
  if not close then return nil, "unterminated quoted value (missing " .. q .. ")", 0 end
  if close ~= #text then return nil, "unexpected text after the quoted value", close end
  return text:sub(2, close - 1)
end

-- version_operand(text) -> parsed version | nil, message, offset
function M.version_operand(text)
  local s, msg, off = M.unquote(text)
  if not s then return nil, msg, off end
  if s == "" then return nil, "missing version (expected e.g. 1.32 or 6.8.0)", 0 end
  local v, err = version.parse(s)
  if not v then return nil, err, 0 end
  return v
end

-- actual_version(actual) -> parsed version | nil, reason
function M.actual_version(actual)
  local v, err = version.parse(actual)
  if not v then
    -- the core message quotes the input and lists the grammar; keep its middle
    local why = err:match('^invalid version ".-": (.-); expected') or err
    return nil, string.format("not a version (%s)", why)
  end
  return v
end

-- looks_like_version(s): has a dot and parses (24.04, v1.33.5, 6.8.0-1028-aws)
function M.looks_like_version(s)
  return s:find(".", 1, true) ~= nil and version.valid(s)
end

-- text_or_version(text) -> {text=, v=parsed version or nil} | nil, msg, off.
-- A quoted value is always text.
function M.text_or_version(text)
  local c = text:sub(1, 1)
  local quoted = c == '"' or c == "'"
  local s, msg, off = M.unquote(text)
  if not s then return nil, msg, off end
  return { text = s, v = (not quoted and M.looks_like_version(s)) and version.parse(s) or nil }
end

-- same(actual, o) -> equal?, parsed actual, compare result. With o.v and an
-- actual that parses: versions at the lower precision; else text.
function M.same(actual, o)
  if o.v then
    local a = version.parse(actual)
    if a then
      local c = version.compare(a, o.v)
      return c == 0, a, c
    end
  end
  return actual == o.text
end

return M
