-- eidos.cli.global: what the global flags (eidos.cli.flags.global) do, in
-- one place for the CLI (eidos.main) and eidosd (eidos.api.server): logging,
-- hooks, the input size and expansion limits, the Kubernetes connection and
-- the registry options of oci:// locations. Also the
-- pre-scan main needs before the command is known: which global flags
-- take a value (derived from the flag model) and the logging flags.
local flags = require("eidos.cli.flags")

local M = {}

-- takes_value() -> set of "--name" and "-x" of global flags that take a value
function M.takes_value()
  local set = {}
  for _, s in ipairs(flags.global) do
    if flags.takes_value(s) then
      set["--" .. s.name] = true
      if s.short then set["-" .. s.short] = true end
    end
  end
  return set
end

-- prescan(args) -> {debug=, json=, level=, color=}: the logging flags,
-- read before parsing so that errors during parsing are shown as asked
function M.prescan(args)
  local pre = {}
  for i, a in ipairs(args) do
    if a == "--" then break end
    if a == "--debug" then pre.debug = true end
    if a == "--log-json" then pre.json = true end
    for _, f in ipairs({ "log-level", "color" }) do
      local key = f == "color" and "color" or "level"
      if a == "--" .. f then pre[key] = args[i + 1] end
      local v = a:sub(1, #f + 3) == "--" .. f .. "=" and a:sub(#f + 4)
      if v then pre[key] = v end
    end
  end
  local c = pre.color or os.getenv("EIDOS_COLOR")
  pre.color = (c == "always" or c == "never") and c or nil
  return pre
end

-- configure_hooks(opts): hooks are loaded lazily, on the first hook point
-- a command reaches
function M.configure_hooks(opts)
  if not opts.hooks and not os.getenv("EIDOS_HOOKS") then return end
  require("eidos.hooks").from_flags(opts)
end

-- apply(opts): every global flag of a parsed command line
function M.apply(opts)
  require("eidos.log").setup({ debug = opts.debug, json = opts["log-json"], level = opts["log-level"],
    quiet = opts.quiet, color = opts.color, wide = opts.wide })
  M.settings(opts)
end

-- settings(opts): every global flag but logging, for a Lua state of its
-- own: the CLI's one, and each of eidosd's (its bootstrap, each handler's
-- and each bundler's; eidosd sets up its JSON logging itself)
function M.settings(opts)
  M.configure_hooks(opts)
  if opts["max-input-size"] then require("eidos.docio").max_input = opts["max-input-size"] end
  if opts["max-expanded-size"] then require("eidos.doc").limits.max_expanded = opts["max-expanded-size"] end
  if opts.kubeconfig or opts.context then
    require("eidos.k8s.client").set_defaults({ kubeconfig = opts.kubeconfig, context = opts.context })
  end
  if opts["registry-config"] or opts["plain-http"] or opts["insecure-tls"] then
    require("eidos.oci").configure({ config = opts["registry-config"], plain_http = opts["plain-http"],
                                     insecure = opts["insecure-tls"] })
  end
end

return M
