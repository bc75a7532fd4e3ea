-- eidos snapshot: measure this node (and its cluster) and print a Snapshot
-- document. The collectors run in parallel, each with its own deadline;
-- by default a collector that fails is recorded with its reason and the
-- others still come out (--fail-fast turns any failure into an error).
-- Collection and document building: eidos.snapshot.collect; redaction and
-- filtering: eidos.snapshot.redact / .filter; table view: .view.
--
-- The snapshot agent (--deploy-agent ...): its flags and command side are
-- eidos.cli.agent, the Kubernetes side eidos.k8s.agent (one Job) and
-- eidos.k8s.fleet (--all-nodes, --prune). The collectors' own flags cannot
-- be used with --deploy-agent (the agent's node takes the snapshot with the
-- defaults). --watch (eidos.snapshot.watch) takes the snapshot again every
-- --interval and records drift.
local flags = require("eidos.cli.flags")
local docio = require("eidos.docio")
local errors = require("eidos.errors")
local log = require("eidos.log")
local collect = require("eidos.snapshot.collect")
local agent = require("eidos.cli.agent")

local LOCAL = { "deploy-agent", "prune" } -- what the collectors' own flags conflict with
local DAY = 24 * 3600 * 1000

local specs = flags.output({ "yaml", "json", "table" })
for _, s in ipairs({
  { name = "only", arg = "TYPES", type = "enum", open = true, values = collect.types, separator = ",",
    repeatable = true, conflicts = LOCAL, help = "collect only these measurement types, comma-separated" },
  { name = "exclude", arg = "TYPES", type = "enum", open = true, values = collect.types, separator = ",",
    repeatable = true, conflicts = LOCAL, help = "skip these measurement types" },
  { name = "timeout", arg = "DURATION", type = "duration", unit = "s", min = 1, max = DAY,
    help = "deadline of each collector, e.g. 500ms, 10s, 1m (default 10s; GPU 30s; K8s 60s; " ..
      "with --deploy-agent: of the agent Job, default 5m)" },
  { name = "gpu-timeout", arg = "DURATION", type = "duration", unit = "s", min = 1, max = DAY, conflicts = LOCAL,
    help = "deadline of the GPU collector (default --timeout, else 30s)" },
  { name = "fail-fast", conflicts = LOCAL,
    help = "fail when any measurement cannot be taken (exit 5 on a timeout, 6 unavailable)" },
  { name = "require-gpu", conflicts = "prune",
    help = "fail (exit 3) unless at least one GPU is found; with --deploy-agent also request one nvidia.com/gpu" },
  { name = "sysroot", arg = "DIR", type = "dir", env = "EIDOS_SYSROOT", conflicts = LOCAL,
    help = "read every file the collectors read below DIR (a node's root mounted elsewhere, or a fixture)" },
  { name = "unit", arg = "UNIT", repeatable = true, conflicts = LOCAL,
    help = "SystemD unit to describe (default containerd.service, docker.service, kubelet.service)" },
  { name = "timestamp", arg = "TIME", type = "timestamp", env = "SOURCE_DATE_EPOCH", conflicts = LOCAL,
    help = "pin metadata.timestamp: RFC 3339 (2026-01-02T15:04:05Z) or seconds since the epoch" },
  { name = "watch", conflicts = LOCAL,
    help = "take the snapshot every --interval; write it to -o when it changed and record the drift " ..
      "(a log line; with -o cm:// an Event on the node); stops on SIGTERM" },
  { name = "interval", arg = "DURATION", type = "duration", unit = "s", min = 100, max = DAY, default = "10m",
    requires = "watch", help = "with --watch: time between two snapshots" },
}) do specs[#specs + 1] = s end
for _, s in ipairs(agent.flags) do specs[#specs + 1] = s end

local function fail_code(status)
  if status == "timeout" then return "timeout" end
  if status == "unavailable" then return "unavailable" end
  return "failure"
end

-- the labels of a snapshot written to cm://: its node, and the fleet run
-- that wrote it (EIDOS_RUN_ID, set in the agent's pods)
local function cm_labels(d)
  return require("eidos.k8s.labels").node_labels(d.metadata and d.metadata["source-node"], os.getenv("EIDOS_RUN_ID"))
end

local function run(ctx)
  local o = ctx.opts
  if o["deploy-agent"] or o.prune then return agent.run(ctx) end
  if o.watch and (o.output == nil or o.output == "-") then
    errors.raise("invalid", "--watch keeps a stored snapshot current: give -o FILE or -o cm://NAMESPACE/NAME")
  end
  if o.watch and o.format == "table" then
    errors.raise("invalid", "--watch stores the snapshot, and a table cannot be read back (accepted: -t yaml, json)")
  end
  local only = collect.parse_types(o.only, "only")
  local excl = collect.parse_types(o.exclude, "exclude") or {}
  local types = {}
  for _, t in ipairs(collect.types()) do
    if (not only or only[t]) and not excl[t] then types[t] = true end
  end
  if o["require-gpu"] and not types.GPU then
    errors.raise("invalid", "--require-gpu needs the GPU measurement, but --only/--exclude leave it out")
  end
  if o.sysroot then
    local fs = require("eidos.core.fs")
    if fs.exists(o.sysroot) ~= "dir" then
      errors.raise("invalid", string.format("--sysroot %q is not a directory", o.sysroot))
    end
  end
  local function take()
    local timeout = o.timeout and math.ceil(o.timeout)
    local d, records = collect.collect({
      types = types,
      sysroot = o.sysroot,
      timeout_ms = timeout,
      k8s_timeout_ms = timeout,
      gpu_timeout_ms = o["gpu-timeout"] and math.ceil(o["gpu-timeout"]),
      units = o.unit,
      timestamp = o.timestamp,
      -- a watched node's snapshot leaves out the cluster-wide image and
      -- policy subtypes: they change with every rollout, not with the node
      k8s_subtypes = o.watch and { server = true, node = true } or nil,
    })
    local failures = collect.failures(records)
    for _, f in ipairs(failures) do
      log.info(string.format("%s: %s", f.what, f.reason or f.status))
    end
    if o["fail-fast"] and #failures > 0 then
      local f = failures[1]
      errors.raise(fail_code(f.status), string.format("%s measurement %s: %s (--fail-fast)", f.what,
        f.status == "error" and "failed" or f.status, f.reason or ""), { failures = failures })
    end
    if o["require-gpu"] and collect.gpu_count(d) <= 0 then
      local why = ""
      for _, m in ipairs(d.measurements) do
        if m.type == "GPU" then
          if m.status then why = m.reason or m.status end
          for _, st in ipairs(m.subtypes or {}) do
            if st.subtype == "smi" and st.context and st.context.reason then why = st.context.reason end
          end
        end
      end
      errors.raise("notfound", "--require-gpu was set but no GPU was detected" ..
        (why ~= "" and (": " .. why) or ""))
    end
    -- --hooks: snapshot(s) returns extra derived measurements, appended in
    -- hook order after the collected ones
    for _, extra in ipairs(require("eidos.hooks").collect("snapshot", d)) do
      local doc = require("eidos.doc")
      for _, m in ipairs(extra) do
        local subs = doc.list({})
        for _, st in ipairs(m.subtypes) do
          subs[#subs + 1] = doc.ordered({ subtype = st.subtype, data = st.data or {}, context = st.context },
            { "subtype", "data", "context" })
        end
        d.measurements[#d.measurements + 1] = doc.ordered({ type = m.type, subtypes = subs }, { "type", "subtypes" })
      end
    end
    return d
  end
  local function write(d)
    local l, a = cm_labels(d)
    docio.emit(d, {
      format = o.format, output = o.output, kind = "snapshot", labels = l, annotations = a,
      what = "snapshot", detail = collect.summary(d),
      table = function(v) return require("eidos.snapshot.view").render(v) end,
    })
  end
  if o.watch then
    return require("eidos.snapshot.watch").run(take, {
      output = o.output, interval = o.interval / 1000, kubeconfig = o.kubeconfig, context = o.context,
      node = collect.node_name(o.sysroot) or "unknown", write = write,
    })
  end
  write(take())
  return 0
end

return {
  name = "snapshot",
  summary = "Capture this node's GPU, OS, SystemD, topology and cluster configuration",
  usage = "eidos snapshot [-o PATH|cm://NS/NAME] [-t yaml|json|table] [--only TYPES] [--exclude TYPES] " ..
          "[--timeout DURATION] [--fail-fast] [--require-gpu] [--sysroot DIR]",
  description = table.concat({
    "Run the collectors in parallel (K8s, GPU, OS, SystemD, NodeTopology), each with its",
    "own deadline, and print a Snapshot document. A collector that fails or times out is",
    "recorded with its reason (status and reason on the measurement) and the others still",
    "come out, unless --fail-fast. Secrets (kernel arguments, unit environment entries and",
    "labels named like token, password, secret, key, credential) are replaced by <redacted>",
    "(policy: lua/eidos/snapshot/redact.lua). With the same --sysroot and --timestamp (or",
    "SOURCE_DATE_EPOCH) the output is byte-identical.",
  }, "\n"),
  flags = specs,
  examples = {
    "eidos snapshot",
    "eidos snapshot -t table --only GPU,OS",
    "eidos snapshot -o snapshot.yaml --require-gpu",
    "eidos snapshot -o cm://gpu-operator/eidos-snapshot",
    "eidos snapshot --sysroot /host --timestamp 2026-01-01T00:00:00Z",
    "eidos snapshot --deploy-agent --all-nodes --namespace eidos -o cm://eidos/fleet",
    "eidos snapshot --prune --keep 3 --namespace eidos",
    "eidos snapshot --watch --interval 10m -o cm://eidos/eidos-snapshot-$(hostname)",
  },
  run = run,
}
