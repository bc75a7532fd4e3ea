-- eidos criteria: the recipe criteria dimensions -- each field's canonical
-- values and the aliases accepted for them, from data/criteria.yaml (the
-- catalog an override of that file changes), and how many curated recipes
-- pin each value: the CriteriaList document of eidos.recipe.catalog (GET
-- /v1/criteria answers the same).
local docio = require("eidos.docio")
local doc = require("eidos.doc")

local function table_view(d)
  local rows = { { "FIELD", "VALUES", "ALIASES", "CURATED RECIPES" } }
  for _, f in ipairs(d.fields) do
    local aliases = {}
    for _, a in ipairs(doc.keys(f.aliases)) do aliases[#aliases + 1] = a .. " -> " .. f.aliases[a] end
    local counts = {}
    if f.recipes then
      for _, v in ipairs(f.values) do counts[#counts + 1] = v .. " " .. f.recipes[v] end
      if f.recipes.any > 0 then counts[#counts + 1] = "any " .. f.recipes.any end
    end
    rows[#rows + 1] = { f.name, #f.values > 0 and table.concat(f.values, ", ") or "(integer >= 0)",
      table.concat(aliases, ", "), table.concat(counts, ", ") }
  end
  local columns = require("eidos.columns")
  local text = columns.render(rows, { wrap = { [2] = true, [3] = true, [4] = true } })
  local notes = {}
  for _, f in ipairs(d.fields) do
    if f.note then notes[#notes + 1] = f.name .. ": " .. f.note end
  end
  return text .. "\n" .. columns.text(table.concat(notes, "\n"))
end

local spec = {
  { name = "data", arg = "DIR|oci://REF", type = "dir", help = "count the curated recipes of this recipe data directory or oci:// catalog (as for eidos recipe)" },
  { name = "data-mode", arg = "MODE", choices = { "overlay", "replace" }, default = "overlay",
    help = "overlay: DIR over the built-in library; replace: DIR alone" },
  { name = "output", short = "o", arg = "PATH", type = "file",
    help = "write to PATH (written atomically) instead of stdout" },
  { name = "format", short = "t", arg = "FORMAT", choices = { "table", "yaml", "json" }, default = "table",
    help = "output format" },
  require("eidos.apiversion").flag,
}

return {
  name = "criteria",
  summary = "List the recipe criteria: each field's values and aliases, and the curated recipes per value",
  usage = "eidos criteria [--data DIR [--data-mode replace]] [-t table|yaml|json] [-o PATH]",
  description = "Print the criteria dimensions of 'eidos recipe' (service, accelerator, intent, os,\n" ..
    "platform, nodes): their canonical values and the aliases accepted for them, from\n" ..
    "data/criteria.yaml, and how many curated recipes ('eidos recipe list') pin each value.\n" ..
    "See docs/recipe.md.",
  flags = spec,
  args = { min = 0, max = 0 },
  examples = { "eidos criteria", "eidos criteria -t json" },
  run = function(ctx)
    local o = ctx.opts
    local lib = require("eidos.cli.recipe").library(o)
    local d = require("eidos.recipe.catalog").criteria_list(lib)
    require("eidos.apiversion").rewrite(d, o["api-group"])
    docio.emit(d, { format = o.format or "table", output = o.output, table = table_view })
    return 0
  end,
}
