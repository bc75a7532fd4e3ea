-- eidos.main: the CLI entry point called once from C (src/host/main.c).
-- Finds the command (one module per command under lua/eidos/cmd/, found in
-- the resource tree, so a dropped-in file adds a command), parses its flags
-- with the global ones, runs it, and maps structured errors to exit codes.
local errors = require("eidos.errors")
local flags = require("eidos.cli.flags")
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

local function usage()
  local b = { "eidos -- capture, recipe, validate and bundle GPU Kubernetes configuration", "",
              "Usage: eidos COMMAND [flags]", "", "Commands:" }
  local width = 0
  local cmds = {}
  for _, n in ipairs(M.commands()) do
    local c = M.load(n)
    if c and not c.hidden then
      cmds[#cmds + 1] = c
      if #n > width then width = #n end
    end
  end
  for _, c in ipairs(cmds) do
    b[#b + 1] = "  " .. c.name .. string.rep(" ", width - #c.name + 3) .. (c.summary or "")
  end
  b[#b + 1] = ""
  b[#b + 1] = "Run 'eidos COMMAND --help' for a command's flags. Documentation: docs/cli.md"
  return table.concat(b, "\n") .. "\n"
end
M.usage = usage

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

local function positive(opts, name)
  local v = opts[name]
  if v == nil then return nil end
  local n = math.tointeger(tonumber(v))
  if not n or n <= 0 then
    errors.raise("invalid", string.format("invalid value %q for --%s (accepted: a positive integer)", v, name))
  end
  return n
end

-- hooks are loaded lazily, on the first hook point a command reaches
function M.configure_hooks(opts)
  if not opts.hooks and not os.getenv("EIDOS_HOOKS") then return end
  local mb = positive(opts, "hook-memory")
  require("eidos.hooks").configure({
    dirs = opts.hooks, lenient = opts["hooks-lenient"],
    time_ms = positive(opts, "hook-timeout"), memory = mb and mb * 1024 * 1024,
  })
end

-- main(argv0, args) -> exit code
function M.main(argv0, args)
  -- pre-scan global logging flags so that errors during parsing are shown right
  local pre = {}
  for _, a in ipairs(args) do
    if a == "--" then break end
    if a == "--debug" then pre.debug = true end
    if a == "--log-json" then pre.json = true end
  end
  for i, a in ipairs(args) do
    if a == "--log-level" then pre.level = args[i + 1] end
    local l = a:match("^%-%-log%-level=(.*)$")
    if l then pre.level = l end
  end
  log.setup(pre)
  local trace = function(e)
    if errors.is(e) then return e end
    return debug.traceback(tostring(e), 2)
  end
  local ok, code = xpcall(function()
    local name
    local rest = {}
    local takes = { ["--lua-path"] = true, ["--data-dir"] = true, ["--log-level"] = true,
                    ["--hooks"] = true, ["--hook-timeout"] = true, ["--hook-memory"] = true,
                    ["--kubeconfig"] = true, ["--context"] = true, ["--max-input-size"] = true,
                    ["--max-expanded-size"] = true }
    local i = 1
    while i <= #args do
      local a = args[i]
      if a == "--" then
        for j = i, #args do rest[#rest + 1] = args[j] end
        break
      end
      if not name and a:sub(1, 1) ~= "-" then name = a
      else
        rest[#rest + 1] = a
        if not name and takes[a] and args[i + 1] then i = i + 1; rest[#rest + 1] = args[i] end
      end
      i = i + 1
    end
    if not name then
      for _, a in ipairs(rest) do
        if a == "--help" or a == "-h" then require("eidos.docio").write(nil, usage()); return 0 end
        if a == "--version" then name = "version" end
      end
      if not name then
        io.stderr:write(usage())
        errors.raise("invalid", "no command given (accepted: " .. table.concat(M.commands(), ", ") .. ")")
      end
    end
    local cmd = name:match("^[%w%-_]+$") and M.load(name)
    if not cmd then
      errors.raise("invalid", string.format("unknown command %q (accepted: %s)", name,
        table.concat(M.commands(), ", ")))
    end
    local specs = {}
    for _, s in ipairs(cmd.flags or {}) do specs[#specs + 1] = s end
    for _, s in ipairs(flags.global) do specs[#specs + 1] = s end
    for _, a in ipairs(rest) do
      if a == "--" or (cmd.passthrough and a:sub(1, 1) ~= "-") then break end
      if a == "--help" or a == "-h" then require("eidos.docio").write(nil, flags.help(cmd)); return 0 end
    end
    local opts, pos = flags.parse(rest, specs, cmd.name, cmd.passthrough)
    log.setup({ debug = opts.debug, json = opts["log-json"], level = opts["log-level"] })
    M.configure_hooks(opts)
    if opts["max-input-size"] then
      local docio = require("eidos.docio")
      docio.max_input = docio.parse_size(opts["max-input-size"])
    end
    if opts["max-expanded-size"] then
      require("eidos.doc").limits.max_expanded =
        require("eidos.docio").parse_size(opts["max-expanded-size"], "max-expanded-size")
    end
    if opts.kubeconfig or opts.context then
      require("eidos.k8s.client").set_defaults({ kubeconfig = opts.kubeconfig, context = opts.context })
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
    return cmd.run({ opts = opts, args = pos, argv0 = argv0, cmd = cmd }) or 0
  end, trace)
  if ok then return code end
  return report(code)
end

return M
