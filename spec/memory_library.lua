-- spec/memory_library.lua: a recipe library in memory for bundler specs,
-- with the interface of eidos.bundle.library (values, read, registry) over
-- a function read(rel) -> text, origin. Its values() always starts from
-- components/<name>/values.yaml (the bundler's specs state them so); the
-- engine's own hydration (eidos.recipe.hydrate) is what eidos runs.
local errors = require("eidos.errors")
local merge = require("eidos.core.merge")
local doc = require("eidos.doc")

local M = {}

-- from_reader(read) -> lib (library layout of recipes/)
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

return M
