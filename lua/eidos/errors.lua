-- eidos.errors: structured errors {code=, msg=, detail=} raised by policy
-- code, the one table that maps their codes to process exit codes and
-- HTTP statuses, and problems(), the collector validators use to report
-- every problem of a document in one error. Bindings return `nil, msg,
-- codename`; `errors.check` turns that into a raised structured error.
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
-- `prefix` (optional) is put in front of the message. A failure without a
-- message is a bug (typically a call that was not last in an argument
-- list, which keeps only its first result): it is raised as such, never
-- shown as "nil". With a prefix, use within, which takes the call last.
function M.check(v, msg, code, prefix)
  if v == nil then
    if msg == nil then
      error("errors.check: a failure without its message" .. (prefix and (" (" .. prefix .. ")") or ""), 2)
    end
    M.raise(M.exit[code] and code or "failure", prefix and (prefix .. ": " .. tostring(msg)) or tostring(msg))
  end
  return v
end

-- problems([where]) -> a collector for the validators of input documents
-- and options, which report every problem at once instead of the first one
-- they reach. p:add(path, msg [, detail]) records one (path: where in the
-- document, e.g. "spec.constraints[2]"; msg names the bad value and what is
-- accepted); p:raise(code) raises nothing when there is none, else ONE
-- structured error of `code` with p:message() as message and detail.
-- One problem reads as it always did: "WHERE: msg" (or msg when there is
-- no where), with its own detail. Several read "WHERE: N problems:" and one
-- indented line per problem, sorted by path (natural order: [2] before
-- [10]) then message, so the text is the same on every run; their detail
-- is {problems = {{path=, message= [, detail=]}...}} in that order.
local Problems = {}
Problems.__index = Problems

function M.problems(where)
  return setmetatable({ where = where, list = {} }, Problems)
end

function Problems:add(path, msg, detail)
  self.list[#self.list + 1] = { path = tostring(path or ""), message = msg, detail = detail }
end

function Problems:count() return #self.list end

-- message() -> text, detail | nil when there is no problem
function Problems:message()
  local list = self.list
  if #list == 0 then return nil end
  local prefix = self.where and (self.where .. ": ") or ""
  if #list == 1 then return prefix .. list[1].message, list[1].detail end
  local natcmp = require("eidos.core.emit").natcmp
  table.sort(list, function(a, b)
    if a.path ~= b.path then
      local c = natcmp(a.path, b.path)
      if c ~= 0 then return c < 0 end
      return a.path < b.path
    end
    return a.message < b.message
  end)
  local lines = { string.format("%s%d problems:", prefix, #list) }
  local detail = {}
  for i, p in ipairs(list) do
    lines[#lines + 1] = "  " .. p.message
    detail[i] = { path = p.path, message = p.message, detail = p.detail }
  end
  return table.concat(lines, "\n"), { problems = detail }
end

function Problems:raise(code)
  local msg, detail = self:message()
  if msg then M.raise(code, msg, detail) end
end

-- within(prefix, v, msg, codename): check with the binding's results last,
-- so that none is lost: errors.within("writing " .. p, fs.write_atomic(p, t))
function M.within(prefix, v, msg, code)
  return M.check(v, msg, code, prefix)
end

-- show(v) -> v as a message shows it: a string quoted (%q), a number or
-- boolean as written, null as null, a table by its kind ("a list", "a
-- map"). Never a table address, and never an error for a value that has
-- no literal form: every value that comes from a document or request and
-- goes into a message goes through show.
function M.show(v)
  local t = type(v)
  if t == "string" then return string.format("%q", v) end
  if t == "number" or t == "boolean" then return tostring(v) end
  if t == "nil" then return "nothing" end
  if t == "table" then
    local mt = getmetatable(v)
    return ((mt and mt.__name == "eidos.list") or rawlen(v) > 0) and "a list" or "a map"
  end
  if v == require("eidos.core.emit").null then return "null" end
  return "a " .. t
end

-- exit code for any error value
function M.exit_code(e)
  if M.is(e) then return M.exit[e.code] or 1 end
  return M.exit.internal
end

return M
