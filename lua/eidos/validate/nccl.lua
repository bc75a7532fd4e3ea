-- eidos.validate.nccl: the mechanics of the NCCL all-reduce test of
-- `validate --phase performance` (its policy -- image, thresholds, which
-- nodes -- is the check module nccl-all-reduce-bw):
--   * parse(text): the bus bandwidth from nccl-tests' all_reduce_perf
--     output: the out-of-place busbw of the largest message size (the
--     figure a network is judged by; small sizes measure latency), the
--     "Avg bus bandwidth" line, the #wrong column and the out-of-bounds line;
--   * the objects that run it, over N GPU nodes, one pod per node with all
--     its GPUs: with the Kubeflow Trainer when the recipe deploys it (a
--     TrainingRuntime with an MPI policy and a TrainJob; the Trainer makes
--     the SSH keys), else a plain Indexed Job with a headless Service, whose
--     pod 0 runs mpirun over SSH (a fresh Ed25519 key pair in a Secret) and
--     the others run sshd until it is done;
--   * run(c, spec): checks the permissions, replaces a previous run,
--     creates the objects, waits with progress (eidos.k8s.job, exactly as
--     the snapshot agent), collects every pod's log and the events, and
--     deletes what it created (unless spec.no_cleanup), also after a failure.
local errors = require("eidos.errors")
local client = require("eidos.k8s.client")
local job = require("eidos.k8s.job")

local M = {}

M.NAME = "eidos-nccl"
M.LABEL = "eidos.nvidia.com/check"
M.CHECK = "nccl-all-reduce-bw"

-- ---------------------------------------------------------------------------
-- output

local function split(line)
  local t = {}
  for w in line:gmatch("%S+") do t[#t + 1] = w end
  return t
end

-- parse(text) -> {busbw=, size=, avg=, rows=N, wrong=N, out_of_bounds=N|nil}
-- or nil, why. A row: size count type redop [root] time algbw busbw #wrong
-- time algbw busbw #wrong (the root column is absent before nccl-tests 2.10).
function M.parse(text)
  local best, rows, wrong, avg, oob = nil, 0, 0, nil, nil
  for line in (tostring(text) .. "\n"):gmatch("([^\n]*)\n") do
    local t = split(line)
    if t[1] and t[1]:match("^%d+$") and t[2] and t[2]:match("^%d+$") and (#t == 13 or #t == 12) then
      local off = #t == 13 and 1 or 0
      local busbw, w = tonumber(t[7 + off]), tonumber(t[8 + off])
      if busbw then
        rows = rows + 1
        wrong = wrong + (w or 0) + (tonumber(t[#t]) or 0)
        local size = tonumber(t[1])
        if not best or size >= best.size then best = { size = size, busbw = busbw } end
      end
    end
    local a = line:match("^#%s*Avg bus bandwidth%s*:%s*([%d.]+)")
    if a then avg = tonumber(a) end
    local o = line:match("^#%s*Out of bounds values%s*:%s*(%d+)")
    if o then oob = tonumber(o) end
  end
  if not best then
    local n = select(2, tostring(text):gsub("\n", ""))
    return nil, string.format("no all_reduce_perf result rows in the output (%d lines)", n)
  end
  return { busbw = best.busbw, size = best.size, avg = avg, rows = rows, wrong = wrong, out_of_bounds = oob }
end

-- ---------------------------------------------------------------------------
-- an OpenSSH Ed25519 key pair, for the plain Job's mpirun

local function sshstr(s) return string.pack(">s4", s) end

-- ssh_keypair(comment) -> private key (OpenSSH PEM text), public key line
function M.ssh_keypair(comment)
  local b64 = require("eidos.core.base64")
  local seed, pub, code = require("eidos.core.sign").ed25519_keypair()
  if not seed then errors.raise(code or "failure", "cannot make the SSH key of the NCCL test: " .. tostring(pub)) end
  local pubblob = sshstr("ssh-ed25519") .. sshstr(pub)
  local check = string.unpack(">I4", seed) -- any 32-bit value, twice
  local priv = string.pack(">I4I4", check, check) .. sshstr("ssh-ed25519") .. sshstr(pub)
    .. sshstr(seed .. pub) .. sshstr(comment)
  local pad = 1
  while #priv % 8 ~= 0 do priv = priv .. string.char(pad); pad = pad + 1 end
  local blob = "openssh-key-v1\0" .. sshstr("none") .. sshstr("none") .. sshstr("") .. string.pack(">I4", 1)
    .. sshstr(pubblob) .. sshstr(priv)
  local enc = b64.encode(blob)
  local lines = { "-----BEGIN OPENSSH PRIVATE KEY-----" }
  for i = 1, #enc, 70 do lines[#lines + 1] = enc:sub(i, i + 69) end
  lines[#lines + 1] = "-----END OPENSSH PRIVATE KEY-----"
  return table.concat(lines, "\n") .. "\n", "ssh-ed25519 " .. b64.encode(pubblob) .. " " .. comment .. "\n"
end

-- ---------------------------------------------------------------------------
-- objects

local function labels() return { [M.LABEL] = M.CHECK, ["app.kubernetes.io/managed-by"] = "eidos" } end

local function resources(spec)
  local r = { [require("eidos.validate.kube").GPU] = tostring(spec.gpus) }
  for k, v in pairs(spec.extra_resources or {}) do r[k] = tostring(v) end
  return { limits = r, requests = r }
end

local function env_list(spec)
  local out = {}
  for _, k in ipairs(require("eidos.doc").keys(spec.env or {})) do out[#out + 1] = { name = k, value = spec.env[k] } end
  return out
end

-- mpirun's command line: N x GPUs ranks of the test binary
local function mpirun(spec, hosts, port)
  local w = { spec.mpirun, "--allow-run-as-root", "-np", tostring(spec.nodes * spec.gpus), "--bind-to", "none",
              "--mca", "plm_rsh_args", string.format("'%s-o StrictHostKeyChecking=no -o ConnectionAttempts=30'",
                port and ("-p " .. port .. " ") or "") }
  if hosts then w[#w + 1] = "-H"; w[#w + 1] = hosts end
  for _, k in ipairs(require("eidos.doc").keys(spec.env or {})) do w[#w + 1] = "-x"; w[#w + 1] = k end
  w[#w + 1] = spec.binary
  for _, a in ipairs(spec.args) do w[#w + 1] = a end
  return table.concat(w, " ")
end

-- the plain Indexed Job: {path=, obj=, kind=, name=} in creation order
function M.job_objects(spec)
  local ns, name = spec.namespace, M.NAME
  local priv, pub = M.ssh_keypair("eidos-nccl@" .. ns)
  local hosts = {}
  for i = 0, spec.nodes - 1 do hosts[#hosts + 1] = string.format("%s-%d.%s:%d", name, i, name, spec.gpus) end
  local script = table.concat({
    "set -u",
    "mkdir -p /root/.ssh /run/sshd && chmod 700 /root/.ssh",
    "cp /etc/eidos-nccl/id_ed25519 /root/.ssh/id_ed25519 && chmod 600 /root/.ssh/id_ed25519",
    "cp /etc/eidos-nccl/authorized_keys /root/.ssh/authorized_keys && chmod 600 /root/.ssh/authorized_keys",
    "ssh-keygen -A >/dev/null 2>&1 || true",
    "/usr/sbin/sshd -p 2222 -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no",
    'if [ "$JOB_COMPLETION_INDEX" != 0 ]; then',
    "  while [ ! -e /tmp/eidos-nccl-done ]; do sleep 2; done; exit 0",
    "fi",
    mpirun(spec, table.concat(hosts, ","), 2222),
    "rc=$?",
    string.format('for i in $(seq 1 %d); do ssh -p 2222 -o StrictHostKeyChecking=no %s-$i.%s touch /tmp/eidos-nccl-done; done',
      spec.nodes - 1, name, name),
    "exit $rc",
  }, "\n")
  local pod = {
    metadata = { labels = labels() },
    spec = {
      restartPolicy = "Never", subdomain = name,
      nodeSelector = next(spec.node_selector or {}) and spec.node_selector or nil,
      tolerations = { { operator = "Exists" } },
      affinity = { podAntiAffinity = { requiredDuringSchedulingIgnoredDuringExecution = { {
        labelSelector = { matchLabels = { [M.LABEL] = M.CHECK } }, topologyKey = "kubernetes.io/hostname" } } } },
      containers = { {
        name = "nccl", image = spec.image, command = { "/bin/bash", "-c", script },
        env = env_list(spec), resources = resources(spec),
        securityContext = { capabilities = { add = { "IPC_LOCK" } } },
        volumeMounts = { { name = "ssh", mountPath = "/etc/eidos-nccl", readOnly = true },
                         { name = "dshm", mountPath = "/dev/shm" } },
      } },
      volumes = { { name = "ssh", secret = { secretName = name .. "-ssh", defaultMode = 256 } },
                  { name = "dshm", emptyDir = { medium = "Memory" } } },
    },
  }
  return {
    { kind = "Secret", name = name .. "-ssh", path = client.path("v1", "secrets", ns), obj = {
      apiVersion = "v1", kind = "Secret", metadata = { name = name .. "-ssh", namespace = ns, labels = labels() },
      type = "Opaque", stringData = { id_ed25519 = priv, authorized_keys = pub } } },
    { kind = "Service", name = name, path = client.path("v1", "services", ns), obj = {
      apiVersion = "v1", kind = "Service", metadata = { name = name, namespace = ns, labels = labels() },
      spec = { clusterIP = "None", publishNotReadyAddresses = true, selector = labels(),
               ports = { { name = "ssh", port = 2222 } } } } },
    { kind = "Job", name = name, path = client.path("batch/v1", "jobs", ns), obj = {
      apiVersion = "batch/v1", kind = "Job", metadata = { name = name, namespace = ns, labels = labels() },
      spec = { completionMode = "Indexed", completions = spec.nodes, parallelism = spec.nodes, backoffLimit = 0,
               activeDeadlineSeconds = math.floor(spec.timeout) + 60, ttlSecondsAfterFinished = 3600,
               template = pod } } },
  }
end

-- the Kubeflow Trainer's objects: a TrainingRuntime with an MPI policy (the
-- Trainer makes the SSH keys and the hostfile) and a TrainJob on it
function M.trainjob_objects(spec)
  local ns, name = spec.namespace, M.NAME
  local gv = "trainer.kubeflow.org/v1alpha1"
  local ssh_init = "mkdir -p /root/.ssh && cp /tmp/mpi-keys/* /root/.ssh/ && chmod 700 /root/.ssh && chmod 600 /root/.ssh/*"
  local function container(cmd, res)
    return { name = "node", image = spec.image, command = cmd, env = env_list(spec), resources = res,
             securityContext = res and { capabilities = { add = { "IPC_LOCK" } } } or nil,
             volumeMounts = { { name = "ssh", mountPath = "/root/.ssh" } } }
  end
  local function job_tmpl(c, sel)
    return { spec = { template = { metadata = { labels = labels() }, spec = {
      nodeSelector = sel, tolerations = { { operator = "Exists" } },
      initContainers = { { name = "ssh-perms", image = spec.image, command = { "/bin/sh", "-c", ssh_init },
                           volumeMounts = { { name = "mpi-ssh-auth", mountPath = "/tmp/mpi-keys", readOnly = true },
                                            { name = "ssh", mountPath = "/root/.ssh" } } } },
      containers = { c }, volumes = { { name = "ssh", emptyDir = {} } } } } } }
  end
  local sel = next(spec.node_selector or {}) and spec.node_selector or nil
  return {
    { kind = "TrainingRuntime", name = name, path = client.path(gv, "trainingruntimes", ns), obj = {
      apiVersion = gv, kind = "TrainingRuntime",
      metadata = { name = name, namespace = ns, labels = { ["trainer.kubeflow.org/framework"] = "mpi",
        [M.LABEL] = M.CHECK, ["app.kubernetes.io/managed-by"] = "eidos" } },
      spec = {
        mlPolicy = { numNodes = spec.nodes, mpi = { mpiImplementation = "OpenMPI", numProcPerNode = spec.gpus,
                                                    runLauncherAsNode = false, sshAuthMountPath = "/tmp/mpi-keys" } },
        template = { spec = {
          network = { enableDNSHostnames = true, publishNotReadyAddresses = true },
          replicatedJobs = {
            { name = "launcher", replicas = 1,
              template = job_tmpl(container({ "/bin/sh", "-c", mpirun(spec, nil) }, nil), nil) },
            { name = "node", template = job_tmpl(container({ "/usr/sbin/sshd", "-De" }, resources(spec)), sel) },
          } } },
      } } },
    { kind = "TrainJob", name = name, path = client.path(gv, "trainjobs", ns), obj = {
      apiVersion = gv, kind = "TrainJob", metadata = { name = name, namespace = ns, labels = labels() },
      spec = { runtimeRef = { apiGroup = "trainer.kubeflow.org", kind = "TrainingRuntime", name = name },
               trainer = { numNodes = spec.nodes } } } },
  }
end

-- the permissions run() needs: {verb, group, resource, namespaced}
function M.needed(trainer)
  local n = {
    { "list", "", "pods", true }, { "get", "", "pods/log", true }, { "list", "", "events", true },
  }
  local kinds = trainer and { { "trainer.kubeflow.org", "trainingruntimes" }, { "trainer.kubeflow.org", "trainjobs" } }
    or { { "", "secrets" }, { "", "services" }, { "batch", "jobs" } }
  for _, k in ipairs(kinds) do
    for _, v in ipairs({ "create", "get", "delete" }) do n[#n + 1] = { v, k[1], k[2], true } end
  end
  return n
end

-- ---------------------------------------------------------------------------
-- running

local function launcher(pods, trainer)
  for _, p in ipairs(pods) do
    local l = type(p.metadata.labels) == "table" and p.metadata.labels or {}
    local a = type(p.metadata.annotations) == "table" and p.metadata.annotations or {}
    if trainer and l["jobset.sigs.k8s.io/replicatedjob-name"] == "launcher" then return p end
    if not trainer and (l["batch.kubernetes.io/job-completion-index"] == "0"
        or a["batch.kubernetes.io/job-completion-index"] == "0") then return p end
  end
  return pods[1]
end

-- run(c, spec) -> {output= (the launcher's log), logs= {{pod=, text=}},
-- events=, objects= {refs}, launcher= pod name}. spec: namespace, image,
-- nodes, gpus, node_selector, extra_resources, env, mpirun, binary, args,
-- timeout (s), trainer (bool), no_cleanup. Raises like eidos.k8s.job.wait.
function M.run(c, spec)
  job.preflight(c, spec.namespace, M.needed(spec.trainer), "run the NCCL all-reduce test")
  local objs = spec.trainer and M.trainjob_objects(spec) or M.job_objects(spec)
  local main = objs[#objs]
  local run = { c = c, namespace = spec.namespace, name = M.NAME, what = "NCCL all-reduce test", image = spec.image,
                timeout = spec.timeout, path = main.path .. "/" .. M.NAME, kind = main.kind, log_label = "nccl" }
  if spec.trainer then
    run.done = function(o) return job.condition(o, "Complete") end
    run.failed = function(o) return job.condition(o, "Failed") end
    run.pods = function(cc, o)
      return cc:list(client.path("v1", "pods", spec.namespace),
        { label_selector = "jobset.sigs.k8s.io/jobset-name=" .. o.metadata.name }) or {}
    end
  end
  local got, out
  local ok, err = pcall(function()
    for i = #objs, 1, -1 do
      job.delete_and_wait(c, objs[i].path .. "/" .. objs[i].name, string.format("%s %s/%s", objs[i].kind,
        spec.namespace, objs[i].name))
    end
    for _, o in ipairs(objs) do client.check(c:create(o.path, o.obj)) end
    require("eidos.log").info(string.format("created %s %s/%s over %d node%s (image %s)", main.kind, spec.namespace,
      M.NAME, spec.nodes, spec.nodes == 1 and "" or "s", spec.image))
    run.on_failure = function(g) got = g end
    local obj, pods = job.wait(run)
    got = job.collect(c, spec.namespace, obj, pods)
    local l = launcher(pods, spec.trainer)
    out = { launcher = l and l.metadata.name }
    for _, x in ipairs(got.logs) do if x.pod == out.launcher then out.output = x.text end end
  end)
  if spec.no_cleanup then
    require("eidos.log").info("kept the NCCL test's objects in namespace " .. spec.namespace .. " (--no-cleanup)")
  else
    local list = {}
    for i = #objs, 1, -1 do
      list[#list + 1] = { path = objs[i].path .. "/" .. objs[i].name, what = objs[i].kind .. " " .. objs[i].name,
                          opts = { propagation = "Background" } }
    end
    job.cleanup(c, list, "NCCL all-reduce test")
  end
  out = out or {}
  out.logs, out.events = got and got.logs or {}, got and got.events or {}
  out.objects = {}
  for _, o in ipairs(objs) do
    out.objects[#out.objects + 1] = { apiVersion = o.obj.apiVersion, kind = o.kind, namespace = spec.namespace, name = o.name }
  end
  if not ok then
    if errors.is(err) then err.detail = out end
    error(err, 0)
  end
  return out
end

return M
