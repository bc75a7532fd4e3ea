-- eidos bundle: a deployment bundle (Helm umbrella chart, Argo CD
-- app-of-apps, or Flux HelmReleases) from a RecipeResult, with overrides,
-- scheduling flags, checksums and an optional signature. The work is in
-- eidos.bundle (model), eidos.bundle.<deployer> (files) and
-- eidos.bundle.output (checksums, signing, safe writing). The options the
-- API shares (deployer, overrides, scheduling, repository) and their rules
-- are eidos.bundle.options.
local errors = require("eidos.errors")
local options = require("eidos.bundle.options")
local count = require("eidos.text").count

-- the flags: the shared options (eidos.bundle.options, in their place
-- "shared"), and those only the command line has (local files, the output)
local function specs(list)
  local out = {}
  for _, s in ipairs(list) do
    if s == "shared" then
      for _, o in ipairs(options.flags) do out[#out + 1] = o end
    else
      out[#out + 1] = s
    end
  end
  return out
end

return {
  name = "bundle",
  summary = "Generate a deployment bundle (Helm, Argo CD or Flux) from a recipe",
  usage = "eidos bundle --recipe RECIPE -o OUT [--deployer helm|argocd|flux|helm-components] [flags]\n" ..
    "       eidos bundle pull oci://REGISTRY/REPO:TAG -o DIR",
  subcommands = { pull = "eidos.cmd.bundle.pull" },
  description = table.concat({
    "Turn a RecipeResult (from 'eidos recipe') into a deployment bundle: a Helm",
    "umbrella chart with deploy.sh (helm), an Argo CD app-of-apps (argocd),",
    "Flux HelmRepository/HelmRelease objects (flux), or one folder per component",
    "with its values and manifests plus deploy.sh (helm-components, the layout of",
    "the upstream tool aicr). OUT is a directory (written in a temporary",
    "sibling and renamed into place), a .tar.gz/.tgz/.zip file, or",
    "oci://REGISTRY/REPO:TAG: the bundle is pushed as an OCI artifact (a Helm",
    "chart for helm, Flux content for flux) and REGISTRY/REPO@sha256:... is",
    "printed. Every bundle carries checksums.txt; --sign-key adds",
    "checksums.txt.sig and attestation.dsse.json (and, for oci://, a signature",
    "and an attestation attached as referrers); --sbom adds sbom.spdx.json.",
    "Check a bundle with 'eidos verify'; fetch one with 'eidos bundle pull'.",
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
  flags = specs({
    { name = "recipe", short = "r", arg = "RECIPE", type = "uri",
      help = "RecipeResult: a file, - (stdin), http(s):// URL, cm://NS/NAME or oci://REGISTRY/REPO:TAG" },
    { name = "output", short = "o", arg = "OUT", type = "uri",
      help = "output directory, a .tar.gz/.tgz/.zip file, or oci://REGISTRY/REPO:TAG" },
    "shared",
    { name = "values", short = "f", arg = "FILE", type = "file", repeatable = true,
      help = "YAML/JSON map of component name to values, deep-merged" },
    { name = "sign-key", arg = "KEY.pem", type = "file",
      help = "Ed25519 or ECDSA P-256 private key (PEM) to sign checksums.txt" },
    { name = "sbom", help = "add sbom.spdx.json: an SPDX 2.3 SBOM of the bundle's charts and images" },
    { name = "data", arg = "DIR|oci://REF", type = "dir",
      help = "recipe data directory or oci:// catalog layered over the built-in library (as for 'eidos recipe')" },
    { name = "data-mode", arg = "MODE", choices = { "overlay", "replace" }, default = "overlay",
      help = "overlay: DIR over the built-in library; replace: DIR alone" },
    { name = "force", help = "replace an existing non-empty output" },
  }),
  examples = {
    "eidos bundle -r recipe.yaml -o ./bundle",
    "eidos bundle -r recipe.yaml -o bundle.tar.gz --set gpu-operator:driver.version=580.105.08",
    "eidos bundle -r recipe.yaml -o ./gitops -d argocd --repo https://github.com/acme/gitops.git --path clusters/a",
    "eidos bundle -r recipe.yaml -o oci://registry.example.com/platform/gpu-stack:0.1.0 --sign-key key.pem --sbom",
    "eidos bundle pull oci://registry.example.com/platform/gpu-stack:0.1.0 -o ./bundle",
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
    local scheme = docio.scheme(o.output)
    if scheme and scheme ~= "oci" then
      errors.raise("invalid", string.format("-o %q: %s:// is not a bundle destination (accepted: a directory, a" ..
        " .tar.gz/.tgz/.zip file, or oci://REGISTRY/REPO:TAG)", o.output, scheme))
    end
    if scheme then require("eidos.oci.ref").parse(o.output) else output.check_target(o.output) end
    -- flags first: a bad flag fails before anything is read
    local sched = options.scheduling(o)
    local ops = options.ops(o._seq)
    local repo = options.repo(o, o.deployer)
    local key
    if o["sign-key"] then
      key = require("eidos.docio").read_file(o["sign-key"], { what = "--sign-key", max = 1024 * 1024 })
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
    if o.sbom then
      b.files[#b.files + 1] = { path = require("eidos.bundle.sbom").FILE, data = require("eidos.bundle.sbom").bundle(b) }
    end
    local files = output.finish(b, { sign_key = key })
    local log = require("eidos.log")
    if scheme then
      local res = require("eidos.bundle.publish").push(b, files, o.output, { sign_key = key })
      for _, n in ipairs(b.notes) do log.warn(n) end
      io.stdout:write(res.name, "\n")
      require("eidos.progress").wrote(o.deployer .. " bundle", o.output, string.format("%s, %s%s",
        count(#b.model.Components, "component"), count(#files, "file"), key and ", signed; signature and attestation attached as referrers" or ""))
      return 0
    end
    local kind = output.write(files, o.output, { force = o.force })
    if (o.deployer == "argocd") and not repo.Set then
      log.warn("no --repo given: app-of-apps.yaml" ..
        " carries the placeholder " .. repo.Placeholder .. "; see README.md before applying it")
    end
    for _, n in ipairs(b.notes) do log.warn(n) end
    local ncomp = #b.model.Components
    require("eidos.progress").wrote(o.deployer .. " bundle", o.output, string.format("%s, %s%s%s",
      count(ncomp, "component"), count(#files, "file"), key and ", signed" or "", kind == "dir" and "; start with its README.md" or ""))
    return 0
  end,
}
