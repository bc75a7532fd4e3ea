-- eidos.timeutil: RFC 3339 timestamps (Kubernetes expirations, pinned
-- snapshot times) to seconds since the epoch, and back, in UTC only.
local M = {}

-- days since 1970-01-01 of a civil date (proleptic Gregorian)
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

-- parse(s) -> seconds since the epoch, or nil when s is not RFC 3339
-- (YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm))
function M.parse(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, se, rest = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.*)$")
  if not y then return nil end
  y, mo, d, h, mi, se = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(se)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or se > 60 then return nil end
  rest = rest:gsub("^%.%d+", "")
  local off = 0
  if rest ~= "Z" and rest ~= "z" then
    local sign, oh, om = rest:match("^([+-])(%d%d):(%d%d)$")
    if not sign then return nil end
    off = (tonumber(oh) * 60 + tonumber(om)) * 60 * (sign == "+" and 1 or -1)
  end
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off
end

-- format(secs) -> "YYYY-MM-DDTHH:MM:SSZ"
function M.format(secs)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", secs or os.time())
end

return M
