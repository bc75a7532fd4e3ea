-- eidos.cli.flags: the command-line flag parser and help renderer shared by
-- every command. A flag spec: {name=, short=, arg="VALUE" (absent for a
-- boolean), help=, default=, choices={...}, repeatable=true, env="EIDOS_X"}.
-- Accepted forms: --name value, --name=value, -n value, -n=value, --bool,
-- --bool=false; "--" ends the flags. Errors are structured (exit 2) and name
-- the bad word and what is accepted.
local errors = require("eidos.errors")

local M = {}

-- flags every command accepts (handled by eidos.main)
M.global = {
  { name = "help", short = "h", help = "show help for the command" },
  { name = "debug", help = "debug logging (key=value lines) and tracebacks on internal errors" },
  { name = "log-json", help = "log as JSON lines on stderr" },
  { name = "log-level", arg = "LEVEL", choices = { "debug", "info", "warn", "error" },
    help = "least severe level logged (default warn)" },
  { name = "lua-path", arg = "DIR", repeatable = true,
    help = "directory searched first for lua/, recipes/, templates/, data/ overrides" },
  { name = "data-dir", arg = "DIR", repeatable = true, help = "same as --lua-path" },
  { name = "kubeconfig", arg = "PATH",
    help = "kubeconfig for cm:// and the agent (default: KUBECONFIG, ~/.kube/config, in-cluster)" },
  { name = "context", arg = "NAME", help = "kubeconfig context (default: its current-context)" },
  { name = "max-input-size", arg = "SIZE",
    help = "largest input accepted from a file, stdin or URL (e.g. 32M) [default 64M files, 16M URLs]" },
  { name = "max-expanded-size", arg = "SIZE", env = "EIDOS_MAX_EXPANDED_SIZE",
    help = "largest size an input document may expand to as it is read, YAML aliases counted as what they " ..
           "repeat (e.g. 256M) [default 16 x the input's size, at least 64M]" },
  { name = "hooks", arg = "DIR", repeatable = true,
    help = "load every *.lua hook file of DIR into a sandbox (also EIDOS_HOOKS=DIR:DIR)" },
  { name = "hooks-lenient", help = "log and skip a failing hook instead of stopping" },
  { name = "hook-timeout", arg = "MS", help = "time limit of one hook call in milliseconds [default 100]" },
  { name = "hook-memory", arg = "MB", help = "memory limit of one hook file in MiB [default 32]" },
}

-- the -o/-t pair every document-producing command shares
function M.output(formats, default)
  return {
    { name = "output", short = "o", arg = "PATH",
      help = "write to PATH (written atomically) instead of stdout" },
    { name = "format", short = "t", arg = "FORMAT", choices = formats, default = default or formats[1],
      help = "output format" },
  }
end

local function names(specs)
  local out = {}
  for _, s in ipairs(specs) do out[#out + 1] = "--" .. s.name end
  return table.concat(out, ", ")
end

local function coerce(spec, value, opts, cmd)
  if spec.choices then
    local ok = false
    for _, c in ipairs(spec.choices) do if c == value then ok = true end end
    if not ok then
      errors.raise("invalid", string.format("invalid value %q for --%s (accepted: %s)",
        value, spec.name, table.concat(spec.choices, ", ")))
    end
  end
  if spec.repeatable then
    opts[spec.name] = opts[spec.name] or {}
    table.insert(opts[spec.name], value)
    -- command-line order across repeatable flags (--set, --set-json, --values)
    opts._seq = opts._seq or {}
    opts._seq[#opts._seq + 1] = { name = spec.name, value = value }
  else
    opts[spec.name] = value
  end
end

-- parse(argv, specs, cmdname, passthrough) -> opts, positional
-- specs: list of flag specs (command flags and global flags together);
-- passthrough: the first positional argument ends the flags (eidos lua FILE ARGS)
function M.parse(argv, specs, cmdname, passthrough)
  local bylong, byshort = {}, {}
  for _, s in ipairs(specs) do
    bylong[s.name] = s
    if s.short then byshort[s.short] = s end
  end
  local opts, pos = {}, {}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "--" or (passthrough and #pos > 0) then
      for j = a == "--" and i + 1 or i, #argv do pos[#pos + 1] = argv[j] end
      break
    end
    local name, value, spec
    if a:sub(1, 2) == "--" and #a > 2 then
      name, value = a:match("^%-%-([^=]+)=(.*)$")
      if not name then name = a:sub(3) end
      spec = bylong[name]
    elseif a:sub(1, 1) == "-" and #a > 1 and a ~= "-" then
      name, value = a:match("^%-(.)=(.*)$")
      if not name then name = a:sub(2, 2); if #a > 2 then value = a:sub(3) end end
      spec = byshort[name]
    end
    if name and not spec then
      errors.raise("invalid", string.format("unknown flag %q for 'eidos %s' (accepted: %s)",
        a, cmdname, names(specs)))
    end
    if spec then
      if spec.arg then
        if value == nil then
          i = i + 1
          value = argv[i]
          if value == nil then
            errors.raise("invalid", string.format("flag --%s needs a value (%s)", spec.name, spec.arg))
          end
        end
        coerce(spec, value, opts, cmdname)
      else
        if value == nil or value == "true" then opts[spec.name] = true
        elseif value == "false" then opts[spec.name] = false
        else
          errors.raise("invalid", string.format("invalid value %q for --%s (accepted: true, false)", value, spec.name))
        end
      end
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  for _, s in ipairs(specs) do
    if opts[s.name] == nil and s.env and os.getenv(s.env) and os.getenv(s.env) ~= "" then
      local v = os.getenv(s.env)
      if s.arg then coerce(s, v, opts, cmdname) else opts[s.name] = (v ~= "0" and v ~= "false") end
    end
    if opts[s.name] == nil and s.default ~= nil then opts[s.name] = s.default end
  end
  return opts, pos
end

local function flaglines(specs)
  local rows, width = {}, 0
  for _, s in ipairs(specs) do
    local left = (s.short and ("-" .. s.short .. ", ") or "    ") .. "--" .. s.name
    if s.arg then left = left .. " " .. s.arg end
    local help = s.help or ""
    if s.choices then help = help .. " (" .. table.concat(s.choices, "|") .. ")" end
    if s.default ~= nil and s.default ~= false then help = help .. " [default " .. tostring(s.default) .. "]" end
    if s.env then help = help .. " [env " .. s.env .. "]" end
    if s.repeatable then help = help .. " (repeatable)" end
    rows[#rows + 1] = { left, help }
    if #left > width then width = #left end
  end
  local out = {}
  for _, r in ipairs(rows) do
    out[#out + 1] = "  " .. r[1] .. string.rep(" ", width - #r[1] + 3) .. r[2]
  end
  return table.concat(out, "\n")
end

-- help text of a command module
function M.help(cmd)
  local b = {}
  b[#b + 1] = "Usage: " .. (cmd.usage or ("eidos " .. cmd.name .. " [flags]"))
  b[#b + 1] = ""
  b[#b + 1] = cmd.description or cmd.summary or ""
  if cmd.flags and #cmd.flags > 0 then
    b[#b + 1] = ""
    b[#b + 1] = "Flags:"
    b[#b + 1] = flaglines(cmd.flags)
  end
  b[#b + 1] = ""
  b[#b + 1] = "Global flags:"
  b[#b + 1] = flaglines(M.global)
  if cmd.examples and #cmd.examples > 0 then
    b[#b + 1] = ""
    b[#b + 1] = "Examples:"
    for _, e in ipairs(cmd.examples) do b[#b + 1] = "  " .. e end
  end
  return table.concat(b, "\n") .. "\n"
end

return M
