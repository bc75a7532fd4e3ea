-- eidos.api.bundle: POST /v1/bundle. The body is a RecipeResult (JSON or
-- YAML); the query carries the bundle options with the CLI's flag names
-- (deployer, set, the scheduling selectors and tolerations, ...). The
-- bundler (eidos.bundle) lays out the files; eidos.core.archive writes
-- them as a zip in memory (reproducible: fixed times and order), sent as
-- application/zip with X-Bundle-Files and X-Bundle-Size (uncompressed
-- bytes). Nothing touches the file system, so a read-only root is fine.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local http = require("eidos.api.http")
local recipe_api = require("eidos.api.recipe")

local M = {}

-- query parameters: true = once, "list" = repeatable; the flags of
-- `eidos bundle` that do not name server files (no --values, --sign-key,
-- --data: the server's own --data applies)
M.PARAMS = {
  deployer = true, set = "list", ["set-json"] = "list",
  ["system-node-selector"] = "list", ["system-node-toleration"] = "list",
  ["accelerated-node-selector"] = "list", ["accelerated-node-toleration"] = "list",
  ["workload-selector"] = "list", ["workload-gate"] = true, nodes = true,
  repo = true, revision = true, path = true,
  -- upstream's clients send bundlers=...; upstream ignores it, and so do
  -- we, saying so in a Warning header
  bundlers = "list",
}

local DEPLOYERS = { helm = true, argocd = true, flux = true, ["helm-components"] = true }
local BUNDLERS_IGNORED = "the bundlers parameter is ignored: the bundle holds every enabled component of the recipe" ..
  " (leave one out with set=COMPONENT:enabled=false)"
local PLACEHOLDER = "EIDOS-GIT-REPOSITORY-URL-NOT-SET"

local function server()
  local ok, s = pcall(require, "eidos.server")
  return ok and s or nil
end

local function bundler()
  local ok, b = pcall(require, "eidos.bundle")
  if not ok then
    if type(b) == "string" and b:find("module 'eidos.bundle' not found", 1, true) then
      errors.raise("unavailable", "the bundler is not available in this build of eidosd")
    end
    error(b, 0)
  end
  return b
end

-- the Git repository options of the argocd and flux deployers
local function repo_opts(o, deployer)
  local url, rev = o.repo, o.revision
  if url ~= nil and (not (url:match("^https?://[%w.-]+") or url:match("^ssh://[%w@.-]+") or url:match("^git@[%w.-]+:"))
      or url:find("[%s\"'`$\\]")) then
    errors.raise("invalid", string.format("invalid repo %q (accepted: an https://, ssh:// or git@host: Git URL)", url))
  end
  if rev ~= nil and (rev == "" or rev:find("[%s\"'`$\\]")) then
    errors.raise("invalid", string.format("invalid revision %q (accepted: a branch, tag or commit)", rev))
  end
  local path = (o.path or ""):gsub("/+$", "")
  if path == "." then path = "" end
  if path ~= "" and (path:sub(1, 1) == "/" or path:find("%.%.") or not path:match("^[%w._/-]+$")) then
    errors.raise("invalid", string.format("invalid path %q (accepted: a relative directory of letters, digits, '.', '_', '-', '/')", path))
  end
  return { Set = url ~= nil, URL = url or PLACEHOLDER, Placeholder = PLACEHOLDER,
           Revision = rev or (deployer == "flux" and "main" or "HEAD"), Path = path }
end

-- the files of the bundle: eidos.bundle.files(recipe, opts) when the
-- bundler offers it, else build + finish with the options parsed here
local function bundle_files(d, opts, seq, ctx)
  local b = bundler()
  if type(b.files) == "function" then return b.files(d, opts) end
  local overrides = require("eidos.bundle.overrides")
  local deployer = opts.deployer or "helm"
  if not DEPLOYERS[deployer] then
    errors.raise("invalid", string.format("invalid deployer %q (accepted: helm, argocd, flux, helm-components)", deployer))
  end
  local sched = overrides.parse_scheduling(opts)
  local ops = {}
  for _, e in ipairs(seq) do ops[#ops + 1] = overrides.parse_set(e.value, e.name) end
  if not ctx.bundle_library then
    ctx.bundle_library = require("eidos.bundle.library").open({
      library_opts = ctx.cfg.data and { data = ctx.cfg.data } or nil })
  end
  local built = b.build(d, { ops = ops, scheduling = sched, origin = "in the request body", deployer = deployer,
                             repo = repo_opts(opts, deployer), library = ctx.bundle_library })
  return require("eidos.bundle.output").finish(built, {}), built.notes
end

-- set and set-json in the order they appear in the query
local function set_sequence(query)
  local seq = {}
  for pair in (query or ""):gmatch("[^&]+") do
    local k, v = pair:match("^([^=]*)=(.*)$")
    if k then
      k = http.unescape(k)
      if k == "set" or k == "set-json" then seq[#seq + 1] = { name = k, value = http.unescape(v) } end
    end
  end
  return seq
end

-- POST /v1/bundle?deployer=helm&set=gpu-operator:driver.version=570.1&...
function M.post(req, ctx)
  local opts = http.params(req.query, M.PARAMS)
  opts._seq = set_sequence(req.query)
  bundler()
  local d = http.body(req, "a RecipeResult document")
  require("eidos.recipe.build").check_result(d, "the request body")
  -- a recipe that names its criteria must stay within the server's allowlists
  if type(d.criteria) == "table" and #ctx.allow_list > 0 then
    local c = {}
    for _, f in ipairs(recipe_api.FIELDS) do c[f] = d.criteria[f] end
    recipe_api.canonical(ctx, c)
  end
  local s = server()
  local t0 = s and s.clock() or os.clock()
  local entries, notes = bundle_files(d, opts, opts._seq, ctx)
  local archive = require("eidos.core.archive")
  local zip = errors.check(archive.bytes("zip", entries))
  local nfiles, size = 0, 0
  for _, e in ipairs(entries) do
    if not e.dir then
      nfiles = nfiles + 1
      size = size + #(e.data or "")
    end
  end
  local secs = (s and s.clock() or os.clock()) - t0
  if s then
    s.observe("bundle_build_seconds", secs)
    s.observe("bundle_size_bytes", #zip)
  end
  local headers = {
    "content-type", "application/zip",
    "content-disposition", 'attachment; filename="bundle.zip"',
    "x-bundle-files", tostring(nfiles),
    "x-bundle-size", tostring(size),
    "x-bundle-duration", string.format("%.3fs", secs),
    "cache-control", "no-store",
  }
  -- what `eidos bundle` would print as warnings
  if opts.bundlers then notes = { BUNDLERS_IGNORED, table.unpack(notes or {}) } end
  for _, n in ipairs(notes or {}) do
    headers[#headers + 1] = "warning"
    headers[#headers + 1] = http.warning(n)
  end
  return 200, zip, headers, false
end

return M
