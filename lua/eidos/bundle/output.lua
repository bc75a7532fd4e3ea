-- eidos.bundle.output: checksums, signature and in-toto statement of a
-- bundle's files, and writing them out safely: a directory is assembled in
-- a temporary sibling and put in place in one step (M.replace_dir); an archive (.tar.gz, .tgz,
-- .zip) is written atomically by eidos.core.archive with a single top
-- directory named after the archive. An existing non-empty output is
-- refused unless force is set. Every path goes through fs.join, so nothing
-- can land outside the output.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local fs = require("eidos.core.fs")
local sha256 = require("eidos.core.sha256")
local strx = require("eidos.text")

local M = {}

M.CHECKSUMS = "checksums.txt"
M.SIGNATURE = "checksums.txt.sig"
M.ATTESTATION = "attestation.dsse.json"          -- DSSE envelope of the statement
M.LEGACY_ATTESTATION = "attestation.intoto.json"  -- the bare statement of older bundles
M.PREDICATE_TYPE = "https://eidos.nvidia.com/bundle/provenance/v1"
M.STATEMENT_TYPE = "https://in-toto.io/Statement/v1"

local function invalid(fmt, ...) errors.raise("invalid", string.format(fmt, ...)) end

local function digest(data) return errors.check(sha256.hex(data)) end

local function sorted_files(files)
  table.sort(files, function(a, b) return a.path < b.path end)
  for i = 2, #files do
    if files[i].path == files[i - 1].path then
      errors.raise("internal", "two bundle files have the path " .. files[i].path)
    end
  end
  return files
end

-- checksums_text(files) -> "hex  path\n" lines sorted by path
function M.checksums_text(files)
  local lines = {}
  for _, f in ipairs(files) do
    f.sha256 = f.sha256 or digest(f.data)
    lines[#lines + 1] = f.sha256 .. "  " .. f.path
  end
  table.sort(lines, function(a, b) return a:sub(67) < b:sub(67) end)
  return table.concat(lines, "\n") .. "\n"
end

-- finish(bundle, opts) -> sorted list of all files, checksums included.
-- opts.sign_key: a PEM private key (path or text) -> signature + statement
function M.finish(bundle, opts)
  opts = opts or {}
  local files = {}
  for _, f in ipairs(bundle.files) do
    local p = errors.within("bundle file " .. f.path, fs.join("x", f.path))
    if f.path == M.CHECKSUMS or f.path == M.SIGNATURE or f.path == M.ATTESTATION or
        f.path == M.LEGACY_ATTESTATION or not p then
      errors.raise("internal", "reserved or unsafe bundle path " .. f.path)
    end
    files[#files + 1] = f
  end
  sorted_files(files)
  if opts.sign_key then
    local recipe_sha
    for _, f in ipairs(files) do if f.path == "recipe.yaml" then recipe_sha = digest(f.data) end end
    local comps = doc.list({})
    for _, c in ipairs(bundle.model.Components) do comps[#comps + 1] = c.Name end
    local attest = require("eidos.bundle.attest")
    local st = attest.statement(files, {
      version = bundle.model.Tool.Version, deployer = bundle.model.Deployer,
      recipe_sha256 = recipe_sha, criteria = bundle.model.criteria, components = comps,
    })
    files[#files + 1] = { path = M.ATTESTATION, data = (attest.envelope(st, opts.sign_key)) }
    sorted_files(files)
  end
  local sums = M.checksums_text(files)
  files[#files + 1] = { path = M.CHECKSUMS, data = sums }
  if opts.sign_key then
    local sig, alg = require("eidos.bundle.attest").sign(opts.sign_key, sums)
    files[#files + 1] = { path = M.SIGNATURE, data = sig }
    bundle.signature_alg = alg
  end
  return sorted_files(files)
end

------------------------------------------------------------------------
-- writing

local function archive_format(out)
  if out:match("%.tar%.gz$") then return "tar.gz", out:match("([^/]+)%.tar%.gz$") end
  if out:match("%.tgz$") then return "tar.gz", out:match("([^/]+)%.tgz$") end
  if out:match("%.zip$") then return "zip", out:match("([^/]+)%.zip$") end
  return nil
end
M.archive_format = archive_format

-- archive names eidos does not write: a directory of that name would
-- surprise whoever asked for the archive
local OTHER_ARCHIVES = { "%.tar", "%.tar%.xz", "%.txz", "%.tar%.bz2", "%.tbz2?", "%.tar%.zst", "%.tzst", "%.gz",
                         "%.xz", "%.bz2", "%.zst", "%.rar", "%.7z" }

-- check_target(out): refuses (exit 2) an output named like an archive
-- eidos does not write, before any work
function M.check_target(out)
  if archive_format(out) then return end
  for _, pat in ipairs(OTHER_ARCHIVES) do
    local ext = out:match("(" .. pat .. ")$")
    if ext then
      invalid("output %q names a %s archive, which eidos does not write (accepted: a directory, or a .tar.gz/.tgz/.zip" ..
        " file)", out, (ext:gsub("%%", "")))
    end
  end
end

local function dirname(p)
  local d = p:match("^(.*)/[^/]*$")
  if d == nil then return "." end
  if d == "" then return "/" end
  return d
end

local function mode_of(f) return f.mode or "0644" end

-- write one file inside the private holding directory. The directory as a
-- whole is renamed into place, so files need no atomic replace and no fsync
-- of their own: fs.write (plain write with a mode) when the core has it,
-- io.open for 0644 files otherwise, fs.write_atomic for the rest.
local function write_file(p, data, mode)
  if fs.write then
    errors.within("writing " .. p, fs.write(p, data, mode))
  elseif mode == "0644" then
    local f, msg = io.open(p, "wb")
    if not f then errors.raise("failure", "writing " .. p .. ": " .. tostring(msg)) end
    local ok, wmsg = f:write(data)
    local cok, cmsg = f:close()
    if not ok or not cok then errors.raise("failure", "writing " .. p .. ": " .. tostring(wmsg or cmsg)) end
  else
    errors.within("writing " .. p, fs.write_atomic(p, data, mode))
  end
end

M.write_file = write_file

-- refuse to replace what is at out unless it is a bundle and force is set
local function check_replace(out, force)
  local kind = fs.exists(out)
  if kind and kind ~= "dir" then
    invalid("output %q exists and is not a directory (give a new directory, or a .tar.gz/.zip file name)", out)
  end
  if kind == "dir" then
    local entries = errors.check(fs.list(out))
    if #entries > 0 and not force then
      invalid("output directory %q is not empty; use --force to replace it", out)
    end
    -- --force replaces a previous bundle, never an arbitrary directory
    if #entries > 0 and fs.exists(out .. "/" .. M.CHECKSUMS) ~= "file" then
      invalid("output directory %q is not empty and holds no checksums.txt, so it is not a bundle; " ..
        "--force only replaces a bundle (remove the directory yourself, or choose another)", out)
    end
  end
end

-- replace_dir(out, fill): the one way a directory output is put in place.
-- fill(root) writes the new content into a directory beside out, which
-- then takes out's place in one step: out holds either the whole previous
-- content or the whole new one at every instant (an atomic exchange; on a
-- file system without one the previous content is kept beside out, and put
-- back by the next run if this one is killed in between). Temporaries of
-- earlier killed runs are cleaned up first. See fs.replace_dir.
function M.replace_dir(out, fill)
  local parent = dirname(out)
  local pk = fs.exists(parent)
  if pk and pk ~= "dir" then invalid("output %q: %s is not a directory", out, parent) end
  if not pk then errors.within("creating " .. parent, fs.mkdir_p(parent)) end
  errors.within("output " .. out, fs.replace_dir(out, fill))
end

local function write_dir(files, out, force)
  out = strx.rstrip(out, "/")
  if out == "" then out = "/" end
  local base = out:match("([^/]+)$")
  if not base or base == "." or base == ".." then
    check_replace(out, force) -- "." or "..": say what is there first
    invalid("output %q is not a usable directory name", out)
  end
  M.replace_dir(out, function(root)
    -- checked once temporaries of killed runs are cleaned up (and a bundle
    -- they had set aside is back)
    check_replace(out, force)
    local made = {}
    for _, f in ipairs(files) do
      local p = errors.within("bundle file " .. f.path, fs.join(root, f.path))
      local d = dirname(p)
      if not made[d] then
        errors.check(fs.mkdir_p(d, "0755"))
        made[d] = true
      end
      write_file(p, f.data, mode_of(f))
    end
  end)
end

local function write_archive(files, out, fmt, top, force)
  local kind = fs.exists(out)
  if kind == "dir" then invalid("output %q is a directory, not an archive file name", out) end
  if kind and not force then invalid("output %q already exists; use --force to replace it", out) end
  local parent = dirname(out)
  local pk = fs.exists(parent)
  if pk and pk ~= "dir" then invalid("output %q: %s is not a directory", out, parent) end
  if not pk then errors.within("creating " .. parent, fs.mkdir_p(parent)) end
  local entries = {}
  for _, f in ipairs(files) do
    errors.within("bundle file " .. f.path, fs.join(top, f.path))
    entries[#entries + 1] = { path = top .. "/" .. f.path, data = f.data, mode = mode_of(f) }
  end
  local archive = require("eidos.core.archive")
  errors.within("writing " .. out, archive.write(out, fmt, entries, { mtime = 0 }))
end

-- write(files, out, {force=}) -> "dir" | "tar.gz" | "zip"
function M.write(files, out, opts)
  opts = opts or {}
  if out == nil or out == "" then invalid("no output given (-o DIR, or -o FILE.tar.gz / FILE.zip)") end
  -- a URL is never a directory name (oci:// is pushed by eidos.bundle.publish)
  require("eidos.docio").local_path(out, "output", "a directory, or a .tar.gz/.tgz/.zip file")
  M.check_target(out)
  local fmt, top = archive_format(out)
  if fmt then
    if not top or top == "" then invalid("output %q: the archive needs a name before the extension", out) end
    write_archive(files, out, fmt, top, opts.force)
    return fmt
  end
  write_dir(files, out, opts.force)
  return "dir"
end

return M
