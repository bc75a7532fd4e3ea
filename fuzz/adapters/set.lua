-- fuzz/adapters/set.lua: the bundle-time overrides (lua/eidos/bundle/
-- overrides.lua): --set, --set-json, --system-/--accelerated-node-selector
-- and -toleration parsing, and applying them to a component's values.
-- Input: lines; the first byte of a line picks the flag, the rest is its
-- value:  s --set  j --set-json  n --system-node-selector
--         N --accelerated-node-selector  t --system-node-toleration
--         T --accelerated-node-toleration  (any other byte: --set with the
-- whole line). Every parse must give an op or raise "invalid"; the ops
-- are applied in order to a copy of real values (strict, as the CLI does)
-- plus the scheduling at the gpu-operator registry paths, and the result
-- must still be writable as YAML.
local dir = ...
local common = dofile(dir .. "/lib/common.lua")
local errors = require("eidos.errors")
local overrides = require("eidos.bundle.overrides")
local emit = require("eidos.core.emit")
local merge = require("eidos.core.merge")
local doc = require("eidos.doc")

local FLAGS = { s = "set", j = "set-json", n = "system-node-selector", N = "accelerated-node-selector",
                t = "system-node-toleration", T = "accelerated-node-toleration" }

local ENTRY = { nodeScheduling = {
  system = { nodeSelectorPaths = { "operator.nodeSelector", "node-feature-discovery.gc.nodeSelector" },
             tolerationPaths = { "operator.tolerations" } },
  accelerated = { nodeSelectorPaths = { "daemonsets.nodeSelector" }, tolerationPaths = { "daemonsets.tolerations" } },
} }

local BASE = {
  operator = { nodeSelector = {}, tolerations = doc.list({}), image = "gpu-operator", replicas = 1 },
  driver = { enabled = true, version = "580.105.08", env = doc.list({ { name = "A", value = "1" } }) },
  daemonsets = { tolerations = doc.list({ { key = "nvidia.com/gpu", operator = "Exists", effect = "NoSchedule" } }) },
  ["node-feature-discovery"] = { gc = { enabled = false } },
  ratio = 0.5, label = "x",
}

local function invalid_ok(ok, e, what)
  if ok then return true end
  if errors.is(e) then
    if e.code ~= "invalid" then error(string.format("fuzz: %s raised a %q error: %s", what, e.code, e.msg)) end
    return false
  end
  error(e, 0)
end

return function(s)
  local values = merge.copy(BASE)
  local opts = {}
  for line in (s .. "\n"):gmatch("([^\n]*)\n") do
    local flag = FLAGS[line:sub(1, 1)]
    local text = flag and line:sub(2) or line
    flag = flag or "set"
    if flag == "set" or flag == "set-json" then
      local ok, op = pcall(overrides.parse_set, text, flag)
      if invalid_ok(ok, op, "parse_set") then
        if type(op.component) ~= "string" or op.component == "" or type(op.path) ~= "table" or #op.path == 0 then
          error("fuzz: parse_set returned a malformed op for " .. string.format("%q", text))
        end
        for _, seg in ipairs(op.path) do
          if type(seg) ~= "string" or seg == "" then error("fuzz: parse_set returned an empty path segment") end
        end
        -- the path must survive join_path -> split_path
        local again = overrides.split_path(overrides.join_path(op.path))
        local same, where = common.same(op.path, again)
        if not same then error("fuzz: join_path/split_path differ at " .. where) end
        local ok2, v2 = pcall(overrides.apply, values, op)
        if invalid_ok(ok2, v2, "apply") then values = v2 end
      end
    else
      opts[flag] = opts[flag] or {}
      table.insert(opts[flag], text)
    end
  end
  local ok, sched = pcall(overrides.parse_scheduling, opts)
  if invalid_ok(ok, sched, "parse_scheduling") then
    values = overrides.apply_scheduling(values, sched, ENTRY)
  end
  local ok3, text, msg = pcall(emit.yaml, values)
  if not ok3 then
    -- paths and --set-json values are held to the nesting limit of every
    -- input, so what they build can always be written
    error("fuzz: the values cannot be written: " .. tostring(text))
  end
  if not text and not tostring(msg):find("not valid UTF-8", 1, true) then
    error("fuzz: the values cannot be written: " .. tostring(msg))
  end
end
