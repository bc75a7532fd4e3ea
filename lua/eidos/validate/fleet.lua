-- eidos.validate.fleet: `eidos validate` over many snapshots (several
-- --snapshot, a directory, cm://NS/PREFIX-*, or --snapshot-selector) and
-- the FleetValidationResult it writes:
--   nodes[]    each node's ValidationResult (a readiness run of
--              eidos.validate.phases), as one --snapshot gives it, under the
--              node's name
--   failing[]  each constraint that failed somewhere, with those nodes
--   outliers[] each path where some nodes differ from the majority value,
--              even when every value passes: over the constraint paths and
--              M.OUTLIER_PATHS (driver, kernel, OS release, kubelet and
--              server versions, GPU model and count)
-- A node is named by its snapshot's metadata.source-node (upstream:
-- metadata.source), else by where it was read. Snapshots are read and
-- evaluated one at a time, so memory does not grow with their size or
-- number (what is kept per node is its result and the outlier values).
-- The text formats (table, JUnit, CTRF) are eidos.validate.fleet_report,
-- on the single result's writers.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local docio = require("eidos.docio")
local model = require("eidos.snapshot.model")
local validate = require("eidos.validate")

local M = {}

M.KIND = "FleetValidationResult"
M.OUTLIER_PATHS = {
  "GPU.smi.driver", "GPU.smi.gpu.model", "GPU.smi.gpu-count",
  "OS.sysctl./proc/sys/kernel/osrelease", "K8s.node.kernel-version",
  "OS.release.ID", "OS.release.VERSION_ID",
  "K8s.node.kubelet-version", "K8s.server.version",
}

local DOC_ORDER = { "kind", "apiVersion", "metadata", "status", "summary", "failing", "outliers", "nodes" }
local META_ORDER = { "version", "timestamp", "recipe", "strict" }
local SUM_ORDER = { "nodes", "passed", "partial", "failed", "error", "constraints" }
local FAIL_ORDER = { "constraint", "expression", "severity", "nodes" }
local OUT_ORDER = { "path", "majority", "count", "nodes" }
local NODE_ORDER = { "node", "value" }
local ENTRY_ORDER = { "node", "result" }

local MISSING = {} -- the value of a path a snapshot lacks

-- ---------------------------------------------------------------------------
-- sources

local natcmp = require("eidos.core.emit").natcmp
local function natsort(l) table.sort(l, function(a, b) return natcmp(a, b) < 0 end) return l end

-- the snapshots of a directory: its *.yaml, *.yml and *.json files
local function dir_files(dir)
  local fs = require("eidos.core.fs")
  local names = errors.within("--snapshot " .. dir, fs.list(dir))
  local out = {}
  for _, n in ipairs(natsort(names)) do
    if n:match("%.ya?ml$") or n:match("%.json$") then
      local p = dir:gsub("/+$", "") .. "/" .. n
      if fs.exists(p) == "file" then out[#out + 1] = p end
    end
  end
  if #out == 0 then
    errors.raise("notfound", string.format("--snapshot %q: no *.yaml, *.yml or *.json file in the directory", dir))
  end
  return out
end

-- the ConfigMaps of ns (by name pattern or label selector), names only:
-- a page at a time, so their data never sits in memory together
local function cm_names(ns, opts)
  local client = require("eidos.k8s.client")
  local c = client.shared({ kubeconfig = opts.kubeconfig, context = opts.context })
  local match = require("eidos.snapshot.filter").match
  local out = {}
  client.check(c:list(client.path("v1", "configmaps", ns), {
    limit = 50, keep = false, restartable = false, label_selector = opts.selector,
    on_page = function(l)
      for _, it in ipairs(type(l.items) == "table" and l.items or {}) do
        local n = it.metadata and it.metadata.name
        if type(n) == "string" and (not opts.pattern or match(opts.pattern, n)) then out[#out + 1] = n end
      end
    end }))
  local locs = {}
  for i, n in ipairs(natsort(out)) do locs[i] = "cm://" .. ns .. "/" .. n end
  return locs
end

-- is_fleet(opts) -> whether the snapshots given make a fleet report
function M.is_fleet(opts)
  local s = opts.snapshot or {}
  if #s > 1 or opts["snapshot-selector"] then return true end
  local one = s[1]
  if not one then return false end
  if one:match("^cm://") then return one:find("*", 1, true) ~= nil end
  return require("eidos.core.fs").exists(one) == "dir"
end

-- locations(opts) -> every snapshot to read, in order (each --snapshot in
-- turn, expanded; then the selector's), duplicates left out
function M.locations(opts)
  local out, seen = {}, {}
  local function add(l) if not seen[l] then seen[l] = true; out[#out + 1] = l end end
  local stdin = 0
  for _, s in ipairs(opts.snapshot or {}) do
    if s == "-" then
      stdin = stdin + 1
      add(s)
    elseif s:match("^cm://") and s:find("*", 1, true) then
      local ns, pat = s:match("^cm://([^/]*)/(.*)$")
      require("eidos.k8s.cmstore").parse("cm://" .. tostring(ns) .. "/x") -- the namespace
      if not pat or pat == "" then errors.raise("invalid", string.format("--snapshot %q has no name pattern", s)) end
      local l = cm_names(ns, { pattern = pat, kubeconfig = opts.kubeconfig, context = opts.context })
      if #l == 0 then
        errors.raise("notfound", string.format("--snapshot %q: no ConfigMap matches in namespace %s", s, ns))
      end
      for _, x in ipairs(l) do add(x) end
    elseif not s:match("^%a[%w+.-]*://") and require("eidos.core.fs").exists(s) == "dir" then
      for _, x in ipairs(dir_files(s)) do add(x) end
    else
      add(s)
    end
  end
  if stdin > 0 and (#out > 1 or opts.recipe == "-") then
    errors.raise("invalid", "stdin (-) holds one document: with several snapshots, give files, directories or cm://")
  end
  if opts["snapshot-selector"] then
    local sel = opts["snapshot-selector"]
    local ns = opts.namespace or require("eidos.k8s.client").shared({ kubeconfig = opts.kubeconfig,
      context = opts.context }).namespace
    local l = cm_names(ns, { selector = sel, kubeconfig = opts.kubeconfig, context = opts.context })
    if #l == 0 then
      errors.raise("notfound", string.format("--snapshot-selector %q: no ConfigMap matches in namespace %s", sel, ns))
    end
    for _, x in ipairs(l) do add(x) end
  end
  return out
end

-- ---------------------------------------------------------------------------
-- outliers

local function outlier_paths(list)
  local out, seen = {}, {}
  for _, c in ipairs(list) do
    if not seen[c.name] then seen[c.name] = true; out[#out + 1] = c.name end
  end
  for _, p in ipairs(M.OUTLIER_PATHS) do
    if not seen[p] then seen[p] = true; out[#out + 1] = p end
  end
  return out
end

-- outliers(paths, values, names) -> the outliers[] entries. values[i][n]:
-- node n's value at paths[i] (MISSING when absent)
local function outliers(paths, values, names)
  local out = {}
  for i, path in ipairs(paths) do
    local count, order = {}, {}
    for n = 1, #names do
      local v = values[i][n]
      if not count[v] then count[v] = 0; order[#order + 1] = v end
      count[v] = count[v] + 1
    end
    if #order > 1 then
      -- the most common value; ties: a value before a missing one, then
      -- natural order of the values
      table.sort(order, function(a, b)
        if count[a] ~= count[b] then return count[a] > count[b] end
        if (a == MISSING) ~= (b == MISSING) then return b == MISSING end
        return a ~= MISSING and natcmp(a, b) < 0
      end)
      local major = order[1]
      local nodes = {}
      for n = 1, #names do
        local v = values[i][n]
        if v ~= major then
          nodes[#nodes + 1] = doc.ordered({ node = names[n], value = v == MISSING and doc.null or v }, NODE_ORDER)
        end
      end
      out[#out + 1] = doc.ordered({ path = path, majority = major == MISSING and doc.null or major,
                                    count = count[major], nodes = doc.list(nodes) }, OUT_ORDER)
    end
  end
  return out
end

-- ---------------------------------------------------------------------------
-- the run

local function node_name(d, origin, seen)
  local md = type(d) == "table" and type(d.metadata) == "table" and d.metadata or {}
  local n = md["source-node"]
  if type(n) ~= "string" or n == "" then n = md.source end
  if type(n) ~= "string" or n == "" then n = origin end
  if seen[n] then n = n .. " (" .. origin .. ")" end
  seen[n] = true
  return n
end

-- run(list, locations, opts) -> FleetValidationResult. list: constraints
-- (checked by the caller); opts: strict, recipe (its origin), version,
-- kubeconfig, context, load (loc -> document, origin: where the
-- snapshots come from when they are not locations docio reads)
function M.run(list, locations, opts)
  opts = opts or {}
  validate.check_all(list)
  local paths = outlier_paths(list)
  local values = {}
  for i = 1, #paths do values[i] = {} end
  local names, seen, entries = {}, {}, {}
  local failing, fail_order = {}, {}
  local sum = { nodes = 0, passed = 0, partial = 0, failed = 0, error = 0, constraints = #list }
  local phases = require("eidos.validate.phases")
  for n, loc in ipairs(locations) do
    local d, origin
    if opts.load then
      d, origin = opts.load(loc)
    else
      d, origin = docio.load(loc, { what = "snapshot", kubeconfig = opts.kubeconfig, context = opts.context })
    end
    local m = model.from_doc(d, origin)
    local name = node_name(d, origin, seen)
    names[n] = name
    for i, p in ipairs(paths) do
      local v = model.get(m, p)
      values[i][n] = v == nil and MISSING or v
    end
    -- the node's result exactly as one --snapshot gives it
    local r = phases.run({ phases = { "readiness" }, meta = { recipe = opts.recipe, strict = opts.strict or nil },
      readiness = function()
        return validate.run(list, m, { strict = opts.strict, recipe = opts.recipe, snapshot = origin,
                                       version = opts.version })
      end })
    local key = ({ pass = "passed", partial = "partial", fail = "failed" })[r.status] or "error"
    sum.nodes, sum[key] = sum.nodes + 1, sum[key] + 1
    for ci, res in ipairs(r.results or {}) do
      if res.status == "failed" then
        local f = failing[ci]
        if not f then
          f = { constraint = res.name, expression = res.expression, severity = res.severity, nodes = doc.list({}) }
          failing[ci] = f
          fail_order[#fail_order + 1] = ci
        end
        f.nodes[#f.nodes + 1] = name
      end
    end
    entries[n] = doc.ordered({ node = name, result = r }, ENTRY_ORDER)
  end
  table.sort(fail_order)
  local fl = {}
  for _, ci in ipairs(fail_order) do fl[#fl + 1] = doc.ordered(failing[ci], FAIL_ORDER) end
  local status = sum.failed > 0 and "fail" or sum.error > 0 and "error" or sum.partial > 0 and "partial" or "pass"
  return doc.ordered({
    kind = M.KIND, apiVersion = validate.API_VERSION,
    metadata = doc.ordered({ version = opts.version or require("eidos.core.build").version,
                             timestamp = validate.timestamp(), recipe = opts.recipe, strict = opts.strict or nil },
      META_ORDER),
    status = status, summary = doc.ordered(sum, SUM_ORDER),
    failing = doc.list(fl), outliers = doc.list(outliers(paths, values, names)), nodes = doc.list(entries),
  }, DOC_ORDER)
end

-- write(result, o): the result in o.format to o.output
function M.write(r, o)
  local report = require("eidos.validate.fleet_report")
  if o.format == "junit" then
    docio.write(o.output, report.junit(r), { what = "JUnit report" })
  elseif o.format == "ctrf" then
    docio.write(o.output, report.ctrf(r), { what = "CTRF report" })
  else
    docio.emit(r, { format = o.format, output = o.output, table = function(v)
      return report.table(v, require("eidos.term").color_output(o.output))
    end })
  end
end

return M
