-- eidos.recipe.scanlines: the careful half of eidos.recipe.scan -- an
-- overlay header (kind, apiVersion, metadata.name, spec.base, spec.criteria)
-- read line by line from block-style YAML with one-line scalars, for files
-- that are not in the library's exact layout. It returns nil for anything it
-- cannot place (tabs, block scalars, anchors, multi-line values, flow maps
-- over several lines, odd indentation), and the caller then parses the whole
-- file with the YAML loader.
local strx = require("eidos.text")
local M = {}

local CUT_KEYS = { constraints = true, componentRefs = true, validation = true }
local CUT_ORDER = { "\n  constraints:", "\n  componentRefs:", "\n  validation:" }

-- scalar(text) -> value, true | nil, false. text is what follows "key:"
-- (trimmed). Accepts "" (null), "double" and 'single' quoted strings without
-- escapes, plain words that the YAML core schema reads as strings, and
-- decimal integers; anything else is refused.
local function scalar(v)
  if v == "" then return nil, true end
  local c = v:sub(1, 1)
  if c == '"' or c == "'" then
    local s, rest
    if c == '"' then s, rest = v:match('^"([^"\\]*)"(.*)$')
    else s, rest = v:match("^'([^']*)'(.*)$") end
    if s and (rest == "" or rest:match("^%s+#")) then return s, true end
    return nil, false
  end
  local body = v:match("^(.-)%s+#") or v
  if body:match("^[%a][%w%-_./]*$") then
    local l = body:lower()
    if l == "null" or l == "true" or l == "false" then return nil, false end
    return body, true
  end
  if body == "0" or body:match("^[1-9]%d?%d?%d?%d?%d?%d?%d?%d?$") then
    return math.tointeger(tonumber(body)), true
  end
  return nil, false
end

-- a one-line flow map "{a: b, c: d}" of scalars -> table | nil
local function flow_map(v)
  local inner, rest = v:match("^{(.-)}(.*)$")
  if not inner or not (rest == "" or rest:match("^%s+#")) then return nil end
  if inner:find("[{}%[%]]") then return nil end
  local out, seen = {}, {}
  if inner:match("^%s*$") then return out end
  for item in (inner .. ","):gmatch("([^,]*),") do
    local k, val = item:match("^%s*([%w_]+)%s*:(.*)$")
    val = val and strx.trim(val)
    if not k or seen[k] then return nil end
    seen[k] = true
    local s, ok = scalar(val)
    if not ok then return nil end
    out[k] = s
  end
  return out
end

-- key(line, indent) -> key, value text | nil
local function kv(line, indent)
  local k, rest = line:match("^([%w_]+):(.*)$", indent + 1)
  if not k then return nil end
  if rest ~= "" and not rest:match("^%s") then return nil end
  return k, strx.trim(rest)
end

-- parse(text) -> header, state | nil
local function parse(text)
  local h = {}
  local top = {}
  local sec, child, sub, crit_indent
  local seen
  local first = true
  for line in text:gmatch("([^\n]*)\n?") do
    local indent = #line:match("^ *")
    local c = line:sub(indent + 1, indent + 1)
    if c == "" or c == "#" then
      -- blank or comment line
    elseif c == "\t" then
      return nil
    elseif indent == 0 then
      if first and line:match("^%-%-%-%s*$") then
        first = false
      else
        first = false
        local k, v = kv(line, 0)
        if not k or top[k] then return nil end
        top[k] = true
        if k == "metadata" or k == "spec" then
          if v ~= "" then return nil end
          sec, child, sub, seen = k, nil, nil, {}
        elseif k == "kind" or k == "apiVersion" then
          local s, ok = scalar(v)
          if not ok or (s ~= nil and type(s) ~= "string") then return nil end
          h[k] = s
          sec = "scalar"
        else
          local ch = v:sub(1, 1)
          if ch == '"' or ch == "'" or ch == "[" or ch == "{" then
            local _, ok = scalar(v)
            if not ok and not v:match("^%[.*%]$") and not flow_map(v) then return nil end
          end
          sec = "other"
        end
      end
    else
      first = false
      if sec == "other" then
        -- children of a top-level key we do not read
      elseif sec ~= "metadata" and sec ~= "spec" then
        return nil
      else
        if not child then child = indent end
        if indent < child then return nil end
        if indent == child then
          if c == "-" then
            if sub ~= "skip" then return nil end
          else
            local k, v = kv(line, indent)
            if not k or seen[k] then return nil end
            seen[k] = true
            if sec == "metadata" and k == "name" or sec == "spec" and k == "base" then
              local s, ok = scalar(v)
              if not ok then return nil end
              if s ~= nil then h[k] = type(s) == "string" and s or tostring(s) end
              sub = "scalar"
            elseif sec == "spec" and k == "criteria" then
              h.has_criteria = true
              if v == "" then
                h.criteria, sub, crit_indent = {}, "criteria", nil
                h.criteria_block = true
              elseif v:sub(1, 1) == "{" then
                h.criteria = flow_map(v)
                if not h.criteria then return nil end
                sub = "scalar"
              else
                return nil
              end
            else
              sub = "skip"
            end
          end
        else
          if sub == "skip" then
            -- inside a value we do not read
          elseif sub == "criteria" then
            crit_indent = crit_indent or indent
            if indent ~= crit_indent then return nil end
            local k, v = kv(line, indent)
            if not k or h.criteria[k] ~= nil then return nil end
            local s, ok = scalar(v)
            if not ok then return nil end
            h.criteria[k] = s
            h.criteria_block = nil
          else
            return nil
          end
        end
      end
    end
  end
  -- "criteria:" with nothing below it is null in YAML: no criteria
  if h.criteria_block then h.criteria, h.criteria_block = nil, nil end
  return h, { sec = sec, child = child }
end

-- canonical(text) -> header | nil: the layout the library is written in,
-- read with a few anchored matches --
--   [comment lines] kind: K / apiVersion: A / metadata: name: N /
--   spec: [base: B] [criteria: (block of "    key: value" lines | {flow})]
--   followed by constraints:/componentRefs:/validation: or the end --
-- with plain-word values only. Anything else -> nil.
M.scalar = scalar
M.flow_map = flow_map

-- header(text) -> header | nil. Reads only up to the first heavy spec key
-- (constraints, componentRefs, validation) when what follows it holds no
-- other top-level or spec key; otherwise the whole text.
function M.header(text)
  local cut
  for _, k in ipairs(CUT_ORDER) do
    local p = text:find(k, 1, true)
    if p and (not cut or p < cut) then cut = p end
  end
  if cut then
    local rest = text:sub(cut)
    local ok = not rest:find("\n[^ \n#]")
    if ok then
      for line in rest:gmatch("\n  ([^ \n#%-][^\n]*)") do
        local k = line:match("^([%w_]+):")
        if not (k and CUT_KEYS[k]) then ok = false; break end
      end
    end
    if ok then
      local h, st = parse(text:sub(1, cut - 1))
      if h and st.sec == "spec" and st.child == 2 then return h end
    end
  end
  return (parse(text))
end

return M
