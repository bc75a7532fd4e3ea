-- fuzz/adapters/constraint.lua: the constraint expression parser and
-- evaluator (lua/eidos/constraint/). Input: up to three lines
--   EXPRESSION \n ACTUAL \n PATH
-- (ACTUAL defaults to a few real values, PATH to K8s.server.version).
-- parse() must return an AST or raise an "invalid" error; run() must
-- return true or false, reason and never raise; evaluate() against a real
-- snapshot model must return a result with a status and never raise.
local dir = ...
local common = dofile(dir .. "/lib/common.lua")
local errors = require("eidos.errors")
local constraint = require("eidos.constraint")
local model = require("eidos.snapshot.model")
local doc = require("eidos.doc")
local fs = require("eidos.core.fs")

local snap = assert(fs.read(dir .. "/../spec/fixtures/snapshots/validate-small.yaml", 1 << 20))
local M = model.from_doc(doc.decode(snap, "validate-small.yaml"), "validate-small.yaml")

local ACTUALS = { "v1.33.5-eks-3025e55", "6.8.0-1028-aws", "ubuntu", "24.04", "", "1.32", "580.105.08" }
local STATUS = { passed = true, failed = true, skipped = true }
local n = 0

local function expect_invalid(ok, e, what)
  if ok then return end
  if errors.is(e) then
    if e.code ~= "invalid" then error(string.format("fuzz: %s raised a %q error: %s", what, e.code, e.msg)) end
    if type(e.msg) ~= "string" or e.msg == "" then error("fuzz: " .. what .. " raised an error without a message") end
    return
  end
  error(e, 0) -- a string or other error: the driver reports it
end

local function run(ast, actual)
  local r, why = constraint.run(ast, actual)
  if r ~= true and (r ~= false or type(why) ~= "string") then
    error(string.format("fuzz: run(%q, %q) returned %s, %s", ast.source, actual, tostring(r), tostring(why)))
  end
end

return function(s)
  local parts = common.split(s, "\n", 3)
  local expr, actual, name = parts[1], parts[2], parts[3] or "K8s.server.version"
  local ok, ast = pcall(constraint.parse, expr, name)
  expect_invalid(ok, ast, "parse")
  if ok then
    if ast.kind ~= "exact" and ast.kind ~= "all" then error("fuzz: parse returned kind " .. tostring(ast.kind)) end
    if actual then run(ast, actual)
    else for _, a in ipairs(ACTUALS) do run(ast, a) end end
  end
  expect_invalid(pcall(constraint.check_path, name))
  -- evaluate against the snapshot; a number-looking value goes in as YAML would give it
  local c = { name = name, value = math.tointeger(tonumber(expr)) or tonumber(expr) or expr, severity = "error" }
  local r = constraint.evaluate(c, M)
  if type(r) ~= "table" or not STATUS[r.status] then error("fuzz: evaluate returned no valid status") end
  if r.status ~= "passed" and type(r.reason) ~= "string" then error("fuzz: evaluate gave no reason for " .. r.status) end
  -- evaluate caches every expression it has seen; drop the cache now and then
  n = n + 1
  if n % 5000 == 0 then constraint.reset() end
end
