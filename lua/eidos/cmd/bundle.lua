-- eidos bundle: a deployment bundle (Helm umbrella chart, Argo CD
-- app-of-apps, or Flux HelmReleases) from a RecipeResult, with overrides,
-- scheduling flags, checksums and an optional signature. The work is in
-- eidos.bundle (model), eidos.bundle.<deployer> (files) and
-- eidos.bundle.output (checksums, signing, safe writing).
local errors = require("eidos.errors")

local function ordered_ops(o)
  local overrides = require("eidos.bundle.overrides")
  local ops = {}
  local function one(name, value)
    if name == "set" or name == "set-json" then
      ops[#ops + 1] = overrides.parse_set(value, name)
    elseif name == "values" then
      for _, op in ipairs(overrides.parse_values_file(value)) do ops[#ops + 1] = op end
    end
  end
  local seq = o._seq
  if type(seq) == "table" then
    -- command-line order across --set, --set-json and --values
    for _, e in ipairs(seq) do one(e.name, e.value) end
  else
    -- the flag parser keeps order within one flag only: files first, then
    -- JSON, then --set (each in command-line order)
    for _, name in ipairs({ "values", "set-json", "set" }) do
      for _, v in ipairs(o[name] or {}) do one(name, v) end
    end
  end
  return ops
end

local function clean_path(p, flag)
  p = (p or "."):gsub("/+$", "")
  if p == "" or p == "." then return "" end
  if p:sub(1, 1) == "/" then errors.raise("invalid", string.format("--%s %q must be relative to the repository root", flag, p)) end
  local out = {}
  for seg in p:gmatch("[^/]+") do
    if seg == ".." then errors.raise("invalid", string.format("--%s %q must not contain '..'", flag, p)) end
    if seg ~= "." then out[#out + 1] = seg end
  end
  for _, seg in ipairs(out) do
    if not seg:match("^[%w._-]+$") then
      errors.raise("invalid", string.format("--%s %q: use letters, digits, '.', '_', '-' and '/'", flag, p))
    end
  end
  return table.concat(out, "/")
end

local PLACEHOLDER = "EIDOS-GIT-REPOSITORY-URL-NOT-SET"
local SCHED_FLAGS = { "system-node-selector", "system-node-toleration", "accelerated-node-selector",
                      "accelerated-node-toleration", "workload-selector", "workload-gate", "nodes" }

local function repo_opts(o, deployer)
  local url = o.repo
  if url ~= nil then
    if not (url:match("^https://[%w.-]+[:/%w]") or url:match("^http://[%w.-]+[:/%w]") or
            url:match("^ssh://[%w@.-]+") or url:match("^git@[%w.-]+:") or url:match("^file://")) then
      errors.raise("invalid", string.format("invalid --repo %q (accepted: an https://, ssh://, git@host: or " ..
        "file:// Git URL)", url))
    end
    if url:find("[%s\"'`$\\]") then
      errors.raise("invalid", string.format("invalid --repo %q: it contains spaces, quotes or '$'", url))
    end
  end
  local rev = o.revision
  if rev ~= nil and (rev == "" or rev:find("[%s\"'`$\\]")) then
    errors.raise("invalid", string.format("invalid --revision %q (accepted: a branch, tag or commit)", rev))
  end
  if rev == nil then rev = deployer == "flux" and "main" or "HEAD" end
  return {
    Set = url ~= nil,
    URL = url or PLACEHOLDER,
    Placeholder = PLACEHOLDER,
    Revision = rev,
    Path = clean_path(o.path, "path"),
  }
end

return {
  name = "bundle",
  summary = "Generate a deployment bundle (Helm, Argo CD or Flux) from a recipe",
  usage = "eidos bundle --recipe RECIPE -o OUT [--deployer helm|argocd|flux|helm-components] [flags]",
  description = table.concat({
    "Turn a RecipeResult (from 'eidos recipe') into a deployment bundle: a Helm",
    "umbrella chart with deploy.sh (helm), an Argo CD app-of-apps (argocd),",
    "Flux HelmRepository/HelmRelease objects (flux), or one folder per component",
    "with its values and manifests plus deploy.sh (helm-components, the layout of",
    "the upstream tool aicr). OUT is a directory (written in a temporary",
    "sibling and renamed into place) or a .tar.gz/.tgz/.zip file.",
    "Every bundle carries checksums.txt; --sign-key adds checksums.txt.sig and",
    "attestation.intoto.json. Check a bundle with 'eidos verify'.",
    "",
    "--set COMPONENT:PATH=VALUE coerces VALUE: true/false, null, integers",
    "(-3, 42), decimal floats (1.5, 2e3); anything else stays a string. Use",
    "--set-json for lists and maps, --values FILE for a map of component to",
    "values, and --set COMPONENT:enabled=false to leave a component out.",
    "PATH keys are separated by '.', written '\\.' inside a key. Overrides apply",
    "in order (docs/bundle.md, \"Overrides\"), then the scheduling flags: node",
    "selectors and tolerations, --workload-selector, --workload-gate and --nodes",
    "at the paths recipes/registry.yaml names for each component.",
  }, "\n"),
  flags = {
    { name = "recipe", short = "r", arg = "RECIPE", help = "RecipeResult: a file, - (stdin), http(s):// URL or cm://NS/NAME" },
    { name = "output", short = "o", arg = "OUT", help = "output directory, or a .tar.gz/.tgz/.zip file" },
    { name = "deployer", short = "d", arg = "NAME", choices = { "helm", "argocd", "flux", "helm-components" },
      default = "helm", help = "bundle format" },
    { name = "set", arg = "C:PATH=VALUE", repeatable = true, help = "override one value of component C" },
    { name = "set-json", arg = "C:PATH=JSON", repeatable = true, help = "override one value with a JSON value" },
    { name = "values", short = "f", arg = "FILE", repeatable = true,
      help = "YAML/JSON map of component name to values, deep-merged" },
    { name = "system-node-selector", arg = "KEY=VALUE", repeatable = true,
      help = "node selector of system components" },
    { name = "system-node-toleration", arg = "KEY[=VALUE]:EFFECT", repeatable = true,
      help = "toleration of system components" },
    { name = "accelerated-node-selector", arg = "KEY=VALUE", repeatable = true,
      help = "node selector of GPU node components" },
    { name = "accelerated-node-toleration", arg = "KEY[=VALUE]:EFFECT", repeatable = true,
      help = "toleration of GPU node components" },
    { name = "workload-selector", arg = "KEY=VALUE", repeatable = true,
      help = "label of workload pods node tuning must not interrupt (Skyhook)" },
    { name = "workload-gate", arg = "KEY[=VALUE]:EFFECT", help = "taint held on nodes until their tuning is done (Skyhook)" },
    { name = "nodes", arg = "N", help = "expected number of GPU nodes, for components that size by it (0: unset)" },
    { name = "repo", arg = "URL", help = "Git repository the bundle is pushed to (argocd, flux)" },
    { name = "revision", arg = "REV", help = "Git revision to track (default HEAD for argocd, main for flux)" },
    { name = "path", arg = "DIR", help = "directory of the bundle inside the Git repository (default .)" },
    { name = "sign-key", arg = "KEY.pem", help = "Ed25519 or ECDSA P-256 private key (PEM) to sign checksums.txt" },
    { name = "data", arg = "DIR", help = "recipe data directory layered over the built-in library (as for 'eidos recipe')" },
    { name = "data-mode", arg = "MODE", choices = { "overlay", "replace" }, default = "overlay",
      help = "overlay: DIR over the built-in library; replace: DIR alone" },
    { name = "force", help = "replace an existing non-empty output" },
  },
  examples = {
    "eidos bundle -r recipe.yaml -o ./bundle",
    "eidos bundle -r recipe.yaml -o bundle.tar.gz --set gpu-operator:driver.version=580.105.08",
    "eidos bundle -r recipe.yaml -o ./gitops -d argocd --repo https://github.com/acme/gitops.git --path clusters/a",
    "eidos bundle -r recipe.yaml -o ./bundle --system-node-selector nodeGroup=system \\\n" ..
      "      --accelerated-node-toleration nvidia.com/gpu=present:NoSchedule --sign-key key.pem",
    "eidos bundle -r recipe.yaml -o ./bundle -d helm-components --nodes 8 --workload-selector team=ml",
  },
  run = function(ctx)
    -- a short-lived process: collect garbage less eagerly (a full cycle
    -- when the heap has grown 4x), which saves ~5% of the run time
    collectgarbage("incremental", 400, 100)
    local o = ctx.opts
    if not o.recipe then errors.raise("invalid", "missing --recipe (a RecipeResult file, URL or cm://NS/NAME)") end
    if not o.output then errors.raise("invalid", "missing -o/--output (a directory, or a .tar.gz/.zip file)") end
    local bundle = require("eidos.bundle")
    local output = require("eidos.bundle.output")
    local docio = require("eidos.docio")
    -- flags first: a bad flag fails before anything is read
    local sched, ops = nil, {}
    for _, f in ipairs(SCHED_FLAGS) do
      if o[f] then sched = require("eidos.bundle.overrides").parse_scheduling(o) break end
    end
    if o.set or o["set-json"] or o.values then ops = ordered_ops(o) end
    local repo = repo_opts(o, o.deployer)
    local key
    if o["sign-key"] then
      local fs = require("eidos.core.fs")
      if fs.exists(o["sign-key"]) ~= "file" then
        errors.raise("invalid", string.format("--sign-key %q: no such file (accepted: a PEM private key file)", o["sign-key"]))
      end
      key = errors.within("--sign-key", fs.read(o["sign-key"], 1024 * 1024))
      -- the signer also takes a path: never let file content be read as one
      if not key:find("-----BEGIN", 1, true) then
        errors.raise("invalid", string.format("--sign-key %q is not a PEM private key (no -----BEGIN line;" ..
          " accepted: an Ed25519 or ECDSA P-256 private key in PEM)", o["sign-key"]))
      end
    end
    local recipe, origin = docio.load(o.recipe, { what = "recipe" })
    local library = require("eidos.bundle.library").open({
      library_opts = o.data and { data = o.data, data_mode = o["data-mode"] } or nil,
    })
    local b = bundle.build(recipe, {
      ops = ops, scheduling = sched, origin = origin, deployer = o.deployer, repo = repo, library = library,
    })
    local files = output.finish(b, { sign_key = key })
    local kind = output.write(files, o.output, { force = o.force })
    local log = require("eidos.log")
    if (o.deployer == "argocd") and not repo.Set then
      log.warn("no --repo given: app-of-apps.yaml" ..
        " carries the placeholder " .. repo.Placeholder .. "; see README.md before applying it")
    end
    for _, n in ipairs(b.notes) do log.warn(n) end
    local ncomp = #b.model.Components
    local said = string.format("Wrote %s bundle %s (%d components, %d files%s)\n", o.deployer, o.output,
      ncomp, #files, key and ", signed" or "")
    if kind == "dir" then said = said .. "Next: read " .. o.output:gsub("/+$", "") .. "/README.md\n" end
    docio.write(nil, said)
    return 0
  end,
}
