-- eidos.bundle.flux: the Flux deployer. Files (all Flux objects live in
-- the flux-system namespace):
--   kustomization.yaml          kustomize list of everything below but the
--                               manifests (which Flux Kustomizations apply)
--   <c>/source.yaml             HelmRepository, or OCIRepository for oci://
--   <c>/helmrelease.yaml        HelmRelease; dependsOn = the component's
--                               dependencies that have a HelmRelease, so
--                               Flux installs in deployment order
--   <c>/manifests/<f>           the component's manifests, rendered
--   <c>/manifests.yaml          a Flux Kustomization applying them from Git
--   git-repository.yaml         GitRepository of the bundle (with --repo;
--                               otherwise the flux-system one is used)
--   README.md
local render = require("eidos.bundle.render")
local doc = require("eidos.doc")
local strx = require("eidos.text")

local M = {}

M.namespace = "flux-system"

local function join(...)
  local parts = {}
  for _, p in ipairs({ ... }) do if p ~= "" then parts[#parts + 1] = p end end
  return table.concat(parts, "/")
end

function M.files(model)
  local files = {}
  local repo = model.Repo
  repo.SourceName = repo.Set and (model.Chart.Name .. "-bundle") or "flux-system"
  repo.SourceNamespace = M.namespace
  model.Namespace = M.namespace
  local resources = doc.list({})
  if repo.Set then
    render.add(files, "flux/git-repository.yaml.tpl", "git-repository.yaml", model)
    resources[#resources + 1] = "git-repository.yaml"
  end
  for _, c in ipairs(model.Components) do
    -- dependsOn: HelmReleases only (a Kustomization cannot be waited on)
    local deps = doc.list({})
    for _, d in ipairs(c.DependsOn) do
      if model.byname[d].HasChart then deps[#deps + 1] = d end
    end
    c.ReleaseDependsOn = deps
    c.GitPath = "./" .. join(repo.Path, c.Name, "manifests")
    c.OCIURL = c.IsOCI and (strx.rstrip(c.Repository, "/") .. "/" .. c.Chart) or ""
    local data = setmetatable({ Component = c }, { __index = model })
    if c.HasChart then
      render.add(files, "flux/source.yaml.tpl", c.Name .. "/source.yaml", data)
      render.add(files, "flux/helmrelease.yaml.tpl", c.Name .. "/helmrelease.yaml", data)
      resources[#resources + 1] = c.Name .. "/source.yaml"
      resources[#resources + 1] = c.Name .. "/helmrelease.yaml"
    end
    if c.HasManifests then
      for _, m in ipairs(c.Manifests) do
        m.Path = c.Name .. "/manifests/" .. m.Name
        files[#files + 1] = { path = m.Path, data = m.Text }
      end
      render.add(files, "flux/manifests.yaml.tpl", c.Name .. "/manifests.yaml", data)
      resources[#resources + 1] = c.Name .. "/manifests.yaml"
    end
  end
  model.Resources = resources
  render.add(files, "flux/kustomization.yaml.tpl", "kustomization.yaml", model)
  render.add(files, "flux/README.md.tpl", "README.md", model)
  return files, {}
end

return M
