-- eidos.oci.artifact: the OCI image-spec 1.1 documents eidos pushes and
-- reads -- descriptors, manifests (with artifactType and subject), indexes
-- -- as compact JSON in a fixed key order, so the same content always gives
-- the same bytes and digest (no time, host or tag ever goes in); and the
-- packing of a set of files into one deterministic tar.gz layer and back.
-- What kind of artifact a bundle, catalog or document becomes is decided
-- here in one table (KINDS).
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local emit = require("eidos.core.emit")
local archive = require("eidos.core.archive")

local M = {}

M.MANIFEST = "application/vnd.oci.image.manifest.v1+json"
M.INDEX = "application/vnd.oci.image.index.v1+json"
M.LAYER_TGZ = "application/vnd.oci.image.layer.v1.tar+gzip"
M.EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
M.HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
M.HELM_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
M.FLUX_CONFIG = "application/vnd.cncf.flux.config.v1+json"
M.FLUX_LAYER = "application/vnd.cncf.flux.content.v1.tar+gzip"
M.BUNDLE_TYPE = "application/vnd.eidos.bundle.v1"
M.CATALOG_TYPE = "application/vnd.eidos.catalog.v1"
M.DOCUMENT_TYPE = "application/vnd.eidos.document.v1"
M.SIGNATURE_TYPE = "application/vnd.eidos.signature.v1"
M.SIGNATURE_LAYER = "application/vnd.eidos.signature.v1+base64"
M.DSSE_TYPE = "application/vnd.dsse.envelope.v1+json"
M.TITLE = "org.opencontainers.image.title"

-- limits on what a pulled layer may expand to
M.MAX_LAYER = 256 * 1024 * 1024
M.MAX_FILES = 20000

local DESC_ORDER = { "mediaType", "artifactType", "digest", "size", "data", "annotations" }
local MANIFEST_ORDER = { "schemaVersion", "mediaType", "artifactType", "config", "layers", "manifests", "subject",
                         "annotations" }

local function digest_of(data) return require("eidos.oci.registry").digest_of(data) end

-- json(v) -> compact JSON bytes, no trailing newline
function M.json(v)
  local text = errors.check(emit.json(v, { indent = 0 }))
  return (text:gsub("\n$", ""))
end

-- descriptor(media_type, bytes [, extra]) -> descriptor table
function M.descriptor(mt, bytes, extra)
  local d = { mediaType = mt, digest = digest_of(bytes), size = #bytes }
  for k, v in pairs(extra or {}) do d[k] = v end
  return doc.ordered(d, DESC_ORDER)
end

-- copy_descriptor(d) -> a descriptor decoded from JSON, made fit to be
-- written again (JSON numbers decode as floats; only known fields kept)
function M.copy_descriptor(d)
  local ann
  if type(d.annotations) == "table" then
    ann = {}
    for k, v in pairs(d.annotations) do
      if type(k) == "string" and type(v) == "string" then ann[k] = v end
    end
  end
  return doc.ordered({
    mediaType = type(d.mediaType) == "string" and d.mediaType or nil,
    artifactType = type(d.artifactType) == "string" and d.artifactType or nil,
    digest = type(d.digest) == "string" and d.digest or nil,
    size = math.tointeger(d.size),
    annotations = ann,
  }, DESC_ORDER)
end

-- the empty config of image-spec 1.1: "{}" inline
function M.empty()
  return M.descriptor(M.EMPTY_TYPE, "{}", { data = "e30=" }), "{}"
end

-- manifest{artifact_type=, config=desc, layers={desc...}, subject=desc,
-- annotations=} -> bytes
function M.manifest(m)
  local layers = doc.list({})
  for i, l in ipairs(m.layers) do layers[i] = doc.ordered(l, DESC_ORDER) end
  return M.json(doc.ordered({
    schemaVersion = 2, mediaType = M.MANIFEST, artifactType = m.artifact_type,
    config = doc.ordered(m.config, DESC_ORDER), layers = layers,
    subject = m.subject and doc.ordered(m.subject, DESC_ORDER) or nil, annotations = m.annotations,
  }, MANIFEST_ORDER))
end

-- index(descriptors) -> image index bytes
function M.index(list)
  local l = doc.list({})
  for i, d in ipairs(list) do l[i] = doc.ordered(d, DESC_ORDER) end
  return M.json(doc.ordered({ schemaVersion = 2, mediaType = M.INDEX, manifests = l }, MANIFEST_ORDER))
end

-- tgz(files [, top]) -> deterministic tar.gz of {path=, data=, mode=}
-- files, under the directory top when given
function M.tgz(files, top)
  local entries = {}
  for i, f in ipairs(files) do
    entries[i] = { path = top and (top .. "/" .. f.path) or f.path, data = f.data, mode = f.mode or "0644" }
  end
  return errors.check(archive.bytes("tar.gz", entries, { mtime = 0 }))
end

-- untgz(bytes, what [, strip]) -> files sorted by path ({path=, data=,
-- mode="0644"|"0755"}); strip drops a single top directory common to all
local function untgz(bytes, what, strip)
  local entries, msg = archive.read(bytes, { max_size = M.MAX_LAYER, max_entries = M.MAX_FILES })
  if not entries then errors.raise("invalid", string.format("%s: %s", what, msg)) end
  local files, seen = {}, {}
  local top
  for _, e in ipairs(entries) do
    local p = e.path
    if strip then
      local t, rest = p:match("^([^/]+)/?(.*)$")
      if top and t ~= top then
        errors.raise("invalid", string.format("%s: entries under %q and %q; a chart has one top directory", what, top, t))
      end
      top = t
      p = rest
    end
    if not e.dir and p ~= "" then
      if seen[p] then errors.raise("invalid", string.format("%s: %q appears twice", what, p)) end
      seen[p] = true
      files[#files + 1] = { path = p, data = e.data, mode = (e.mode & 73) ~= 0 and "0755" or "0644" }
    end
  end
  table.sort(files, function(a, b) return a.path < b.path end)
  return files, top
end
M.untgz = untgz

-- what eidos pushes, by kind: artifactType, config media type and bytes,
-- layer media type, and whether the layer has a top directory (Helm charts)
local KINDS = {
  helm = { config_type = M.HELM_CONFIG, layer_type = M.HELM_LAYER, top = true },
  flux = { config_type = M.FLUX_CONFIG, config = "{}", layer_type = M.FLUX_LAYER },
  bundle = { artifact_type = M.BUNDLE_TYPE, layer_type = M.LAYER_TGZ, title = "bundle.tar.gz" },
  catalog = { artifact_type = M.CATALOG_TYPE, layer_type = M.LAYER_TGZ, title = "catalog.tar.gz" },
}

-- the Helm chart config: Chart.yaml as JSON, in Helm's field order
local HELM_ORDER = { "name", "home", "sources", "version", "description", "keywords", "maintainers", "icon",
                     "apiVersion", "condition", "tags", "appVersion", "deprecated", "annotations", "kubeVersion",
                     "dependencies", "type" }
local function helm_config(files)
  for _, f in ipairs(files) do
    if f.path == "Chart.yaml" then
      local c = doc.decode(f.data, "Chart.yaml")
      if type(c) ~= "table" or type(c.name) ~= "string" then
        errors.raise("invalid", "Chart.yaml of the bundle has no chart name")
      end
      return M.json(doc.ordered(c, HELM_ORDER)), c.name
    end
  end
  errors.raise("internal", "a helm bundle without Chart.yaml")
end

-- pack(kind, files) -> {manifest=bytes, blobs={{desc=, data=}}, layer=desc}
-- kind: "helm", "flux", "bundle" (other deployers) or "catalog"
function M.pack(kind, files)
  local k = KINDS[kind] or errors.raise("internal", "unknown artifact kind " .. tostring(kind))
  local config_desc, config
  local top
  if kind == "helm" then
    config, top = helm_config(files)
    config_desc = M.descriptor(k.config_type, config)
  elseif k.config_type then
    config = k.config
    config_desc = M.descriptor(k.config_type, config)
  else
    config_desc, config = M.empty()
  end
  local layer = M.tgz(files, top)
  local ldesc = M.descriptor(k.layer_type, layer, k.title and { annotations = { [M.TITLE] = k.title } } or nil)
  local manifest = M.manifest({ artifact_type = k.artifact_type, config = config_desc, layers = { ldesc } })
  return { manifest = manifest, layer = ldesc, config = config_desc,
           blobs = { { desc = config_desc, data = config }, { desc = ldesc, data = layer } } }
end

-- kind_of(manifest) -> "helm" | "flux" | "bundle" | "catalog" | "document" | nil
function M.kind_of(m)
  local ct = type(m.config) == "table" and m.config.mediaType
  if ct == M.HELM_CONFIG then return "helm" end
  if ct == M.FLUX_CONFIG then return "flux" end
  if m.artifactType == M.BUNDLE_TYPE then return "bundle" end
  if m.artifactType == M.CATALOG_TYPE then return "catalog" end
  if m.artifactType == M.DOCUMENT_TYPE then return "document" end
  return nil
end

-- files_layer(manifest, what) -> the one layer descriptor holding files
function M.files_layer(m, what)
  local layers = type(m.layers) == "table" and m.layers or {}
  local found
  for _, l in ipairs(layers) do
    if type(l) == "table" and (l.mediaType == M.HELM_LAYER or l.mediaType == M.FLUX_LAYER or
        l.mediaType == M.LAYER_TGZ or l.mediaType == "application/vnd.oci.image.layer.v1.tar") then
      if found then errors.raise("invalid", what .. " has more than one file layer") end
      found = l
    end
  end
  if not found then
    errors.raise("invalid", string.format("%s has no tar.gz layer (accepted: %s, %s, %s)", what, M.LAYER_TGZ,
      M.HELM_LAYER, M.FLUX_LAYER))
  end
  return found
end

-- unpack(manifest, layer_bytes, what) -> files (a Helm chart's top
-- directory removed)
function M.unpack(m, layer, what)
  return (untgz(layer, what, M.kind_of(m) == "helm"))
end

return M
