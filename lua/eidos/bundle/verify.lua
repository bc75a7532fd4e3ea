-- eidos.bundle.verify: checks a bundle directory against its checksums.txt
-- (every listed file present with its digest, no file unlisted), the
-- signature checksums.txt.sig with a public key, and the subjects of
-- attestation.intoto.json. Returns a report; the command decides the exit
-- status. Invalid input (no such directory, unreadable key) raises.
local errors = require("eidos.errors")
local fs = require("eidos.core.fs")
local sha256 = require("eidos.core.sha256")
local output = require("eidos.bundle.output")

local M = {}

local function invalid(fmt, ...) errors.raise("invalid", string.format(fmt, ...)) end

-- scan(dir, problem) -> set of the entries below dir (relative paths; true
-- for a regular file, false for one reported as a problem), sorted list of
-- the regular files. A bundle holds regular files and
-- directories only: a symlink anywhere (it could lead outside the bundle,
-- or make a listed digest describe another file), a FIFO or a device is a
-- problem and is never read.
local function scan(dir, problem)
  local set, list = {}, {}
  local max = require("eidos.doc").MAX_DEPTH
  local function walk(rel, depth)
    if depth > max then return problem("unsafe", rel, string.format("directories nest more than %d deep", max)) end
    for _, name in ipairs(errors.check(fs.list(rel == "" and dir or (dir .. "/" .. rel)))) do
      local r = rel == "" and name or (rel .. "/" .. name)
      local st = errors.check(fs.stat(dir .. "/" .. r))
      if st.type == "directory" then walk(r, depth + 1)
      elseif st.type == "file" then set[r] = true; list[#list + 1] = r
      elseif st.type == "symlink" then
        set[r] = false
        problem("symlink", r, string.format("is a symlink (to %q); a bundle holds regular files only", st.link))
      else
        set[r] = false
        problem("special", r, string.format("is a %s; a bundle holds regular files only", st.type))
      end
    end
  end
  walk("", 1)
  table.sort(list)
  return set, list
end

-- verify(dir, {key = PEM text or nil}) -> report
-- report = {ok=, files=N, problems={{kind=, path=, msg=}}, signature=
-- "verified"|"absent"|"unchecked"|"failed", attestation="consistent"|
-- "absent"|"inconsistent"}
function M.verify(dir, opts)
  opts = opts or {}
  local kind = fs.exists(dir)
  if kind == nil then invalid("bundle %q not found (give the bundle directory)", dir) end
  if kind ~= "dir" then
    if output.archive_format(dir) then
      invalid("%q is an archive; extract it first (tar -xzf or unzip) and verify the directory", dir)
    end
    invalid("bundle %q is not a directory", dir)
  end
  local r = { problems = {}, files = 0, dir = dir }
  local function problem(k, path, msg) r.problems[#r.problems + 1] = { kind = k, path = path, msg = msg } end
  local sums_path = dir .. "/" .. output.CHECKSUMS
  local listed = {}
  local sums
  local regular, all = scan(dir, problem)
  if regular[output.CHECKSUMS] == nil then
    problem("missing", output.CHECKSUMS, "checksums.txt not found: not an eidos bundle, or it was removed")
  elseif regular[output.CHECKSUMS] then
    sums = errors.check(fs.read(sums_path, 64 * 1024 * 1024))
    local n = 0
    for line in sums:gmatch("([^\n]*)\n?") do
      n = n + 1
      if line ~= "" then
        local hex, path = line:match("^(%x+)  (.+)$")
        if not hex or #hex ~= 64 then
          problem("malformed", output.CHECKSUMS, string.format("line %d is not 'SHA256  PATH': %q", n, line))
        elseif not fs.join(dir, path) or path:sub(1, 1) == "/" then
          problem("unsafe", path, "path leaves the bundle directory")
        elseif listed[path] then
          problem("malformed", path, "listed twice")
        else
          listed[path] = hex:lower()
          r.files = r.files + 1
          local p = dir .. "/" .. path
          if regular[path] == nil then
            problem("missing", path, "listed in checksums.txt but missing")
          elseif regular[path] then
            local got = sha256.file(p)
            if got ~= hex:lower() then
              problem("changed", path, string.format("sha256 %s, expected %s", tostring(got), hex:lower()))
            end
          end
        end
      end
    end
    for _, f in ipairs(all) do
      if not listed[f] and f ~= output.CHECKSUMS and f ~= output.SIGNATURE then
        problem("extra", f, "not listed in checksums.txt")
      end
    end
  end
  -- signature
  local sig_path = dir .. "/" .. output.SIGNATURE
  local has_sig = regular[output.SIGNATURE]
  if opts.key then
    if not has_sig then
      r.signature = "absent"
      problem("signature", output.SIGNATURE, "--key given but the bundle has no checksums.txt.sig")
    elseif sums then
      local text = errors.check(fs.read(sig_path, 1024 * 1024))
      local raw, why = require("eidos.core.base64").decode(text)
      if not raw or raw == "" then
        r.signature = "failed"
        problem("signature", output.SIGNATURE, "checksums.txt.sig is not base64" .. (why and " (" .. why .. ")" or ""))
      else
        local sign = require("eidos.core.sign")
        local good, msg, code = sign.verify(opts.key, sums, raw)
        if good then
          r.signature = "verified"
        elseif code == "invalid" then
          invalid("--key: %s", tostring(msg))
        else
          r.signature = "failed"
          problem("signature", output.SIGNATURE, "signature does not match checksums.txt with this key")
        end
      end
    else
      r.signature = "failed"
    end
  else
    r.signature = has_sig and "unchecked" or "absent"
  end
  -- attestation subjects agree with the files
  local att = dir .. "/" .. output.ATTESTATION
  if regular[output.ATTESTATION] then
    r.attestation = "consistent"
    local ok, st = pcall(function() return require("eidos.doc").decode(errors.check(fs.read(att, 64 * 1024 * 1024)), att) end)
    if not ok or type(st) ~= "table" or st._type ~= output.STATEMENT_TYPE or type(st.subject) ~= "table" then
      r.attestation = "inconsistent"
      problem("attestation", output.ATTESTATION, "not an in-toto Statement v1")
    else
      for _, s in ipairs(st.subject) do
        local name = type(s) == "table" and s.name
        local d = type(s) == "table" and type(s.digest) == "table" and s.digest.sha256
        if type(name) ~= "string" or type(d) ~= "string" then
          r.attestation = "inconsistent"
          problem("attestation", output.ATTESTATION, "a subject lacks name or sha256 digest")
        elseif listed[name] and listed[name] ~= d:lower() then
          r.attestation = "inconsistent"
          problem("attestation", name, "digest in attestation.intoto.json differs from checksums.txt")
        elseif not listed[name] and sums then
          r.attestation = "inconsistent"
          problem("attestation", name, "subject of attestation.intoto.json not listed in checksums.txt")
        end
      end
    end
  else
    r.attestation = "absent"
  end
  r.ok = #r.problems == 0
  return r
end

return M
