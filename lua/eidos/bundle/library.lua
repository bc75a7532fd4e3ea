-- eidos.bundle.library: what the bundler needs from the recipe library,
-- behind one small interface:
--   lib.values(ref)     -> hydrated values of a component reference
--                          (components/<name>/values.yaml, then the ref's
--                          valuesFile, then its inline overrides)
--   lib.read(relpath [, kind]) -> text of a library file (manifests),
--                          origin; kind "template": and the build's
--                          precompiled chunk of a built-in manifest, or nil
--                          (eidos.template.render's code)
--   lib.registry(name)  -> the registry entry of a component, or nil
-- open() uses the recipe engine (eidos.recipe) when it is installed; a
-- library rooted at a directory (open{root=DIR}, used by specs and
-- --library) or the built-in fallback below read the same layout directly.
local errors = require("eidos.errors")
local merge = require("eidos.core.merge")
local doc = require("eidos.doc")

local M = {}

local function reader(root)
  if root then
    local fs = require("eidos.core.fs")
    return function(rel)
      local p, msg = fs.join(root, rel)
      if not p then return nil, msg end
      if fs.exists(p) ~= "file" then return nil, "not found: " .. p end
      return fs.read(p, 64 * 1024 * 1024), p
    end
  end
  local res = require("eidos.core.res")
  return function(rel)
    local text, origin = res.read("recipes/" .. rel)
    if not text then return nil, origin end
    return text, origin
  end
end

-- the file-based implementation (library layout of recipes/)
function M.from_reader(read)
  local lib = {}
  local cache = {}
  local function load(rel, optional)
    local c = cache[rel]
    if c ~= nil then return c or nil end
    local text, origin = read(rel)
    if not text then
      cache[rel] = false
      if optional then return nil end
      errors.raise("notfound", string.format("recipe library file %q not found", rel))
    end
    local v = doc.decode(text, origin)
    cache[rel] = v
    return v
  end
  local registry
  local function reg()
    if not registry then
      registry = {}
      local r = load("registry.yaml", true) or {}
      for _, e in ipairs(r.components or {}) do
        if type(e) == "table" and e.name then registry[e.name] = e end
      end
    end
    return registry
  end
  function lib.values(ref)
    local name = ref.name
    local base = "components/" .. name .. "/values.yaml"
    local v = load(base, true) or {}
    if type(v) ~= "table" then v = {} end
    local vf = ref.valuesFile
    if type(vf) == "string" and vf ~= "" and vf ~= base then
      local o = load(vf, false)
      if type(o) == "table" then v = merge.deep(v, o) end
    end
    if type(ref.overrides) == "table" then v = merge.deep(v, ref.overrides) end
    return merge.copy(v)
  end
  function lib.read(rel)
    local text, origin = read(rel)
    if not text then errors.raise("notfound", string.format("recipe library file %q not found", rel)) end
    return text, origin
  end
  function lib.registry(name) return reg()[name] end
  return lib
end

-- open(opts) -> lib. opts.root: a directory laid out like recipes/.
function M.open(opts)
  opts = opts or {}
  if opts.root then return M.from_reader(reader(opts.root)) end
  local ok, recipe = pcall(require, "eidos.recipe")
  if ok and type(recipe) == "table" and recipe.library and recipe.component_values then
    local l = recipe.library(opts.library_opts)
    return {
      -- a new table that shares nothing with the library (merge.deep)
      values = function(ref) return recipe.component_values(l, ref) end,
      read = function(rel, kind) return recipe.read(l, rel, kind) end,
      registry = function(name) return recipe.registry(l, name) end,
    }
  end
  if not ok and not tostring(recipe):find("module 'eidos.recipe' not found", 1, true) then
    error(recipe, 0)
  end
  return M.from_reader(reader(nil))
end

return M
