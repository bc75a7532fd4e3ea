-- eidos bundle pull oci://... -o DIR: fetch a bundle pushed with
-- 'eidos bundle -o oci://...' (or any Helm chart / Flux artifact of the
-- same shape), with the manifest and layer digests checked and, when the
-- bundle has one, checksums.txt checked against its files; then write it
-- as 'eidos bundle -o' does (a directory by rename, or an archive).
local errors = require("eidos.errors")

return {
  name = "bundle pull",
  summary = "Fetch a bundle from an OCI registry",
  usage = "eidos bundle pull oci://REGISTRY/REPO:TAG|@sha256:DIGEST -o OUT [--force]",
  description = "Pull a bundle artifact, check the digests of its manifest and layer and the bundle's\n" ..
    "own checksums.txt, and write its files to OUT (a directory, or a .tar.gz/.tgz/.zip file).\n" ..
    "Nothing is written when a check fails (exit 9). Check signatures with\n" ..
    "'eidos verify oci://... --key PUB.pem'. Registry access: --plain-http, --insecure-tls,\n" ..
    "--registry-config (global flags).",
  flags = {
    { name = "output", short = "o", arg = "OUT", help = "output directory, or a .tar.gz/.tgz/.zip file" },
    { name = "force", help = "replace an existing bundle at OUT" },
  },
  args = { min = 1, max = 1, text = "one oci:// reference" },
  examples = { "eidos bundle pull oci://registry.example.com/platform/gpu-stack:0.1.0 -o ./bundle" },
  run = function(ctx)
    local o = ctx.opts
    local loc = ctx.args[1]
    local ref = require("eidos.oci.ref")
    if not ref.is(loc) then
      errors.raise("invalid", string.format("%q is not an oci:// reference (accepted: %s)", loc, ref.FORM))
    end
    ref.parse(loc)
    if not o.output then errors.raise("invalid", "missing -o/--output (a directory, or a .tar.gz/.zip file)") end
    require("eidos.docio").local_path(o.output, "-o", "a directory, or a .tar.gz/.tgz/.zip file")
    require("eidos.bundle.output").check_target(o.output)
    local files, f = require("eidos.oci").pull_bundle(loc)
    local verify = require("eidos.bundle.verify")
    local r = verify.check(verify.files_tree(files), {})
    local bad = {}
    for _, p in ipairs(r.problems) do
      if p.kind ~= "missing" or p.path ~= "checksums.txt" then bad[#bad + 1] = p.path .. ": " .. p.msg end
    end
    if #bad > 0 then
      errors.raise("checkfailed", string.format("bundle %s does not match its checksums.txt: %s", loc,
        table.concat(bad, "; ")))
    end
    require("eidos.bundle.output").write(files, o.output, { force = o.force })
    require("eidos.progress").wrote("bundle " .. ref.name(f.ref, f.digest), o.output, require("eidos.text").count(#files, "file"))
    return 0
  end,
}
