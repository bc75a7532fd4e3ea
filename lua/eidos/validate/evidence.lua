-- eidos.validate.evidence: what `validate --evidence-dir DIR` keeps so a
-- result can be audited later: every object the run read, every Helm
-- release it decoded, every log it collected, and the result itself, with
-- secret values redacted by the snapshot redaction policy
-- (eidos.snapshot.redact) and a checksums.txt that `sha256sum -c` accepts.
--
--   DIR/result.json                                    the ValidationResult
--   DIR/objects/<group>/<version>/<Kind>/<ns>/<name>.json   each object read
--                                      (<group> "core", <ns> "_cluster")
--   DIR/releases/<ns>/<name>.v<revision>.json          decoded Helm releases
--   DIR/logs/<ns>/<pod>.log                            logs collected
--   DIR/checksums.txt
--
-- Redaction: a Secret's data and stringData values, and a Helm storage
-- object's data.release, are replaced whole; everywhere else a value under
-- a secret-looking key (password, token, ...) and the value of a
-- secret-looking env entry; log lines have NAME=VALUE secrets replaced.
-- Decoded releases keep name, namespace, revision, status, chart metadata
-- and values, never the rendered manifest or templates. The directory is
-- written in one step (eidos.bundle.output.replace_dir): it holds the
-- whole previous content or the whole new one. An existing directory is
-- replaced only when it is empty or holds a checksums.txt (earlier
-- evidence), never an arbitrary directory.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local fs = require("eidos.core.fs")
local redact = require("eidos.snapshot.redact")

local M = {}

local E = {}
E.__index = E

function M.new()
  return setmetatable({ objects = {}, order = {}, releases = {}, logs = {} }, E)
end

local function part(s)
  s = tostring(s or "")
  if s == "" then return "_" end
  return (s:gsub("[^%w._-]", "_"))
end

local function object_path(obj)
  local gv = tostring(obj.apiVersion or "v1")
  local group, version = gv:match("^(.+)/([^/]+)$")
  if not group then group, version = "core", gv end
  local md = type(obj.metadata) == "table" and obj.metadata or {}
  local ns = md.namespace
  if ns == nil or ns == "" then ns = "_cluster" end
  return table.concat({ "objects", part(group), part(version), part(obj.kind), part(ns), part(md.name) .. ".json" }, "/")
end

local redacted

-- object(obj): keep (a redacted copy of) an object read from the API (last
-- read wins)
function E:object(obj)
  local p = object_path(obj)
  if not self.objects[p] then self.order[#self.order + 1] = p end
  self.objects[p] = redacted(obj)
end

-- release(rec, rel): keep a decoded Helm release
function E:release(ns, name, revision, rel)
  self.releases[string.format("releases/%s/%s.v%s.json", part(ns), part(name), part(revision))] = rel
end

-- log(ns, pod, text)
function E:log(ns, pod, text)
  self.logs[string.format("logs/%s/%s.log", part(ns), part(pod))] = text or ""
end

function redacted(obj)
  local r = redact.tree(obj)
  local labels = type(obj.metadata) == "table" and type(obj.metadata.labels) == "table" and obj.metadata.labels or {}
  if obj.kind == "Secret" or labels.owner == "helm" then
    for _, k in ipairs({ "data", "stringData" }) do
      if type(r[k]) == "table" then
        for key in pairs(r[k]) do
          if obj.kind == "Secret" or key == "release" then r[k][key] = redact.marker end
        end
      end
    end
  end
  return r
end

local function log_text(text)
  local out = {}
  for line in (text .. (text:sub(-1) == "\n" and "" or "\n")):gmatch("([^\n]*)\n") do
    out[#out + 1] = redact.entries(line)
  end
  return table.concat(out, "\n") .. (#out > 0 and "\n" or "")
end

-- files(result) -> sorted list of {path=, data=} (checksums.txt included)
function E:files(result)
  local files = { { path = "result.json", data = doc.encode(result, "json") } }
  for _, p in ipairs(self.order) do
    files[#files + 1] = { path = p, data = doc.encode(self.objects[p], "json") }
  end
  for _, p in ipairs(doc.keys(self.releases)) do
    files[#files + 1] = { path = p, data = doc.encode(redact.tree(self.releases[p]), "json") }
  end
  for _, p in ipairs(doc.keys(self.logs)) do
    files[#files + 1] = { path = p, data = log_text(self.logs[p]) }
  end
  table.sort(files, function(a, b) return a.path < b.path end)
  local output = require("eidos.bundle.output")
  files[#files + 1] = { path = output.CHECKSUMS, data = output.checksums_text(files) }
  return files
end

-- check_dir(dir) -> dir without trailing slashes; raises invalid (exit 2)
-- when DIR cannot hold evidence: no usable name, an existing non-directory,
-- or a non-empty directory that is not earlier evidence. validate calls it
-- before the run, so a bad DIR costs no cluster reads and leaves no result.
function M.check_dir(dir)
  local output = require("eidos.bundle.output")
  dir = dir:gsub("/+$", "")
  if dir == "" or dir:match("([^/]+)$") == "." or dir:match("([^/]+)$") == ".." then
    errors.raise("invalid", string.format("--evidence-dir %q is not a usable directory name", dir))
  end
  local kind = fs.exists(dir)
  if kind and kind ~= "dir" then
    errors.raise("invalid", string.format("--evidence-dir %q exists and is not a directory", dir))
  end
  if kind == "dir" and #errors.check(fs.list(dir)) > 0 and fs.exists(dir .. "/" .. output.CHECKSUMS) ~= "file" then
    errors.raise("invalid", string.format("--evidence-dir %q is not empty and holds no checksums.txt, so it is " ..
      "not earlier evidence; give a new or empty directory", dir))
  end
  return dir
end

-- write(dir, result) -> number of files written
function E:write(dir, result)
  local files = self:files(result)
  local output = require("eidos.bundle.output")
  dir = M.check_dir(dir)
  output.replace_dir(dir, function(root)
    M.check_dir(dir)
    local made = {}
    for _, f in ipairs(files) do
      local p = errors.within("evidence file " .. f.path, fs.join(root, f.path))
      local d = p:match("^(.*)/[^/]*$")
      if not made[d] then
        errors.check(fs.mkdir_p(d, "0755"))
        made[d] = true
      end
      output.write_file(p, f.data, "0644")
    end
  end)
  return #files
end

return M
