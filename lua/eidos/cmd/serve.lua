-- eidos serve: run the HTTP API server. The server is the separate
-- executable eidosd (it links libh2o and OpenSSL, which the CLI must not
-- load); this command finds it ($EIDOSD, next to the eidos binary, then
-- PATH) and hands it the same flags. Flag parsing here only checks them
-- early and shows the help; eidosd parses them again itself.
local errors = require("eidos.errors")
local config = require("eidos.api.config")
local flags = require("eidos.cli.flags")

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

-- where eidosd may sit: next to the eidos binary (argv0, and the override
-- roots, which end with <exe>/../share/eidos and <exe dir>), then PATH
local function candidates(argv0)
  local out = {}
  if argv0 and argv0:find("/", 1, true) then out[#out + 1] = argv0:match("^(.*)/[^/]*$") .. "/eidosd" end
  for _, r in ipairs(require("eidos.core.res").roots()) do
    local prefix = r:match("^(.*)/share/eidos/?$")
    if prefix then out[#out + 1] = prefix .. "/bin/eidosd" end
    out[#out + 1] = r .. "/eidosd"
  end
  for d in (os.getenv("PATH") or ""):gmatch("[^:]+") do out[#out + 1] = d .. "/eidosd" end
  return out
end

local function find_eidosd(argv0)
  local env = os.getenv("EIDOSD")
  if env and env ~= "" then
    if not exists(env) then errors.raise("notfound", string.format("EIDOSD=%s: no such file", env)) end
    return env
  end
  for _, p in ipairs(candidates(argv0)) do
    if exists(p) then return p end
  end
  errors.raise("notfound", "eidosd not found next to eidos or on PATH (install it, or set EIDOSD to its path)")
end

return {
  name = "serve",
  summary = "Run the HTTP API server (eidosd)",
  usage = "eidos serve [flags]",
  description = table.concat({
    "Serve recipes, queries and bundles over HTTP (the eidosd executable, started",
    "with these flags). Endpoints: GET/POST /v1/recipe, GET/POST /v1/query,",
    "POST /v1/bundle, /health, /ready, /metrics, / and /openapi.yaml; see docs/api.md.",
    "Every flag has an EIDOS_ environment variable; upstream's AICR_ALLOWED_*",
    "variables are read as aliases of EIDOS_ALLOWED_*. SIGTERM or SIGINT: /ready turns",
    "503, requests in flight finish (within --shutdown-timeout), exit 0.",
  }, "\n"),
  flags = config.flags,
  globals = config.GLOBALS,
  examples = {
    "eidos serve --listen 127.0.0.1:8080",
    "eidos serve --rate 0 --threads 4",
    "EIDOS_ALLOWED_SERVICES=eks,gke eidos serve --tls-cert tls.crt --tls-key tls.key",
  },
  run = function(ctx)
    -- upstream's AICR_ALLOWED_* become flags for eidosd (which warns when
    -- they meet our EIDOS_ALLOWED_*)
    config.apply_env_aliases(ctx.opts)
    config.normalize(ctx.opts) -- report bad values here, before starting anything
    -- started as "eidosd" but running the CLI: eidosd is a link to eidos, and
    -- running "eidosd" again would come back here
    if (ctx.argv0 or ""):match("([^/]+)$") == "eidosd" then
      errors.raise("unavailable", "eidosd resolves to the eidos CLI itself; install the eidosd executable")
    end
    local bin = find_eidosd(ctx.argv0)
    local args = config.to_args(ctx.opts, flags.specs(ctx.cmd))
    -- replaces this process: signals reach eidosd directly
    errors.check(require("eidos.core.sys").exec(bin, { bin, table.unpack(args) }))
  end,
}
