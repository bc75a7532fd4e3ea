-- eidos.apiversion: the API groups of the documents eidos reads and writes.
-- Our own output says eidos.nvidia.com/v1alpha1. On input we accept every
-- version of our group and of the upstream tool's two groups (aicr.nvidia.com
-- today, cns.nvidia.com before it), e.g. aicr.nvidia.com/v1alpha1 and the
-- ValidatorCatalog's aicr.nvidia.com/v1. `--api-group GROUP` rewrites the
-- group of a document we write, for tools that assert upstream's apiVersion.
local errors = require("eidos.errors")

local M = {}

M.GROUP = "eidos.nvidia.com"
M.VERSION = "v1alpha1"
M.GROUPS = { "eidos.nvidia.com", "aicr.nvidia.com", "cns.nvidia.com" }

local known = {}
for _, g in ipairs(M.GROUPS) do known[g] = true end

-- the --api-group flag (eidos recipe, ...)
M.flag = { name = "api-group", arg = "GROUP", choices = M.GROUPS,
  help = "API group written in apiVersion (default eidos.nvidia.com; aicr.nvidia.com for tools that assert upstream's)" }

-- accepts(v) -> true when v is GROUP/VERSION of a known group, VERSION a
-- Kubernetes-style version (v1, v1alpha1, v2beta3)
function M.accepts(v)
  if type(v) ~= "string" then return false end
  local g, ver = v:match("^([%w%.%-]+)/(v%d+[%w]*)$")
  return g ~= nil and known[g] == true and (ver:match("^v%d+$") or ver:match("^v%d+alpha%d+$")
    or ver:match("^v%d+beta%d+$")) ~= nil
end

-- accepted() -> text for messages
function M.accepted()
  local out = {}
  for i, g in ipairs(M.GROUPS) do out[i] = g .. "/*" end
  return table.concat(out, ", ")
end

-- problem(v) -> nil when v is acceptable (nil too: upstream readers do not
-- check the apiVersion), else a message naming v and what is accepted
function M.problem(v)
  if v == nil or v == require("eidos.doc").null or M.accepts(v) then return nil end
  return string.format("apiVersion %s is not supported (accepted: %s, e.g. %s/%s)",
    require("eidos.errors").show(v), M.accepted(), M.GROUP, M.VERSION)
end

-- check(v, where) -> v; raises "invalid" with problem(v), prefixed by where
function M.check(v, where)
  local p = M.problem(v)
  if p then errors.raise("invalid", where .. ": " .. p) end
  return v
end

-- rewrite(d, group) -> d with the group of its apiVersion set to group
-- (nil or our own group: unchanged)
function M.rewrite(d, group)
  if group == nil or group == M.GROUP or type(d) ~= "table" or type(d.apiVersion) ~= "string" then return d end
  if not known[group] then
    errors.raise("invalid", string.format("--api-group %q is not known (accepted: %s)", tostring(group),
      table.concat(M.GROUPS, ", ")))
  end
  d.apiVersion = d.apiVersion:gsub("^[^/]+/", group .. "/", 1)
  return d
end

return M
