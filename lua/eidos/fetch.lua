-- eidos.fetch: http:// and https:// inputs (snapshots, recipes, criteria),
-- registered with eidos.docio for reading. The body is read into memory
-- (nothing is written to a temporary file) with a size limit (opts.max,
-- default 16 MiB), a connect timeout (10 s) and a total timeout (30 s;
-- opts.timeout or EIDOS_HTTP_TIMEOUT in seconds), TLS verification always on,
-- the proxy environment (https_proxy, no_proxy, ...) honoured (a private
-- CA bundle replaces the system one with opts.ca_file or EIDOS_CA_FILE), at most
-- 5 redirects, each only to an https:// URL. Any status but 200 is an error.
-- A Content-Type that is not YAML, JSON or plain text (an HTML error page,
-- say) is refused; otherwise the document's format is found from its
-- content by the YAML/JSON decoder.
local errors = require("eidos.errors")
local http = require("eidos.core.http")

local M = {}

M.DEFAULT_MAX = 16 * 1024 * 1024

local ACCEPTED = {
  ["application/json"] = true, ["application/yaml"] = true, ["application/x-yaml"] = true,
  ["text/yaml"] = true, ["text/x-yaml"] = true, ["text/plain"] = true,
  ["application/octet-stream"] = true, ["binary/octet-stream"] = true, [""] = true,
}

local function redact(url)
  local base, q = url:match("^([^?#]*)([?#]?)")
  return base .. (q ~= "" and "?..." or "")
end
M.redact = redact

local CODES = { [401] = "unauthorized", [403] = "unauthorized", [404] = "notfound",
                [408] = "timeout", [429] = "ratelimited", [400] = "invalid" }

-- get(url, opts) -> body, content_type; raises structured errors
function M.get(url, opts)
  opts = opts or {}
  local max = opts.max or M.DEFAULT_MAX
  local b = require("eidos.core.build")
  local res, msg, code = http.request({
    url = url, method = "GET",
    headers = { Accept = "application/yaml, application/json;q=0.9, text/plain;q=0.5, */*;q=0.1" },
    connect_timeout = opts.connect_timeout or 10,
    timeout = opts.timeout or require("eidos.units").env("EIDOS_HTTP_TIMEOUT", "duration",
      { unit = "s", min = 1, default = 30000 }) / 1000,
    max_size = max, max_redirects = 5,
    ca_file = opts.ca_file or os.getenv("EIDOS_CA_FILE"),
    user_agent = "eidos/" .. tostring(b.version),
  })
  if not res then
    if code == "invalid" and msg:find("size limit", 1, true) then
      msg = msg .. string.format(" (the limit for URL inputs is %d bytes%s)", max,
        opts.max_flag and ("; raise it with " .. opts.max_flag) or "")
    end
    errors.raise(code, msg)
  end
  if res.status ~= 200 then
    local c = CODES[res.status] or (res.status >= 500 and "unavailable") or "unavailable"
    errors.raise(c, string.format("GET %s: HTTP %d%s (only 200 is accepted)", redact(url), res.status,
      res.status >= 300 and res.status < 400 and " redirect not followed" or ""))
  end
  return res.body, res.content_type
end

-- read(url, opts) -> text, origin (docio scheme handler)
function M.read(url, opts)
  opts = opts or {}
  local body, ctype = M.get(url, opts)
  local mt = (ctype or ""):lower():match("^%s*([^;%s]*)")
  if not ACCEPTED[mt] and not mt:match("%+json$") and not mt:match("%+yaml$") then
    errors.raise("invalid", string.format("%s from %s has Content-Type %q, not YAML or JSON "
      .. "(accepted: application/yaml, application/json, text/plain)", opts.what or "input", redact(url), ctype))
  end
  return body, redact(url)
end

local docio = require("eidos.docio")
docio.register("http", { read = M.read })
docio.register("https", { read = M.read })

return M
