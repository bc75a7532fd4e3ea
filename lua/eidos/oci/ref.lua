-- eidos.oci.ref: OCI references written oci://REGISTRY/REPOSITORY:TAG or
-- oci://REGISTRY/REPOSITORY@sha256:HEX (both: the digest wins and the tag
-- is only a name). The grammar is the distribution spec's: a registry host
-- (name, IPv4 or [IPv6], optional :port), a repository of lower-case path
-- components separated by '.', '_', '__' or dashes, a tag of at most 128
-- word characters, '.' and '-'. Errors say what was wrong and show the
-- accepted form.
local errors = require("eidos.errors")

local M = {}

M.FORM = "oci://REGISTRY/REPOSITORY:TAG or oci://REGISTRY/REPOSITORY@sha256:DIGEST"

local function invalid(text, why)
  errors.raise("invalid", string.format("invalid OCI reference %q: %s (accepted: %s)", text, why, M.FORM))
end

-- is(loc) -> true when loc is an oci:// location
function M.is(loc)
  return type(loc) == "string" and loc:sub(1, 6):lower() == "oci://"
end

local function component_ok(c)
  if c == "" or #c > 128 then return false end
  if not c:match("^[a-z0-9]") or not c:match("[a-z0-9]$") then return false end
  -- separators: '.', '_', '__' or one or more '-'
  for sep in c:gmatch("[^a-z0-9]+") do
    if not (sep == "." or sep == "_" or sep == "__" or sep:match("^%-+$")) then return false end
  end
  return true
end

-- parse(text) -> {registry=, repository=, tag=, digest=, text=}
function M.parse(text)
  if not M.is(text) then invalid(tostring(text), "it does not start with oci://") end
  local rest = text:sub(7)
  local host, path = rest:match("^([^/]+)/(.+)$")
  if not host then invalid(text, "no repository after the registry") end
  local hname, port = host:match("^(%[[%x:]+%])(:?%d*)$")
  if not hname then hname, port = host:match("^([%w.-]+)(:?%d*)$") end
  if not hname or hname:match("^[.-]") or hname:match("[.-]$") then
    invalid(text, string.format("registry %q is not a host name, IPv4 or [IPv6] address with an optional :port", host))
  end
  if port == ":" or (port ~= "" and (tonumber(port:sub(2)) or 0) > 65535) then
    invalid(text, string.format("registry %q has a bad port", host))
  end
  local digest
  local at = path:find("@", 1, true)
  if at then
    digest = path:sub(at + 1)
    path = path:sub(1, at - 1)
    if not digest:match("^sha256:%x+$") or #digest ~= 71 or digest:find("%u") then
      invalid(text, string.format("digest %q is not sha256: and 64 lower-case hex digits", digest))
    end
  end
  local repo, tag = path:match("^(.-):([^:/]*)$")
  if not repo then repo = path end
  if tag ~= nil and not (tag:match("^[%w_][%w_.-]*$") and #tag <= 128) then
    invalid(text, string.format("tag %q is not 1-128 letters, digits, '_', '.' or '-' (not starting with '.' or '-')", tag))
  end
  if #repo > 255 then invalid(text, "the repository name is longer than 255 characters") end
  for c in (repo .. "/"):gmatch("([^/]*)/") do
    if not component_ok(c) then
      invalid(text, string.format("repository %q: component %q is not lower-case letters and digits separated by" ..
        " '.', '_', '__' or '-'", repo, c))
    end
  end
  if not tag and not digest then invalid(text, "it names no :TAG and no @sha256:DIGEST") end
  return { registry = host, repository = repo, tag = tag, digest = digest, text = text }
end

-- reference(ref) -> the tag or digest to ask the registry for
function M.reference(r) return r.digest or r.tag end

-- name(ref [, digest]) -> REGISTRY/REPOSITORY@DIGEST, or :TAG
function M.name(r, digest)
  local base = r.registry .. "/" .. r.repository
  if digest or r.digest then return base .. "@" .. (digest or r.digest) end
  return base .. ":" .. r.tag
end

return M
