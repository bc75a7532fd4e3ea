-- eidos.cli.help: --help text derived from the flag model (eidos.cli.flags)
-- and the command modules: the program's short help (bare `eidos`,
-- `eidos --help`, `eidos help`) and each command's usage, flags with their
-- types, values, aliases, defaults, environment variables and constraints.
-- Lines fit the width of tables (eidos.columns: min(120, the terminal)).
local flags = require("eidos.cli.flags")

local M = {}

local PLACEHOLDER = { int = "N", number = "N", duration = "DURATION", size = "SIZE", timestamp = "TIME",
                      enum = "VALUE", file = "FILE", dir = "DIR", uri = "LOCATION", selector = "SELECTOR",
                      string = "VALUE" }

-- placeholder(spec) -> "DURATION", "FILE", ... for a flag without arg
function M.placeholder(s) return s.arg or PLACEHOLDER[flags.type_of(s)] or "VALUE" end

local function list(v)
  if type(v) == "string" then return { v } end
  return v or {}
end

-- the help column of one flag
function M.describe(s)
  local parts = { s.help or "" }
  if flags.type_of(s) == "enum" then
    local values = flags.values(s)
    if #values > 0 then parts[#parts + 1] = "(" .. table.concat(values, "|") .. ")" end
    local al = {}
    for _, a in ipairs(flags.aliases(s)) do al[#al + 1] = a[1] .. " = " .. a[2] end
    if #al > 0 then parts[#parts + 1] = "(aliases: " .. table.concat(al, ", ") .. ")" end
  end
  local default = s.default
  if default == nil and s.default_text then default = s.default_text() end
  if default ~= nil and default ~= false then parts[#parts + 1] = "[default " .. tostring(default) .. "]" end
  if s.env then parts[#parts + 1] = "[env " .. s.env .. "]" end
  if s.repeatable then parts[#parts + 1] = "(repeatable)" end
  for _, r in ipairs(list(s.requires)) do parts[#parts + 1] = "(needs --" .. table.concat(list(r), " or --") .. ")" end
  return table.concat(parts, " ")
end

-- two columns: names and what they mean, the second wrapped to the width
local function table2(rows)
  return (require("eidos.columns").render(rows, { indent = "  ", gap = 3, wrap = { [2] = true }, min = { 40, 40 } })
    :gsub("\n$", ""))
end

function M.flaglines(specs)
  local rows = {}
  for _, s in ipairs(specs) do
    if not s.hidden then
      local left = (s.short and ("-" .. s.short .. ", ") or "    ") .. "--" .. s.name
      if flags.takes_value(s) then left = left .. " " .. M.placeholder(s) end
      rows[#rows + 1] = { left, M.describe(s) }
    end
  end
  return table2(rows)
end

-- example(e) -> a command line fitted to the width: broken between words
-- with a shell continuation (" \\"), so it still runs when pasted
local function example(e)
  local columns = require("eidos.columns")
  local width = require("eidos.term").width()
  local out = {}
  for line in (e .. "\n"):gmatch("(.-)\n") do
    local lead = out[1] and "      " or "  "
    line = line:gsub("^%s+", "")
    while columns.len(lead .. line) > width do
      local room = width - columns.len(lead) - 2
      local at = line:sub(1, room):match("^.*() %-") or line:sub(1, room):match("^.*() ")
      if not at or at < 2 then break end
      out[#out + 1] = lead .. line:sub(1, at - 1) .. " \\"
      line = line:sub(at + 1)
      lead = "      "
    end
    out[#out + 1] = lead .. line
  end
  return table.concat(out, "\n")
end

-- command(cmd) -> the help text of a command module
function M.command(cmd)
  local b = {}
  local columns = require("eidos.columns")
  b[#b + 1] = (columns.text("Usage: " .. (cmd.usage or ("eidos " .. cmd.name .. " [flags]")), { hang = "         " })
    :gsub("\n$", ""))
  b[#b + 1] = ""
  b[#b + 1] = (columns.text(cmd.description or cmd.summary or "", { hang = "" }):gsub("\n$", ""))
  local al = {}
  for _, a in ipairs(cmd.args and flags.aliases(cmd.args) or {}) do al[#al + 1] = a[1] .. " = " .. a[2] end
  if #al > 0 then
    b[#b + 1] = ""
    b[#b + 1] = "Aliases: " .. table.concat(al, ", ")
  end
  local subs = flags.subcommands(cmd)
  if #subs > 0 then
    local rows = {}
    for _, s in ipairs(subs) do rows[#rows + 1] = { s.name, s.summary or "" } end
    b[#b + 1] = ""
    b[#b + 1] = "Subcommands:"
    b[#b + 1] = table2(rows)
  end
  if cmd.flags and #cmd.flags > 0 then
    b[#b + 1] = ""
    b[#b + 1] = "Flags:"
    b[#b + 1] = M.flaglines(cmd.flags)
  end
  b[#b + 1] = ""
  b[#b + 1] = "Global flags:"
  b[#b + 1] = M.flaglines(flags.globals(cmd))
  if cmd.examples and #cmd.examples > 0 then
    b[#b + 1] = ""
    b[#b + 1] = "Examples:"
    for _, e in ipairs(cmd.examples) do b[#b + 1] = example(e) end
  end
  return table.concat(b, "\n") .. "\n"
end

-- program(cmds) -> the short help of eidos: cmds a list of command modules
function M.program(cmds)
  local rows = {}
  for _, c in ipairs(cmds) do rows[#rows + 1] = { c.name, c.summary or "" } end
  return table.concat({
    "eidos -- capture, recipe, validate and bundle GPU Kubernetes configuration", "",
    "Usage: eidos COMMAND [flags]", "", "Commands:", table2(rows), "",
    "Run 'eidos help COMMAND' or 'eidos COMMAND --help' for a command's flags; 'eidos --version'.",
    "Shell completion: 'eidos completion bash|zsh|fish|powershell'. Documentation: docs/cli.md",
  }, "\n") .. "\n"
end

return M
