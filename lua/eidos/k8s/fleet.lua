-- eidos.k8s.fleet: `eidos snapshot --deploy-agent --all-nodes`: a snapshot
-- of every node (or of those --node-selector picks), and `--prune`.
--
-- One Job per node, pinned to it by node affinity on metadata.name, at most
-- --parallel at a time. Jobs rather than a DaemonSet: a Job ends and says
-- whether it succeeded, so each node is done or failed with its own log and
-- events; the number running at once is ours to bound (a DaemonSet starts a
-- pod on every node together and restarts a failing one forever); a node
-- that cannot run the pod is a pending Job that times out. The DaemonSet is
-- for the long-running --watch (deploy/agent/4-daemonset.yaml).
--
-- Every run has its own id (M.run_id: the start time and randomness), and
-- everything it makes carries it: the ServiceAccount, Role, RoleBinding,
-- ClusterRole and ClusterRoleBinding (named <job-name>-<run>, the cluster
-- ones <job-name>-<ns>-<run>), the Jobs (<job-name>-<run>-<hash of the
-- node>) and the snapshots, labelled eidos.nvidia.com/run-id and
-- eidos.nvidia.com/node (eidos.k8s.labels). So two runs in one namespace
-- never touch each other's objects, and --prune can remove older runs.
--
-- Outputs: -o cm://NS/PREFIX writes PREFIX-<node> (the agents write it
-- themselves when NS is the agent's namespace; otherwise they write a
-- ConfigMap of their own that is copied, labelled, and deleted), -o DIR/
-- writes DIR/<node>.yaml (or .json). Each snapshot is written as its node
-- completes; nothing is kept in memory. A node that fails is reported with
-- its pod's log and its events while the others go on; nodes that are not
-- Ready fail at once. Exit: 0 when every node succeeded, else the code the
-- failures share (1 a Job failed, 5 a timeout, 6 an image that cannot be
-- pulled, a pod the API server refuses to create, or a node not Ready), 1
-- when they differ.
local errors = require("eidos.errors")
local log = require("eidos.log")
local client = require("eidos.k8s.client")
local cmstore = require("eidos.k8s.cmstore")
local labels = require("eidos.k8s.labels")
local agent = require("eidos.k8s.agent")
local jobs = require("eidos.k8s.job")
local sys = require("eidos.core.sys")

local M = {}

-- the progress of the run (a live line on a terminal, else a line every
-- few seconds) and its closing line
local progress = require("eidos.progress")

local B36 = "0123456789abcdefghijklmnopqrstuvwxyz"

local function base36(n, width)
  local s = ""
  repeat
    local d = n % 36
    s = B36:sub(d + 1, d + 1) .. s
    n = n // 36
  until n == 0
  return string.rep("0", width - #s) .. s
end

-- run_id() -> 11 characters: the start second (base 36, so ids sort by
-- time) and four random ones
function M.run_id()
  local f = io.open("/dev/urandom", "rb")
  local r = f and f:read(4) or tostring(sys.monotime())
  if f then f:close() end
  local x = 0
  for i = 1, #r do x = (x * 256 + r:byte(i)) % 1679616 end -- 36^4
  return base36(os.time(), 7) .. base36(x, 4)
end

local function hash8(s) return require("eidos.core.sha256").hex(s):sub(1, 8) end

-- cm_name(prefix, node) -> PREFIX-<node>, or PREFIX-<hash> when that is
-- no ConfigMap name
function M.cm_name(prefix, node)
  local n = prefix .. "-" .. node
  if cmstore.valid_subdomain(n) then return n end
  return prefix .. "-" .. hash8(node)
end

-- ---------------------------------------------------------------------------
-- nodes

local function ready(node)
  local st = type(node.status) == "table" and node.status or {}
  for _, c in ipairs(type(st.conditions) == "table" and st.conditions or {}) do
    if c.type == "Ready" then
      if c.status == "True" then return true end
      return false, string.format("node is not Ready (Ready=%s%s)", tostring(c.status),
        c.reason and (": " .. tostring(c.reason)) or "")
    end
  end
  return false, "node is not Ready (no Ready condition)"
end

-- nodes(c, selector) -> sorted list of {name=, ready=, why=}
local function nodes(c, selector)
  local items = client.check(c:list(client.path("v1", "nodes"), { label_selector = selector }))
  local out = {}
  for _, n in ipairs(items) do
    local name = type(n.metadata) == "table" and n.metadata.name
    if type(name) ~= "string" or not cmstore.valid_subdomain(name) then
      errors.raise("failure", string.format("the API server listed a node named %s, which is not a Kubernetes name",
        errors.show(name)))
    end
    local ok, why = ready(n)
    out[#out + 1] = { name = name, ready = ok, why = why }
  end
  local natcmp = require("eidos.core.emit").natcmp
  table.sort(out, function(a, b) return natcmp(a.name, b.name) < 0 end)
  return out
end

-- ---------------------------------------------------------------------------
-- one node's result

local function write_output(c, p, u)
  local out = p.output
  if out.cm and out.cm.ns == p.namespace then return "cm://" .. out.cm.ns .. "/" .. u.cm end
  local tmp = "cm://" .. p.namespace .. "/" .. u.cm
  local text = cmstore.read(tmp, { what = "snapshot", kubeconfig = p.kubeconfig, context = p.context })
  local l, a = labels.node_labels(u.node, p.run)
  local loc
  if out.cm then
    loc = "cm://" .. out.cm.ns .. "/" .. M.cm_name(out.cm.prefix, u.node)
    if p.format == "json" then text = require("eidos.doc").encode(require("eidos.doc").decode(text, tmp), "json") end
    cmstore.write(loc, text, { kind = "snapshot", format = p.format, labels = l, annotations = a,
                               kubeconfig = p.kubeconfig, context = p.context })
  else
    loc = out.dir .. "/" .. u.node .. "." .. p.format
    if p.format == "json" then text = require("eidos.doc").encode(require("eidos.doc").decode(text, tmp), "json") end
    require("eidos.docio").write(loc, text, { part = true })  -- the run's closing line names them all
  end
  if not p.no_cleanup then
    local _, err = c:delete(client.path("v1", "configmaps", p.namespace, u.cm))
    if err and err.status ~= 404 then log.warn("could not delete " .. tmp .. ": " .. tostring(err.msg)) end
  end
  return loc
end

local function delete_job(c, p, u)
  if p.no_cleanup then return end
  local _, err = c:delete(client.path("batch/v1", "jobs", p.namespace, u.name), { propagation = "Background" })
  if err and err.status ~= 404 then
    log.warn(string.format("could not delete Job %s: %s", u.name, tostring(err.msg)))
  end
end

local function fail(c, p, u, code, reason, job, pod)
  u.state, u.code, u.reason = "failed", code, reason
  io.stderr:write(string.format("\n=== node %s: %s ===\n", u.node, reason))
  if job then
    jobs.print({ namespace = p.namespace, name = job.metadata.name },
      jobs.collect(c, p.namespace, job, pod and { pod } or {}))
  end
  if job then delete_job(c, p, u) end
end

-- look at one running node -> nothing, or it is done / failed
local function check(c, p, u, job, pod, refused)
  if not job then
    return fail(c, p, u, "failure", string.format("Job %s/%s disappeared", p.namespace, u.name))
  end
  if jobs.condition(job, "Complete") then
    local ok, loc = pcall(write_output, c, p, u)
    if not ok then
      return fail(c, p, u, errors.is(loc) and loc.code or "internal", errors.is(loc) and loc.msg or tostring(loc))
    end
    u.state, u.loc = "done", loc
    delete_job(c, p, u)
    return
  end
  local failed = jobs.condition(job, "Failed")
  if failed then
    return fail(c, p, u, "failure", string.format("the agent Job %s/%s failed: %s%s", p.namespace, u.name,
      tostring(failed.reason), failed.message and (": " .. failed.message) or ""), job, pod)
  end
  local state, fatal = "waiting for the pod", false
  if pod then state, fatal = jobs.pod_state(pod) end
  local why = not pod and refused[job.metadata.uid]
  if why then
    return fail(c, p, u, "unavailable", "the agent cannot start: " .. jobs.refused_state(why), job)
  end
  if fatal then
    return fail(c, p, u, "unavailable", string.format("the agent cannot start: %s (image %s)", state, p.image),
      job, pod)
  end
  if sys.monotime() - u.started >= p.timeout then
    return fail(c, p, u, "timeout", string.format("the agent Job %s/%s did not finish within %s: %s",
      p.namespace, u.name, require("eidos.units").format_duration(p.timeout * 1000), state), job, pod)
  end
end

-- ---------------------------------------------------------------------------
-- the run

-- the permissions beyond one agent's (eidos.k8s.agent.NEEDED)
M.NEEDED = {
  { "list", "", "nodes", false }, { "list", "batch", "jobs", true }, { "delete", "", "configmaps", true },
  { "delete", "rbac.authorization.k8s.io", "roles", true },
  { "delete", "rbac.authorization.k8s.io", "rolebindings", true },
  { "delete", "rbac.authorization.k8s.io", "clusterroles", false },
  { "delete", "rbac.authorization.k8s.io", "clusterrolebindings", false },
}

local function counts(units)
  local n = { done = 0, failed = 0, running = 0, pending = 0 }
  for _, u in ipairs(units) do n[u.state] = n[u.state] + 1 end
  return n
end

local function summary(n)
  return string.format("%d done, %d failed, %d pending (%d running)", n.done, n.failed, n.pending + n.running,
    n.running)
end

local function by_label(list, key)
  local out = {}
  for _, o in ipairs(list or {}) do
    local l = type(o.metadata) == "table" and type(o.metadata.labels) == "table" and o.metadata.labels or {}
    local k = key and l[key] or o.metadata.name
    if k then out[k] = o end
  end
  return out
end

-- run(p) -> 0, or raises naming the failed nodes. p: eidos.cli.agent.params
-- plus output ({cm = {ns, prefix}} or {dir = path}), format, selector
-- (label selector of the nodes), parallel
function M.run(p)
  p.tolerations = p.tolerations or agent.TOLERATE_ALL
  p.node_selector = {}
  p.run = M.run_id()
  local base = p.job_name or agent.NAME
  local ns = p.namespace
  local c = client.shared({ kubeconfig = p.kubeconfig, context = p.context })
  local needed = {}
  for _, l in ipairs({ agent.NEEDED, M.NEEDED }) do for _, n in ipairs(l) do needed[#needed + 1] = n end end
  jobs.preflight(c, ns, needed, "run the fleet snapshot")
  local list = nodes(c, p.selector)
  if #list == 0 then
    errors.raise("notfound", p.selector and string.format("no node matches --node-selector %s", p.selector)
      or "the cluster lists no node")
  end
  if p.output.dir then errors.check(require("eidos.core.fs").mkdir_p(p.output.dir)) end
  local units, cms = {}, {}
  for _, n in ipairs(list) do
    local name = base .. "-" .. p.run .. "-" .. hash8(n.name)
    local direct = p.output.cm and p.output.cm.ns == ns
    local l = labels.node_labels(n.name, p.run)
    local u = { node = n.name, name = name, cm = direct and M.cm_name(p.output.cm.prefix, n.name) or name,
                state = "pending", labels = l }
    cms[#cms + 1] = u.cm
    units[#units + 1] = u
    if not n.ready then u.state, u.code, u.reason = "failed", "unavailable", n.why end
  end
  p.labels = { [labels.RUN] = p.run }
  if p.output.cm and p.output.cm.ns == ns then p.agent_format = p.format end -- they write -o themselves
  p.cm_names = cms
  p.role_name = base .. "-" .. p.run
  p.cluster_role = base .. "-" .. ns .. "-" .. p.run
  if not p.sa_given then p.service_account = p.role_name end
  agent.ensure_namespace(c, ns)
  local objs = agent.objects(p)
  local prog = progress.new(string.format("fleet run %s in %s, %s", p.run, ns, require("eidos.text").count(#units, "node")))
  log.info(string.format("fleet run %s: %s, %d at a time (image %s)", p.run, require("eidos.text").count(#units, "node"), p.parallel, p.image))
  local ok, err = pcall(function()
    for _, o in ipairs(objs) do agent.apply(c, o) end
    local next_i = 1
    while true do
      local n = counts(units)
      while n.running < p.parallel and next_i <= #units do
        local u = units[next_i]
        next_i = next_i + 1
        if u.state == "pending" then
          client.check(c:create(client.path("batch/v1", "jobs", ns), agent.job(p, u)))
          u.state, u.started = "running", sys.monotime()
          n.running, n.pending = n.running + 1, n.pending - 1
        end
      end
      prog:update(summary(n))
      if n.running == 0 then break end
      sys.sleep(jobs.POLL)
      local sel = labels.RUN .. "=" .. p.run
      local job_of = by_label(client.check(c:list(client.path("batch/v1", "jobs", ns), { label_selector = sel })))
      local pods = by_label(client.check(c:list(client.path("v1", "pods", ns), { label_selector = sel })), "job-name")
      -- pods the API refused to create (PodSecurity, ...): one look for all
      local refused = {}
      for _, u in ipairs(units) do
        if u.state == "running" and job_of[u.name] and not pods[u.name] then
          refused = jobs.refusals(c, ns)
          break
        end
      end
      for _, u in ipairs(units) do
        if u.state == "running" then check(c, p, u, job_of[u.name], pods[u.name], refused) end
      end
    end
  end)
  if p.no_cleanup then
    log.info(string.format("kept the Jobs, RBAC objects and ConfigMaps of run %s in namespace %s (--no-cleanup)",
      p.run, ns))
  else
    if not ok then
      for _, u in ipairs(units) do if u.state == "running" then delete_job(c, p, u) end end
    end
    jobs.cleanup(c, agent.removals(objs), "fleet run " .. p.run)
  end
  if not ok then error(err, 0) end
  local n = counts(units)
  prog:finish(string.format("%d done, %d failed", n.done, n.failed))
  if n.done > 0 then
    local where = p.output.cm and ("cm://" .. p.output.cm.ns .. "/" .. p.output.cm.prefix .. "-*")
      or (p.output.dir .. "/*." .. p.format)
    progress.wrote(string.format("%d snapshot%s", n.done, n.done == 1 and "" or "s"), where)
  end
  if n.failed == 0 then return 0 end
  local code, lines = nil, {}
  for _, u in ipairs(units) do
    if u.state == "failed" then
      code = (code == nil or code == u.code) and u.code or "failure"
      lines[#lines + 1] = string.format("  %s: %s", u.node, u.reason)
    end
  end
  errors.raise(code, string.format("%d of %d nodes failed (run %s; the others were written):\n%s", n.failed, #units,
    p.run, table.concat(lines, "\n")))
end

-- ---------------------------------------------------------------------------
-- prune

-- what a run leaves behind, namespaced or not
local KINDS = {
  { "v1", "configmaps", true, "ConfigMaps" }, { "batch/v1", "jobs", true, "Jobs" },
  { "v1", "serviceaccounts", true, "ServiceAccounts" },
  { "rbac.authorization.k8s.io/v1", "roles", true, "Roles" },
  { "rbac.authorization.k8s.io/v1", "rolebindings", true, "RoleBindings" },
  { "rbac.authorization.k8s.io/v1", "clusterroles", false, "ClusterRoles" },
  { "rbac.authorization.k8s.io/v1", "clusterrolebindings", false, "ClusterRoleBindings" },
}

-- prune(p) -> 0: removes what the runs in p.namespace made (everything
-- labelled eidos.nvidia.com/run-id) but for the p.keep newest runs. A run's
-- age is its oldest object's creationTimestamp (ties: the run id, which
-- starts with the start time).
function M.prune(p)
  local c = client.shared({ kubeconfig = p.kubeconfig, context = p.context })
  local ns = p.namespace
  local runs, found = {}, {}
  for i, k in ipairs(KINDS) do
    local items = client.check(c:list(client.path(k[1], k[2], k[3] and ns or nil), { label_selector = labels.RUN }))
    found[i] = items
    for _, o in ipairs(k[3] and items or {}) do
      local id = o.metadata.labels[labels.RUN]
      local t = client.parse_time(o.metadata.creationTimestamp) or 0
      local r = runs[id]
      if not r then
        r = { id = id, t = t }
        runs[id] = r
        runs[#runs + 1] = r
      elseif t < r.t then r.t = t end
    end
  end
  table.sort(runs, function(a, b)
    if a.t ~= b.t then return a.t > b.t end
    return a.id > b.id
  end)
  local drop = {}
  for i = p.keep + 1, #runs do drop[runs[i].id] = {} end
  local problems = {}
  for i, k in ipairs(KINDS) do
    for _, o in ipairs(found[i]) do
      local id = o.metadata.labels[labels.RUN]
      -- cluster-wide objects only of this namespace's runs (run ids are unique)
      if drop[id] then
        local _, err = c:delete(client.path(k[1], k[2], k[3] and ns or nil, o.metadata.name),
          k[2] == "jobs" and { propagation = "Background" } or nil)
        if err and err.status ~= 404 then
          problems[#problems + 1] = string.format("%s %s: %s", k[4], o.metadata.name, tostring(err.msg))
        else
          drop[id][k[4]] = (drop[id][k[4]] or 0) + 1
        end
      end
    end
  end
  local removed = {}
  for i = p.keep + 1, #runs do
    local id, parts = runs[i].id, {}
    for _, k in ipairs(KINDS) do
      local n = drop[id][k[4]]
      if n then parts[#parts + 1] = string.format("%d %s", n, k[4]) end
    end
    removed[#removed + 1] = string.format("  %s: %s", id, table.concat(parts, ", "))
  end
  local kept = {}
  for i = 1, math.min(p.keep, #runs) do kept[#kept + 1] = runs[i].id end
  io.stderr:write(string.format("eidos: prune in namespace %s: %d run%s, kept %d (%s), removed %d%s\n", ns, #runs,
    #runs == 1 and "" or "s", #kept, #kept > 0 and table.concat(kept, ", ") or "none", #removed,
    #removed > 0 and (":\n" .. table.concat(removed, "\n")) or ""))
  if #problems > 0 then
    errors.raise("failure", "prune was incomplete: " .. table.concat(problems, "; "))
  end
  return 0
end

return M
