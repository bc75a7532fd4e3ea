-- nccl-all-reduce-bw (upstream's catalog name): NCCL all-reduce bus
-- bandwidth across GPU nodes meets the recipe's threshold. Runs nccl-tests'
-- all_reduce_perf with MPI, one rank per GPU, on N nodes (the recipe's
-- validation.performance.nodeSelection: selector, maxNodes (default 2),
-- excludeNodes), as a Kubeflow TrainJob when the recipe deploys the
-- Trainer, else as an Indexed Job (eidos.validate.nccl), and compares the
-- out-of-place bus bandwidth of the largest message size with the
-- constraint named nccl-all-reduce-bw (e.g. ">= 300", unit GB/s).
--
-- Policy here, override this file to change it: the image and where mpirun
-- and the test binary are in it (the recipe's validation.performance.image
-- replaces the image), the message sizes, and the environment (EFA
-- settings are added when the nodes offer vpc.amazonaws.com/efa devices,
-- which are then requested too).
local cluster = require("eidos.validate.cluster")
local kube = require("eidos.validate.kube")
local nccl = require("eidos.validate.nccl")

local M = {
  phase = "performance",
  always = true,
  order = 10,
  description = "NCCL all-reduce bus bandwidth across the selected GPU nodes meets the constraint nccl-all-reduce-bw (GB/s)",
  remediation = "Check the fabric (EFA, InfiniBand, GPUDirect) and NCCL's choice of transport: rerun with NCCL_DEBUG=INFO.",
  IMAGE = "public.ecr.aws/hpc-cloud/nccl-tests:cuda12.8.1-efa1.43.2-ofiv1.16.3-ncclv2.27.7-1-testsv2.16.9",
  MPIRUN = "/opt/amazon/openmpi/bin/mpirun",
  BINARY = "/opt/nccl-tests/build/all_reduce_perf",
  ARGS = { "-b", "8", "-e", "8G", "-f", "2", "-g", "1" },
  ENV = { NCCL_DEBUG = "WARN" },
  EFA = "vpc.amazonaws.com/efa",
  EFA_ENV = { FI_PROVIDER = "efa", FI_EFA_USE_DEVICE_RDMA = "1", FI_EFA_FORK_SAFE = "1" },
  DEFAULT_NODES = 2,
  DEFAULT_TIMEOUT = "30m",
}

-- numeric thresholds: ">= 300", "> 250, < 1000"; versions are no decimals
local OPS = {
  [">="] = function(a, b) return a >= b end, [">"] = function(a, b) return a > b end,
  ["<="] = function(a, b) return a <= b end, ["<"] = function(a, b) return a < b end,
  ["=="] = function(a, b) return a == b end,
}

function M.holds(expr, value)
  for clause in (tostring(expr) .. ","):gmatch("([^,]*),") do
    local op, num = clause:match("^%s*([<>=]=?)%s*([%d.]+)%s*$")
    if not op or not OPS[op] or not tonumber(num) then
      return nil, string.format("threshold %q is not a numeric comparison (e.g. \">= 300\"; operators >= > <= < ==)", expr)
    end
    if not OPS[op](value, tonumber(num)) then return false end
  end
  return true
end

local function selected_nodes(ctx, sel)
  local l = type(sel.selector) == "table" and sel.selector or {}
  local excl = {}
  for _, n in ipairs(type(sel.excludeNodes) == "table" and sel.excludeNodes or {}) do excl[n] = true end
  local out = {}
  for _, n in ipairs(kube.gpu_nodes(ctx.cluster)) do
    local labels = type(n.metadata.labels) == "table" and n.metadata.labels or {}
    local ok = not excl[n.metadata.name] and kube.gpus(n, "allocatable") > 0
    for k, v in pairs(l) do if labels[k] ~= tostring(v) then ok = false end end
    if ok then out[#out + 1] = n end
  end
  table.sort(out, function(a, b) return a.metadata.name < b.metadata.name end)
  return out
end

function M.run(ctx)
  local con = ctx:constraint("nccl-all-reduce-bw")
  if not con then
    return ctx:skip({ reason = "the recipe's validation.performance has no constraint nccl-all-reduce-bw (no threshold)" })
  end
  local unit = con.unit or "GB/s"
  if unit ~= "GB/s" then
    return ctx:error({ code = "invalid", msg = string.format("constraint nccl-all-reduce-bw has unit %q; accepted: GB/s", unit) })
  end
  local sel = type(ctx.config.nodeSelection) == "table" and ctx.config.nodeSelection or {}
  local want = math.tointeger(tonumber(sel.maxNodes)) or M.DEFAULT_NODES
  local nodes = selected_nodes(ctx, sel)
  if #nodes < want then
    return ctx:error({ code = "failure", msg = string.format("the test needs %d GPU nodes with allocatable GPUs%s; " ..
      "%d found", want, next(sel.selector or {}) and " matching nodeSelection.selector" or "", #nodes) })
  end
  local chosen, gpus, efa = {}, math.huge, math.huge
  for i = 1, want do
    chosen[i] = nodes[i]
    gpus = math.min(gpus, kube.gpus(nodes[i], "allocatable"))
    local alloc = type(nodes[i].status.allocatable) == "table" and nodes[i].status.allocatable or {}
    efa = math.min(efa, math.floor(tonumber(alloc[M.EFA]) or 0))
  end
  local env, extra = {}, {}
  for k, v in pairs(M.ENV) do env[k] = v end
  if efa > 0 then
    extra[M.EFA] = efa
    for k, v in pairs(M.EFA_ENV) do env[k] = v end
  end
  local timeout = ctx.params.timeout or (require("eidos.units").duration(ctx.config.timeout or M.DEFAULT_TIMEOUT) / 1000)
  local spec = {
    namespace = ctx.params.namespace or "default", image = ctx.config.image or M.IMAGE, nodes = want, gpus = gpus,
    node_selector = type(sel.selector) == "table" and sel.selector or nil, extra_resources = extra, env = env,
    mpirun = M.MPIRUN, binary = M.BINARY, args = M.ARGS, timeout = timeout,
    trainer = ctx:component("kubeflow-trainer") ~= nil, no_cleanup = ctx.params.no_cleanup,
  }
  local ev = {}
  for _, n in ipairs(chosen) do ev[#ev + 1] = cluster.ref(n) end
  local ok, out = pcall(nccl.run, ctx.cluster:client(), spec)
  local got = ok and out or (type(out) == "table" and out.detail) or {}
  for _, l in ipairs(got.logs or {}) do ctx.cluster:log(spec.namespace, l.pod, l.text or "") end
  for _, e in ipairs(got.events or {}) do if ctx.plan.evidence then ctx.plan.evidence:object(e) end end
  for _, o in ipairs(got.objects or {}) do ev[#ev + 1] = o end
  if not ok then error(out, 0) end
  local r, why = nccl.parse(out.output or "")
  local what = string.format("%d nodes x %d GPUs", want, gpus)
  if not r then
    return ctx:error({ code = "failure", msg = string.format("the NCCL test's log (pod %s) has no result: %s",
      tostring(out.launcher), why) })
  end
  local actual = string.format("%.2f GB/s (%s, %s bytes)", r.busbw, what, r.size)
  if r.wrong > 0 or (r.out_of_bounds and r.out_of_bounds > 0) then
    return ctx:fail({ evidence = ev, expected = "no wrong results", actual = string.format("%d wrong, %s out of bounds",
      r.wrong, tostring(r.out_of_bounds)), reason = "all_reduce_perf found wrong results: data corruption on the path" })
  end
  local pass, herr = M.holds(con.value, r.busbw)
  if pass == nil then return ctx:error({ code = "invalid", msg = herr }) end
  local exp = tostring(con.value) .. " " .. unit
  if pass then return ctx:pass({ evidence = ev, expected = exp, actual = actual }) end
  ctx:fail({ evidence = ev, expected = exp, actual = actual, remediation = con.remediation,
    reason = string.format("bus bandwidth %.2f GB/s at %s bytes is below %s %s (average over all sizes %s GB/s)",
      r.busbw, r.size, tostring(con.value), unit, tostring(r.avg)) })
end

return M
