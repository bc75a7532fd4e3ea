-- eidos.validate.cluster: the read side of the cluster as the validation
-- checks see it. One reader per run wraps the Kubernetes client
-- (eidos.k8s.client) and adds what every check needs:
--   * lists are paged by the client and cached per (resource, namespace,
--     selector), so two checks reading the Deployments of a namespace cost
--     one request; list items get the kind and apiVersion the API leaves
--     out of them;
--   * a resource type the API does not serve (404 on a list or a get) is
--     nil, not an error: "Argo CD is not installed" is an answer;
--   * any other failure raises a structured error (403: "unauthorized"
--     naming the missing RBAC rule; unreachable: "unavailable"), which the
--     phase runner turns into a check in status error; once the API is
--     unreachable, later reads fail at once, each naming its own read and
--     the earlier one that found the API down (a check's error always
--     names a read that check made);
--   * every object read is handed to the evidence collector, when there is
--     one (--evidence-dir).
--
--   local r = cluster.new({ evidence = ev })
--   local ds = r:list("apps/v1", "daemonsets", "gpu-operator")
--   local crd = r:get("apiextensions.k8s.io/v1", "customresourcedefinitions", nil, "clusterpolicies.nvidia.com")
--   r:served("resource.k8s.io/v1")  -> true | false
local errors = require("eidos.errors")
local client = require("eidos.k8s.client")
local describe = require("eidos.core.k8s").describe

local M = {}

local R = {}
R.__index = R

-- new(opts) -> reader; opts: {client= (default: the process's shared
-- client, made on first use), evidence= (eidos.validate.evidence)}
function M.new(opts)
  opts = opts or {}
  return setmetatable({ c = opts.client, evidence = opts.evidence, cache = {}, requests = 0 }, R)
end

function R:client()
  if not self.c then self.c = client.shared() end
  return self.c
end

-- ref(obj) -> {apiVersion, kind, namespace, name}: what a check cites as evidence
function M.ref(obj)
  local md = type(obj) == "table" and type(obj.metadata) == "table" and obj.metadata or {}
  local ns = md.namespace
  if ns == "" then ns = nil end
  return { apiVersion = obj.apiVersion, kind = obj.kind, namespace = ns, name = md.name }
end

local function raise(self, err, what)
  -- no HTTP status: the connection itself failed; do not try again
  if err.code == "unavailable" and (err.status == nil or err.status == 0) then
    self.down = { code = err.code, what = what }
  end
  errors.raise(errors.exit[err.code] and err.code or "failure", err.msg or (what .. " failed"),
    { status = err.status })
end

-- check_down(what): once the API was found unreachable, a read fails at
-- once; its message names this read (what) and the one that found it down
local function check_down(self, what)
  if self.down then
    errors.raise(self.down.code, string.format("%s: not sent: the API server is unreachable (%s failed before)",
      what, self.down.what))
  end
end

local function record(self, obj)
  if self.evidence then self.evidence:object(obj) end
end

-- list(gv, resource, ns, opts) -> items, or nil when the API does not
-- serve the resource. opts: {label_selector=, field_selector=, nocache=}
function R:list(gv, resource, ns, opts)
  opts = opts or {}
  local key = table.concat({ gv, resource, ns or "", opts.label_selector or "", opts.field_selector or "" }, "\0")
  local hit = self.cache[key]
  if hit ~= nil then return hit or nil end
  local path = client.path(gv, resource, ns)
  local what = (describe("GET", path))
  check_down(self, what)
  local c = self:client()
  local kind, api
  self.requests = self.requests + 1
  local items, err = c:list(path, {
    label_selector = opts.label_selector, field_selector = opts.field_selector,
    on_page = function(l)
      kind = kind or (type(l.kind) == "string" and l.kind:gsub("List$", "")) or nil
      api = api or l.apiVersion
    end })
  if not items then
    if err.status == 404 then
      if not opts.nocache then self.cache[key] = false end
      return nil
    end
    raise(self, err, what)
  end
  for _, it in ipairs(items) do
    if type(it) == "table" then
      if it.kind == nil then it.kind = kind end
      if it.apiVersion == nil then it.apiVersion = api or gv end
      if type(it.metadata) ~= "table" then it.metadata = {} end
      record(self, it)
    end
  end
  if not opts.nocache then self.cache[key] = items end
  return items
end

-- get(gv, resource, ns, name) -> obj, or nil when it does not exist (or
-- the API does not serve the resource)
function R:get(gv, resource, ns, name)
  local key = table.concat({ "get", gv, resource, ns or "", name }, "\0")
  local hit = self.cache[key]
  if hit ~= nil then return hit or nil end
  local path = client.path(gv, resource, ns, name)
  local what = (describe("GET", path))
  check_down(self, what)
  self.requests = self.requests + 1
  local obj, err = self:client():get(path)
  if not obj then
    if err.status == 404 then
      self.cache[key] = false
      return nil
    end
    raise(self, err, what)
  end
  if type(obj.metadata) ~= "table" then obj.metadata = {} end
  record(self, obj)
  self.cache[key] = obj
  return obj
end

-- served(gv) -> true when the API serves that group version (discovery)
function R:served(gv)
  local key = "served\0" .. gv
  local hit = self.cache[key]
  if hit ~= nil then return hit end
  local path = gv == "v1" and "/api/v1" or ("/apis/" .. gv)
  check_down(self, "discovery of " .. gv)
  self.requests = self.requests + 1
  local obj, err = self:client():get(path)
  if not obj then
    if err.status == 404 then
      self.cache[key] = false
      return false
    end
    raise(self, err, "discovery of " .. gv)
  end
  self.cache[key] = true
  return true
end

-- version() -> the /version document
function R:version()
  local hit = self.cache["\0version"]
  if hit then return hit end
  check_down(self, "GET /version")
  self.requests = self.requests + 1
  local v, err = self:client():get("/version")
  if not v then raise(self, err, "GET /version") end
  v.kind, v.apiVersion = v.kind or "Version", v.apiVersion or "version"
  v.metadata = { name = "version" }
  record(self, v)
  self.cache["\0version"] = v
  return v
end

-- request_log(obj) for logs collected by a check (evidence)
function R:log(ns, pod, text)
  if self.evidence then self.evidence:log(ns, pod, text) end
end

return M
