-- eidos.bundle.overrides: the bundle-time value overrides and scheduling
-- flags. Parses --set / --set-json / --values and the scheduling flags
-- (node selectors and tolerations, --workload-selector, --workload-gate,
-- --nodes) into plain operations, and applies them to a component's values.
-- Every malformed value raises an "invalid" error (exit 2) that names the
-- flag, the offending text and the accepted syntax.
--
-- --set COMPONENT:PATH=VALUE   VALUE coerced: true/false -> bool, null ->
--   null, canonical decimal integers (-12, 0, 42) -> int, decimal floats
--   (1.5, -0.25, 2e3, 1.0e-3) -> float, anything else a string (0x1F, 007,
--   +5, 1.2.3, yes, "" stay strings).
-- --set-json COMPONENT:PATH=JSON  any JSON value (lists and maps too).
-- --values FILE                 a YAML/JSON map COMPONENT -> values map.
-- PATH is dot-separated keys; "\." is a literal dot and "\=" a literal
-- "=" inside a key; any other backslash is an error. PATH and VALUE split at
-- the first "=" that is not escaped. A path (with the depth of a --set-json
-- value) nests at most doc.MAX_DEPTH levels, the limit of every input.
-- --set-json VALUE is strict JSON (no NaN, Infinity or bare words), and its
-- numbers must be finite. COMPONENT is a component name or one of its registry
-- valueOverrideKeys. The key "enabled" at the top of a component is the
-- inclusion switch (true/false), never written into its values.
local errors = require("eidos.errors")
local merge = require("eidos.core.merge")
local emit = require("eidos.core.emit")

local M = {}

local NULL = emit.null

local function invalid(fmt, ...) errors.raise("invalid", string.format(fmt, ...)) end

-- split a dotted path with \. and \= escapes; nil, why on error
function M.split_path(p)
  local segs, cur, i = {}, {}, 1
  while i <= #p do
    local c = p:sub(i, i)
    if c == "\\" then
      local nx = p:sub(i + 1, i + 1)
      if nx ~= "." and nx ~= "=" then
        return nil, string.format("%q at offset %d is not an escape (accepted: \\. for a dot, \\= for '=' in a key)",
          "\\" .. nx, i - 1)
      end
      cur[#cur + 1] = nx
      i = i + 2
    elseif c == "." then
      if #cur == 0 then return nil, "empty key" end
      segs[#segs + 1] = table.concat(cur)
      cur = {}
      i = i + 1
    else
      cur[#cur + 1] = c
      i = i + 1
    end
  end
  if #cur == 0 then return nil, "empty key" end
  segs[#segs + 1] = table.concat(cur)
  return segs
end

-- join_path(segs) -> the path as written on the command line (dots and "="
-- in keys escaped)
function M.join_path(segs)
  local out = {}
  for i, s in ipairs(segs) do out[i] = s:gsub("[.=]", "\\%0") end
  return table.concat(out, ".")
end

-- split "path=value" at the first "=" that no backslash escapes -> path, value
local function split_assignment(rest)
  local i = 1
  while i <= #rest do
    local c = rest:sub(i, i)
    if c == "\\" then i = i + 2
    elseif c == "=" then return rest:sub(1, i - 1), rest:sub(i + 1)
    else i = i + 1 end
  end
  return nil
end

-- depth of a value (a scalar is 0 levels deep)
local function depth_of(v, d)
  if type(v) ~= "table" then return d end
  local m = d + 1
  for _, x in pairs(v) do
    local dx = depth_of(x, d + 1)
    if dx > m then m = dx end
  end
  return m
end

-- a finite-numbers check of a --set-json value: nil or the path of the first
-- NaN or infinity
local function nonfinite(v, at)
  if type(v) == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return at end
  elseif type(v) == "table" then
    for _, k in ipairs(require("eidos.doc").keys(v)) do
      local x = v[k]
      if x == nil then x = v[tonumber(k)] end
      local bad = nonfinite(x, at == "" and k or (at .. "." .. k))
      if bad then return bad end
    end
  end
  return nil
end

-- strict JSON: lua-cjson with invalid numbers (NaN, Infinity, hex) refused
local strict_json
local function json_error(value)
  if not strict_json then
    strict_json = require("cjson").new()
    strict_json.decode_invalid_numbers(false)
    strict_json.decode_max_depth(require("eidos.doc").MAX_DEPTH + 1)
  end
  local ok, err = pcall(strict_json.decode, value)
  if ok then return nil end
  return tostring(err)
end

-- coerce(text) -> value for --set
function M.coerce(v)
  if v == "true" then return true end
  if v == "false" then return false end
  if v == "null" then return NULL end
  if v:match("^%-?0$") or v:match("^%-?[1-9]%d*$") then
    local n = math.tointeger(tonumber(v))
    if n and tostring(n) == v:gsub("^%-0$", "0") then return n end
    return v
  end
  if v:match("^%-?%d+%.%d+$") or v:match("^%-?%d+%.%d+[eE][-+]?%d+$") or v:match("^%-?%d+[eE][-+]?%d+$") then
    if v:match("^%-?0%d") then return v end -- leading zero: keep the text
    local f = tonumber(v)
    if f and f == f and f ~= math.huge and f ~= -math.huge then return f + 0.0 end
  end
  return v
end

local SET_SYNTAX = "COMPONENT:PATH=VALUE, e.g. gpu-operator:driver.version=580.105.08"

-- parse_set("comp:path=value", flag) -> op {component=, path={...}, value=, flag=, text=}
function M.parse_set(text, flag)
  flag = flag or "set"
  local comp, rest = text:match("^([^:=]*):(.*)$")
  if not comp then
    invalid("invalid --%s %q: missing ':' after the component (accepted: %s)", flag, text,
      flag == "set" and SET_SYNTAX or "COMPONENT:PATH=JSON, e.g. gpu-operator:daemonsets.tolerations=[]")
  end
  if comp == "" then invalid("invalid --%s %q: empty component name", flag, text) end
  local path, value = split_assignment(rest)
  if not path then
    invalid("invalid --%s %q: missing '=' after the path (accepted: %s)", flag, text,
      flag == "set" and SET_SYNTAX or "COMPONENT:PATH=JSON")
  end
  local segs, why = M.split_path(path)
  if not segs then invalid("invalid --%s %q: bad path %q: %s", flag, text, path, why) end
  local v
  if flag == "set-json" then
    if value:match("^%s*$") then invalid("invalid --%s %q: empty JSON value", flag, text) end
    local jerr = json_error(value)
    if jerr then
      invalid("invalid --%s %q: the value is not valid JSON (%s; NaN and Infinity are not JSON)", flag, text,
        jerr:gsub("^.-:%d+: ", ""))
    end
    v = require("eidos.doc").decode(value, string.format("--%s %q", flag, text))
    local bad = nonfinite(v, "")
    if bad then
      invalid("invalid --%s %q: a number that is not finite at %s (JSON has no NaN or infinity)", flag, text,
        M.join_path(segs) .. (bad == "" and "" or ("." .. bad)))
    end
  else
    v = M.coerce(value)
  end
  local max = require("eidos.doc").MAX_DEPTH
  if #segs + depth_of(v, 0) > max then
    invalid("invalid --%s %q: the path has %d keys and the value nests %d levels, more than the limit of %d levels " ..
      "for every input", flag, text, #segs, depth_of(v, 0), max)
  end
  return { component = comp, path = segs, value = v, flag = flag, text = text }
end

-- parse a --values file: returns a list of ops {component=, merge=map}
function M.parse_values_file(loc)
  local docio = require("eidos.docio")
  local d = docio.load(loc, { what = "--values" })
  if type(d) ~= "table" or merge.islist(d) then
    invalid("invalid --values %q: expected a map of component name to values", loc)
  end
  local ops = {}
  local bad = errors.problems()
  local keys = require("eidos.doc").keys(d)
  for _, k in ipairs(keys) do
    local v = d[k]
    if v == NULL then v = {} end
    if type(v) ~= "table" or (merge.islist(v) and next(v) ~= nil) then
      bad:add(k, string.format("invalid --values %q: the value of %q must be a map of Helm values", loc, k))
    else
      ops[#ops + 1] = { component = k, merge = v, flag = "values", text = loc .. " (" .. k .. ")" }
    end
  end
  bad:raise("invalid")
  return ops
end

------------------------------------------------------------------------
-- scheduling flags

-- the grammar of selectors and tolerations: eidos.k8s.labels
local labels = require("eidos.k8s.labels")
M.parse_selector = labels.selector
M.parse_toleration = labels.toleration

-- taint_string(t) -> "key=value:Effect" or "key:Effect" (a toleration
-- table of parse_toleration, written as Kubernetes writes a taint)
function M.taint_string(t)
  return t.key .. (t.value and ("=" .. t.value) or "") .. ":" .. t.effect
end

-- parse_nodes(v, flag) -> integer >= 0 (the criteria's nodes syntax)
function M.parse_nodes(v, flag)
  local n = require("eidos.recipe.criteria").nodes(v)
  if not n or (type(v) == "string" and v == "") then
    invalid("invalid --%s %q (accepted: a node count, an integer >= 0; 0 writes nothing)", flag,
      type(v) == "table" and "(a list or map)" or tostring(v))
  end
  return n
end

-- parse_scheduling(opts) -> {system={selector=, tolerations=}, accelerated=...,
-- workload={selector=}, gate="key=value:Effect", nodes=N} (nil members when
-- the flag was not given; nodes 0 counts as not given)
function M.parse_scheduling(o)
  local out = { system = {}, accelerated = {} }
  for _, kind in ipairs({ "system", "accelerated" }) do
    local sf = kind .. "-node-selector"
    if o[sf] and #o[sf] > 0 then out[kind].selector = labels.selectors(o[sf], sf) end
    local tf = kind .. "-node-toleration"
    if o[tf] and #o[tf] > 0 then out[kind].tolerations = labels.tolerations(o[tf], tf) end
  end
  -- pods of running jobs Skyhook must not interrupt (podScheduling paths)
  local ws = o["workload-selector"]
  if ws and #ws > 0 then
    local sel = {}
    for _, s in ipairs(ws) do
      local k, v = M.parse_selector(s, "workload-selector")
      sel[k] = v
    end
    out.workload = { selector = sel }
  end
  if o["workload-gate"] ~= nil then
    out.gate = M.taint_string(M.parse_toleration(o["workload-gate"], "workload-gate"))
  end
  if o.nodes ~= nil then
    local n = M.parse_nodes(o.nodes, "nodes")
    if n > 0 then out.nodes = n end
  end
  return out
end

-- has_scheduling(sched) -> true when any scheduling flag was given
function M.has_scheduling(sched)
  if not sched then return false end
  for _, kind in ipairs({ "system", "accelerated" }) do
    local s = sched[kind]
    if s and (s.selector or s.tolerations) then return true end
  end
  return (sched.workload and sched.workload.selector) ~= nil or sched.gate ~= nil or sched.nodes ~= nil
end

------------------------------------------------------------------------
-- applying

local function ismap(v) return type(v) == "table" and not merge.islist(v) end

local function describe(v)
  if v == NULL then return "null" end
  if type(v) == "table" then return merge.islist(v) and "a list" or "a map" end
  if type(v) == "number" then return "a number" end
  if type(v) == "boolean" then return "a boolean" end
  return "a string"
end

-- set a value at path in values (mutates values). strict: an existing
-- non-map on the way raises naming it; lenient: it is replaced by a map.
function M.set_path(values, path, value, strict, what)
  local t = values
  for i = 1, #path - 1 do
    local k = path[i]
    local nx = t[k]
    if nx == nil or nx == NULL then
      nx = {}
      t[k] = nx
    elseif not ismap(nx) then
      if strict then
        local at = {}
        for j = 1, i do at[j] = path[j] end
        invalid("%s: cannot set %s: %s is %s, not a map", what, M.join_path(path), M.join_path(at), describe(nx))
      end
      nx = {}
      t[k] = nx
    end
    t = nx
  end
  t[path[#path]] = type(value) == "table" and merge.copy(value) or value
end

-- apply one op (set or merge) to values; returns the new values table
function M.apply(values, op)
  if op.merge then
    local m = merge.copy(op.merge)
    m.enabled = nil
    return merge.deep(values, m)
  end
  M.set_path(values, op.path, op.value, true, string.format("--%s %q", op.flag, op.text))
  return values
end

local function set_all(values, paths, value)
  for _, p in ipairs(type(paths) == "table" and paths or {}) do
    if type(p) == "string" then M.set_path(values, assert(M.split_path(p)), value, false) end
  end
end

-- write scheduling at the registry's nodeScheduling and podScheduling paths
-- of a component: selectors and tolerations, the workload selector
-- (podScheduling.workload.workloadSelectorPaths), the workload gate taint
-- string (nodeScheduling.accelerated.taintStrPaths) and the node count
-- (nodeScheduling.nodeCountPaths)
function M.apply_scheduling(values, sched, entry)
  local ps = entry and entry.podScheduling
  if sched.workload and type(ps) == "table" and type(ps.workload) == "table" then
    set_all(values, ps.workload.workloadSelectorPaths, sched.workload.selector)
  end
  local ns = entry and entry.nodeScheduling
  if type(ns) ~= "table" then return values end
  if sched.gate and type(ns.accelerated) == "table" then set_all(values, ns.accelerated.taintStrPaths, sched.gate) end
  if sched.nodes then set_all(values, ns.nodeCountPaths, sched.nodes) end
  for _, kind in ipairs({ "system", "accelerated" }) do
    local paths = ns[kind]
    local s = sched[kind]
    if type(paths) == "table" and s then
      if s.selector then
        for _, p in ipairs(paths.nodeSelectorPaths or {}) do
          M.set_path(values, assert(M.split_path(p)), s.selector, false)
        end
      end
      if s.tolerations then
        for _, p in ipairs(paths.tolerationPaths or {}) do
          M.set_path(values, assert(M.split_path(p)), s.tolerations, false)
        end
      end
    end
  end
  return values
end

return M
