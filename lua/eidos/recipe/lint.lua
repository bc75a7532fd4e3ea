-- eidos.recipe.lint: checks a recipe library and lists every problem (it
-- never stops at the first). The checks are M.CHECKS, a table run in its
-- order; each has a name, a one-line description (about), the `check`
-- values of the problems it reports, and run(ctx), which calls
-- ctx.add(file, check, message) for each problem. A new check is one more
-- entry in the table. What the checks share is read once into ctx (the
-- overlay index, the registry, each overlay file decoded), so a file that
-- does not load is reported once and skipped by the checks that need it.
-- The report lists the problems sorted by file, check and message.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local crit = require("eidos.recipe.criteria")
local merge = require("eidos.recipe.merge")
local scan = require("eidos.recipe.scan")
local library = require("eidos.recipe.library")
local matrix = require("eidos.recipe.lint_matrix")

local M = {}

M.KIND = "RecipeLintReport"
local REPORT_ORDER = { "kind", "apiVersion", "library", "summary", "problems" }
local SUMMARY_ORDER = { "overlays", "components", "valuesFiles", "manifests", "constraintPaths", "combinations",
                        "combinationsBuilt", "combinationsSpecialised", "distinctRecipes", "problems" }
local PROBLEM_ORDER = { "file", "check", "message" }

local REF_FIELDS = {}
for _, f in ipairs(merge.REF_ORDER) do REF_FIELDS[f] = true end
local SPEC_FIELDS = { base = true, criteria = true, constraints = true, componentRefs = true, validation = true,
                      mixins = false }
local CRIT_FIELDS = { nodes = true }
for _, f in ipairs(crit.FIELDS) do CRIT_FIELDS[f] = true end

local function msg_of(e) return errors.is(e) and e.msg or tostring(e) end

-- measurement catalog: exact paths and prefix patterns
local catalog
local function measurements()
  if catalog then return catalog end
  local res = require("eidos.core.res")
  local text, origin = res.read("data/measurements.yaml")
  if not text then errors.raise("internal", "data/measurements.yaml is missing") end
  local d = doc.decode(text, origin)
  catalog = { exact = {}, prefixes = {}, types = {} }
  for _, t in ipairs(d.types or {}) do catalog.types[#catalog.types + 1] = t end
  for _, p in ipairs(d.paths or {}) do
    if p:sub(-1) == "*" then catalog.prefixes[#catalog.prefixes + 1] = p:sub(1, -2)
    else catalog.exact[p] = true end
  end
  return catalog
end

function M.known_path(path)
  local c = measurements()
  if c.exact[path] then return true end
  for _, p in ipairs(c.prefixes) do
    if #path > #p and path:sub(1, #p) == p then return true end
  end
  return false
end

-- check a constraint expression with eidos.constraint's parser
local function expr_problem(value)
  local okp, r, msg = pcall(require("eidos.constraint").parse, value)
  if not okp then return msg_of(r) end
  if r == nil then return tostring(msg) end
  return nil
end

local function isstr(v) return type(v) == "string" end

local function ismap(v) return type(v) == "table" and not doc.islist(v) end

-- each decoded overlay (ctx.overlays entries whose file parsed as a map)
local function decoded(ctx)
  local i = 0
  return function()
    repeat
      i = i + 1
      local o = ctx.overlays[i]
      if o and o.doc then return o end
    until not o
  end
end

------------------------------------------------------------------------
-- the checks

local function check_registry(ctx)
  local reg, add = ctx.reg, ctx.add
  if ctx.reg_error then add("registry.yaml", "registry", ctx.reg_error) end
  local keys = {}
  for _, n in ipairs(reg.list) do
    local e = reg.byname[n]
    local w = reg.where[n]
    if not isstr(e.displayName) or e.displayName == "" then
      add(w, "registry", string.format("component %q has no displayName", n))
    end
    if type(e.helm) == "table" and type(e.kustomize) == "table" and next(e.helm) and next(e.kustomize) then
      add(w, "registry", string.format("component %q has both helm and kustomize defaults (give one)", n))
    end
    for _, k in ipairs(type(e.valueOverrideKeys) == "table" and e.valueOverrideKeys or {}) do
      if keys[k] then
        add(w, "registry", string.format("valueOverrideKey %q of %q is also a key of %q", k, n, keys[k]))
      elseif reg.byname[k] and k ~= n then
        add(w, "registry", string.format("valueOverrideKey %q of %q is the name of another component", k, n))
      else
        keys[k] = n
      end
    end
  end
  for _, p in ipairs(reg.problems or {}) do add(p.file, "registry", p.msg) end
end

local function check_values(ctx)
  local lib, counts = ctx.lib, ctx.counts
  for _, rel in ipairs(lib:files("components/")) do
    if rel:match("/values[^/]*%.yaml$") then
      counts.valuesFiles = counts.valuesFiles + 1
      local ok, d = pcall(lib.yaml, lib, rel)
      if not ok then ctx.add(lib:where(rel), "values", msg_of(d))
      elseif d ~= doc.null and not ismap(d) then
        ctx.add(lib:where(rel), "values", "a values file must hold a map of Helm values")
      end
    elseif rel:match("/manifests/") then
      counts.manifests = counts.manifests + 1
    end
  end
end

local function check_index(ctx)
  if ctx.idx_error then ctx.add("", "overlays", ctx.idx_error) end
  for _, p in ipairs(ctx.idx and ctx.idx.problems or {}) do ctx.add(p.file, "overlays", p.msg) end
end

local function check_parse(ctx)
  for _, o in ipairs(ctx.overlays) do
    if o.parse_error then ctx.add(o.where, "parse", o.parse_error) end
  end
end

local function check_header(ctx)
  local add = ctx.add
  for o in decoded(ctx) do
    local d, w = o.doc, o.where
    if d.kind == nil then
      add(w, "overlays", "kind is missing (accepted: RecipeMetadata, recipeMetadata)")
    end
    if d.apiVersion == nil then
      add(w, "overlays", "apiVersion is missing (accepted: " .. table.concat(crit.API_VERSIONS, ", ") .. ")")
    else
      local okv = false
      for _, v in ipairs(crit.API_VERSIONS) do if v == d.apiVersion then okv = true end end
      if not okv then
        add(w, "overlays", string.format("apiVersion %s is not supported (accepted: %s)", errors.show(d.apiVersion),
          table.concat(crit.API_VERSIONS, ", ")))
      end
    end
    local quick = scan.header(o.text)
    if quick then
      local full = library.header_of(d)
      local same = quick.name == full.name and quick.base == full.base and quick.kind == full.kind
        and quick.apiVersion == full.apiVersion and (quick.has_criteria or false) == (full.has_criteria or false)
      if same then
        local a, b = quick.criteria or {}, full.criteria or {}
        for k, v in pairs(a) do if b[k] ~= v then same = false end end
        for k, v in pairs(b) do if a[k] ~= v then same = false end end
        if (quick.criteria == nil) ~= (full.criteria == nil) then same = false end
      end
      if not same then
        add(w, "overlays", "internal: the quick header reader (eidos.recipe.scan) reads this file differently " ..
          "from the YAML parser; please report it (the overlay is matched by the quick reading)")
      end
    end
  end
end

local function check_spec(ctx)
  local lib, add = ctx.lib, ctx.add
  for o in decoded(ctx) do
    local spec, w = o.doc.spec, o.where
    if ismap(spec) then
      for _, k in ipairs(doc.keys(spec)) do
        if not SPEC_FIELDS[k] then
          add(w, "overlays", string.format("unknown field spec.%s (accepted: base, criteria, constraints, " ..
            "componentRefs, validation)", k))
        end
      end
    elseif spec ~= nil and spec ~= doc.null then
      add(w, "overlays", "spec must be a map")
    end
    -- the same validation a build does
    local oks, err = pcall(lib.spec, lib, o.entry)
    if not oks then add(w, "overlays", msg_of(err)) end
  end
end

local function check_criteria(ctx)
  local add = ctx.add
  local is_base_of, tuples = {}, {}
  for _, e in ipairs(ctx.idx and ctx.idx.list or {}) do if e.base then is_base_of[e.base] = true end end
  for o in decoded(ctx) do
    local w, c = o.where, o.spec.criteria
    if o.entry.name == "base" then
      -- the root overlay applies to every query
    elseif ismap(c) then
      for _, k in ipairs(doc.keys(c)) do
        if not CRIT_FIELDS[k] then
          add(w, "criteria", string.format("unknown criteria field %q (accepted: %s, nodes)", k,
            table.concat(crit.FIELDS, ", ")))
        elseif k == "nodes" then
          if c[k] ~= doc.null and not math.tointeger(c[k]) then
            add(w, "criteria", string.format("criteria.nodes %s is not an integer", errors.show(c[k])))
          end
        elseif c[k] ~= doc.null then
          local v = c[k]
          local n, m = crit.normalize(k, v)
          if not n then add(w, "criteria", m)
          elseif n ~= v and v ~= "" and v ~= "any" then
            add(w, "criteria", string.format("criteria.%s %s: write the canonical value %q", k, errors.show(v), n))
          end
        end
      end
      local key = crit.string(crit.overlay(c))
      if tuples[key] then
        add(w, "criteria", string.format("same criteria (%s) as %s: both would always apply together", key, tuples[key]))
      else
        tuples[key] = o.entry.name
      end
    elseif c ~= nil and c ~= doc.null then
      add(w, "criteria", "spec.criteria must be a map")
    elseif not is_base_of[o.entry.name] then
      add(w, "criteria", "no spec.criteria and no overlay names it as spec.base: it can never apply")
    end
  end
end

local function check_inheritance(ctx)
  local lib = ctx.lib
  for o in decoded(ctx) do
    local name = o.entry.name
    local okc, err
    if name ~= "base" then okc, err = pcall(lib.chain, lib, name) end
    if okc == false then
      -- reported once, at the overlay it concerns (not at each descendant)
      local m = msg_of(err)
      if m:find(string.format("overlay %q", name), 1, true) or m:find(name .. " (", 1, true) then
        ctx.add(o.where, "inheritance", m)
      end
    end
  end
end

local function check_constraints(ctx)
  local add, counts, seen_paths = ctx.add, ctx.counts, {}
  for o in decoded(ctx) do
    local w = o.where
    local names = {}
    for i, c in ipairs(type(o.spec.constraints) == "table" and o.spec.constraints or {}) do
      if type(c) == "table" and isstr(c.name) then
        if names[c.name] then add(w, "constraints", string.format("constraint %s is listed twice", c.name)) end
        names[c.name] = true
        if not seen_paths[c.name] then
          seen_paths[c.name] = true
          counts.constraintPaths = counts.constraintPaths + 1
        end
        local ty = c.name:match("^([^.]+)%.[^.]+%..+$")
        if not ty then
          add(w, "constraints", string.format("constraint name %q is not a path Type.subtype.key", c.name))
        elseif not M.known_path(c.name) then
          add(w, "constraints", string.format("constraint %s names no measurement the collectors produce " ..
            "(catalog: data/measurements.yaml)", c.name))
        end
        if not isstr(c.value) or c.value:match("^%s*$") then
          add(w, "constraints", string.format("constraint %s: value must be a non-empty string, not %s (quote it)",
            c.name, errors.show(c.value)))
        else
          local p = expr_problem(c.value)
          if p then add(w, "constraints", string.format("constraint %s: %s", c.name, p)) end
        end
      elseif type(c) == "table" then
        add(w, "constraints", string.format("spec.constraints[%d] has no name", i - 1))
      end
    end
  end
end

-- one componentRef r named n of an overlay file w
local function check_ref(ctx, w, r, n)
  local lib, add = ctx.lib, ctx.add
  if ctx.reg_ok and not ctx.reg.byname[n] then
    add(w, "components", string.format("component %q is not in the registry (registry.yaml)", n))
  end
  for _, k in ipairs(doc.keys(r)) do
    if not REF_FIELDS[k] then
      add(w, "components", string.format("component %q: unknown field %q (accepted: %s)", n, k,
        table.concat(merge.REF_ORDER, ", ")))
    end
  end
  for _, f in ipairs(merge.SCALARS) do
    local v = r[f]
    if v ~= nil and v ~= doc.null and not isstr(v) then
      add(w, "components", string.format("component %q: %s must be a string, not %s (quote it)", n, f, errors.show(v)))
    end
  end
  if isstr(r.type) and r.type ~= "" and r.type ~= "Helm" and r.type ~= "Kustomize" then
    add(w, "components", string.format("component %q: type %q (accepted: Helm, Kustomize)", n, r.type))
  end
  if isstr(r.valuesFile) and r.valuesFile ~= "" and not lib:has(r.valuesFile) then
    add(w, "files", string.format("component %q: valuesFile %s does not exist", n, r.valuesFile))
  end
  if r.manifestFiles ~= nil and r.manifestFiles ~= doc.null then
    if type(r.manifestFiles) ~= "table" then
      add(w, "files", string.format("component %q: manifestFiles must be a list", n))
    else
      for _, m in ipairs(r.manifestFiles) do
        if not isstr(m) or not lib:has(m) then
          add(w, "files", string.format("component %q: manifest %s does not exist", n, isstr(m) and m or errors.show(m)))
        end
      end
    end
  end
  for _, f in ipairs(merge.LISTS) do
    local v = r[f]
    if v ~= nil and v ~= doc.null and (type(v) ~= "table" or (next(v) and not doc.islist(v))) then
      add(w, "components", string.format("component %q: %s must be a list", n, f))
    end
  end
  if r.overrides ~= nil and r.overrides ~= doc.null and not ismap(r.overrides) then
    add(w, "components", string.format("component %q: overrides must be a map of Helm values", n))
  end
end

local function check_components(ctx)
  for o in decoded(ctx) do
    local seen = {}
    for _, r in ipairs(type(o.spec.componentRefs) == "table" and o.spec.componentRefs or {}) do
      if type(r) == "table" and isstr(r.name) then
        if seen[r.name] then ctx.add(o.where, "components", string.format("component %q is listed twice", r.name)) end
        seen[r.name] = true
        check_ref(ctx, o.where, r, r.name)
      end
    end
  end
end

-- The checks, run in this order. name: how specs and readers refer to it;
-- about: one line; reports: the `check` values of the problems it adds;
-- run(ctx). ctx holds lib, idx (the overlay index, nil if it failed), reg
-- (the registry; reg_ok false if it failed), overlays (each {entry, where,
-- text, doc, spec}; doc nil when the file does not parse as a map), counts
-- (the report's summary) and add(file, check, message).
-- validation: every check an overlay's validation phases name is in the
-- library's validators/catalog.yaml (a ValidatorCatalog, upstream's format)
-- under that phase, and phases are known ones. A library without a
-- catalog is not checked (upstream libraries may keep theirs elsewhere).
local function check_validation(ctx)
  local lib, add = ctx.lib, ctx.add
  if not (ctx.idx and lib:has("validators/catalog.yaml")) then return end
  local where = lib:where("validators/catalog.yaml")
  local ok, cat = pcall(lib.yaml, lib, "validators/catalog.yaml")
  if not ok then return add(where, "validation", msg_of(cat)) end
  local phase_of = {}
  for i, v in ipairs(ismap(cat) and type(cat.validators) == "table" and cat.validators or {}) do
    if not ismap(v) or not isstr(v.name) or not isstr(v.phase) or not isstr(v.image) then
      add(where, "validation", string.format("validators[%d] needs a name, a phase and an image", i - 1))
    elseif phase_of[v.name] then
      add(where, "validation", string.format("validator %q is listed twice", v.name))
    else
      phase_of[v.name] = v.phase
    end
  end
  local known = {}
  for _, ph in ipairs(merge.PHASES) do known[ph] = true end
  for _, e in ipairs(ctx.idx.list) do
    local oks, spec = pcall(lib.spec, lib, e)
    local val = oks and spec.validation or {}
    for _, ph in ipairs(doc.keys(val)) do
      if not known[ph] then
        add(e.where, "validation", string.format("unknown validation phase %q (accepted: %s)", ph,
          table.concat(merge.PHASES, ", ")))
      elseif ismap(val[ph]) then
        for _, c in ipairs(type(val[ph].checks) == "table" and val[ph].checks or {}) do
          if not phase_of[c] then
            add(e.where, "validation", string.format("%s check %q is not in %s", ph, tostring(c), where))
          elseif phase_of[c] ~= ph then
            add(e.where, "validation", string.format("check %q is a %s check (%s), listed under %s", c,
              phase_of[c], where, ph))
          end
        end
      end
    end
  end
end

M.CHECKS = {
  { name = "registry", reports = { "registry" }, run = check_registry,
    about = "registry.yaml reads; every entry has a displayName, helm xor kustomize, unique valueOverrideKeys" },
  { name = "values", reports = { "values" }, run = check_values,
    about = "every values file under components/ parses and holds a map" },
  { name = "index", reports = { "overlays" }, run = check_index,
    about = "the overlay files index: names unique, headers readable" },
  { name = "parse", reports = { "parse" }, run = check_parse,
    about = "every overlay file parses as a YAML map" },
  { name = "header", reports = { "overlays" }, run = check_header,
    about = "kind and apiVersion are given and supported; the quick header reader agrees with the YAML parser" },
  { name = "spec", reports = { "overlays" }, run = check_spec,
    about = "spec is a map of known fields that passes the validation a build does" },
  { name = "criteria", reports = { "criteria" }, run = check_criteria,
    about = "criteria fields and values are known and canonical, unique per overlay, or the overlay is a base" },
  { name = "inheritance", reports = { "inheritance" }, run = check_inheritance,
    about = "every spec.base exists and there is no inheritance cycle" },
  { name = "constraints", reports = { "constraints" }, run = check_constraints,
    about = "constraint names are measurement paths of data/measurements.yaml, values parse as expressions" },
  { name = "components", reports = { "components", "files" }, run = check_components,
    about = "componentRefs are registered, known fields of the right types, and their files exist" },
  { name = "validation", reports = { "validation" }, run = check_validation,
    about = "validation phases are known and name checks of validators/catalog.yaml in that phase" },
  { name = "matrix", reports = { "matrix" }, run = matrix.check_matrix,
    about = "every combination of criteria values (each also unset) builds a recipe whose values hydrate" },
  { name = "own-criteria", reports = { "matrix" }, run = matrix.check_own_criteria,
    about = "every overlay applies when queried with its own criteria (after matrix)" },
}

-- context(lib) -> ctx: the library read once for every check
local function context(lib)
  local ctx = { lib = lib, problems = {}, overlays = {} }
  function ctx.add(file, check, message)
    ctx.problems[#ctx.problems + 1] = { file = file or "", check = check, message = message }
  end
  local okidx, idx = pcall(lib.index, lib)
  if okidx then ctx.idx = idx else ctx.idx_error = msg_of(idx) end
  local okreg, reg = pcall(lib.registry, lib)
  ctx.reg_ok = okreg
  if okreg then ctx.reg = reg
  else
    ctx.reg_error = msg_of(reg)
    ctx.reg = { list = {}, byname = {}, where = {} }
  end
  ctx.counts = { overlays = 0, components = #ctx.reg.list, valuesFiles = 0, manifests = 0, constraintPaths = 0 }
  if ctx.idx then
    local all = { idx.base }
    for _, e in ipairs(idx.list) do all[#all + 1] = e end
    ctx.counts.overlays = #all
    for _, e in ipairs(all) do
      local o = { entry = e, where = e.where, text = lib:read(e.rel) }
      local okd, d = pcall(doc.decode, o.text, e.where)
      if not okd then o.parse_error = msg_of(d)
      elseif not ismap(d) then o.parse_error = "expected a RecipeMetadata document (a map)"
      else
        o.doc = d
        o.spec = ismap(d.spec) and d.spec or {}
      end
      ctx.overlays[#ctx.overlays + 1] = o
    end
  end
  return ctx
end

-- run(lib [, opts]) -> report document {kind, apiVersion, library, summary,
-- problems}. opts.checks: the checks to run (default M.CHECKS).
function M.run(lib, opts)
  opts = opts or {}
  -- a broken --data file is one of the problems listed, not an error
  local lenient = lib.report_problems
  lib.report_problems = true
  local ctx = context(lib)
  for _, c in ipairs(opts.checks or M.CHECKS) do c.run(ctx) end
  local problems = ctx.problems
  table.sort(problems, function(a, b)
    if a.file ~= b.file then return a.file < b.file end
    if a.check ~= b.check then return a.check < b.check end
    return a.message < b.message
  end)
  local plist = doc.list({})
  for i, p in ipairs(problems) do
    local o = { check = p.check, message = p.message }
    if p.file ~= "" then o.file = p.file end
    plist[i] = doc.ordered(o, PROBLEM_ORDER)
  end
  local counts = ctx.counts
  counts.problems = #plist
  lib.report_problems = lenient
  local libdesc = { mode = lib.mode }
  if lib.data then libdesc.data = lib.data end
  return doc.ordered({
    kind = M.KIND, apiVersion = "eidos.nvidia.com/v1alpha1",
    library = doc.ordered(libdesc, { "mode", "data" }),
    summary = doc.ordered(counts, SUMMARY_ORDER),
    problems = plist,
  }, REPORT_ORDER)
end

-- table(report) -> text
function M.table(r)
  local b = {}
  for _, p in ipairs(r.problems) do
    b[#b + 1] = string.format("%s%s: %s", p.file and (p.file .. ": ") or "", p.check, p.message)
  end
  local s = r.summary
  if #b > 0 then b[#b + 1] = "" end
  b[#b + 1] = string.format("library: %s%s", r.library.mode, r.library.data and (" " .. r.library.data) or "")
  b[#b + 1] = string.format("overlays: %d, components: %d, values files: %d, manifests: %d, constraint paths: %d",
    s.overlays, s.components, s.valuesFiles, s.manifests, s.constraintPaths)
  b[#b + 1] = string.format("criteria combinations: %d checked, %d built, %d fully specialised, %d distinct recipes",
    s.combinations or 0, s.combinationsBuilt or 0, s.combinationsSpecialised or 0, s.distinctRecipes or 0)
  b[#b + 1] = string.format("problems: %d", s.problems)
  return require("eidos.columns").text(table.concat(b, "\n"))
end

return M
