-- eidos.k8s.labels: the one home of the Kubernetes label, node selector,
-- taint and toleration grammar, used by the snapshot agent's flags
-- (--node-selector, --toleration) and the bundle's scheduling flags
-- (--system-node-selector, --accelerated-node-toleration, ...).
--   label key    [PREFIX/]NAME: PREFIX a DNS subdomain (lower-case letters,
--                digits, '-' and '.', at most 253), NAME at most 63 of
--                letters, digits, '-', '_', '.', alphanumeric at both ends
--   label value  empty, or like NAME
--   selector     KEY=VALUE (a node selector: one label)
--   label selector  what a list request's labelSelector takes (e.g.
--                --snapshot-selector): comma-separated requirements KEY=VALUE,
--                KEY==VALUE, KEY!=VALUE, KEY in (V,...), KEY notin (V,...),
--                KEY (exists), !KEY (does not exist), KEY>N, KEY<N
--   toleration   KEY=VALUE:EFFECT (operator Equal) or KEY:EFFECT (Exists),
--                EFFECT one of NoSchedule, PreferNoSchedule, NoExecute
-- Every malformed word raises an "invalid" error (exit 2, HTTP 400) naming
-- the flag, the word, the part that is wrong and the accepted syntax.
-- Also the labels eidos puts on what a fleet run makes (M.NODE, M.RUN:
-- node_labels).
local errors = require("eidos.errors")

local M = {}

M.EFFECTS = { "NoSchedule", "PreferNoSchedule", "NoExecute" }
local EFFECT = {}
for _, e in ipairs(M.EFFECTS) do EFFECT[e] = true end

local SELECTOR_SYNTAX = "KEY=VALUE, e.g. nodeGroup=system"
local TOL_SYNTAX = "KEY=VALUE:EFFECT or KEY:EFFECT, EFFECT one of NoSchedule, PreferNoSchedule, NoExecute"

local function invalid(fmt, ...) errors.raise("invalid", string.format(fmt, ...)) end

-- alphanumeric at both ends, [A-Za-z0-9._-] between
local function name_like(s)
  return #s <= 63 and s:match("^%w") ~= nil and s:match("%w$") ~= nil and s:match("^[%w._-]*$") ~= nil
end

-- key_ok(k) -> true | nil, why
function M.key_ok(k)
  local prefix, name = k:match("^(.*)/(.*)$")
  name = name or k
  if prefix then
    if prefix == "" or #prefix > 253 or not prefix:match("^[a-z0-9][-a-z0-9.]*$") or not prefix:match("[a-z0-9]$") then
      return nil, "its prefix must be a DNS subdomain (lower-case letters, digits, '-', '.', at most 253)"
    end
  end
  if name == "" or not name_like(name) then
    return nil, "its name must be at most 63 letters, digits, '-', '_', '.', alphanumeric at both ends"
  end
  return true
end

-- value_ok(v) -> true | nil, why
function M.value_ok(v)
  if v == "" or name_like(v) then return true end
  return nil, "up to 63 of A-Z a-z 0-9 . _ -, alphanumeric at both ends"
end

-- selector("k=v", flag) -> key, value
function M.selector(text, flag)
  local k, v = text:match("^([^=]*)=(.*)$")
  if not k then invalid("invalid --%s %q (accepted: %s)", flag, text, SELECTOR_SYNTAX) end
  local ok, why = M.key_ok(k)
  if not ok then invalid("invalid --%s %q: bad label key %q: %s (accepted: %s)", flag, text, k, why, SELECTOR_SYNTAX) end
  ok, why = M.value_ok(v)
  if not ok then invalid("invalid --%s %q: bad label value %q (%s)", flag, text, v, why) end
  return k, v
end

-- selectors(list, flag) -> map key -> value, keys in first-given order
-- (a key given again takes the later value)
function M.selectors(list, flag)
  local out, keys = {}, {}
  for _, s in ipairs(list or {}) do
    local k, v = M.selector(s, flag)
    if out[k] == nil then keys[#keys + 1] = k end
    out[k] = v
  end
  return out, keys
end

-- ---- label selectors (Kubernetes' labels.Parse) -------------------------

M.LABEL_SELECTOR_SYNTAX = "comma-separated KEY=VALUE, KEY==VALUE, KEY!=VALUE, KEY in (A,B), KEY notin (A,B), " ..
  "KEY, !KEY, KEY>N, KEY<N, e.g. 'eidos.nvidia.com/run-id=abc,team in (ml,infra)'"

local OPS = { ["="] = true, ["=="] = true, ["!="] = true, ["<"] = true, [">"] = true }

-- tokens of a label selector: {kind, text, at}; kind is "word" (a run
-- of anything but blanks and !=,()<>) or the operator/punctuation itself
local function lex(text)
  local toks, i, n = {}, 1, #text
  while i <= n do
    local c = text:sub(i, i)
    if c:match("%s") then i = i + 1
    elseif text:sub(i, i + 1) == "!=" or text:sub(i, i + 1) == "==" then
      toks[#toks + 1] = { text:sub(i, i + 1), text:sub(i, i + 1), i }; i = i + 2
    elseif c:match("[!=,()<>]") then toks[#toks + 1] = { c, c, i }; i = i + 1
    else
      local j = text:find("[%s!=,()<>]", i) or n + 1
      toks[#toks + 1] = { "word", text:sub(i, j - 1), i }; i = j
    end
  end
  toks[#toks + 1] = { "end", "", n + 1 }
  return toks
end

-- label_selector(text, what) -> text, requirements ({key, op, values})
-- when text is a Kubernetes label selector (empty: everything); else
-- raises "invalid" naming what (e.g. "--snapshot-selector"), the text,
-- the character where it goes wrong and the accepted syntax
function M.label_selector(text, what)
  local toks, k, reqs = lex(text), 1, {}
  local function fail(t, why)
    local found = t[1] == "end" and "the end" or string.format("%q", t[2])
    invalid("invalid %s %q: at character %d (%s): %s (accepted: %s)", what, text, t[3], found, why,
      M.LABEL_SELECTOR_SYNTAX)
  end
  local function take() k = k + 1; return toks[k - 1] end
  local function key(t)
    if t[1] ~= "word" then fail(t, "expected a label key") end
    local ok, why = M.key_ok(t[2])
    if not ok then fail(t, string.format("bad label key %q: %s", t[2], why)) end
    return t[2]
  end
  local function value(t, op)
    local ok, why = M.value_ok(t[2])
    if not ok then fail(t, string.format("bad label value %q (%s)", t[2], why)) end
    if (op == "<" or op == ">") and not t[2]:match("^%-?%d+$") then
      fail(t, string.format("%q needs an integer after %s", t[2], op))
    end
    return t[2]
  end
  if toks[1][1] == "end" then return text, reqs end
  while true do
    local t = take()
    local r
    if t[1] == "!" then r = { key = key(take()), op = "!" }
    else
      r = { key = key(t) }
      local o = toks[k]
      if OPS[o[1]] then
        take()
        local v = toks[k]
        if v[1] == "word" then take()
        elseif (v[1] == "," or v[1] == "end") and o[1] ~= "<" and o[1] ~= ">" then v = { "word", "", v[3] }
        else fail(v, "expected a label value after " .. o[1]) end
        r.op, r.values = o[1], { value(v, o[1]) }
      elseif o[1] == "word" and (o[2] == "in" or o[2] == "notin") then
        take()
        r.op, r.values = o[2], {}
        if toks[k][1] ~= "(" then fail(toks[k], "expected '(' after " .. o[2]) end
        take()
        if toks[k][1] == ")" then r.values[1] = "" end
        while toks[k][1] ~= ")" do
          local v = take()
          if v[1] ~= "word" then fail(v, "expected a label value in (...)") end
          r.values[#r.values + 1] = value(v)
          if toks[k][1] == "," then take() elseif toks[k][1] ~= ")" then fail(toks[k], "expected ',' or ')'") end
        end
        take()
      elseif o[1] == "," or o[1] == "end" then r.op = "exists"
      else fail(o, string.format("expected an operator (=, ==, !=, in, notin) or ',' after the key %q", r.key)) end
    end
    reqs[#reqs + 1] = r
    local e = take()
    if e[1] == "end" then return text, reqs end
    if e[1] ~= "," then fail(e, "expected ',' or the end after a requirement") end
    if toks[k][1] == "end" then fail(toks[k], "expected a requirement after ','") end
  end
end

-- toleration("k=v:Effect" | "k:Effect", flag) -> {key, operator, value, effect}
-- in Kubernetes' key order
function M.toleration(text, flag)
  local body, effect = text:match("^(.*):([^:]*)$")
  if not body then invalid("invalid --%s %q (accepted: %s)", flag, text, TOL_SYNTAX) end
  if not EFFECT[effect] then
    local h = require("eidos.nearest").hint(effect, M.EFFECTS)
    invalid("invalid --%s %q: unknown effect %q%s (accepted: %s)", flag, text, effect, h ~= "" and ("; " .. h) or "",
      TOL_SYNTAX)
  end
  if body:find(":", 1, true) then invalid("invalid --%s %q: too many ':' (accepted: %s)", flag, text, TOL_SYNTAX) end
  local k, v = body:match("^([^=]*)=(.*)$")
  local t
  if k then
    t = { key = k, operator = "Equal", value = v, effect = effect }
  else
    k = body
    t = { key = k, operator = "Exists", effect = effect }
  end
  local ok, why = M.key_ok(k)
  if not ok then invalid("invalid --%s %q: bad taint key %q: %s (accepted: %s)", flag, text, k, why, TOL_SYNTAX) end
  if v then
    ok, why = M.value_ok(v)
    if not ok then invalid("invalid --%s %q: bad taint value %q (%s)", flag, text, v, why) end
  end
  return require("eidos.doc").ordered(t, { "key", "operator", "value", "effect" })
end

-- tolerations(list, flag) -> a list of tolerations
function M.tolerations(list, flag)
  local doc = require("eidos.doc")
  local out = doc.list({})
  for _, s in ipairs(list or {}) do out[#out + 1] = M.toleration(s, flag) end
  return out
end

-- the labels and annotation of what a fleet run or the watch writes
M.NODE = "eidos.nvidia.com/node"     -- the node name (hashed when it is no label value)
M.RUN = "eidos.nvidia.com/run-id"    -- the run that wrote it

-- node_value(name) -> the node name as a label value: itself when it is one
-- (at most 63 characters), else its first characters and a hash
function M.node_value(name)
  name = tostring(name)
  if M.value_ok(name) and name ~= "" then return name end
  local h = require("eidos.core.sha256").hex(name):sub(1, 16)
  local head = name:sub(1, 46):gsub("[^%w._-]", "-"):gsub("^[^%w]+", ""):gsub("[^%w]+$", "")
  return head ~= "" and (head .. "-" .. h) or h
end

-- node_labels(node, run) -> labels, annotations: M.NODE (and M.RUN when
-- run is given) as labels, the full node name as the annotation M.NODE
function M.node_labels(node, run)
  local l, a = {}, {}
  if node and node ~= "" then
    l[M.NODE] = M.node_value(node)
    a[M.NODE] = node
  end
  if run and run ~= "" then l[M.RUN] = run end
  return l, a
end

return M
