-- eidos.bundle.attest: the provenance of a signed bundle -- the in-toto
-- Statement v1 over its files (attestation.intoto.json) and the signature
-- of checksums.txt (checksums.txt.sig: the raw Ed25519 signature, or the
-- DER ECDSA P-256/SHA-256 signature, base64 on one line). Loaded only with
-- --sign-key.
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

-- sign(key_pem, checksums_text) -> base64 signature line, algorithm
function M.sign(key, text)
  local sig, alg = require("eidos.core.sign").sign(key, text)
  if not sig then errors.raise("invalid", "--sign-key: " .. tostring(alg)) end
  return require("eidos.core.base64").encode(sig) .. "\n", alg
end

return M
