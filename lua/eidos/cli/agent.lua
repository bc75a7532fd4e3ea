-- eidos.cli.agent: the command side of `eidos snapshot --deploy-agent`: the
-- agent's flags (each needs --deploy-agent), their translation into the parameters of the
-- Kubernetes side (eidos.k8s.agent: objects, deploy, wait), and writing the
-- snapshot it brings back to -o in --format.
local errors = require("eidos.errors")

local M = {}

local AGENT = "deploy-agent"

-- agent_flags(requires) -> the agent's flag specs; requires: the flag they
-- need (snapshot: --deploy-agent), or nil (validate, where the agent runs
-- when no --snapshot is given)
function M.agent_flags(requires)
  return {
    { name = "namespace", short = "n", arg = "NS", requires = requires,
      help = "namespace of the agent Job (default default)" },
    { name = "image", arg = "IMAGE", requires = requires,
      help = "container image of the agent (default ghcr.io/nvidia/eidos:<version>)" },
    { name = "node-selector", arg = "KEY=VALUE", repeatable = true, requires = requires,
      help = "schedule the agent on a node with this label" },
    { name = "toleration", arg = "KEY[=VALUE]:EFFECT", repeatable = true, requires = requires,
      help = "tolerate a taint (default: tolerate all); EFFECT is NoSchedule, PreferNoSchedule or NoExecute" },
    { name = "runtime-class", arg = "NAME", requires = requires,
      help = "runtimeClassName of the agent pod (e.g. nvidia, to see the GPUs)" },
    { name = "no-cleanup", requires = requires, help = "keep the Job, its RBAC objects and ConfigMap after the run" },
  }
end

-- flag specs for the snapshot command
M.flags = { { name = AGENT, help = "run the snapshot on a cluster node as a Kubernetes Job and fetch the result" } }
for _, f in ipairs(M.agent_flags(AGENT)) do M.flags[#M.flags + 1] = f end

-- params(opts [, output]) -> the parameters of eidos.k8s.agent.deploy. With
-- --deploy-agent, the snapshot command's --timeout is how long to wait for
-- the Job (default 5m). output: where the snapshot goes (default opts.output;
-- validate passes false: the snapshot is only read back)
function M.params(opts, output)
  if os.getenv("EIDOS_AGENT_MODE") == "true" then
    errors.raise("invalid", "--deploy-agent inside the agent (EIDOS_AGENT_MODE=true): the agent does not deploy itself")
  end
  local labels = require("eidos.k8s.labels")
  local agent = require("eidos.k8s.agent")
  local timeout = opts.timeout or require("eidos.units").duration(agent.DEFAULT_TIMEOUT)
  local p = {
    namespace = opts.namespace or agent.DEFAULT_NAMESPACE,
    image = opts.image or agent.default_image(),
    timeout = timeout / 1000,
    node_selector = labels.selectors(opts["node-selector"], "node-selector"),
    tolerations = opts.toleration and labels.tolerations(opts.toleration, "toleration") or nil,
    runtime_class = opts["runtime-class"],
    no_cleanup = opts["no-cleanup"],
    kubeconfig = opts.kubeconfig, context = opts.context,
  }
  local cmstore = require("eidos.k8s.cmstore")
  cmstore.parse("cm://" .. p.namespace .. "/x")          -- validates the namespace
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

-- run(ctx) -> 0: deploys, then writes the snapshot to -o in --format
-- (nothing more when -o is the ConfigMap the agent wrote)
function M.run(ctx)
  local o = ctx.opts
  local text, loc = require("eidos.k8s.agent").deploy(M.params(o))
  if o.output == loc then return 0 end
  local d = require("eidos.doc").decode(text, loc)
  require("eidos.docio").emit(d, {
    format = o.format or "yaml", output = o.output, kind = "snapshot",
    kubeconfig = o.kubeconfig, context = o.context,
    table = function(v) return require("eidos.snapshot.view").render(v) end,
  })
  return 0
end

return M
