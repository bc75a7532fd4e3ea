-- eidos.recipe.library: the recipe library a query runs against -- the
-- built-in one (recipes/ in the resource tree: embedded, or overridden file
-- by file from disk) optionally layered with an external directory
-- (`--data DIR`, upstream layout: registry.yaml, overlays/*.yaml,
-- components/<name>/...).
--
-- Layering (mode "overlay", the default with --data): a file at the same
-- relative path in DIR replaces the built-in file; new files add; the two
-- registry.yaml files merge by component name (an entry of DIR is
-- deep-merged over the built-in entry of that name, new names are appended
-- in DIR's order). Overlays are identified by metadata.name: when DIR and the
-- built-in library both declare a name under different paths, DIR's wins.
-- Mode "replace" uses DIR alone.
--
-- Loading is lazy and cached for the life of the process (the library is
-- read-only once loaded; callers get copies). A query (match) reads every
-- overlay file but only its header, without a YAML parse, and skips files
-- whose criteria plainly pin another value (eidos.recipe.scan); full
-- documents are parsed when an overlay is applied, values files when a
-- component is hydrated. The full index of every overlay (lint, explain)
-- and --data handling live in eidos.recipe.libdata.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local strx = require("eidos.text")
-- eidos.recipe.scan is loaded when an overlay is first read (bundling and
-- values hydration never need it)

local M = {}

M.OVERLAY_KINDS = { RecipeMetadata = true, recipeMetadata = true }
M.MAX_FILE = 10 * 1024 * 1024

local Lib = {}
Lib.__index = Lib

-- file[rel] of a built-in file (its origin is asked from the resource tree
-- when read); files of --data DIR have {layer = "data", origin = path},
-- those of an oci:// catalog also text = their content
local BUILTIN = { layer = "builtin" }

local cache = {}

local function isnull(v) return v == nil or v == doc.null end

-- where(rel) -> how a library file is named in messages
function Lib:where(rel)
  local f = self.file[rel]
  if not f then return rel end
  if f.layer == "data" then return f.origin end
  return "recipes/" .. rel
end

-- has(rel) -> boolean
function Lib:has(rel)
  return self.file[rel] ~= nil
end

-- read(rel [, kind]) -> text, origin [, code]; raises notfound naming the
-- path. kind ("document" or "template"): also the build's precompiled chunk
-- of that kind of a built-in file (res.read_code; nil for files from disk),
-- for doc.decode and eidos.template
function Lib:read(rel, kind)
  local f = self.file[rel]
  if not f then
    errors.raise("notfound", string.format("recipe library file %q not found%s", tostring(rel),
      self.data and (" (searched " .. self.data .. (self.mode == "overlay" and " and the built-in library)" or ")"))
        or " in the built-in library"))
  end
  if f.text then return f.text, f.origin end
  if f.layer == "data" then
    local fs = require("eidos.core.fs")
    local text, msg, code = fs.read(f.origin, M.MAX_FILE)
    errors.check(text, msg, code, "reading " .. f.origin)
    return text, f.origin
  end
  local res = require("eidos.core.res")
  local text, origin, code
  if kind then text, origin, code = res.read_code("recipes/" .. rel, kind)
  else text, origin = res.read("recipes/" .. rel) end
  if not text then errors.raise("notfound", string.format("recipe library file recipes/%s: %s", rel, tostring(origin))) end
  return text, origin == "embedded" and ("recipes/" .. rel) or origin, code
end

-- yaml(rel) -> parsed document (cached; do not mutate)
function Lib:yaml(rel)
  local c = self.parsed[rel]
  if c ~= nil then return c end
  local text, origin, code = self:read(rel, "document")
  c = doc.decode(text, origin, nil, code)
  self.parsed[rel] = c
  return c
end

local function is_overlay_path(rel)
  if rel:sub(-5) ~= ".yaml" then return false end
  if rel:find("components/", 1, true) or rel:find("checks/", 1, true) then return false end
  return not (rel == "registry.yaml" or rel == "data-v1.yaml" or rel:sub(-14) == "/registry.yaml"
    or rel:sub(-12) == "/data-v1.yaml")
end
M.is_overlay_path = is_overlay_path

local function header_of(d)
  local h = { kind = d.kind, apiVersion = d.apiVersion }
  if type(d.metadata) == "table" then h.name = d.metadata.name end
  local spec = d.spec
  if type(spec) == "table" then
    if not isnull(spec.base) then h.base = spec.base end
    if spec.criteria ~= nil then h.has_criteria = true end
    if type(spec.criteria) == "table" then h.criteria = spec.criteria end
  end
  return h
end
M.header_of = header_of

-- built() -> the build's reading of the built-in overlays (res.built
-- "overlays": paths, headers, pins; see cmake/chunkgen.lua), or false
function Lib:built()
  local b = self._built
  if b == nil then
    local code = self.mode ~= "replace" and require("eidos.core.res").built("overlays", "document")
    b = code and doc.from_chunk(code, "overlays") or false
    self._built = b
  end
  return b
end

-- built_header(rel) -> the header eidos.recipe.scan reads from a built-in
-- overlay file, as the build read it, when the embedded copy of the file is
-- the one used; else nil (read the text). Where the build found that
-- header to be exactly header_of the file's document, it comes from the
-- document (its own precompiled chunk, kept for applying the overlay).
function Lib:built_header(rel)
  local b = self:built()
  local h = b and self.file[rel] == BUILTIN and b.headers[rel]
  if h and self.disk[rel] then
    -- a file on disk identical to the embedded one is no override
    local _, origin = require("eidos.core.res").read_code("recipes/" .. rel, "document")
    if origin ~= "embedded" then return nil end
  end
  if h == true then h = header_of(self:yaml(rel)) end
  return h or nil
end

-- entry(rel [, text]) -> overlay entry of a file, or false (not an
-- overlay), plus a problem message. Cached per file. An entry: {name, rel,
-- where, layer, base (parent name or nil), criteria (normalised or nil),
-- raw = header}.
function Lib:entry(rel, text)
  local e = self._byrel[rel]
  if e ~= nil then return e, self._problem[rel] end
  local origin
  local h = not text and self:built_header(rel)
  if not h then
    if not text then text, origin = self:read(rel) end
    h = require("eidos.recipe.scan").header(text)
  end
  local problem
  if not h then
    local ok, d = pcall(doc.decode, text, origin or self:where(rel))
    if not ok then
      problem = errors.is(d) and d.msg or tostring(d)
    elseif type(d) ~= "table" or doc.islist(d) then
      if rel:match("^overlays/") then problem = "not a RecipeMetadata document (a map)" end
    else
      self.parsed[rel] = d
      h = header_of(d)
    end
  end
  e = false
  if h and (h.kind == nil or M.OVERLAY_KINDS[h.kind]) then
    local isbase = rel == "overlays/base.yaml"
    local name = isbase and "base" or h.name
    if type(name) ~= "string" or name == "" then
      problem = "metadata.name is missing"
    else
      e = {
        name = name, rel = rel, where = self:where(rel), layer = self.file[rel].layer, raw = h,
        base = (not isbase) and type(h.base) == "string" and h.base ~= "" and h.base ~= "base" and h.base or nil,
        criteria = (not isbase) and require("eidos.recipe.criteria").overlay(h.criteria) or nil,
      }
      if isbase and h.name ~= nil and h.name ~= "base" then
        problem = string.format("the root overlay's metadata.name is %s; it is always called \"base\"", errors.show(h.name))
      end
    end
  end
  self._byrel[rel] = e
  self._problem[rel] = problem
  return e, problem
end

-- only_builtin() -> the build's reading of the overlays when it is the
-- whole library: the embedded files alone (no directory layered, no file
-- of recipes/ on disk), else nil
function Lib:only_builtin()
  if self.data or next(self.disk) ~= nil then return nil end
  return self:built() or nil
end

-- overlay_paths() -> the files that may hold overlays (sorted)
function Lib:overlay_paths()
  if self._opaths then return self._opaths end
  local b = self:only_builtin()
  local out = b and b.paths or {}
  if not b then
    for _, rel in ipairs(self.paths) do if is_overlay_path(rel) then out[#out + 1] = rel end end
  end
  self._opaths = out
  return out
end

-- of two entries with the same name, the one that is used: the external
-- directory's, else the first path
local function prefer(a, b)
  if a.layer ~= "data" and b.layer == "data" then return b end
  return a
end
M.prefer = prefer

-- index() -> {list = entries sorted by name (base excluded), byname = {},
-- base = entry, problems = {{file=, msg=}}}: every overlay of the library
-- (lint, explain; eidos.recipe.libdata). A query does not need it: match().
function Lib:index()
  return self._index or require("eidos.recipe.libdata").index(self)
end

-- files(prefix) -> sorted relative paths below prefix
function Lib:files(prefix)
  return require("eidos.recipe.libdata").files(self, prefix)
end

-- base() -> the root overlay's entry (overlays/base.yaml)
function Lib:base()
  local e = self:has("overlays/base.yaml") and self:entry("overlays/base.yaml")
  if not e then
    errors.raise("invalid", string.format("the recipe library has no overlays/base.yaml (the root overlay)%s",
      self.data and (" in " .. self.data .. (self.mode == "overlay" and " or the built-in library" or "")) or ""))
  end
  return e
end

-- find(name) -> entry | nil. Without the full index: overlays already read,
-- then overlays/<name>.yaml when it declares that name, else the index.
function Lib:find(name)
  if name == "base" then return self:base() end
  if self._index then return self._index.byname[name] end
  local e = self._seen[name]
  if e then return e end
  local rel = "overlays/" .. name .. ".yaml"
  if self:has(rel) then
    e = self:entry(rel)
    if e and e.name == name then
      self._seen[name] = e
      return e
    end
  end
  return self:index().byname[name]
end

-- check_data(): every overlay file of --data DIR parses as a map, or an
-- "invalid" error names the file: a broken file the user added is never
-- skipped silently (lint, which lists such problems, sets report_problems).
function Lib:check_data()
  if self._data_checked or not self.data or self.report_problems then return end
  for _, rel in ipairs(self:overlay_paths()) do
    if self.file[rel].layer == "data" then
      local d = self:yaml(rel)
      if rel:match("^overlays/") and (type(d) ~= "table" or doc.islist(d)) then
        errors.raise("invalid", string.format("%s: not a RecipeMetadata document (a map)", self:where(rel)))
      end
    end
  end
  self._data_checked = true
end

-- match(q) -> entries whose criteria match the validated query q, sorted by
-- name. Reads the header of every overlay (the build's, for the embedded
-- files: built_header), skipping the files whose criteria block plainly
-- pins another value (eidos.recipe.scan.rejects).
function Lib:match(q)
  local crit = require("eidos.recipe.criteria")
  local out = {}
  self:check_data()
  -- a directory layered over the built-in library may redeclare an overlay
  -- name under another path: the full index decides which one is used
  if self.data and self.mode == "overlay" then self:index() end
  if self._index then
    -- memoised per query (bounded: fields are canonical values of the
    -- catalog, and nodes counts only when some overlay names that count)
    local idx = self._index
    if not idx.node_counts then
      idx.node_counts, idx.matches, idx.nmatches = {}, {}, 0
      for _, e in ipairs(idx.list) do
        if e.criteria and (e.criteria.nodes or 0) ~= 0 then idx.node_counts[e.criteria.nodes] = true end
      end
    end
    local key = string.format("%s|%s|%s|%s|%s|%s", q.service, q.accelerator, q.intent, q.os, q.platform,
      idx.node_counts[q.nodes or 0] and q.nodes or 0)
    local memo = idx.matches[key]
    if not memo then
      memo = {}
      for _, e in ipairs(idx.list) do
        if e.criteria and crit.match(e.criteria, q) then memo[#memo + 1] = e end
      end
      if idx.nmatches < 65536 then
        idx.matches[key] = memo
        idx.nmatches = idx.nmatches + 1
      end
    end
    for i, e in ipairs(memo) do out[i] = e end
    return out
  end
  local fields = crit.catalog().fields
  local compatible = function(f, v)
    if v == "any" or v == q[f] then return true end
    local cf = fields[f]
    if not cf then return true end
    local c = cf.canon[v] or cf.canon[v:lower()]
    return c == "any" or c == q[f]
  end
  local byname = {}
  -- the embedded library alone: the files whose pins the query refuses are
  -- known without looking at each file (what rejects() would say of each)
  local rejected = {}
  local b = self:only_builtin()
  if b then
    for f, byval in pairs(b.pins) do
      for v, rels in pairs(byval) do
        if not compatible(f, v) then
          for _, rel in ipairs(rels) do rejected[rel] = true end
        end
      end
    end
  end
  for _, rel in ipairs(self:overlay_paths()) do
    if rel ~= "overlays/base.yaml" and not rejected[rel] then
      local e = self._byrel[rel]
      if e == nil and b and b.headers[rel] then
        e = self:entry(rel)
      elseif e == nil then
        local scan = require("eidos.recipe.scan")
        local h = self:built_header(rel)
        if h then
          if not scan.rejects_header(h, compatible) then e = self:entry(rel) end
        else
          local text = self:read(rel)
          if not scan.rejects(text, compatible) then e = self:entry(rel, text) end
        end
      end
      if e and e.criteria and crit.match(e.criteria, q) then
        local prev = byname[e.name]
        byname[e.name] = prev and prefer(prev, e) or e
      end
    end
  end
  for n, e in pairs(byname) do
    out[#out + 1] = e
    self._seen[n] = self._seen[n] or e
  end
  table.sort(out, function(x, y) return x.name < y.name end)
  return out
end

-- check_list(v, what, bad) -> v as a list (null reads as empty); a value
-- that is not a list is added to bad (an errors.problems collector) and
-- reads as empty, so the rest of the document is still checked
local function check_list(v, what, bad)
  if isnull(v) then return doc.list({}) end
  if type(v) ~= "table" or (next(v) ~= nil and not doc.islist(v)) then
    bad:add(what, string.format("%s must be a list", what))
    return doc.list({})
  end
  return v
end
M.check_list = check_list

-- spec(entry) -> the validated spec of an overlay document (cached; shared,
-- never mutate): {constraints = list, componentRefs = list, validation =
-- map|nil, criteria = raw|nil, base = string|nil}. Raises one "invalid"
-- error naming the file and every problem of the spec's shape.
function Lib:spec(e)
  if e.spec then return e.spec end
  local d = self.parsed[e.rel]
  if d == nil then d = self:yaml(e.rel) end
  local where = e.where
  if type(d) ~= "table" or doc.islist(d) then
    errors.raise("invalid", string.format("%s: expected a RecipeMetadata document (a map)", where))
  end
  local spec = d.spec
  if isnull(spec) then spec = {} end
  if type(spec) ~= "table" or doc.islist(spec) then
    errors.raise("invalid", string.format("%s: spec must be a map (criteria, base, constraints, componentRefs, validation)", where))
  end
  local bad = errors.problems(where)
  local s = { base = spec.base, criteria = spec.criteria }
  s.constraints = check_list(spec.constraints, "spec.constraints", bad)
  for i, c in ipairs(s.constraints) do
    if type(c) ~= "table" or type(c.name) ~= "string" or c.name == "" then
      local at = string.format("spec.constraints[%d]", i - 1)
      bad:add(at, at .. " needs a name (a measurement path such as K8s.server.version)")
    end
  end
  s.componentRefs = check_list(spec.componentRefs, "spec.componentRefs", bad)
  for i, r in ipairs(s.componentRefs) do
    if type(r) ~= "table" or type(r.name) ~= "string" or r.name == "" then
      local at = string.format("spec.componentRefs[%d]", i - 1)
      bad:add(at, at .. " needs a name (a component of registry.yaml)")
    end
  end
  if not isnull(spec.validation) then
    if type(spec.validation) ~= "table" or doc.islist(spec.validation) then
      bad:add("spec.validation", "spec.validation must be a map of phases")
    end
    s.validation = spec.validation
  end
  bad:raise("invalid")
  e.spec = s
  return s
end

-- chain(name) -> list of entries from the root's child down to name (base
-- itself excluded). A cycle or a missing parent raises an error naming the
-- overlays and their files.
function Lib:chain(name)
  local e = self:find(name)
  if not e then errors.raise("notfound", string.format("overlay %s not found", errors.show(name))) end
  if e.chain then return e.chain end
  local rev, seen = {}, {}
  local cur = e
  while cur and cur.name ~= "base" do
    if seen[cur.name] then
      local names = {}
      local start
      for i, x in ipairs(rev) do if x.name == cur.name then start = i end end
      for i = start, #rev do names[#names + 1] = string.format("%s (%s)", rev[i].name, rev[i].where) end
      names[#names + 1] = cur.name
      errors.raise("invalid", "circular inheritance through spec.base: " .. table.concat(names, " -> "))
    end
    seen[cur.name] = true
    rev[#rev + 1] = cur
    if not cur.base then break end
    local parent = self:find(cur.base)
    if not parent then
      errors.raise("notfound", string.format("overlay %q (%s) names spec.base %q, which no overlay declares as metadata.name",
        cur.name, cur.where, cur.base))
    end
    cur = parent
  end
  local chain = {}
  for i = #rev, 1, -1 do chain[#chain + 1] = rev[i] end
  e.chain = chain
  return chain
end

-- registry() -> {list = component names in order, byname = {name ->
-- entry}, where = {name -> file}, problems = {}}
function Lib:registry()
  if self._registry then return self._registry end
  if self.data then
    self._registry = require("eidos.recipe.libdata").registry(self)
    return self._registry
  end
  local res = require("eidos.core.res")
  local text, origin, code = res.read_code("recipes/registry.yaml", "document")
  if not text then errors.raise("invalid", "the recipe library has no registry.yaml") end
  local where = origin == "embedded" and "recipes/registry.yaml" or origin
  local d = doc.decode(text, where, nil, code)
  local comps = type(d) == "table" and d.kind == "ComponentRegistry" and d.components
  if type(comps) ~= "table" then return require("eidos.recipe.libdata").registry(self) end
  local reg = { list = {}, byname = {}, where = {}, problems = {} }
  for _, c in ipairs(comps) do
    if type(c) ~= "table" or type(c.name) ~= "string" or reg.byname[c.name] then
      return require("eidos.recipe.libdata").registry(self)
    end
    reg.list[#reg.list + 1] = c.name
    reg.byname[c.name] = c
    reg.where[c.name] = where
  end
  self._registry = reg
  return reg
end

-- open(opts) -> library. opts.data: an external directory; opts.data_mode:
-- "overlay" (default) or "replace". Cached per (data, mode).
function M.open(opts)
  opts = opts or {}
  local data = opts.data
  if data == "" then data = nil end
  local mode = opts.data_mode or "overlay"
  if mode ~= "overlay" and mode ~= "replace" then
    errors.raise("invalid", string.format("invalid data mode %q (accepted: overlay, replace)", tostring(mode)))
  end
  if mode == "replace" and not data then
    errors.raise("invalid", "--data-mode replace needs --data DIR (the library that replaces the built-in one)")
  end
  if data then data = strx.rstrip(data, "/") if data == "" then data = "/" end end
  local key = mode .. "\0" .. (data or "")
  if cache[key] then return cache[key] end
  local lib = setmetatable({ data = data, mode = data and mode or "builtin", file = {}, paths = {}, parsed = {},
                            disk = {}, _byrel = {}, _problem = {}, _seen = {} }, Lib)
  if lib.mode ~= "replace" then
    -- disk: the built-in files a file on disk (an override root) supplies
    local names, disk = require("eidos.core.res").names("recipes/")
    for _, rel in ipairs(names) do lib.file[rel] = BUILTIN end
    lib.paths, lib.disk = names, disk
  end
  if data then require("eidos.recipe.libdata").open_data(lib, data) end
  cache[key] = lib
  return lib
end

-- forget() drops every cached library (tests, a server reloading its data)
function M.forget()
  cache = {}
end

return M
