-- fuzz/adapters/template.lua: the template engine (lua/eidos/template/:
-- lex, parse, gen, runtime and funcs): lexer, parser, the Lua code
-- generator and the runtime with its instruction and size budgets. Input: template text,
-- optionally followed by a NUL byte and a YAML document used as the data
-- (else a fixed data tree shaped like a component manifest's: Values,
-- Release, Chart). Includes resolve below templates/ of the resource tree
-- (the template is named templates/helm/fuzz.tpl) and two virtual files.
-- render() must return a string or raise a structured error that is not
-- "internal" (the compiler producing invalid Lua is "internal").
local dir = ...
local common = dofile(dir .. "/lib/common.lua")
local template = require("eidos.template")
local yaml = require("eidos.core.yaml")
local res = require("eidos.core.res")
local doc = require("eidos.doc")

-- smaller budgets than a real render, so a loop ends in milliseconds
template.max_steps = 200000
template.max_bytes = 256 * 1024

local VIRTUAL = {
  ["templates/helm/virtual.tpl"] = '{{ define "v" }}v={{ . | toYaml }}{{ end }}{{ template "v" .Values }}',
  ["templates/helm/loop.tpl"] = '{{ include "templates/helm/loop.tpl" . }}',
}
local cache, ncache = {}, 0
local function loader(path)
  if VIRTUAL[path] then return VIRTUAL[path], "virtual" end
  local hit = cache[path]
  if hit == nil then
    local text, origin = res.read(path)
    hit = text and { text, origin } or { nil, origin }
    if ncache < 256 then cache[path] = hit; ncache = ncache + 1 end
  end
  return hit[1], hit[2]
end

local function data()
  local list = doc.list
  return {
    Values = {
      ["gpu-operator"] = {
        driver = { enabled = true, version = "580.105.08", repository = "nvcr.io/nvidia" },
        toolkit = { env = list({ { name = "CONTAINERD_CONFIG", value = "/etc/containerd/config.toml" } }) },
        nodeSelector = { ["nodeGroup"] = "gpu" },
        tolerations = list({}),
        replicas = 3, ratio = 0.5, empty = doc.null,
      },
    },
    Release = { Name = "gpu-operator", Namespace = "gpu-operator", Service = "Helm" },
    Chart = { Name = "gpu-operator", Version = "25.10.0" },
    Recipe = { Criteria = list({ { Name = "service", Value = "eks" }, { Name = "accelerator", Value = "h100" } }) },
  }
end

return function(s)
  local parts = common.split(s, "\0", 2)
  local d
  if parts[2] then d = yaml.load(parts[2]) end
  if d == nil then d = data() end
  local ok, out = pcall(template.render, parts[1], "templates/helm/fuzz.tpl", d, { loader = loader })
  if ok then
    if type(out) ~= "string" then error("fuzz: render returned a " .. type(out)) end
    if #out > template.max_bytes then error("fuzz: render returned more than max_bytes") end
    return
  end
  error(out, 0) -- structured errors other than "internal" pass; the driver judges the rest
end
