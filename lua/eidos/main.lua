-- eidos.main: the CLI entry point called once from C (src/host/main.c).
-- Finds the command (one module per command under lua/eidos/cmd/, found in
-- the resource tree, so a dropped-in file adds a command), parses its flags
-- with the global ones, runs it, and maps structured errors to exit codes.
local errors = require("eidos.errors")
local flags = require("eidos.cli.flags")
local global = require("eidos.cli.global")
local log = require("eidos.log")

local M = {}

-- sorted list of available command names
function M.commands()
  local res = require("eidos.core.res")
  local out = {}
  for _, f in ipairs(res.list("lua/eidos/cmd/")) do
    local name = f.path:match("^lua/eidos/cmd/([%w%-_]+)%.lua$")
    if name then out[#out + 1] = name end
  end
  return out
end

-- load(name) -> the command module eidos.cmd.<name>, or nil when there is
-- none: name is the word the user typed (and a command dropped in on disk
-- is one), so a missing module is an answer here, not a broken build
function M.load(name)
  local ok, mod = pcall(require, "eidos.cmd." .. name)
  if not ok then
    if type(mod) == "string" and mod:find("module 'eidos.cmd." .. name .. "' not found", 1, true) then
      return nil
    end
    error(mod, 0)
  end
  return mod
end

local function visible()
  local cmds = {}
  for _, n in ipairs(M.commands()) do
    local c = M.load(n)
    if c and not c.hidden then cmds[#cmds + 1] = c end
  end
  return cmds
end

function M.usage() return require("eidos.cli.help").program(visible()) end

-- find(name) -> the command module, or raises naming the nearest command
function M.find(name)
  local cmd = name:match("^[%w%-_]+$") and M.load(name)
  if cmd then return cmd end
  local names = M.commands()
  errors.raise("invalid", string.format("unknown command %q%s (accepted: %s)", name,
    flags.hint(name, names), table.concat(names, ", ")))
end

local function report(e)
  if errors.is(e) then
    log.error(e.msg)
    if e.detail and log.enabled("debug") then
      log.debug("detail", type(e.detail) == "table" and e.detail or { detail = tostring(e.detail) })
    end
    return errors.exit_code(e)
  end
  local msg = tostring(e)
  if log.enabled("debug") then
    log.error("internal error: " .. msg)
  else
    log.error("internal error: " .. (msg:match("^[^\n]*")) .. " (run with --debug for a traceback)")
  end
  return errors.exit.internal
end

-- split(args) -> command name (or nil), the other words, the index of
-- the name in args; global flags that take a value keep it (the set is
-- derived from the flag model)
local function split(args)
  local takes = global.takes_value()
  local name, rest, at = nil, {}, nil
  local i = 1
  while i <= #args do
    local a = args[i]
    if a == "--" then
      for j = i, #args do rest[#rest + 1] = args[j] end
      break
    end
    if not name and a:sub(1, 1) ~= "-" then name, at = a, i
    else
      rest[#rest + 1] = a
      if not name and takes[a] and args[i + 1] then i = i + 1; rest[#rest + 1] = args[i] end
    end
    i = i + 1
  end
  return name, rest, at
end

local function check_args(cmd, pos)
  local sub = flags.subcommands(cmd)
  if #sub > 0 and pos[1] then
    local names = {}
    for _, s in ipairs(sub) do names[#names + 1] = s.name end
    local known = false
    for _, n in ipairs(names) do if n == pos[1] then known = true end end
    if not known then
      errors.raise("invalid", string.format("unknown 'eidos %s' subcommand %q%s (accepted: %s)", cmd.name, pos[1],
        flags.hint(pos[1], names), table.concat(names, ", ")))
    end
  end
  if cmd.args then
    local min, max = cmd.args.min or 0, cmd.args.max
    if #pos < min or (max and #pos > max) then
      errors.raise("invalid", string.format("'eidos %s' takes %s, got %d argument(s)%s (usage: %s)",
        cmd.name, cmd.args.text or "no arguments", #pos, #pos > 0 and (": " .. table.concat(pos, " ")) or "",
        cmd.usage or ("eidos " .. cmd.name)))
    end
  elseif #pos > 0 then
    errors.raise("invalid", string.format("unexpected argument %q for 'eidos %s' (it takes flags only)",
      pos[1], cmd.name))
  end
end

-- no command: bare `eidos` and `eidos --help` print the short help (exit
-- 0), `eidos --version` the version; other words are checked as flags
local function nocommand(argv0, rest)
  local specs = { { name = "version", help = "print the version" } }
  for _, s in ipairs(flags.global) do specs[#specs + 1] = s end
  local opts, pos = flags.parse(rest, specs, "")
  if #pos > 0 then
    errors.raise("invalid", string.format("unexpected argument %q (usage: eidos COMMAND [flags])", pos[1]))
  end
  global.apply(opts)
  if opts.version then
    local cmd = M.find("version")
    return cmd.run({ opts = { format = "table" }, args = {}, argv0 = argv0, cmd = cmd }) or 0
  end
  require("eidos.docio").write(nil, M.usage())
  return 0
end

-- main(argv0, args) -> exit code
function M.main(argv0, args)
  -- logging flags first, so that errors during parsing are shown right
  log.setup(global.prescan(args))
  local trace = function(e)
    if errors.is(e) then return e end
    return debug.traceback(tostring(e), 2)
  end
  local ok, code = xpcall(function()
    if args[1] == "__complete" then
      return require("eidos.cli.complete").main({ table.unpack(args, 2) })
    end
    local name, rest, at = split(args)
    if not name then return nocommand(argv0, rest) end
    if name == "help" then
      -- eidos help [COMMAND]
      local words = {}
      for _, a in ipairs(rest) do if a:sub(1, 1) ~= "-" then words[#words + 1] = a end end
      local cmd = words[1] and M.find(words[1])
      cmd = cmd and words[2] and flags.subcommand(cmd, words[2]) or cmd
      require("eidos.docio").write(nil, cmd and flags.help(cmd) or M.usage())
      return 0
    end
    local cmd = M.find(name)
    local sub = args[at + 1] and flags.subcommand(cmd, args[at + 1])
    if sub then
      cmd = sub
      table.remove(rest, at) -- rest is args without the command name
    end
    local specs = flags.specs(cmd)
    for _, a in ipairs(rest) do
      if a == "--" or (cmd.passthrough and a:sub(1, 1) ~= "-") then break end
      if a == "--help" or a == "-h" then require("eidos.docio").write(nil, flags.help(cmd)); return 0 end
    end
    local opts, pos = flags.parse(rest, specs, cmd.name, cmd.passthrough)
    global.apply(opts)
    check_args(cmd, pos)
    return cmd.run({ opts = opts, args = pos, argv0 = argv0, cmd = cmd }) or 0
  end, trace)
  log.live(nil) -- a progress line a command left on the terminal
  if ok then return code end
  return report(code)
end

return M
