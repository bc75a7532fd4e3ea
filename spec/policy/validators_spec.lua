-- Validators of input documents and options report every problem at once,
-- sorted by path, in one structured error with the exit code the first
-- problem alone would have had (errors.problems): criteria, RecipeCriteria
-- documents, snapshots, kubeconfig files, overlay specs, registries, the
-- recipe a bundle reads, a recipe's constraints, query strings and bodies of
-- the API, the results of hooks, the bundle options (--repo, --revision,
-- --path), the value operations (--set, --set-json, --values) and a
-- --values file. One problem reads exactly as before.
local errors = require("eidos.errors")
local support = require("support")

local function raises(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  assert.is_true(errors.is(e), tostring(e))
  return e
end

-- the problem lines of a several-problem message, in order
local function lines(msg)
  local out = {}
  for l in msg:gmatch("\n  ([^\n]*)") do out[#out + 1] = l end
  return out
end

-- every want (plain text) appears, each in its own line, in this order
local function in_order(msg, want)
  local ls = lines(msg)
  assert.are.equal(#want, #ls, msg)
  for i, w in ipairs(want) do
    assert.is_truthy(ls[i]:find(w, 1, true), string.format("line %d is not %q:\n%s", i, w, msg))
  end
end

describe("errors.problems", function()
  it("raises nothing without problems, one problem as it always read", function()
    local p = errors.problems("file.yaml")
    p:raise("invalid")
    assert.is_nil(p:message())
    p:add("a.b", "a.b is wrong", { field = "a.b" })
    local e = raises(p.raise, p, "invalid")
    assert.are.equal("invalid", e.code)
    assert.are.equal("file.yaml: a.b is wrong", e.msg)
    assert.are.same({ field = "a.b" }, e.detail)
    assert.are.equal(2, errors.exit_code(e))
  end)

  it("sorts several by path in natural order, whatever order they were found in", function()
    local found = { { "items[10]", "ten" }, { "items[2]", "two" }, { "kind", "kind" }, { "items[2]", "also two" },
                    { "apiVersion", "api" } }
    for rot = 0, #found - 1 do
      local p = errors.problems("doc.yaml")
      for i = 1, #found do
        local f = found[(i + rot - 1) % #found + 1]
        p:add(f[1], f[2])
      end
      local e = raises(p.raise, p, "notfound")
      assert.are.equal("notfound", e.code)
      assert.are.equal("doc.yaml: 5 problems:\n  api\n  also two\n  two\n  ten\n  kind", e.msg)
      assert.are.same({ "apiVersion", "items[2]", "items[2]", "items[10]", "kind" },
        { e.detail.problems[1].path, e.detail.problems[2].path, e.detail.problems[3].path,
          e.detail.problems[4].path, e.detail.problems[5].path })
    end
  end)
end)

describe("validators name every problem", function()
  it("criteria: every bad value, by field", function()
    local crit = require("eidos.recipe.criteria")
    local e = raises(crit.new, { service = "nope", accelerator = "t4", nodes = "-1", os = "ubuntu" }, "criteria x.yaml")
    assert.are.equal("invalid", e.code)
    assert.matches("^criteria x.yaml: 3 problems:\n", e.msg)
    in_order(e.msg, { 'invalid accelerator "t4"', 'invalid nodes "-1"', 'invalid service "nope"' })
    -- one bad value: the message it always had
    e = raises(crit.new, { service = "nope" })
    assert.matches('^invalid service "nope" %(accepted: ', e.msg)
  end)

  it("a RecipeCriteria document: kind, apiVersion and unknown fields together", function()
    local io_ = require("eidos.recipe.criteria_io")
    local e = raises(io_.from_doc, { kind = "Snapshot", apiVersion = "v9", spec = { zeta = 1, alpha = 2 } }, "c.yaml")
    in_order(e.msg, { 'apiVersion "v9" is not supported', 'kind "Snapshot" is not a criteria document',
                      "unknown criteria field(s) alpha, zeta" })
    assert.matches("^c.yaml: 3 problems:", e.msg)
  end)

  it("a snapshot: header and every bad measurement", function()
    local model = require("eidos.snapshot.model")
    local e = raises(model.from_doc, { kind = "Other", apiVersion = "eidos.nvidia.com/v1alpha1", measurements = {
      { type = "K8s", subtypes = { { subtype = "server", data = { version = "1.30" } }, { data = {} } } },
      { subtypes = {} },
      { type = "GPU", subtypes = { { subtype = "smi", data = "text" } } },
      { type = "OS", subtypes = 5 },
    } }, "s.yaml")
    assert.matches("^snapshot s.yaml: 5 problems:", e.msg)
    in_order(e.msg, { 'kind is "Other"', "measurements[0] (K8s) subtypes[1] has no subtype name",
                      "measurements[1] has no type", "GPU.smi: data must be a map",
                      "measurements[3] (OS): subtypes must be a list" })
  end)

  it("a kubeconfig: every section and entry", function()
    local dir = support.tmpdir()
    support.write(dir .. "/kc", "clusters:\n- cluster: {server: https://a}\n- name: b\n  cluster: 5\n" ..
      "users: {}\ncontexts:\n- name: c\n  context: 5\n- {}\n")
    local e = raises(require("eidos.k8s.config").resolve, { kubeconfig = dir .. "/kc" })
    os.execute("rm -rf " .. support.q(dir))
    assert.are.equal("invalid", e.code)
    assert.matches("^kubeconfig " .. dir:gsub("%p", "%%%0") .. "/kc: 4 problems:", e.msg)
    in_order(e.msg, { "clusters[1] has no name", 'clusters "b": cluster must be a map',
                      'contexts "c": context must be a map', "contexts[2] has no name" })
  end)

  it("an overlay's spec and a registry", function()
    local dir = support.tmpdir()
    os.execute("mkdir -p " .. support.q(dir .. "/overlays"))
    support.write(dir .. "/registry.yaml", "kind: ComponentRegistry\ncomponents: []\n")
    support.write(dir .. "/overlays/zz.yaml", "kind: RecipeMetadata\napiVersion: eidos.nvidia.com/v1alpha1\n" ..
      "metadata: {name: zz}\nspec:\n  criteria: {service: eks, accelerator: h100, intent: inference, os: rhel}\n" ..
      "  constraints: [{value: x}, {name: K8s.server.version, value: '1'}, 7]\n" ..
      "  componentRefs: {a: 1}\n  validation: [1]\n")
    local recipe = require("eidos.recipe")
    local lib = recipe.library({ data = dir })
    local e = raises(lib.spec, lib, lib:find("zz"))
    assert.matches("zz.yaml: 4 problems:", e.msg, 1, true)
    in_order(e.msg, { "spec.componentRefs must be a list", "spec.constraints[0] needs a name",
                      "spec.constraints[2] needs a name", "spec.validation must be a map" })
    support.write(dir .. "/registry.yaml", "kind: Registry\ncomponents:\n- name: ok\n- {displayName: x}\n- 3\n")
    e = raises(recipe.library({ data = dir, data_mode = "replace" }).registry,
      recipe.library({ data = dir, data_mode = "replace" }))
    os.execute("rm -rf " .. support.q(dir))
    assert.matches("registry.yaml: 3 problems:", e.msg, 1, true)
    in_order(e.msg, { "components[1] needs a name", "components[2] needs a name", 'kind "Registry" is not' })
  end)

  it("the recipe a bundle reads", function()
    local bundle = require("eidos.bundle")
    local e = raises(bundle.prepare, { kind = "Snapshot", componentRefs = {
      { name = "Bad_Name" }, { name = "ok" }, { name = "ok" }, "x", { name = "k", type = "Kustomize" } } },
      { origin = "r.yaml" })
    assert.matches("^5 problems:", e.msg)
    in_order(e.msg, { 'component name "Bad_Name" is not usable', 'component "ok" is listed twice',
                      "componentRefs[3] is not a map", 'component k has type "Kustomize"',
                      'recipe r.yaml has kind "Snapshot"' })
  end)

  it("API query strings and query documents", function()
    local http = require("eidos.api.http")
    local e = raises(http.params, "zz=1&format=json&format=yaml&aa=2", { format = true })
    in_order(e.msg, { 'unknown query parameter "aa"', 'query parameter "format" is given 2 times',
                      'unknown query parameter "zz"' })
    local api_recipe = require("eidos.api.recipe")
    -- the same unknown fields, inserted in different orders: one message
    local a = raises(api_recipe.raw_criteria, { zeta = "1", alpha = "2", mid = "3", gpu = "h200", accelerator = "h100" },
      "the query").msg
    local t = {}
    for _, k in ipairs({ "accelerator", "gpu", "mid", "alpha", "zeta" }) do t[k] = "x" end
    t.accelerator, t.gpu = "h100", "h200"
    assert.are.equal(a, raises(api_recipe.raw_criteria, t, "the query").msg)
    in_order(a, { 'unknown criteria field "alpha"', 'accelerator "h100" and gpu "h200" disagree',
                  'unknown criteria field "mid"', 'unknown criteria field "zeta"' })
  end)

  it("a recipe's constraints read by validate", function()
    local dir = support.tmpdir()
    support.write(dir .. "/r.yaml", "kind: RecipeResult\nconstraints:\n- {value: '1'}\n- {name: K8s.server.version, value: {a: 1}}\n" ..
      "- {name: OS.release.ID, value: ubuntu}\n- 7\n")
    support.write(dir .. "/s.yaml", "kind: Snapshot\napiVersion: eidos.nvidia.com/v1alpha1\nmeasurements: []\n")
    local r = support.run({ "validate", "--recipe", dir .. "/r.yaml", "--snapshot", dir .. "/s.yaml" })
    os.execute("rm -rf " .. support.q(dir))
    assert.are.equal(2, r.code, r.err)
    assert.matches("3 problems:", r.err, 1, true)
    in_order(r.err, { "constraints[0]: expected {name, value}", "constraints[1] (K8s.server.version): value must be",
                      "constraints[3]: expected {name, value}" })
  end)

  it("hook results, in the same order on every run", function()
    local dir = support.tmpdir()
    os.execute("mkdir -p " .. support.q(dir .. "/hooks"))
    support.write(dir .. "/hooks/crit.lua", "return { criteria = function(c)\n" ..
      "  c.service = {1}; c.os = true; c.platform = {}; c.intent = 1.5; c[1] = 'x'\n  return c\nend }\n")
    local first
    for _ = 1, 3 do
      local r = support.run({ "recipe", "--service", "eks", "--hooks", dir .. "/hooks" })
      assert.are.equal(2, r.code, r.err)
      first = first or r.err
      assert.are.equal(first, r.err)
    end
    os.execute("rm -rf " .. support.q(dir))
    in_order(first, { "criteria keys must be strings", 'criteria field "intent" must be a string or integer',
                      'criteria field "os"', 'criteria field "platform"', 'criteria field "service"' })
  end)

  it("the bundle options: repo, revision and path together, by option name", function()
    local options = require("eidos.bundle.options")
    local e = raises(options.repo, { path = "/abs", repo = "ftp://x", revision = "a b" }, "argocd")
    assert.matches("^3 problems:", e.msg)
    in_order(e.msg, { '--path "/abs" must be relative', 'invalid --repo "ftp://x"', 'invalid --revision "a b"' })
    -- the same in the API's spelling of the names
    e = raises(options.repo, { path = "a/../b", repo = "https://h/r x", revision = "" }, "flux", function(n) return n end)
    in_order(e.msg, { "path \"a/../b\" must not contain '..'", 'invalid repo "https://h/r x": it contains spaces',
                      'invalid revision ""' })
  end)

  it("the value operations, in the order given, and every bad entry of a --values file", function()
    local options = require("eidos.bundle.options")
    local dir = support.tmpdir()
    support.write(dir .. "/v.yaml", "zeta: [1]\nalpha: 3\nok: {a: 1}\nbeta: text\n")
    local e = raises(options.ops, { { name = "set", value = "noColon" }, { name = "set", value = "c:a=1" },
      { name = "set-json", value = "c:a={" }, { name = "values", value = dir .. "/v.yaml" },
      { name = "set", value = ":x=1" } })
    os.execute("rm -rf " .. support.q(dir))
    assert.matches("^6 problems:", e.msg)
    in_order(e.msg, { 'invalid --set "noColon": missing \':\'', 'invalid --set-json "c:a={"',
                      'the value of "alpha" must be', 'the value of "beta" must be', 'the value of "zeta" must be',
                      'invalid --set ":x=1": empty component name' })
  end)
end)
