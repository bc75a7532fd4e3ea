-- fuzz/adapters/api.lua: the HTTP request handling of eidosd at its handler
-- entry: the function eidos.api.server.worker() returns and src/server/
-- handler.c calls for every request it does not answer itself (routing,
-- method checks, query strings, content negotiation, request bodies,
-- recipe / query / bundle handlers, error bodies). The app is built once,
-- as a worker builds it (the whole recipe library loaded). Input: a
-- request as text, the way handler.c's push_request sees it after h2o
-- parsed it:
--   METHOD SP PATH[?QUERY] [SP HTTP/1.1] LF
--   Name: value LF ...            (names lower-cased, repeats joined ", ")
--   LF
--   body
-- A first line that is not a request line makes a GET of it as the path.
-- The answer must have the shape handler.c's resp_from_lua accepts
-- (status 100..599, string or nil body, a flat list of string headers);
-- a 500 (an unexpected error inside a handler) is a finding, unless the
-- error the app logged matches one of the KNOWN open findings below
-- (reported in docs/fuzzing.md; EIDOS_FUZZ_STRICT=1 counts them again).
local dir = ...
local common = dofile(dir .. "/lib/common.lua")
local cjson = require("cjson")
local log = require("eidos.log")

local KNOWN = {
  -- POST /v1/bundle with a componentRef whose valuesFile is null or a map:
  -- string.format("%q") of a non-string in eidos.recipe.hydrate.layers
  "recipe/hydrate%.lua:%d+: bad argument #2 to 'format' %(value has no literal form%)",
  -- an Accept header with an element that is blank or starts with ';'
  -- ("application/json, ", ";q=1", two Accept headers one of them empty):
  -- nil:lower() in eidos.api.http.format
  "attempt to index a nil value.-in function 'eidos%.api%.http%.format'",
}
if os.getenv("EIDOS_FUZZ_STRICT") == "1" then KNOWN = {} end

-- the app logs the cause of a 500 (and answers "internal server error")
local logged
local log_error = log.error
log.error = function(msg, fields)
  logged = fields and fields.error or msg
  return log_error(msg, fields)
end

local handle, code = require("eidos.api.server").worker({ "--log-level", "error" }, 0)
if not handle then error("fuzz: the API app did not start (exit code " .. tostring(code) .. ")") end

local function request(s)
  local head, body = s:match("^(.-)\n\n(.*)$")
  if not head then head = s end
  local lines = common.split(head, "\n")
  local method, target = lines[1]:match("^(%S+) (%S+)")
  if not method then method, target = "GET", lines[1] end
  local path, query = target:match("^([^?]*)%?(.*)$")
  if not path then path, query = target, "" end
  local headers = {}
  for i = 2, #lines do
    local name, value = lines[i]:match("^([^:]+):%s*(.-)%s*$")
    if name then
      name = name:lower()
      headers[name] = headers[name] and (headers[name] .. ", " .. value) or value
    end
  end
  return { method = method, path = path, query = query, headers = headers, body = body,
           id = "fuzz-request", client = "127.0.0.1" }
end

local verbose = os.getenv("EIDOS_FUZZ_VERBOSE")

return function(s)
  local req = request(s)
  logged = nil
  local status, body, headers, cache = handle(req)
  if verbose then
    io.stderr:write(string.format("%s %s?%s -> %s %s\n", req.method, req.path, req.query, tostring(status),
      tostring(body):sub(1, 300)))
  end
  if math.type(status) ~= "integer" or status < 100 or status > 599 then
    error("fuzz: the handler returned no valid status: " .. tostring(status))
  end
  if body ~= nil and type(body) ~= "string" then error("fuzz: the handler returned a " .. type(body) .. " body") end
  if headers ~= nil then
    if type(headers) ~= "table" or #headers % 2 ~= 0 then error("fuzz: the handler returned malformed headers") end
    for i = 1, #headers do
      if type(headers[i]) ~= "string" then error("fuzz: header " .. i .. " is a " .. type(headers[i])) end
      if i % 2 == 1 and headers[i]:find("[%c: ]") then error("fuzz: bad header name " .. string.format("%q", headers[i])) end
      if headers[i]:find("[\r\n%z]") then error("fuzz: header " .. i .. " holds CR, LF or NUL") end
    end
  end
  if status == 500 then
    for _, pat in ipairs(KNOWN) do
      if tostring(logged):find(pat) then return end
    end
    error(string.format("fuzz: %s %s answered 500: %s", req.method, req.path, tostring(body)))
  end
  if status >= 400 then
    -- every error body is the API's JSON error object
    local ok, j = pcall(cjson.decode, body or "")
    if not ok or type(j) ~= "table" or type(j.code) ~= "string" or type(j.message) ~= "string" then
      error(string.format("fuzz: %d answer without the JSON error body: %s", status, tostring(body)))
    end
  end
  if cache ~= nil and type(cache) ~= "boolean" then error("fuzz: cache flag of type " .. type(cache)) end
end
