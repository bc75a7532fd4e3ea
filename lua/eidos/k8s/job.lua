-- eidos.k8s.job: running a workload to completion on the cluster and
-- bringing back what it said, the one way eidos does it (the snapshot agent
-- of eidos.k8s.agent, the NCCL test of `validate --phase performance`):
--   * delete_and_wait: a previous object of the same name is deleted and
--     eidos waits until it is gone;
--   * wait: polls the object until a done or failed condition, the timeout,
--     or a pod that cannot start (image pull failure, or a pod the API
--     server refuses to create: PodSecurity, ...), telling where it is
--     through eidos.progress (a live line on a terminal, a log line every
--     few seconds without one); on failure the pods' logs and the events are
--     printed to stderr and a structured error names what happened;
--   * collect: the pods' logs and the events of the object and its pods
--     (sorted by time), as data for evidence;
--   * cleanup: deletes what was created (404 is fine), warns on the rest.
-- A "run" is {c=client, namespace=, name=, path= (of the object), what=
-- ("snapshot agent"), image=, timeout= (seconds), done=fn(obj) -> cond,
-- failed=fn(obj) -> cond, pods=fn(c, obj) -> list}; done/failed/pods
-- default to a batch/v1 Job's Complete/Failed conditions and its pods.
local errors = require("eidos.errors")
local log = require("eidos.log")
local client = require("eidos.k8s.client")
local sys = require("eidos.core.sys")

local M = {}

-- seconds between two looks (EIDOS_AGENT_POLL, a duration; a bare number is
-- seconds)
M.POLL = require("eidos.units").env("EIDOS_AGENT_POLL", "duration", { unit = "s", min = 1, default = 1000 }) / 1000

local progress = require("eidos.progress")

-- preflight(c, ns, needed, what): SelfSubjectAccessReviews for each
-- needed permission {verb, group, resource[/subresource], namespaced};
-- raises "unauthorized" listing every missing one ("cannot <what>: ...")
function M.preflight(c, ns, needed, what)
  local missing = {}
  for _, n in ipairs(needed) do
    local verb, group, res, namespaced = n[1], n[2], n[3], n[4]
    local resource, sub = res:match("^([^/]+)/?(.*)$")
    local ra = { verb = verb, group = group, resource = resource }
    if sub ~= "" then ra.subresource = sub end
    if namespaced then ra.namespace = ns end
    local r, err = c:create("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
      apiVersion = "authorization.k8s.io/v1", kind = "SelfSubjectAccessReview",
      spec = { resourceAttributes = ra } })
    if not r then client.check(nil, err) end
    if not (type(r.status) == "table" and r.status.allowed == true) then
      missing[#missing + 1] = string.format("%s %s%s%s", verb, res, group ~= "" and ("." .. group) or "",
        namespaced and (" in namespace " .. ns) or " (cluster-wide)")
    end
  end
  if #missing > 0 then
    errors.raise("unauthorized", "cannot " .. what .. ": the current credentials lack these permissions: "
      .. table.concat(missing, "; "))
  end
end

-- condition(obj, type) -> the condition of that type with status True, or nil
function M.condition(obj, ctype)
  local st = type(obj.status) == "table" and obj.status or {}
  for _, cnd in ipairs(type(st.conditions) == "table" and st.conditions or {}) do
    if cnd.type == ctype and cnd.status == "True" then return cnd end
  end
end

-- the pods of a batch/v1 Job
function M.job_pods(c, obj)
  local sel = "batch.kubernetes.io/controller-uid=" .. obj.metadata.uid
  return c:list(client.path("v1", "pods", obj.metadata.namespace), { label_selector = sel }) or {}
end

-- why a pod is not running yet, and whether that is fatal
function M.pod_state(pod)
  local st = type(pod.status) == "table" and pod.status or {}
  for _, cnd in ipairs(type(st.conditions) == "table" and st.conditions or {}) do
    if cnd.type == "PodScheduled" and cnd.status == "False" then
      return string.format("pod %s cannot be scheduled: %s", pod.metadata.name, tostring(cnd.message or cnd.reason)), false
    end
  end
  for _, cs in ipairs(type(st.containerStatuses) == "table" and st.containerStatuses or {}) do
    local w = type(cs.state) == "table" and cs.state.waiting
    if type(w) == "table" then
      local fatal = w.reason == "ImagePullBackOff" or w.reason == "ErrImagePull" or w.reason == "InvalidImageName"
        or w.reason == "CreateContainerConfigError"
      return string.format("pod %s: container %s is waiting: %s%s", pod.metadata.name, cs.name, tostring(w.reason),
        w.message and (": " .. w.message) or ""), fatal
    end
  end
  return string.format("pod %s is %s%s", pod.metadata.name, tostring(st.phase or "Pending"),
    pod.spec and pod.spec.nodeName and (" on node " .. pod.spec.nodeName) or ""), false
end

-- refusals(c, ns [, uid]) -> {[controller uid] = message}: the pods the API
-- server refused to create for a controller (a Job, a DaemonSet), from its
-- FailedCreate events whose message says "is forbidden" (PodSecurity, a
-- missing RuntimeClass or ServiceAccount, a quota): the controller retries
-- for ever, so waiting longer cannot help. The newest event of each wins.
-- uid narrows the look to one controller.
function M.refusals(c, ns, uid)
  local sel = "reason=FailedCreate" .. (uid and (",involvedObject.uid=" .. uid) or "")
  local out, at = {}, {}
  for _, e in ipairs(c:list(client.path("v1", "events", ns), { field_selector = sel }) or {}) do
    local u = type(e.involvedObject) == "table" and e.involvedObject.uid
    local msg = type(e.message) == "string" and e.message or ""
    local t = tostring(e.lastTimestamp ~= client.null and e.lastTimestamp or e.eventTime or "")
    if u and msg:find(" is forbidden: ", 1, true) and (not at[u] or t >= at[u]) then
      out[u], at[u] = msg, t
    end
  end
  return out
end

-- refused_state(msg) -> the state line of a refused pod, with the way out
function M.refused_state(msg)
  local hint = ""
  if msg:find("violates PodSecurity", 1, true) then
    hint = "; the namespace's Pod Security level does not allow the pod: label the namespace "
      .. "pod-security.kubernetes.io/enforce=privileged, or use a namespace that has that level"
  end
  return "the API server refused to create its pod: " .. msg:gsub("^Error creating: ", "") .. hint
end

-- delete_and_wait(c, path, what): delete what is at path (background
-- propagation) and wait until it is gone (at most 30 s)
function M.delete_and_wait(c, path, what)
  local _, err = c:delete(path, { propagation = "Background" })
  if err then
    if err.status == 404 then return end
    client.check(nil, err)
  end
  local t0 = sys.monotime()
  while sys.monotime() - t0 < 30 do
    local _, gerr = c:get(path)
    if gerr and gerr.status == 404 then return end
    sys.sleep(0.5)
  end
  errors.raise("timeout", string.format("the previous %s was not deleted within 30 s", what))
end

local function when(e)
  return tostring(e.lastTimestamp ~= client.null and e.lastTimestamp or e.eventTime or "")
end

-- collect(c, ns, obj, pods [, limit]) -> {logs = {{pod=, text=, error=}},
-- events = sorted list}; limit: bytes of log per pod (default 1 MiB)
function M.collect(c, ns, obj, pods, limit)
  local out = { logs = {}, events = {} }
  for _, pod in ipairs(pods) do
    local text, err = c:request("GET", client.path("v1", "pods", ns, pod.metadata.name) .. "/log?limitBytes="
      .. tostring(limit or 1048576), nil, { raw = true, accept = "text/plain" })
    out.logs[#out.logs + 1] = { pod = pod.metadata.name, text = text, error = err and err.msg or nil }
  end
  local objs = { obj }
  for _, p in ipairs(pods) do objs[#objs + 1] = p end
  for _, o in ipairs(objs) do
    for _, e in ipairs(c:list(client.path("v1", "events", ns),
                              { field_selector = "involvedObject.uid=" .. o.metadata.uid }) or {}) do
      out.events[#out.events + 1] = e
    end
  end
  table.sort(out.events, function(a, b)
    if when(a) ~= when(b) then return when(a) < when(b) end
    return (tonumber(a.metadata.resourceVersion) or 0) < (tonumber(b.metadata.resourceVersion) or 0)
  end)
  return out
end

-- print(run, got, kind): the logs and events of collect() on stderr
function M.print(run, got)
  local out = io.stderr
  for _, l in ipairs(got.logs) do
    out:write(string.format("--- %s log (pod %s/%s) ---\n", run.log_label or "agent", run.namespace, l.pod))
    out:write(l.text or ("(no log: " .. tostring(l.error) .. ")\n"))
    if l.text and l.text ~= "" and l.text:sub(-1) ~= "\n" then out:write("\n") end
    out:write("--- end log ---\n")
  end
  out:write(string.format("--- events (%s %s/%s and its pods) ---\n", run.kind or "Job", run.namespace, run.name))
  for _, e in ipairs(got.events) do
    out:write(string.format("%s  %-7s %-22s %s/%s: %s\n", tostring(e.lastTimestamp or e.eventTime or ""),
      tostring(e.type), tostring(e.reason), tostring(e.involvedObject and e.involvedObject.kind),
      tostring(e.involvedObject and e.involvedObject.name), tostring(e.message)))
  end
  if #got.events == 0 then out:write("(no events)\n") end
  out:write("--- end events ---\n")
end

local function done_job(obj) return M.condition(obj, "Complete") end
local function failed_job(obj) return M.condition(obj, "Failed") end

-- wait(run) -> obj (done), pods. The state goes to an eidos.progress
-- activity: run.progress when given (the caller's, which it finishes
-- itself), else one of its own named after the object. On failure,
-- timeout or a pod that cannot start: prints the logs and events
-- (run.on_failure(got) is called with them first, when given) and raises
-- "failure", "timeout" or "unavailable".
function M.wait(run)
  local c = run.c
  local done, failed, pods_of = run.done or done_job, run.failed or failed_job, run.pods or M.job_pods
  local p = run.progress or progress.new(string.format("%s %s %s/%s", run.what, run.kind or "Job", run.namespace,
    run.name))
  local t0 = sys.monotime()
  local state = "waiting for the pod"
  local warned = {}
  while true do
    local obj = client.check(c:get(run.path))
    local elapsed = sys.monotime() - t0
    if done(obj) then
      if not run.progress then p:finish("completed") end
      return obj, pods_of(c, obj)
    end
    local fcnd = failed(obj)
    local pods = pods_of(c, obj)
    local fatal, refused
    if pods[1] then
      state, fatal = M.pod_state(pods[#pods])
      if state:find("cannot be scheduled", 1, true) and not warned[state] then
        warned[state] = true
        log.warn(state)
      end
    elseif type(obj.metadata) == "table" and obj.metadata.uid then
      refused = M.refusals(c, run.namespace, obj.metadata.uid)[obj.metadata.uid]
      if refused then state, fatal = M.refused_state(refused), true end
    end
    if fcnd or fatal or elapsed >= run.timeout then
      p:finish(fcnd and "failed" or fatal and "cannot start" or "timed out")
      local got = M.collect(c, run.namespace, obj, pods)
      if run.on_failure then run.on_failure(got) end
      M.print(run, got)
      if fcnd then
        errors.raise("failure", string.format("the %s %s %s/%s failed: %s%s (its log and events are above)",
          run.what, run.kind or "Job", run.namespace, run.name, tostring(fcnd.reason),
          fcnd.message and (": " .. fcnd.message) or ""))
      elseif fatal then
        errors.raise("unavailable", string.format("the %s cannot start: %s%s", run.what, state,
          refused and "" or string.format(" (image %s)", tostring(run.image))))
      end
      errors.raise("timeout", string.format("the %s %s %s/%s did not finish within %s s: %s",
        run.what, run.kind or "Job", run.namespace, run.name, tostring(run.timeout), state))
    end
    p:update(state)
    sys.sleep(M.POLL)
  end
end

-- cleanup(c, list, what): delete each {path=, what=, opts=} (404 is fine);
-- a warning lists what could not be deleted
function M.cleanup(c, list, what)
  local problems = {}
  for _, d in ipairs(list) do
    local _, err = c:delete(d.path, d.opts)
    if err and err.status ~= 404 then problems[#problems + 1] = d.what .. ": " .. tostring(err.msg) end
  end
  if #problems > 0 then
    log.warn("cleanup of the " .. what .. " was incomplete: " .. table.concat(problems, "; "))
  end
end

return M
