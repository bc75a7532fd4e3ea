-- eidos.term: what the person reading stdout and stderr can see, decided
-- in one place: whether a stream is a terminal, whether to colour it
-- (no-color.org), whether a live progress line can be drawn, how wide
-- tables and help may be, and the global --color, --quiet and --wide
-- choices. eidos.log, eidos.progress, eidos.columns and the table views ask
-- here; nothing is probed until asked (a command that prints no table never
-- looks at the terminal).
--
-- Colour, for a stream (fd): --color never: off; --color always: on (also
-- into pipes and CI logs); auto (the default, or EIDOS_COLOR): off when
-- NO_COLOR is set and not empty, on when FORCE_COLOR is set and not empty
-- (and not 0 or false), off when TERM=dumb, else on when the stream is a
-- terminal.
local M = {}

M.MAX_WIDTH = 120 -- tables and help fit min(MAX_WIDTH, the terminal's width)
M.MIN_WIDTH = 40  -- a narrower terminal still gets tables this wide

local cfg = { color = "auto", quiet = false, wide = false }
local tty = {}

-- setup(opts): the global flags: color (auto|always|never), quiet, wide
function M.setup(opts)
  for _, k in ipairs({ "color", "quiet", "wide" }) do
    if opts[k] ~= nil then cfg[k] = opts[k] end
  end
end

function M.quiet() return cfg.quiet end
function M.wide() return cfg.wide end

-- isatty(fd) -> whether fd is a terminal (asked once per process)
function M.isatty(fd)
  if tty[fd] == nil then tty[fd] = require("eidos.core.sys").isatty(fd) end
  return tty[fd]
end

local function set(name)
  local v = os.getenv(name)
  return v ~= nil and v ~= ""
end

local function dumb() return os.getenv("TERM") == "dumb" end

-- color(fd) -> whether to write ANSI colours to fd (default 2, stderr)
function M.color(fd)
  local c = cfg.color
  if c == "never" then return false end
  if c == "always" then return true end
  if set("NO_COLOR") then return false end
  local force = os.getenv("FORCE_COLOR")
  if force and force ~= "" and force ~= "0" and force:lower() ~= "false" then return true end
  if dumb() then return false end
  return M.isatty(fd or 2)
end

-- color_output(loc) -> whether a table written to loc (nil or "-":
-- stdout) is coloured: only on stdout, as color(1) says; files never
function M.color_output(loc)
  return (loc == nil or loc == "-") and M.color(1)
end

-- live() -> whether stderr can show a line rewritten in place (a terminal
-- that understands carriage return and erase-line)
function M.live() return not dumb() and M.isatty(2) end

-- columns(fd) -> the width of the terminal fd is, or nil
function M.columns(fd)
  if not M.isatty(fd) then return nil end
  return require("eidos.core.sys").columns(fd)
end

-- width() -> the width tables and help are fitted to: min(120, the
-- terminal's width), where the terminal's width is COLUMNS when that is a
-- number, else stdout's (or stderr's) terminal; math.huge with --wide
function M.width()
  if cfg.wide then return math.huge end
  local w = tonumber(os.getenv("COLUMNS") or "", 10)
  if not w or w < 1 or w ~= math.floor(w) then w = M.columns(1) or M.columns(2) end
  w = math.min(M.MAX_WIDTH, w or M.MAX_WIDTH)
  return math.max(M.MIN_WIDTH, w)
end

return M
