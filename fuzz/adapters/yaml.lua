-- fuzz/adapters/yaml.lua: the YAML loader as eidos uses it (eidos.core.yaml,
-- src/bind/lyaml.c on libyaml, scalars by src/core/scalar.c) and the
-- canonical emitters behind every document eidos writes (eidos.core.emit,
-- src/bind/lemit.c + src/core/emit.c). Input: any text.
--  * load_all with the default limits, load with tiny limits (the limit
--    paths: alias bombs, depth), load (one document);
--  * round trip: every loaded document written as YAML and as JSON reads
--    back equal (eidos's own output must read back as what was meant).
local dir = ...
local common = dofile(dir .. "/lib/common.lua")
local yaml = require("eidos.core.yaml")
local emit = require("eidos.core.emit")

-- emit.* refuse values nested deeper than this (src/bind/lemit.c MAXDEPTH)
-- and raise; yaml.load accepts up to 256 by default
local EMIT_MAXDEPTH = 200

local function depth(v, d)
  if type(v) ~= "table" then return d end
  local m = d
  for _, x in pairs(v) do
    local dx = depth(x, d + 1)
    if dx > m then m = dx end
    if m > EMIT_MAXDEPTH then return m end
  end
  return m
end

local function has_nan_or_inf(v)
  if type(v) == "number" then return v ~= v or v == math.huge or v == -math.huge end
  if type(v) == "table" then
    for _, x in pairs(v) do if has_nan_or_inf(x) then return true end end
  end
  return false
end

local function roundtrip(d)
  if depth(d, 0) > EMIT_MAXDEPTH or common.odd_key(d) then return end
  local text, msg, code = emit.yaml(d)
  if not text then error(string.format("fuzz: emit.yaml refused a loaded document: %s (%s)", msg, code)) end
  local back, err = yaml.load(text)
  if back == nil then error("fuzz: emitted YAML does not load: " .. tostring(err) .. "\n" .. text) end
  local ok, where = common.same(d, back)
  if not ok then error("fuzz: YAML round trip differs at " .. where .. "\n" .. text) end
  local again = emit.yaml(back)
  if again ~= text then error("fuzz: emitting the reloaded document gives other bytes\n" .. text .. "\n--\n" .. tostring(again)) end

  local j, jmsg = emit.json(d)
  if not j then
    if has_nan_or_inf(d) then return end
    error("fuzz: emit.json refused a loaded document: " .. tostring(jmsg))
  end
  local jb, jerr = yaml.load(j)
  if jb == nil then error("fuzz: emitted JSON does not load: " .. tostring(jerr) .. "\n" .. j) end
  ok, where = common.same(d, jb)
  if not ok then error("fuzz: JSON round trip differs at " .. where .. "\n" .. j) end
end

return function(s)
  yaml.load(s, { max_nodes = 50, max_depth = 6 })
  yaml.load(s)
  local docs = yaml.load_all(s)
  if not docs then return end
  for _, d in ipairs(docs) do roundtrip(d) end
end
