-- eidos.bundle: turns a RecipeResult into the files of a deployment bundle.
-- prepare() builds the component model (enable filter, hydrated values,
-- overrides in command-line order, scheduling, rendered manifests, the
-- deployment order); build() hands it to a deployer (eidos.bundle.deployer.
-- helm, .argocd, .flux, .helm-components, or any module dropped in there:
-- each returns a list of files) and adds recipe.yaml;
-- eidos.bundle.output then writes, checksums and signs. Nothing here
-- touches the file system except through the library reader.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local merge = require("eidos.core.merge")
local emit = require("eidos.core.emit")
local strx = require("eidos.text")
local hooks = require("eidos.hooks")

local M = {}

local NULL = emit.null

local function invalid(fmt, ...) errors.raise("invalid", string.format(fmt, ...)) end

-- DNS-1123 label: component names and namespaces become release names,
-- object names and path components
local function dns_label(s)
  return type(s) == "string" and #s <= 63 and s:match("^[a-z0-9][-a-z0-9]*$") ~= nil and s:sub(-1) ~= "-"
end
M.dns_label = dns_label

local function str(v)
  if v == nil or v == NULL then return nil end
  if type(v) == "number" then
    if math.type(v) == "integer" then return string.format("%d", v) end
    return tostring(v)
  end
  if type(v) ~= "string" then return nil end
  return v
end

-- canonical recipe document (keys in schema order, content unchanged)
function M.canonical_recipe(r)
  return require("eidos.recipe.schema").order(merge.copy(r))
end

-- chart name from the criteria: eidos-<service>-<accelerator>-<os>-<intent>-<platform>
function M.chart_name(criteria)
  local parts = { "eidos" }
  criteria = type(criteria) == "table" and criteria or {}
  for _, k in ipairs({ "service", "accelerator", "os", "intent", "platform" }) do
    local v = str(criteria[k])
    if v and v ~= "" and v ~= "any" then
      v = v:lower():gsub("[^a-z0-9]+", "-"):gsub("^-+", ""):gsub("-+$", "")
      if v ~= "" then parts[#parts + 1] = v end
    end
  end
  if #parts == 1 then parts[2] = "stack" end
  local name = table.concat(parts, "-")
  if #name > 53 then name = name:sub(1, 53):gsub("-+$", "") end
  return name
end

-- a SemVer 2 chart version from the tool version
function M.chart_version(v)
  v = tostring(v or ""):gsub("^v", "")
  if v:match("^%d+%.%d+%.%d+$") or v:match("^%d+%.%d+%.%d+[-+][%w.+-]+$") then return v end
  local tag = v:gsub("[^%w.-]", "-"):gsub("^[.-]+", "")
  if tag == "" then tag = "dev" end
  return "0.0.0-" .. tag
end

local function basename(p) return (p:match("([^/]+)$")) end

-- a manifest output name: a plain file name, no leading dot or underscore
local function manifest_name(path, comp)
  local b = basename(path or "")
  if not b or not b:match("^[%w][%w._-]*$") then
    invalid("component %s: manifest %q has an unusable file name (accepted: letters, digits, '.', '_', '-';" ..
      " not starting with '.' or '_')", comp, tostring(path))
  end
  if not b:match("%.ya?ml$") then
    invalid("component %s: manifest %q is not a .yaml or .yml file", comp, path)
  end
  return b
end

-- is the rendered manifest empty (only blank lines, comments and ---)?
local function blank_manifest(text)
  for line in text:gmatch("[^\n]+") do
    local l = strx.trim(line)
    if l ~= "" and l:sub(1, 1) ~= "#" and l ~= "---" and l ~= "..." then return false end
  end
  return true
end

-- validate the recipe document; returns the list of refs. Raises one
-- "invalid" error naming every problem found.
local function check_recipe(r, origin)
  if type(r) ~= "table" or merge.islist(r) then
    invalid("recipe %s is not a RecipeResult document (expected a map)", origin)
  end
  local bad = errors.problems()
  local function add(path, fmt, ...) bad:add(path, string.format(fmt, ...)) end
  for _, p in ipairs(require("eidos.recipe.reader").result_problems(r, "recipe " .. tostring(origin))) do
    bad:add(p.path, p.msg)
  end
  local refs = r.componentRefs
  if refs ~= nil and (type(refs) ~= "table" or (next(refs) ~= nil and not merge.islist(refs))) then
    add("componentRefs", "recipe %s: componentRefs is %s, not a list of components", origin, errors.show(refs))
  elseif type(refs) ~= "table" or #refs == 0 then
    add("componentRefs", "recipe %s has no componentRefs; there is nothing to bundle", origin)
  end
  local seen = {}
  for i, ref in ipairs(type(refs) == "table" and refs or {}) do
    local at = string.format("componentRefs[%d]", i - 1)
    local n = type(ref) == "table" and ref.name
    local t = type(ref) == "table" and (str(ref.type) or "Helm")
    if type(ref) ~= "table" then add(at, "recipe %s: componentRefs[%d] is not a map", origin, i - 1)
    elseif not dns_label(n) then
      add(at, "recipe %s: component name %s is not usable (accepted: a DNS label: lower-case letters, digits" ..
        " and '-', at most 63 characters, no path separators)", origin, errors.show(n))
    elseif seen[n] then add(at, "recipe %s: component %q is listed twice", origin, n)
    elseif t ~= "Helm" and t ~= "helm" then
      add(at, "recipe %s: component %s has type %q (accepted: Helm)", origin, n, t)
    end
    if n and dns_label(n) then seen[n] = true end
  end
  bad:raise("invalid")
  return refs
end

-- deployment order: names in deploymentOrder by index, the rest after them
-- by name
local function order_refs(refs, order)
  local pos = {}
  for i, n in ipairs(type(order) == "table" and order or {}) do
    if type(n) == "string" and not pos[n] then pos[n] = i end
  end
  local list = {}
  for i, ref in ipairs(refs) do list[#list + 1] = { ref = ref, i = i } end
  table.sort(list, function(a, b)
    local pa, pb = pos[a.ref.name], pos[b.ref.name]
    if pa and pb then return pa < pb end
    if pa then return true end
    if pb then return false end
    return a.ref.name < b.ref.name
  end)
  local out = {}
  for i, x in ipairs(list) do out[i] = x.ref end
  return out
end

-- the ordered override operations -> resolved to component names
local function resolve_ops(ops, refs, lib)
  local key = {}
  local names = {}
  for _, ref in ipairs(refs) do
    key[ref.name] = ref.name
    names[#names + 1] = ref.name
  end
  table.sort(names)
  for _, ref in ipairs(refs) do
    local e = lib.registry(ref.name)
    for _, k in ipairs(type(e) == "table" and type(e.valueOverrideKeys) == "table" and e.valueOverrideKeys or {}) do
      if type(k) == "string" and not key[k] then key[k] = ref.name end
    end
  end
  for _, op in ipairs(ops) do
    local c = key[op.component]
    if not c then
      invalid("--%s %q: unknown component %q (components of this recipe: %s)", op.flag, op.text, op.component,
        table.concat(names, ", "))
    end
    op.name = c
  end
end

-- enabled state per component after the recipe and the ordered ops
local function enabled_state(refs, ops)
  local en = {}
  for _, ref in ipairs(refs) do
    local o = nil
    if type(ref.overrides) == "table" then o = ref.overrides.enabled end
    en[ref.name] = o ~= false
  end
  for _, op in ipairs(ops) do
    local v, has
    if op.merge then
      if op.merge.enabled ~= nil then v, has = op.merge.enabled, true end
    elseif #op.path == 1 and op.path[1] == "enabled" then
      v, has = op.value, true
    end
    if has then
      if type(v) ~= "boolean" then
        invalid("--%s %q: %s.enabled must be true or false", op.flag, op.text, op.component)
      end
      en[op.name] = v
      op.toggle = #(op.path or {}) == 1
    end
  end
  return en
end

-- prepare(recipe, opts) -> model
-- opts: library (eidos.bundle.library object), ops (ordered override
-- operations), scheduling (overrides.parse_scheduling), origin (for
-- messages), version (tool version)
function M.prepare(recipe, opts)
  local origin = opts.origin or "input"
  local refs = check_recipe(recipe, origin)
  local lib = opts.library or require("eidos.bundle.library").open()
  local ops = opts.ops or {}
  resolve_ops(ops, refs, lib)
  local en = enabled_state(refs, ops)
  for _, op in ipairs(ops) do
    if not en[op.name] and not op.toggle then
      local only_toggle = op.merge and next(op.merge) == "enabled" and next(op.merge, "enabled") == nil
      if not only_toggle then
        invalid("--%s %q cannot take effect: component %s is disabled", op.flag, op.text, op.name)
      end
    end
  end
  local ordered = order_refs(refs, recipe.deploymentOrder)
  local kept = {}
  for _, ref in ipairs(ordered) do if en[ref.name] then kept[#kept + 1] = ref end end
  if #kept == 0 then invalid("recipe %s has no enabled components left to bundle", origin) end
  local sched = opts.scheduling or { system = {}, accelerated = {} }

  local comps, byname = {}, {}
  for i, ref in ipairs(kept) do
    local e = lib.registry(ref.name)
    e = type(e) == "table" and e or {}
    local helm = type(e.helm) == "table" and e.helm or {}
    local values = lib.values(ref)
    if type(values) ~= "table" or merge.islist(values) then values = {} end
    values.enabled = nil
    for _, op in ipairs(ops) do
      if op.name == ref.name and not op.toggle then
        values = require("eidos.bundle.overrides").apply(values, op)
        values.enabled = nil
      end
    end
    if opts.scheduling and require("eidos.bundle.overrides").has_scheduling(sched) then
      require("eidos.bundle.overrides").apply_scheduling(values, sched, e)
    end
    local repo = str(ref.source)
    if repo == nil then repo = str(helm.defaultRepository) or "" end
    local chart = str(ref.chart)
    if not chart or chart == "" then
      local dc = str(helm.defaultChart)
      chart = (dc and dc ~= "") and basename(dc) or ref.name
    end
    local version = str(ref.version) or str(helm.defaultVersion) or ""
    local ns = str(ref.namespace) or str(helm.defaultNamespace) or ref.name
    if not dns_label(ns) then
      invalid("recipe %s: component %s has namespace %q, which is not a DNS label", origin, ref.name, ns)
    end
    if repo ~= "" and version == "" then
      invalid("recipe %s: component %s has a chart repository but no version", origin, ref.name)
    end
    if repo ~= "" and not chart:match("^[%w][%w._-]*$") then
      invalid("recipe %s: component %s has an unusable chart name %q", origin, ref.name, chart)
    end
    local c = {
      Name = ref.name,
      DisplayName = str(e.displayName) or ref.name,
      Namespace = ns,
      Chart = chart,
      Repository = repo,
      Version = version,
      IsOCI = repo:match("^oci://") ~= nil,
      HasChart = repo ~= "",
      Wave = i - 1,
      Position = i,
      Values = values,
      Manifests = doc.list({}),
      HasManifests = false,
      DependsOn = doc.list({}),
      Wait = false,
      ref = ref,
      entry = e,
    }
    c.OCIHost = c.IsOCI and repo:gsub("^oci://", "") or ""
    if chart ~= ref.name then c.Alias = ref.name end
    comps[i] = c
    byname[ref.name] = c
  end
  -- dependencies among kept components (in deployment order)
  for _, c in ipairs(comps) do
    local deps = {}
    for _, d in ipairs(type(c.ref.dependencyRefs) == "table" and c.ref.dependencyRefs or {}) do
      if byname[d] then deps[d] = true end
    end
    for _, o in ipairs(comps) do
      if deps[o.Name] and o.Position < c.Position then
        c.DependsOn[#c.DependsOn + 1] = o.Name
        o.Wait = true
      end
    end
  end
  -- manifests: rendered at bundle time
  local all = {}
  for _, c in ipairs(comps) do all[c.Name] = c.Values end
  local template = require("eidos.template")
  for _, c in ipairs(comps) do
    local seen = {}
    for _, p in ipairs(type(c.ref.manifestFiles) == "table" and c.ref.manifestFiles or {}) do
      if type(p) ~= "string" then invalid("component %s: manifestFiles holds a non-string entry", c.Name) end
      local name = manifest_name(p, c.Name)
      if seen[name] then
        invalid("component %s: two manifests named %s (%s and %s)", c.Name, name, seen[name], p)
      end
      seen[name] = p
      local text, _, code = lib.read(p, "template")
      local out = template.render(text, p, {
        Values = all,
        Release = { Name = c.Name, Namespace = c.Namespace, Service = "Helm" },
        -- a component without a version renders as chart version 0.1.0, as
        -- upstream's renderer does (so "<chart>-<version>" stays a label value)
        Chart = { Name = c.Chart, Version = c.Version ~= "" and (c.Version:gsub("^v", "")) or "0.1.0" },
      }, { loader = function(path) return lib.read((path:gsub("^recipes/", "")), "template") end,
           funcs = require("eidos.bundle.render").hook_funcs() }, code)
      if not blank_manifest(out) then
        out = out:gsub("^[ \t]*\n", ""):gsub("^\n+", "")
        if out:sub(-1) ~= "\n" then out = out .. "\n" end
        c.Manifests[#c.Manifests + 1] = { Name = name, Source = p, Text = out }
      end
    end
    table.sort(c.Manifests, function(a, b) return a.Name < b.Name end)
    c.HasManifests = #c.Manifests > 0
    if not c.HasChart and not c.HasManifests then
      invalid("component %s has neither a chart repository nor manifests; nothing to deploy", c.Name)
    end
  end

  local crit = type(recipe.criteria) == "table" and recipe.criteria or {}
  local critlist = doc.list({})
  for _, k in ipairs({ "service", "accelerator", "os", "intent", "platform", "nodes" }) do
    local v = str(crit[k])
    if v and v ~= "" and v ~= "any" and v ~= "0" then critlist[#critlist + 1] = { Name = k, Value = v } end
  end
  local constraints = doc.list({})
  for _, x in ipairs(type(recipe.constraints) == "table" and recipe.constraints or {}) do
    if type(x) == "table" and str(x.name) then
      constraints[#constraints + 1] = { Name = str(x.name), Value = str(x.value) or "" }
    end
  end
  local meta = type(recipe.metadata) == "table" and recipe.metadata or {}
  local version = opts.version or require("eidos.core.build").version
  return {
    Tool = { Name = "eidos", Version = version },
    Chart = { Name = M.chart_name(crit), Version = M.chart_version(version),
              AppVersion = str(meta.version) },
    Recipe = { Version = str(meta.version), Criteria = critlist, Constraints = constraints },
    Components = comps,
    byname = byname,
    recipe = recipe,
    criteria = crit,
    -- the registry's checks of the bundled components (eidos.bundle.checks)
    notes = require("eidos.bundle.checks").run(comps, crit, sched),
  }
end

-- the `bundle(files, recipe) -> files` hook point of --hooks files: files
-- is a map of path to content; paths the hook drops are dropped, new ones
-- are added as 0644 files, existing ones keep their mode
function M.apply_hooks(files, recipe)
  local map, mode = {}, {}
  for _, f in ipairs(files) do
    map[f.path] = f.data
    mode[f.path] = f.mode
  end
  local hooked = hooks.apply("bundle", map, recipe) -- the hook gets copies
  if hooked == map then return files end
  map = hooked
  local out = {}
  for _, p in ipairs(doc.keys(map)) do out[#out + 1] = { path = p, data = map[p], mode = mode[p] } end
  return out
end

-- build(recipe, opts) -> bundle {files = {{path=, data=, mode=}}, model=,
-- notes = {...}}. opts: prepare's, plus deployer and repo {url=,
-- revision=, path=}.
function M.build(recipe, opts)
  local model = M.prepare(recipe, opts)
  local options = require("eidos.bundle.options")
  local deployer = options.deployer(opts.deployer or options.DEFAULT_DEPLOYER)
  model.Deployer = deployer
  model.Repo = opts.repo or {}
  local files, notes = require("eidos.bundle.deployer." .. deployer).files(model)
  notes = notes or {}
  for i, n in ipairs(model.notes) do table.insert(notes, i, n) end
  local text = doc.encode(M.canonical_recipe(recipe), "yaml")
  files[#files + 1] = { path = "recipe.yaml", data = text }
  files = M.apply_hooks(files, recipe)
  return { files = files, model = model, notes = notes, recipe_text = text }
end

return M
