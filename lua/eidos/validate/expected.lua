-- eidos.validate.expected: what the cluster should run, component by
-- component, for `validate --phase deployment`:
--   * from a recipe: the recipe hydrated as `eidos bundle` would with no
--     override (eidos.bundle.prepare), deployed by the helm deployer;
--   * from a bundle (--bundle DIR, a .tar.gz/.tgz/.tar archive of one, or
--     oci://REGISTRY/REPO:TAG as 'eidos bundle -o oci://' pushed it):
--     the bundle's own recipe.yaml for the component list, namespaces and
--     registry, and the bundle's files for what was deployed: the deployer
--     is told by the layout (Chart.yaml: helm; app-of-apps.yaml: argocd;
--     kustomization.yaml with */helmrelease.yaml: flux; deploy.sh with
--     per-component folders: helm-components), and each component's chart,
--     version and values come from that deployer's files.
-- A component is {name, namespace, chart, version, has_chart, values,
-- expected_resources = {{kind, name, namespace}}, release = {name,
-- namespace} (Helm-based deployers), app = {namespace, name} (argocd),
-- helmrelease = {namespace, name} (flux)}. Expected resources come from
-- the componentRef's expectedResources, else the registry entry's.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local fs = require("eidos.core.fs")

local M = {}

M.DEPLOYERS = { "helm", "helm-components", "argocd", "flux" }

local function invalid(fmt, ...) errors.raise("invalid", string.format(fmt, ...)) end

local function list_of(v)
  if type(v) == "table" and (v[1] ~= nil or next(v) == nil) then return v end
  return {}
end

local function resources(ref, entry)
  local l = list_of(ref.expectedResources)
  if #l == 0 then l = list_of(entry and entry.expectedResources) end
  local out = {}
  for _, r in ipairs(l) do
    if type(r) == "table" and type(r.kind) == "string" and type(r.name) == "string" then
      out[#out + 1] = { kind = r.kind, name = r.name, namespace = type(r.namespace) == "string" and r.namespace or nil }
    end
  end
  return out
end

-- from_recipe(recipe, opts) -> model. opts: {library=, origin=}
function M.from_recipe(recipe, opts)
  opts = opts or {}
  local model = require("eidos.bundle").prepare(recipe, { library = opts.library, origin = opts.origin })
  local out = { deployer = opts.deployer or "helm", source = opts.source or "recipe", components = {} }
  for _, c in ipairs(model.Components) do
    out.components[#out.components + 1] = {
      name = c.Name, namespace = c.Namespace, chart = c.HasChart and c.Chart or nil,
      version = c.Version, repository = c.Repository, has_chart = c.HasChart,
      values = c.Values, expected_resources = resources(c.ref, c.entry),
      release = c.HasChart and { name = c.Name, namespace = c.Namespace } or nil,
      manifests = c.HasManifests,
    }
  end
  return out
end

-- ---------------------------------------------------------------------------
-- bundles

-- read_bundle(loc) -> map path -> text (paths relative to the bundle's top);
-- loc a directory, an archive or oci://REGISTRY/REPO:TAG
local function read_bundle(loc)
  if require("eidos.oci.ref").is(loc) then
    -- a bundle pushed with 'eidos bundle -o oci://', every digest checked
    local files = {}
    for _, f in ipairs((require("eidos.oci").pull_bundle(loc))) do files[f.path] = f.data end
    return files
  end
  local kind = fs.exists(loc)
  if kind == nil then errors.raise("notfound", string.format("--bundle %q not found (give a bundle directory or archive)", loc)) end
  local files = {}
  if kind == "dir" then
    local max = require("eidos.docio").max_input or 64 * 1024 * 1024
    for _, rel in ipairs(errors.check(fs.walk(loc))) do
      if rel:match("%.ya?ml$") or rel == "deploy.sh" then
        files[rel] = errors.within("bundle file " .. rel, fs.read(loc .. "/" .. rel, max))
      end
    end
    return files
  end
  local fmt = require("eidos.bundle.output").archive_format(loc)
  if fmt == "zip" then
    invalid("--bundle %q is a zip archive; extract it (unzip) and give the directory, or bundle as .tar.gz", loc)
  end
  local data = errors.within("--bundle " .. loc, fs.read(loc, 1024 * 1024 * 1024))
  local list = errors.within("--bundle " .. loc, require("eidos.core.archive").read(data,
    { max_size = math.max(16 * #data, 64 * 1024 * 1024), max_entries = 100000 }))
  -- one top directory, as eidos bundle writes archives
  local top
  for _, e in ipairs(list) do
    local t = e.path:match("^([^/]+)/") or (e.dir and e.path) or ""
    if top == nil then top = t elseif top ~= t then top = false end
  end
  for _, e in ipairs(list) do
    if not e.dir then
      local rel = top and e.path:sub(#top + 2) or e.path
      files[rel] = e.data
    end
  end
  return files
end

local function yaml(files, rel, where)
  local text = files[rel]
  if not text then return nil end
  local ok, v = pcall(doc.decode, text, where .. "/" .. rel)
  if not ok then error(v, 0) end
  return v
end

-- deployer_of(files) -> name
function M.deployer_of(files, where)
  if files["Chart.yaml"] then return "helm" end
  if files["app-of-apps.yaml"] then return "argocd" end
  if files["kustomization.yaml"] then
    for p in pairs(files) do if p:match("^[^/]+/helmrelease%.yaml$") then return "flux" end end
  end
  if files["deploy.sh"] then
    for p in pairs(files) do if p:match("^[^/]+/values%.yaml$") then return "helm-components" end end
  end
  invalid("cannot tell the deployer of bundle %s: expected Chart.yaml (helm), app-of-apps.yaml (argocd), " ..
    "kustomization.yaml with <component>/helmrelease.yaml (flux), or deploy.sh with <component>/values.yaml " ..
    "(helm-components)", where)
end

local function strip_enabled(v)
  if type(v) ~= "table" then return {} end
  local out = {}
  for k, x in pairs(v) do if k ~= "enabled" then out[k] = x end end
  return out
end

local apply = {}

function apply.helm(c, files, where, ctx)
  ctx.values = ctx.values or yaml(files, "values.yaml", where) or {}
  ctx.chart = ctx.chart or yaml(files, "Chart.yaml", where) or {}
  local v = ctx.values[c.name]
  if type(v) ~= "table" or v.enabled == false then return false end
  c.values = strip_enabled(v)
  for _, d in ipairs(list_of(ctx.chart.dependencies)) do
    if type(d) == "table" and (d.alias or d.name) == c.name then
      c.chart, c.version = d.name, tostring(d.version)
    end
  end
  c.umbrella = { name = ctx.chart.name, version = ctx.chart.version }
  return true
end

apply["helm-components"] = function(c, files, where)
  local v = yaml(files, c.name .. "/values.yaml", where)
  if v == nil and not files[c.name .. "/README.md"] and not c.manifests then return false end
  c.values = type(v) == "table" and v or {}
  return true
end

function apply.argocd(c, files, where)
  local app = yaml(files, "applications/" .. c.name .. ".yaml", where)
  if type(app) ~= "table" then return false end
  local spec = type(app.spec) == "table" and app.spec or {}
  local sources = list_of(spec.sources)
  if #sources == 0 and type(spec.source) == "table" then sources = { spec.source } end
  c.values = {}
  for _, s in ipairs(sources) do
    if type(s) == "table" and s.chart then
      c.chart, c.version = s.chart, tostring(s.targetRevision)
      local h = type(s.helm) == "table" and s.helm or {}
      if type(h.valuesObject) == "table" then c.values = h.valuesObject
      elseif type(h.values) == "string" and h.values ~= "" then c.values = doc.decode(h.values, where .. " " .. c.name) end
    end
  end
  if type(spec.destination) == "table" and spec.destination.namespace then c.namespace = spec.destination.namespace end
  local md = type(app.metadata) == "table" and app.metadata or {}
  c.app = { namespace = md.namespace or "argocd", name = md.name or c.name }
  c.release = nil
  return true
end

function apply.flux(c, files, where)
  local hr = yaml(files, c.name .. "/helmrelease.yaml", where)
  if type(hr) ~= "table" then return c.manifests and true or false end
  local spec = type(hr.spec) == "table" and hr.spec or {}
  local cs = type(spec.chart) == "table" and type(spec.chart.spec) == "table" and spec.chart.spec or nil
  if cs then c.chart, c.version = cs.chart or c.chart, tostring(cs.version or c.version)
  else
    local src = yaml(files, c.name .. "/source.yaml", where)
    local tag = type(src) == "table" and type(src.spec) == "table" and type(src.spec.ref) == "table" and src.spec.ref.tag
    if tag then c.version = tostring(tag) end
  end
  c.values = type(spec.values) == "table" and spec.values or {}
  local md = type(hr.metadata) == "table" and hr.metadata or {}
  local target = spec.targetNamespace or md.namespace
  if spec.targetNamespace then c.namespace = spec.targetNamespace end
  c.release = { name = spec.releaseName or (spec.targetNamespace and (spec.targetNamespace .. "-" .. md.name) or md.name),
                namespace = spec.storageNamespace or target }
  c.helmrelease = { namespace = md.namespace or "flux-system", name = md.name or c.name }
  return true
end

-- from_bundle(loc, opts) -> model, recipe document (the bundle's recipe.yaml)
function M.from_bundle(loc, opts)
  opts = opts or {}
  local files = read_bundle(loc)
  local where = "bundle " .. loc
  local recipe = yaml(files, "recipe.yaml", where)
  if type(recipe) ~= "table" then
    invalid("%s holds no recipe.yaml, so it is not an eidos bundle (make one with eidos bundle -r RECIPE -o DIR)", where)
  end
  local deployer = M.deployer_of(files, where)
  local base = M.from_recipe(recipe, { library = opts.library, origin = where .. "/recipe.yaml",
                                       deployer = deployer, source = where })
  local ctx, kept = {}, {}
  for _, c in ipairs(base.components) do
    if apply[deployer](c, files, where, ctx) then kept[#kept + 1] = c end
  end
  base.components = kept
  return base, recipe
end

return M
