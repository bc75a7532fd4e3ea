-- eidos.api.config: the flags of `eidos serve` / eidosd (each with its
-- EIDOS_ environment variable) and their translation into the plain
-- configuration table the C server reads: numbers in seconds and bytes,
-- the listen address split into host and port, allowlists as sets. Sizes,
-- durations and counts are parsed by the flag model (eidos.cli.flags, with
-- eidos.units) like every other flag; normalize() takes its result. Every
-- bad value is an "invalid" error that names the flag, the value and what
-- is accepted.
local errors = require("eidos.errors")
local flags = require("eidos.cli.flags")
local strx = require("eidos.text")

local M = {}

M.flags = {
  { name = "listen", arg = "HOST:PORT", default = ":8080", env = "EIDOS_LISTEN",
    help = "address to listen on (':8080' every interface, '127.0.0.1:0' a free loopback port)" },
  { name = "threads", arg = "N", type = "int", max = 256, default = "0", env = "EIDOS_THREADS",
    help = "I/O threads, each with its own event loop: connections, probes, cached answers (0: one per CPU)" },
  { name = "handlers", arg = "N", type = "int", max = 256, default = "0", env = "EIDOS_HANDLERS",
    help = "Lua threads answering recipes, queries and the index, each with its own Lua state (0: one per CPU)" },
  { name = "bundlers", arg = "N", type = "int", max = 256, default = "0", env = "EIDOS_BUNDLERS",
    help = "Lua threads building bundles, each with its own Lua state (0: one per CPU)" },
  { name = "queue-limit", arg = "N", type = "int", min = 1, max = 1000000, default = "256", env = "EIDOS_QUEUE_LIMIT",
    help = "requests that may wait for the handlers (and as many for the bundlers); more get 503" },
  { name = "rate", arg = "RPS", type = "number", default = "100", env = "EIDOS_RATE",
    help = "requests per second allowed per client address (0 turns the rate limit off)" },
  { name = "burst", arg = "N", type = "number", default = "200", env = "EIDOS_BURST",
    help = "requests a client may make at once before --rate applies" },
  { name = "body-limit", arg = "SIZE", type = "size", unit = "B", default = "4Mi", env = "EIDOS_BODY_LIMIT",
    help = "largest request body accepted (4Mi = 4 MiB, 4M = 4 MB; a bare number is bytes); larger ones get 413" },
  { name = "request-timeout", arg = "DURATION", type = "duration", unit = "s", min = 1, default = "30s",
    env = "EIDOS_REQUEST_TIMEOUT",
    help = "deadline to receive a request and to answer it (e.g. 500ms, 30s, 1m30s); past it: 504" },
  { name = "shutdown-timeout", arg = "DURATION", type = "duration", unit = "s", default = "30s",
    env = "EIDOS_SHUTDOWN_TIMEOUT",
    help = "after SIGTERM/SIGINT, how long requests in flight may take before the server exits" },
  { name = "shutdown-delay", arg = "DURATION", type = "duration", unit = "s", default = "0s",
    env = "EIDOS_SHUTDOWN_DELAY",
    help = "after SIGTERM/SIGINT, keep serving (with /ready at 503) this long before closing the listeners" },
  { name = "data", arg = "DIR|oci://REF", type = "dir", env = "EIDOS_DATA",
    help = "external recipe data layered over the built-in library: a directory or an oci:// catalog " ..
      "(eidos catalog push; registry access from --registry-config, --plain-http, --insecure-tls, EIDOS_CA_FILE)" },
  { name = "allow-services", arg = "LIST", env = "EIDOS_ALLOWED_SERVICES",
    help = "comma-separated services this server offers (default: all)" },
  { name = "allow-accelerators", arg = "LIST", env = "EIDOS_ALLOWED_ACCELERATORS",
    help = "comma-separated accelerators this server offers (default: all)" },
  { name = "allow-intents", arg = "LIST", env = "EIDOS_ALLOWED_INTENTS",
    help = "comma-separated intents this server offers (default: all)" },
  { name = "allow-os", arg = "LIST", env = "EIDOS_ALLOWED_OS",
    help = "comma-separated operating systems this server offers (default: all)" },
  { name = "allow-platforms", arg = "LIST", env = "EIDOS_ALLOWED_PLATFORMS",
    help = "comma-separated platforms this server offers (default: all)" },
  { name = "tls-cert", arg = "FILE", type = "file", env = "EIDOS_TLS_CERT",
    help = "PEM certificate chain: serve HTTPS (and HTTP/2) instead of HTTP" },
  { name = "tls-key", arg = "FILE", type = "file", env = "EIDOS_TLS_KEY", help = "PEM private key of --tls-cert" },
  { name = "trusted-proxies", arg = "LIST", env = "EIDOS_TRUSTED_PROXIES",
    help = "comma-separated CIDRs of proxies whose X-Forwarded-For names the client (rate limit, access log)" },
  { name = "cache-entries", arg = "N", type = "int", max = 100000000, default = "65536", env = "EIDOS_CACHE_ENTRIES",
    help = "keys of the response cache shared by every thread (0 turns the cache off)" },
  { name = "cache-size", arg = "SIZE", type = "size", unit = "B", min = 0, default = "16Mi", env = "EIDOS_CACHE_SIZE",
    help = "bytes the response cache may keep: keys, answers, shared parts (16Mi = 16 MiB; 0 turns the cache off)" },
  { name = "access-log", default = true, env = "EIDOS_ACCESS_LOG",
    help = "one JSON line on stderr per request (--access-log=false to turn it off)" },
}

-- the global flags (eidos.cli.flags.global) eidosd uses, each applied in
-- every Lua state it creates (eidos.cli.global.settings): logging (always
-- JSON lines), override roots, oci:// registry access for --data, input
-- limits, hooks. Not the Kubernetes connection: the server reads no
-- cluster; nor the terminal's (--quiet, --color, --wide, --log-json).
M.GLOBALS = { "help",
  { name = "debug", help = "log at debug level (same as --log-level debug)" },
  { name = "log-level", help = "least severe level logged (default info; always JSON lines on stderr)" },
  "lua-path", "data-dir", "registry-config", "plain-http", "insecure-tls", "max-input-size", "max-expanded-size",
  "hooks", "hooks-lenient", "hook-timeout", "hook-memory" }

-- the criteria fields an allowlist flag restricts
M.allow_fields = {
  { flag = "allow-services", field = "service" },
  { flag = "allow-accelerators", field = "accelerator" },
  { flag = "allow-intents", field = "intent" },
  { flag = "allow-os", field = "os" },
  { flag = "allow-platforms", field = "platform" },
}

-- upstream's (aicr) allowlist variables, honoured as aliases of ours: the
-- value of AICR_ALLOWED_X applies when neither --allow-x nor
-- EIDOS_ALLOWED_X is given; with both variables set ours wins and
-- env_aliases warns naming both
M.env_aliases = {
  { flag = "allow-services", env = "AICR_ALLOWED_SERVICES", ours = "EIDOS_ALLOWED_SERVICES" },
  { flag = "allow-accelerators", env = "AICR_ALLOWED_ACCELERATORS", ours = "EIDOS_ALLOWED_ACCELERATORS" },
  { flag = "allow-intents", env = "AICR_ALLOWED_INTENTS", ours = "EIDOS_ALLOWED_INTENTS" },
  { flag = "allow-os", env = "AICR_ALLOWED_OS", ours = "EIDOS_ALLOWED_OS" },
}

-- apply_env_aliases(opts [, warn]): fill opts from the AICR_ALLOWED_*
-- variables (after the flags and EIDOS_ variables are parsed); warn(msg)
-- is called for each pair of variables both set
function M.apply_env_aliases(opts, warn)
  for _, a in ipairs(M.env_aliases) do
    local theirs, ours = os.getenv(a.env), os.getenv(a.ours)
    if theirs and theirs ~= "" then
      if ours and ours ~= "" then
        if warn then
          warn(string.format("%s=%s and %s=%s are both set: %s applies (%s is upstream's name of it)",
            a.ours, ours, a.env, theirs, a.ours, a.env))
        end
      elseif opts[a.flag] == nil then
        opts[a.flag] = theirs
        opts._from = opts._from or {}
        opts._from[a.flag] = a.env
      end
    end
  end
  return opts
end

local function list(s)
  local out = {}
  for v in tostring(s):gmatch("[^,]+") do
    v = strx.trim(v)
    if v ~= "" then out[#out + 1] = v end
  end
  return out
end
M.list = list

-- source(opts, name) -> how a message names where a flag's value came
-- from: "--allow-os", "EIDOS_ALLOWED_OS" or "AICR_ALLOWED_OS (read as
-- --allow-os)"
function M.source(opts, name)
  local from = opts._from and opts._from[name]
  if from then return string.format("%s (read as --%s)", from, name) end
  if not (opts._given and opts._given[name]) then
    for _, f in ipairs(M.flags) do
      if f.name == name and f.env and (os.getenv(f.env) or "") ~= "" then return f.env end
    end
  end
  return "--" .. name
end

-- allowlist(opts, a) -> the canonical values of allowlist a (allow_fields)
-- or nil: each value read by the criteria engine as a request's would be.
-- The main thread reads them first (eidos.api.server.configure), so a
-- value the engine rejects stops the server before any worker starts,
-- with a message naming where the value came from (source)
local function allowlist(opts, a)
  if not opts[a.flag] then return nil end
  local recipe = require("eidos.recipe")
  local out, seen = {}, {}
  for _, v in ipairs(list(opts[a.flag])) do
    local good, c = pcall(recipe.criteria, { [a.field] = v })
    if not good then
      errors.raise("invalid", string.format("invalid value %q in %s: %s", v, M.source(opts, a.flag),
        errors.is(c) and c.msg or tostring(c)))
    end
    local cv = c[a.field]
    if cv ~= nil and not seen[cv] then
      seen[cv] = true
      out[#out + 1] = cv
    end
  end
  return out
end

local function bad(flag, value, accepted)
  errors.raise("invalid", string.format("invalid value %q for --%s (accepted: %s)", value, flag, accepted))
end

-- listen("HOST:PORT") -> host, port ("" host: every interface)
function M.listen(s)
  local host, port = s:match("^%[([^%]]*)%]:(%d+)$")          -- [::1]:8080
  if not host then host, port = s:match("^([^:]*):(%d+)$") end -- 127.0.0.1:8080, :8080
  if not host and s:match("^%d+$") then host, port = "", s end -- 8080
  port = tonumber(port)
  if not host or not port or port > 65535 then
    bad("listen", s, "HOST:PORT, :PORT or [IPv6]:PORT with a port from 0 to 65535")
  end
  if host == "*" then host = "" end
  return host, port
end

-- parse(args) -> opts: eidosd's command line (its flags and the global
-- ones), each value parsed by the flag model
function M.parse(args)
  local opts, pos = flags.parse(args, flags.specs({ flags = M.flags, globals = M.GLOBALS }), "eidosd")
  if #pos > 0 then
    errors.raise("invalid", string.format("unexpected argument %q for eidosd (it takes flags only)", pos[1]))
  end
  return opts
end

-- normalize(opts) -> cfg: the table C reads (see src/server/main.c) plus
-- what the Lua API needs (data, allow); opts as parse() returns them
function M.normalize(opts)
  local cfg = {}
  cfg.host, cfg.port = M.listen(opts.listen or ":8080")
  cfg.threads = opts.threads or 0
  cfg.handlers = opts.handlers or 0
  cfg.bundlers = opts.bundlers or 0
  cfg.queue_limit = opts["queue-limit"] or 256
  cfg.rate = opts.rate or 100
  cfg.burst = opts.burst or 200
  if cfg.rate > 0 and cfg.burst < 1 then
    bad("burst", opts._raw and opts._raw.burst or cfg.burst, "a number >= 1 when --rate is not 0")
  end
  cfg.body_limit = opts["body-limit"] or 4 * 1024 * 1024
  cfg.request_timeout = (opts["request-timeout"] or 30000) / 1000
  cfg.shutdown_timeout = (opts["shutdown-timeout"] or 30000) / 1000
  cfg.shutdown_delay = (opts["shutdown-delay"] or 0) / 1000
  cfg.cache_entries = opts["cache-entries"] or 65536
  cfg.cache_size = opts["cache-size"] or 16 * 1024 * 1024
  cfg.access_log = opts["access-log"] ~= false
  cfg.data = opts.data
  if (opts["tls-cert"] == nil) ~= (opts["tls-key"] == nil) then
    errors.raise("invalid", "--tls-cert and --tls-key go together: give both or neither")
  end
  cfg.tls_cert, cfg.tls_key = opts["tls-cert"], opts["tls-key"]
  cfg.allow = {}
  for _, a in ipairs(M.allow_fields) do cfg.allow[a.field] = allowlist(opts, a) end
  cfg.trusted_proxies = {}
  for _, v in ipairs(list(opts["trusted-proxies"] or "")) do
    local ip, bits = v:match("^([%x%.:]+)/?(%d*)$")
    if not ip or not (ip:find(".", 1, true) or ip:find(":", 1, true)) or (bits ~= "" and tonumber(bits) > 128) then
      bad("trusted-proxies", v, "IP addresses and CIDRs such as 10.0.0.0/8 or fd00::/8")
    end
    cfg.trusted_proxies[#cfg.trusted_proxies + 1] = v
  end
  cfg.log_level = opts["log-level"] or (opts.debug and "debug") or "info"
  return cfg
end

-- the flags again, as arguments (for `eidos serve` to hand them to eidosd):
-- of parsed options (flags.parse) only what was given, as it was written
-- (eidosd applies the defaults and reads the environment itself)
function M.to_args(opts, specs)
  local args = {}
  for _, s in ipairs(specs) do
    local v = opts[s.name]
    if opts._raw then v = opts._raw[s.name] or (opts._given[s.name] and v) or nil end
    if v ~= nil and s.name ~= "help" then
      if s.repeatable and type(v) == "table" then
        for _, x in ipairs(v) do args[#args + 1] = "--" .. s.name .. "=" .. x end
      elseif flags.takes_value(s) then
        args[#args + 1] = "--" .. s.name .. "=" .. tostring(v)
      else
        args[#args + 1] = "--" .. s.name .. "=" .. (v and "true" or "false")
      end
    end
  end
  return args
end

return M
