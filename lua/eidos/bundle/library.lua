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
-- open() is the recipe engine's library (eidos.recipe: the one hydration
-- of values). Specs that need a small library in memory lay the same
-- interface over a table of files (spec/memory_library.lua).

local M = {}

-- open(opts) -> lib. opts.library_opts: the options of eidos.recipe.library
-- (data, data_mode)
function M.open(opts)
  opts = opts or {}
  local recipe = require("eidos.recipe")
  local l = recipe.library(opts.library_opts)
  return {
    -- a new table that shares nothing with the library (merge.deep)
    values = function(ref) return recipe.component_values(l, ref) end,
    read = function(rel, kind) return recipe.read(l, rel, kind) end,
    registry = function(name) return recipe.registry(l, name) end,
  }
end

return M
