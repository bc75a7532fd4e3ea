-- eidos.progress: what a command tells a person while it works and when it
-- has written its output, on stderr (stdout keeps the documents).
--
--   local p = progress.new("agent Job ns/name")  -- one running activity
--   p:update("pod Pending")    -- a live line on a terminal, rewritten in
--                              -- place; without one, a log line at most
--                              -- every INTERVAL seconds
--   p:finish("completed")      -- ends the live line, logs the final state
--   progress.wrote("snapshot", "cm://ns/name", "5 measurements")
--                              -- the closing "wrote ..." line
--
-- Every line carries the time since new() ("(12s)"). Log lines go through
-- eidos.log as info lines the default level shows (so --log-json and
-- --debug give them their structured form); --quiet, or --log-level error,
-- silences all of it. The live line is eidos.log's (cleared before any
-- other line, drawn again after it).
local log = require("eidos.log")
local sys = require("eidos.core.sys")

local M = {}

-- seconds between two log lines of an activity without a terminal
-- (EIDOS_PROGRESS_INTERVAL, a duration; a bare number is seconds)
function M.interval()
  if M.INTERVAL == nil then
    M.INTERVAL = require("eidos.units").env("EIDOS_PROGRESS_INTERVAL", "duration",
      { unit = "s", min = 0, default = 5000 }) / 1000
  end
  return M.INTERVAL
end

-- since(seconds) -> "0s", "12s", "2m05s", "1h02m"
function M.since(s)
  s = math.floor(s + 0.5)
  if s < 60 then return string.format("%ds", s) end
  if s < 3600 then return string.format("%dm%02ds", s // 60, s % 60) end
  return string.format("%dh%02dm", s // 3600, (s % 3600) // 60)
end

local P = {}
P.__index = P

-- new(what) -> an activity; what names it in every line
function M.new(what)
  local now = sys.monotime()
  return setmetatable({ what = what, t0 = now, last = now }, P)
end

function P:line(text)
  return string.format("%s: %s (%s)", self.what, text, M.since(sys.monotime() - self.t0))
end

-- p:update(text): the activity's state now
function P:update(text)
  local line = self:line(text)
  if log.live(line) then return end
  local now = sys.monotime()
  if now - self.last >= M.interval() then
    self.last = now
    log.progress(line)
  end
end

-- p:finish(text): the activity ended (done or failed): clears the live
-- line and logs its final state
function P:finish(text)
  log.live(nil)
  log.progress(self:line(text))
end

-- size(n) -> "812 B", "14.2 KiB", "3.1 MiB"
local function size(n)
  if n < 1024 then return string.format("%d B", n) end
  for _, u in ipairs({ "KiB", "MiB", "GiB" }) do
    n = n / 1024
    if n < 1024 or u == "GiB" then return string.format("%.1f %s", n, u) end
  end
end
M.size = size

-- wrote(what, where[, detail[, bytes]]): the closing line of a command that
-- wrote its output to where: "wrote snapshot to out/s.yaml (5 measurements;
-- 14.2 KiB)". Only for files, directories, cm:// and oci:// outputs: stdout
-- ("-" or nil), a device or a pipe (/dev/null, >(...)) give no line.
function M.wrote(what, where, detail, bytes)
  if where == nil or where == "-" or not log.showing_progress() then return end
  local scheme = where:match("^([%a][%w+.-]*)://")
  if scheme then
    scheme = scheme:lower()
    if scheme ~= "cm" and scheme ~= "oci" then return end
  elseif require("eidos.core.fs").exists(where) == "other" then
    return
  end
  local parts = {}
  if detail and detail ~= "" then parts[#parts + 1] = detail end
  if bytes then parts[#parts + 1] = size(bytes) end
  log.progress(string.format("wrote %s to %s%s", what, where,
    #parts > 0 and (" (" .. table.concat(parts, "; ") .. ")") or ""))
end

return M
