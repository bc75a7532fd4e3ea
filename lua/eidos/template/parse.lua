-- eidos.template.parse: the parser of the template engine. parse(items,
-- name, funcs) turns the lexer's items into a tree: a body (a list of text,
-- action, if/with, range and template nodes; pipelines of operands, calls
-- and field chains) and the {{ define }}d bodies in source order. Every
-- function a template calls must be a key of funcs (checked here, so an
-- unknown function is a syntax error at its line).
local lex = require("eidos.template.lex")

local M = {}

local perr = lex.perr

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

-- parse(items, name, funcs) -> {body=, defines={name=body}, define_order={name...}}
function M.parse(items, name, funcs)
  local P = setmetatable({ items = items, pos = 1, name = name, defines = {},
                           define_order = {}, funcs = funcs, lastline = 1 }, Parser)
  local body = P:list(nil)
  return { body = body, defines = P.defines, define_order = P.define_order }
end

return M
