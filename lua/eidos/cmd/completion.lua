-- eidos completion: shell completion scripts generated from the command
-- modules themselves (commands, their flags and flag choices).
local errors = require("eidos.errors")
local flags = require("eidos.cli.flags")

local function catalog()
  local main = require("eidos.main")
  local out = {}
  for _, n in ipairs(main.commands()) do
    local c = main.load(n)
    if c and not c.hidden then
      local fl = {}
      for _, s in ipairs(c.flags or {}) do fl[#fl + 1] = s end
      for _, s in ipairs(flags.global) do fl[#fl + 1] = s end
      out[#out + 1] = { name = n, summary = c.summary or "", flags = fl }
    end
  end
  return out
end

local function bash(cat)
  local b = { "# bash completion for eidos; source it: source <(eidos completion bash)",
              "_eidos() {", "  local cur prev cmd", "  cur=\"${COMP_WORDS[COMP_CWORD]}\"",
              "  prev=\"${COMP_WORDS[COMP_CWORD-1]}\"", "  cmd=\"${COMP_WORDS[1]}\"",
              "  if [ \"$COMP_CWORD\" -eq 1 ]; then" }
  local names = {}
  for _, c in ipairs(cat) do names[#names + 1] = c.name end
  b[#b + 1] = "    COMPREPLY=($(compgen -W \"" .. table.concat(names, " ") .. "\" -- \"$cur\")); return"
  b[#b + 1] = "  fi"
  b[#b + 1] = "  case \"$cmd\" in"
  for _, c in ipairs(cat) do
    local words, choices = {}, {}
    for _, f in ipairs(c.flags) do
      words[#words + 1] = "--" .. f.name
      if f.choices then choices[#choices + 1] = { f, table.concat(f.choices, " ") } end
    end
    b[#b + 1] = "    " .. c.name .. ")"
    b[#b + 1] = "      case \"$prev\" in"
    for _, ch in ipairs(choices) do
      local pat = "--" .. ch[1].name .. (ch[1].short and ("|-" .. ch[1].short) or "")
      b[#b + 1] = "        " .. pat .. ") COMPREPLY=($(compgen -W \"" .. ch[2] .. "\" -- \"$cur\")); return;;"
    end
    b[#b + 1] = "      esac"
    b[#b + 1] = "      COMPREPLY=($(compgen -W \"" .. table.concat(words, " ") .. "\" -- \"$cur\"));;"
  end
  b[#b + 1] = "  esac"
  b[#b + 1] = "}"
  b[#b + 1] = "complete -o default -F _eidos eidos eidosd"
  return table.concat(b, "\n") .. "\n"
end

local function esc(s) return (s:gsub("'", "'\\''"):gsub("%[", "\\["):gsub("%]", "\\]"):gsub(":", "\\:")) end

local function zsh(cat)
  local b = { "#compdef eidos eidosd", "# zsh completion for eidos: eidos completion zsh > \"${fpath[1]}/_eidos\"",
              "_eidos() {", "  local -a cmds", "  cmds=(" }
  for _, c in ipairs(cat) do b[#b + 1] = "    '" .. c.name .. ":" .. esc(c.summary) .. "'" end
  b[#b + 1] = "  )"
  b[#b + 1] = "  if (( CURRENT == 2 )); then _describe 'command' cmds; return; fi"
  b[#b + 1] = "  case \"${words[2]}\" in"
  for _, c in ipairs(cat) do
    local args = {}
    for _, f in ipairs(c.flags) do
      local spec = "'--" .. f.name .. "[" .. esc(f.help or "") .. "]"
      if f.arg then
        spec = spec .. ":" .. f.arg:lower() .. ":" .. (f.choices and ("(" .. table.concat(f.choices, " ") .. ")") or "_files")
      end
      args[#args + 1] = spec .. "'"
    end
    b[#b + 1] = "    " .. c.name .. ") _arguments " .. table.concat(args, " ") .. " '*:file:_files';;"
  end
  b[#b + 1] = "  esac"
  b[#b + 1] = "}"
  b[#b + 1] = "_eidos \"$@\""
  return table.concat(b, "\n") .. "\n"
end

local function fish(cat)
  local b = { "# fish completion for eidos: eidos completion fish > ~/.config/fish/completions/eidos.fish",
              "complete -c eidos -f" }
  for _, c in ipairs(cat) do
    b[#b + 1] = string.format("complete -c eidos -n '__fish_use_subcommand' -a %s -d '%s'", c.name,
      (c.summary:gsub("'", "\\'")))
    for _, f in ipairs(c.flags) do
      local line = string.format("complete -c eidos -n '__fish_seen_subcommand_from %s' -l %s", c.name, f.name)
      if f.short then line = line .. " -s " .. f.short end
      if f.arg then line = line .. " -r" end
      if f.choices then line = line .. " -a '" .. table.concat(f.choices, " ") .. "'" end
      if f.help then line = line .. " -d '" .. f.help:gsub("'", "\\'") .. "'" end
      b[#b + 1] = line
    end
  end
  return table.concat(b, "\n") .. "\n"
end

local shells = { bash = bash, zsh = zsh, fish = fish }

return {
  name = "completion",
  summary = "Print a shell completion script (bash, zsh, fish)",
  usage = "eidos completion bash|zsh|fish",
  description = "Print a completion script for the named shell, generated from the commands\nand flags of this binary.",
  args = { min = 1, max = 1, text = "one shell name (bash, zsh, fish)" },
  examples = { "source <(eidos completion bash)", "eidos completion fish > ~/.config/fish/completions/eidos.fish" },
  run = function(ctx)
    local sh = ctx.args[1]
    if not shells[sh] then
      errors.raise("invalid", string.format("unknown shell %q (accepted: bash, zsh, fish)", sh))
    end
    require("eidos.docio").write(nil, shells[sh](catalog()))
    return 0
  end,
}
