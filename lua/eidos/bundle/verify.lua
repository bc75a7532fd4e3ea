-- eidos.bundle.verify: checks a bundle against its checksums.txt (every
-- listed file present with its digest, no file unlisted), the signature
-- checksums.txt.sig with a public key, and the attestation: the DSSE
-- envelope attestation.dsse.json (its signature with the key, its
-- statement's subjects against checksums.txt), or the bare statement
-- attestation.intoto.json of bundles signed before. A bundle is a directory
-- (verify: regular files only, a symlink or special file is a problem and
-- never read) or any tree of files, such as a layer pulled from a registry
-- (check). Returns a report; the command decides the exit status. Invalid
-- input (no such directory, unreadable key) raises.
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

-- dir_tree(dir) -> the tree interface over a directory: scan(problem) ->
-- regular-file set and sorted list (see scan), read(path, max),
-- sha256(path), safe(path)
local function dir_tree(dir)
  return {
    scan = function(problem) return scan(dir, problem) end,
    read = function(path, max) return errors.within("reading " .. path, fs.read(dir .. "/" .. path, max)) end,
    sha256 = function(path) return sha256.file(dir .. "/" .. path) end,
    safe = function(path) return fs.join(dir, path) ~= nil end,
  }
end

-- files_tree(files) -> the tree interface over {path=, data=} files
function M.files_tree(files)
  local by = {}
  for _, f in ipairs(files) do by[f.path] = f end
  return {
    scan = function()
      local set, list = {}, {}
      for i, f in ipairs(files) do set[f.path] = true; list[i] = f.path end
      table.sort(list)
      return set, list
    end,
    read = function(path) return by[path].data end,
    sha256 = function(path) return sha256.hex(by[path].data) end,
    safe = function(path) return fs.join("x", path) ~= nil end,
  }
end

-- the attestation: DSSE envelope (or a bare statement of an older bundle)
-- -> statement or nil; sets r.attestation
local function attestation(t, regular, r, listed, sums, key, problem)
  local name = regular[output.ATTESTATION] and output.ATTESTATION or
    regular[output.LEGACY_ATTESTATION] and output.LEGACY_ATTESTATION or nil
  if not name then
    r.attestation = "absent"
    return
  end
  r.attestation = "consistent"
  local text = t.read(name, 64 * 1024 * 1024)
  local st
  if name == output.ATTESTATION then
    local why, status
    st, why, status = require("eidos.bundle.attest").open_envelope(text, name, key)
    r.attestation_signature = status
    if status == "failed" and key then
      r.attestation = "inconsistent"
      problem("attestation", name, "the DSSE signature does not match this key")
    end
    if not st then
      r.attestation = "inconsistent"
      problem("attestation", name, why)
      return
    end
  else
    local ok, d = pcall(function() return require("eidos.doc").decode(text, name) end)
    st = ok and d or nil
  end
  M.check_statement(st, name, listed, sums ~= nil, r, problem)
end

-- check_statement(st, name, listed, have_sums, r, problem): the subjects
-- of an in-toto statement agree with the checksums
function M.check_statement(st, name, listed, have_sums, r, problem)
  if type(st) ~= "table" or st._type ~= output.STATEMENT_TYPE or type(st.subject) ~= "table" then
    r.attestation = "inconsistent"
    problem("attestation", name, "not an in-toto Statement v1")
    return
  end
  for _, s in ipairs(st.subject) do
    local sname = type(s) == "table" and s.name
    local d = type(s) == "table" and type(s.digest) == "table" and s.digest.sha256
    if type(sname) ~= "string" or type(d) ~= "string" then
      r.attestation = "inconsistent"
      problem("attestation", name, "a subject lacks name or sha256 digest")
    elseif listed[sname] and listed[sname] ~= d:lower() then
      r.attestation = "inconsistent"
      problem("attestation", sname, "digest in " .. name .. " differs from checksums.txt")
    elseif not listed[sname] and have_sums then
      r.attestation = "inconsistent"
      problem("attestation", sname, "subject of " .. name .. " not listed in checksums.txt")
    end
  end
end

-- verify(dir, {key = PEM text or nil}) -> report
-- report = {ok=, files=N, problems={{kind=, path=, msg=}}, signature=
-- "verified"|"absent"|"unchecked"|"failed", attestation="consistent"|
-- "absent"|"inconsistent"}
function M.verify(dir, opts)
  local kind = fs.exists(dir)
  if kind == nil then invalid("bundle %q not found (give the bundle directory)", dir) end
  if kind ~= "dir" then
    if output.archive_format(dir) then
      invalid("%q is an archive; extract it first (tar -xzf or unzip) and verify the directory", dir)
    end
    invalid("bundle %q is not a directory", dir)
  end
  local r = M.check(dir_tree(dir), opts)
  r.dir = dir
  return r
end

-- check(tree, {key=}) -> report (see verify)
function M.check(t, opts)
  opts = opts or {}
  local r = { problems = {}, files = 0 }
  local function problem(k, path, msg) r.problems[#r.problems + 1] = { kind = k, path = path, msg = msg } end
  local listed = {}
  local sums
  local regular, all = t.scan(problem)
  if regular[output.CHECKSUMS] == nil then
    problem("missing", output.CHECKSUMS, "checksums.txt not found: not an eidos bundle, or it was removed")
  elseif regular[output.CHECKSUMS] then
    sums = t.read(output.CHECKSUMS, 64 * 1024 * 1024)
    local n = 0
    for line in sums:gmatch("([^\n]*)\n?") do
      n = n + 1
      if line ~= "" then
        local hex, path = line:match("^(%x+)  (.+)$")
        if not hex or #hex ~= 64 then
          problem("malformed", output.CHECKSUMS, string.format("line %d is not 'SHA256  PATH': %q", n, line))
        elseif not t.safe(path) or path:sub(1, 1) == "/" then
          problem("unsafe", path, "path leaves the bundle directory")
        elseif listed[path] then
          problem("malformed", path, "listed twice")
        else
          listed[path] = hex:lower()
          r.files = r.files + 1
          if regular[path] == nil then
            problem("missing", path, "listed in checksums.txt but missing")
          elseif regular[path] then
            local got = t.sha256(path)
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
  local has_sig = regular[output.SIGNATURE]
  if opts.key then
    if not has_sig then
      r.signature = "absent"
      problem("signature", output.SIGNATURE, "--key given but the bundle has no checksums.txt.sig")
    elseif sums then
      local text = t.read(output.SIGNATURE, 1024 * 1024)
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
  attestation(t, regular, r, listed, sums, opts.key, problem)
  r.ok = #r.problems == 0
  return r
end

return M
