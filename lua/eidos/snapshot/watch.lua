-- eidos.snapshot.watch: `eidos snapshot --watch`: keep a node's snapshot
-- current. Every interval the snapshot is taken again and compared with the
-- last one written (eidos.diff, leaving out M.IGNORE: timestamps and
-- counters that move on their own); when it changed it is written to -o and
-- the change is recorded as drift: a log line, and with -o cm:// a
-- Kubernetes Event on the node (reason SnapshotDrift, in the namespace
-- "default", where the API keeps events about nodes) naming the first
-- changes. The first snapshot is compared with
-- what -o already holds, so a restarted watcher notices what changed while
-- it was away. SIGTERM or SIGINT stops the loop between two snapshots (a
-- snapshot being taken is dropped, never half written) with exit 0. This
-- is the agent's long-running mode in deploy/agent/4-daemonset.yaml.
local diff = require("eidos.diff")
local docio = require("eidos.docio")
local errors = require("eidos.errors")
local log = require("eidos.log")
local sys = require("eidos.core.sys")

local M = {}

-- what a change of alone is no drift
M.IGNORE = { "metadata.timestamp", "SystemD.*.*Timestamp*", "SystemD.*.*Current", "SystemD.*.CPUUsageNSec",
             "SystemD.*.IO*Bytes", "SystemD.*.IO*Operations", "SystemD.*.IP*Bytes", "SystemD.*.IP*Packets" }
-- changes named in an event's message (the rest are counted)
M.SHOWN = 5
M.REASON = "SnapshotDrift"

-- the document already at the output, or nil
local function stored(output, opts)
  local ok, d = pcall(docio.load, output, { what = "snapshot", kubeconfig = opts.kubeconfig, context = opts.context })
  if ok then return d end
  if errors.is(d) and d.code == "notfound" then return nil end
  log.warn(string.format("watch: cannot read the snapshot at %s (%s); it is replaced", output,
    errors.is(d) and d.msg or tostring(d)))
end

-- summary(result) -> "3 changes: GPU.smi.driver 570.86.15 -> 580.105.08; ..."
function M.summary(r)
  local view = require("eidos.diff.view")
  local parts = {}
  for i, f in ipairs(r.findings) do
    if i > M.SHOWN then break end
    if f.change == "changed" then
      parts[#parts + 1] = string.format("%s %s -> %s", f.path, view.cut(view.one(f.old)), view.cut(view.one(f.new)))
    else
      parts[#parts + 1] = f.change .. " " .. f.path
    end
  end
  local n = r.summary.total
  local more = n > M.SHOWN and string.format("; and %d more", n - M.SHOWN) or ""
  return string.format("%d change%s: %s%s", n, n == 1 and "" or "s", table.concat(parts, "; "), more)
end

-- event(node, text, opts): a Warning event on the node, in the namespace
-- of the events about nodes (eidos.k8s.watch.EVENT_NAMESPACE)
function M.event(node, text, opts)
  local client = require("eidos.k8s.client")
  local ns = require("eidos.k8s.watch").EVENT_NAMESPACE
  local c = client.shared({ kubeconfig = opts.kubeconfig, context = opts.context })
  local ref = { apiVersion = "v1", kind = "Node", name = node }
  local n = c:get(client.path("v1", "nodes", nil, node))
  if n and type(n.metadata) == "table" then ref.uid = n.metadata.uid end
  local now = client.now_rfc3339()
  local msg = #text > 1000 and (text:sub(1, 997) .. "...") or text
  client.check(c:create(client.path("v1", "events", ns), {
    apiVersion = "v1", kind = "Event",
    metadata = { generateName = node .. ".", namespace = ns },
    involvedObject = ref, reason = M.REASON, message = msg, type = "Warning", count = 1,
    firstTimestamp = now, lastTimestamp = now,
    source = { component = "eidos-watch", host = node },
    reportingComponent = "eidos-watch", reportingInstance = node,
  }))
end

-- run(take, opts) -> 0 when stopped by a signal. take() -> a Snapshot
-- document; opts: output (file or cm://), format, interval (seconds),
-- node, write(d) (writes the document to output), kubeconfig, context
function M.run(take, opts)
  sys.catch_stop()
  local is_cm = opts.output:match("^cm://") ~= nil
  -- no cluster configured is not something a later try can change: stop
  -- now (exit 3), not once per interval
  if is_cm then require("eidos.k8s.client").shared({ kubeconfig = opts.kubeconfig, context = opts.context }) end
  local prev = stored(opts.output, opts)
  local n = 0
  while not sys.stopped() do
    local ok, e = pcall(function()
      local d = take()
      if sys.stopped() then return end
      -- compared as it reads back, as the stored one was
      local doc = require("eidos.doc")
      local cur = doc.decode(doc.encode(d, "yaml"), "snapshot")
      local r = prev and diff.run(prev, cur, { ignore = M.IGNORE })
      local md = type(cur.metadata) == "table" and cur.metadata or {}
      if type(md["source-node"]) == "string" then opts.node = md["source-node"] end
      if prev and not diff.differs(r) then
        log.debug("watch: no change", { node = opts.node })
        return
      end
      opts.write(d)
      if r then
        local text = M.summary(r)
        log.warn(string.format("drift on node %s: %s", opts.node, text))
        if is_cm then
          local eok, ee = pcall(M.event, opts.node, text, opts)
          if not eok then
            log.warn("watch: the drift event was not recorded: " .. (errors.is(ee) and ee.msg or tostring(ee)))
          end
        end
      else
        log.info(string.format("watch: wrote the snapshot of node %s to %s", opts.node, opts.output))
      end
      prev = cur
    end)
    n = n + 1
    if not ok then
      -- bad input stops; anything else (the API away, a full disk) is
      -- tried again at the next interval
      if errors.is(e) and e.code == "invalid" or not errors.is(e) then error(e, 0) end
      log.warn(string.format("watch: snapshot %d of node %s not written: %s (trying again in %s s)", n, opts.node,
        e.msg, tostring(opts.interval)))
    end
    if sys.pause(opts.interval) then break end
  end
  log.warn(string.format("watch: stopped by %s", sys.stopped()))
  return 0
end

return M
