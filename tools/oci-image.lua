-- tools/oci-image.lua: the eidos container image without Docker, written
-- and pushed by eidos's own OCI code (eidos.oci.layout, eidos.oci):
--   eidos lua tools/oci-image.lua build ROOTFS.tar LAYOUT_DIR [TAG]
--       an OCI image layout of one layer (ROOTFS.tar gzip'd, as made by
--       deploy/image/mkrootfs for deploy/image/Dockerfile), user 65532,
--       entrypoint /usr/bin/eidos; `created` from SOURCE_DATE_EPOCH
--   eidos [--plain-http] [--registry-config F] lua tools/oci-image.lua push LAYOUT_DIR oci://REG/REPO:TAG [TAG]
--       pushes the layout's manifest (digests checked) and prints
--       REG/REPO@sha256:...
-- scripts/build-image runs both after building the root file system.
local errors = require("eidos.errors")
local fs = require("eidos.core.fs")
local layout = require("eidos.oci.layout")

local function usage()
  io.stderr:write("usage: eidos lua tools/oci-image.lua build ROOTFS.tar LAYOUT_DIR [TAG]\n" ..
    "       eidos lua tools/oci-image.lua push LAYOUT_DIR oci://REGISTRY/REPO:TAG [TAG]\n")
  os.exit(2)
end

local cmd = arg[1]
local ok, err = pcall(function()
  if cmd == "build" and arg[2] and arg[3] then
    local tar = errors.within("rootfs " .. arg[2], fs.read(arg[2], 2 * 1024 * 1024 * 1024))
    local created
    local pin = os.getenv("SOURCE_DATE_EPOCH")
    if pin and pin ~= "" then created = require("eidos.timeutil").format(math.tointeger(tonumber(pin)) or 0) end
    local b = require("eidos.core.build")
    local img = layout.image(tar, { created = created, labels = {
      ["org.opencontainers.image.title"] = "eidos",
      ["org.opencontainers.image.version"] = tostring(b.version),
      ["org.opencontainers.image.revision"] = tostring(b.commit),
    } })
    layout.write(arg[3], img, arg[4] or ("v" .. tostring(b.version)))
    io.stdout:write(string.format("OCI layout %s: manifest %s, layer %s (%d bytes), diff_id %s\n", arg[3],
      require("eidos.oci.registry").digest_of(img.manifest), img.layer.digest, img.layer.size, img.diff_id))
  elseif cmd == "push" and arg[2] and arg[3] then
    local packed = layout.read(arg[2], arg[4])
    local oci = require("eidos.oci")
    local digest, ref = oci.push(arg[3], packed)
    io.stdout:write(require("eidos.oci.ref").name(ref, digest), "\n")
  else
    usage()
  end
end)
if not ok then
  io.stderr:write("error: ", tostring(errors.is(err) and err.msg or err), "\n")
  os.exit(errors.exit_code(err))
end
