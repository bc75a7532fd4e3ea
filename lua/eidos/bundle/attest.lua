-- eidos.bundle.attest: the provenance of a signed bundle -- the in-toto
-- Statement v1 over its files, wrapped in a DSSE envelope signed with the
-- key (attestation.dsse.json: payloadType application/vnd.in-toto+json,
-- the signature over the DSSE pre-authentication encoding, as in-toto and
-- cosign verify it) -- and the signature of checksums.txt
-- (checksums.txt.sig: the raw Ed25519 signature, or the DER ECDSA
-- P-256/SHA-256 signature, base64 on one line). open_envelope checks an
-- envelope. Loaded only when signing or verifying.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local sha256 = require("eidos.core.sha256")
local output = require("eidos.bundle.output")

local M = {}

local function digest(data) return errors.check(sha256.hex(data)) end

-- the in-toto statement over files (all but the checksum files)
function M.statement(files, info)
  local subjects = doc.list({})
  for _, f in ipairs(files) do
    f.sha256 = f.sha256 or digest(f.data)
    subjects[#subjects + 1] = doc.ordered({ name = f.path, digest = { sha256 = f.sha256 } }, { "name", "digest" })
  end
  local crit = {}
  for k, v in pairs(info.criteria or {}) do
    if type(v) == "string" or type(v) == "number" or type(v) == "boolean" then crit[k] = v end
  end
  local st = doc.ordered({
    _type = output.STATEMENT_TYPE,
    subject = subjects,
    predicateType = output.PREDICATE_TYPE,
    predicate = doc.ordered({
      tool = doc.ordered({ name = "eidos", version = info.version }, { "name", "version" }),
      deployer = info.deployer,
      recipe = doc.ordered({
        name = "recipe.yaml",
        digest = { sha256 = info.recipe_sha256 },
        criteria = doc.ordered(crit, { "service", "accelerator", "intent", "os", "platform", "nodes" }),
      }, { "name", "digest", "criteria" }),
      components = info.components,
    }, { "tool", "deployer", "recipe", "components" }),
  }, { "_type", "subject", "predicateType", "predicate" })
  return doc.encode(st, "json")
end

local base64 = require("eidos.core.base64")
local b64enc = base64.encode

local function raw_sign(key, data)
  local sig, alg = require("eidos.core.sign").sign(key, data)
  if not sig then errors.raise("invalid", "--sign-key: " .. tostring(alg)) end
  return sig, alg
end

-- sign(key_pem, checksums_text) -> base64 signature line, algorithm
function M.sign(key, text)
  local sig, alg = raw_sign(key, text)
  return b64enc(sig) .. "\n", alg
end

M.PAYLOAD_TYPE = "application/vnd.in-toto+json"

-- pae(type, body) -> the DSSE v1 pre-authentication encoding
function M.pae(ptype, body)
  return string.format("DSSEv1 %d %s %d %s", #ptype, ptype, #body, body)
end

-- envelope(statement_json, key) -> DSSE envelope JSON text, algorithm
function M.envelope(statement, key)
  local sig, alg = raw_sign(key, M.pae(M.PAYLOAD_TYPE, statement))
  local env = doc.ordered({
    payloadType = M.PAYLOAD_TYPE,
    payload = b64enc(statement),
    signatures = doc.list({ doc.ordered({ keyid = "", sig = b64enc(sig) }, { "keyid", "sig" }) }),
  }, { "payloadType", "payload", "signatures" })
  return doc.encode(env, "json"), alg
end

-- open_envelope(text, what [, pubkey]) -> statement table or nil, problem;
-- signature = "verified" | "failed" | "unchecked" (no key given).
-- Raises invalid for an unusable key.
function M.open_envelope(text, what, key)
  local ok, env = pcall(require("cjson").decode, text)
  if not ok or type(env) ~= "table" or type(env.payload) ~= "string" or type(env.signatures) ~= "table" then
    return nil, what .. " is not a DSSE envelope (payloadType, payload, signatures)", "failed"
  end
  if env.payloadType ~= M.PAYLOAD_TYPE then
    return nil, string.format("%s has payloadType %q (accepted: %s)", what, tostring(env.payloadType), M.PAYLOAD_TYPE),
      "failed"
  end
  local payload = base64.decode(env.payload)
  if not payload then return nil, what .. ": payload is not base64", "failed" end
  local status = "unchecked"
  if key then
    status = "failed"
    local pae = M.pae(env.payloadType, payload)
    for _, s in ipairs(env.signatures) do
      local raw = base64.decode(type(s) == "table" and tostring(s.sig) or "")
      if raw and raw ~= "" then
        local good, msg, code = require("eidos.core.sign").verify(key, pae, raw)
        if good then status = "verified" break end
        if code == "invalid" then errors.raise("invalid", "--key: " .. tostring(msg)) end
      end
    end
  end
  local dok, st = pcall(require("cjson").decode, payload)
  if not dok or type(st) ~= "table" then return nil, what .. ": the payload is not JSON", status end
  return st, nil, status
end

return M
