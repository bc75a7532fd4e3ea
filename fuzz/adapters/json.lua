-- fuzz/adapters/json.lua: JSON as eidos reads it. Documents given to eidos
-- as JSON (snapshots, recipes, --set-json, API request bodies) go through
-- the YAML loader (JSON is YAML); Kubernetes API responses go through
-- lua-cjson. Input: any text.
--  * cjson.decode: raises a string on malformed JSON (expected); what it
--    returns must be writable by the canonical emitters (nil, msg for NaN
--    in JSON is fine; so is the YAML writer refusing a string that is not
--    UTF-8, which cjson lets through) -- this is the path of a ConfigMap or
--    node object from the API server into a snapshot;
--  * yaml.load of the same text: nil, msg or a value that round-trips
--    through emit.json.
local dir = ...
local common = dofile(dir .. "/lib/common.lua")
local cjson = require("cjson")
local yaml = require("eidos.core.yaml")
local emit = require("eidos.core.emit")

local function writable(v, what)
  local ok, text, msg = pcall(emit.json, v)
  if not ok then
    -- cjson reads up to 1000 levels; the emitters stop at 128 (what the
    -- YAML loader reads stops at 64)
    if what == "cjson.decode" and tostring(text):find("nested deeper than", 1, true) then return end
    error(string.format("fuzz: emit.json raised on a %s value: %s", what, tostring(text)))
  end
  if not text and not tostring(msg):find("NaN and infinity", 1, true) then
    error(string.format("fuzz: emit.json refused a %s value: %s", what, tostring(msg)))
  end
  local ok2, y, ymsg = pcall(emit.yaml, v)
  if not ok2 then
    if what == "cjson.decode" and tostring(y):find("nested deeper than", 1, true) then return end
    error(string.format("fuzz: emit.yaml raised on a %s value: %s", what, tostring(y)))
  end
  if not y then
    -- cjson does not check UTF-8; the YAML writer refuses such strings
    if what == "cjson.decode" and tostring(ymsg):find("not valid UTF-8", 1, true) then return text end
    error(string.format("fuzz: emit.yaml refused a %s value: %s", what, tostring(ymsg)))
  end
  return text
end

return function(s)
  local ok, v = pcall(cjson.decode, s)
  if ok then writable(v, "cjson.decode") end
  -- the expansion limit at the input's scale (JSON has no aliases, YAML may)
  local limit = 16 * #s + yaml.NODE_COST
  local d, msg = yaml.load(s, { max_expanded = limit })
  if d == nil and msg:find("expands to more than", 1, true) and not s:find("*", 1, true) then
    error("fuzz: a text without aliases was refused for expansion: " .. msg)
  end
  if d ~= nil and common.expanded(d, yaml.NODE_COST, limit) > limit then
    error("fuzz: loaded a value measuring more than the limit of " .. limit .. " bytes")
  end
  if d ~= nil then
    local text = writable(d, "yaml.load")
    if text and not common.odd_key(d) then
      local back = yaml.load(text)
      local same, where = common.same(d, back)
      if not same then error("fuzz: JSON round trip differs at " .. where) end
    end
  end
end
