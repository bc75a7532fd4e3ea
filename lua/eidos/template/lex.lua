-- eidos.template.lex: the lexer of the template engine. split(text, name)
-- cuts template text into text items and action items (each action a list
-- of tokens with its line), applies the {{- / -}} trim markers to the
-- neighbouring text and drops {{/* comments */}}. It also owns perr, the
-- one way the compiler (lex, parse, gen) reports a syntax error: an
-- "invalid" error whose message starts with the template's file:line.
local errors = require("eidos.errors")

local M = {}

-- perr(name, line, fmt, ...): raise a syntax error at name:line
local function perr(name, line, fmt, ...)
  errors.raise("invalid", string.format("%s:%d: %s", name, line, string.format(fmt, ...)))
end
M.perr = perr

local WS = "[ \t\r\n]"

local function count_nl(s, i, j)
  local n = 0
  local find = string.find
  while true do
    i = find(s, "\n", i, true)
    if not i or i > j then return n end
    n = n + 1
    i = i + 1
  end
end

-- tokenize one action starting at pos (just after "{{" and a left trim
-- marker). Returns tokens, the position after "}}", right-trim flag.
local function lex_action(src, pos, name, line)
  local toks = {}
  local i, n = pos, #src
  local space = true
  local byte, find = string.byte, string.find
  while true do
    if i > n then perr(name, line, "unclosed action (missing '}}')") end
    local b = byte(src, i)
    local c
    if b == 32 or b == 9 or b == 10 or b == 13 then
      local _, e = find(src, "^[ \t\r\n]+", i)
      line = line + count_nl(src, i, e)
      space = true
      i = e + 1
      -- right trim marker: whitespace, '-', '}}'
      if byte(src, i) == 45 and byte(src, i + 1) == 125 and byte(src, i + 2) == 125 then
        return toks, i + 3, true, line
      end
      goto continue
    end
    c = src:sub(i, i)
    if b == 125 and byte(src, i + 1) == 125 then
      return toks, i + 2, false, line
    elseif c == '"' then
      local buf, j = {}, i + 1
      while true do
        local ch = src:sub(j, j)
        if ch == "" or ch == "\n" then perr(name, line, "unterminated quoted string") end
        if ch == '"' then break end
        if ch == "\\" then
          local e = src:sub(j + 1, j + 1)
          local map = { n = "\n", t = "\t", r = "\r", ["\\"] = "\\", ['"'] = '"', a = "\a", b = "\b",
                        f = "\f", v = "\v", ["'"] = "'" }
          if map[e] then buf[#buf + 1] = map[e]; j = j + 2
          elseif e == "x" and src:sub(j + 2, j + 3):match("^%x%x$") then
            buf[#buf + 1] = string.char(tonumber(src:sub(j + 2, j + 3), 16)); j = j + 4
          elseif e == "u" and src:sub(j + 2, j + 5):match("^%x%x%x%x$") then
            buf[#buf + 1] = utf8.char(tonumber(src:sub(j + 2, j + 5), 16)); j = j + 6
          else perr(name, line, "invalid escape \\%s in quoted string", e) end
        else
          buf[#buf + 1] = ch
          j = j + 1
        end
      end
      toks[#toks + 1] = { t = "str", v = table.concat(buf), sp = space, line = line }
      i = j + 1
      space = false
    elseif c == "`" then
      local j = src:find("`", i + 1, true)
      if not j then perr(name, line, "unterminated raw string") end
      local v = src:sub(i + 1, j - 1)
      toks[#toks + 1] = { t = "str", v = v, sp = space, line = line }
      line = line + count_nl(src, i, j)
      i = j + 1
      space = false
    elseif c == "." then
      local id = src:match("^[%a_][%w_]*", i + 1)
      if id then
        toks[#toks + 1] = { t = "field", v = id, sp = space, line = line }
        i = i + 1 + #id
      elseif src:sub(i + 1, i + 1):match("%d") then
        perr(name, line, "bad number syntax near %q", src:sub(i, i + 5))
      else
        toks[#toks + 1] = { t = "dot", sp = space, line = line }
        i = i + 1
      end
      space = false
    elseif c == "$" then
      local id = src:match("^[%a_][%w_]*", i + 1) or ""
      toks[#toks + 1] = { t = "var", v = "$" .. id, sp = space, line = line }
      i = i + 1 + #id
      space = false
    elseif c:match("[%d%-+]") then
      local num = src:match("^[-+]?0[xX]%x+", i) or src:match("^[-+]?%d+%.?%d*[eE][-+]?%d+", i)
        or src:match("^[-+]?%d+%.%d*", i) or src:match("^[-+]?%d+", i)
      if not num then perr(name, line, "unexpected %q in action", c) end
      local v
      local body = num:gsub("^%+", "")
      if body:match("^%-?0[xX]") then
        local neg = body:sub(1, 1) == "-"
        v = tonumber(body:gsub("^%-", ""):sub(3), 16)
        if neg then v = -v end
      else
        v = math.tointeger(tonumber(body)) or tonumber(body)
      end
      if v == nil or v ~= v or v == math.huge or v == -math.huge then
        perr(name, line, "bad number %q", num)
      end
      toks[#toks + 1] = { t = "num", v = v, sp = space, line = line }
      i = i + #num
      space = false
    elseif c:match("[%a_]") then
      local id = src:match("^[%a_][%w_]*", i)
      local t = "ident"
      if id == "true" or id == "false" then t = "bool"
      elseif id == "nil" then t = "nil" end
      toks[#toks + 1] = { t = t, v = id, sp = space, line = line }
      i = i + #id
      space = false
    elseif c == "|" then toks[#toks + 1] = { t = "pipe", line = line }; i = i + 1; space = true
    elseif c == "(" then toks[#toks + 1] = { t = "lp", sp = space, line = line }; i = i + 1; space = true
    elseif c == ")" then toks[#toks + 1] = { t = "rp", line = line }; i = i + 1; space = false
    elseif c == "," then toks[#toks + 1] = { t = "comma", line = line }; i = i + 1; space = true
    elseif src:sub(i, i + 1) == ":=" then toks[#toks + 1] = { t = "decl", line = line }; i = i + 2; space = true
    elseif c == "=" then toks[#toks + 1] = { t = "assign", line = line }; i = i + 1; space = true
    else
      perr(name, line, "unexpected %q in action", c)
    end
    ::continue::
  end
end

-- split(src, name) -> items: {k="text", s=} | {k="action", toks=, line=};
-- trim markers are applied to neighbouring text, comments are dropped.
function M.split(src, name)
  local items = {}
  local pos, line, n = 1, 1, #src
  local rtrim_pending
  while pos <= n do
    local s = src:find("{{", pos, true)
    local text = src:sub(pos, (s or n + 1) - 1)
    if rtrim_pending then text = text:gsub("^" .. WS .. "+", "") end
    local ltrim = s and src:byte(s + 2) == 45 and src:find("^[ \t\r\n]", s + 3) ~= nil
    if ltrim then text = text:gsub(WS .. "+$", "") end
    if text ~= "" then items[#items + 1] = { k = "text", s = text } end
    if not s then break end
    line = line + count_nl(src, pos, s - 1)
    local p = s + 2 + (ltrim and 2 or 0)
    if ltrim and src:sub(s + 3, s + 3) == "\n" then line = line + 1 end
    -- comment
    local cp = src:find("[^ \t\r\n]", p) or (n + 1)
    if src:sub(cp, cp + 1) == "/*" then
      local e = src:find("*/", cp + 2, true)
      if not e then perr(name, line, "unclosed comment") end
      local after = e + 2
      local rt = false
      if src:sub(after, after + 3):match("^" .. WS .. "%-}}") then rt = true; after = after + 4
      elseif src:sub(after, after + 1) == "}}" then after = after + 2
      else perr(name, line, "comment ends before closing delimiter") end
      line = line + count_nl(src, s, after - 1)
      rtrim_pending = rt
      pos = after
    else
      local toks, after, rt, endline = lex_action(src, p, name, line)
      items[#items + 1] = { k = "action", toks = toks, line = line }
      line = endline
      rtrim_pending = rt
      pos = after
    end
  end
  return items
end

return M
