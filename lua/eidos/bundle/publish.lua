-- eidos.bundle.publish: a finished bundle (eidos.bundle.output.finish) as
-- an OCI artifact in a registry, and its signature and attestation as
-- referrers of it. The artifact kind follows the deployer: helm -> a Helm
-- OCI chart (helm pull, Argo CD), flux -> Flux content (OCIRepository),
-- others -> application/vnd.eidos.bundle.v1; one deterministic tar.gz layer,
-- so the same bundle always has the same manifest digest. With a signing
-- key two referrers (manifests whose subject is the bundle's manifest) are
-- attached: a signature of the manifest bytes (base64, as
-- checksums.txt.sig), and a DSSE envelope of an in-toto statement over the
-- bundle's files and the layer blob.
local errors = require("eidos.errors")
local artifact = require("eidos.oci.artifact")
local output = require("eidos.bundle.output")

local M = {}

M.ALGORITHM = "io.eidos.signature.algorithm"

-- kind(deployer) -> the artifact kind of eidos.oci.artifact
function M.kind(deployer)
  if deployer == "helm" or deployer == "flux" then return deployer end
  return "bundle"
end

local function subject_of(digest, manifest)
  return { mediaType = artifact.MANIFEST, digest = digest, size = #manifest }
end

-- referrer(artifact_type, layer_type, data, subject, annotations) ->
-- packed manifest with one layer
local function referrer(atype, ltype, data, subject, ann)
  local config, cdata = artifact.empty()
  local l = artifact.descriptor(ltype, data, ann and { annotations = ann } or nil)
  local manifest = artifact.manifest({ artifact_type = atype, config = config, layers = { l }, subject = subject })
  return { manifest = manifest, blobs = { { desc = config, data = cdata }, { desc = l, data = data } } }
end

-- statement over the bundle's files (not the checksum files) and the layer
local function oci_statement(files, bundle, layer)
  local attest = require("eidos.bundle.attest")
  local subjects = {}
  for _, f in ipairs(files) do
    if f.path ~= output.CHECKSUMS and f.path ~= output.SIGNATURE then subjects[#subjects + 1] = f end
  end
  local recipe_sha
  for _, f in ipairs(files) do if f.path == "recipe.yaml" then recipe_sha = f.sha256 end end
  local comps = require("eidos.doc").list({})
  for _, c in ipairs(bundle.model.Components) do comps[#comps + 1] = c.Name end
  subjects[#subjects + 1] = { path = layer.annotations and layer.annotations[artifact.TITLE] or "layer.tar.gz",
                              sha256 = layer.digest:sub(8), data = "" }
  return attest.statement(subjects, {
    version = bundle.model.Tool.Version, deployer = bundle.model.Deployer, recipe_sha256 = recipe_sha,
    criteria = bundle.model.criteria, components = comps,
  })
end

-- push(bundle, files, loc, {sign_key=}) -> {digest=, name=, ref=,
-- signature=digest|nil, attestation=digest|nil}
function M.push(bundle, files, loc, opts)
  opts = opts or {}
  local oci = require("eidos.oci")
  local packed = artifact.pack(M.kind(bundle.model.Deployer), files)
  local digest, ref, client = oci.push(loc, packed)
  local out = { digest = digest, ref = ref, name = require("eidos.oci.ref").name(ref, digest) }
  if opts.sign_key then
    local attest = require("eidos.bundle.attest")
    local subject = subject_of(digest, packed.manifest)
    local sig, alg = attest.sign(opts.sign_key, packed.manifest)
    local s = referrer(artifact.SIGNATURE_TYPE, artifact.SIGNATURE_LAYER, sig, subject, { [M.ALGORITHM] = alg })
    local l = packed.layer
    local env = attest.envelope(oci_statement(files, bundle, l), opts.sign_key)
    local a = referrer(artifact.DSSE_TYPE, artifact.DSSE_TYPE, env, subject)
    for _, r in ipairs({ s, a }) do
      for _, b in ipairs(r.blobs) do client:push_blob(b.data, b.desc.digest) end
    end
    out.signature = client:attach(s.manifest, artifact.MANIFEST,
      artifact.descriptor(artifact.MANIFEST, s.manifest, { artifactType = artifact.SIGNATURE_TYPE }), digest)
    out.attestation = client:attach(a.manifest, artifact.MANIFEST,
      artifact.descriptor(artifact.MANIFEST, a.manifest, { artifactType = artifact.DSSE_TYPE }), digest)
  end
  return out
end

-- verify(loc, {key=}) -> report as eidos.bundle.verify's, with bundle =
-- the pinned name and oci = {digest=, signature=, attestation=} from the
-- referrers. A blob or manifest whose digest is wrong is a failed check.
function M.verify(loc, opts)
  opts = opts or {}
  local oci = require("eidos.oci")
  local verify = require("eidos.bundle.verify")
  local ok, files, f = pcall(oci.pull_bundle, loc)
  if not ok then
    local e = files
    if errors.is(e) and e.code == "checkfailed" then
      return { ok = false, files = 0, bundle = loc, signature = "failed", attestation = "inconsistent",
               problems = { { kind = "changed", path = loc, msg = e.msg } } }
    end
    error(e, 0)
  end
  local r = verify.check(verify.files_tree(files), { key = opts.key })
  r.bundle = require("eidos.oci.ref").name(f.ref, f.digest)
  local function problem(k, path, msg) r.problems[#r.problems + 1] = { kind = k, path = path, msg = msg } end
  local o = { digest = f.digest, signature = "absent", attestation = "absent" }
  r.oci = o
  local listed = {}
  for _, x in ipairs(files) do listed[x.path] = require("eidos.core.sha256").hex(x.data) end
  local title = f.layer.annotations and f.layer.annotations[artifact.TITLE] or "layer.tar.gz"
  for _, d in ipairs(f.client:referrers(f.digest)) do
    local at = d.artifactType
    if at == artifact.SIGNATURE_TYPE or at == artifact.DSSE_TYPE then
      local bytes = f.client:get_manifest(d.digest)
      local m = require("eidos.oci.registry").decode(bytes, "referrer " .. d.digest)
      local l = type(m.layers) == "table" and m.layers[1]
      local subj = type(m.subject) == "table" and m.subject.digest
      if subj == f.digest and type(l) == "table" then
        local data = f.client:get_blob(l, 16 * 1024 * 1024)
        if at == artifact.SIGNATURE_TYPE and o.signature ~= "verified" then
          o.signature = "unchecked"
          if opts.key then
            local raw = require("eidos.core.base64").decode(data)
            local good, msg, code = false, nil, nil
            if raw and raw ~= "" then good, msg, code = require("eidos.core.sign").verify(opts.key, f.bytes, raw) end
            if code == "invalid" then errors.raise("invalid", "--key: " .. tostring(msg)) end
            o.signature = good and "verified" or "failed"
          end
        elseif at == artifact.DSSE_TYPE and o.attestation ~= "consistent" then
          local st, why, status = require("eidos.bundle.attest").open_envelope(data, "attestation " .. d.digest, opts.key)
          local rr = { attestation = "consistent" }
          local sub = {}
          listed[title] = f.layer.digest:sub(8)
          verify.check_statement(st, "attestation " .. d.digest, listed, true, rr, function(_, p, msg)
            sub[#sub + 1] = p .. ": " .. msg
          end)
          listed[title] = nil
          if not st then sub[#sub + 1] = why end
          if status == "failed" and opts.key then sub[#sub + 1] = "the DSSE signature does not match this key" end
          o.attestation = #sub == 0 and "consistent" or "inconsistent"
          o.attestation_problems = sub
        end
      end
    end
  end
  if opts.key and o.signature ~= "verified" then
    problem("signature", "referrer", o.signature == "absent" and
      "--key given but no signature of the manifest is attached (referrer " .. artifact.SIGNATURE_TYPE .. ")"
      or "the attached signature does not match the manifest with this key")
  end
  if o.attestation == "inconsistent" then
    for _, p in ipairs(o.attestation_problems) do problem("attestation", "referrer", p) end
  elseif opts.key and o.attestation == "absent" then
    problem("attestation", "referrer", "--key given but no attestation is attached (referrer " .. artifact.DSSE_TYPE .. ")")
  end
  r.ok = #r.problems == 0
  return r
end

return M
