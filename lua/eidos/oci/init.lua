-- eidos.oci: eidos artifacts in OCI registries -- pushing a packed
-- artifact (eidos.oci.artifact) under a tag, fetching a manifest and the
-- files of its layer with every digest checked, and the oci:// scheme of
-- eidos.docio (a document such as a recipe pushed as a one-layer artifact,
-- and read back from such an artifact or from a bundle's recipe.yaml). The
-- registry options -- plain HTTP, TLS verification off, the Docker config
-- -- come from the global flags (configure) and apply to every oci://
-- location of the command.
local errors = require("eidos.errors")
local ref_mod = require("eidos.oci.ref")
local artifact = require("eidos.oci.artifact")
local registry = require("eidos.oci.registry")

local M = {}

local defaults = {}

-- configure{plain_http=, insecure=, config=, chunk=}: the options of this
-- process (chunk: upload blobs above this many bytes in chunks; default
-- eidos.oci.registry.CHUNK)
function M.configure(o)
  defaults = { plain_http = o.plain_http, insecure = o.insecure, config = o.config, chunk = o.chunk }
end

-- client(ref, push) -> registry client with the configured options
function M.client(ref, push)
  return registry.new(ref, { plain_http = defaults.plain_http, insecure = defaults.insecure,
                             config = defaults.config, push = push, chunk = defaults.chunk })
end

-- push(loc, packed) -> digest, ref, client. The blobs go first, then the
-- manifest under the tag (or, for a digest reference, under that digest,
-- which must be the manifest's).
function M.push(loc, packed)
  local ref = ref_mod.parse(loc)
  local digest = registry.digest_of(packed.manifest)
  if ref.digest and ref.digest ~= digest then
    errors.raise("invalid", string.format("%s names digest %s, but the artifact's manifest has digest %s; push to a" ..
      " tag instead", loc, ref.digest, digest))
  end
  local c = M.client(ref, true)
  for _, b in ipairs(packed.blobs) do c:push_blob(b.data, b.desc.digest) end
  digest = c:put_manifest(packed.manifest, artifact.MANIFEST, ref.tag or digest)
  return digest, ref, c
end

-- fetch(loc, what) -> {ref=, client=, bytes=, manifest=, digest=}
function M.fetch(loc, what)
  local ref = ref_mod.parse(loc)
  local c = M.client(ref, false)
  local bytes, mt, digest = c:get_manifest(ref_mod.reference(ref))
  if mt == artifact.INDEX or mt == "application/vnd.docker.distribution.manifest.list.v2+json" then
    errors.raise("invalid", string.format("%s is an image index (several manifests), not an eidos artifact", loc))
  end
  local m = registry.decode(bytes, string.format("manifest of %s", loc))
  if m.schemaVersion ~= 2 or type(m.layers) ~= "table" then
    errors.raise("invalid", string.format("%s: the manifest is not an OCI image manifest (schemaVersion 2 with layers)", loc))
  end
  return { ref = ref, client = c, bytes = bytes, manifest = m, digest = digest, what = what or loc }
end

-- layer_files(fetched) -> files ({path=, data=, mode=}, sorted), fetched
-- (plus layer = the descriptor and layer_data = its bytes)
local function layer_files(f)
  f.layer = artifact.files_layer(f.manifest, f.what)
  f.layer_data = f.client:get_blob(f.layer, artifact.MAX_LAYER)
  return artifact.unpack(f.manifest, f.layer_data, f.what), f
end

-- pull_bundle(loc) -> files, fetched: a bundle (eidos's, or any Helm chart,
-- Flux or tar.gz artifact of that shape); a recipe catalog is refused
-- (exit 2) before its layer is fetched, naming where it is used instead
function M.pull_bundle(loc)
  local f = M.fetch(loc, "bundle " .. loc)
  if artifact.kind_of(f.manifest) == "catalog" then
    errors.raise("invalid", string.format("%s is a recipe catalog (artifactType %s), not a bundle; a catalog is read" ..
      " with --data %s", loc, artifact.CATALOG_TYPE, loc))
  end
  return layer_files(f)
end

-- pull_catalog(loc) -> files, fetched: a recipe catalog pushed by 'eidos
-- catalog push' (anything else refused before its layer is fetched)
function M.pull_catalog(loc)
  local f = M.fetch(loc, "catalog " .. loc)
  if artifact.kind_of(f.manifest) ~= "catalog" then
    errors.raise("invalid", string.format("%s is not a recipe catalog (artifactType %s expected, got %s)", loc,
      artifact.CATALOG_TYPE, tostring(f.manifest.artifactType or f.manifest.config.mediaType)))
  end
  return layer_files(f)
end

-- the oci:// scheme of eidos.docio -----------------------------------

local DOC_TYPES = { ["application/yaml"] = true, ["application/json"] = true }

-- read(loc, opts) -> text, origin: a document artifact's layer, or the
-- recipe.yaml of a bundle
function M.read(loc, opts)
  opts = opts or {}
  local what = (opts.what or "document") .. " " .. loc
  local f = M.fetch(loc, what)
  local kind = artifact.kind_of(f.manifest)
  if kind == "document" then
    local l = f.manifest.layers[1]
    if #f.manifest.layers ~= 1 or type(l) ~= "table" or not DOC_TYPES[l.mediaType] then
      errors.raise("invalid", string.format("%s: a document artifact has one application/yaml or application/json layer", what))
    end
    return f.client:get_blob(l, opts.max or 64 * 1024 * 1024), ref_mod.name(f.ref, f.digest)
  end
  if kind == "helm" or kind == "flux" or kind == "bundle" then
    local layer = artifact.files_layer(f.manifest, what)
    local files = artifact.unpack(f.manifest, f.client:get_blob(layer, artifact.MAX_LAYER), what)
    for _, x in ipairs(files) do
      if x.path == "recipe.yaml" then return x.data, ref_mod.name(f.ref, f.digest) .. "!recipe.yaml" end
    end
    errors.raise("notfound", string.format("%s: the bundle holds no recipe.yaml", what))
  end
  errors.raise("invalid", string.format("%s is a %s artifact; a document is read from a document artifact (%s) or a" ..
    " bundle", what, kind or tostring(f.manifest.artifactType or "non-eidos"), artifact.DOCUMENT_TYPE))
end

-- pack_document(text) -> packed artifact of one YAML or JSON document
function M.pack_document(text)
  local json = text:match("^%s*[{%[]") ~= nil
  local config, cdata = artifact.empty()
  local l = artifact.descriptor(json and "application/json" or "application/yaml", text,
    { annotations = { [artifact.TITLE] = json and "document.json" or "document.yaml" } })
  return { manifest = artifact.manifest({ artifact_type = artifact.DOCUMENT_TYPE, config = config, layers = { l } }),
           blobs = { { desc = config, data = cdata }, { desc = l, data = text } } }
end

-- write(loc, text): push a document artifact; prints REGISTRY/REPO@DIGEST
function M.write(loc, text)
  local digest, ref = M.push(loc, M.pack_document(text))
  io.stdout:write(ref_mod.name(ref, digest), "\n")
end

require("eidos.docio").register("oci", { read = M.read, write = M.write })

return M
