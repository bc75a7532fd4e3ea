-- eidos recipe: a RecipeResult for criteria given as flags, a RecipeCriteria
-- document or derived from a snapshot; `eidos recipe lint` checks a library.
local docio = require("eidos.docio")
local log = require("eidos.log")
local errors = require("eidos.errors")
local rcli = require("eidos.cli.recipe")

local spec = {}
for _, f in ipairs(rcli.flags) do spec[#spec + 1] = f end
spec[#spec + 1] = { name = "output", short = "o", arg = "PATH", type = "uri",
  help = "write to PATH or cm://NAMESPACE/NAME (files are written atomically) instead of stdout" }
spec[#spec + 1] = { name = "format", short = "t", arg = "FORMAT", choices = { "yaml", "json", "table" },
  help = "output format (default yaml; table for 'lint' and 'list')" }
spec[#spec + 1] = require("eidos.apiversion").flag

-- flags each subcommand refuses (it takes the others)
local NOT_FOR = {
  lint = { "service", "accelerator", "gpu", "intent", "os", "platform", "nodes", "criteria", "snapshot", "explain",
           "allow-partial", "api-group" },
  list = { "nodes", "criteria", "snapshot", "explain", "allow-partial" },
}
local ACCEPTS = {
  lint = "--data, --data-mode, --format, --output",
  list = "--service, --accelerator, --intent, --os, --platform as filters, --data, --data-mode, --format, --output, --api-group",
}

local function refuse_flags(sub, o)
  for _, f in ipairs(NOT_FOR[sub]) do
    if o[f] ~= nil then
      errors.raise("invalid", string.format("'eidos recipe %s' takes no --%s (accepted: %s)", sub, f, ACCEPTS[sub]))
    end
  end
end

local function lint(ctx)
  local o = ctx.opts
  refuse_flags("lint", o)
  local lintmod = require("eidos.recipe.lint")
  local report = lintmod.run(rcli.library(o))
  docio.emit(report, { format = o.format or "table", output = o.output, table = lintmod.table })
  if #report.problems > 0 then
    errors.raise("failure", string.format("recipe lint: %d problem(s) in the recipe library%s", #report.problems,
      o.data and (" (" .. o.data .. ")") or ""))
  end
  return 0
end

-- eidos recipe list: the curated leaves, filtered by the criteria flags
local function list(ctx)
  local o = ctx.opts
  refuse_flags("list", o)
  local crit = require("eidos.recipe.criteria")
  local filter = {}
  if o.gpu and o.accelerator and o.gpu ~= o.accelerator then
    errors.raise("invalid", string.format("--accelerator %q and --gpu %q disagree (--gpu is an alias; give one)",
      o.accelerator, o.gpu))
  end
  for _, f in ipairs(crit.FIELDS) do
    local v = o[f]
    if f == "accelerator" and v == nil then v = o.gpu end
    if v ~= nil then
      local n, msg = crit.normalize(f, v)
      if not n then errors.raise("invalid", "--" .. f .. ": " .. msg) end
      filter[f] = n
    end
  end
  local catalog = require("eidos.recipe.catalog")
  local d = catalog.list(rcli.library(o), filter)
  require("eidos.apiversion").rewrite(d, o["api-group"])
  docio.emit(d, { format = o.format or "table", output = o.output, table = catalog.table })
  return 0
end

return {
  name = "recipe",
  summary = "Generate a recipe (components, values, constraints, order) for criteria or a snapshot",
  usage = "eidos recipe [--service S] [--accelerator A] [--intent I] [--os O] [--platform P] [--nodes N]\n" ..
    "                    [--criteria FILE] [--snapshot FILE] [--data DIR] [--explain] [-t yaml|json|table] [-o PATH]\n" ..
    "       eidos recipe list [--service S] [--accelerator A] [--intent I] [--os O] [--platform P] [-t table|json|yaml]\n" ..
    "       eidos recipe lint [--data DIR [--data-mode replace]] [-t table|yaml|json]",
  description = "Match the criteria against the recipe library's overlays (an overlay applies when each of\n" ..
    "its criteria is unset/any or equal to the query's; a query value left unset matches only\n" ..
    "overlays that leave it unset), merge the matched overlays and their spec.base ancestors over\n" ..
    "the base recipe, apply registry defaults and print the RecipeResult. With --snapshot, service,\n" ..
    "accelerator and OS are read from the snapshot and overlays whose constraints fail on it are\n" ..
    "excluded. A stated criterion that no applied overlay is specific to is an error (exit 2)\n" ..
    "naming it and the nearest curated recipes, unless --allow-partial. 'eidos recipe list' shows\n" ..
    "every criteria tuple that resolves to a curated leaf. 'eidos recipe lint' checks every overlay,\n" ..
    "file, component, constraint path and criteria combination of the library and lists every\n" ..
    "problem. See docs/recipe.md.",
  flags = spec,
  subcommands = {
    { name = "list", summary = "every criteria tuple that resolves to a curated recipe" },
    { name = "lint", summary = "check every overlay, file, component and constraint path of a library" },
  },
  args = { min = 0, max = 1, text = "no arguments, 'list' or 'lint'" },
  examples = {
    "eidos recipe --service eks --accelerator gb200 --os ubuntu --intent training",
    "eidos recipe --snapshot snapshot.yaml --intent training -t table",
    "eidos recipe --criteria criteria.yaml --platform kubeflow -o recipe.yaml",
    "eidos recipe --service eks --gpu h100 --intent inference --explain -t table",
    "eidos recipe --data ./my-recipes --service eks --intent training",
    "eidos recipe list --service eks --intent training",
    "eidos recipe --service any --accelerator h100 --os ubuntu --intent training",
    "eidos recipe --service eks --accelerator h100 --intent training --platform kubeflow --allow-partial",
    "eidos recipe lint --data ./my-recipes",
  },
  run = function(ctx)
    local o = ctx.opts
    if ctx.args[1] == "lint" then return lint(ctx) end
    if ctx.args[1] == "list" then return list(ctx) end
    local recipe = require("eidos.recipe")
    local lib = rcli.library(o)
    local q, model, stated = rcli.query(o)
    local crit = require("eidos.recipe.criteria")
    if crit.empty(q) and not o.snapshot then
      log.warn("the criteria file states no criteria: printing the base recipe")
    end
    local result = rcli.build(q, model, o, lib, stated)
    for _, w in ipairs(result.metadata.warnings or {}) do
      if not w:find("^no criteria given") then log.warn(w) end
    end
    if o.explain then
      local ex = recipe.explain(result, lib)
      docio.emit(ex, { format = o.format or "yaml", output = o.output, table = require("eidos.recipe.explain").table })
    else
      require("eidos.apiversion").rewrite(result, o["api-group"])
      local nc, nk = #(result.componentRefs or {}), #(result.constraints or {})
      docio.emit(result, { format = o.format or "yaml", output = o.output, table = rcli.table, what = "recipe",
        detail = string.format("%d component%s, %d constraint%s", nc, nc == 1 and "" or "s", nk, nk == 1 and "" or "s") })
    end
    return 0
  end,
}
