-- eidos.template: a small Helm-like template engine for bundle templates
-- (templates/<deployer>/*.tpl) and component manifests. Syntax is a subset
-- of Go text/template: {{ pipeline }}, {{- / -}} whitespace trimming,
-- {{/* comments */}}, $variables (:= and =), if / else if / else / end,
-- range [$k,] [$v :=] / else / end (maps in natural key order), with,
-- define / template / include, pipes, parenthesised pipelines and a set of
-- Helm/sprig functions (see M.functions and docs/bundle.md).
--
-- Safety: template text is parsed into an AST and Lua source is generated
-- from the AST only (literals through %q, names chosen by the compiler), so
-- template text never becomes code. The generated chunk runs with an empty
-- environment, inside a coroutine with an instruction budget; strings are
-- capped in size. Every error names the template file and line.
-- Compiled templates are cached by name and text.
local errors = require("eidos.errors")
local emit = require("eidos.core.emit")

local M = {}

M.max_steps = 50000000   -- VM instructions per top-level render
M.max_bytes = 64 * 1024 * 1024
M.max_depth = 64         -- include / template nesting

local NULL = emit.null
local LIST_MT = emit.list_mt
local natcmp = emit.natcmp

------------------------------------------------------------------------
-- errors

local TplErr = {}
TplErr.__tostring = function(e) return e.msg end

local function perr(name, line, fmt, ...)
  errors.raise("invalid", string.format("%s:%d: %s", name, line, string.format(fmt, ...)))
end

------------------------------------------------------------------------
-- lexer: split into text and action items

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

-- split(src, name) -> items: {k="text", s=} | {k="action", toks=, line=}
-- | {k="comment"}; trim markers are applied to neighbouring text.
local function split(src, name)
  local items = {}
  local pos, line, n = 1, 1, #src
  local rtrim_pending = false
  while pos <= n do
    local s = src:find("{{", pos, true)
    local text = src:sub(pos, (s or n + 1) - 1)
    if rtrim_pending then text = text:gsub("^" .. WS .. "+", "") end
    rtrim_pending = false
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

------------------------------------------------------------------------
-- parser: items -> tree

local Parser = {}
Parser.__index = Parser

local function tokdesc(t)
  if not t then return "end of action" end
  if t.v ~= nil then return string.format("%q", tostring(t.v)) end
  return t.t
end

function Parser:err(line, fmt, ...) perr(self.name, line, fmt, ...) end

-- operand parsing over a token list with an index
local function parse_pipeline(P, toks, i, line, stop)
  local pipe = { cmds = {}, line = line }
  -- declaration: $x := / $x = / $k, $v :=
  if toks[i] and toks[i].t == "var" then
    local j = i
    local vars = { toks[j].v }
    if toks[j + 1] and toks[j + 1].t == "comma" and toks[j + 2] and toks[j + 2].t == "var" then
      vars[2] = toks[j + 2].v
      j = j + 2
    end
    local op = toks[j + 1]
    if op and (op.t == "decl" or op.t == "assign") then
      pipe.vars = vars
      pipe.decl = op.t == "decl"
      i = j + 2
    end
  end
  local function operand()
    local t = toks[i]
    if not t then P:err(line, "missing value") end
    local node
    if t.t == "dot" then node = { k = "dot" }; i = i + 1
    elseif t.t == "field" then node = { k = "dot" }   -- .a.b: fields on dot
    elseif t.t == "var" then node = { k = "var", name = t.v }; i = i + 1
    elseif t.t == "str" then node = { k = "lit", v = t.v }; i = i + 1
    elseif t.t == "num" then node = { k = "lit", v = t.v }; i = i + 1
    elseif t.t == "bool" then node = { k = "lit", v = t.v == "true" }; i = i + 1
    elseif t.t == "nil" then node = { k = "nil" }; i = i + 1
    elseif t.t == "lp" then
      i = i + 1
      local inner
      inner, i = parse_pipeline(P, toks, i, line, "rp")
      if not toks[i] or toks[i].t ~= "rp" then P:err(line, "unclosed left parenthesis") end
      i = i + 1
      node = { k = "pipe", pipe = inner }
    elseif t.t == "ident" then
      if not P.funcs[t.v] then P:err(line, "function %q not defined", t.v) end
      node = { k = "call", name = t.v, args = {} }; i = i + 1
    else
      P:err(line, "unexpected %s in operand", tokdesc(t))
    end
    -- field chain (no space before the field)
    local names
    local first = t.t == "field"
    while toks[i] and toks[i].t == "field" and (first or not toks[i].sp) do
      first = false
      names = names or {}
      names[#names + 1] = toks[i].v
      i = i + 1
    end
    if names then node = { k = "fields", base = node, names = names } end
    return node
  end
  while true do
    local t = toks[i]
    if not t or (stop and t.t == stop) then break end
    if t.t == "pipe" then P:err(line, "missing command before '|'") end
    local cmd = { operand() }
    while toks[i] and toks[i].t ~= "pipe" and not (stop and toks[i].t == stop) do
      if toks[i].t == "decl" or toks[i].t == "assign" or toks[i].t == "comma" or toks[i].t == "rp" then
        P:err(line, "unexpected %s", tokdesc(toks[i]))
      end
      cmd[#cmd + 1] = operand()
    end
    if #cmd > 1 and cmd[1].k ~= "call" then
      P:err(line, "can't give argument to non-function")
    end
    if cmd[1].k == "call" then
      for a = 2, #cmd do cmd[1].args[#cmd[1].args + 1] = cmd[a] end
      cmd = cmd[1]
    else
      cmd = cmd[1]
    end
    pipe.cmds[#pipe.cmds + 1] = cmd
    if toks[i] and toks[i].t == "pipe" then
      i = i + 1
      if not toks[i] or (stop and toks[i].t == stop) then P:err(line, "missing command after '|'") end
      if toks[i].t ~= "ident" then P:err(line, "non-function %s in pipeline", tokdesc(toks[i])) end
    end
  end
  if #pipe.cmds == 0 then P:err(line, "missing value in action") end
  return pipe, i
end

function Parser:pipeline(it, from)
  local pipe, i = parse_pipeline(self, it.toks, from, it.line)
  if it.toks[i] then self:err(it.line, "unexpected %s", tokdesc(it.toks[i])) end
  return pipe
end

-- parse items into a node list until one of the `stops` keywords
function Parser:list(stops)
  local out = {}
  while true do
    local it = self.items[self.pos]
    if not it then
      if stops then self:err(self.lastline, "unexpected end of template (missing {{end}})") end
      return out
    end
    self.pos = self.pos + 1
    if it.k == "text" then
      out[#out + 1] = { k = "text", s = it.s }
    else
      self.lastline = it.line
      local t1 = it.toks[1]
      if not t1 then self:err(it.line, "empty action") end
      local kw = t1.t == "ident" and t1.v or nil
      if kw == "end" or kw == "else" then
        if not stops then self:err(it.line, "unexpected {{%s}}", kw) end
        return out, it
      elseif kw == "if" or kw == "with" then
        local node = { k = kw, line = it.line, branches = {} }
        local cur = it
        local from = 2
        while true do
          local cond = self:pipeline(cur, from)
          local body, term = self:list(true)
          node.branches[#node.branches + 1] = { cond = cond, body = body }
          local tk = term.toks[1].v
          if tk == "end" then
            if #term.toks > 1 then self:err(term.line, "unexpected %s after end", tokdesc(term.toks[2])) end
            break
          end
          -- else
          if term.toks[2] and term.toks[2].t == "ident" and (term.toks[2].v == "if" or term.toks[2].v == "with") then
            if term.toks[2].v ~= kw then self:err(term.line, "{{else %s}} inside {{%s}}", term.toks[2].v, kw) end
            cur = term
            from = 3
          else
            if #term.toks > 1 then self:err(term.line, "unexpected %s after else", tokdesc(term.toks[2])) end
            local els, term2 = self:list(true)
            if term2.toks[1].v ~= "end" then self:err(term2.line, "expected {{end}}, found {{else}}") end
            node.els = els
            break
          end
        end
        out[#out + 1] = node
      elseif kw == "range" then
        local pipe = self:pipeline(it, 2)
        if pipe.vars and not pipe.decl then self:err(it.line, "range can only declare variables (:=)") end
        local body, term = self:list(true)
        local node = { k = "range", line = it.line, pipe = pipe, body = body }
        if term.toks[1].v == "else" then
          if #term.toks > 1 then self:err(term.line, "unexpected %s after else", tokdesc(term.toks[2])) end
          local els, term2 = self:list(true)
          if term2.toks[1].v ~= "end" then self:err(term2.line, "expected {{end}}, found {{else}}") end
          node.els = els
        end
        out[#out + 1] = node
      elseif kw == "define" then
        local nt = it.toks[2]
        if not nt or nt.t ~= "str" or it.toks[3] then self:err(it.line, "define needs one quoted name") end
        local body, term = self:list(true)
        if term.toks[1].v ~= "end" then self:err(term.line, "unexpected {{else}} in define") end
        if self.defines[nt.v] then self:err(it.line, "template %q defined twice", nt.v) end
        self.defines[nt.v] = body
        self.define_order[#self.define_order + 1] = nt.v
      elseif kw == "template" then
        local nt = it.toks[2]
        if not nt or nt.t ~= "str" then self:err(it.line, "template needs a quoted name") end
        local node = { k = "template", line = it.line, name = nt.v }
        if it.toks[3] then node.pipe = self:pipeline(it, 3) end
        out[#out + 1] = node
      elseif kw == "block" or kw == "break" or kw == "continue" then
        self:err(it.line, "{{%s}} is not supported", kw)
      else
        local pipe = self:pipeline(it, 1)
        out[#out + 1] = { k = "action", line = it.line, pipe = pipe }
      end
    end
  end
end

------------------------------------------------------------------------
-- code generation

local Gen = {}
Gen.__index = Gen

function Gen:emit(s) self.code[#self.code + 1] = s end

function Gen:newvar(prefix)
  self.nv = self.nv + 1
  return (prefix or "v") .. self.nv
end

function Gen:lookup(name, line)
  if name == "$" then return "d0" end
  for s = #self.scopes, 1, -1 do
    local v = self.scopes[s][name]
    if v then return v end
  end
  perr(self.name, line, "undefined variable %q", name)
end

local function lit(v)
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) == "boolean" then return tostring(v) end
  if math.type(v) == "integer" then
    if v == math.mininteger then return "math_mininteger" end
    return string.format("%d", v)
  end
  return string.format("%.17g", v)
end

function Gen:operand(node, line)
  local k = node.k
  if k == "dot" then return self.dot
  elseif k == "var" then return self:lookup(node.name, line)
  elseif k == "lit" then return lit(node.v)
  elseif k == "nil" then return "nil"
  elseif k == "pipe" then return self:pipe(node.pipe, line)
  elseif k == "call" then return self:call(node, line)
  elseif k == "fields" then
    local parts = { self:operand(node.base, line) }
    for _, n in ipairs(node.names) do parts[#parts + 1] = string.format("%q", n) end
    return "F(" .. table.concat(parts, ", ") .. ")"
  end
  error("bad node " .. tostring(k))
end

function Gen:call(node, line, extra)
  local args = {}
  for _, a in ipairs(node.args) do args[#args + 1] = self:operand(a, line) end
  if extra then args[#args + 1] = extra end
  return string.format("FN[%q](%s)", node.name, table.concat(args, ", "))
end

function Gen:pipe(pipe, line)
  local e
  for idx, cmd in ipairs(pipe.cmds) do
    if idx == 1 then
      e = self:operand(cmd, line)
    else
      e = self:call(cmd, line, e)
    end
  end
  return e
end

-- compile a pipeline that may declare variables; returns the expression of
-- its value (a local when variables are declared)
function Gen:decl_pipe(pipe, line)
  local e = self:pipe(pipe, line)
  if not pipe.vars then return e end
  if pipe.decl then
    local v = self:newvar()
    self:emit("local " .. v .. " = " .. e)
    self.scopes[#self.scopes][pipe.vars[#pipe.vars]] = v
    if #pipe.vars == 2 then perr(self.name, line, "too many declarations") end
    return v
  end
  local v = self:lookup(pipe.vars[1], line)
  self:emit(v .. " = " .. e)
  return v
end

function Gen:block(nodes)
  for _, n in ipairs(nodes) do self:node(n) end
end

function Gen:scoped(fn)
  self.scopes[#self.scopes + 1] = {}
  self:emit("do")
  self.depth = self.depth + 1
  fn()
  self.depth = self.depth - 1
  self:emit("end")
  self.scopes[#self.scopes] = nil
end

function Gen:line(l)
  self:emit("R.L = " .. l)
end

function Gen:node(n)
  local k = n.k
  if k == "text" then
    self:emit("n = n + 1; O[n] = " .. string.format("%q", n.s))
  elseif k == "action" then
    self:line(n.line)
    if n.pipe.vars then
      self:decl_pipe(n.pipe, n.line)
    else
      self:emit("n = n + 1; O[n] = S(" .. self:pipe(n.pipe, n.line) .. ")")
    end
  elseif k == "if" or k == "with" then
    self:scoped(function()
      local function branch(i)
        local b = n.branches[i]
        self:line(n.line)
        local v = self:decl_pipe(b.cond, n.line)
        local c = v
        if k == "with" then
          c = self:newvar("w")
          self:emit("local " .. c .. " = " .. v)
        end
        self:emit("if T(" .. c .. ") then")
        self.depth = self.depth + 1
        local saved = self.dot
        if k == "with" then self.dot = c end
        self.scopes[#self.scopes + 1] = {}
        self:block(b.body)
        self.scopes[#self.scopes] = nil
        self.dot = saved
        self.depth = self.depth - 1
        self:emit("else")
        self.depth = self.depth + 1
        if n.branches[i + 1] then
          self:scoped(function() branch(i + 1) end)
        elseif n.els then
          self.scopes[#self.scopes + 1] = {}
          self:block(n.els)
          self.scopes[#self.scopes] = nil
        end
        self.depth = self.depth - 1
        self:emit("end")
      end
      branch(1)
    end)
  elseif k == "range" then
    self:scoped(function()
      self:line(n.line)
      local pipe = n.pipe
      local vars = pipe.vars
      local e = self:pipe({ cmds = pipe.cmds }, n.line)
      local ks, vs, cnt, i = self:newvar("rk"), self:newvar("rv"), self:newvar("rn"), self:newvar("ri")
      self:emit(string.format("local %s, %s, %s = RI(%s)", ks, vs, cnt, e))
      self:emit("if " .. cnt .. " > 0 then")
      self.depth = self.depth + 1
      self:emit(string.format("for %s = 1, %s do", i, cnt))
      self.depth = self.depth + 1
      local dv = self:newvar("d")
      self:emit(string.format("local %s = %s[%s]", dv, vs, i))
      self.scopes[#self.scopes + 1] = {}
      if vars then
        if #vars == 2 then
          local kv = self:newvar()
          self:emit(string.format("local %s = %s[%s]", kv, ks, i))
          self.scopes[#self.scopes][vars[1]] = kv
          self.scopes[#self.scopes][vars[2]] = dv
        else
          self.scopes[#self.scopes][vars[1]] = dv
        end
      end
      local saved = self.dot
      self.dot = dv
      self:block(n.body)
      self.dot = saved
      self.scopes[#self.scopes] = nil
      self.depth = self.depth - 1
      self:emit("end")
      self.depth = self.depth - 1
      if n.els then
        self:emit("else")
        self.depth = self.depth + 1
        self.scopes[#self.scopes + 1] = {}
        self:block(n.els)
        self.scopes[#self.scopes] = nil
        self.depth = self.depth - 1
      end
      self:emit("end")
    end)
  elseif k == "template" then
    self:line(n.line)
    local data = n.pipe and self:pipe(n.pipe, n.line) or "nil"
    self:emit(string.format("n = n + 1; O[n] = R.include(%q, %s)", n.name, data))
  else
    error("bad node " .. tostring(k))
  end
end

-- generate one function body
local function gen_function(name, nodes)
  local g = setmetatable({ code = {}, depth = 1, nv = 0, scopes = { {} }, dot = "d0", name = name }, Gen)
  g:emit("local O, n = {}, 0")
  g:block(nodes)
  g:emit("return R.concat(O, n)")
  return "function(R, d0)\n" ..
    " local FN, F, S, T, RI = R.FN, R.field, R.str, R.truth, R.items\n" ..
    table.concat(g.code, "\n") .. "\nend"
end

------------------------------------------------------------------------
-- runtime helpers

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
  if #s > M.max_bytes then fail(string.format("output larger than %d bytes", M.max_bytes)) end
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
         goquote = goquote, emit = emit, max_bytes = function() return M.max_bytes end }

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
setmetatable(builtins, { __index = function(t, k)
  if extras_loaded then return nil end
  extras_loaded = true
  local extra = require("eidos.template.funcs").make(M.rt)
  for name, fn in pairs(extra) do if rawget(t, name) == nil then rawset(t, name, fn) end end
  return rawget(t, k)
end })

-- names of the functions templates can call (for documentation and specs)
function M.functions()
  local out = {}
  for k in pairs(builtins) do out[#out + 1] = k end
  table.sort(out)
  return out
end

------------------------------------------------------------------------
-- compile

local cache = setmetatable({}, { __mode = "v" })

-- compile(text, name) -> {main=fn, defines={name=fn}} (cached). Raises an
-- "invalid" error naming the file and line on a syntax error.
function M.compile(text, name, extra_funcs)
  name = name or "template"
  local key = name .. "\0" .. text
  local hit = cache[key]
  if hit and not extra_funcs then return hit end
  local funcs = builtins
  if extra_funcs then
    funcs = setmetatable({}, { __index = builtins })
    for k, v in pairs(extra_funcs) do funcs[k] = v end
  end
  local P = setmetatable({ items = split(text, name), pos = 1, name = name, defines = {},
                           define_order = {}, funcs = funcs, lastline = 1 }, Parser)
  local body = P:list(nil)
  local parts = { "local math_mininteger = -9223372036854775807 - 1\nlocal main = ", gen_function(name, body),
                  "\nlocal defs = {}" }
  for _, dn in ipairs(P.define_order) do
    parts[#parts + 1] = string.format("\ndefs[%q] = %s", dn, gen_function(name, P.defines[dn]))
  end
  parts[#parts + 1] = "\nreturn main, defs\n"
  local src = table.concat(parts)
  local chunk, msg = load(src, "=" .. name, "t", {})
  if not chunk then
    errors.raise("internal", string.format("%s: template compiler produced invalid code: %s", name, msg))
  end
  local main, defs = chunk()
  local c = { main = main, defines = defs, name = name, source = src }
  if not extra_funcs then cache[key] = c end
  return c
end

------------------------------------------------------------------------
-- render

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

local function default_loader(path)
  local res = require("eidos.core.res")
  local text, origin = res.read(path)
  if not text then return nil, origin end
  return text, origin
end

local Runtime = {}
Runtime.__index = Runtime

local function make_runtime(opts)
  local R = setmetatable({
    L = 0, F = "?", depth = 0, loader = opts.loader or default_loader,
    named = {}, files = {}, field = field, str = tostr, truth = truth, items = items,
    extra = opts.funcs,
  }, Runtime)
  local FN = setmetatable({}, { __index = builtins })
  if opts.funcs then for k, v in pairs(opts.funcs) do FN[k] = v end end
  FN.include = function(nm, data) return R:do_include(nm, data) end
  R.FN = FN
  R.concat = function(O, n)
    local total = 0
    for i = 1, n do total = total + #O[i] end
    if total > M.max_bytes then fail(string.format("output larger than %d bytes", M.max_bytes)) end
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
  local text, msg = self.loader(path)
  if not text then fail(string.format("template %q not found (%s)", path, tostring(msg))) end
  c = M.compile(text, path, self.extra)
  self.files[path] = c
  self:register(c)
  return c
end

function Runtime:call(fn, file, data)
  if self.depth >= M.max_depth then fail("include nesting deeper than " .. M.max_depth) end
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
  local steps = M.max_steps
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

-- render(text, name, data, opts) -> string. opts.loader(path) -> text for
-- includes (default: the resource tree), opts.funcs extra functions,
-- opts.helpers list of template paths whose defines are preloaded.
function M.render(text, name, data, opts)
  opts = opts or {}
  local c = M.compile(text, name, opts.funcs)
  local R = make_runtime(opts)
  R.files[name] = c
  return run_protected(R, function()
    for _, h in ipairs(opts.helpers or {}) do R:loadfile(h) end
    R:register(c)
    R.F = name
    return c.main(R, data)
  end)
end

-- render_file(path, data, opts) -> string, origin. The file is read through
-- opts.loader or the resource tree (so a file on the override path wins).
function M.render_file(path, data, opts)
  opts = opts or {}
  local loader = opts.loader or default_loader
  local text, origin = loader(path)
  if not text then
    errors.raise("notfound", string.format("template %q not found (%s)", path, tostring(origin)))
  end
  return M.render(text, path, data, opts), origin
end

return M
