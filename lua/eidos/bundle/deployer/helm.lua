-- eidos.bundle.helm: the Helm umbrella chart deployer. Files:
--   Chart.yaml            apiVersion v2; dependencies in deployment order,
--                         condition <component>.enabled, alias when the chart
--                         name differs from the component name
--   values.yaml           one key per component: enabled: true + its values
--   templates/<c>/<f>     the component's manifests, rendered at bundle time
--                         and wrapped in {{ if <c>.enabled }} inside YAML
--                         comments (so the file is YAML and a Helm template)
--   README.md deploy.sh undeploy.sh
-- The text of each file comes from templates/helm/*.tpl.
local doc = require("eidos.doc")
local merge = require("eidos.core.merge")
local render = require("eidos.bundle.render")

local M = {}

local ENABLED_FIRST = { "enabled" }

-- the manifest as a Helm template: literal "{{" escaped, the whole file
-- guarded by the component's enabled switch
function M.guard(name, text)
  local body = text:gsub("{{", "{{`{{`}}")
  if body:sub(-1) ~= "\n" then body = body .. "\n" end
  return string.format('# {{- if (index .Values "%s").enabled }}\n%s# {{- end }}\n', name, body)
end

function M.files(model)
  local files = {}
  local keys, values = {}, {}
  for _, c in ipairs(model.Components) do
    keys[#keys + 1] = c.Name
    local v = merge.copy(c.Values)
    v.enabled = true
    values[c.Name] = doc.ordered(v, ENABLED_FIRST)
  end
  model.Values = doc.ordered(values, keys)
  local deps = doc.list({})
  for _, c in ipairs(model.Components) do
    if c.HasChart then deps[#deps + 1] = c end
  end
  model.Dependencies = deps
  for _, c in ipairs(model.Components) do
    for _, m in ipairs(c.Manifests) do
      m.Path = "templates/" .. c.Name .. "/" .. m.Name
      files[#files + 1] = { path = m.Path, data = M.guard(c.Name, m.Text) }
    end
  end
  render.add(files, "helm/Chart.yaml.tpl", "Chart.yaml", model)
  render.add(files, "helm/values.yaml.tpl", "values.yaml", model)
  render.add(files, "helm/README.md.tpl", "README.md", model)
  render.add(files, "helm/deploy.sh.tpl", "deploy.sh", model, "0755")
  render.add(files, "helm/undeploy.sh.tpl", "undeploy.sh", model, "0755")
  return files, {}
end

return M
