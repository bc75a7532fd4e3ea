-- eidos.recipe: recipes from criteria -- the Lua API the CLI (eidos recipe,
-- eidos query), the bundler and the API server call. Policy lives in the
-- modules below it, each small and replaceable from disk:
--   eidos.recipe.criteria  the query, aliases, the explicit-intent match,
--                          snapshot -> criteria (rules in data/criteria.yaml)
--   eidos.recipe.library   the built-in library and --data layering
--   eidos.recipe.scan      overlay headers without a full YAML parse
--   eidos.recipe.build     match, order, inheritance, exclusion by snapshot
--   eidos.recipe.merge     merge rules, registry defaults, deploymentOrder
--   eidos.recipe.hydrate   values, the query document, selectors
--   eidos.recipe.explain   provenance of every field and value
--   eidos.recipe.lint      library checks
--   eidos.recipe.catalog   curated leaves (recipe list), the fail-closed rule
--
-- API (errors are structured: eidos.errors, with exit codes/HTTP statuses):
--
--   recipe.library(opts) -> library
--       opts.data: external directory layered over the built-in library;
--       opts.data_mode: "overlay" (default) or "replace". Cached per process
--       and per (data, data_mode); read-only once loaded.
--   recipe.criteria(t [, where]) -> criteria
--       t: {service=, accelerator=, intent=, os=, platform=, nodes=} (any
--       subset, any case, aliases accepted); returns every field canonical
--       ("any" when unset, nodes 0). Raises "invalid" naming the value and
--       the accepted ones.
--   recipe.criteria_doc(d [, where]) -> raw criteria table of a RecipeCriteria
--       document (pass it to recipe.criteria, after applying flag overrides).
--   recipe.snapshot_criteria(snapshot) -> raw criteria {service, accelerator,
--       os} derived from a snapshot (document or eidos.snapshot.model), and
--       a list {field, value, path, actual} of where each came from.
--   recipe.build(criteria, {library=, snapshot=, version=, allow_partial=,
--       stated=}) -> RecipeResult
--       criteria from recipe.criteria; library defaults to the built-in one;
--       snapshot (a Snapshot document or an eidos.snapshot.model) turns on
--       snapshot mode: matched overlays whose own (or an ancestor's)
--       constraints fail are excluded and reported in
--       metadata.excludedOverlays and metadata.constraintWarnings; values
--       the snapshot lacks leave a constraint unknown, excluding nothing.
--       A stated criterion that no applied overlay pins raises "invalid"
--       naming it and the nearest curated recipes, unless allow_partial
--       (then it is a metadata.warnings entry). stated: the set of fields
--       the user gave (default every field that is not any); values only
--       derived from a snapshot are warned about, never refused. A second return value
--       carries the merge state with provenance (for recipe.explain) and
--       `unknown`, the constraints the snapshot could not answer.
--   recipe.check_result(d, where) -> d when d reads as a recipe (kinds
--       RecipeResult, recipeResult, Recipe, or none with componentRefs);
--       raises "invalid" otherwise. validate, bundle and POST /v1/bundle
--       read recipes through it.
--   recipe.list(library, filter) -> RecipeList document: every criteria
--       tuple that resolves to a curated leaf (an overlay pinning
--       accelerator, intent and os), filtered by the validated criteria
--       fields of filter (each equal; "any" = the leaf leaves it unpinned).
--   recipe.shared_key(criteria, library) -> a string naming the overlays the
--       criteria resolve to: recipes of criteria with the same key are equal
--       but for their head (recipe.head); nil when user hooks (select,
--       recipe) make a recipe depend on more than its overlays.
--   recipe.head(criteria, applied, library, {allow_partial=}) -> the leading
--       keys (kind, apiVersion, metadata, criteria) recipe.build gives
--       criteria whose overlays applied are `applied` (metadata.
--       appliedOverlays); fails closed as build does.
--   recipe.component_values(library, ref) -> hydrated Helm values of one
--       componentRef of a RecipeResult (values.yaml -> valuesFile -> overrides).
--   recipe.hydrate(result, library) -> the query document: the recipe with
--       `components` keyed by name, each with its merged `values`.
--   recipe.select(doc, selector) -> value at a dot path (raises "notfound"
--       listing the keys available where the walk stopped).
--   recipe.explain(result, library) -> RecipeExplanation document (result
--       must come from recipe.build in this process).
--   recipe.read(library, relpath [, kind]) -> text, origin of a library file
--       (values, manifests), e.g. "components/gpu-operator/manifests/dcgm-exporter.yaml";
--       kind "template" or "document": also the build's precompiled chunk of
--       that kind of a built-in file, or nil (for eidos.template.render,
--       doc.decode).
--   recipe.registry(library, name) -> registry entry of a component, or nil.
--   recipe.lint(library) -> report (see eidos.recipe.lint).
--
-- User hooks (--hooks DIR, eidos.hooks) are called when configured:
-- criteria(c) -> c in recipe.criteria before validation, select(names, c)
-- -> names on the matched overlays (after ordering; it may filter or
-- reorder them), recipe(r) -> r on the result of recipe.build.
local hooks = require("eidos.hooks")

local M = {}

local infos = setmetatable({}, { __mode = "k" })

local function lib_of(l)
  if l == nil then return M.library() end
  if type(l) == "table" and l.index then return l end
  return M.library(l)
end

function M.library(opts)
  return require("eidos.recipe.library").open(opts)
end

function M.criteria(t, where)
  return require("eidos.recipe.criteria").new(hooks.apply("criteria", t or {}), where)
end

function M.criteria_doc(d, where)
  return require("eidos.recipe.criteria").from_doc(d, where)
end

-- model(snapshot) -> eidos.snapshot.model from a document or a model
local function model_of(s, where)
  if type(s) == "table" and s.types and s.order then return s end
  return require("eidos.snapshot.model").from_doc(s, where)
end
M.snapshot_model = model_of

function M.snapshot_criteria(s, where)
  return require("eidos.recipe.criteria").from_snapshot(model_of(s, where))
end

function M.build(criteria, opts)
  opts = opts or {}
  local lib = lib_of(opts.library)
  local q = criteria
  if not (q and q.service and q.nodes) then q = M.criteria(criteria) end
  local bopts = { version = opts.version, evaluate = opts.evaluate, allow_partial = opts.allow_partial,
                  stated = opts.stated }
  if opts.snapshot then bopts.snapshot = model_of(opts.snapshot, opts.snapshot_source) end
  local b = require("eidos.recipe.build")
  local result, info = b.build(lib, q, bopts)
  info.library = lib
  local hooked = hooks.apply("recipe", result)
  if hooked ~= result then result = b.reorder(hooked) end
  infos[result] = info
  return result, info
end

function M.check_result(d, where)
  return require("eidos.recipe.reader").check_result(d, where or "recipe")
end

function M.list(library, filter)
  return require("eidos.recipe.catalog").list(lib_of(library), filter)
end

function M.criteria_list(library)
  return require("eidos.recipe.catalog").criteria_list(lib_of(library))
end

function M.shared_key(criteria, library)
  if hooks.has("select") or hooks.has("recipe") then return nil end
  local names = {}
  for i, e in ipairs(lib_of(library):match(criteria)) do names[i] = e.name end
  return table.concat(names, ",")
end

-- the keys of recipe.head, and of the rest of a RecipeResult
M.HEAD = { table.unpack(require("eidos.recipe.schema").RESULT, 1, 4) }
M.TAIL = { table.unpack(require("eidos.recipe.schema").RESULT, 5) }

function M.head(criteria, applied, library, opts)
  return require("eidos.recipe.build").head(lib_of(library), criteria, applied,
    { allow_partial = opts and opts.allow_partial })
end

function M.component_values(library, ref)
  return require("eidos.recipe.hydrate").component_values(lib_of(library), ref)
end

function M.hydrate(result, library)
  return require("eidos.recipe.hydrate").hydrate(result, lib_of(library), infos[result])
end

function M.select(d, selector)
  return require("eidos.recipe.hydrate").select(d, selector)
end

function M.explain(result, library)
  local info = infos[result]
  if not info then
    require("eidos.errors").raise("invalid", "recipe.explain needs a result built by recipe.build in this process")
  end
  return require("eidos.recipe.explain").explain(result, lib_of(library or info.library), info)
end

function M.read(library, rel, kind)
  return lib_of(library):read(rel, kind)
end

function M.registry(library, name)
  return lib_of(library):registry().byname[name]
end

function M.lint(library, opts)
  return require("eidos.recipe.lint").run(lib_of(library), opts)
end

return M
