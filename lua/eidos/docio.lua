-- eidos.docio: where documents come from and go to. A source or destination
-- is "-" (stdin/stdout), a file path, or a URL whose scheme has a registered
-- handler (http/https and cm:// are registered by eidos.k8s / eidos.fetch).
-- Files are written atomically (temporary file, then rename): nothing is
-- ever left half written. A write to anything but stdout ends with the
-- "wrote ..." line of eidos.progress.
local errors = require("eidos.errors")
local doc = require("eidos.doc")

local M = {}

local schemes = {}

-- register(scheme, {read=function(url, opts) -> text, origin end,
--                   write=function(url, text, opts) end,
--                   load=function() end (optional: lazy set-up)})
function M.register(scheme, handler)
  schemes[scheme] = handler
end

-- modules that register schemes when first needed
local providers = { cm = "eidos.k8s.cmstore", http = "eidos.fetch", https = "eidos.fetch", oci = "eidos.oci" }

local function scheme_of(loc)
  return loc:match("^([%a][%w+.-]*)://")
end

-- scheme(loc) -> the lower-case URL scheme of loc ("oci", "https", ...),
-- or nil for a path
function M.scheme(loc)
  local s = type(loc) == "string" and scheme_of(loc)
  return s and s:lower() or nil
end

-- local_path(loc, what, accepted) -> loc; raises when loc is a URL: no
-- scheme is ever taken for a directory or file name
function M.local_path(loc, what, accepted)
  local s = M.scheme(loc)
  if s then
    errors.raise("invalid", string.format("%s %q is a %s:// URL, not a local path (accepted: %s)", what, loc, s,
      accepted or "a file or directory path"))
  end
  return loc
end

local function handler(loc, what)
  local s = scheme_of(loc)
  if not s then return nil end
  s = s:lower()
  if not schemes[s] and providers[s] then
    require(providers[s])
  end
  local h = schemes[s]
  if not h or not h[what] then
    local accepted = {}
    for k, v in pairs(schemes) do if v[what] then accepted[#accepted + 1] = k .. "://" end end
    table.sort(accepted)
    errors.raise("invalid", string.format("unsupported location %q for %s (accepted: a file path, -%s%s)",
      loc, what == "read" and "input" or "output",
      #accepted > 0 and ", " or "", table.concat(accepted, ", ")))
  end
  return h
end

-- the --max-input-size limit in bytes (parsed by eidos.units), when given,
-- for every input (files, stdin, URLs); without it files and stdin allow
-- 64 MiB and URLs 16 MiB
M.max_input = nil

-- An explicit file argument (--kubeconfig, --recipe, --sign-key, ...) may
-- also be a pipe or a character device: `<(...)`, /dev/fd/N, /dev/stdin, a
-- named FIFO. Its input must end within input_timeout() (exit 5 otherwise)
-- and stay under the size limit; it is read once (a second read in the
-- same run gets the same text). Files found by scanning a directory must
-- be regular files (check_file without opts.stream).
local STREAM = { FIFO = true, ["character device"] = true }
local streamed = {}

-- input_timeout() -> ms a pipe or device given as a file may take to end:
-- EIDOS_INPUT_TIMEOUT (a duration; a bare number is seconds), default 30s
function M.input_timeout()
  if not M.INPUT_TIMEOUT then
    M.INPUT_TIMEOUT = require("eidos.units").env("EIDOS_INPUT_TIMEOUT", "duration",
      { unit = "s", min = 1, default = 30000 })
  end
  return M.INPUT_TIMEOUT
end

-- check_file(path, what[, opts]) -> "file", or with opts.stream also
-- "FIFO" or "character device": raise unless path is, or leads by
-- symlinks to, one of these. Messages give the real type and the OS's
-- reason: "not found" (exit 3) only when nothing is there or a symlink
-- leads nowhere; any other type is exit 2 naming it. opts.scanned: path
-- was found by listing a directory, so a symlink that leads nowhere is bad
-- content of that directory (exit 2), not a missing input.
function M.check_file(path, what, opts)
  local fs = require("eidos.core.fs")
  local st, msg, code = fs.stat(path)
  if not st then
    if code == "notfound" then errors.raise("notfound", string.format("%s file %q not found", what, path)) end
    errors.raise(errors.exit[code] and code or "failure", string.format("%s %q: %s", what, path, msg))
  end
  local t = st.type
  if t == "symlink" then
    if not st.target then
      local link_code = st.target_error == "No such file or directory" and "notfound" or "failure"
      errors.raise(opts and opts.scanned and "invalid" or link_code,
        string.format("cannot read %s %q: it is a symlink to %q, which cannot be followed (%s)",
          what, path, st.link, st.target_error))
    end
    t = st.target
  end
  local stream = opts and opts.stream
  if t ~= "file" and not (stream and STREAM[t]) then
    errors.raise("invalid", string.format("%s %q is a %s, not a regular file%s", what, path, t,
      stream and " (accepted: a file, a pipe such as <(...) or /dev/fd/N, or a character device)" or ""))
  end
  return t
end

-- read_file(path, opts) -> text of an explicit file argument (a regular
-- file, a pipe or a character device). opts.what names it in messages;
-- opts.max is the byte limit (default --max-input-size, else 64 MiB).
function M.read_file(path, opts)
  opts = opts or {}
  local what = opts.what or "input"
  if streamed[path] then return streamed[path] end
  local t = M.check_file(path, what, { stream = true })
  local max = opts.max or M.max_input or 64 * 1024 * 1024
  local text, msg, code = require("eidos.core.fs").read(path, max, t ~= "file" and M.input_timeout() or 0)
  if not text and code == "timeout" then
    errors.raise("timeout", string.format("%s %q: the %s did not end within %s (EIDOS_INPUT_TIMEOUT sets the " ..
      "limit; a pipe must be closed by its writer)", what, path, t, require("eidos.units").format_duration(M.input_timeout())))
  end
  errors.check(text, msg, code, what .. " " .. path)
  if t ~= "file" then streamed[path] = text end
  return text
end

-- read(loc, opts) -> text, origin. opts.max: byte limit (default 64 MiB);
-- opts.what: what is read, for messages ("snapshot", "recipe", ...).
function M.read(loc, opts)
  opts = opts or {}
  if M.max_input and not opts.max then
    local o = {}
    for k, v in pairs(opts) do o[k] = v end
    o.max, o.max_flag = M.max_input, "--max-input-size"
    opts = o
  end
  local what = opts.what or "input"
  if loc == nil or loc == "" then errors.raise("invalid", "no " .. what .. " given") end
  if loc == "-" then
    local max = opts.max or 64 * 1024 * 1024
    local text, err = io.stdin:read(max + 1)
    if text == nil and err then
      errors.raise("invalid", string.format("cannot read the %s from stdin: %s", what, err))
    end
    text = text or ""
    if #text > max then
      errors.raise("invalid", string.format("%s on stdin is more than the limit of %d bytes", what, max))
    end
    return text, "stdin"
  end
  local h = handler(loc, "read")
  if h then return h.read(loc, opts) end
  return M.read_file(loc, opts), loc
end

-- load(loc, opts) -> document, origin
function M.load(loc, opts)
  local text, origin = M.read(loc, opts)
  if text:find("\0", 1, true) then
    errors.raise("invalid", string.format("%s %q is binary, not YAML or JSON", (opts and opts.what) or "input", loc))
  end
  return doc.decode(text, origin), origin
end

-- a failed write, flush or close of an output: exit 1 with the OS's message
local function written(ok, err, where)
  if not ok then errors.raise("failure", string.format("cannot write %s: %s", where, tostring(err))) end
end

-- write_file(path, text): atomically, or into a device or FIFO
local function write_file(loc, text)
  local fs = require("eidos.core.fs")
  local dir = loc:match("^(.*)/[^/]*$")
  if dir and dir ~= "" and fs.exists(dir) ~= "dir" then
    errors.raise("invalid", string.format("output directory %q does not exist", dir))
  end
  local kind = fs.exists(loc)
  if kind == "dir" then
    errors.raise("invalid", string.format("output %q is a directory; give a file path", loc))
  end
  if kind == "other" then
    -- a device or FIFO (/dev/null, /dev/stdout, a pipe): write into it;
    -- renaming a temporary file over it would replace the device
    local f, err = io.open(loc, "wb")
    written(f, err, loc)
    local ok, werr = f:write(text)
    local cok, cerr = f:close()
    written(ok and cok, werr or cerr, loc)
    return
  end
  local ok, msg, code = fs.write_atomic(loc, text)
  errors.check(ok, msg, code, "writing " .. loc)
end

-- write(loc, text, opts): loc nil or "-" means stdout. Every write, flush
-- and close is checked: output that cannot be written is an error (exit 1)
-- with the OS's reason (ENOSPC, EFBIG, EPIPE, EIO), never a silent loss.
-- Elsewhere, the closing line names opts.what (default "output") and
-- opts.detail (eidos.progress.wrote), unless opts.part (one file of many,
-- whose caller closes with one line for them all).
function M.write(loc, text, opts)
  if loc == nil or loc == "-" then
    local ok, err = io.stdout:write(text)
    if ok then ok, err = io.stdout:flush() end
    written(ok, err, "to standard output")
    return
  end
  opts = opts or {}
  local h = handler(loc, "write")
  if h then h.write(loc, text, opts)
  else write_file(loc, text) end
  if not opts.part then require("eidos.progress").wrote(opts.what or "output", loc, opts.detail, #text) end
end

-- what(d) -> the words for a document in messages: "snapshot",
-- "recipe result", "validation result" (its kind, split)
function M.what(d)
  local kind = type(d) == "table" and type(d.kind) == "string" and d.kind or nil
  return kind and (kind:gsub("(%l)(%u)", "%1 %2"):lower()) or "output"
end

-- emit(d, opts): encode a document in opts.format (yaml|json, or table via
-- opts.table(d) -> text) and write it to opts.output (opts.what defaults to
-- M.what(d))
function M.emit(d, opts)
  local text
  if opts.format == "table" then
    if not opts.table then errors.raise("invalid", "format 'table' is not available here (accepted: yaml, json)") end
    text = opts.table(d)
  else
    text = doc.encode(d, opts.format or "yaml")
  end
  if opts.what == nil then
    local o = { what = M.what(d) }
    for k, v in pairs(opts) do o[k] = v end
    opts = o
  end
  M.write(opts.output, text, opts)
  return text
end

return M
