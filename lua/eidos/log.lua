-- eidos.log: logging to stderr in three modes. cli (default): short lines,
-- "error:" in red and "warning:" in yellow where eidos.term says colour
-- (a terminal, no-color.org, --color); text (with --debug): key=value lines
-- with time and level; json (with --log-json): one JSON object a line.
-- Levels: debug < info < warn < error. Progress lines (M.progress: the
-- state of a long wait, "wrote ..." lines) are info lines that also show at
-- the default level, unless --quiet or --log-level error. log also owns the
-- live line (M.live): a line on a terminal rewritten in place, cleared
-- before any other line is written and drawn again after it.
-- eidos.term, loaded when first asked (a command that logs nothing never
-- loads it); setup hands it the flags that differ from its defaults
local function term() return require("eidos.term") end

local M = {}

local levels = { debug = 1, info = 2, warn = 3, error = 4 }
local state = { mode = "cli", level = levels.warn }
local live_text -- the live line shown now, or nil

M.levels = levels

function M.setup(opts)
  if opts.json then state.mode = "json"
  elseif opts.debug then state.mode = "text" end
  local lvl = opts.level or (opts.debug and "debug") or "warn"
  state.level = levels[lvl] or levels.warn
  if (opts.color and opts.color ~= "auto") or opts.quiet or opts.wide or package.loaded["eidos.term"] then
    term().setup(opts)
  end
end

function M.enabled(level) return levels[level] >= state.level end

local function quote(v)
  v = tostring(v)
  if v:find('[%s"=]') or v == "" then
    return '"' .. v:gsub('\\', '\\\\'):gsub('"', '\\"'):gsub("\n", "\\n") .. '"'
  end
  return v
end

local function now()
  return os.date("!%Y-%m-%dT%H:%M:%SZ")
end

local function write(line)
  if live_text then io.stderr:write("\r\27[K") end
  io.stderr:write(line, "\n")
  if live_text then io.stderr:write(live_text) end
  io.stderr:flush()
end

local function emit(level, msg, fields)
  local keys = {}
  for k in pairs(fields or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  local line
  if state.mode == "json" then
    local enc = require("eidos.core.emit")
    local function j(v) return (enc.json(tostring(v), { indent = 0 }):gsub("\n$", "")) end
    local parts = { '"time":' .. j(now()), '"level":' .. j(level), '"msg":' .. j(msg) }
    for _, k in ipairs(keys) do
      parts[#parts + 1] = j(k) .. ":" .. j(fields[k])
    end
    line = "{" .. table.concat(parts, ",") .. "}"
  elseif state.mode == "text" then
    local parts = { "time=" .. now(), "level=" .. level, "msg=" .. quote(msg) }
    for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. quote(fields[k]) end
    line = table.concat(parts, " ")
  else
    local prefix = ({ error = "error: ", warn = "warning: ", info = "", debug = "debug: " })[level]
    if (level == "error" or level == "warn") and term().color(2) then
      prefix = (level == "error" and "\27[31m" or "\27[33m") .. prefix .. "\27[0m"
    end
    local extra = {}
    for _, k in ipairs(keys) do extra[#extra + 1] = k .. "=" .. quote(fields[k]) end
    line = prefix .. msg .. (#extra > 0 and (" (" .. table.concat(extra, " ") .. ")") or "")
  end
  write(line)
end

-- log(level, msg, fields): fields is an optional map of extra keys
function M.log(level, msg, fields)
  if levels[level] < state.level then return end
  emit(level, msg, fields)
end

-- showing_progress() -> whether progress lines are shown: not --quiet,
-- and the level is the default or lower
function M.showing_progress()
  return not term().quiet() and state.level <= levels.warn
end

-- progress(msg, fields): a line about the progress of the command (an info
-- line that the default level shows too)
function M.progress(msg, fields)
  if M.showing_progress() then emit("info", msg, fields) end
end

-- live(text) -> true when text is shown as the live line (nil clears it);
-- false where there is no live line (not a terminal, TERM=dumb, --debug or
-- --log-json, progress not shown): the caller logs instead
function M.live(text)
  if text == nil then
    if live_text then io.stderr:write("\r\27[K"); io.stderr:flush() end
    live_text = nil
    return true
  end
  if state.mode ~= "cli" or not M.showing_progress() or not term().live() then return false end
  local w = term().columns(2) or 80
  if #text > w - 1 then text = text:sub(1, math.max(w - 4, 1)) .. "..." end
  live_text = text
  io.stderr:write("\r\27[K", text)
  io.stderr:flush()
  return true
end

function M.debug(msg, f) M.log("debug", msg, f) end
function M.info(msg, f) M.log("info", msg, f) end
function M.warn(msg, f) M.log("warn", msg, f) end
function M.error(msg, f) M.log("error", msg, f) end

return M
