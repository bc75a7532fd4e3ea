-- fuzz/adapters/yaml.lua: the YAML loader as eidos uses it (eidos.core.yaml,
-- src/bind/lyaml.c on libyaml, scalars by src/core/scalar.c) and the
-- canonical emitters behind every document eidos writes (eidos.core.emit,
-- src/bind/lemit.c + src/core/emit.c). Input: any text.
--  * load with tiny limits (the limit paths: alias bombs, depth), and with
--    the default limits; load_all with the expansion limit at the input's
--    scale (16 x its size): what loads measures within it (counted again
--    by walking the value, aliases counted at each use) and nests at most
--    yaml.MAX_DEPTH; only a text with an alias may be refused for expansion;
--  * round trip: every document loaded at the input's scale written as YAML
--    and as JSON reads back equal (eidos's own output must read back as
--    what was meant), and writing never raises (what loads is writable).
local dir = ...
local common = dofile(dir .. "/lib/common.lua")
local yaml = require("eidos.core.yaml")
local emit = require("eidos.core.emit")

local function has_nan_or_inf(v)
  if type(v) == "number" then return v ~= v or v == math.huge or v == -math.huge end
  if type(v) == "table" then
    for _, x in pairs(v) do if has_nan_or_inf(x) then return true end end
  end
  return false
end

local function roundtrip(d)
  if common.odd_key(d) then return end
  -- what loads must be writable: the loader's nesting limit (64) is below
  -- the emitters' (128), so emit never raises on loaded input
  local okw, text, msg, code = pcall(emit.yaml, d)
  if not okw then error("fuzz: emit.yaml raised on a loaded document: " .. tostring(text)) end
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

-- the loader's limits at the input's own scale: the default rule (16 x the
-- text) without its 64 MiB floor, so that aliases in a few KB of input
-- reach it. What loads must measure within the limit; a refusal for
-- expansion needs an alias; nothing loads nested deeper than the limit.
local function bounded(s, docs_of)
  local limit = 16 * #s + yaml.NODE_COST
  local v, msg = docs_of(s, { max_expanded = limit })
  if v == nil then
    if msg:find("expands to more than", 1, true) and not s:find("*", 1, true) then
      error("fuzz: a text without aliases was refused for expansion: " .. msg)
    end
    return nil
  end
  local got = 0 -- the documents, not load_all's list of them
  for _, d in ipairs(v) do got = got + common.expanded(d, yaml.NODE_COST, limit) end
  if got > limit then error(string.format("fuzz: loaded a value measuring more than the limit of %d bytes", limit)) end
  if common.depth(v, 200) > yaml.MAX_DEPTH + 1 then -- +1: load_all's list of documents
    error("fuzz: loaded a value nested deeper than " .. yaml.MAX_DEPTH)
  end
  return v
end

return function(s)
  yaml.load(s, { max_expanded = 50, max_depth = 6 })
  -- the default limits (a 64 MiB floor): loading shares aliased values, so
  -- it stays cheap; writing such a document out would take seconds, so the
  -- round trip runs on what loads at the input's scale
  yaml.load(s)
  local docs = bounded(s, yaml.load_all)
  if not docs then return end
  for _, d in ipairs(docs) do roundtrip(d) end
end
