-- eidos.cli.agent: the command side of `eidos snapshot --deploy-agent`
-- (one Job, or with --all-nodes one Job per node: eidos.k8s.fleet) and of
-- `eidos snapshot --prune`: the agent's flags (each needs --deploy-agent),
-- their translation into the parameters of the Kubernetes side
-- (eidos.k8s.agent: objects, deploy, wait), and writing the snapshot it
-- brings back to -o in --format.
local errors = require("eidos.errors")

local M = {}

local AGENT = "deploy-agent"

-- agent_flags(requires [, ns_requires]) -> the agent's flag specs;
-- requires: the flag they need (snapshot: --deploy-agent), or nil
-- (validate, where the agent runs when no --snapshot is given);
-- ns_requires: what --namespace needs, when it is not requires
function M.agent_flags(requires, ns_requires)
  return {
    { name = "namespace", short = "n", arg = "NS", requires = ns_requires or requires,
      help = "namespace of the agent Jobs (default default)" },
    { name = "image", arg = "IMAGE", requires = requires,
      help = "container image of the agent (default ghcr.io/nvidia/eidos:<version>)" },
    { name = "image-pull-secret", arg = "NAME", repeatable = true, requires = requires,
      help = "a Secret the agent pod pulls its image with (imagePullSecrets)" },
    { name = "service-account-name", arg = "NAME", requires = requires,
      help = "ServiceAccount the agent runs as; created when missing and then kept (default: one made per run)" },
    { name = "job-name", arg = "NAME", requires = requires,
      help = "name of the agent Job (default eidos-agent); with --all-nodes the prefix of each run's Jobs" },
    { name = "node-selector", arg = "KEY=VALUE", repeatable = true, requires = requires,
      help = "schedule the agent on a node with this label; with --all-nodes: snapshot the nodes with it" },
    { name = "toleration", arg = "KEY[=VALUE]:EFFECT", repeatable = true, requires = requires,
      help = "tolerate a taint (default: tolerate all); EFFECT is NoSchedule, PreferNoSchedule or NoExecute" },
    { name = "runtime-class", arg = "NAME", requires = requires,
      help = "runtimeClassName of the agent pod (e.g. nvidia, to see the GPUs)" },
    { name = "privileged", requires = requires,
      help = "run the agent container privileged (all devices and capabilities; default: none)" },
    { name = "no-cleanup", requires = requires, help = "keep the Jobs, their RBAC objects and ConfigMaps after the run" },
  }
end

-- flag specs for the snapshot command: the agent's, and those of fleet runs
M.flags = { { name = AGENT, help = "run the snapshot on a cluster node as a Kubernetes Job and fetch the result" } }
for _, f in ipairs(M.agent_flags(AGENT, { { AGENT, "prune" } })) do M.flags[#M.flags + 1] = f end
for _, f in ipairs({
  { name = "all-nodes", requires = AGENT,
    help = "snapshot every node (or those of --node-selector), one Job per node; -o cm://NS/PREFIX or -o DIR/" },
  { name = "parallel", arg = "N", type = "int", min = 1, max = 1000, default = "10", requires = "all-nodes",
    help = "with --all-nodes: how many nodes are snapshotted at once" },
  { name = "prune", conflicts = AGENT,
    help = "remove the ConfigMaps and Jobs of older fleet runs in --namespace, keeping the newest --keep" },
  { name = "keep", arg = "N", type = "int", min = 0, max = 100000, default = "3", requires = "prune",
    help = "with --prune: how many of the newest runs to keep" },
}) do M.flags[#M.flags + 1] = f end

local function dns_names(list, flag, subdomain)
  local cmstore = require("eidos.k8s.cmstore")
  for _, n in ipairs(list or {}) do
    local ok = subdomain and cmstore.valid_subdomain(n) or (not subdomain and cmstore.valid_label(n))
    if not ok then
      errors.raise("invalid", string.format("--%s %q is not a valid Kubernetes name (lower-case letters, digits and " ..
        "'-'%s, starting and ending with a letter or digit, at most %d characters)", flag, n,
        subdomain and ", dot-separated" or "", subdomain and 253 or 63))
    end
  end
  return list
end

-- the Job name prefix of a fleet run leaves room for "-<run>-<hash>"
M.FLEET_JOB_PREFIX_MAX = 63 - 1 - 11 - 1 - 8

-- params(opts [, output]) -> the parameters of eidos.k8s.agent.deploy (and
-- of eidos.k8s.fleet.run). With --deploy-agent, the snapshot command's
-- --timeout is how long to wait for a Job (default 5m). output: where the
-- snapshot goes (default opts.output; validate passes false: the snapshot
-- is only read back)
function M.params(opts, output)
  if os.getenv("EIDOS_AGENT_MODE") == "true" then
    errors.raise("invalid", "--deploy-agent inside the agent (EIDOS_AGENT_MODE=true): the agent does not deploy itself")
  end
  if opts["require-gpu"] and opts["runtime-class"] then
    errors.raise("invalid", "--require-gpu and --runtime-class cannot be used together with --deploy-agent: " ..
      "--require-gpu requests one nvidia.com/gpu for the agent pod, --runtime-class lets it see the GPUs " ..
      "without taking one (prefer --runtime-class on busy nodes)")
  end
  local labels = require("eidos.k8s.labels")
  local agent = require("eidos.k8s.agent")
  local timeout = opts.timeout or require("eidos.units").duration(agent.DEFAULT_TIMEOUT)
  local job = opts["job-name"]
  dns_names({ job }, "job-name", false)
  if job and opts["all-nodes"] and #job > M.FLEET_JOB_PREFIX_MAX then
    errors.raise("invalid", string.format("--job-name %q has %d characters; with --all-nodes it is the prefix of " ..
      "each Job's name and may have at most %d", job, #job, M.FLEET_JOB_PREFIX_MAX))
  end
  local sa = dns_names({ opts["service-account-name"] }, "service-account-name", true)[1]
  local p = {
    namespace = opts.namespace or agent.DEFAULT_NAMESPACE,
    image = opts.image or agent.default_image(),
    timeout = timeout / 1000,
    node_selector = labels.selectors(opts["node-selector"], "node-selector"),
    tolerations = opts.toleration and labels.tolerations(opts.toleration, "toleration") or nil,
    runtime_class = opts["runtime-class"],
    no_cleanup = opts["no-cleanup"],
    job_name = job,
    service_account = sa, sa_given = sa ~= nil,
    image_pull_secrets = dns_names(opts["image-pull-secret"], "image-pull-secret", true),
    privileged = opts.privileged or nil,
    require_gpu = opts["require-gpu"] or nil,
    parallel = opts.parallel,
    kubeconfig = opts.kubeconfig, context = opts.context,
  }
  local cmstore = require("eidos.k8s.cmstore")
  cmstore.parse("cm://" .. p.namespace .. "/x")          -- validates the namespace
  if opts["all-nodes"] then return p end
  -- the Job writes into its own namespace only (its Role allows nothing else)
  local out = output == nil and opts.output or output or nil
  local uns, uname
  if type(out) == "string" and out:match("^cm://") then uns, uname = cmstore.parse(out) end
  if uns == p.namespace then
    p.cm_name = uname
  else
    p.cm_name, p.cm_temporary = agent.DEFAULT_CM, true
  end
  return p
end

-- fleet_output(opts) -> {cm = {ns, prefix}} | {dir = path}: where a fleet
-- run writes (-o cm://NS/PREFIX gives PREFIX-<node>, -o DIR/ DIR/<node>.yaml)
function M.fleet_output(opts)
  local o = opts.output
  local usage = "--all-nodes writes one snapshot per node: give -o cm://NAMESPACE/PREFIX (ConfigMaps PREFIX-<node>) " ..
    "or -o DIR/ (files DIR/<node>.yaml)"
  if o == nil or o == "-" then errors.raise("invalid", usage) end
  if opts.format == "table" then
    errors.raise("invalid", "--all-nodes stores snapshots, and a table cannot be read back (accepted: -t yaml, json)")
  end
  if o:match("^cm://") then
    local ns, prefix = require("eidos.k8s.cmstore").parse(o)
    return { cm = { ns = ns, prefix = prefix } }
  end
  if o:match("^%a[%w+.-]*://") then errors.raise("invalid", string.format("-o %q: %s", o, usage)) end
  local fs = require("eidos.core.fs")
  local kind = fs.exists(o)
  if kind == "dir" or (kind == nil and o:sub(-1) == "/") then
    local d = o:gsub("/+$", "")
    return { dir = d ~= "" and d or "/" }
  end
  errors.raise("invalid", string.format("-o %q is %s: %s", o, kind and ("a " .. kind) or "not a directory", usage))
end

-- run(ctx) -> 0: deploys, then writes the snapshot to -o in --format
-- (nothing more than the closing line when -o is the ConfigMap the agent
-- wrote)
function M.run(ctx)
  local o = ctx.opts
  if o.prune then
    for _, f in ipairs({ "output", "format" }) do
      if o._given[f] then
        errors.raise("invalid", string.format("--prune writes no snapshot: leave --%s out (it removes older runs' " ..
          "ConfigMaps and Jobs in --namespace and says what it removed)", f))
      end
    end
    return require("eidos.k8s.fleet").prune({ namespace = o.namespace or require("eidos.k8s.agent").DEFAULT_NAMESPACE,
      keep = o.keep, kubeconfig = o.kubeconfig, context = o.context })
  end
  local p = M.params(o)
  local cmstore = require("eidos.k8s.cmstore")
  -- a ConfigMap output in a namespace that does not exist fails before any Job runs
  if o["all-nodes"] then
    p.output, p.format = M.fleet_output(o), o.format or "yaml"
    p.selector = o["node-selector"] and table.concat(o["node-selector"], ",") or nil
    if p.output.cm then cmstore.check_namespace(o.output, o) end
    return require("eidos.k8s.fleet").run(p)
  end
  if type(o.output) == "string" and o.output:match("^cm://") then cmstore.check_namespace(o.output, o) end
  local text, loc = require("eidos.k8s.agent").deploy(p)
  local d = require("eidos.doc").decode(text, loc)
  local detail = require("eidos.snapshot.collect").summary(d)
  if o.output == loc then
    require("eidos.progress").wrote("snapshot", loc, detail, #text)
    return 0
  end
  require("eidos.docio").emit(d, {
    format = o.format or "yaml", output = o.output, kind = "snapshot", what = "snapshot", detail = detail,
    kubeconfig = o.kubeconfig, context = o.context,
    table = function(v) return require("eidos.snapshot.view").render(v) end,
  })
  return 0
end

return M
