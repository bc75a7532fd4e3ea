-- eidos query: one value of the hydrated recipe (components keyed by name,
-- Helm values merged), selected by a dot path.
local docio = require("eidos.docio")
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local rcli = require("eidos.cli.recipe")
local strx = require("eidos.text")

local spec = {}
for _, f in ipairs(rcli.flags) do spec[#spec + 1] = f end
spec[#spec + 1] = { name = "selector", arg = "PATH",
  help = "dot path into the hydrated recipe, e.g. components.gpu-operator.values.driver.version ('' or . = all)" }
spec[#spec + 1] = { name = "format", short = "t", arg = "FORMAT", choices = { "yaml", "json", "table" }, default = "yaml",
  help = "output format: yaml/table print strings and numbers bare, maps and lists as YAML; json prints JSON" }
spec[#spec + 1] = { name = "output", short = "o", arg = "PATH", type = "file", help = "write to PATH (written atomically) instead of stdout" }

local function render(v, format)
  local emit = require("eidos.core.emit")
  if format == "json" then
    if type(v) == "table" then return doc.encode(v, "json") end
    local t = errors.check(emit.json(doc.list({ v })))
    t = strx.rtrim(t) -- "[v]" without its brackets
    return strx.trim(t:sub(2, t:sub(-1) == "]" and -2 or -1)) .. "\n"
  end
  if type(v) == "table" then return doc.encode(v, "yaml") end
  if v == doc.null then return "null\n" end
  if type(v) == "number" then
    return (math.type(v) == "integer" and string.format("%d", v) or require("eidos.recipe.merge").str(v)) .. "\n"
  end
  return tostring(v) .. "\n"
end

-- explanation lines for the leaves under a selector
local function explain(result, lib, selector, value)
  local recipe = require("eidos.recipe")
  local ex = recipe.explain(result, lib)
  local s = selector:gsub("^%.", "")
  local comp, rest = s:match("^components%.([^.]+)%.?(.*)$")
  local rows = { { "PATH", "VALUE", "FROM" } }
  local ex_text = require("eidos.recipe.explain")
  local show, from = ex_text.show, ex_text.from_text
  local function under(path, prefix)
    return prefix == "" or path == prefix or path:sub(1, #prefix + 1) == prefix .. "." or path:sub(1, #prefix + 1) == prefix .. "["
  end
  if comp then
    for _, c in ipairs(ex.components) do
      if c.name == comp then
        local vrest = rest:match("^values%.?(.*)$")
        if not vrest then
          for _, f in ipairs(c.fields) do
            if under(f.field, rest) then rows[#rows + 1] = { "components." .. comp .. "." .. f.field, show(f.value), from(f) } end
          end
        end
        if vrest or rest == "" then
          for _, v in ipairs(c.values or {}) do
            if under(v.path, vrest or "") then
              rows[#rows + 1] = { "components." .. comp .. ".values." .. v.path, show(v.value), from(v) }
            end
          end
        end
      end
    end
  elseif s:match("^constraints") then
    for _, c in ipairs(ex.constraints) do rows[#rows + 1] = { "constraints " .. c.name, show(c.value), from(c) } end
  elseif s:match("^metadata") then
    for _, o in ipairs(ex.overlays) do rows[#rows + 1] = { "overlay " .. o.name, o.reason, o.file or "" } end
  end
  if #rows == 1 then rows[#rows + 1] = { s ~= "" and s or ".", show(value), "the recipe query and build" } end
  return require("eidos.columns").render(rows, { middle = { [3] = true } })
end

return {
  name = "query",
  summary = "Print one value of the hydrated recipe (e.g. a component's Helm value)",
  usage = "eidos query --selector PATH [criteria flags as for eidos recipe] [--explain] [-t yaml|json|table]",
  description = "Build the recipe exactly like 'eidos recipe', hydrate it (components keyed by name, each\n" ..
    "with its values: values.yaml, then the ref's valuesFile, then overrides, deep-merged), and\n" ..
    "print the value at --selector. A missing key exits 3 and lists the keys available there.\n" ..
    "Keys that contain dots (nvidia.com/gpu) are found by joining path segments; list items\n" ..
    "are selected by 0-based index. See docs/recipe.md.",
  flags = spec,
  examples = {
    "eidos query --service eks --accelerator gb200 --os ubuntu --intent training --selector components.gpu-operator.values.driver.version",
    "eidos query --service eks --intent training --selector deploymentOrder -t json",
    "eidos query --snapshot snap.yaml --intent training --selector components.gpu-operator.values.cdi --explain",
  },
  run = function(ctx)
    local o = ctx.opts
    if o.selector == nil then
      errors.raise("invalid", "eidos query needs --selector PATH (e.g. components.gpu-operator.values.driver.version, " ..
        "criteria.service, deploymentOrder, or '.' for the whole document)")
    end
    local recipe = require("eidos.recipe")
    local lib = rcli.library(o)
    local q, model, stated = rcli.query(o)
    if require("eidos.recipe.criteria").empty(q) and not o.snapshot then
      require("eidos.log").warn("the criteria file states no criteria: querying the base recipe")
    end
    local result = rcli.build(q, model, o, lib, stated)
    local hydrated = recipe.hydrate(result, lib)
    local v = recipe.select(hydrated, o.selector)
    local text
    if o.explain then text = explain(result, lib, o.selector, v)
    else text = render(v, o.format) end
    docio.write(o.output, text, { what = o.explain and "explanation of " .. o.selector or "value of " .. o.selector })
    return 0
  end,
}
