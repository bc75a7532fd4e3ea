-- spec/policy/document_values_spec.lua: every value of a document may be of
-- any type. For each field of a criteria document, a query document, a
-- RecipeResult (sent to the API handlers eidosd runs, in process), a
-- snapshot and a recipe's constraints (read by the validate engine), the
-- value is replaced by a map, a list, null, a number, a boolean and an
-- empty string in turn. Whatever the answer, it is never an internal error
-- (HTTP 500 / exit 8) and no message shows a table address or a Lua type
-- name where a value belongs (the class behind `kind "eidos.list:
-- 0x561d..."`: values reach messages through errors.show).
local emit = require("eidos.core.emit")
local doc = require("eidos.doc")
local errors = require("eidos.errors")
local merge = require("eidos.core.merge")
local support = require("support")

local NULL = emit.null
local REPLACEMENTS = {
  { "a map", { x = 1 } }, { "a list", doc.list({ 1, 2 }) }, { "null", NULL }, { "a number", 12345 },
  { "a boolean", true }, { "an empty string", "" },
}
-- what a message must not show in place of a value
local LEAKS = { "0x%x%x%x%x", "table: ", "userdata: ", "eidos%.list", "no literal form" }

local function leak(text)
  for _, p in ipairs(LEAKS) do
    if text:find(p) then return p end
  end
  return nil
end

-- every path of d down to depth levels (list items: the first two), in a
-- fixed order; a path is a list of keys
local function paths(d, depth, prefix, out)
  out = out or {}
  prefix = prefix or {}
  if type(d) ~= "table" or depth == 0 then return out end
  local keys = {}
  if doc.islist(d) then
    for i = 1, math.min(#d, 2) do keys[#keys + 1] = i end
  else
    keys = doc.keys(d)
  end
  for _, k in ipairs(keys) do
    local p = { table.unpack(prefix) }
    p[#p + 1] = k
    out[#out + 1] = p
    paths(d[k], depth - 1, p, out)
  end
  return out
end

local function with(d, path, v)
  local c = merge.copy(d)
  local t = c
  for i = 1, #path - 1 do t = t[path[i]] end
  t[path[#path]] = v
  return c
end

local function name(path)
  local parts = {}
  for i, k in ipairs(path) do parts[i] = tostring(k) end
  return table.concat(parts, ".")
end

describe("a document value of any type", function()
  local handle
  setup(function()
    handle = assert(require("eidos.api.server").worker({ "--log-level", "error" }, 0))
  end)

  local function post(path, body)
    local status, out = handle({ method = "POST", path = path, query = "", body = emit.json(body),
      headers = { ["content-type"] = "application/json" }, id = "spec", client = "127.0.0.1" })
    -- a body may come as a list of parts (eidos.api: handle's contract)
    return status, type(out) == "table" and table.concat(out) or tostring(out)
  end

  local function each(base, depth, check)
    for _, p in ipairs(paths(base, depth)) do
      for _, r in ipairs(REPLACEMENTS) do
        check(with(base, p, r[2]), name(p) .. " = " .. r[1])
      end
    end
  end

  local function answered(path, d, what)
    local status, body = post(path, d)
    assert.are_not.equal(500, status, what .. ": " .. body)
    local l = leak(body)
    assert.is_nil(l, what .. ": the answer shows " .. tostring(l) .. ": " .. body)
  end

  it("in a RecipeCriteria document (POST /v1/recipe)", function()
    local base = { kind = "RecipeCriteria", apiVersion = "eidos.nvidia.com/v1alpha1", metadata = { name = "c" },
                   spec = { service = "eks", accelerator = "h100", intent = "training", os = "ubuntu", nodes = 4 } }
    each(base, 3, function(d, what) answered("/v1/recipe", d, what) end)
  end)

  it("in a query document (POST /v1/query)", function()
    local base = { criteria = { service = "eks", accelerator = "h100" }, selector = "components.gpu-operator.version" }
    each(base, 2, function(d, what) answered("/v1/query", d, what) end)
  end)

  it("in a RecipeResult (POST /v1/bundle)", function()
    local status, text = post("/v1/recipe", { kind = "RecipeCriteria",
      spec = { service = "eks", accelerator = "h100", intent = "training", os = "ubuntu" } })
    assert.are.equal(200, status, text)
    local recipe = doc.decode(text, "recipe")
    -- the fields around the first two components and constraints; values
    -- maps are free-form and left as they are
    local base = { kind = recipe.kind, apiVersion = recipe.apiVersion, criteria = recipe.criteria,
                   componentRefs = doc.list({ recipe.componentRefs[1], recipe.componentRefs[2] }),
                   constraints = recipe.constraints, deploymentOrder = recipe.deploymentOrder }
    for _, ref in ipairs(base.componentRefs) do ref.values = nil end
    each(base, 3, function(d, what) answered("/v1/bundle", d, what) end)
  end)

  it("in a snapshot and a recipe's constraints (validate)", function()
    local model = require("eidos.snapshot.model")
    local validate = require("eidos.validate")
    local text = assert(support.read(support.root .. "/spec/fixtures/snapshots/validate-small.yaml"))
    local snap = doc.decode(text, "snapshot")
    local cons = doc.list({ { name = "OS.release.ID", value = "ubuntu", severity = "warning" },
                            { name = "K8s.server.version", value = ">= 1.28" } })
    local function run(s, c, what)
      local ok, e = pcall(function()
        return validate.run(c, model.from_doc(s, "s.yaml"), {})
      end)
      if not ok then
        assert.is_true(errors.is(e), what .. ": " .. tostring(e))
        assert.are_not.equal("internal", e.code, what .. ": " .. e.msg)
        local l = leak(e.msg)
        assert.is_nil(l, what .. ": the message shows " .. tostring(l) .. ": " .. e.msg)
      end
    end
    each(snap, 4, function(d, what) run(d, cons, "snapshot " .. what) end)
    each(cons, 2, function(d, what) run(snap, d, "constraints " .. what) end)
  end)
end)

describe("a request body", function()
  local handle
  setup(function()
    handle = assert(require("eidos.api.server").worker({ "--log-level", "error" }, 0))
  end)
  local function post(body)
    return handle({ method = "POST", path = "/v1/recipe", query = "", body = body,
      headers = { ["content-type"] = "application/yaml" }, id = "spec", client = "127.0.0.1" })
  end

  it("that expands past the limit is refused with 400 naming it, before anything copies it", function()
    local l = { "kind: RecipeCriteria", "spec: {service: eks}", "pad: &p " .. ("x"):rep(65536), "more:" }
    for _ = 1, 1100 do l[#l + 1] = "- *p" end
    local status, body = post(table.concat(l, "\n") .. "\n")
    assert.are.equal(400, status, body)
    assert.matches("expands to more than 67108864 bytes", body, 1, true)
  end)

  it("nested past the limit of every input is refused with 400, not 500", function()
    local status, body = post("kind: RecipeCriteria\nspec: {service: eks}\nx: " .. ("["):rep(65) .. ("]"):rep(65) .. "\n")
    assert.are.equal(400, status, body)
    assert.matches("nested deeper than 64 levels", body, 1, true)
  end)

  it("is held to the server's own limits when it sets them", function()
    local http = require("eidos.api.http")
    local saved = http.body_limits.max_expanded
    http.body_limits.max_expanded = 4096
    local status, body = post("kind: RecipeCriteria\nspec: {service: eks}\npad: &p " .. ("x"):rep(1000) .. "\nl: [*p, *p, *p, *p]\n")
    http.body_limits.max_expanded = saved
    assert.are.equal(400, status, body)
    assert.matches("more than 4096 bytes", body, 1, true)
  end)
end)
