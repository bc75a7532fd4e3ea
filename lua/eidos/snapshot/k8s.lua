-- eidos.snapshot.k8s: the K8s measurement of a snapshot (the hook
-- eidos.snapshot.collect calls), taken through eidos.k8s.client:
--   server  GET /version: version (gitVersion), platform, goVersion
--   image   every pod's containers, initContainers and ephemeralContainers,
--           listed in pages of 500: registry and digest dropped, name -> tag
--           (no tag: latest); a name seen with several tags keeps the
--           highest version, so the result does not depend on list order
--   policy  the GPU Operator's ClusterPolicies (nvidia.com/v1 only, never
--           another group's kind of the same name), spec flattened to dot
--           keys with string values; arrays as compact canonical JSON (keys
--           sorted, so the text does not depend on the decoder's table
--           order); several policies merged in name order
--   node    GET nodes/<NODE_NAME|KUBERNETES_NODE_NAME|HOSTNAME>: provider,
--           runtime, kubelet, kernel and OS image, the GFD label
--           nvidia.com/gpu.product (gpu-product)
-- opts.k8s_subtypes (a set of names), when given, limits the subtypes taken
-- (--watch takes server and node only). A subtype whose call fails is kept
-- with empty data and `error` in its
-- context (so --fail-fast stops on it); with no cluster configuration at all the measurement is
-- unavailable (nil, reason, "unavailable").
local cjson = require("cjson")
local client = require("eidos.k8s.client")
local errors = require("eidos.errors")

local M = {}

M.PAGE = 500

local PROVIDERS = { aws = "eks", gce = "gke", azure = "aks", oci = "oke" }

-- "registry/org/name:tag@sha256:..." -> name, tag
function M.parse_image(ref)
  local s = ref:match("([^/]*)$")
  s = s:match("^([^@]*)") or s
  local name, tag = s:match("^(.*):([^:]*)$")
  if not name or name == "" then return s, "latest" end
  return name, tag ~= "" and tag or "latest"
end

local function newer(a, b)
  if a == b then return false end
  -- tags that are no versions ("latest", digests) compare as text
  local r = require("eidos.core.version").compare(a, b)
  if r then return r > 0 end
  return a > b
end

function M.images(pods, out)
  out = out or {}
  for _, p in ipairs(pods) do
    local spec = type(p.spec) == "table" and p.spec or {}
    for _, field in ipairs({ "containers", "initContainers", "ephemeralContainers" }) do
      for _, c in ipairs(type(spec[field]) == "table" and spec[field] or {}) do
        if type(c.image) == "string" and c.image ~= "" then
          local name, tag = M.parse_image(c.image)
          if out[name] == nil or newer(tag, out[name]) then out[name] = tag end
        end
      end
    end
  end
  return out
end

local function flatten(prefix, v, out)
  if v == cjson.null or v == nil then return end
  local t = type(v)
  if t == "table" then
    if next(v) == nil then return end
    if #v > 0 then
      out[prefix] = (errors.check(require("eidos.core.emit").json(v, { indent = 0 })):gsub("\n$", ""))
      return
    end
    for k, x in pairs(v) do flatten(prefix == "" and k or (prefix .. "." .. k), x, out) end
  elseif t == "boolean" then out[prefix] = v and "true" or "false"
  elseif t == "number" then
    out[prefix] = (math.type(v) == "integer" or v ~= math.floor(v)) and tostring(v) or string.format("%d", v)
  else out[prefix] = tostring(v) end
end
M.flatten = flatten

function M.node_name(opts)
  for _, n in ipairs({ opts and opts.node, os.getenv("NODE_NAME"), os.getenv("KUBERNETES_NODE_NAME"), os.getenv("HOSTNAME") }) do
    if type(n) == "string" and n ~= "" then return n end
  end
end

function M.node_data(node, name)
  local d = { ["source-node"] = name }
  local spec = type(node.spec) == "table" and node.spec or {}
  local info = type(node.status) == "table" and type(node.status.nodeInfo) == "table" and node.status.nodeInfo or {}
  if type(spec.providerID) == "string" and spec.providerID ~= "" then
    local scheme = spec.providerID:match("^([^:]+)://")
    if scheme then
      scheme = scheme:lower()
      d.provider = PROVIDERS[scheme] or scheme
    end
    d["provider-id"] = spec.providerID
  end
  -- the GPU model as GPU Feature Discovery labels it: known without a
  -- loaded driver (recipe --snapshot reads it when nvidia-smi gives nothing)
  local labels = type(node.metadata) == "table" and type(node.metadata.labels) == "table" and node.metadata.labels or {}
  if type(labels["nvidia.com/gpu.product"]) == "string" and labels["nvidia.com/gpu.product"] ~= "" then
    d["gpu-product"] = labels["nvidia.com/gpu.product"]
  end
  local rt = info.containerRuntimeVersion
  if type(rt) == "string" and rt ~= "" then
    d["container-runtime-id"] = rt
    local n, v = rt:match("^(.-)://(.*)$")
    d["container-runtime-name"] = n or rt
    if v then d["container-runtime-version"] = v end
  end
  for key, f in pairs({ ["kubelet-version"] = "kubeletVersion", ["kernel-version"] = "kernelVersion",
                        ["operating-system"] = "operatingSystem", ["os-image"] = "osImage" }) do
    if type(info[f]) == "string" and info[f] ~= "" then d[key] = info[f] end
  end
  return d
end

-- collect({timeout_ms=, node=, opts=}) -> measurement | nil, reason, code
function M.collect(args)
  args = args or {}
  local timeout = (args.timeout_ms or 60000) / 1000
  local ok, c = pcall(client.shared, { timeout = math.max(1, timeout / 3) })
  if not ok then
    local e = c
    return nil, errors.is(e) and e.msg or tostring(e), errors.is(e) and (e.code == "notfound" and "unavailable" or e.code) or "internal"
  end
  local subtypes = {}
  local want = type(args.opts) == "table" and args.opts.k8s_subtypes or nil
  local function sub(name, fn)
    if want and not want[name] then return end
    local d, why = fn()
    local st = { subtype = name, data = d or {} }
    -- a failed call (no data) is an error, which --fail-fast acts on; a
    -- note beside data (no ClusterPolicy resource) is only a reason
    if why then st.context = d == nil and { error = why } or { reason = why } end
    subtypes[#subtypes + 1] = st
  end
  sub("server", function()
    local v, err = c:get("/version")
    if not v then return nil, err.msg end
    return { version = v.gitVersion, platform = v.platform, goVersion = v.goVersion }
  end)
  sub("image", function()
    -- a page at a time: 10k pods never sit in memory at once
    local out = {}
    local _, err = c:list("/api/v1/pods", { limit = M.PAGE, keep = false, restartable = true, on_page = function(l)
      M.images(type(l.items) == "table" and l.items or {}, out)
    end })
    if err then return nil, err.msg end
    return out
  end)
  sub("policy", function()
    local items, err = c:list("/apis/nvidia.com/v1/clusterpolicies", { limit = M.PAGE })
    if not items then
      if err.status == 404 then return {}, "no nvidia.com/v1 ClusterPolicy resource (GPU Operator not installed)" end
      return nil, err.msg
    end
    table.sort(items, function(a, b) return tostring(a.metadata.name) < tostring(b.metadata.name) end)
    local out = {}
    for _, it in ipairs(items) do flatten("", it.spec, out) end
    return out
  end)
  sub("node", function()
    local name = M.node_name(args)
    if not name then return nil, "no node name (set NODE_NAME)" end
    local n, err = c:get(client.path("v1", "nodes", nil, name))
    if not n then return nil, err.msg end
    return M.node_data(n, name)
  end)
  return { type = "K8s", subtypes = subtypes }
end

return M
