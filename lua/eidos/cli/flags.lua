-- eidos.cli.flags: the flag model of eidos and eidosd. Parsing, --help
-- (eidos.cli.help), shell completion (eidos.cli.complete) and the "did you
-- mean" hints are all derived from the same flag specs:
--   name, short       --name / -n
--   arg               the value's placeholder in help ("SERVICE"); a spec
--                     without arg and without type is a boolean
--   type              string | int | number | duration | size | timestamp |
--                     enum | file | dir | uri | selector | bool (default:
--                     bool without arg, enum with choices, else string);
--                     selector: a Kubernetes label selector, its syntax
--                     checked by eidos.k8s.labels. Values of int,
--                     number, duration (ms), size (bytes) and timestamp flags
--                     reach the command parsed by eidos.units; enum values
--                     in their canonical spelling.
--   unit, min, max    a bare number's unit ("s", "ms", "B", "MiB") and bounds
--   choices, values   enum values: a list (choices), or a function returning
--                     the list (values) for values read from the engine's data
--   aliases           enum aliases: map (or function returning one) alias -> value
--   open              enum whose values the command checks itself (help and
--                     completion still offer them)
--   separator         a list in one word ("GPU,OS"): completion offers values
--                     after the last separator
--   default, env      default value (text, parsed like the flag's value) and
--                     the environment variable read when the flag is not given
--   default_text      function returning the default shown by --help, for a
--                     default that lives with its policy (not applied here)
--   repeatable        may be given many times (a list, in order; opts._seq
--                     keeps command-line order across repeatable flags)
--   requires          flag name(s) that must also be given (exit 2 otherwise);
--                     an entry that is a list is satisfied by any one of its names
--   conflicts         flag name(s) that must not be given with it
--   help, hidden      one line of help; left out of help and completion
-- Accepted forms: --name value, --name=value, -n value, -n=value, -nVALUE,
-- --bool, --bool=false; "--" ends the flags. A single-value flag given twice,
-- an unknown flag, a flag whose value is missing (or is the next flag), an
-- enum value not offered, and -o naming a format are errors (exit 2) that
-- name the bad word and, where one is near, the right one.
local errors = require("eidos.errors")

local M = {}

-- flags every command accepts (handled by eidos.cli.global)
M.global = {
  { name = "help", short = "h", help = "show help for the command" },
  { name = "debug", help = "debug logging (key=value lines) and tracebacks on internal errors" },
  { name = "log-json", help = "log as JSON lines on stderr" },
  { name = "log-level", arg = "LEVEL", choices = { "debug", "info", "warn", "error" },
    help = "least severe level logged (default warn)" },
  { name = "quiet", short = "q", help = "no progress and no closing 'wrote ...' line on stderr (warnings still show)" },
  { name = "color", arg = "WHEN", choices = { "auto", "always", "never" }, default = "auto", env = "EIDOS_COLOR",
    help = "colour: auto = on a terminal, unless NO_COLOR or TERM=dumb; always (e.g. CI logs); never" },
  { name = "wide", help = "-t table: every column and row in full (no fitting to min(120, the terminal), no summaries)" },
  { name = "lua-path", arg = "DIR", type = "dir", repeatable = true,
    help = "directory searched first for lua/, recipes/, templates/, data/ overrides" },
  { name = "data-dir", arg = "DIR", type = "dir", repeatable = true, help = "same as --lua-path" },
  { name = "kubeconfig", arg = "PATH", type = "file",
    help = "kubeconfig for cm:// and the agent (default: KUBECONFIG, ~/.kube/config, in-cluster)" },
  { name = "context", arg = "NAME", help = "kubeconfig context (default: its current-context)" },
  { name = "registry-config", arg = "FILE", type = "file",
    help = "Docker config.json with registry credentials for oci:// (default: $DOCKER_CONFIG/config.json, ~/.docker/config.json)" },
  { name = "plain-http", help = "talk to oci:// registries over plain HTTP (a local test registry)" },
  { name = "insecure-tls", help = "do not verify the TLS certificate of oci:// registries" },
  { name = "max-input-size", arg = "SIZE", type = "size", unit = "B",
    help = "largest input accepted from a file, stdin or URL (e.g. 32Mi) [default 64Mi files, 16Mi URLs]" },
  { name = "max-expanded-size", arg = "SIZE", type = "size", unit = "B", env = "EIDOS_MAX_EXPANDED_SIZE",
    help = "largest size an input document may expand to as it is read, YAML aliases counted as what they " ..
           "repeat (e.g. 256Mi) [default 16 x the input's size, at least 64Mi]" },
  { name = "hooks", arg = "DIR", type = "dir", repeatable = true,
    help = "load every *.lua hook file of DIR into a sandbox (also EIDOS_HOOKS=DIR:DIR)" },
  { name = "hooks-lenient", help = "log and skip a failing hook instead of stopping" },
  { name = "hook-timeout", arg = "DURATION", type = "duration", unit = "ms", min = 1,
    help = "time limit of one hook call (a bare number is milliseconds)",
    default_text = function() return require("eidos.hooks").default_text("hook-timeout") end },
  { name = "hook-memory", arg = "SIZE", type = "size", unit = "MiB",
    help = "memory limit of one hook file (a bare number is MiB)",
    default_text = function() return require("eidos.hooks").default_text("hook-memory") end },
}

-- globals(cmd) -> the global flags a command accepts: all of them, or,
-- when the command lists those it uses (cmd.globals, e.g. eidosd, which
-- has no use for --kubeconfig), those, in the order of M.global. An entry
-- of cmd.globals is a name, or { name =, help = } where the command's use
-- differs (eidosd logs at info by default). Parsing, help and completion
-- all take them from here.
function M.globals(cmd)
  if not (cmd and cmd.globals) then return M.global end
  local want, out = {}, {}
  for _, g in ipairs(cmd.globals) do
    if type(g) == "table" then want[g.name] = g else want[g] = true end
  end
  for _, s in ipairs(M.global) do
    local g = want[s.name]
    if type(g) == "table" then
      local c = {}
      for k, v in pairs(s) do c[k] = v end
      c.help = g.help or s.help
      out[#out + 1] = c
    elseif g then
      out[#out + 1] = s
    end
  end
  return out
end

-- specs(cmd) -> the command's flags, then the global ones it accepts
function M.specs(cmd)
  local specs = {}
  for _, s in ipairs(cmd.flags or {}) do specs[#specs + 1] = s end
  for _, s in ipairs(M.globals(cmd)) do specs[#specs + 1] = s end
  return specs
end

-- the -o/-t pair every document-producing command shares
function M.output(formats, default)
  return {
    { name = "output", short = "o", arg = "PATH", type = "uri",
      help = "write to PATH (written atomically) instead of stdout" },
    { name = "format", short = "t", arg = "FORMAT", choices = formats, default = default or formats[1],
      help = "output format" },
  }
end

-- ---- the model -------------------------------------------------------------

function M.type_of(s)
  if s.type then return s.type end
  if not s.arg then return "bool" end
  if s.choices or s.values then return "enum" end
  return "string"
end

function M.takes_value(s) return M.type_of(s) ~= "bool" end

local function resolve(v)
  if type(v) == "function" then return v() end
  return v
end

-- values(s) -> the enum values of a spec (a list, maybe empty)
function M.values(s) return resolve(s.choices) or resolve(s.values) or {} end

-- aliases(s) -> sorted list of {alias, value}
function M.aliases(s)
  local map = resolve(s.aliases) or {}
  local out = {}
  for k, v in pairs(map) do out[#out + 1] = { tostring(k), tostring(v) } end
  table.sort(out, function(a, b) return a[1] < b[1] end)
  return out
end

local function list_of(v)
  if v == nil then return {} end
  if type(v) == "string" then return { v } end
  return v
end

local function invalid(fmt, ...) errors.raise("invalid", string.format(fmt, ...)) end

local function hint(word, candidates, show)
  local h = require("eidos.nearest").hint(word, candidates, { show = show })
  return h ~= "" and ("; " .. h) or ""
end
M.hint = hint

local function enum(s, text, what)
  local values = M.values(s)
  local low = text:lower()
  for _, v in ipairs(values) do if v == text or v:lower() == low then return v end end
  for _, a in ipairs(M.aliases(s)) do if a[1]:lower() == low then return a[2] end end
  local words = {}
  for _, v in ipairs(values) do words[#words + 1] = v end
  for _, a in ipairs(M.aliases(s)) do words[#words + 1] = a[1] end
  invalid("invalid value %q for %s (accepted: %s)%s", text, what, table.concat(values, ", "), hint(text, words))
end

-- the eidos.units parser of each numeric flag type
local UNITS = { int = "count", number = "number", duration = "duration", size = "size", timestamp = "timestamp" }

-- convert(s, text, what) -> the value of flag s written as text; what
-- names the flag or variable in messages (eidos.units is loaded only for
-- the numeric types)
function M.convert(s, text, what)
  local t = M.type_of(s)
  if UNITS[t] then
    return require("eidos.units")[UNITS[t]](text, { what = what, unit = s.unit, min = s.min, max = s.max })
  elseif t == "enum" and not s.open then return enum(s, text, what)
  elseif t == "selector" then return (require("eidos.k8s.labels").label_selector(text, what))
  end
  return text
end

-- index(specs) -> by long name, by short letter
function M.index(specs)
  local bylong, byshort = {}, {}
  for _, s in ipairs(specs) do
    bylong[s.name] = s
    if s.short then byshort[s.short] = s end
  end
  return bylong, byshort
end

-- lookup(word, bylong, byshort) -> spec, shown name, inline value (or
-- nil when word is no flag); unknown flags give nil spec and the name
function M.lookup(word, bylong, byshort)
  if word:sub(1, 2) == "--" and #word > 2 then
    local name, value = word:match("^%-%-([^=]+)=(.*)$")
    name = name or word:sub(3)
    return bylong[name], "--" .. name, value, true
  elseif word:sub(1, 1) == "-" and #word > 1 then
    local name, value = word:match("^%-(.)=(.*)$")
    if not name then
      name = word:sub(2, 2)
      if #word > 2 then value = word:sub(3) end
    end
    return byshort[name], "-" .. name, value, true
  end
  return nil, nil, nil, false
end

-- prog(cmdname) -> how messages name the program: "eidos", "eidos
-- COMMAND", or a program of its own (cmdname "eidosd")
local function prog(cmdname)
  if cmdname == "" then return "eidos" end
  if cmdname:match("^eidos") then return cmdname end
  return "eidos " .. cmdname
end

-- a global flag of eidos this command does not take (cmd.globals): the
-- message says so and lists those it takes, rather than guessing a typo
local function unused_global(shown, specs, cmdname)
  local taken = {}
  for _, s in ipairs(specs) do taken[s.name] = true end
  for _, g in ipairs(M.global) do
    if shown == "--" .. g.name or (g.short and shown == "-" .. g.short) then
      local names = {}
      for _, s in ipairs(M.global) do if taken[s.name] and not s.hidden then names[#names + 1] = "--" .. s.name end end
      invalid("unknown flag %q for '%s': a global flag of eidos that '%s' does not take (its global flags: %s; " ..
        "see '%s --help')", shown, prog(cmdname), prog(cmdname), table.concat(names, ", "), prog(cmdname))
    end
  end
end

local function unknown(shown, specs, cmdname)
  unused_global(shown, specs, cmdname)
  local names = {}
  for _, s in ipairs(specs) do if not s.hidden then names[#names + 1] = "--" .. s.name end end
  local h = shown:sub(1, 2) == "--" and hint(shown, names) or ""
  invalid("unknown flag %q for '%s'%s (see '%s --help' for its flags)", shown, prog(cmdname), h, prog(cmdname))
end

local function placeholder(s) return s.arg or require("eidos.cli.help").placeholder(s) end

local function store(s, value, text, opts, raw)
  if s.repeatable then
    opts[s.name] = opts[s.name] or {}
    table.insert(opts[s.name], value)
    raw[s.name] = raw[s.name] or {}
    table.insert(raw[s.name], text)
    opts._seq[#opts._seq + 1] = { name = s.name, value = text }
  else
    opts[s.name], raw[s.name] = value, text
  end
end

local BOOL = { ["true"] = true, ["1"] = true, yes = true, on = true,
               ["false"] = false, ["0"] = false, no = false, off = false }

local function boolean(text, what)
  local b = BOOL[text:lower()]
  if b == nil then invalid("invalid value %q for %s (accepted: true, false)", text, what) end
  return b
end

-- constraints between flags given on the command line, and -o naming a format
local function check(specs, bylong, opts, given, cmdname)
  for _, s in ipairs(specs) do
    if given[s.name] then
      for _, r in ipairs(list_of(s.requires)) do
        local any = false
        for _, name in ipairs(list_of(r)) do any = any or not not opts[name] end
        if not any then
          local names = "--" .. table.concat(list_of(r), " or --")
          invalid("--%s only applies with %s (add %s, or leave --%s out)", s.name, names, names, s.name)
        end
      end
      for _, c in ipairs(list_of(s.conflicts)) do
        if given[c] then invalid("--%s and --%s cannot be used together in '%s'", s.name, c, prog(cmdname)) end
      end
    end
  end
  local fmt = bylong.format
  if given.output and fmt and type(opts._raw.output) == "string" then
    if opts._raw.output == "wide" and bylong.wide then -- kubectl's -o wide
      invalid("-o \"wide\" names kubectl's wide output, not a file: eidos takes --wide (with -t table); " ..
        "write -o ./wide for a file named wide")
    end
    for _, f in ipairs(M.values(fmt)) do
      if opts._raw.output == f then
        invalid("-o %q names a format, not a file: -t picks the format (-t %s); " ..
          "write -o ./%s for a file named %s", f, f, f, f)
      end
    end
  end
end

-- parse(argv, specs, cmdname, passthrough) -> opts, positional
-- specs: the command's flags and the global ones together; passthrough:
-- the first positional argument ends the flags (eidos lua FILE ARGS).
-- opts._raw holds each flag's text as given (for handing flags on),
-- opts._given the flags given on the command line.
function M.parse(argv, specs, cmdname, passthrough)
  local bylong, byshort = M.index(specs)
  local raw, given = {}, {}
  local opts, pos = { _seq = {}, _raw = raw, _given = given }, {}
  local i = 1
  while i <= #argv do
    local a = argv[i]
    if a == "--" or (passthrough and #pos > 0) then
      for j = a == "--" and i + 1 or i, #argv do pos[#pos + 1] = argv[j] end
      break
    end
    local spec, shown, value, isflag = M.lookup(a, bylong, byshort)
    if isflag and not spec then unknown(shown, specs, cmdname) end
    if spec then
      shown = "--" .. spec.name
      if M.takes_value(spec) and value == nil then
        local nx = argv[i + 1]
        local other, oshown = nil, nil
        if nx then other, oshown = M.lookup(nx, bylong, byshort) end
        if nx == nil or nx == "--" then
          invalid("flag %s needs a value (%s)", shown, placeholder(spec))
        elseif other then
          invalid("flag %s needs a value (%s), but the next word is the flag %q; give %s %s", shown,
            placeholder(spec), oshown, shown, placeholder(spec))
        end
        i = i + 1
        value = nx
      end
      if given[spec.name] and not spec.repeatable then
        invalid("flag %s given twice%s; it takes one value", shown,
          raw[spec.name] and string.format(" (%q, then %q)", raw[spec.name], value) or "")
      end
      if M.takes_value(spec) then
        store(spec, M.convert(spec, value, shown), value, opts, raw)
      else
        opts[spec.name] = value == nil and true or boolean(value, shown)
      end
      given[spec.name] = true
    else
      pos[#pos + 1] = a
    end
    i = i + 1
  end
  for _, s in ipairs(specs) do
    local v = s.env and os.getenv(s.env)
    if opts[s.name] == nil and v and v ~= "" then
      if M.takes_value(s) then store(s, M.convert(s, v, s.env), v, opts, raw)
      else opts[s.name] = boolean(v, s.env) end
    end
    if opts[s.name] == nil and s.default ~= nil then
      if M.takes_value(s) and type(s.default) == "string" then
        opts[s.name] = M.convert(s, s.default, "the default of --" .. s.name)
        if s.repeatable then opts[s.name] = { opts[s.name] } end
      else
        opts[s.name] = s.default
      end
    end
  end
  check(specs, bylong, opts, given, cmdname)
  return opts, pos
end

-- subcommands(cmd) -> list of {name=, summary=, module=}. A command lists
-- its subcommands as {name=, summary=} entries it handles itself (eidos
-- recipe lint), entries with module= naming a module that is a command of
-- its own, or a map name -> module name; module subcommands are the word
-- right after the command (eidos bundle pull ...)
function M.subcommands(cmd)
  local s = type(cmd) == "table" and cmd.subcommands
  if type(s) ~= "table" then return {} end
  if s[1] then return s end
  local names = {}
  for k in pairs(s) do names[#names + 1] = k end
  table.sort(names)
  local out = {}
  for _, n in ipairs(names) do
    out[#out + 1] = { name = n, module = s[n], summary = require(s[n]).summary }
  end
  return out
end

-- subcommand(cmd, word) -> the module subcommand named word, or nil
function M.subcommand(cmd, word)
  for _, s in ipairs(M.subcommands(cmd)) do
    if s.name == word and s.module then
      local m = require(s.module)
      m.name = m.name or (cmd.name .. " " .. word)
      return m
    end
  end
end

-- help text of a command module (eidos.cli.help)
function M.help(cmd) return require("eidos.cli.help").command(cmd) end

return M
