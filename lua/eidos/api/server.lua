-- eidos.api.server: the two entry points eidosd (src/server/main.c and
-- pool.c) calls. configure(args, ui) parses the flags of `eidos
-- serve` once in the main thread and returns the configuration table C
-- reads (or an exit code after printing help or an error), with the
-- console prepared from ui (the ui/ files compiled into eidosd:
-- eidos.api.console). worker(args,
-- id, server) runs in each Lua thread's own state (the handlers' and the
-- bundlers'): it parses the same arguments, builds the API app (loading
-- the recipe library) with the server capability C hands it (the table of
-- src/server/lserver.c: metrics, the response cache, clocks) and returns
-- its request handler (or nil, exit code). The server always logs JSON lines.
local errors = require("eidos.errors")
local flags = require("eidos.cli.flags")
local log = require("eidos.log")
local config = require("eidos.api.config")

local M = {}

-- parse(args, main): main is true in the main thread (configure), which
-- alone logs the warnings of the configuration
local function parse(args, main)
  local opts = config.parse(args)
  local level = opts["log-level"] or (opts.debug and "debug") or "info"
  log.setup({ json = true, level = level })
  config.apply_env_aliases(opts, main and function(msg) log.warn(msg) end or nil)
  -- every global setting reaches every Lua state: this runs in the
  -- bootstrap state and in each handler's and bundler's (registry access
  -- for --data oci://, input limits, hooks). User hooks (--hooks DIR,
  -- EIDOS_HOOKS) apply to the server's recipes and bundles too; every hook
  -- file is loaded now, in each worker's state, so that a broken hook
  -- stops the server at start rather than failing requests
  require("eidos.cli.global").settings(opts)
  require("eidos.hooks").load()
  -- after the hooks: allowlist values are read as requests' criteria are
  local cfg = config.normalize(opts)
  return opts, cfg
end

local function trace(e)
  if errors.is(e) then return e end
  return debug.traceback(tostring(e), 2)
end

local function report(e)
  if errors.is(e) then
    log.error(e.msg)
    return errors.exit_code(e)
  end
  log.error("internal error: " .. tostring(e))
  return errors.exit.internal
end

-- the routes as C needs them: {path, builtin, limited}
local function c_routes()
  local out = {}
  for _, r in ipairs(require("eidos.api.routes")) do
    out[#out + 1] = { path = r.path, builtin = r.builtin, limited = r.limited ~= false, pool = r.pool,
                      prefix = r.prefix, page = r.page }
  end
  return out
end

function M.configure(args, ui)
  for _, a in ipairs(args) do
    if a == "--" then break end
    if a == "--help" or a == "-h" then
      local cmd = require("eidos.cmd.serve")
      io.stdout:write((flags.help(cmd):gsub("eidos serve", "eidosd")))
      return 0
    end
    if a == "--version" then
      local b = require("eidos.core.build")
      io.stdout:write(string.format("eidosd %s (commit %s, built %s, %s)\n", b.version, b.commit, b.date, b.lua))
      return 0
    end
  end
  log.setup({ json = true, level = "info" })
  local ok, res = xpcall(function()
    local _, cfg = parse(args, true)
    cfg.routes = c_routes()
    if ui then cfg.console = require("eidos.api.console").prepare(ui) end
    return cfg
  end, trace)
  if ok then return res end
  return report(res)
end

function M.worker(args, id, server)
  local ok, res = xpcall(function()
    local _, cfg = parse(args)
    return require("eidos.api").new(cfg, { server = server }).handle
  end, trace)
  if ok then return res end
  if (id or 0) == 0 then return nil, report(res) end
  return nil, errors.exit_code(res)
end

return M
