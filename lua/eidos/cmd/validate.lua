-- eidos validate: check a cluster against a recipe, phase by phase
-- (eidos.validate.phases): readiness (the recipe's constraints and ad-hoc
-- --constraint ones against a snapshot: a file, URL or cm://, or one the
-- snapshot agent takes when --snapshot is not given), deployment (what runs
-- vs the recipe or --bundle), conformance, performance. Writes a
-- ValidationResult (yaml, json, table, JUnit XML or CTRF JSON) and, with
-- --evidence-dir, what the run read. Several snapshots (--snapshot given
-- again, a directory, cm://NS/PREFIX-*, --snapshot-selector) are a fleet:
-- eidos.validate.fleet checks their readiness and writes a
-- FleetValidationResult. Exit: 9 when a check failed (unless
-- --fail-on-error=false), else 4/6/5/8/1 when a check could not run (RBAC,
-- API unreachable, timeout, a check crashed, other), 2 bad input, 3 a file
-- not found. This file only reads the flags and inputs and writes outputs.
local errors = require("eidos.errors")
local flags = require("eidos.cli.flags")
local docio = require("eidos.docio")
local log = require("eidos.log")
local strx = require("eidos.text")

local FORMATS = { "yaml", "json", "table", "junit", "ctrf" }
local DAY = 86400000 -- ms

local function load_doc(loc, what)
  return docio.load(loc, { what = what })
end

-- "PATH EXPRESSION" (or PATH directly followed by an operator) -> constraint
local function adhoc(text)
  local path, rest = text:match("^%s*([^%s<>=!~]+)(.*)$")
  rest = rest and strx.trim(rest)
  if not path or rest == "" then
    errors.raise("invalid", string.format("--constraint %q: expected a path, then an expression, e.g. " ..
      "'K8s.server.version >= 1.32' or 'OS.release.ID ubuntu'", text))
  end
  return { name = path, value = rest, origin = "--constraint" }
end

local function library(o)
  return require("eidos.bundle.library").open({
    library_opts = o.data and { data = o.data, data_mode = o["data-mode"] } or nil })
end

local function write_result(o, result, info)
  local report = require("eidos.validate.report")
  local n = require("eidos.validate.result").counts(result)
  local detail = string.format("%s: %d passed, %d failed, %d skipped%s", result.status, n.passed, n.failed, n.skipped,
    n.error > 0 and string.format(", %d error", n.error) or "")
  if o.format == "junit" then
    docio.write(o.output, report.junit(result), { what = "JUnit report", detail = detail })
  elseif o.format == "ctrf" then
    docio.write(o.output, require("eidos.validate.ctrf").report(result, info), { what = "CTRF report", detail = detail })
  else
    docio.emit(result, {
      format = o.format, output = o.output, detail = detail,
      table = function(v) return report.table(v, require("eidos.term").color_output(o.output)) end,
    })
  end
end

return {
  name = "validate",
  summary = "Check a cluster against a recipe: readiness, deployment, conformance, performance",
  usage = "eidos validate [--phase readiness|deployment|conformance|performance|all]... [--recipe R] " ..
    "[--snapshot S] [--bundle DIR|ARCHIVE|oci://REF] [--constraint 'PATH EXPR']... [--strict] [--fail-on-error=false] " ..
    "[--evidence-dir DIR] [-t yaml|json|table|junit|ctrf] [-o PATH]",
  description = "Validate in phases (--phase, repeatable or a comma list; default readiness; all = every phase):\n" ..
    "  readiness    the recipe's constraints and each --constraint against a snapshot (--snapshot, or one\n" ..
    "               the snapshot agent takes on the cluster: the agent flags apply)\n" ..
    "  deployment   Helm releases, workloads, expected CRDs, Argo CD / Flux objects and values vs the recipe\n" ..
    "               (or --bundle DIR|ARCHIVE|oci://REF, the bundle that was deployed)\n" ..
    "  conformance  GPUs allocatable, DRA served, gang scheduling, one GPU advertiser, GFD labels, version\n" ..
    "  performance  an NCCL all-reduce test over the recipe's GPU nodes vs its bandwidth threshold\n" ..
    "Each check is passed, failed, skipped or error (could not run), with the evidence read and a\n" ..
    "remediation. Checks are Lua files in lua/eidos/validate/checks/ (override or add). Expressions:\n" ..
    ">= <= > < == != (versions at the lower precision), ~1.32, in (a, b), not in (a, b), ranges\n" ..
    "'>= 1.30, < 1.34', a bare value for an exact match. See docs/validate.md.\n" ..
    "Exit codes: 0; 9 a check failed (unless --fail-on-error=false); 4 a check was denied by RBAC,\n" ..
    "6 the API is unreachable, 5 timeout, 8 a check crashed, 1 other checks that could not run;\n" ..
    "2 invalid input; 3 a file not found, or no cluster configured for a phase that reads one.",
  flags = (function()
    local f = {
      { name = "phase", arg = "PHASE", repeatable = true, type = "enum", open = true, separator = ",",
        choices = { "readiness", "deployment", "conformance", "performance", "all" },
        help = "phase(s) to run: readiness (default), deployment, conformance, performance, all" },
      { name = "snapshot", short = "s", arg = "SOURCE", type = "uri", repeatable = true,
        help = "the snapshot: a file, -, http(s):// URL or cm://NAMESPACE/NAME (default: take one with the agent); " ..
          "again, a directory or cm://NAMESPACE/PREFIX-* for a fleet report" },
      { name = "snapshot-selector", arg = "LABELS", type = "selector",
        help = "validate the snapshot ConfigMaps with these labels in --namespace (default: the kubeconfig's), " ..
          "e.g. eidos.nvidia.com/run-id=ID (k=v, k!=v, k in (a,b), k notin (a,b), k, !k; comma-separated)" },
      { name = "recipe", short = "r", arg = "SOURCE", type = "uri", help = "a RecipeResult: file, -, URL or cm://" },
      { name = "bundle", arg = "DIR|ARCHIVE|oci://REF", type = "uri",
        help = "the bundle that was deployed (directory, .tar.gz or oci://): expected charts, versions and values" },
      { name = "constraint", short = "c", arg = "'PATH EXPR'", repeatable = true,
        help = "an extra readiness constraint, e.g. 'K8s.server.version >= 1.32'" },
      { name = "strict", help = "count every skipped readiness constraint (path not in the snapshot) as failed" },
      { name = "fail-on-error", default = true,
        help = "exit 9 when a check failed (default true; --fail-on-error=false exits 0 then)" },
      { name = "evidence-dir", arg = "DIR", type = "uri",
        help = "write every object read and log collected there (secrets redacted), with checksums.txt" },
      { name = "timeout", arg = "DURATION", type = "duration", unit = "s", min = 1, max = DAY,
        help = "how long to wait for the snapshot agent (default 5m) and the NCCL test (default the recipe's)" },
      { name = "data", arg = "DIR|oci://REF", type = "dir", help = "recipe data directory or oci:// catalog (as for 'eidos recipe')" },
      { name = "data-mode", arg = "MODE", choices = { "overlay", "replace" }, default = "overlay",
        help = "overlay: DIR over the built-in library; replace: DIR alone" },
    }
    for _, a in ipairs(require("eidos.cli.agent").agent_flags(nil)) do f[#f + 1] = a end
    for _, o in ipairs(flags.output(FORMATS)) do f[#f + 1] = o end
    return f
  end)(),
  examples = {
    "eidos validate --recipe recipe.yaml --snapshot snapshot.yaml",
    "eidos validate -s cm://gpu-operator/eidos-snapshot -c 'K8s.server.version >= 1.32' -c 'OS.release.ID in (ubuntu, rhel)'",
    "eidos validate -r recipe.yaml --phase deployment,conformance --bundle ./bundle -t table",
    "eidos validate -r recipe.yaml --phase all -s snapshot.yaml -t ctrf -o validate.json --evidence-dir evidence",
    "eidos validate -r recipe.yaml -s 'cm://gpu-operator/fleet-*' -t table",
  },
  run = function(ctx)
    -- the process's collector is the command's choice (as bundle's is), not
    -- the engine's, which eidosd's Lua threads run too: a validation
    -- allocates large short-lived strings (release records, list pages),
    -- and the generational collector marks less of what survives
    -- (bench/validate-deployment: 0.95 -> 0.86 s of CPU)
    collectgarbage("generational")
    local o = ctx.opts
    local fleet = require("eidos.validate.fleet")
    local many = fleet.is_fleet(o)
    if not many then o.snapshot = o.snapshot and o.snapshot[1] end
    local phases = require("eidos.validate.phases").parse(o.phase)
    local want = {}
    for _, p in ipairs(phases) do want[p] = true end
    local cluster_phases = want.deployment or want.conformance or want.performance
    if o.recipe == "-" and o.snapshot == "-" then
      errors.raise("invalid", "--recipe and --snapshot cannot both read stdin (-)")
    end
    if o.bundle and not (want.deployment or want.conformance or want.performance) then
      errors.raise("invalid", "--bundle only applies to --phase deployment, conformance or performance")
    end
    if o["evidence-dir"] then
      if many then
        errors.raise("invalid", "--evidence-dir keeps what the cluster phases read; a fleet report (several " ..
          "snapshots) reads nothing else: leave --evidence-dir out, or give one --snapshot")
      end
      require("eidos.validate.evidence").check_dir(o["evidence-dir"])
    end
    if o.snapshot or o["snapshot-selector"] or not want.readiness then
      -- the agent's own flags would be silently ignored: no agent runs
      for _, s in ipairs(require("eidos.cli.agent").agent_flags(nil)) do
        if o._given[s.name] and s.name ~= "namespace" and s.name ~= "no-cleanup" then
          errors.raise("invalid", string.format("--%s configures the snapshot agent, which validate runs only for " ..
            "--phase readiness without --snapshot; leave --%s out", s.name, s.name))
        end
      end
    end
    -- inputs, all checked before anything is read from the cluster
    local recipe, recipe_origin, list = nil, nil, {}
    if o.recipe then
      local d, origin = load_doc(o.recipe, "recipe")
      local where = "recipe " .. tostring(origin)
      require("eidos.recipe.reader").check_result(d, where)
      recipe, recipe_origin = d, origin
      if want.readiness then list = require("eidos.validate").recipe_constraints(d, where) end
    end
    if want.readiness then
      for _, t in ipairs(o.constraint or {}) do list[#list + 1] = adhoc(t) end
      if #list == 0 and not o.recipe and #phases == 1 then
        errors.raise("invalid", "nothing to validate: give --recipe RECIPE and/or --constraint 'PATH EXPR'")
      end
      require("eidos.validate").check_all(list)
    elseif o.constraint then
      errors.raise("invalid", "--constraint only applies to --phase readiness")
    end
    if many then
      if cluster_phases or not want.readiness then
        errors.raise("invalid", string.format("several snapshots are checked for --phase readiness only, not %s",
          table.concat(phases, ",")))
      end
      local r = fleet.run(list, fleet.locations(o), { strict = o.strict, recipe = recipe_origin,
                                                      kubeconfig = o.kubeconfig, context = o.context })
      fleet.write(r, o)
      if o["fail-on-error"] and r.status == "fail" then
        errors.raise("checkfailed", string.format("validation failed on %d of %d nodes", r.summary.failed,
          r.summary.nodes))
      end
      return 0
    end
    local plan = { phases = phases, recipe = recipe, meta = { recipe = recipe_origin, strict = o.strict or nil },
                   params = { namespace = o.namespace, no_cleanup = o["no-cleanup"],
                              timeout = o.timeout and o.timeout / 1000 or nil } }
    if cluster_phases then
      local expected = require("eidos.validate.expected")
      if o.bundle then
        local model, brecipe = expected.from_bundle(o.bundle, { library = library(o) })
        plan.recipe = plan.recipe or brecipe
        plan.model = model
        plan.meta.bundle, plan.meta.deployer = o.bundle, model.deployer
      elseif recipe then
        plan.model = expected.from_recipe(recipe, { library = library(o), origin = "recipe " .. tostring(recipe_origin) })
        plan.meta.deployer = plan.model.deployer
      else
        errors.raise("invalid", string.format("--phase %s needs the recipe: --recipe RECIPE or --bundle DIR",
          table.concat(phases, ",")))
      end
    end
    local ev = o["evidence-dir"] and require("eidos.validate.evidence").new() or nil
    plan.evidence = ev
    plan.cluster = require("eidos.validate.cluster").new({ evidence = ev })
    if cluster_phases then
      -- no cluster configured is one error (exit 3, as readiness without
      -- --snapshot), not one "could not run" per check
      local ok, e = pcall(plan.cluster.client, plan.cluster)
      if not ok then
        if errors.is(e) and e.code == "notfound" then
          local named = {}
          for _, p in ipairs(phases) do if p ~= "readiness" then named[#named + 1] = p end end
          errors.raise("notfound", string.format("--phase %s reads the cluster, and there is none to read: %s",
            table.concat(named, ","), e.msg))
        end
        error(e, 0)
      end
    end
    plan.readiness = function()
      local d, snap_origin
      if o.snapshot then
        d, snap_origin = load_doc(o.snapshot, "snapshot")
      else
        local agent = require("eidos.cli.agent")
        local ok, text, loc = pcall(function() return require("eidos.k8s.agent").deploy(agent.params(o, false)) end)
        if not ok then
          if errors.is(text) and text.code == "notfound" then
            errors.raise("notfound", "no --snapshot given, and no cluster to take one from with the snapshot agent: "
              .. text.msg)
          end
          error(text, 0)
        end
        d, snap_origin = require("eidos.doc").decode(text, loc), loc
      end
      local m = require("eidos.snapshot.model").from_doc(d, snap_origin)
      plan.meta.snapshot = snap_origin
      return require("eidos.validate").run(list, m, { strict = o.strict, recipe = recipe_origin, snapshot = snap_origin })
    end
    local result, info = require("eidos.validate.phases").run(plan)
    write_result(o, result, info)
    if ev then
      local n = ev:write(o["evidence-dir"], result)
      require("eidos.progress").wrote("evidence", o["evidence-dir"], require("eidos.text").count(n, "file"))
    end
    local code, msg = require("eidos.validate.result").exit(result, info.codes, o["fail-on-error"], o.strict)
    if code then errors.raise(code, msg) end
    if result.status ~= "pass" then
      local n = require("eidos.validate.result").counts(result)
      log.info(string.format("validation %s: %d passed, %d failed, %d skipped, %d error", result.status,
        n.passed, n.failed, n.skipped, n.error))
    end
    return 0
  end,
}
