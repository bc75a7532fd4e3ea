-- eidos recipe: a RecipeResult for criteria given as flags, a RecipeCriteria
-- document or derived from a snapshot; `eidos recipe lint` checks a library.
local docio = require("eidos.docio")
local log = require("eidos.log")
local errors = require("eidos.errors")
local rcli = require("eidos.recipe.cli")

local spec = {}
for _, f in ipairs(rcli.flags) do spec[#spec + 1] = f end
spec[#spec + 1] = { name = "output", short = "o", arg = "PATH",
  help = "write to PATH or cm://NAMESPACE/NAME (files are written atomically) instead of stdout" }
spec[#spec + 1] = { name = "format", short = "t", arg = "FORMAT", choices = { "yaml", "json", "table" },
  help = "output format (default yaml; table for 'lint')" }

local function lint(ctx)
  local o = ctx.opts
  for _, f in ipairs({ "service", "accelerator", "gpu", "intent", "os", "platform", "nodes", "criteria", "snapshot", "explain" }) do
    if o[f] ~= nil then
      errors.raise("invalid", string.format("'eidos recipe lint' checks a whole library and takes no --%s " ..
        "(accepted: --data, --data-mode, --format, --output)", f))
    end
  end
  local lintmod = require("eidos.recipe.lint")
  local report = lintmod.run(rcli.library(o))
  docio.emit(report, { format = o.format or "table", output = o.output, table = lintmod.table })
  if #report.problems > 0 then
    errors.raise("failure", string.format("recipe lint: %d problem(s) in the recipe library%s", #report.problems,
      o.data and (" (" .. o.data .. ")") or ""))
  end
  return 0
end

return {
  name = "recipe",
  summary = "Generate a recipe (components, values, constraints, order) for criteria or a snapshot",
  usage = "eidos recipe [--service S] [--accelerator A] [--intent I] [--os O] [--platform P] [--nodes N]\n" ..
    "                    [--criteria FILE] [--snapshot FILE] [--data DIR] [--explain] [-t yaml|json|table] [-o PATH]\n" ..
    "       eidos recipe lint [--data DIR [--data-mode replace]] [-t table|yaml|json]",
  description = "Match the criteria against the recipe library's overlays (an overlay applies when each of\n" ..
    "its criteria is unset/any or equal to the query's; a query value left unset matches only\n" ..
    "overlays that leave it unset), merge the matched overlays and their spec.base ancestors over\n" ..
    "the base recipe, apply registry defaults and print the RecipeResult. With --snapshot, service,\n" ..
    "accelerator and OS are read from the snapshot and overlays whose constraints fail on it are\n" ..
    "excluded. 'eidos recipe lint' checks every overlay, file, component, constraint path and\n" ..
    "criteria combination of the library and lists every problem. See docs/recipe.md.",
  flags = spec,
  args = { min = 0, max = 1, text = "no arguments, or 'lint'" },
  examples = {
    "eidos recipe --service eks --accelerator gb200 --os ubuntu --intent training",
    "eidos recipe --snapshot snapshot.yaml --intent training -t table",
    "eidos recipe --criteria criteria.yaml --platform kubeflow -o recipe.yaml",
    "eidos recipe --service eks --gpu h100 --intent inference --explain -t table",
    "eidos recipe --data ./my-recipes --service eks --intent training",
    "eidos recipe lint --data ./my-recipes",
  },
  run = function(ctx)
    local o = ctx.opts
    if ctx.args[1] then
      if ctx.args[1] ~= "lint" then
        errors.raise("invalid", string.format("unknown 'eidos recipe' subcommand %q (accepted: lint)", ctx.args[1]))
      end
      return lint(ctx)
    end
    local recipe = require("eidos.recipe")
    local lib = rcli.library(o)
    local q, model = rcli.query(o)
    local crit = require("eidos.recipe.criteria")
    if crit.empty(q) and not o.snapshot then
      log.warn("no criteria given (--service, --accelerator, --intent, --os, --platform, --nodes, --criteria or " ..
        "--snapshot): printing the base recipe")
    end
    local result = recipe.build(q, { library = lib, snapshot = model })
    for _, w in ipairs(result.metadata.warnings or {}) do
      if not w:find("^no criteria given") then log.warn(w) end
    end
    if o.explain then
      local ex = recipe.explain(result, lib)
      docio.emit(ex, { format = o.format or "yaml", output = o.output, table = require("eidos.recipe.explain").table })
    else
      docio.emit(result, { format = o.format or "yaml", output = o.output, table = rcli.table })
    end
    return 0
  end,
}
