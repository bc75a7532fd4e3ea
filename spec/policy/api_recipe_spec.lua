-- spec/policy/api_recipe_spec.lua: the API's recipe answers are assembled
-- from parts (a prefix and a tail shared by every recipe of the same
-- overlays, and the head rest of the criteria). For every curated criteria
-- combination the parts must give exactly the bytes of the recipe the
-- engine builds for those criteria, in JSON and YAML, whatever order the
-- criteria arrive in (the shared parts are made by the first of them).
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

  it("are byte for byte the engine's recipes for every curated combination (JSON; YAML for a sample)", function()
    local lib = recipe.library({})
    local combos = combinations()
    assert.are.equal(1890, #combos)
    -- walk backwards so the shared parts come from other criteria than a forward walk
    for i = #combos, 1, -1 do
      local t = combos[i]
      local nodes = i % 4 == 0 and 3 or 0
      local q = query_of(t, nodes)
      local want = recipe.build(recipe.criteria(setmetatable({ nodes = nodes }, { __index = t })), { library = lib })
      local got, etag = answer(q, "json")
      assert.are.equal(http.encode(want, "json"), got, q)
      assert.are.equal(http.etag(got), etag, q)
      if i % 7 == 0 then
        assert.are.equal(http.encode(want, "yaml"), (answer(q, "yaml")), q .. " (yaml)")
      end
    end
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
