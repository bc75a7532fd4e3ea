-- eidos.recipe.lint: checks a recipe library and lists every problem (it
-- never stops at the first). Checks:
--   overlays   every file parses; kind/apiVersion/metadata.name; the quick
--              header reader agrees with the YAML parser; criteria keys and
--              values are known and canonical; no two overlays share
--              criteria; every spec.base exists; no inheritance cycle;
--              overlays without criteria are some overlay's base;
--   refs       every component is in the registry; valuesFile and
--              manifestFiles exist (values files are maps); string fields
--              are strings; type is Helm or Kustomize; known fields only;
--   constraints every name is a path of data/measurements.yaml; values are
--              non-empty strings that parse as constraint expressions;
--   registry   names and valueOverrideKeys unique; helm xor kustomize;
--   matrix     every combination of the criteria values in
--              data/criteria.yaml (each field also unset) builds a recipe
--              (dependencies known, no cycle, values hydrate), and every
--              overlay applies when queried with its own criteria.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local crit = require("eidos.recipe.criteria")
local merge = require("eidos.recipe.merge")
local scan = require("eidos.recipe.scan")
local library = require("eidos.recipe.library")

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

-- check a constraint expression with eidos.constraint when it offers a parser
local function expr_problem(value)
  local ok, c = pcall(require, "eidos.constraint")
  if ok and type(c) == "table" and type(c.parse) == "function" then
    local okp, r, msg = pcall(c.parse, value)
    if not okp then return msg_of(r) end
    if r == nil then return tostring(msg) end
  end
  return nil
end

local function isstr(v) return type(v) == "string" end

-- run(lib) -> report document {kind, apiVersion, library, summary, problems}
function M.run(lib, opts)
  opts = opts or {}
  local problems = {}
  local function add(file, check, message)
    problems[#problems + 1] = { file = file or "", check = check, message = message }
  end

  local okidx, idx = pcall(lib.index, lib)
  if not okidx then
    add("", "overlays", msg_of(idx))
    idx = nil
  end
  local okreg, reg = pcall(lib.registry, lib)
  if not okreg then
    add("registry.yaml", "registry", msg_of(reg))
    reg = { list = {}, byname = {}, where = {} }
  end

  -- registry
  do
    local keys = {}
    local where = {}
    for _, n in ipairs(reg.list) do
      local e = reg.byname[n]
      local w = reg.where[n]
      where[n] = w
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

  local counts = { overlays = 0, components = #reg.list, valuesFiles = 0, manifests = 0, constraintPaths = 0 }
  local paths_seen = {}

  -- values files and manifests: parse every YAML under components/
  for _, rel in ipairs(lib:files("components/")) do
    if rel:match("/values[^/]*%.yaml$") then
      counts.valuesFiles = counts.valuesFiles + 1
      local ok, d = pcall(lib.yaml, lib, rel)
      if not ok then add(lib:where(rel), "values", msg_of(d))
      elseif d ~= doc.null and (type(d) ~= "table" or doc.islist(d)) then
        add(lib:where(rel), "values", "a values file must hold a map of Helm values")
      end
    elseif rel:match("/manifests/") then
      counts.manifests = counts.manifests + 1
    end
  end

  if idx then
    for _, p in ipairs(idx.problems) do add(p.file, "overlays", p.msg) end
    local all = { idx.base }
    for _, e in ipairs(idx.list) do all[#all + 1] = e end
    counts.overlays = #all
    local is_base_of = {}
    for _, e in ipairs(idx.list) do if e.base then is_base_of[e.base] = true end end
    local tuples = {}
    for _, e in ipairs(all) do
      local w = e.where
      local text = lib:read(e.rel)
      local okd, d = pcall(doc.decode, text, w)
      if not okd then
        add(w, "parse", msg_of(d))
      elseif type(d) ~= "table" or doc.islist(d) then
        add(w, "parse", "expected a RecipeMetadata document (a map)")
      else
        -- header
        if d.kind == nil then
          add(w, "overlays", "kind is missing (accepted: RecipeMetadata, recipeMetadata)")
        end
        if d.apiVersion == nil then
          add(w, "overlays", "apiVersion is missing (accepted: " .. table.concat(crit.API_VERSIONS, ", ") .. ")")
        else
          local okv = false
          for _, v in ipairs(crit.API_VERSIONS) do if v == d.apiVersion then okv = true end end
          if not okv then
            add(w, "overlays", string.format("apiVersion %q is not supported (accepted: %s)", tostring(d.apiVersion),
              table.concat(crit.API_VERSIONS, ", ")))
          end
        end
        local quick = scan.header(text)
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
        local spec = d.spec
        if type(spec) == "table" and not doc.islist(spec) then
          for _, k in ipairs(doc.keys(spec)) do
            if not SPEC_FIELDS[k] then
              add(w, "overlays", string.format("unknown field spec.%s (accepted: base, criteria, constraints, " ..
                "componentRefs, validation)", k))
            end
          end
        elseif spec ~= nil and spec ~= doc.null then
          add(w, "overlays", "spec must be a map")
          spec = nil
        end
        spec = type(spec) == "table" and spec or {}
        -- criteria
        if e.name ~= "base" then
          local c = spec.criteria
          if type(c) == "table" and not doc.islist(c) then
            for _, k in ipairs(doc.keys(c)) do
              if not CRIT_FIELDS[k] then
                add(w, "criteria", string.format("unknown criteria field %q (accepted: %s, nodes)", k,
                  table.concat(crit.FIELDS, ", ")))
              elseif k == "nodes" then
                if c[k] ~= doc.null and not math.tointeger(c[k]) then
                  add(w, "criteria", string.format("criteria.nodes %q is not an integer", tostring(c[k])))
                end
              else
                local v = c[k]
                if v ~= doc.null then
                  local n, m = crit.normalize(k, v)
                  if not n then add(w, "criteria", m)
                  elseif n ~= v and v ~= "" and v ~= "any" then
                    add(w, "criteria", string.format("criteria.%s %q: write the canonical value %q", k, tostring(v), n))
                  end
                end
              end
            end
            local key = crit.string(crit.overlay(c))
            if tuples[key] then
              add(w, "criteria", string.format("same criteria (%s) as %s: both would always apply together", key, tuples[key]))
            else
              tuples[key] = e.name
            end
          elseif c ~= nil and c ~= doc.null then
            add(w, "criteria", "spec.criteria must be a map")
          elseif not is_base_of[e.name] then
            add(w, "criteria", "no spec.criteria and no overlay names it as spec.base: it can never apply")
          end
          local okc, err = pcall(lib.chain, lib, e.name)
          if not okc then
            -- reported once, at the overlay it concerns (not at each descendant)
            local m = msg_of(err)
            if m:find(string.format("overlay %q", e.name), 1, true) or m:find(e.name .. " (", 1, true) then
              add(w, "inheritance", m)
            end
          end
        end
        -- spec shape (the same validation a build does)
        local oks, err = pcall(lib.spec, lib, e)
        if not oks then add(w, "overlays", msg_of(err)) end
        -- constraints
        local cons = type(spec.constraints) == "table" and spec.constraints or {}
        local names = {}
        for i, c in ipairs(cons) do
          if type(c) == "table" and isstr(c.name) then
            if names[c.name] then add(w, "constraints", string.format("constraint %s is listed twice", c.name)) end
            names[c.name] = true
            if not paths_seen[c.name] then
              paths_seen[c.name] = true
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
              add(w, "constraints", string.format("constraint %s: value must be a non-empty string (quote it: \"%s\")",
                c.name, tostring(c.value)))
            else
              local p = expr_problem(c.value)
              if p then add(w, "constraints", string.format("constraint %s: %s", c.name, p)) end
            end
          elseif type(c) == "table" then
            add(w, "constraints", string.format("spec.constraints[%d] has no name", i - 1))
          end
        end
        -- componentRefs
        local refs = type(spec.componentRefs) == "table" and spec.componentRefs or {}
        local seen = {}
        for i, r in ipairs(refs) do
          if type(r) == "table" and isstr(r.name) then
            local n = r.name
            if seen[n] then add(w, "components", string.format("component %q is listed twice", n)) end
            seen[n] = true
            if okreg and not reg.byname[n] then
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
                add(w, "components", string.format("component %q: %s must be a string (quote it: \"%s\")", n, f,
                  tostring(v)))
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
                    add(w, "files", string.format("component %q: manifest %s does not exist", n, tostring(m)))
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
            if r.overrides ~= nil and r.overrides ~= doc.null and (type(r.overrides) ~= "table" or doc.islist(r.overrides)) then
              add(w, "components", string.format("component %q: overrides must be a map of Helm values", n))
            end
          end
        end
      end
    end

    -- the criteria matrix
    local cat = crit.catalog()
    local axes = {}
    for i, f in ipairs(crit.FIELDS) do
      local vals = { "any" }
      for _, v in ipairs(cat.fields[f].values) do vals[#vals + 1] = v end
      axes[i] = vals
    end
    local built, errs = {}, {}
    local bymsg, msgs = {}, {}
    local total, okn, special, distinct = 0, 0, 0, 0
    local build = require("eidos.recipe.build")
    local hydrate = require("eidos.recipe.hydrate")
    local q = { nodes = 0 }
    local function try(qq)
      local matched = build.matched(lib, qq)
      local names = {}
      for i, e in ipairs(matched) do names[i] = e.name end
      local key = table.concat(names, ",")
      if built[key] == nil then
        local ok, r, info = pcall(build.build, lib, qq, { version = "lint" })
        if ok then
          local okh, herr = pcall(function()
            for _, ref in ipairs(r.componentRefs) do
              hydrate.component_values(lib, ref, { refs = info.state.prov.refs[ref.name] })
            end
          end)
          if not okh then ok, r = false, herr end
        end
        if ok then
          built[key] = true
          distinct = distinct + 1
        else
          built[key] = false
          errs[key] = { q = crit.string(qq), msg = msg_of(r) }
        end
      end
      return built[key], key, matched
    end
    local function walk(i)
      if i > #crit.FIELDS then
        total = total + 1
        local ok, key, matched = try(q)
        if ok then
          okn = okn + 1
          -- specialised: every specified field is pinned by a matched overlay's chain
          local pinned = {}
          for _, e in ipairs(matched) do
            for _, a in ipairs(lib:chain(e.name)) do
              for _, f in ipairs(crit.FIELDS) do
                if a.criteria and a.criteria[f] == q[f] then pinned[f] = true end
              end
            end
          end
          local all = true
          for _, f in ipairs(crit.FIELDS) do if q[f] ~= "any" and not pinned[f] then all = false end end
          if all then special = special + 1 end
        elseif errs[key] then
          local m = errs[key].msg
          local g = bymsg[m]
          if not g then
            g = { q = crit.string(q), n = 0 }
            bymsg[m] = g
            msgs[#msgs + 1] = m
          end
          g.n = g.n + 1
        end
        return
      end
      for _, v in ipairs(axes[i]) do
        q[crit.FIELDS[i]] = v
        walk(i + 1)
      end
    end
    if okidx then
      local okw, err = pcall(walk, 1)
      if not okw then add("", "matrix", msg_of(err)) end
      for _, m in ipairs(msgs) do
        local g = bymsg[m]
        add("", "matrix", string.format("criteria %s%s: %s", g.q,
          g.n > 1 and string.format(" (and %d more combination%s)", g.n - 1, g.n > 2 and "s" or "") or "", m))
      end
      -- every overlay applies when queried with its own criteria
      for _, e in ipairs(idx.list) do
        if e.criteria then
          local qq = {}
          local valid = true
          for _, f in ipairs(crit.FIELDS) do
            local v = e.criteria[f]
            if v == "" then v = "any" end
            if v ~= "any" and not cat.fields[f].canon[v] then valid = false end
            qq[f] = v
          end
          qq.nodes = e.criteria.nodes or 0
          if valid then
            local ok, key = try(qq)
            local applied = false
            if ok then
              for n in key:gmatch("[^,]+") do if n == e.name then applied = true end end
            end
            if ok and not applied then
              add(e.where, "matrix", string.format("overlay %s does not apply when queried with its own criteria (%s)",
                e.name, crit.string(qq)))
            elseif not ok and errs[key] and not bymsg[errs[key].msg] then
              bymsg[errs[key].msg] = true
              add(e.where, "matrix", string.format("criteria %s: %s", errs[key].q, errs[key].msg))
            end
          end
        end
      end
    end
    counts.combinations = total
    counts.combinationsBuilt = okn
    counts.combinationsSpecialised = special
    counts.distinctRecipes = distinct
  end

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
  counts.problems = #plist
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
  return table.concat(b, "\n") .. "\n"
end

return M
