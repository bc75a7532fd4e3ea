-- eidos.api.http: the HTTP vocabulary of the API handlers. Query strings
-- (strict: an unknown or repeated parameter is an error that lists what is
-- accepted), content negotiation (JSON by default, YAML on request),
-- request bodies by Content-Type (415 for anything else), ETags and
-- If-None-Match, and the error body every failure is turned into:
--   {code, message, details, requestId, timestamp, retryable}
-- Handlers raise errors (eidos.errors for the common codes, http.fail for
-- the HTTP-only ones); eidos.api turns them into responses.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local emit = require("eidos.core.emit")
local strx = require("eidos.text")

local M = {}

-- ---- errors ----

local HttpErr = {}
HttpErr.__index = HttpErr
HttpErr.__tostring = function(e) return e.msg end

-- fail(status, code, msg, details, headers): raise an HTTP-only error
-- (405 METHOD_NOT_ALLOWED, 415 UNSUPPORTED_MEDIA_TYPE, ...)
function M.fail(status, code, msg, details, headers)
  error(setmetatable({ status = status, code = code, msg = msg, detail = details, headers = headers }, HttpErr), 0)
end

function M.is_fail(e) return getmetatable(e) == HttpErr end

-- API code names of the eidos.errors codes
M.codes = {
  invalid = "INVALID_REQUEST", notfound = "NOT_FOUND", unauthorized = "UNAUTHORIZED",
  timeout = "TIMEOUT", unavailable = "SERVICE_UNAVAILABLE", ratelimited = "RATE_LIMIT_EXCEEDED",
  internal = "INTERNAL", failure = "INTERNAL", checkfailed = "VALIDATION_FAILED",
}

local ERROR_ORDER = { "code", "message", "details", "requestId", "timestamp", "retryable" }

-- the server capability (eidos.api.new hands it in; nil outside eidosd)
local server = nil

-- use_server(s): the clock of error bodies' timestamps is s.time() (eidosd's
-- server capability), os.time() without one
function M.use_server(s) server = s end

local function timestamp()
  local t = server and server.time() or os.time()
  local ms = math.floor((t % 1) * 1000 + 0.5)
  if ms >= 1000 then ms = 999 end
  return os.date("!%Y-%m-%dT%H:%M:%S", math.floor(t)) .. string.format(".%03dZ", ms)
end
M.timestamp = timestamp

-- the JSON error body (details: a map, {} when there are none)
function M.error_body(status, code, msg, details, id)
  local d = type(details) == "table" and details or {}
  if getmetatable(d) == emit.list_mt or (#d > 0) then d = { items = d } end
  local body = doc.ordered({
    code = code, message = msg, details = d, requestId = id or "", timestamp = timestamp(),
    retryable = status == 429 or (status >= 500 and status ~= 501),
  }, ERROR_ORDER)
  local ok, text = pcall(emit.json, body, { indent = 0 })
  if not ok or not text then -- details that cannot be written: leave them out
    body.details = {}
    text = emit.json(body, { indent = 0 })
  end
  return text
end

-- ---- server paths ----

-- roots(cfg) -> the directories whose paths an answer must not show: the
-- override roots and --data, longest first
function M.roots(cfg)
  local roots = {}
  for _, r in ipairs(require("eidos.core.res").roots()) do roots[#roots + 1] = r end
  if cfg and cfg.data then roots[#roots + 1] = cfg.data end
  table.sort(roots, function(a, b) return #a > #b end)
  return roots
end

-- unroot(s, roots) -> s with every root (and the "/" after it) left out,
-- so a file under one reads as its path relative to it
function M.unroot(s, roots)
  for _, r in ipairs(roots) do
    if #r > 1 then s = s:gsub(r:gsub("%p", "%%%0") .. "/?", "") end
  end
  return s
end

-- ---- query strings ----

local function unescape(s)
  s = s:gsub("+", " ")
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end
M.unescape = unescape

-- parse(query) -> map name -> list of values (in order)
function M.parse_query(q)
  local out = {}
  for pair in (q or ""):gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=(.*)$")
    if not k then k, v = pair, "" end
    k = unescape(k)
    out[k] = out[k] or {}
    table.insert(out[k], unescape(v))
  end
  return out
end

local MAX_PROBLEMS = 20 -- named in one error; the rest are counted

-- params(query, spec) -> map name -> value (or list for repeatable names).
-- spec: map name -> true (single) | "list" (repeatable). Every unknown name
-- and every single one given twice is named in one invalid error (with the
-- accepted names), the first MAX_PROBLEMS of them in key order.
function M.params(q, spec)
  local raw = M.parse_query(q)
  local out, accepted, more = {}, nil, 0
  local bad = errors.problems()
  for _, k in ipairs(doc.keys(raw)) do
    local vs = raw[k]
    if not spec[k] or (spec[k] ~= "list" and #vs > 1) then
      if bad:count() >= MAX_PROBLEMS then
        more = more + 1 -- the answer stays small whatever the query holds
      elseif not spec[k] then
        if not accepted then -- only an error needs them
          accepted = {}
          for name in pairs(spec) do accepted[#accepted + 1] = name end
          table.sort(accepted)
        end
        bad:add(k, string.format("unknown query parameter %q (accepted: %s)", k,
          table.concat(accepted, ", ")), { parameter = k, accepted = doc.list(accepted) })
      else
        bad:add(k, string.format("query parameter %q is given %d times; give it once", k, #vs), { parameter = k })
      end
    elseif spec[k] == "list" then out[k] = vs
    else out[k] = vs[1] end
  end
  if more > 0 then
    bad:add("~", string.format("... and %d more unknown or repeated query parameters", more), { more = more })
  end
  bad:raise("invalid")
  return out
end

-- ---- content negotiation ----

local YAML_TYPES = { ["application/yaml"] = true, ["application/x-yaml"] = true, ["text/yaml"] = true,
                     ["text/x-yaml"] = true }
local JSON_TYPES = { ["application/json"] = true }

-- format(accept, explicit) -> "json" | "yaml". explicit: a ?format= value.
-- The highest-q acceptable of JSON and YAML wins; JSON on a tie, when
-- Accept is absent, and when neither is acceptable.
function M.format(accept, explicit)
  if explicit then
    if explicit ~= "json" and explicit ~= "yaml" then
      errors.raise("invalid", string.format("invalid format %q (accepted: json, yaml)", explicit),
        { parameter = "format", accepted = doc.list({ "json", "yaml" }) })
    end
    return explicit
  end
  if not accept or accept == "" then return "json" end
  local best = { json = -1, yaml = -1 }
  for part in accept:gmatch("[^,]+") do
    local mt = (part:match("^%s*([^;%s]+)") or ""):lower() -- "" for blank or parameter-only elements
    local q = tonumber(part:match(";%s*[qQ]%s*=%s*([%d.]+)")) or 1
    local function take(f, v) if v > best[f] then best[f] = v end end
    if JSON_TYPES[mt] or mt:match("^application/[%w.%-]+%+json$") then take("json", q)
    elseif YAML_TYPES[mt] then take("yaml", q)
    elseif mt == "*/*" or mt == "application/*" then take("json", q * 0.999); take("yaml", q * 0.99)
    elseif mt == "text/*" then take("yaml", q * 0.99) end
  end
  if best.yaml > 0 and best.yaml > best.json then return "yaml" end
  return "json"
end

M.media = { json = "application/json", yaml = "application/yaml" }

-- ---- API version ----

M.API_VERSIONS = { "v1" }

-- api_version(accept) -> the API version of the answer (X-API-Version):
-- the one a vendor media type in Accept asks for
-- (application/vnd.nvidia.eidos.v1+json, or upstream's
-- application/vnd.nvidia.aicr.v1+json), v1 without one; a request that
-- asks only for versions this server does not have is 406
function M.api_version(accept)
  local asked = {}
  for vendor, v in (accept or ""):lower():gmatch("application/vnd%.nvidia%.(%w+)%.(v%d+)") do
    if vendor == "eidos" or vendor == "aicr" then
      for _, have in ipairs(M.API_VERSIONS) do if v == have then return v end end
      asked[#asked + 1] = v
    end
  end
  if #asked == 0 then return M.API_VERSIONS[1] end
  M.fail(406, "NOT_ACCEPTABLE", string.format("API version %s is not served here (served: %s)",
    table.concat(asked, ", "), table.concat(M.API_VERSIONS, ", ")),
    { requested = doc.list(asked), served = doc.list({ table.unpack(M.API_VERSIONS) }) },
    { "x-api-version", M.API_VERSIONS[#M.API_VERSIONS] })
end

-- warning(text) -> an HTTP Warning header value (code 299, "miscellaneous
-- persistent warning"), the text as a quoted string
function M.warning(text)
  return '299 - "' .. tostring(text):gsub('[\\"]', "\\%0"):gsub("[%c]", " ") .. '"'
end

-- encode(value, format) -> text (JSON compact, YAML block style; both end in a newline)
function M.encode(v, format)
  if format == "yaml" then return doc.encode(v, "yaml") end
  local text, msg, code = emit.json(v, { indent = 0 })
  return errors.check(text, msg, code)
end

-- ---- request bodies ----

M.body_types = { "application/json", "application/yaml", "application/x-yaml", "text/yaml" }

-- limits of a request body as the loader checks it while reading
-- (doc.decode): max_expanded nil is the loader's default, max(16 x the
-- body's size, 64 MiB); nesting is fixed at doc.MAX_DEPTH. The server sets
-- them from its configuration. Over a limit: 400.
M.body_limits = { max_expanded = nil, hint = "the server's configuration" }

-- the body's text, checked: a JSON or YAML Content-Type (415 else), not
-- empty, not binary
local function body_text(req, what)
  local ct = req.headers["content-type"]
  local mt = ct and ct:match("^%s*([^;%s]+)")
  mt = mt and mt:lower()
  if mt and not JSON_TYPES[mt] and not YAML_TYPES[mt] and not mt:match("^application/[%w.%-]+%+json$") then
    M.fail(415, "UNSUPPORTED_MEDIA_TYPE",
      string.format("unsupported Content-Type %q for %s (accepted: %s)", ct, what, table.concat(M.body_types, ", ")),
      { contentType = ct, accepted = doc.list({ table.unpack(M.body_types) }) })
  end
  local text = req.body or ""
  if not text:find("%S") then
    errors.raise("invalid", string.format("the request body is empty; send %s as JSON or YAML", what))
  end
  if text:find("%z") then errors.raise("invalid", string.format("the request body is binary, not %s", what)) end
  return text
end

-- body(req, what) -> decoded document. what names the document in errors.
function M.body(req, what)
  return doc.decode(body_text(req, what), "request body", M.body_limits)
end

-- documents(req, what) -> the list of documents of the body: a YAML stream
-- of one or more documents, or one document that is a list (a JSON array)
-- of them; read with the loader's limits, like body
function M.documents(req, what)
  local docs = doc.decode_all(body_text(req, what), "request body", M.body_limits)
  if #docs == 1 and type(docs[1]) == "table" and doc.islist(docs[1]) and next(docs[1]) ~= nil then
    docs = docs[1]
  end
  return docs
end

-- ---- ETags ----

function M.etag(body)
  local sha = require("eidos.core.sha256")
  local hex = sha.hex(body)
  if not hex then return nil end
  return '"' .. hex:sub(1, 32) .. '"'
end

-- does If-None-Match (a list of entity tags or *) match etag?
function M.not_modified(inm, etag)
  if not inm or not etag then return false end
  local e = etag:gsub("^W/", "")
  for t in inm:gmatch("[^,]+") do
    t = strx.trim(t):gsub("^W/", "")
    if t == "*" or t == e then return true end
  end
  return false
end

return M
