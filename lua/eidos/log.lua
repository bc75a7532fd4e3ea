-- eidos.log: logging to stderr in three modes. cli (default): short lines,
-- "error:" in red and "warning:" in yellow on a terminal unless NO_COLOR is
-- set; text (with --debug): key=value lines with time and level; json (with
-- --log-json): one JSON object a line. Levels: debug < info < warn < error.
local M = {}

local levels = { debug = 1, info = 2, warn = 3, error = 4 }
local state = { mode = "cli", level = levels.warn, color = false }

M.levels = levels

function M.setup(opts)
  if opts.json then state.mode = "json"
  elseif opts.debug then state.mode = "text" end
  local lvl = opts.level or (opts.debug and "debug") or "warn"
  state.level = levels[lvl] or levels.warn
  local tty = require("eidos.core.sys").isatty(2)
  state.color = tty and not os.getenv("NO_COLOR") and state.mode == "cli"
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

-- log(level, msg, fields): fields is an optional map of extra keys
function M.log(level, msg, fields)
  if levels[level] < state.level then return end
  local keys = {}
  for k in pairs(fields or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  local line
  if state.mode == "json" then
    local emit = require("eidos.core.emit")
    local function j(v) return (emit.json(tostring(v), { indent = 0 }):gsub("\n$", "")) end
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
    if state.color and level == "error" then prefix = "\27[31m" .. prefix .. "\27[0m"
    elseif state.color and level == "warn" then prefix = "\27[33m" .. prefix .. "\27[0m" end
    local extra = {}
    for _, k in ipairs(keys) do extra[#extra + 1] = k .. "=" .. quote(fields[k]) end
    line = prefix .. msg .. (#extra > 0 and (" (" .. table.concat(extra, " ") .. ")") or "")
  end
  io.stderr:write(line, "\n")
end

function M.debug(msg, f) M.log("debug", msg, f) end
function M.info(msg, f) M.log("info", msg, f) end
function M.warn(msg, f) M.log("warn", msg, f) end
function M.error(msg, f) M.log("error", msg, f) end

return M
