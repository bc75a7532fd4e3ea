-- spec/policy/shared_options_spec.lua: what `eidos` and eidosd share comes
-- from one place and is accepted the same way by both front-ends: the bundle
-- options (the API's query parameters are the CLI's flags marked api), the
-- Git repository rules, the deployer list read from the deployer modules
-- present (a dropped-in deployer works), the criteria alias rule (gpu), and
-- the RecipeResult key order.
local options = require("eidos.bundle.options")
local support = require("support")

local function fails(f, ...) return support.raises("invalid", f, ...) end

describe("bundle options", function()
  it("the API's query parameters are the shared flags of eidos bundle", function()
    local api = require("eidos.api.bundle").PARAMS
    local cmd = require("eidos.cmd.bundle")
    local names = {}
    for _, s in ipairs(cmd.flags) do names[s.name] = s end
    local n = 0
    for name, kind in pairs(api) do
      if name ~= "bundlers" then -- upstream's, accepted and ignored (a Warning header)
        n = n + 1
        assert.truthy(names[name], name .. " is no flag of eidos bundle")
        assert.are.equal(names[name].repeatable and "list" or true, kind, name)
      end
    end
    assert.are.equal(13, n)
    for _, local_only in ipairs({ "values", "sign-key", "data", "recipe", "output" }) do
      assert.is_nil(api[local_only], local_only)
    end
  end)

  it("one repository rule for both front-ends: file:// repos are accepted by each", function()
    local cli = options.repo({ repo = "file:///srv/git/gitops.git", path = "./clusters//a/" }, "argocd")
    local api = options.repo({ repo = "file:///srv/git/gitops.git", path = "./clusters//a/" }, "argocd",
      function(n) return n end)
    assert.are.same(cli, api)
    assert.are.equal("clusters/a", api.Path)
    assert.are.equal("HEAD", api.Revision)
    assert.are.equal("main", options.repo({}, "flux").Revision)
    assert.are.equal(options.PLACEHOLDER, options.repo({}, "argocd").URL)
    assert.truthy(fails(options.repo, { repo = "ftp://x/y" }, "argocd"):find('--repo "ftp://x/y"', 1, true))
    assert.truthy(fails(options.repo, { repo = "ftp://x/y" }, "argocd", function(n) return n end)
      :find('repo "ftp://x/y"', 1, true))
    fails(options.repo, { path = "../etc" }, "argocd")
  end)

  it("--set-style operations keep the order they were given in", function()
    local ops = options.ops({ { name = "set", value = "a:x=1" }, { name = "set-json", value = "a:x=[2]" },
                              { name = "deployer", value = "helm" }, { name = "set", value = "b:y=true" } })
    assert.are.equal(3, #ops)
    assert.are.same({ "set", "set-json", "set" }, { ops[1].flag, ops[2].flag, ops[3].flag })
    assert.is_true(ops[3].value)
  end)

  it("the deployers are the modules present, the default first", function()
    assert.are.same({ "helm", "argocd", "flux", "helm-components" }, options.deployers())
    assert.are.equal("argocd", options.deployer("argocd"))
    local msg = fails(options.deployer, "argo")
    assert.truthy(msg:find('did you mean "argocd"?', 1, true), msg)
  end)
end)

describe("a dropped-in deployer", function()
  local home
  setup(function()
    home = support.tmpdir()
    os.execute("mkdir -p " .. home .. "/lua/eidos/bundle/deployer")
    support.write(home .. "/lua/eidos/bundle/deployer/plain.lua", [[
local M = {}
function M.files(model)
  local names = {}
  for _, c in ipairs(model.Components) do names[#names + 1] = c.Name end
  return { { path = "components.txt", data = table.concat(names, "\n") .. "\n" } }
end
return M
]])
  end)
  teardown(function() os.execute("rm -rf " .. support.q(home)) end)

  it("is offered, accepted and used by eidos bundle", function()
    local env = { EIDOS_HOME = home }
    local r = support.run({ "__complete", "bundle", "-d", "" }, { env = env })
    assert.truthy(r.out:find("\nplain\n", 1, true), r.out)
    r = support.run({ "bundle", "--help" }, { env = env })
    assert.truthy(r.out:find("(helm|argocd|flux|helm-components|plain)", 1, true), r.out)
    local d = support.tmpdir()
    r = support.run({ "recipe", "--service", "eks", "--intent", "training", "-o", d .. "/r.yaml" }, { env = env })
    assert.are.equal(0, r.code, r.err)
    r = support.run({ "bundle", "-r", d .. "/r.yaml", "-o", d .. "/out", "-d", "plain" }, { env = env })
    assert.are.equal(0, r.code, r.err)
    assert.truthy(support.read(d .. "/out/components.txt"):find("gpu-operator", 1, true))
    assert.truthy(support.exists(d .. "/out/recipe.yaml"))
    r = support.run({ "bundle", "-r", d .. "/r.yaml", "-o", d .. "/out2", "-d", "plian" }, { env = env })
    assert.are.equal(2, r.code)
    assert.truthy(r.err:find('did you mean "plain"?', 1, true), r.err)
    os.execute("rm -rf " .. support.q(d))
  end)
end)

describe("criteria aliases", function()
  local api = require("eidos.api.recipe")
  local rcli = require("eidos.cli.recipe")

  it("the API accepts what the CLI accepts: an alias and its field together when they agree", function()
    local c = api.raw_criteria({ accelerator = "h100", gpu = "H100", service = "eks" }, "the query")
    assert.are.equal("h100", c.accelerator)
    assert.is_nil(c.gpu)
    c = api.raw_criteria({ gpu = "l40s" }, "the query")
    assert.are.equal("l40s", c.accelerator)
    local q = rcli.query({ accelerator = "h100", gpu = "H100" })
    assert.are.equal("h100", q.accelerator)
    q = rcli.query({ accelerator = "l40", gpu = "l40s" }) -- an accelerator alias of the same value
    assert.are.equal("l40", q.accelerator)
  end)

  it("and both refuse them when they disagree", function()
    local a = fails(api.raw_criteria, { accelerator = "h100", gpu = "h200" }, "the query")
    assert.truthy(a:find('accelerator "h100" and gpu "h200" disagree', 1, true), a)
    local b = fails(rcli.query, { accelerator = "h100", gpu = "h200" })
    assert.truthy(b:find('--accelerator "h100" and --gpu "h200" disagree', 1, true), b)
  end)

  it("the API's recipe parameters are the criteria fields, their aliases and format", function()
    assert.are.same({ "service", "accelerator", "intent", "os", "platform", "nodes" }, api.FIELDS)
    assert.truthy(fails(api.raw_criteria, { colour = "blue" }, "the query"):find("colour", 1, true))
  end)
end)

describe("the RecipeResult key order", function()
  it("is one list for the engine and the bundle's recipe.yaml", function()
    local schema = require("eidos.recipe.schema")
    assert.are.equal(schema.COMPONENT_REF, require("eidos.recipe.merge").REF_ORDER)
    local r = require("eidos.bundle").canonical_recipe({ criteria = { nodes = 0, service = "eks" }, kind = "RecipeResult",
      metadata = { warnings = { "w" }, version = "1" }, componentRefs = { { version = "1", name = "a" } } })
    local text = require("eidos.doc").encode(r, "yaml")
    assert.truthy(text:find("^kind: RecipeResult\nmetadata:\n  version: \"1\"\n  warnings:\n  %- w\ncriteria:\n  service: eks\n"),
      text)
    assert.truthy(text:find("componentRefs:\n%- name: a\n  version: \"1\"\n"), text)
  end)
end)
