-- eidos.bundle.helm-components: the per-component Helm deployer, the
-- layout of the upstream tool (aicr): one folder per component, installed
-- by deploy.sh as its own Helm release (or, without a chart, as its
-- manifests). Files:
--   <c>/values.yaml          the component's final values (helm -f)
--   <c>/README.md            how to install, upgrade and remove it by hand
--   <c>/manifests/<f>        its manifests, rendered at bundle time and
--                            applied with kubectl around the chart install
--   README.md deploy.sh undeploy.sh
-- The text of each file comes from templates/helm-components/*.tpl; the
-- scripts share templates/shell/ with the helm deployer. Every word the
-- scripts take from the recipe is checked here, so none can inject shell.
local errors = require("eidos.errors")
local render = require("eidos.bundle.render")
local strx = require("eidos.text")

local M = {}

-- what may stand unquoted in a command line: chart repository URLs,
-- versions (DNS-label names and namespaces are checked by eidos.bundle)
local URL = "^[%w][%w.:/@%%~+_=-]*$"
local VERSION = "^[%w][%w.+_-]*$"

local function check(c)
  local bad
  if c.HasChart and not (c.Repository:match(URL) and c.Repository:find("://", 1, true)) then
    bad = string.format("chart repository %q is not a URL of letters, digits and . : / @ %% ~ + _ = -", c.Repository)
  elseif c.HasChart and not c.Version:match(VERSION) then
    bad = string.format("version %q is not letters, digits and . + _ -", c.Version)
  end
  if bad then
    errors.raise("invalid", string.format("component %s: %s (deploy.sh would run it as a command word)", c.Name, bad))
  end
end

function M.files(model)
  local files = {}
  for _, c in ipairs(model.Components) do
    check(c)
    -- the chart reference of `helm upgrade --install`: oci://host/path/chart,
    -- or the chart name with --repo
    c.ChartRef = c.IsOCI and (strx.rstrip(c.Repository, "/") .. "/" .. c.Chart) or c.Chart
    local data = setmetatable({ Component = c }, { __index = model })
    render.add(files, "helm-components/values.yaml.tpl", c.Name .. "/values.yaml", data)
    render.add(files, "helm-components/component-README.md.tpl", c.Name .. "/README.md", data)
    for _, m in ipairs(c.Manifests) do
      m.Path = c.Name .. "/manifests/" .. m.Name
      files[#files + 1] = { path = m.Path, data = m.Text }
    end
  end
  render.add(files, "helm-components/README.md.tpl", "README.md", model)
  render.add(files, "helm-components/deploy.sh.tpl", "deploy.sh", model, "0755")
  render.add(files, "helm-components/undeploy.sh.tpl", "undeploy.sh", model, "0755")
  return files, {}
end

return M
