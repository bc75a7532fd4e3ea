-- eidos.validate.phases: the validation phases and the checks they run.
--
-- Phases, run in this order whatever order they were asked in (the
-- read-only ones before the one that creates objects): readiness (the
-- constraints against a snapshot, eidos.validate), deployment,
-- conformance, performance. Only the phases asked for run; readiness is
-- not a gate for the others.
--
-- Checks are Lua modules, lua/eidos/validate/checks/NAME.lua, found on the
-- override path like every policy file (a file of the same name replaces
-- the built-in one; a new file adds a check):
--
--   return {
--     phase = "conformance",     -- the phase it belongs to
--     always = true,             -- runs in every run of the phase; without
--                                -- it, only when the recipe's
--                                -- validation.<phase>.checks names it
--     order = 20,                -- position among the always-run checks
--     description = "...", remediation = "...",   -- remediation of failures
--     run = function(ctx) ... end,
--   }
--
-- run(ctx) reports results with ctx:pass{}, ctx:fail{}, ctx:skip{} or
-- ctx:add{status=}: {component=, reason=, expected=, actual=, evidence=
-- {objects}, remediation=}; ctx:each(list, fn) runs fn per item and turns
-- an error into a result in status "error" for that item (component named
-- by item.name). ctx.cluster reads the API (eidos.validate.cluster);
-- ctx.recipe is the RecipeResult; ctx.config the recipe's
-- validation.<phase> block; ctx:components([keep]) the expected components
-- (eidos.validate.expected); ctx:needs(name) a component, or a skip when
-- the recipe has none of that name; ctx:constraint(name) a phase constraint;
-- ctx:release(comp) the component's latest Helm release (cached per run).
-- A check that raises is reported in status "error" (never passed) with
-- the message; a structured error keeps its code for the exit status.
-- A check the recipe names that no module implements is "skipped", saying
-- so.
local errors = require("eidos.errors")
local result = require("eidos.validate.result")
local cluster = require("eidos.validate.cluster")

local M = {}

M.NAMES = result.PHASES
M.CHECK_DIR = "lua/eidos/validate/checks/"

-- parse(words) -> ordered list of phase names. words: the --phase values
-- (each a name or a comma list); nil gives { "readiness" }.
function M.parse(words)
  if words == nil or #words == 0 then return { "readiness" } end
  local want = {}
  local accepted = table.concat(M.NAMES, ", ") .. ", all"
  for _, w in ipairs(words) do
    for part in (w .. ","):gmatch("([^,]*),") do
      local p = part:gsub("^%s+", ""):gsub("%s+$", ""):lower()
      if p == "all" then
        for _, n in ipairs(M.NAMES) do want[n] = true end
      elseif p == "" then
        errors.raise("invalid", string.format("--phase %q: an empty phase name (accepted: %s)", w, accepted))
      else
        local ok = false
        for _, n in ipairs(M.NAMES) do if n == p then ok = true end end
        if not ok then
          local cands = {}
          for _, n in ipairs(M.NAMES) do cands[#cands + 1] = n end
          cands[#cands + 1] = "all"
          local h = require("eidos.nearest").hint(p, cands)
          errors.raise("invalid", string.format("--phase: invalid phase %q (accepted: %s)%s", part, accepted,
            h ~= "" and ("; " .. h) or ""))
        end
        want[p] = true
      end
    end
  end
  local out = {}
  for _, n in ipairs(M.NAMES) do if want[n] then out[#out + 1] = n end end
  return out
end

-- ---------------------------------------------------------------------------
-- check modules

local modules -- name -> module

-- load_checks() -> name -> module (every file of the check directory)
function M.load_checks()
  if modules then return modules end
  modules = {}
  for _, f in ipairs(require("eidos.core.res").list(M.CHECK_DIR)) do
    local name = f.path:match("([^/]+)%.lua$")
    if name and f.path == M.CHECK_DIR .. name .. ".lua" then
      -- a check may be an operator's file on disk: one that does not load
      -- is named (file and error), not a traceback
      local ok, m = pcall(require, "eidos.validate.checks." .. name)
      if not ok then
        errors.raise("invalid", string.format("check module %s (%s) does not load: %s", name, tostring(f.origin),
          errors.is(m) and m.msg or tostring(m)))
      end
      if type(m) ~= "table" or type(m.run) ~= "function" or not result.is_phase(m.phase) then
        errors.raise("invalid", string.format("check module %s (%s) must return {phase = one of %s, run = function}",
          name, tostring(f.origin), table.concat(M.NAMES, ", ")))
      end
      modules[name] = m
    end
  end
  return modules
end

function M.reset() modules = nil end

local function recipe_checks(recipe, phase)
  local v = type(recipe) == "table" and type(recipe.validation) == "table" and recipe.validation[phase]
  local l = type(v) == "table" and type(v.checks) == "table" and v.checks or {}
  local out = {}
  for _, n in ipairs(l) do if type(n) == "string" then out[#out + 1] = n end end
  return out
end

-- select(phase, recipe) -> list of {name=, module=|nil}: the always-run
-- checks of the phase (by order, then name), then those the recipe names
-- (in its order) that are not among them
function M.select(phase, recipe)
  local mods = M.load_checks()
  local always = {}
  for name, m in pairs(mods) do
    if m.phase == phase and m.always then always[#always + 1] = name end
  end
  table.sort(always, function(a, b)
    local oa, ob = mods[a].order or 100, mods[b].order or 100
    if oa ~= ob then return oa < ob end
    return a < b
  end)
  local out, seen = {}, {}
  for _, n in ipairs(always) do
    out[#out + 1] = { name = n, module = mods[n] }
    seen[n] = true
  end
  for _, n in ipairs(recipe_checks(recipe, phase)) do
    if not seen[n] then
      seen[n] = true
      local m = mods[n]
      if m and m.phase ~= phase then m = nil end
      out[#out + 1] = { name = n, module = m, named = true, wrong_phase = mods[n] and mods[n].phase }
    end
  end
  return out
end

-- ---------------------------------------------------------------------------
-- the context a check runs with

local Ctx = {}
Ctx.__index = Ctx

function Ctx:add(t)
  local r = {
    name = self.check, component = t.component, status = t.status, reason = t.reason,
    expected = t.expected, actual = t.actual, evidence = t.evidence,
    remediation = t.remediation or ((t.status == "failed" or t.status == "error") and self.module
      and self.module.remediation or nil),
    code = t.code,
  }
  self.out[#self.out + 1] = r
  return r
end
function Ctx:pass(t) t.status = "passed"; return self:add(t) end
function Ctx:fail(t) t.status = "failed"; return self:add(t) end
function Ctx:skip(t) t.status = "skipped"; return self:add(t) end

-- an error as a result (component given, or the one being checked)
function Ctx:error(e, component)
  local code, msg = "failure", tostring(e)
  if errors.is(e) then code, msg = e.code, e.msg
  elseif type(e) == "table" and e.msg then code, msg = e.code or "failure", e.msg end
  if not errors.is(e) and type(e) ~= "table" then
    msg = string.format("check %s failed to run: %s", self.check, msg)
    code = "internal"
  end
  return self:add({ component = component, status = "error", reason = msg, code = code })
end

-- each(list, fn): fn(item) per item; an error becomes that item's result
function Ctx:each(list, fn)
  for _, item in ipairs(list) do
    local ok, e = pcall(fn, item)
    if not ok then self:error(e, type(item) == "table" and item.name or nil) end
  end
end

-- model() -> the expected model (eidos.validate.expected), made once per run
function Ctx:model()
  local p = self.plan
  if not p.model then p.model = p.expected and p.expected() or { components = {} } end
  return p.model
end

-- components([keep]) -> the expected components (those keep(c) accepts)
function Ctx:components(keep)
  local all = self:model().components
  if not keep then return all end
  local out = {}
  for _, c in ipairs(all) do if keep(c) then out[#out + 1] = c end end
  return out
end

-- needs(name) -> the component, or nil after reporting the check skipped
-- because the recipe does not deploy it
function Ctx:needs(name)
  local c = self:component(name)
  if not c then self:skip({ reason = string.format("the recipe does not deploy %s", name) }) end
  return c
end

function Ctx:component(name)
  for _, c in ipairs(self:components()) do if c.name == name then return c end end
end

-- constraint(name) -> the phase constraint of that name {name, value, unit, ...} or nil
function Ctx:constraint(name)
  local l = type(self.config.constraints) == "table" and self.config.constraints or {}
  for _, c in ipairs(l) do if type(c) == "table" and c.name == name then return c end end
end

-- release(comp) -> state {records=, rec=, rel=, match=} for a Helm-deployed
-- component (cached per run); rec nil when there is no release
function Ctx:release(c)
  local cache = self.shared.releases
  if not cache then cache = {}; self.shared.releases = cache end
  if cache[c.name] then return cache[c.name] end
  local helm = require("eidos.validate.helm")
  local st = { records = helm.history(self.cluster, c.release.namespace, c.release.name) }
  st.rec = st.records[1]
  if st.rec then
    st.rel = helm.decode(st.rec)
    st.match = helm.match(st.rel, c)
    if self.plan.evidence then self.plan.evidence:release(c.release.namespace, c.release.name, st.rec.revision, st.rel) end
    st.rec.obj.data = nil -- the encoded record is not needed any more
  end
  cache[c.name] = st
  return st
end

M.ref = cluster.ref

-- ---------------------------------------------------------------------------
-- running

local function run_check(plan, phase, sel, shared)
  local ctx = setmetatable({ phase = phase, check = sel.name, module = sel.module, out = {}, plan = plan,
                             recipe = plan.recipe or {}, cluster = plan.cluster, shared = shared,
                             params = plan.params or {} }, Ctx)
  local v = type(ctx.recipe.validation) == "table" and ctx.recipe.validation[phase]
  ctx.config = type(v) == "table" and v or {}
  if not sel.module then
    local why = sel.wrong_phase and string.format("check %s is a %s check, named under %s", sel.name, sel.wrong_phase, phase)
      or string.format("eidos has no check module %s (add lua/eidos/validate/checks/%s.lua)", sel.name, sel.name)
    ctx:skip({ reason = why .. "; the recipe names it in validation." .. phase .. ".checks" })
    return ctx.out
  end
  local ok, e = pcall(sel.module.run, ctx)
  if not ok then ctx:error(e) end
  if #ctx.out == 0 then
    ctx:skip({ reason = "the check found nothing to check" })
  end
  return ctx.out
end

-- readiness_checks(r) -> the checks of the readiness phase of r, a
-- readiness ValidationResult (eidos.validate.run): one per constraint
function M.readiness_checks(r)
  local checks = {}
  for _, x in ipairs(r.results) do
    checks[#checks + 1] = { name = x.name, status = x.status, reason = x.reason, expected = x.expression,
                            actual = x.actual, remediation = x.remediation, warning = x.severity == "warning" or nil }
  end
  return checks
end

-- run(plan) -> document, info. plan: {phases=, recipe=, recipe_origin=,
-- readiness = function() -> readiness ValidationResult (eidos.validate.run)
-- or raises, cluster= (a reader), expected = function() -> model,
-- evidence=, params=, meta = {snapshot=, bundle=, deployer=, strict=}}.
-- info: {codes = {code = count}, timing = {start=, stop=, durations=}}
function M.run(plan)
  local sys = require("eidos.core.sys")
  local info = { codes = {}, durations = {} }
  local phases = {}
  local readiness
  local t_start = os.time()
  for _, phase in ipairs(plan.phases) do
    local checks, durs = {}, {}
    if phase == "readiness" then
      local t0 = sys.monotime()
      local ok, r = pcall(plan.readiness)
      if ok then
        readiness = r
        checks = M.readiness_checks(r)
      else
        if not errors.is(r) then error(r, 0) end
        if r.code == "invalid" or r.code == "notfound" then error(r, 0) end
        checks[1] = { name = "snapshot", status = "error", reason = r.msg, code = r.code }
      end
      local d = math.floor((sys.monotime() - t0) * 1000 / math.max(1, #checks))
      for i = 1, #checks do durs[i] = d end
    else
      local shared = {}
      for _, sel in ipairs(M.select(phase, plan.recipe)) do
        local t0 = sys.monotime()
        local out = run_check(plan, phase, sel, shared)
        local d = math.floor((sys.monotime() - t0) * 1000 / math.max(1, #out))
        for _, x in ipairs(out) do
          checks[#checks + 1] = x
          durs[#durs + 1] = d
        end
      end
    end
    for _, x in ipairs(checks) do
      if x.status == "error" then info.codes[x.code or "failure"] = (info.codes[x.code or "failure"] or 0) + 1 end
    end
    phases[#phases + 1] = { name = phase, checks = checks }
    info.durations[#info.durations + 1] = durs
  end
  info.start, info.stop = t_start, os.time()
  return result.document(phases, readiness, plan.meta or {}), info
end

return M
