-- eidos.errors: structured errors {code=, msg=, detail=} raised by policy
-- code, and the one table that maps their codes to process exit codes and
-- HTTP statuses. Bindings return `nil, msg, codename`; `errors.check` turns
-- that into a raised structured error.
local M = {}

-- exit codes (documented in docs/cli.md)
M.exit = {
  ok = 0, failure = 1, invalid = 2, notfound = 3, unauthorized = 4,
  timeout = 5, unavailable = 6, ratelimited = 7, internal = 8,
  checkfailed = 9, -- validate --fail-on-error, verify: a check did not pass
}

M.http = {
  failure = 500, invalid = 400, notfound = 404, unauthorized = 401,
  timeout = 504, unavailable = 503, ratelimited = 429, internal = 500,
  checkfailed = 422,
}

local Err = {}
Err.__index = Err
Err.__tostring = function(e) return e.msg end

function M.new(code, msg, detail)
  assert(M.exit[code], "unknown error code " .. tostring(code))
  return setmetatable({ code = code, msg = msg, detail = detail }, Err)
end

-- raise a structured error; level-free (no position prefix)
function M.raise(code, msg, detail)
  error(M.new(code, msg, detail), 0)
end

function M.is(e)
  return getmetatable(e) == Err
end

-- check(v, msg, codename): pass v through, or raise from a binding failure;
-- `prefix` (optional) is put in front of the message.
function M.check(v, msg, code, prefix)
  if v == nil then
    M.raise(M.exit[code] and code or "failure", prefix and (prefix .. ": " .. tostring(msg)) or tostring(msg))
  end
  return v
end

-- exit code for any error value
function M.exit_code(e)
  if M.is(e) then return M.exit[e.code] or 1 end
  return M.exit.internal
end

return M
