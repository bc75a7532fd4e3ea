-- eidos.recipe.libdata: the colder half of eidos.recipe.library -- an
-- external data directory (--data DIR: checks, walk, layering), registry
-- files merged by component name, the full overlay index (lint, explain)
-- and file listings. A plain query on the built-in library never loads it.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local library = require("eidos.recipe.library")

local M = {}

-- data_files(data) -> sorted relative paths of the files of an external
-- directory: regular files, and symlinks that resolve to a regular file
-- inside it. A symlink that leaves the directory or cannot be followed, and
-- any other kind of file (FIFO, socket, device), is refused naming it: a
-- scan never reads outside --data and never blocks on a pipe. Hidden
-- entries are skipped; symlinked directories are not followed.
local function data_files(data)
  local fs = require("eidos.core.fs")
  local top = errors.within("external data directory " .. data, fs.stat(data))
  local inside = top.real == "/" and "/" or (top.real .. "/")
  local out = {}
  local function refuse(rel, why)
    errors.raise("invalid", string.format("external data directory %s: %q %s (accepted: regular files, and " ..
      "symlinks to files inside the directory)", data, rel, why))
  end
  local function scan(rel, depth)
    if depth > doc.MAX_DEPTH then refuse(rel, string.format("nests more than %d directories deep", doc.MAX_DEPTH)) end
    local names = errors.within("reading external data " .. data, fs.list(rel == "" and data or (data .. "/" .. rel)))
    for _, name in ipairs(names) do
      local r = rel == "" and name or (rel .. "/" .. name)
      local st = name:sub(1, 1) ~= "." and errors.check(fs.stat(data .. "/" .. r))
      local t = st and st.type
      if t == "symlink" then
        if not st.target then
          refuse(r, string.format("is a symlink to %q that cannot be followed (%s)", st.link, st.target_error))
        end
        if st.real:sub(1, #inside) ~= inside then refuse(r, string.format("is a symlink to %q, outside the directory", st.link)) end
        t = st.target ~= "directory" and st.target
      end
      if t == "directory" then scan(r, depth + 1)
      elseif t == "file" then out[#out + 1] = r
      elseif t then refuse(r, "is a " .. t .. ", not a regular file") end
    end
  end
  scan("", 1)
  table.sort(out)
  return out
end

-- open_catalog(lib, ref): add the files of a catalog pushed to a registry
-- ('eidos catalog push'), held in memory (the mode is the library's: a
-- replacing library starts without the built-in files)
local function open_catalog(lib, data)
  local files = require("eidos.oci").pull_catalog(data)
  local has_registry = false
  for _, f in ipairs(files) do
    if not (f.path:match("^%.") or f.path:find("/.", 1, true)) then
      if not lib.file[f.path] then lib.paths[#lib.paths + 1] = f.path end
      lib.file[f.path] = { layer = "data", origin = data .. "!/" .. f.path, text = f.data }
      if f.path == "registry.yaml" then has_registry = true end
    end
  end
  -- both modes, as for a directory
  if not has_registry then
    errors.raise("invalid", string.format("registry.yaml is required in catalog %s (a recipe catalog holds " ..
      "registry.yaml, overlays/ and components/, as a --data directory does)", data))
  end
  table.sort(lib.paths)
end

-- open_data(lib, dir): add the files of an external directory (or of an
-- oci:// catalog); lib.mode says whether they overlay or replace the
-- built-in files
function M.open_data(lib, data)
  if require("eidos.oci.ref").is(data) then return open_catalog(lib, data) end
  require("eidos.docio").local_path(data, "--data", "a recipe data directory or an oci:// catalog")
  local fs = require("eidos.core.fs")
  local kind = fs.exists(data)
  if kind == nil then
    errors.raise("notfound", string.format("external data directory %q not found", data))
  elseif kind ~= "dir" then
    errors.raise("invalid", string.format("external data path %q is not a directory", data))
  end
  -- both modes, as upstream: a directory without a registry is not a
  -- recipe data directory (a typo'd path, or the overlays/ folder itself)
  if fs.exists(data .. "/registry.yaml") ~= "file" then
    errors.raise("invalid", string.format("registry.yaml is required in external data directory %s (a recipe " ..
      "data directory holds registry.yaml, overlays/ and components/; in --data-mode overlay its registry.yaml may " ..
      "list only the components it adds or changes)", data))
  end
  local files = data_files(data)
  local added = false
  for _, rel in ipairs(files) do
    if not lib.file[rel] then lib.paths[#lib.paths + 1] = rel; added = true end
    lib.file[rel] = { layer = "data", origin = data .. "/" .. rel }
  end
  if added then table.sort(lib.paths) end
end

-- registry(lib) -> merged registry of the built-in library and DIR: an
-- entry of DIR is deep-merged over the built-in entry of the same name,
-- new names are appended in DIR's order
function M.registry(self)
  local merge = require("eidos.core.merge")
  local reg = { list = {}, byname = {}, where = {}, problems = {} }
  local function add(d, where)
    local seen = {}
    if type(d) ~= "table" or doc.islist(d) then
      errors.raise("invalid", string.format("%s: expected a ComponentRegistry document (apiVersion, kind, components)", where))
    end
    local bad = errors.problems(where)
    if d.kind ~= nil and d.kind ~= "ComponentRegistry" then
      bad:add("kind", string.format("kind %s is not a component registry (accepted: ComponentRegistry)", errors.show(d.kind)))
    end
    local comps = library.check_list(d.components, "components", bad)
    for i, c in ipairs(comps) do
      if type(c) ~= "table" or type(c.name) ~= "string" or c.name == "" then
        local at = string.format("components[%d]", i - 1)
        bad:add(at, at .. " needs a name")
      end
    end
    bad:raise("invalid")
    for _, c in ipairs(comps) do
      if seen[c.name] then
        reg.problems[#reg.problems + 1] = { file = where, msg = string.format("component %q is listed twice", c.name) }
      end
      seen[c.name] = true
      local prev = reg.byname[c.name]
      if prev then
        reg.byname[c.name] = merge.deep(prev, c)
        reg.where[c.name] = reg.where[c.name] .. ", " .. where
      else
        reg.list[#reg.list + 1] = c.name
        reg.byname[c.name] = c
        reg.where[c.name] = where
      end
    end
  end
  local layers = {}
  if self.mode ~= "replace" then
    local res = require("eidos.core.res")
    local text, origin = res.read("recipes/registry.yaml")
    if text then layers[#layers + 1] = { text = text, where = origin == "embedded" and "recipes/registry.yaml" or origin } end
  end
  local f = self.file["registry.yaml"]
  if self.data and f and f.layer == "data" then
    local text, where = self:read("registry.yaml")
    layers[#layers + 1] = { text = text, where = where }
  end
  if #layers == 0 then
    errors.raise("invalid", string.format("the recipe library has no registry.yaml%s",
      self.data and (" (looked in " .. self.data .. ")") or ""))
  end
  for _, l in ipairs(layers) do add(doc.decode(l.text, l.where), l.where) end
  return reg
end

-- index(lib) -> the full overlay index (see Lib:index)
function M.index(self)
  if self._index then return self._index end
  local idx = { list = {}, byname = {}, problems = {} }
  local byname = {}
  for _, rel in ipairs(self:overlay_paths()) do
    local e, problem = self:entry(rel)
    if problem then idx.problems[#idx.problems + 1] = { file = self:where(rel), msg = problem } end
    if e then
      local prev = byname[e.name]
      if prev then
        local keep = library.prefer(prev, e)
        if prev.layer == e.layer then
          idx.problems[#idx.problems + 1] = { file = e.where,
            msg = string.format("metadata.name %q is also declared by %s (names must be unique; %s is used)",
              e.name, prev.where, keep.where) }
        end
        byname[e.name] = keep
      else
        byname[e.name] = e
      end
    end
  end
  local names = {}
  for n in pairs(byname) do names[#names + 1] = n end
  table.sort(names)
  for _, n in ipairs(names) do
    local e = byname[n]
    if n == "base" then idx.base = e
    else idx.list[#idx.list + 1] = e end
    idx.byname[n] = e
  end
  if not idx.base then self:base() end
  self._index = idx
  return idx
end


function M.files(self, prefix)
  local out = {}
  for _, rel in ipairs(self.paths) do
    if prefix == nil or rel:sub(1, #prefix) == prefix then out[#out + 1] = rel end
  end
  return out
end


return M
