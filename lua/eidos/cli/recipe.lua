-- eidos.cli.recipe: what `eidos recipe` and `eidos query` share -- the
-- criteria flags (their values and aliases read from data/criteria.yaml
-- through the engine), turning flags + --criteria file + --snapshot into
-- one validated query (snapshot-derived values < criteria file < flags),
-- the library options, and the table view of a RecipeResult.
local errors = require("eidos.errors")
local log = require("eidos.log")
local crit = require("eidos.recipe.criteria")

local M = {}

-- a criteria flag: an enum whose values the engine checks (a criteria hook
-- may still rewrite them), offered from the catalog in help and completion
local function criterion(name, arg, help, field)
  local values, aliases = crit.enum(field or name)
  return { name = name, arg = arg, type = "enum", open = true, values = values, aliases = aliases, help = help }
end

M.flags = {
  criterion("service", "SERVICE", "Kubernetes service (self-managed = any)"),
  criterion("accelerator", "GPU", "GPU"),
  criterion("gpu", "GPU", "alias of --accelerator", "accelerator"),
  criterion("intent", "INTENT", "workload intent"),
  criterion("os", "OS", "node OS"),
  criterion("platform", "PLATFORM", "platform"),
  { name = "nodes", arg = "N", type = "int", help = "GPU node count (0 = any)" },
  { name = "criteria", short = "c", arg = "FILE|URL|cm://NS/NAME", type = "uri",
    help = "RecipeCriteria document; flags override its values" },
  { name = "snapshot", short = "s", arg = "FILE|URL|cm://NS/NAME", type = "uri",
    help = "derive service, accelerator and OS from a snapshot and drop overlays whose constraints fail on it" },
  { name = "data", arg = "DIR|oci://REF", type = "dir",
    help = "recipe data directory or oci:// catalog (upstream layout) layered over the built-in library" },
  { name = "data-mode", arg = "MODE", choices = { "overlay", "replace" }, default = "overlay",
    help = "overlay: DIR over the built-in library; replace: DIR alone" },
  { name = "explain", help = "show where every component field, value and constraint comes from" },
  { name = "allow-partial",
    help = "accept a recipe that no overlay tunes for a stated criterion (a warning instead of exit 2)" },
}

-- the criteria fields a plain query states (any one of them, or --criteria
-- or --snapshot, is needed)
local STATING = { "service", "accelerator", "gpu", "intent", "os", "platform", "nodes" }

-- library(opts) -> library for the --data / --data-mode flags
function M.library(opts)
  if opts["data-mode"] == "replace" and not opts.data then
    errors.raise("invalid", "--data-mode replace needs --data DIR (the library that replaces the built-in one)")
  end
  return require("eidos.recipe").library({ data = opts.data, data_mode = opts["data-mode"] })
end

-- query(opts) -> validated criteria, snapshot model or nil, and the set of
-- fields stated by flags or the criteria file (not only derived from the
-- snapshot): those fail closed (eidos.recipe.build)
function M.query(opts)
  local recipe = require("eidos.recipe")
  local docio = require("eidos.docio")
  local raw, given = {}, {}
  local model
  if opts.snapshot then
    local d, origin = docio.load(opts.snapshot, { what = "snapshot" })
    model = recipe.snapshot_model(d, origin)
    local derived, why = crit.from_snapshot(model)
    for _, w in ipairs(why) do
      log.info(string.format("snapshot: %s=%s (from %s %q)", w.field, w.value, w.path, w.actual))
    end
    for k, v in pairs(derived) do raw[k] = v end
  end
  if opts.criteria then
    local d, origin = docio.load(opts.criteria, { what = "criteria" })
    local fromfile = recipe.criteria_doc(d, "criteria " .. origin)
    recipe.criteria(fromfile, "criteria " .. origin) -- validate the file's own values
    for k, v in pairs(fromfile) do raw[k] = v; given[k] = true end
  end
  local flagged = { service = opts.service, accelerator = opts.accelerator, gpu = opts.gpu, intent = opts.intent,
                    os = opts.os, platform = opts.platform, nodes = opts.nodes }
  crit.fold_aliases(flagged, function(n) return "--" .. n end)
  -- flag values are checked here (for messages naming the flag) unless a
  -- criteria hook may still rewrite them
  local check = not require("eidos.hooks").has("criteria")
  for _, f in ipairs({ "service", "accelerator", "intent", "os", "platform", "nodes" }) do
    local v = flagged[f]
    if v ~= nil and not check then
      raw[f] = v
    elseif v ~= nil then
      if f == "nodes" then
        local n, msg = crit.nodes(v)
        if not n then errors.raise("invalid", "--nodes: " .. msg) end
      else
        local n, msg = crit.normalize(f, v)
        if not n then errors.raise("invalid", "--" .. (f == "accelerator" and opts.gpu and "gpu" or f) .. ": " .. msg) end
      end
      if raw[f] ~= nil and (opts.snapshot or opts.criteria) then
        log.info(string.format("--%s %s overrides %s from the %s", f, tostring(v), require("eidos.errors").show(raw[f]),
          opts.criteria and "criteria file" or "snapshot"))
      end
      raw[f] = v
    end
    if v ~= nil then given[f] = true end
  end
  local q = recipe.criteria(raw)
  if not opts.snapshot and not opts.criteria and crit.empty(q) then
    local shown = {}
    for _, f in ipairs(STATING) do if opts[f] ~= nil then shown[#shown + 1] = "--" .. f .. " " .. tostring(opts[f]) end end
    errors.raise("invalid", "no criteria provided: specify at least one of --service, --accelerator, --intent, --os, " ..
      "--platform, --nodes, --criteria, or use --snapshot to load from a snapshot file" ..
      (#shown > 0 and (" (" .. table.concat(shown, ", ") .. " states nothing: any is the same as leaving it out)") or "") ..
      "; 'eidos recipe list' shows the curated criteria")
  end
  local stated = {}
  for f in pairs(given) do if q[f] ~= nil and q[f] ~= "any" then stated[f] = true end end
  return q, model, stated
end

-- build(q, model, opts, lib, stated) -> RecipeResult for the flags of recipe/query
-- (snapshot mode, --allow-partial); constraints the snapshot could not
-- answer are noted at info level (validate reports them as skipped)
function M.build(q, model, opts, lib, stated)
  local recipe = require("eidos.recipe")
  local result, info = recipe.build(q, { library = lib, snapshot = model, allow_partial = opts["allow-partial"],
                                         stated = stated })
  local paths, byp = {}, {}
  for _, u in ipairs(info.unknown or {}) do
    if not byp[u.constraint] then
      byp[u.constraint] = {}
      paths[#paths + 1] = u.constraint
    end
    table.insert(byp[u.constraint], u.overlay)
  end
  for _, p in ipairs(paths) do
    log.info(string.format("snapshot has no value for %s: not checked for %s (eidos validate reports it skipped)",
      p, table.concat(byp[p], ", ")))
  end
  return result, info
end

-- table view of a RecipeResult: the most useful columns first, fitted to
-- the width (eidos.columns); lists wrap under their label
function M.table(r)
  local columns = require("eidos.columns")
  local function list(label, items)
    return columns.text(string.format("%-11s%s", label, table.concat(items, ", ")), { hang = string.rep(" ", 11) })
  end
  local b = {}
  b[#b + 1] = list("criteria:", { crit.string(r.criteria) })
  b[#b + 1] = list("overlays:", r.metadata.appliedOverlays)
  if r.metadata.excludedOverlays and #r.metadata.excludedOverlays > 0 then
    b[#b + 1] = list("excluded:", r.metadata.excludedOverlays)
    for _, w in ipairs(r.metadata.constraintWarnings or {}) do
      b[#b + 1] = columns.text(string.format("           %s: %s %s: %s", w.overlay, w.constraint, w.expected, w.reason))
    end
  end
  for _, w in ipairs(r.metadata.warnings or {}) do b[#b + 1] = list("warning:", { w }) end
  b[#b + 1] = "\n"
  local rows = { { "COMPONENT", "VERSION", "NAMESPACE", "TYPE", "DEPENDS ON", "SOURCE" } }
  for _, c in ipairs(r.componentRefs) do
    local src = c.source or ""
    if c.chart and c.chart ~= "" then src = src .. (src ~= "" and " " or "") .. "(" .. c.chart .. ")" end
    rows[#rows + 1] = { c.name, c.version or c.tag or "", c.namespace or "", c.type or "",
                        table.concat(c.dependencyRefs or {}, ", "), src }
  end
  b[#b + 1] = columns.render(rows, { wrap = { [5] = true }, middle = { [6] = true }, optional = { [6] = true } })
  if r.constraints and #r.constraints > 0 then
    rows = { { "CONSTRAINT", "VALUE" } }
    for _, c in ipairs(r.constraints) do rows[#rows + 1] = { c.name, tostring(c.value) } end
    b[#b + 1] = "\n" .. columns.render(rows, { min = { [1] = 48 } })
  end
  b[#b + 1] = "\n" .. columns.text("deployment order: " .. table.concat(r.deploymentOrder, ", "), { hang = string.rep(" ", 18) })
  return table.concat(b)
end

return M
