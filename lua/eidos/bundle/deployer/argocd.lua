-- eidos.bundle.argocd: the Argo CD deployer. Files:
--   app-of-apps.yaml              an Application syncing applications/ from the
--                                 Git repository (--repo, --revision, --path)
--   applications/<c>.yaml         one Application per component: the chart
--                                 with its values inline (helm.valuesObject),
--                                 plus the component's manifests from Git;
--                                 sync-wave = position in deployment order
--   manifests/<c>/<f>             the component's manifests, rendered
--   README.md
-- Without --repo the Git URL is a placeholder that is not a URL
-- (EIDOS-GIT-REPOSITORY-URL-NOT-SET): Argo CD refuses it, the CLI warns and
-- the README says what to fill in.
local render = require("eidos.bundle.render")

local M = {}

-- components whose charts install CRDs too large for client-side apply
-- (the last-applied annotation limit); they get ServerSideApply=true. A
-- registry entry can say so itself with `largeCRDs: true`.
M.large_crds = {
  ["gpu-operator"] = true, ["network-operator"] = true, ["kube-prometheus-stack"] = true,
  ["kai-scheduler"] = true, ["nvidia-dra-driver-gpu"] = true, ["dynamo-crds"] = true,
  ["dynamo-platform"] = true, ["kgateway-crds"] = true, ["kubeflow-trainer"] = true,
  ["nim-operator"] = true, ["skyhook-operator"] = true, ["cert-manager"] = true,
}

local function join(...)
  local parts = {}
  for _, p in ipairs({ ... }) do if p ~= "" then parts[#parts + 1] = p end end
  return table.concat(parts, "/")
end
M.join = join

function M.files(model)
  local files = {}
  local repo = model.Repo
  model.Repo.AppsPath = join(repo.Path, "applications")
  if model.Repo.AppsPath == "" then model.Repo.AppsPath = "." end
  for _, c in ipairs(model.Components) do
    local e = c.entry and c.entry.largeCRDs
    c.ServerSideApply = M.large_crds[c.Name] == true or e == true
    c.GitPath = join(repo.Path, "manifests", c.Name)
    for _, m in ipairs(c.Manifests) do
      m.Path = "manifests/" .. c.Name .. "/" .. m.Name
      files[#files + 1] = { path = m.Path, data = m.Text }
    end
  end
  for _, c in ipairs(model.Components) do
    local data = setmetatable({ Component = c }, { __index = model })
    render.add(files, "argocd/application.yaml.tpl", "applications/" .. c.Name .. ".yaml", data)
  end
  render.add(files, "argocd/app-of-apps.yaml.tpl", "app-of-apps.yaml", model)
  render.add(files, "argocd/README.md.tpl", "README.md", model)
  return files, {}
end

return M
