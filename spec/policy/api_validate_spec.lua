-- spec/policy/api_validate_spec.lua: POST /v1/validate and POST /v1/diff,
-- in-process. A snapshot validated over HTTP gets exactly what `eidos
-- validate` computes (eidos.validate against the recipe's constraints)
-- whichever way the recipe is given; bad input is one 400 naming it; the
-- body goes through the loader's limits; several snapshots are the fleet
-- engine's; the diff is eidos.diff's.
local support = require("support")
local cjson = require("cjson")
local doc = require("eidos.doc")
local http = require("eidos.api.http")
local api_recipe = require("eidos.api.recipe")
local api_validate = require("eidos.api.validate")
local api_diff = require("eidos.api.diff")
local recipe = require("eidos.recipe")
local validate = require("eidos.validate")
local model = require("eidos.snapshot.model")

local CRIT = "service=eks&accelerator=gb200&intent=training&os=ubuntu"
local OLD = support.read(support.root .. "/spec/fixtures/snapshots/console-old-node.json")
local SMALL = support.read(support.root .. "/spec/fixtures/snapshots/validate-small.yaml")

local function post(handler, query, body, ctype, ctx)
  local ok, status, out, headers = pcall(handler, { method = "POST", path = "/", query = query or "",
    headers = { ["content-type"] = ctype or "application/yaml" }, body = body, id = "spec" }, ctx)
  if not ok then return nil, status end
  return status, out and cjson.decode(out), headers
end

-- the error a handler raised: {status, code, msg}
local function refused(handler, query, body, ctype, ctx)
  local status, e = post(handler, query, body, ctype, ctx)
  assert.is_nil(status, "expected a refusal")
  if http.is_fail(e) then return { status = e.status, code = e.code, msg = e.msg } end
  assert(require("eidos.errors").is(e), tostring(e))
  return { status = require("eidos.errors").http[e.code], code = e.code, msg = e.msg }
end

describe("POST /v1/validate", function()
  local ctx, want
  setup(function()
    ctx = api_recipe.context({})
    local r = recipe.build(recipe.criteria({ service = "eks", accelerator = "gb200", intent = "training", os = "ubuntu" }),
      { library = ctx.library })
    local list = validate.recipe_constraints(r, "recipe")
    want = function(text, strict)
      local d = cjson.decode(doc.encode(validate.run(list, model.from_doc(doc.decode(text, "s"), "s"),
        { strict = strict }), "json"))
      return d.status, d.summary, d.results
    end
  end)

  it("answers what eidos validate computes, whichever way the recipe is given", function()
    local status, summary, results = want(OLD)
    assert.are.equal("fail", status)
    local recipe_doc = cjson.encode(cjson.decode(doc.encode(recipe.build(recipe.criteria({ service = "eks",
      accelerator = "gb200", intent = "training", os = "ubuntu" }), { library = ctx.library }), "json")))
    local forms = {
      { CRIT, OLD, "application/json" },
      { "", '{"criteria":{"service":"eks","gpu":"gb200","intent":"training","os":"ubuntu"},"snapshot":' .. OLD .. "}",
        "application/json" },
      { "", '{"recipe":' .. recipe_doc .. ',"snapshots":[' .. OLD .. "]}", "application/json" },
      { CRIT, "[" .. OLD .. "]", "application/json" },
    }
    for i, f in ipairs(forms) do
      local st, d, headers = post(api_validate.post, f[1], f[2], f[3], ctx)
      assert.are.equal(200, st, i)
      assert.are.equal("ValidationResult", d.kind)
      assert.are.equal(status, d.status, i)
      assert.are.same(summary, d.summary, i)
      assert.are.same(results, d.results, i)
      assert.are.equal("no-store", headers[4])
      -- the shape `eidos validate` writes: the readiness phase, a check per constraint
      assert.are.equal("readiness", d.phases[1].name)
      assert.are.equal(#results, #d.phases[1].checks)
      assert.are.equal("failed", d.phases[1].status)
    end
    -- strict, from the query or the body
    local sst, ssum = want(OLD, true)
    local _, d = post(api_validate.post, CRIT .. "&strict=true", OLD, "application/json", ctx)
    assert.are.equal(sst, d.status)
    assert.are.same(ssum, d.summary)
    assert.is_true(d.metadata.strict)
    -- a YAML snapshot and ad-hoc constraints of the body
    local _, y = post(api_validate.post, "", "constraints:\n  - {name: K8s.server.version, value: '>= 1.40'}\n" ..
      "snapshot:\n" .. SMALL:gsub("\n", "\n  "):gsub("^", "  "), "application/yaml", ctx)
    assert.are.equal("fail", y.status)
    assert.are.equal(1, y.summary.total)
  end)

  it("refuses what it cannot check, naming it, in one 400", function()
    local cases = {
      { "", OLD, "nothing to validate" },
      { CRIT, '{"criteria":{"service":"eks"},"snapshot":{}}', "give the recipe once" },
      { "", '{"criteria":{"service":"eks"},"snapshot":{},"snapshotz":1}', 'unknown field "snapshotz"' },
      { CRIT, "7", "snapshot 1 of the request body is 7" },
      { CRIT .. "&strict=maybe", OLD, 'strict "maybe"' },
      { "service=ekz", OLD, 'invalid service "ekz"' },
      { "service=eks&accelerator=gb200&intent=inference&os=cos", OLD, "os=cos is not honoured" },
      { CRIT, "kind: Snapshot\nmeasurements: 7\n", "measurements" },
      { "", '{"constraints":[{"name":"K8s.server.version","value":">= "}],"snapshot":{"kind":"Snapshot","measurements":[]}}',
        "K8s.server.version" },
      { CRIT, '{"criteria":{},"snapshot":{},"snapshots":[]}', "give the recipe once" },
    }
    for _, c in ipairs(cases) do
      local e = refused(api_validate.post, c[1], c[2], "application/json", ctx)
      assert.are.equal(400, e.status, c[3])
      assert.truthy(e.msg:find(c[3], 1, true), c[3] .. " in: " .. e.msg)
    end
    local e = refused(api_validate.post, CRIT, OLD, "text/plain", ctx)
    assert.are.equal(415, e.status)
    e = refused(api_validate.post, CRIT, "", "application/json", ctx)
    assert.truthy(e.msg:find("empty", 1, true), e.msg)
  end)

  it("reads the body with the loader's limits: an alias bomb is refused, not expanded", function()
    local lines = { "a: &a [x, x, x, x, x, x, x, x, x, x]" }
    local prev = "a"
    for i = 1, 12 do
      lines[#lines + 1] = string.format("b%d: &b%d [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]", i, i,
        prev, prev, prev, prev, prev, prev, prev, prev, prev, prev)
      prev = "b" .. i
    end
    local e = refused(api_validate.post, CRIT, table.concat(lines, "\n") .. "\n", "application/yaml", ctx)
    assert.are.equal(400, e.status)
    assert.truthy(e.msg:find("expands to more than", 1, true), e.msg)
  end)

  it("sends several snapshots to the fleet engine", function()
    local body = OLD .. "\n---\n" .. SMALL
    local st, d = post(api_validate.post, CRIT, body, "application/yaml", ctx)
    assert.are.equal(200, st)
    assert.are.equal("FleetValidationResult", d.kind)
    assert.are.equal(2, #d.nodes)
    assert.are.equal("gpu-node-old", d.nodes[1].node)
  end)
end)

describe("POST /v1/diff", function()
  it("answers eidos.diff's DiffResult and patch for two documents", function()
    local diff = require("eidos.diff")
    local old, new = doc.decode(SMALL, "a"), doc.decode(OLD, "b")
    local ignore = diff.DEFAULT_IGNORE.snapshot
    local want = cjson.decode(doc.encode(diff.run(old, new, { old = "old", new = "new", ignore = ignore }), "json"))
    for _, body in ipairs({ SMALL .. "\n---\n" .. OLD, '{"old":' .. cjson.encode(cjson.decode(
      doc.encode(old, "json"))) .. ',"new":' .. OLD .. "}" }) do
      local st, d = post(api_diff.post, "", body, "application/yaml", {})
      assert.are.equal(200, st)
      assert.are.same(want.findings, d.findings)
    end
    local st, ops = post(api_diff.post, "format=patch", SMALL .. "\n---\n" .. OLD, "application/yaml", {})
    assert.are.equal(200, st)
    assert.is_string(ops[1].op)
  end)

  it("refuses anything but two documents", function()
    for _, body in ipairs({ SMALL, SMALL .. "\n---\n" .. SMALL .. "\n---\n" .. SMALL, '{"old":{}}', '{"old":{},"new":{},"x":1}' }) do
      local e = refused(api_diff.post, "", body, "application/yaml", {})
      assert.are.equal(400, e.status, body:sub(1, 40))
    end
  end)
end)
