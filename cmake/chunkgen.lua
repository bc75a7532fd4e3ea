-- cmake/chunkgen.lua -- run at build time by the chunkgen tool
-- (cmake/chunkgen.c: the same bindings as eidos, the source tree as the
-- resource tree) to precompile the embedded library and templates into Lua
-- chunks, so a run loads them without parsing YAML or template text:
--   templates/**   the template compiled by eidos.template.translate, named
--                  by its path (as the bundler renders it)
--   recipes/ files named by a manifestFiles list of the library (registry
--                  components, overlay componentRefs): the template, named
--                  by its path in the library (below recipes/), as the
--                  bundler renders manifests
--   every other *.yaml of recipes/ and data/: the document (eidos.chunk)
-- and, derived from several files (OUTDIR/built/<name>, listed in
-- OUTDIR/built.txt, embedded as res.built(name)):
--   overlays       the overlay files of recipes/ as a query reads them
--                  (eidos.recipe.library): paths, every path that may hold
--                  an overlay (sorted); headers, {rel = header} for those
--                  whose header eidos.recipe.scan reads from the text --
--                  true where that header is exactly library.header_of
--                  of the file's document (then read from the document's
--                  own chunk, only for the files a query looks at); pins,
--                  {field = {value = {rel...}}} of the plain-word values
--                  those headers' criteria pin (nodes aside)
-- Each chunk is dumped with its debug information (error positions match
-- the text compiled at run time) to OUTDIR/<path>c, tagged with the first
-- letter of its kind ("D" document, "T" template: res.read_code hands a
-- chunk out only as the kind asked for), where cmake/embed.c finds it as
-- the file's precompiled form. A file that does not parse, or
-- whose document a chunk cannot build exactly, gets none and is read from
-- its text at run time, as are files overridden on disk.
-- usage: chunkgen ROOT LISTFILE OUTDIR (LISTFILE: one resource path a line)
local _, listfile, outdir = ... -- ROOT: the resources come from eidos.core.res
local res = require("eidos.core.res")
local fs = require("eidos.core.fs")
local yaml = require("eidos.core.yaml")
local chunk = require("eidos.chunk")
local template = require("eidos.template")

local paths = {}
for line in io.lines(listfile) do
  if line ~= "" then paths[#paths + 1] = line end
end
table.sort(paths)

local function read(rel)
  local text, origin = res.read(rel)
  if not text then error(string.format("chunkgen: %s: %s", rel, tostring(origin)), 0) end
  return text
end

-- the documents of recipes/ and data/, and the manifests the library names
local docs, manifests = {}, {}
local function note_manifests(refs)
  if type(refs) ~= "table" then return end
  for _, r in ipairs(refs) do
    if type(r) == "table" and type(r.manifestFiles) == "table" then
      for _, m in ipairs(r.manifestFiles) do
        if type(m) == "string" then manifests["recipes/" .. m] = true end
      end
    end
  end
end
for _, p in ipairs(paths) do
  if (p:match("^recipes/") or p:match("^data/")) and p:match("%.yaml$") then
    local d = yaml.load(read(p))
    if d ~= nil then
      docs[p] = d
      if type(d) == "table" and p:match("^recipes/") then
        note_manifests(d.components)
        if type(d.spec) == "table" then note_manifests(d.spec.componentRefs) end
      end
    end
  end
end

local function write(rel, src, name, tag, ext)
  local out = outdir .. "/" .. rel .. (ext or "c")
  local fn = assert(load(src, "=" .. name))
  local code = tag .. string.dump(fn)
  assert(fs.mkdir_p(out:match("^(.*)/[^/]*$")))
  local old = fs.exists(out) == "file" and fs.read(out, #code + 1)
  if old ~= code then assert(fs.write_atomic(out, code)) end
  return true
end

-- same(a, b) -> are a and b equal values of the same types and metatables
local function same(a, b)
  if type(a) ~= type(b) or math.type(a) ~= math.type(b) then return false end
  if type(a) ~= "table" then return a == b end
  if getmetatable(a) ~= getmetatable(b) then return false end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

-- chunk name -> document, derived from several files
local built = {}
do
  local scan = require("eidos.recipe.scan")
  local library = require("eidos.recipe.library")
  local list, headers, pins = {}, {}, {}
  local list_mt = require("eidos.core.emit").list_mt
  for _, p in ipairs(paths) do
    local rel = p:match("^recipes/(.*)$")
    if rel and library.is_overlay_path(rel) then
      list[#list + 1] = rel
      local h = scan.header(read(p))
      if h then
        local d = docs[p]
        headers[rel] = type(d) == "table" and same(library.header_of(d), h) or h
        for f, v in pairs(type(h.criteria) == "table" and h.criteria or {}) do
          if scan.plain_pin(f, v) then
            pins[f] = pins[f] or {}
            pins[f][v] = pins[f][v] or setmetatable({}, list_mt)
            table.insert(pins[f][v], rel)
          end
        end
      end
    end
  end
  built["overlays"] = { paths = setmetatable(list, list_mt), headers = headers, pins = pins }
end

local made, skipped = 0, {}
for _, p in ipairs(paths) do
  local src, name, why, tag
  if p:match("^templates/") or manifests[p] then
    tag = "T"
    name = p:match("^recipes/(.*)$") or p
    local ok, s = pcall(template.translate, read(p), name)
    if ok then src = s else why = tostring(type(s) == "table" and s.msg or s) end
  elseif docs[p] ~= nil then
    tag = "D"
    name = p
    src, why = chunk.source(docs[p])
  end
  if src then
    write(p, src, name, tag)
    made = made + 1
  else
    os.remove(outdir .. "/" .. p .. "c")
    if why then skipped[#skipped + 1] = p .. " (" .. why .. ")" end
  end
end
local names = {}
for name in pairs(built) do names[#names + 1] = name end
table.sort(names)
for _, name in ipairs(names) do
  write("built/" .. name, assert(chunk.source(built[name])), name, "D", "")
end
assert(fs.write_atomic(outdir .. "/built.txt", table.concat(names, "\n") .. "\n"))
io.stderr:write(string.format("chunkgen: %d chunks%s\n", made,
  #skipped > 0 and ("; loaded from text at run time: " .. table.concat(skipped, ", ")) or ""))
