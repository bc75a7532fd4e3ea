-- eidos.template.runtime: what a compiled template runs on. It owns the
-- value semantics the generated code calls (truth, printing like Go, field
-- access, range order: lists in order, maps in natural key order), the
-- built-in functions (the less common ones are eidos.template.funcs,
-- loaded on first use), load (Lua chunk text from eidos.template.gen ->
-- a compiled template) and the render state: includes and named
-- templates, the nesting, size and instruction budgets, and the error
-- positions (every runtime error names the template file and line).
--
-- A compiled template is {main=fn, defines={name=fn}, name=, source=}.
-- The limits are read at each use from M.limits, a table with max_steps,
-- max_bytes and max_depth: eidos.template sets it to itself, so its public
-- settings (template.max_steps, ...) are the ones in force.
local errors = require("eidos.errors")
local emit = require("eidos.core.emit")

local M = {}

M.limits = nil -- set by eidos.template

local NULL = emit.null
local LIST_MT = emit.list_mt
local natcmp = emit.natcmp

-- runtime errors (raised with fail) carry no position; run() adds file:line
local TplErr = {}
TplErr.__tostring = function(e) return e.msg end

------------------------------------------------------------------------
-- values

local function isnil(v) return v == nil or v == NULL end

local function islist(t)
  if getmetatable(t) == LIST_MT then return true end
  local n = #t
  return n > 0 and next(t, n) == nil
end
M.islist = islist

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b)
    local c = natcmp(tostring(a), tostring(b))
    if c == 0 then return tostring(a) < tostring(b) end
    return c < 0
  end)
  return ks
end
M.sorted_keys = sorted_keys

local function truth(v)
  if v == nil or v == NULL or v == false or v == 0 or v == "" then return false end
  if type(v) == "table" then return next(v) ~= nil end
  return true
end

local function fail(msg)
  error(setmetatable({ msg = msg }, TplErr), 0)
end

local function typename(v)
  if isnil(v) then return "nil" end
  local t = type(v)
  if t == "table" then return islist(v) and "list" or "map" end
  if t == "number" then return math.type(v) == "integer" and "int" or "float" end
  if t == "boolean" then return "bool" end
  return t
end

local function fmtfloat(f)
  if f ~= f then return "NaN" end
  if f == math.huge then return "+Inf" end
  if f == -math.huge then return "-Inf" end
  if f == math.floor(f) and math.abs(f) < 1e21 then return string.format("%d", f) end
  for p = 15, 17 do
    local s = string.format("%." .. p .. "g", f)
    if tonumber(s) == f then return s end
  end
  return string.format("%.17g", f)
end

local tostr
tostr = function(v, depth)
  local t = type(v)
  if t == "string" then return v end
  if v == nil or v == NULL then return "" end
  if t == "number" then
    if math.type(v) == "integer" then return string.format("%d", v) end
    return fmtfloat(v)
  end
  if t == "boolean" then return v and "true" or "false" end
  if t == "table" then
    depth = (depth or 0) + 1
    if depth > 50 then fail("value nested too deeply to print") end
    local parts = {}
    if islist(v) then
      for i = 1, #v do parts[i] = tostr(v[i], depth) end
      return "[" .. table.concat(parts, " ") .. "]"
    end
    for _, k in ipairs(sorted_keys(v)) do parts[#parts + 1] = tostring(k) .. ":" .. tostr(v[k], depth) end
    return "map[" .. table.concat(parts, " ") .. "]"
  end
  fail("cannot print a " .. t .. " value")
end
M.tostring = tostr

local function field(base, ...)
  local v = base
  for i = 1, select("#", ...) do
    local k = select(i, ...)
    if isnil(v) then return nil end
    if type(v) ~= "table" or islist(v) then
      fail(string.format("can't evaluate field %s in type %s", k, typename(v)))
    end
    v = v[k]
  end
  return v
end

local function items(v)
  if isnil(v) then return nil, nil, 0 end
  local t = type(v)
  if t == "table" then
    if islist(v) then
      local ks = {}
      for i = 1, #v do ks[i] = i - 1 end
      return ks, v, #v
    end
    local ks = sorted_keys(v)
    local vs = {}
    for i, k in ipairs(ks) do vs[i] = v[k] end
    return ks, vs, #ks
  end
  if math.type(v) == "integer" then
    local ks = {}
    for i = 1, v do ks[i] = i - 1 end
    return ks, ks, v > 0 and v or 0
  end
  fail("range can't iterate over " .. tostr(v))
end

local function checklen(s)
  if #s > M.limits.max_bytes then fail(string.format("output larger than %d bytes", M.limits.max_bytes)) end
  return s
end

------------------------------------------------------------------------
-- functions

local function empty(v) return not truth(v) end

local function goquote(s)
  s = tostr(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    if c == "\n" then return "\\n" end
    if c == "\t" then return "\\t" end
    if c == "\r" then return "\\r" end
    return string.format("\\x%02x", c:byte())
  end) .. '"'
end

local function toint(v, what)
  if type(v) == "number" then
    local i = math.tointeger(v) or (v == v and math.abs(v) < 2^63 and math.tointeger(math.floor(v)))
    if i then return i end
  elseif type(v) == "string" then
    local n = tonumber(v)
    if n then return toint(n, what) end
  elseif isnil(v) then return 0
  elseif type(v) == "boolean" then return v and 1 or 0 end
  fail(string.format("%s: cannot convert %s to an integer", what, typename(v)))
end

local function num(v, what)
  if type(v) == "number" then return v end
  if type(v) == "string" and tonumber(v) then return tonumber(v) end
  if isnil(v) then return 0 end
  fail(string.format("%s: %s is not a number", what, typename(v)))
end

local function indent(n, s)
  n = toint(n, "indent")
  if n < 0 or n > 1024 then fail("indent: width must be 0..1024") end
  local pad = string.rep(" ", n)
  s = tostr(s)
  local out = s:gsub("([^\n]+)", pad .. "%1")
  return checklen(out)
end

local function yaml_of(v)
  if v == nil then v = NULL end
  local text, msg = emit.yaml(v)
  if not text then fail("toYaml: " .. tostring(msg)) end
  return (text:gsub("\n$", ""))
end

local function printf(fmt, ...)
  fmt = tostr(fmt)
  local args = table.pack(...)
  local ai = 0
  local out = fmt:gsub("%%([-+# 0]*)(%d*)%.?(%d*)([%a%%])", function(flags, width, prec, verb)
    if verb == "%" then return "%" end
    ai = ai + 1
    if ai > args.n then return "%!" .. verb .. "(MISSING)" end
    local a = args[ai]
    local spec = "%" .. flags .. width
    if prec ~= "" then spec = spec .. "." .. prec end
    if verb == "s" or verb == "v" then return string.format(spec .. "s", tostr(a))
    elseif verb == "q" then return string.format(spec .. "s", goquote(a))
    elseif verb == "d" then return string.format(spec .. "d", toint(a, "printf"))
    elseif verb == "f" or verb == "e" or verb == "g" or verb == "E" or verb == "G" then
      return string.format(spec .. verb, num(a, "printf"))
    elseif verb == "t" then return string.format(spec .. "s", tostr(truth(a) and a ~= 0))
    elseif verb == "x" or verb == "X" then
      if type(a) == "string" then
        return (a:gsub(".", function(c) return string.format(verb == "x" and "%02x" or "%02X", c:byte()) end))
      end
      return string.format(spec .. verb, toint(a, "printf"))
    end
    return "%!" .. verb .. "(" .. tostr(a) .. ")"
  end)
  if ai < args.n then
    local extra = {}
    for i = ai + 1, args.n do extra[#extra + 1] = typename(args[i]) .. "=" .. tostr(args[i]) end
    out = out .. "%!(EXTRA " .. table.concat(extra, ", ") .. ")"
  end
  return checklen(out)
end

local function eqv(a, b)
  if isnil(a) and isnil(b) then return true end
  return a == b
end

local function indexv(v, ...)
  for i = 1, select("#", ...) do
    local k = select(i, ...)
    if isnil(v) then return nil end
    if type(v) ~= "table" then fail("index of " .. typename(v)) end
    if islist(v) then
      local n = toint(k, "index")
      if n < 0 or n >= #v then fail(string.format("index out of range: %d", n)) end
      v = v[n + 1]
    elseif getmetatable(v) == LIST_MT then
      fail(string.format("index out of range: %s", tostr(k)))
    else
      v = v[tostr(k)]
    end
  end
  return v
end

-- helpers shared with eidos.template.funcs
M.rt = { NULL = NULL, LIST_MT = LIST_MT, natcmp = natcmp, isnil = isnil, islist = islist, truth = truth,
         fail = fail, typename = typename, tostr = tostr, toint = toint, num = num, checklen = checklen,
         goquote = goquote, emit = emit, max_bytes = function() return M.limits.max_bytes end }

-- the built-in functions; `include` is bound per render
local builtins = {
  toYaml = yaml_of,
  indent = indent,
  nindent = function(n, s) return "\n" .. indent(n, s) end,
  quote = function(...)
    local out = {}
    for i = 1, select("#", ...) do
      local v = select(i, ...)
      if not isnil(v) then out[#out + 1] = goquote(v) end
    end
    return table.concat(out, " ")
  end,
  default = function(def, ...)
    local n = select("#", ...)
    local v = select(n, ...)
    if n == 0 or empty(v) then return def end
    return v
  end,
  empty = empty,
  sha256 = function(s)
    local h = require("eidos.core.sha256").hex(tostr(s))
    if not h then fail("sha256 unavailable") end
    return h
  end,
  upper = function(s) return tostr(s):upper() end,
  lower = function(s) return tostr(s):lower() end,
  trim = function(s) return (tostr(s):gsub("^%s+", ""):gsub("%s+$", "")) end,
  toString = function(v) return tostr(v) end,
  len = function(v)
    if isnil(v) then return 0 end
    if type(v) == "string" then return #v end
    if type(v) == "table" then
      if islist(v) then return #v end
      local n = 0
      for _ in pairs(v) do n = n + 1 end
      return n
    end
    fail("len of " .. typename(v))
  end,
  index = indexv,
  eq = function(a, ...)
    for i = 1, select("#", ...) do if eqv(a, select(i, ...)) then return true end end
    return false
  end,
  ne = function(a, b) return not eqv(a, b) end,
  ["and"] = function(...)
    local n = select("#", ...)
    for i = 1, n do
      local v = select(i, ...)
      if not truth(v) or i == n then return v end
    end
  end,
  ["or"] = function(...)
    local n = select("#", ...)
    for i = 1, n do
      local v = select(i, ...)
      if truth(v) or i == n then return v end
    end
  end,
  ["not"] = function(v) return not truth(v) end,
  printf = printf,
  list = function(...) return setmetatable({ ... }, LIST_MT) end,
  dict = function(...)
    local t = {}
    local n = select("#", ...)
    for i = 1, n, 2 do
      t[tostr((select(i, ...)))] = (i + 1 <= n) and select(i + 1, ...) or ""
    end
    return t
  end,
  join = function(sep, l)
    if isnil(l) then return "" end
    if type(l) ~= "table" then return tostr(l) end
    local out = {}
    for i = 1, #l do out[i] = tostr(l[i]) end
    return checklen(table.concat(out, tostr(sep)))
  end,
  reverse = function(l)
    local out = setmetatable({}, LIST_MT)
    if type(l) ~= "table" then return out end
    for i = #l, 1, -1 do out[#out + 1] = l[i] end
    return out
  end,
  include = true, -- bound per render
}
-- the rest of the functions (eidos.template.funcs) load on first use
local extras_loaded = false
local function load_extras()
  if extras_loaded then return end
  extras_loaded = true
  local extra = require("eidos.template.funcs").make(M.rt)
  for name, fn in pairs(extra) do if rawget(builtins, name) == nil then rawset(builtins, name, fn) end end
end
setmetatable(builtins, { __index = function(t, k)
  if extras_loaded then return nil end
  load_extras()
  return rawget(t, k)
end })
M.builtins = builtins

-- with_funcs(extra) -> the built-in functions, overlaid with extra (e.g.
-- template_helpers from --hooks files) when given; a fresh table if fresh
function M.with_funcs(extra, fresh)
  if not extra and not fresh then return builtins end
  local t = setmetatable({}, { __index = builtins })
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

-- names of the functions templates can call (for documentation and specs)
function M.functions()
  load_extras()
  local out = {}
  for k in pairs(builtins) do out[#out + 1] = k end
  table.sort(out)
  return out
end

------------------------------------------------------------------------
-- load: chunk text -> compiled template

-- load(code, name [, mode]) -> {main=, defines=, name=, source=}. code is
-- the text eidos.template.gen produced (mode "t", the default); a chunk
-- precompiled from such text by the build (mode "b") loads the same way.
-- Either runs in an empty environment.
function M.load(code, name, mode)
  local chunk, msg = load(code, "=" .. name, mode or "t", {})
  if not chunk then
    errors.raise("internal", string.format("%s: template compiler produced invalid code: %s", name, msg))
  end
  local main, defs = chunk()
  if type(main) ~= "function" or type(defs) ~= "table" then
    errors.raise("internal", string.format("%s: not a compiled template", name))
  end
  return { main = main, defines = defs, name = name, source = code }
end

------------------------------------------------------------------------
-- render state

local function normpath(dir, rel)
  local parts = {}
  local full = (dir ~= "" and (dir .. "/") or "") .. rel
  if rel:sub(1, 1) == "/" then full = rel:sub(2) end
  for seg in full:gmatch("[^/]+") do
    if seg == ".." then
      if #parts == 0 then return nil end
      parts[#parts] = nil
    elseif seg ~= "." then
      parts[#parts + 1] = seg
    end
  end
  return table.concat(parts, "/")
end

-- default_loader(path) -> text, origin, code (the build's chunk of an
-- embedded template, or nil) | nil, msg
local function default_loader(path)
  local res = require("eidos.core.res")
  local text, origin, code = res.read_code(path, "template")
  if not text then return nil, origin end
  return text, origin, code
end
M.default_loader = default_loader

local Runtime = {}
Runtime.__index = Runtime

local function make_runtime(opts, compile)
  local R = setmetatable({
    L = 0, F = "?", depth = 0, loader = opts.loader or default_loader,
    named = {}, files = {}, field = field, str = tostr, truth = truth, items = items,
    extra = opts.funcs, compile = compile,
  }, Runtime)
  local FN = M.with_funcs(opts.funcs, true)
  FN.include = function(nm, data) return R:do_include(nm, data) end
  R.FN = FN
  R.concat = function(O, n)
    local total = 0
    for i = 1, n do total = total + #O[i] end
    if total > M.limits.max_bytes then fail(string.format("output larger than %d bytes", M.limits.max_bytes)) end
    return table.concat(O, "", 1, n)
  end
  R.include = function(nm, data) return R:do_include(nm, data) end
  return R
end

-- register a compiled template's defines
function Runtime:register(c)
  for dn, fn in pairs(c.defines) do
    if not self.named[dn] then self.named[dn] = fn end
  end
end

-- load a file (relative to the including file's directory) and compile it
function Runtime:loadfile(path)
  local c = self.files[path]
  if c then return c end
  local text, msg, code = self.loader(path)
  if not text then fail(string.format("template %q not found (%s)", path, tostring(msg))) end
  c = self.compile(text, path, self.extra, code)
  self.files[path] = c
  self:register(c)
  return c
end

function Runtime:call(fn, file, data)
  if self.depth >= M.limits.max_depth then fail("include nesting deeper than " .. M.limits.max_depth) end
  local sf, sl = self.F, self.L
  self.depth = self.depth + 1
  self.F = file
  local out = fn(self, data)
  self.depth = self.depth - 1
  self.F, self.L = sf, sl
  return out
end

function Runtime:do_include(nm, data)
  nm = tostr(nm)
  local fn = self.named[nm]
  if fn then return self:call(fn, self.F, data) end
  local dir = self.F:match("^(.*)/[^/]*$") or ""
  local path = normpath(dir, nm)
  if not path or path == "" then fail(string.format("include %q climbs above the template root", nm)) end
  -- stay inside the top-level tree of the including file
  local top = self.F:match("^([^/]+)/")
  if top and path:match("^([^/]+)/") ~= top then
    fail(string.format("include %q leaves %s/", nm, top))
  end
  local c = self:loadfile(path)
  return self:call(c.main, path, data)
end

local function run_protected(R, fn)
  local co = coroutine.create(fn)
  local steps = M.limits.max_steps
  debug.sethook(co, function() error(setmetatable({ msg = "template exceeded its instruction budget" }, TplErr), 0) end,
    "", steps)
  local ok, res = coroutine.resume(co)
  debug.sethook(co)
  if ok then return res end
  local msg
  if getmetatable(res) == TplErr then msg = res.msg
  elseif errors.is(res) then errors.raise(res.code, res.msg, res.detail)
  else msg = tostring(res) end
  errors.raise("invalid", string.format("%s:%d: %s", R.F, R.L, msg))
end

-- render(c, data, opts, compile) -> string: runs compiled template c with
-- dot = data; opts as eidos.template.render's; compile(text, name, funcs)
-- compiles the files that {{ include }} and opts.helpers load
function M.render(c, data, opts, compile)
  local R = make_runtime(opts, compile)
  R.files[c.name] = c
  return run_protected(R, function()
    for _, h in ipairs(opts.helpers or {}) do R:loadfile(h) end
    R:register(c)
    R.F = c.name
    return c.main(R, data)
  end)
end

return M
