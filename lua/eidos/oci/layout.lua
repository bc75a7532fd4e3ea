-- eidos.oci.layout: OCI image layouts on disk (image-spec "image layout":
-- oci-layout, index.json, blobs/sha256/<hex>) written from a packed
-- artifact or image, read back with every blob's digest checked, and the
-- container image eidos ships: its config and manifest made from a root
-- file system tar (the one deploy/image/mkrootfs builds for the
-- Dockerfile), so the layout and the Docker build hold the same files. The
-- layout is written beside its place and put there in one step
-- (fs.replace_dir).
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local fs = require("eidos.core.fs")
local artifact = require("eidos.oci.artifact")
local registry = require("eidos.oci.registry")

local M = {}

M.IMAGE_CONFIG = "application/vnd.oci.image.config.v1+json"
M.REF_NAME = "org.opencontainers.image.ref.name"

local CONFIG_ORDER = { "created", "architecture", "os", "config", "rootfs", "history" }
local RUN_ORDER = { "User", "Env", "Entrypoint", "Cmd", "WorkingDir", "Labels" }

-- image(rootfs_tar, o) -> packed image {manifest=, blobs=, config=}. o:
-- user ("65532:65532"), entrypoint ({"/usr/bin/eidos"}), workdir, env,
-- labels, created (RFC 3339; nil: none), arch ("amd64")
function M.image(tar, o)
  o = o or {}
  local gz = errors.check(require("eidos.core.archive").gzip(tar))
  local diff_id = registry.digest_of(tar)
  local cfg = doc.ordered({
    created = o.created,
    architecture = o.arch or "amd64",
    os = "linux",
    config = doc.ordered({
      User = o.user or "65532:65532",
      Env = doc.list(o.env or { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" }),
      Entrypoint = doc.list(o.entrypoint or { "/usr/bin/eidos" }),
      WorkingDir = o.workdir or "/home/eidos",
      Labels = o.labels,
    }, RUN_ORDER),
    rootfs = doc.ordered({ type = "layers", diff_ids = doc.list({ diff_id }) }, { "type", "diff_ids" }),
    history = doc.list({ doc.ordered({ created = o.created, created_by = o.created_by or "deploy/image/mkrootfs" },
      { "created", "created_by" }) }),
  }, CONFIG_ORDER)
  local config = artifact.json(cfg)
  local cdesc = artifact.descriptor(M.IMAGE_CONFIG, config)
  local ldesc = artifact.descriptor(artifact.LAYER_TGZ, gz)
  local manifest = artifact.manifest({ config = cdesc, layers = { ldesc } })
  return { manifest = manifest, config = cdesc, layer = ldesc, diff_id = diff_id,
           blobs = { { desc = cdesc, data = config }, { desc = ldesc, data = gz } } }
end

-- write(dir, packed, tag): a new OCI layout at dir holding the packed
-- manifest under the tag (index.json's org.opencontainers.image.ref.name)
function M.write(dir, packed, tag)
  require("eidos.docio").local_path(dir, "OCI layout", "a directory")
  if fs.exists(dir) then errors.raise("invalid", string.format("OCI layout %q already exists; give a new directory", dir)) end
  -- written beside dir and put in place in one step (fs.replace_dir)
  errors.within("OCI layout " .. dir, fs.replace_dir(dir, function(root)
    errors.within("OCI layout " .. dir, fs.mkdir_p(root .. "/blobs/sha256"))
    local function put(name, data) errors.within("writing " .. name, fs.write_atomic(root .. "/" .. name, data)) end
    for _, b in ipairs(packed.blobs) do put("blobs/sha256/" .. b.desc.digest:sub(8), b.data) end
    local mdesc = artifact.descriptor(artifact.MANIFEST, packed.manifest,
      { annotations = tag and { [M.REF_NAME] = tag } or nil })
    put("blobs/sha256/" .. mdesc.digest:sub(8), packed.manifest)
    put("index.json", artifact.index({ mdesc }))
    put("oci-layout", '{"imageLayoutVersion":"1.0.0"}')
  end))
end

-- read(dir [, tag]) -> packed {manifest=, blobs=}: the manifest tagged tag
-- (or the only one), its config and layers, every digest checked
function M.read(dir, tag)
  local function blob(desc)
    local p = dir .. "/blobs/sha256/" .. tostring(desc.digest):gsub("^sha256:", "")
    if not tostring(desc.digest):match("^sha256:%x+$") or fs.exists(p) ~= "file" then
      errors.raise("notfound", string.format("OCI layout %s: blob %s is missing", dir, tostring(desc.digest)))
    end
    local data = errors.within("OCI layout " .. dir, fs.read(p, 2 * 1024 * 1024 * 1024))
    if registry.digest_of(data) ~= desc.digest then
      errors.raise("checkfailed", string.format("OCI layout %s: blob %s does not have that digest", dir, desc.digest))
    end
    return data
  end
  local index = registry.decode(errors.within("OCI layout " .. dir, fs.read(dir .. "/index.json", 4 * 1024 * 1024)),
    dir .. "/index.json")
  local pick
  for _, m in ipairs(type(index.manifests) == "table" and index.manifests or {}) do
    local name = type(m.annotations) == "table" and m.annotations[M.REF_NAME]
    if (tag and name == tag) or (not tag and #index.manifests == 1) then pick = m end
  end
  if not pick then
    errors.raise("notfound", string.format("OCI layout %s has no manifest %s", dir, tag and ("tagged " .. tag) or
      "(it holds several; name a tag)"))
  end
  local manifest = blob(pick)
  local m = registry.decode(manifest, "manifest " .. pick.digest)
  local out = { manifest = manifest, blobs = {} }
  local descs = { m.config }
  for _, l in ipairs(m.layers or {}) do descs[#descs + 1] = l end
  for _, d in ipairs(descs) do
    out.blobs[#out.blobs + 1] = { desc = artifact.copy_descriptor(d), data = blob(d) }
  end
  return out
end

return M
