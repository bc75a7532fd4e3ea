-- eidos.oci.registry: a client of the OCI distribution API for one
-- repository, on the libcurl client (eidos.core.http). It owns the request
-- policy: https unless plain_http, TLS verification unless insecure (a
-- private CA bundle replaces the system one with EIDOS_CA_FILE, as for
-- http(s):// inputs),
-- authentication on demand (a 401 challenge: Basic, or a Bearer token for
-- the repository scope), retries with exponential back-off and jitter on
-- 429, 5xx and broken connections (Retry-After honoured, capped), and
-- errors that name the registry, the step and the HTTP status with the
-- registry's own error code. The operations -- blobs (monolithic or chunked
-- upload, verified download), manifests (put by tag or digest with the
-- digest checked, get with the digest checked) and referrers (the API,
-- else the sha256-<hex> tag schema) -- are what eidos.oci needs, nothing
-- more.
local errors = require("eidos.errors")
local http = require("eidos.core.http")
local sha256 = require("eidos.core.sha256")
local auth = require("eidos.oci.auth")

local M = {}

M.MANIFEST = "application/vnd.oci.image.manifest.v1+json"
M.INDEX = "application/vnd.oci.image.index.v1+json"
M.DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
M.ACCEPT = table.concat({ M.MANIFEST, M.INDEX, M.DOCKER_MANIFEST }, ", ")
M.MAX_MANIFEST = 4 * 1024 * 1024
M.CHUNK = 16 * 1024 * 1024   -- blobs above this size are uploaded in chunks
M.ATTEMPTS = 5
M.BACKOFF = 0.5              -- seconds before the second attempt, doubling
M.MAX_WAIT = 10              -- longest single wait (also caps Retry-After)

local Client = {}
Client.__index = Client

local RETRY = { [429] = true, [500] = true, [502] = true, [503] = true, [504] = true }

local function digest_of(data) return "sha256:" .. errors.check(sha256.hex(data)) end
M.digest_of = digest_of

local seed = os.time() % 7919
local function jitter()
  seed = (seed * 1103515245 + 12345) % 2147483648
  return 0.5 + (seed % 1000) / 2000  -- [0.5, 1)
end

-- new(ref, opts) -> client. opts: plain_http, insecure, config (Docker
-- config path), push (ask for push access), timeout (seconds per request)
function M.new(ref, opts)
  opts = opts or {}
  local c = setmetatable({
    ref = ref, host = ref.registry, repo = ref.repository, opts = opts,
    base = (opts.plain_http and "http://" or "https://") .. ref.registry,
    scope = "repository:" .. ref.repository .. ":" .. (opts.push and "pull,push" or "pull"),
  }, Client)
  return c
end

function Client:creds()
  if self._creds == nil then
    local cfg, path = auth.load({ config = self.opts.config })
    self._creds = auth.credentials(cfg, self.host, path) or false
    self._cfg_path = path
  end
  return self._creds or nil
end

local function registry_error(body)
  local ok, d = pcall(require("cjson").decode, body or "")
  if ok and type(d) == "table" and type(d.errors) == "table" and type(d.errors[1]) == "table" then
    local e = d.errors[1]
    return string.format("%s: %s", tostring(e.code or "ERROR"), tostring(e.message or ""))
  end
  return nil
end

function Client:fail(step, res, extra)
  local st = res.status
  local code = (st == 401 or st == 403) and "unauthorized" or st == 404 and "notfound" or st == 429 and "ratelimited"
    or st >= 500 and "unavailable" or (st == 400 or st == 413 or st == 415) and "invalid" or "failure"
  local msg = string.format("registry %s: %s: HTTP %d", self.host, step, st)
  local re = registry_error(res.body)
  if re then msg = msg .. " (" .. re .. ")" end
  if code == "unauthorized" then
    local c = self:creds()
    msg = msg .. (c and string.format("; the credentials for %s from %s were refused", self.host, c.from)
      or string.format("; no credentials for %s found in %s", self.host, self._cfg_path or "a Docker config"))
  end
  errors.raise(code, msg .. (extra or ""))
end

-- one HTTP exchange with retries; returns the response (any status but
-- the retried ones after the last attempt)
function Client:exchange(step, method, url, headers, body, max_size)
  local b = require("eidos.core.build")
  local wait = M.BACKOFF
  local res, msg, code, class
  for attempt = 1, M.ATTEMPTS do
    res, msg, code, class = http.request({
      url = url, method = method, headers = headers, body = body, max_size = max_size,
      max_redirects = method == "GET" and 5 or 0, insecure = self.opts.insecure,
      ca_file = os.getenv("EIDOS_CA_FILE"),
      connect_timeout = 10, timeout = self.opts.timeout or 300, user_agent = "eidos/" .. tostring(b.version),
    })
    local retry = false
    local delay = wait * jitter()
    if not res then
      -- a refused connection or unknown host is final (nothing
      -- listens there); an exchange that broke midway is retried
      retry = class == "broken"
    elseif RETRY[res.status] then
      retry = true
      if res.retry_after and res.retry_after > 0 then delay = math.min(res.retry_after, M.MAX_WAIT) end
    end
    if not retry or attempt == M.ATTEMPTS then break end
    require("eidos.core.sys").sleep(delay)
    wait = math.min(wait * 2, M.MAX_WAIT)
  end
  if not res then
    -- OpenSSL's words for an answer that is not TLS: a plain-HTTP registry
    local hint = not self.opts.plain_http and tostring(msg):find("wrong version number", 1, true)
      and "; the registry answers plain HTTP, not TLS (a local registry: add --plain-http)" or ""
    errors.raise(code, string.format("registry %s: %s: %s%s", self.host, step, msg, hint))
  end
  return res
end

local function url_of(self, path)
  if path:match("^https?://") then return path end
  if path:sub(1, 1) == "/" then return self.base .. path end
  return self.base .. "/v2/" .. self.repo .. "/" .. path
end

-- request(step, method, path, {headers=, body=, ok={status...},
-- max_size=}) -> response; authenticates on a 401 challenge, raises on a
-- status not in ok
function Client:request(step, method, path, o)
  o = o or {}
  local url = url_of(self, path)
  local function send()
    local h = {}
    for k, v in pairs(o.headers or {}) do h[k] = v end
    if self.authorization then h.Authorization = self.authorization end
    return self:exchange(step, method, url, h, o.body, o.max_size)
  end
  local res = send()
  if res.status == 401 and not o.no_auth then
    local chs = auth.challenges(res.headers["www-authenticate"])
    local done = false
    for _, ch in ipairs(chs) do
      if ch.scheme == "bearer" and not done then
        local scopes = { self.scope }
        if ch.params.scope and ch.params.scope ~= self.scope then table.insert(scopes, ch.params.scope) end
        local tok = auth.token(ch, self:creds(), scopes, self.host, function(m, u, hh, bb)
          return self:exchange(step .. " (token)", m, u, hh, bb, 1024 * 1024)
        end, self._cfg_path)
        self.authorization = "Bearer " .. tok
        done = true
      end
    end
    for _, ch in ipairs(chs) do
      if ch.scheme == "basic" and not done then
        local c = self:creds()
        if c and c.username then
          self.authorization = auth.basic(c)
          done = true
        end
      end
    end
    if done then res = send() end
  end
  for _, s in ipairs(o.ok or { 200 }) do
    if res.status == s then return res end
  end
  self:fail(step, res)
end

-- the absolute URL of a Location header
local function location(self, res, step)
  local loc = res.headers.location
  if type(loc) ~= "string" or loc == "" then
    errors.raise("failure", string.format("registry %s: %s: HTTP %d without a Location header", self.host, step, res.status))
  end
  if loc:match("^https?://") then return loc end
  if loc:sub(1, 1) ~= "/" then loc = "/" .. loc end
  return self.base .. loc
end

local function with_query(url, q)
  return url .. (url:find("?", 1, true) and "&" or "?") .. q
end

-- has_blob(digest) -> boolean
function Client:has_blob(digest)
  local r = self:request("check blob " .. digest, "HEAD", "blobs/" .. digest, { ok = { 200, 404 } })
  return r.status == 200
end

-- push_blob(data [, digest]) -> digest, "exists"|"uploaded". Above
-- opts.chunk (M.CHUNK) bytes the upload is chunked (PATCH with
-- Content-Range, then PUT with the digest); otherwise one PUT.
function Client:push_blob(data, digest)
  digest = digest or digest_of(data)
  if self:has_blob(digest) then return digest, "exists" end
  local step = "upload blob " .. digest
  local r = self:request(step, "POST", "blobs/uploads/", { ok = { 202 } })
  local loc = location(self, r, step)
  local chunk = self.opts.chunk or M.CHUNK
  local octet = { ["Content-Type"] = "application/octet-stream" }
  if #data > chunk then
    local off = 0
    while off < #data do
      local piece = data:sub(off + 1, off + chunk)
      r = self:request(step, "PATCH", loc, { ok = { 202 }, body = piece, headers = {
        ["Content-Type"] = "application/octet-stream",
        ["Content-Range"] = string.format("%d-%d", off, off + #piece - 1) } })
      loc = location(self, r, step)
      off = off + #piece
    end
    r = self:request(step, "PUT", with_query(loc, "digest=" .. digest), { ok = { 201 }, body = "", headers = octet })
  else
    r = self:request(step, "PUT", with_query(loc, "digest=" .. digest), { ok = { 201 }, body = data, headers = octet })
  end
  local got = r.headers["docker-content-digest"]
  if got and got ~= digest then
    errors.raise("failure", string.format("registry %s: %s: the registry stored digest %s", self.host, step, got))
  end
  return digest, "uploaded"
end

local function checkfailed(fmt, ...) errors.raise("checkfailed", string.format(fmt, ...)) end

-- get_blob(desc) -> data, checked against desc.digest and desc.size
-- (exit 9 when they differ: the content was changed)
function Client:get_blob(desc, max)
  local size = math.tointeger(desc.size)
  if not size or size < 0 then
    errors.raise("invalid", string.format("registry %s: descriptor of %s has no usable size", self.host, tostring(desc.digest)))
  end
  if max and size > max then
    errors.raise("invalid", string.format("registry %s: blob %s is %d bytes, over the limit of %d", self.host,
      desc.digest, size, max))
  end
  local r = self:request("get blob " .. desc.digest, "GET", "blobs/" .. desc.digest, { max_size = size + 1 })
  local got = digest_of(r.body)
  if got ~= desc.digest or #r.body ~= size then
    checkfailed("registry %s: blob %s of %s has digest %s and %d bytes, expected %d bytes: its content was changed",
      self.host, desc.digest, self.repo, got, #r.body, size)
  end
  return r.body
end

-- put_manifest(bytes, media_type, reference) -> digest (the registry's
-- Docker-Content-Digest, checked against the bytes sent), headers
function Client:put_manifest(bytes, mt, reference)
  local digest = digest_of(bytes)
  local step = "put manifest " .. reference
  local r = self:request(step, "PUT", "manifests/" .. reference, { ok = { 201 }, body = bytes,
    headers = { ["Content-Type"] = mt } })
  local got = r.headers["docker-content-digest"]
  if got and got ~= digest then
    errors.raise("failure", string.format("registry %s: %s: the registry reports digest %s for a manifest whose" ..
      " digest is %s", self.host, step, got, digest))
  end
  return digest, r.headers
end

-- get_manifest(reference [, optional]) -> bytes, media type, digest (nil
-- when optional and absent). A digest reference must match the bytes; a
-- tag's bytes must match the registry's Docker-Content-Digest.
function Client:get_manifest(reference, optional)
  local step = "get manifest " .. reference
  local r = self:request(step, "GET", "manifests/" .. reference, { ok = optional and { 200, 404 } or { 200 },
    max_size = M.MAX_MANIFEST, headers = { Accept = M.ACCEPT } })
  if r.status == 404 then return nil end
  local digest = digest_of(r.body)
  local want = reference:match("^sha256:") and reference or r.headers["docker-content-digest"]
  if want and want ~= digest then
    checkfailed("registry %s: manifest %s of %s has digest %s, expected %s", self.host, reference, self.repo, digest, want)
  end
  local mt = (r.content_type or ""):match("^%s*([^;%s]*)")
  return r.body, mt, digest
end

local function decode(bytes, what)
  local ok, d = pcall(require("cjson").decode, bytes)
  if not ok or type(d) ~= "table" then errors.raise("invalid", what .. " is not a JSON object") end
  return d
end
M.decode = decode

-- referrers(digest) -> list of descriptors of manifests whose subject is
-- digest: the referrers API and the sha256-<hex> tag, merged by digest
function Client:referrers(digest)
  local out, seen = {}, {}
  local function add(index, where)
    local d = decode(index, where)
    for _, m in ipairs(type(d.manifests) == "table" and d.manifests or {}) do
      if type(m) == "table" and type(m.digest) == "string" and not seen[m.digest] then
        seen[m.digest] = true
        out[#out + 1] = m
      end
    end
  end
  local r = self:request("list referrers of " .. digest, "GET", "referrers/" .. digest,
    { ok = { 200, 404, 400, 405 }, max_size = M.MAX_MANIFEST, headers = { Accept = M.INDEX } })
  if r.status == 200 and (r.content_type or ""):find(M.INDEX, 1, true) then
    add(r.body, "registry " .. self.host .. ": referrers of " .. digest)
  end
  local tag = digest:gsub(":", "-")
  local idx = self:get_manifest(tag, true)
  if idx then add(idx, "registry " .. self.host .. ": referrers tag " .. tag) end
  return out
end

-- attach(bytes, media_type, desc) pushes a manifest that has a subject
-- (by digest) and, when the registry does not answer with OCI-Subject
-- (no referrers API), adds desc to the sha256-<hex> index of the subject
function Client:attach(bytes, mt, desc, subject)
  local digest, h = self:put_manifest(bytes, mt, digest_of(bytes))
  if h["oci-subject"] then return digest end
  local doc = require("eidos.doc")
  local tag = subject:gsub(":", "-")
  local cur = self:get_manifest(tag, true)
  local list = doc.list({})
  if cur then
    for _, m in ipairs(decode(cur, "referrers tag " .. tag).manifests or {}) do
      if type(m) == "table" then
        if m.digest == digest then return digest end
        list[#list + 1] = require("eidos.oci.artifact").copy_descriptor(m)
      end
    end
  end
  list[#list + 1] = desc
  local index = require("eidos.oci.artifact").index(list)
  self:put_manifest(index, M.INDEX, tag)
  return digest
end

return M
