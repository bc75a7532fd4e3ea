-- eidos.recipe.scan: reads the header of an overlay file (kind, apiVersion,
-- metadata.name, spec.base, spec.criteria) without a full YAML parse, so a
-- query parses only the overlays it applies. The fast reader here accepts
-- exactly the layout the library is written in:
--   [comment lines] kind: K / apiVersion: A / metadata: name: N /
--   spec: [base: B] [criteria: block of "    key: value" lines | {flow}]
--   then constraints:/componentRefs:/validation: (or the end),
-- plain-word values, nothing after that could be spec.criteria/spec.base.
-- Other files go to eidos.recipe.scanlines (a careful line reader), and
-- failing that the caller parses them with the YAML loader: no reader
-- guesses. `eidos recipe lint` compares the header read here with the full
-- parse for every overlay. Only plain (memchr-speed) searches run over whole
-- files; patterns run on the header lines (keep it that way: this runs on
-- every overlay for every query).
local M = {}

local CUT_KEYS = { constraints = true, componentRefs = true, validation = true }

local WORD = "[%w][%w%-_./]*"
local TOP = "^kind: (" .. WORD .. ")\napiVersion: (" .. WORD .. ")\nmetadata:\n  name: (" .. WORD .. ")\nspec:\n()"
local BASE = "^  base: (" .. WORD .. ")\n()"
local CRIT = "^    ([%a_]+): (" .. WORD .. ")\n()"

local function plainword(v)
  local c = v:byte(1)
  -- null, true, false (any case) and numbers are not plain strings
  if c == 110 or c == 78 or c == 116 or c == 84 or c == 102 or c == 70 then
    local l = v:lower()
    if l == "null" or l == "true" or l == "false" then return false end
  end
  return c > 57 or c < 43 -- not a digit, '+', '-' or '.'
end

-- Only plain (memchr-speed) searches run over the whole text; patterns run
-- on the few header lines.
local function canonical(text)
  local k0
  if text:sub(1, 6) == "kind: " then k0 = 1
  else
    local p = text:find("\nkind: ", 1, true)
    if not p then return nil end
    k0 = p + 1
    -- everything before kind: comment or blank lines
    local i = 1
    while i < k0 do
      local c = text:byte(i)
      if c ~= 35 and c ~= 10 then return nil end
      i = text:find("\n", i, true) + 1
    end
  end
  local kind, api, name, p = text:match(TOP, k0)
  if not kind then return nil end
  if not (plainword(kind) and plainword(api) and plainword(name)) then return nil end
  local h = { kind = kind, apiVersion = api, name = name }
  local base, q = text:match(BASE, p)
  if base then
    if not plainword(base) then return nil end
    h.base, p = base, q
  end
  q = text:match("^  criteria:\n()", p)
  if q then
    h.has_criteria = true
    local c, any = {}, false
    while true do
      local k, v, e = text:match(CRIT, q)
      if not k then break end
      if c[k] ~= nil then return nil end
      if k == "nodes" then
        if not v:find("^%d+$") then return nil end
        c[k] = math.tointeger(tonumber(v))
      else
        if not plainword(v) then return nil end
        c[k] = v
      end
      any = true
      q = e
    end
    if any then h.criteria = c end
    p = q
  else
    local f, e = text:match("^  criteria: ({[^\n]*})\n()", p)
    if f then
      h.has_criteria = true
      h.criteria = require("eidos.recipe.scanlines").flow_map(f)
      if not h.criteria then return nil end
      p = e
    end
  end
  -- what follows: the end, or a heavy spec key; after it no other line that
  -- could be spec.criteria or spec.base (plain searches only)
  if p > #text then return h end
  local k = text:match("^  (%a+):", p)
  if not (k and CUT_KEYS[k]) then return nil end
  if text:find("\n  criteria", p, true) or text:find("\n  base", p, true) or text:find("\n  \"", p, true)
     or text:find("\n  '", p, true) or text:find("\n  ?", p, true) or text:find("\t", 1, true) then
    return nil
  end
  return h
end

M._canonical = canonical

local LINE = "^\n    ([%a_]+): (" .. WORD .. ")()\n"

-- rejects(text, compatible) -> true when the file certainly does not match:
-- a line of its spec.criteria block (found with a plain search, checked to
-- sit under spec:) pins a field to a plain word that compatible(field,
-- value) refuses. The block is read line by line and the reading stops at
-- the first line of another shape, so anything unusual -> false (the header
-- is then read in full).
function M.rejects(text, compatible)
  local p = text:find("\n  criteria:\n", 1, true)
  if not p then return false end
  local ps = text:find("\nspec:\n", 1, true)
  if not ps or ps > p or text:sub(ps + 6, p):find("\n[^ \n#]") then return false end
  p = p + 12
  while true do
    local f, v, e = text:match(LINE, p)
    if not f then return false end
    if f ~= "nodes" and not compatible(f, v) then return true end
    p = e
  end
end

-- plain_pin(field, value) -> true for a criteria entry rejects() judges:
-- a field other than nodes pinned to a plain word
local PLAIN = "^" .. WORD .. "$"
function M.plain_pin(f, v)
  return f ~= "nodes" and type(v) == "string" and v:find(PLAIN) ~= nil
end

-- rejects_header(h, compatible) -> rejects() for a header already read
-- (the build's, eidos.recipe.library): its criteria pin a field to a plain
-- word that compatible(field, value) refuses
function M.rejects_header(h, compatible)
  if type(h.criteria) ~= "table" then return false end
  for f, v in pairs(h.criteria) do
    if M.plain_pin(f, v) and not compatible(f, v) then return true end
  end
  return false
end

-- header(text) -> {kind, apiVersion, name, base, criteria, has_criteria} | nil
function M.header(text)
  if text:find("\r", 1, true) or text:find("\t", 1, true) then return nil end
  local h = canonical(text)
  if h then return h end
  return require("eidos.recipe.scanlines").header(text)
end

return M
