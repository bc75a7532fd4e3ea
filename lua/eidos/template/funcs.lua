-- eidos.template.funcs: the less common template functions, loaded by
-- eidos.template on the first use of one of them (so rendering the bundle
-- templates does not pay for parsing them). make(rt) returns the function
-- table; rt carries the engine's shared helpers (value printing,
-- truthiness, errors).
local M = {}

local base64 = require("eidos.core.base64")

function M.make(rt)
  local NULL, LIST_MT, natcmp, isnil, truth = rt.NULL, rt.LIST_MT, rt.natcmp, rt.isnil, rt.truth
  local fail, typename, tostr, toint, num, checklen = rt.fail, rt.typename, rt.tostr, rt.toint, rt.num, rt.checklen
  local emit = rt.emit
  local function cmp_values(a, b, what)
    if type(a) == "number" and type(b) == "number" then return a < b and -1 or (a > b and 1 or 0) end
    if type(a) == "string" and type(b) == "string" then return a < b and -1 or (a > b and 1 or 0) end
    fail(string.format("%s: incompatible types for comparison (%s, %s)", what, typename(a), typename(b)))
  end
  local f = {
    toJson = function(v)
      if v == nil then v = NULL end
      local text, msg = emit.json(v, { indent = 0 })
      if not text then fail("toJson: " .. tostring(msg)) end
      return (text:gsub("\n$", ""))
    end,
    toPrettyJson = function(v)
      if v == nil then v = NULL end
      local text, msg = emit.json(v, { indent = 2 })
      if not text then fail("toPrettyJson: " .. tostring(msg)) end
      return (text:gsub("\n$", ""))
    end,
    squote = function(...)
      local out = {}
      for i = 1, select("#", ...) do
        local v = select(i, ...)
        if not isnil(v) then out[#out + 1] = "'" .. tostr(v):gsub("'", "''") .. "'" end
      end
      return table.concat(out, " ")
    end,
    coalesce = function(...)
      for i = 1, select("#", ...) do
        local v = select(i, ...)
        if truth(v) then return v end
      end
      return nil
    end,
    ternary = function(a, b, c) if truth(c) then return a end return b end,
    required = function(msg, v)
      if isnil(v) or v == "" then fail(tostr(msg)) end
      return v
    end,
    fail = function(msg) fail(tostr(msg)) end,
    trimSuffix = function(suf, s)
      s, suf = tostr(s), tostr(suf)
      if suf ~= "" and s:sub(-#suf) == suf then return s:sub(1, #s - #suf) end
      return s
    end,
    trimPrefix = function(pre, s)
      s, pre = tostr(s), tostr(pre)
      if s:sub(1, #pre) == pre then return s:sub(#pre + 1) end
      return s
    end,
    replace = function(old, new, s)
      old, new, s = tostr(old), tostr(new), tostr(s)
      if old == "" then return s end
      local out = {}
      local i = 1
      while true do
        local a, b = s:find(old, i, true)
        if not a then break end
        out[#out + 1] = s:sub(i, a - 1)
        out[#out + 1] = new
        i = b + 1
      end
      out[#out + 1] = s:sub(i)
      return checklen(table.concat(out))
    end,
    contains = function(sub, s) return tostr(s):find(tostr(sub), 1, true) ~= nil end,
    hasPrefix = function(pre, s) pre = tostr(pre); return tostr(s):sub(1, #pre) == pre end,
    hasSuffix = function(suf, s) suf = tostr(suf); return suf == "" or tostr(s):sub(-#suf) == suf end,
    ["repeat"] = function(n, s)
      n = toint(n, "repeat")
      s = tostr(s)
      if n < 0 or n * #s > rt.max_bytes() then fail("repeat: result too large") end
      return string.rep(s, n)
    end,
    int = function(v) return toint(v, "int") end,
    float64 = function(v) return num(v, "float64") + 0.0 end,
    add = function(...)
      local s = 0
      for i = 1, select("#", ...) do s = s + num(select(i, ...), "add") end
      return s
    end,
    sub = function(a, b) return num(a, "sub") - num(b, "sub") end,
    mul = function(...)
      local s = 1
      for i = 1, select("#", ...) do s = s * num(select(i, ...), "mul") end
      return s
    end,
    div = function(a, b)
      a, b = num(a, "div"), num(b, "div")
      if b == 0 then fail("div: division by zero") end
      if math.type(a) == "integer" and math.type(b) == "integer" then return a // b end
      return a / b
    end,
    mod = function(a, b)
      a, b = toint(a, "mod"), toint(b, "mod")
      if b == 0 then fail("mod: division by zero") end
      return math.fmod(a, b)
    end,
    lt = function(a, b) return cmp_values(a, b, "lt") < 0 end,
    le = function(a, b) return cmp_values(a, b, "le") <= 0 end,
    gt = function(a, b) return cmp_values(a, b, "gt") > 0 end,
    ge = function(a, b) return cmp_values(a, b, "ge") >= 0 end,
    print = function(...)
      local out = {}
      for i = 1, select("#", ...) do out[#out + 1] = tostr((select(i, ...))) end
      return checklen(table.concat(out))
    end,
    get = function(m, k)
      if type(m) ~= "table" then return "" end
      local v = m[tostr(k)]
      if v == nil then return "" end
      return v
    end,
    hasKey = function(m, k) return type(m) == "table" and m[tostr(k)] ~= nil end,
    keys = function(...)
      local out = setmetatable({}, LIST_MT)
      for i = 1, select("#", ...) do
        local m = select(i, ...)
        if type(m) == "table" then for k in pairs(m) do out[#out + 1] = tostr(k) end end
      end
      table.sort(out, function(a, b) return natcmp(a, b) < 0 end)
      return out
    end,
    split = function(sep, s)
      sep, s = tostr(sep), tostr(s)
      local out = setmetatable({}, LIST_MT)
      if sep == "" then fail("split: empty separator") end
      local i = 1
      while true do
        local a, b = s:find(sep, i, true)
        if not a then out[#out + 1] = s:sub(i); break end
        out[#out + 1] = s:sub(i, a - 1)
        i = b + 1
      end
      return out
    end,
    first = function(l) if type(l) == "table" then return l[1] end end,
    last = function(l) if type(l) == "table" then return l[#l] end end,
    kindOf = function(v)
      local t = typename(v)
      if t == "list" then return "slice" elseif t == "int" then return "int64" elseif t == "float" then return "float64" end
      return t == "nil" and "invalid" or t
    end,
  }
  f.b64enc = function(s) return base64.encode(tostr(s)) end
  f.b64dec = function(s)
    local r, msg = base64.decode(tostr(s))
    if not r then fail("b64dec: " .. msg) end
    return r
  end
  f.sha256sum = function(s)
    local h = require("eidos.core.sha256").hex(tostr(s))
    if not h then fail("sha256 unavailable") end
    return h
  end
  return f
end

return M
