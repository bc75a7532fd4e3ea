-- eidos.snapshot.redact: keeps secrets out of snapshots. A value is replaced
-- by M.marker when the name it is stored under looks like a secret: a word
-- of the name (split at non-alphanumerics and camelCase humps) is one of
-- M.words, or the lower-cased name ends with one of M.suffixes. Where names
-- are looked at is M.rules:
--   match = "key"      the data key is the name (kernel arguments, labels)
--   match = "entries"  the value holds NAME=VALUE / --name=value words (a
--                      unit's Environment=, its command lines); each secret
--                      one has its value replaced, the others are kept
-- Platform teams change this file (or drop a copy in their override
-- directory) to widen or narrow the rule; nothing else decides redaction.
local M = {}

M.marker = "<redacted>"

M.words = {
  token = true, tokens = true, password = true, passwords = true, passwd = true,
  secret = true, secrets = true, key = true, keys = true, apikey = true,
  credential = true, credentials = true, pwd = true,
}

-- for names written as one word (apitoken, db_adminpassword)
M.suffixes = { "token", "password", "passwd", "secret", "apikey", "credential", "credentials" }

M.rules = {
  { type = "OS", subtype = "grub", match = "key" },
  { type = "SystemD", key = "Environment", match = "entries" },
  { type = "SystemD", key_prefix = "Exec", match = "entries" },
  { type = "K8s", subtype = "node", match = "key" },
  { type = "NodeTopology", subtype = "label", match = "key" },
  { type = "NodeTopology", subtype = "taint", match = "key" },
}

-- secret_name(name) -> true when name looks like it holds a secret
function M.secret_name(name)
  if type(name) ~= "string" or name == "" then return false end
  local spaced = name:gsub("(%l)(%u)", "%1 %2"):gsub("(%u)(%u%l)", "%1 %2")
  for w in spaced:gmatch("%w+") do
    if M.words[w:lower()] then return true end
  end
  local l = name:lower()
  for _, s in ipairs(M.suffixes) do
    if #l > #s and l:sub(-#s) == s then return true end
  end
  return false
end

-- entries(s) -> s with the value of each secret NAME=VALUE word replaced
function M.entries(s)
  local out = (" " .. s):gsub("([%s%[])(%-*)([%a_][%w_.%-]*)=([^%s%]]*)", function(pre, dashes, name, val)
    if val ~= "" and M.secret_name(name) then return pre .. dashes .. name .. "=" .. M.marker end
    return nil
  end)
  return out:sub(2)
end

local function applies(rule, mtype, subtype, key)
  if rule.type and rule.type ~= mtype then return false end
  if rule.subtype and rule.subtype ~= subtype then return false end
  if rule.key and rule.key ~= key then return false end
  if rule.key_prefix and key:sub(1, #rule.key_prefix) ~= rule.key_prefix then return false end
  return true
end

-- value(mtype, subtype, key, v) -> v, or its redacted form
function M.value(mtype, subtype, key, v)
  for _, rule in ipairs(M.rules) do
    if applies(rule, mtype, subtype, key) then
      if rule.match == "key" then
        if M.secret_name(key) and v ~= "" then return M.marker end
      elseif rule.match == "entries" and type(v) == "string" then
        v = M.entries(v)
      end
    end
  end
  return v
end

-- tree(v) -> a copy of a document (Kubernetes objects, Helm values) with
-- the value under every secret-looking key replaced, and the value of
-- every {name = <secret-looking>, value = ...} entry (container env).
-- Floats with an integral value come back as integers (JSON read them as
-- floats). Used for validate --evidence-dir.
function M.tree(v)
  if type(v) == "number" then return math.tointeger(v) or v end
  if type(v) ~= "table" then return v end
  local out = {}
  local secret_entry = type(v.name) == "string" and v.value ~= nil and M.secret_name(v.name)
  for k, x in pairs(v) do
    if type(k) == "string" and M.secret_name(k) and x ~= "" and type(x) ~= "boolean" then
      out[k] = M.marker
    elseif secret_entry and k == "value" then
      out[k] = M.marker
    else
      out[k] = M.tree(x)
    end
  end
  return setmetatable(out, getmetatable(v))
end

-- measurement(m): redact a measurement {type, subtypes} in place; returns
-- the number of values replaced
function M.measurement(m)
  local n = 0
  for _, st in ipairs(m.subtypes or {}) do
    local data = st.data
    if type(data) == "table" then
      local keys = {}
      for k in pairs(data) do keys[#keys + 1] = k end
      for _, k in ipairs(keys) do
        local v = data[k]
        local r = M.value(m.type, st.subtype, k, v)
        if r ~= v then
          data[k] = r
          n = n + 1
        end
      end
    end
  end
  return n
end

return M
