-- eidos.units: the one home of value syntax for every flag, environment
-- variable and configuration value of eidos and eidosd.
--   sizes      -> bytes. K, M, G, T (also KB, MB, GB, TB) are powers of 1000;
--                Ki, Mi, Gi, Ti (also KiB, MiB, GiB, TiB) powers of 1024, as
--                in Kubernetes quantities; B is bytes; case does not matter.
--                A bare number is in the flag's documented unit (opts.unit).
--   durations  -> milliseconds, in Go's syntax: a sequence of decimal numbers
--                each with a unit ns, us (or µs), ms, s, m, h: 500ms, 1m30s,
--                2h, 1.5s. "0" alone is zero. A bare number is in the flag's
--                documented unit (opts.unit "s" or "ms"), else refused.
--   counts     -> integers written in plain decimal digits (no sign, hex or
--                exponent); numbers -> plain decimals (1, 0.5).
--   timestamps -> RFC 3339 or seconds since the epoch, as UTC RFC 3339.
-- Every parser takes (text, opts) with opts.what naming the flag or variable
-- for messages ("--body-limit", "EIDOS_BODY_LIMIT"), opts.min / opts.max
-- (in the result's unit); garbage, overflow and values out of range raise
-- an "invalid" error (exit 2, HTTP 400) naming the value and what is
-- accepted. Numbers given instead of text are read as bare numbers.
local errors = require("eidos.errors")
local strx = require("eidos.text")

local M = {}

M.MAX = 2 ^ 53 -- above this, doubles stop counting bytes and milliseconds exactly

local SIZE = {
  [""] = 1, b = 1,
  k = 1000, kb = 1000, m = 1000 ^ 2, mb = 1000 ^ 2, g = 1000 ^ 3, gb = 1000 ^ 3, t = 1000 ^ 4, tb = 1000 ^ 4,
  ki = 1024, kib = 1024, mi = 1024 ^ 2, mib = 1024 ^ 2, gi = 1024 ^ 3, gib = 1024 ^ 3, ti = 1024 ^ 4, tib = 1024 ^ 4,
}
local SIZE_NAMES = { [1] = "bytes", [1024] = "KiB", [1024 ^ 2] = "MiB", [1024 ^ 3] = "GiB",
                     [1000] = "KB", [1000 ^ 2] = "MB", [1000 ^ 3] = "GB" }

local DURATION = { ns = 1e-6, us = 1e-3, ["\194\181s"] = 1e-3, ["\206\188s"] = 1e-3, ms = 1, s = 1000,
                   m = 60000, h = 3600000 }
local DURATION_NAMES = { ms = "milliseconds", s = "seconds", m = "minutes", h = "hours" }

local function what(opts) return (opts and opts.what) or "the value" end

local function text_of(v)
  if type(v) == "number" then
    if math.type(v) == "integer" or v ~= math.floor(v) then return tostring(v) end
    return string.format("%d", v)
  end
  return v
end

-- accepted(kind, opts) -> the sentence of what a value of that kind may be
function M.accepted(kind, opts)
  opts = opts or {}
  if kind == "size" then
    local unit = SIZE[(opts.unit or "B"):lower()] or 1
    return "a size such as 512Ki, 16Mi, 1Gi (powers of 1024) or 500K, 16M, 1G (powers of 1000); " ..
      "a bare number is " .. (SIZE_NAMES[unit] or opts.unit)
  elseif kind == "duration" then
    return "a duration such as 500ms, 30s, 1m30s, 2h (units ns, us, ms, s, m, h)" ..
      (opts.unit and ("; a bare number is " .. (DURATION_NAMES[opts.unit] or opts.unit)) or "")
  elseif kind == "count" then
    return "an integer" .. (opts.max and string.format(" from %d to %d", opts.min or 0, opts.max)
      or string.format(" >= %d", opts.min or 0))
  elseif kind == "number" then
    return "a decimal number >= " .. text_of(opts.min or 0)
  elseif kind == "timestamp" then
    return "RFC 3339 like 2026-01-02T15:04:05Z, or seconds since the epoch"
  end
  return kind
end

local function bad(kind, v, opts, why)
  errors.raise("invalid", string.format("invalid value %q for %s%s (accepted: %s)", tostring(text_of(v)), what(opts),
    why and (": " .. why) or "", M.accepted(kind, opts)))
end

-- format_size(bytes) -> the shortest exact text: 4Mi, 1500K, 17
function M.format_size(n)
  for _, u in ipairs({ { "Ti", 1024 ^ 4 }, { "T", 1000 ^ 4 }, { "Gi", 1024 ^ 3 }, { "G", 1000 ^ 3 },
                       { "Mi", 1024 ^ 2 }, { "M", 1000 ^ 2 }, { "Ki", 1024 }, { "K", 1000 } }) do
    if n >= u[2] and n % u[2] == 0 then return string.format("%d%s", n // u[2], u[1]) end
  end
  return string.format("%d", n)
end

-- format_duration(ms) -> Go's form: 1h30m, 1m30s, 1.5s, 250ms, 0s
function M.format_duration(ms)
  if ms == 0 then return "0s" end
  if ms < 1000 then return text_of(ms) .. "ms" end
  local out = {}
  local h, rest = math.floor(ms / 3600000), ms % 3600000
  local m = math.floor(rest / 60000)
  local s = (rest % 60000) / 1000
  if h > 0 then out[#out + 1] = string.format("%dh", h) end
  if m > 0 then out[#out + 1] = string.format("%dm", m) end
  if s > 0 then out[#out + 1] = (s == math.floor(s) and string.format("%d", s) or string.format("%g", s)) .. "s" end
  return table.concat(out)
end

local function range(kind, n, v, opts, show)
  local min, max = opts.min or (kind == "size" and 1 or 0), math.min(opts.max or M.MAX, M.MAX)
  if n < min then bad(kind, v, opts, "less than the minimum of " .. show(min)) end
  if n > max then bad(kind, v, opts, opts.max and ("more than the maximum of " .. show(max)) or "too large") end
  return math.tointeger(n) or n
end

-- size(text, opts) -> bytes (an integer). opts.unit: the unit of a bare
-- number ("B" default, "KiB", "MiB", ...); opts.min (default 1), opts.max.
function M.size(v, opts)
  opts = opts or {}
  local s = text_of(v)
  if type(s) ~= "string" then bad("size", tostring(v), opts) end
  local t = strx.trim(s) -- (a pattern trimming it would be quadratic on long runs of spaces)
  local int, frac, unit = t:match("^(%d+)%.?(%d*)%s*(%a*)$")
  if not int or (frac == "" and t:match("%.%s*%a*$")) then bad("size", s, opts) end
  local mult = SIZE[unit:lower()]
  if not mult then bad("size", s, opts, "unknown unit " .. string.format("%q", unit)) end
  if unit == "" then mult = SIZE[(opts.unit or "B"):lower()] end
  if #frac > 3 then bad("size", s, opts, "at most 3 decimals") end
  -- exact integer arithmetic once the size is known to fit
  local approx = tonumber(int .. "." .. (frac ~= "" and frac or "0")) * mult
  if approx ~= approx or approx > M.MAX then
    bad("size", s, opts, opts.max and ("more than the maximum of " .. M.format_size(opts.max)) or "too large")
  end
  local scale = 10 ^ #frac
  local num = math.tointeger(tonumber(int .. frac)) * math.tointeger(mult)
  if num % math.tointeger(scale) ~= 0 then bad("size", s, opts, "not a whole number of bytes") end
  return range("size", num // math.tointeger(scale), s, opts, M.format_size)
end

-- duration(text, opts) -> milliseconds (an integer, or a float below 1 ms
-- resolution). opts.unit: the unit of a bare number ("s", "ms"; nil: a
-- bare number other than 0 is refused); opts.min (default 0), opts.max.
function M.duration(v, opts)
  opts = opts or {}
  local s = text_of(v)
  if type(s) ~= "string" then bad("duration", tostring(v), opts) end
  local body = strx.trim(s)
  local sign = body:match("^[+-]")
  if sign then body = body:sub(2) end
  local total = 0
  if body == "0" then
    total = 0
  elseif body:match("^%d+%.?%d*$") or body:match("^%.%d+$") then
    if not opts.unit then bad("duration", s, opts, "a unit is needed") end
    total = tonumber(body) * DURATION[opts.unit]
  else
    if body == "" then bad("duration", s, opts) end
    local rest = body
    while rest ~= "" do
      local num, unit, tail = rest:match("^(%d*%.?%d*)([^%d%.]+)(.*)$")
      if not num or num == "" or num == "." or not DURATION[unit] then
        bad("duration", s, opts, num and num ~= "" and ("unknown unit " .. string.format("%q", unit)) or nil)
      end
      total = total + tonumber(num) * DURATION[unit]
      rest = tail
    end
  end
  if total ~= total or total == math.huge then bad("duration", s, opts, "too large") end
  if sign == "-" and total > 0 then bad("duration", s, opts, "negative") end
  return range("duration", total, s, opts, M.format_duration)
end

-- count(text, opts) -> integer of plain decimal digits; opts.min (default 0), opts.max
function M.count(v, opts)
  opts = opts or {}
  local s = text_of(v)
  if type(s) ~= "string" or not s:match("^%s*%d+%s*$") then bad("count", tostring(s), opts) end
  local digits = s:match("%d+"):gsub("^0+(%d)", "%1")
  if #digits > 15 then bad("count", s, opts, "too large") end
  return range("count", math.tointeger(tonumber(digits)), s, opts, function(n) return string.format("%d", n) end)
end

-- number(text, opts) -> a decimal number (1, 0.5; no sign, hex or exponent)
function M.number(v, opts)
  opts = opts or {}
  local s = text_of(v)
  if type(s) ~= "string" or not (s:match("^%s*%d+%.?%d*%s*$") or s:match("^%s*%.%d+%s*$")) then
    bad("number", tostring(s), opts)
  end
  local n = tonumber(s)
  if n == math.huge then bad("number", s, opts, "too large") end
  return range("number", n, s, opts, text_of)
end

-- timestamp(text, opts) -> "YYYY-MM-DDTHH:MM:SSZ"
function M.timestamp(v, opts)
  local s = text_of(v)
  local secs
  if type(s) == "string" then
    if s:match("^%d+$") then secs = #s <= 15 and tonumber(s) or nil else secs = require("eidos.timeutil").parse(s) end
  end
  if not secs or secs < 0 or secs > 253402300799 then bad("timestamp", tostring(s), opts) end
  return os.date("!%Y-%m-%dT%H:%M:%SZ", secs)
end

-- env(name, kind, opts) -> the parsed value of environment variable name,
-- or opts.default when it is unset or empty; opts.what defaults to name
function M.env(name, kind, opts)
  local v = os.getenv(name)
  opts = opts or {}
  if v == nil or v == "" then return opts.default end
  local o = {}
  for k, x in pairs(opts) do o[k] = x end
  o.what = o.what or name
  return M[kind](v, o)
end

return M
