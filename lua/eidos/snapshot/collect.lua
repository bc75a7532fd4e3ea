-- eidos.snapshot.collect: builds a Snapshot document from the collectors.
-- The C collectors (eidos.core.collect: GPU, OS, SystemD, NodeTopology) run
-- in worker threads while the Kubernetes measurement is taken here on the
-- calling thread by eidos.snapshot.k8s, then
-- the results are put in the fixed order K8s, GPU, OS, SystemD,
-- NodeTopology, filtered (eidos.snapshot.filter) and redacted
-- (eidos.snapshot.redact).
--
-- A measurement that could not be taken stays in the list as
--   {type: SystemD, status: unavailable|timeout|error, reason: "..."}
-- (no subtypes; readers that know only {type, subtypes} skip it). A
-- measurement that was taken is exactly {type, subtypes: [{subtype, data,
-- context?}]} as upstream writes it; context (collector notes such as the
-- GPU source or why a subtype is empty) is left out when empty.
--
-- The Kubernetes side: eidos.snapshot.k8s with
--   collect({timeout_ms=, node=, opts=}) -> measurement | nil, reason, code
-- where measurement is {type="K8s", subtypes={...}} and code an eidos
-- error code name ("unavailable" when not in a cluster).
local doc = require("eidos.doc")
local errors = require("eidos.errors")
local filter = require("eidos.snapshot.filter")
local redact = require("eidos.snapshot.redact")
local strx = require("eidos.text")

local M = {}

M.kind = "Snapshot"
M.api_version = "eidos.nvidia.com/v1alpha1"

local TOP = { "kind", "apiVersion", "metadata", "measurements" }
local META = { "source-node", "timestamp", "version" }
local MEAS = { "type", "status", "reason", "subtypes" }
local SUB = { "subtype", "data", "context" }

-- the measurement types in output order
function M.types()
  return require("eidos.core.collect").types()
end

-- parse_types(list of "A,B" words, flag) -> set {Type=true}, raising on an
-- unknown name; names match case-insensitively
function M.parse_types(words, flag)
  local canon = {}
  for _, t in ipairs(M.types()) do canon[t:lower()] = t end
  local set
  for _, w in ipairs(words or {}) do
    for name in tostring(w):gmatch("[^,%s]+") do
      local t = canon[name:lower()]
      if not t then
        local h = require("eidos.nearest").hint(name, M.types())
        errors.raise("invalid", string.format("unknown measurement type %q for --%s (accepted: %s)%s",
          name, flag or "only", table.concat(M.types(), ", "), h ~= "" and ("; " .. h) or ""))
      end
      set = set or {}
      set[t] = true
    end
  end
  return set
end

-- node_name(sysroot) -> name or nil: $NODE_NAME, $KUBERNETES_NODE_NAME,
-- $HOSTNAME (upstream's order), then the kernel's hostname below sysroot
function M.node_name(sysroot)
  for _, v in ipairs({ "NODE_NAME", "KUBERNETES_NODE_NAME", "HOSTNAME" }) do
    local s = os.getenv(v)
    if s and s ~= "" then return s end
  end
  local fs = require("eidos.core.fs")
  local root = (sysroot and sysroot ~= "") and strx.rstrip(sysroot, "/") or ""
  for _, p in ipairs({ "/proc/sys/kernel/hostname", "/etc/hostname" }) do
    local text = fs.read(root .. p, 4096)
    local name = text and text:match("^%s*([^%s]+)")
    if name then return name end
  end
  return nil
end

local function k8s_measurement(opts, node)
  local mod = require("eidos.snapshot.k8s")
  local pok, m, reason, code = pcall(mod.collect, { timeout_ms = opts.k8s_timeout_ms or opts.timeout_ms,
                                                     node = node, opts = opts })
  local rec = { type = "K8s" }
  if not pok then
    local e = m
    rec.status = (errors.is(e) and (e.code == "timeout" or e.code == "unavailable")) and e.code or "error"
    rec.code = errors.is(e) and e.code or "internal"
    rec.reason = errors.is(e) and e.msg or tostring(e)
  elseif m == nil then
    rec.code = code or "unavailable"
    rec.status = (code == "timeout" or code == "unavailable" or code == nil) and (code or "unavailable") or "error"
    rec.reason = reason or "Kubernetes collector returned nothing"
  else
    m.type = "K8s"
    rec.status, rec.code, rec.measurement = "ok", "ok", m
  end
  return rec
end

local function shape_subtype(st)
  local data = st.data
  if type(data) ~= "table" then data = {} end -- an unmarked empty table is a map
  local out = { subtype = st.subtype, data = data }
  if type(st.context) == "table" and next(st.context) ~= nil then out.context = st.context end
  return doc.ordered(out, SUB)
end

-- shape(record) -> the measurement as it goes into the document
function M.shape(rec)
  if rec.status == "ok" then
    local subs = {}
    for _, st in ipairs(rec.measurement.subtypes or {}) do subs[#subs + 1] = shape_subtype(st) end
    return doc.ordered({ type = rec.type, subtypes = doc.list(subs) }, MEAS)
  end
  return doc.ordered({ type = rec.type, status = rec.status, reason = rec.reason }, MEAS)
end

-- collect(opts) -> document, records
-- opts: types (set, default all), sysroot, timeout_ms, gpu_timeout_ms,
-- units (list), timestamp ("...Z", default now), version, node (default
-- node_name(sysroot)), nvml_lib, path (nil = the process environment)
function M.collect(opts)
  opts = opts or {}
  local core = require("eidos.core.collect")
  local all = M.types()
  local want = opts.types
  local only = {}
  for _, t in ipairs(all) do
    if (not want or want[t]) and t ~= "K8s" then only[#only + 1] = t end
  end
  local node = opts.node or M.node_name(opts.sysroot)
  local run
  if #only > 0 then
    run = errors.check(core.start({
      sysroot = opts.sysroot, only = only, timeout_ms = opts.timeout_ms,
      gpu_timeout_ms = opts.gpu_timeout_ms, units = opts.units,
      nvml_lib = opts.nvml_lib, path = opts.path,
    }))
  end
  local k8s
  if not want or want.K8s then k8s = k8s_measurement(opts, node) end
  local by = {}
  if run then
    for _, rec in ipairs(run:wait()) do by[rec.type] = rec end
  end
  by.K8s = k8s
  local records, measurements = {}, {}
  for _, t in ipairs(all) do
    local rec = by[t]
    if rec then
      if rec.status == "ok" then
        filter.measurement(rec.measurement)
        redact.measurement(rec.measurement)
      end
      records[#records + 1] = rec
      measurements[#measurements + 1] = M.shape(rec)
    end
  end
  local meta = { timestamp = opts.timestamp or os.date("!%Y-%m-%dT%H:%M:%SZ"),
                 version = opts.version or require("eidos.core.build").version,
                 ["source-node"] = node }
  local d = doc.ordered({
    kind = M.kind, apiVersion = M.api_version,
    metadata = doc.ordered(meta, META),
    measurements = doc.list(measurements),
  }, TOP)
  return d, records
end

-- failures(records) -> list of {what=, code=, reason=}: measurements not
-- taken, and subtypes whose collector left an error in their context
function M.failures(records)
  local out = {}
  for _, rec in ipairs(records) do
    if rec.status ~= "ok" then
      out[#out + 1] = { what = rec.type, code = rec.code == "ok" and "failure" or rec.code,
                        status = rec.status, reason = rec.reason }
    else
      for _, st in ipairs(rec.measurement.subtypes or {}) do
        local e = type(st.context) == "table" and st.context.error
        if e then
          out[#out + 1] = { what = rec.type .. "." .. tostring(st.subtype), code = "failure",
                            status = "error", reason = e }
        end
      end
    end
  end
  return out
end

-- gpu_count(document) -> the largest integer gpu-count of a GPU subtype, or 0
function M.gpu_count(d)
  local n = 0
  for _, m in ipairs(d.measurements or {}) do
    if m.type == "GPU" then
      for _, st in ipairs(m.subtypes or {}) do
        local c = type(st.data) == "table" and st.data["gpu-count"]
        if math.type(c) == "integer" and c > n then n = c end
      end
    end
  end
  return n
end

-- summary(document) -> its key numbers for the closing line of a command:
-- "5 measurements, K8s and SystemD not taken, 2 GPUs"
function M.summary(d)
  local n, missing = 0, {}
  for _, m in ipairs(type(d) == "table" and type(d.measurements) == "table" and d.measurements or {}) do
    n = n + 1
    if type(m) == "table" and m.status and m.status ~= "ok" then missing[#missing + 1] = tostring(m.type) end
  end
  local parts = { string.format("%d measurement%s", n, n == 1 and "" or "s") }
  if #missing > 0 then
    local last = table.remove(missing)
    parts[#parts + 1] = (#missing > 0 and (table.concat(missing, ", ") .. " and ") or "") .. last .. " not taken"
  end
  local g = M.gpu_count(d)
  parts[#parts + 1] = string.format("%d GPU%s", g, g == 1 and "" or "s")
  return table.concat(parts, ", ")
end

return M
