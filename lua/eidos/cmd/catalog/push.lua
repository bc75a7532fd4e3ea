-- eidos catalog push DIR oci://...: pack a recipe data directory as a
-- catalog artifact (eidos.oci.artifact kind "catalog") and push it. Every
-- file but hidden ones goes in; registry.yaml must be there (as --data
-- requires) and each YAML file must parse, so a broken catalog is refused
-- here and not at every user's --data.
local errors = require("eidos.errors")

local MAX_FILE = 10 * 1024 * 1024

return {
  name = "catalog push",
  summary = "Push a recipe data directory to an OCI registry",
  usage = "eidos catalog push DIR oci://REGISTRY/REPO:TAG",
  description = "Pack DIR (a recipe data directory, as given to --data) as an OCI artifact of type\n" ..
    "application/vnd.eidos.catalog.v1 and push it; prints REGISTRY/REPO@sha256:DIGEST.\n" ..
    "Registry access: --plain-http, --insecure-tls, --registry-config (global flags).",
  args = { min = 2, max = 2, text = "a directory and an oci:// reference" },
  examples = { "eidos catalog push ./my-recipes oci://registry.example.com/platform/recipes:2025.06" },
  run = function(ctx)
    local docio = require("eidos.docio")
    local fs = require("eidos.core.fs")
    local dir, dest = ctx.args[1], ctx.args[2]
    docio.local_path(dir, "catalog directory", "a recipe data directory")
    if not require("eidos.oci.ref").is(dest) then
      errors.raise("invalid", string.format("destination %q is not an oci:// reference (accepted: %s)", dest,
        require("eidos.oci.ref").FORM))
    end
    require("eidos.oci.ref").parse(dest)
    local kind = fs.exists(dir)
    if kind == nil then errors.raise("notfound", string.format("catalog directory %q not found", dir)) end
    if kind ~= "dir" then errors.raise("invalid", string.format("catalog %q is not a directory", dir)) end
    local files = {}
    for _, rel in ipairs(errors.within("reading " .. dir, fs.walk(dir))) do
      if not (rel:match("^%.") or rel:find("/.", 1, true)) then
        local data = errors.within("reading " .. dir .. "/" .. rel, fs.read(dir .. "/" .. rel, MAX_FILE))
        if rel:match("%.ya?ml$") then
          require("eidos.doc").decode_all(data, dir .. "/" .. rel)
        end
        files[#files + 1] = { path = rel, data = data }
      end
    end
    if fs.exists(dir .. "/registry.yaml") ~= "file" then
      errors.raise("invalid", string.format("catalog directory %q has no registry.yaml; a recipe data directory holds" ..
        " registry.yaml, overlays/ and components/ (what --data DIR accepts)", dir))
    end
    local packed = require("eidos.oci.artifact").pack("catalog", files)
    local digest, ref = require("eidos.oci").push(dest, packed)
    io.stdout:write(require("eidos.oci.ref").name(ref, digest), "\n")
    require("eidos.progress").wrote("catalog " .. dir, dest, require("eidos.text").count(#files, "file"))
    return 0
  end,
}
