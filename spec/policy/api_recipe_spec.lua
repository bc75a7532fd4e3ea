-- spec/policy/api_recipe_spec.lua: the API's recipe answers are assembled
-- from parts (a prefix and a tail shared by every recipe of the same
-- overlays, and the head rest of the criteria). For every combination of
-- lint's criteria matrix the parts must give exactly the bytes of the
-- recipe the engine builds for those criteria (with allow-partial), in
-- JSON and YAML, whatever order the criteria arrive in (the shared parts
-- are made by the first of them); without allow-partial the answer, or the
-- fail-closed refusal, is the engine's.
local recipe = require("eidos.recipe")
local crit = require("eidos.recipe.criteria")
local http = require("eidos.api.http")
local api_recipe = require("eidos.api.recipe")

-- every combination `eidos recipe lint` walks in its matrix, without the "any"s
local function combinations()
  local out = {}
  for i, c in ipairs(require("eidos.recipe.lint_matrix").combinations()) do
    local t = {}
    for _, f in ipairs(crit.FIELDS) do if c[f] ~= "any" then t[f] = c[f] end end
    out[i] = t
  end
  return out
end

local function query_of(t, nodes)
  local parts = {}
  for _, f in ipairs(crit.FIELDS) do if t[f] then parts[#parts + 1] = f .. "=" .. t[f] end end
  if nodes > 0 then parts[#parts + 1] = "nodes=" .. nodes end
  return table.concat(parts, "&")
end

describe("API recipe answers", function()
  local ctx
  setup(function() ctx = api_recipe.context({}) end)

  local function answer(q, format)
    local status, body, headers = api_recipe.get({ method = "GET", path = "/v1/recipe", query = q,
      headers = { accept = format == "yaml" and "application/yaml" or nil }, id = "spec" }, ctx)
    assert.are.equal(200, status, q)
    assert.is_table(body)
    local etag
    for i = 1, #headers, 2 do if headers[i] == "etag" then etag = headers[i + 1] end end
    return table.concat(body), etag, body
  end

  it("are byte for byte the engine's recipes for every combination of lint's matrix, or its refusal", function()
    local lib = recipe.library({})
    local combos = combinations()
    assert.are.equal(1890, #combos)
    local built, refused = 0, 0
    -- walk backwards so the shared parts come from other criteria than a forward walk
    for i = #combos, 1, -1 do
      local t = combos[i]
      local nodes = i % 4 == 0 and 3 or 0
      local q = query_of(t, nodes)
      local c = recipe.criteria(setmetatable({ nodes = nodes }, { __index = t }))
      -- with allow-partial every combination that states something builds
      if q ~= "" then
        local want = recipe.build(c, { library = lib, allow_partial = true })
        local qp = q .. "&allow-partial=true"
        local got, etag = answer(qp, "json")
        assert.are.equal(http.encode(want, "json"), got, qp)
        assert.are.equal(http.etag(got), etag, qp)
        if i % 7 == 0 then
          assert.are.equal(http.encode(want, "yaml"), (answer(qp, "yaml")), qp .. " (yaml)")
        end
      end
      -- without it, the answer or the refusal is the engine's (the shared
      -- head fails closed exactly as build does)
      local ok, r = pcall(recipe.build, c, { library = lib })
      if q == "" then -- no criteria at all: the API refuses before the engine
        assert.is_false((pcall(answer, q, "json")))
      elseif ok then
        built = built + 1
        assert.are.equal(http.encode(r, "json"), (answer(q, "json")), q)
      else
        refused = refused + 1
        local ok2, e = pcall(answer, q, "json")
        assert.is_false(ok2, q)
        assert.are.equal(r.msg, e.msg, q)
      end
    end
    assert.truthy(built > 0 and refused > 0, built .. " built, " .. refused .. " refused")
  end)

  it("share one copy of the tail between criteria of the same overlays", function()
    local _, _, a = answer("service=eks&accelerator=h100&intent=training&os=ubuntu", "json")
    local _, _, b = answer("service=eks&accelerator=h100&intent=training&os=ubuntu&nodes=5", "json")
    assert.are.equal(#a, #b)
    assert.are.equal(a[#a], b[#b]) -- the same tail
    assert.are.equal(a.share[#a], true)
    assert.are_not.equal(a[#a - 1], b[#b - 1]) -- criteria differ (nodes)
    assert.are.equal(false, a.share[#a - 1])
  end)
end)
