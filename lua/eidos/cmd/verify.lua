-- eidos verify: check a bundle directory written by 'eidos bundle', or a
-- bundle in a registry (oci://): every digest of checksums.txt, files
-- missing or not listed, the attestation, and with --key the signature
-- checksums.txt.sig (and, for oci://, the signature and attestation
-- attached as referrers). Exit 0 when everything checks, 9 when a check
-- fails, 2 for invalid input (no such directory, unreadable key).
local errors = require("eidos.errors")

local ORDER = { "bundle", "ok", "files", "signature", "attestation", "referrers", "problems" }
local RORDER = { "digest", "signature", "attestation" }
local PORDER = { "kind", "path", "msg" }

return {
  name = "verify",
  summary = "Check a bundle's checksums, files and signature",
  usage = "eidos verify BUNDLE_DIR|oci://REGISTRY/REPO:TAG [--key PUB.pem] [-t text|json|yaml]",
  description = table.concat({
    "Check a bundle directory written by 'eidos bundle': every file listed in",
    "checksums.txt must be present with its SHA-256, and every other file (but",
    "checksums.txt.sig) is reported as extra. With --key, checksums.txt.sig must",
    "be a valid signature of checksums.txt by that public key (Ed25519 or ECDSA",
    "P-256, PEM). attestation.dsse.json (or attestation.intoto.json of older",
    "bundles), when present, must agree with checksums.txt, and with --key its DSSE",
    "signature must match. Archives must be extracted first. For oci:// the",
    "manifest and layer digests are checked, and the signature of the manifest and",
    "the attestation attached as referrers are found (referrers API or the",
    "sha256-<hex> tag) and checked; with --key both must be present and valid.",
    "",
    "Exit status: 0 all checks pass, 9 a check failed, 2 invalid input.",
  }, "\n"),
  flags = {
    { name = "key", short = "k", arg = "PUB.pem", type = "file", help = "public key to check checksums.txt.sig with" },
    { name = "format", short = "t", arg = "FORMAT", choices = { "text", "json", "yaml" }, default = "text",
      help = "report format" },
  },
  args = { min = 1, max = 1, text = "one bundle directory or oci:// reference", type = "dir" },
  examples = { "eidos verify ./bundle", "eidos verify ./bundle --key signing-pub.pem",
               "eidos verify ./bundle -t json",
               "eidos verify oci://registry.example.com/platform/gpu-stack:0.1.0 --key signing-pub.pem" },
  run = function(ctx)
    local o = ctx.opts
    local dir = ctx.args[1]
    local key
    if o.key then
      key = require("eidos.docio").read_file(o.key, { what = "--key", max = 1024 * 1024 })
      -- the verifier also takes a path: never let file content be read as one
      if not key:find("-----BEGIN", 1, true) then
        errors.raise("invalid", string.format("--key %q is not a PEM public key (no -----BEGIN line;" ..
          " accepted: an Ed25519 or ECDSA P-256 public key in PEM)", o.key))
      end
    end
    local r
    if require("eidos.oci.ref").is(dir) then
      r = require("eidos.bundle.publish").verify(dir, { key = key })
      dir = r.bundle
    else
      require("eidos.docio").local_path(dir, "bundle", "a bundle directory or oci://REGISTRY/REPO:TAG")
      r = require("eidos.bundle.verify").verify(dir, { key = key })
    end
    if o.format == "text" then
      local out = {}
      for _, p in ipairs(r.problems) do
        out[#out + 1] = string.format("FAIL %-11s %s: %s", p.kind, p.path, p.msg)
      end
      out[#out + 1] = string.format("%s: %d files listed in checksums.txt, %d problem(s); signature %s; attestation %s",
        r.ok and "OK" or "FAILED", r.files, #r.problems, r.signature, r.attestation)
      if r.oci then
        out[#out + 1] = string.format("referrers: signature %s; attestation %s (of %s)", r.oci.signature,
          r.oci.attestation, dir)
      end
      if r.signature == "unchecked" or (r.oci and r.oci.signature == "unchecked") then
        out[#out + 1] = "note: the bundle is signed; pass --key PUB.pem to check the signature"
      elseif r.signature == "absent" and not o.key and (not r.oci or r.oci.signature == "absent") then
        out[#out + 1] = "note: the bundle is not signed (nothing vouches for who made it)"
      end
      require("eidos.docio").write(nil, require("eidos.columns").text(table.concat(out, "\n")))
    else
      local doc = require("eidos.doc")
      local probs = doc.list({})
      for _, p in ipairs(r.problems) do probs[#probs + 1] = doc.ordered({ kind = p.kind, path = p.path, msg = p.msg }, PORDER) end
      local d = doc.ordered({ bundle = dir, ok = r.ok, files = r.files, signature = r.signature,
                              attestation = r.attestation, problems = probs,
                              referrers = r.oci and doc.ordered({ digest = r.oci.digest, signature = r.oci.signature,
                                attestation = r.oci.attestation }, RORDER) or nil }, ORDER)
      require("eidos.docio").write(nil, doc.encode(d, o.format))
    end
    if not r.ok then
      errors.raise("checkfailed", string.format("bundle %s failed verification (%d problem(s))", dir, #r.problems))
    end
    return 0
  end,
}
