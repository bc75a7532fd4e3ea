-- eidos.template.gen: the code generator of the template engine.
-- chunk(tree, name) turns the parser's tree into the text of one Lua chunk
-- and nothing else: a pure function of the tree (deterministic, no load,
-- no state), so the text can be produced here at run time or ahead of time
-- (e.g. at build time, then precompiled like the Lua modules) and handed
-- to eidos.template.runtime.load either way.
--
-- The chunk, run with an empty environment, returns main, defs: the
-- template's body and its {{ define }}s (name -> function), each a
-- function(R, dot) -> string over the runtime object R (R.FN the functions,
-- R.field, R.str, R.truth, R.items the value semantics, R.include, R.concat
-- and R.L, the line being run, for error positions). Safety: code comes
-- from the tree only (literals through %q, local names chosen here), so
-- template text never becomes code.
local lex = require("eidos.template.lex")

local M = {}

local perr = lex.perr

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

-- chunk(tree, name) -> Lua source text of the compiled template
function M.chunk(tree, name)
  local parts = { "local math_mininteger = -9223372036854775807 - 1\nlocal main = ", gen_function(name, tree.body),
                  "\nlocal defs = {}" }
  for _, dn in ipairs(tree.define_order) do
    parts[#parts + 1] = string.format("\ndefs[%q] = %s", dn, gen_function(name, tree.defines[dn]))
  end
  parts[#parts + 1] = "\nreturn main, defs\n"
  return table.concat(parts)
end

return M
