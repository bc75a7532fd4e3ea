-- The worked examples of docs/customizing.md, run as a user would: three
-- hooks from docs/examples/hooks and one policy override from
-- docs/examples/override. If this spec fails, the documentation is wrong.
local support = require("support")
local yaml = require("eidos.core.yaml")

local HOOKS = support.root .. "/docs/examples/hooks"
local OVERRIDE = support.root .. "/docs/examples/override"

local function contains(list, v)
  for _, x in ipairs(list or {}) do if x == v then return true end end
  return false
end

describe("docs/customizing.md examples", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. support.q(dir)) end)

  it("a company overlay rule maps internal accelerator names and drops Dynamo overlays", function()
    local r = support.run({ "recipe", "--service", "eks", "--accelerator", "hopper-80", "--os", "ubuntu",
                            "--intent", "inference", "--platform", "dynamo", "--hooks", HOOKS, "--allow-partial" })
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.err:find("no overlay is specific to platform=dynamo", 1, true), r.err)
    local d = yaml.load(r.out)
    assert.are.equal("h100", d.criteria.accelerator)
    assert.is_true(contains(d.metadata.appliedOverlays, "h100-eks-ubuntu-inference"))
    assert.is_false(contains(d.metadata.appliedOverlays, "h100-eks-ubuntu-inference-dynamo"))
    -- the partial recipe is refused unless asked for
    r = support.run({ "recipe", "--service", "eks", "--accelerator", "hopper-80", "--os", "ubuntu",
                      "--intent", "inference", "--platform", "dynamo", "--hooks", HOOKS })
    assert.are.equal(2, r.code)
    assert.truthy(r.err:find("platform=dynamo is not honoured", 1, true), r.err)
    -- without the hook the internal name is refused, naming it
    r = support.run({ "recipe", "--service", "eks", "--accelerator", "hopper-80" })
    assert.are.equal(2, r.code)
    assert.truthy(r.err:find("hopper-80", 1, true), r.err)
  end)

  it("a new constraint operator is used by validate", function()
    local snap = support.root .. "/spec/fixtures/snapshots/validate-small.yaml"
    local r = support.run({ "validate", "--snapshot", snap, "--constraint", "GPU.smi.gpu-count multiple-of 4",
                            "--hooks", HOOKS, "-t", "json" })
    assert.are.equal(0, r.code, r.err)
    local d = yaml.load(r.out)
    assert.are.equal("passed", d.results[1].status)
    r = support.run({ "validate", "--snapshot", snap, "--constraint", "GPU.smi.gpu-count multiple-of 8",
                      "--hooks", HOOKS, "-t", "json", "--fail-on-error" })
    assert.are.equal(9, r.code, r.err)
    d = yaml.load(r.out)
    assert.are.equal("failed", d.results[1].status)
    assert.truthy(d.results[1].reason:find("not a multiple of 8", 1, true), d.results[1].reason)
    -- without the hook there is no such operator: the expression is a bare
    -- value (its first word is not plain lower-case letters), compared as an
    -- exact string, which fails (exit 9: --fail-on-error is the default)
    r = support.run({ "validate", "--snapshot", snap, "--constraint", "GPU.smi.gpu-count multiple-of 4", "-t", "json" })
    assert.are.equal(9, r.code, r.err)
    d = yaml.load(r.out)
    assert.are.equal("failed", d.results[1].status)
  end)

  it("a bundle post-processor adds a NetworkPolicy covered by the checksums", function()
    local recipe = dir .. "/recipe.yaml"
    local r = support.run({ "recipe", "--service", "eks", "--accelerator", "h100", "--intent", "training", "-o", recipe })
    assert.are.equal(0, r.code, r.err)
    r = support.run({ "bundle", "--recipe", recipe, "-o", dir .. "/bundle", "--hooks", HOOKS })
    assert.are.equal(0, r.code, r.err)
    local np = support.read(dir .. "/bundle/extras/networkpolicy.yaml")
    assert.truthy(np, "extras/networkpolicy.yaml missing")
    local docs = yaml.load_all(np)
    assert.truthy(#docs >= 3)
    for _, d in ipairs(docs) do
      assert.are.equal("NetworkPolicy", d.kind)
      assert.are.equal("default-deny-ingress", d.metadata.name)
    end
    assert.truthy(support.read(dir .. "/bundle/checksums.txt"):find("  extras/networkpolicy.yaml", 1, true))
    r = support.run({ "verify", dir .. "/bundle" })
    assert.are.equal(0, r.code, r.err .. r.out)
  end)

  it("a snapshot hook adds derived measurements", function()
    local hooks = dir .. "/hooks"
    os.execute("mkdir -p " .. support.q(hooks))
    support.write(hooks .. "/derived.lua", [[
      return { snapshot = function(s)
        local n = 0
        for _, m in ipairs(s.measurements) do if m.type == "GPU" then n = n + 1 end end
        return { { type = "Derived", subtypes = { { subtype = "summary", data = { ["gpu-measurements"] = n } } } } }
      end }
    ]])
    local r = support.run({ "snapshot", "--sysroot", support.root .. "/spec/fixtures/sysroot/basic", "--only", "OS",
                            "--hooks", hooks, "-t", "json" }, { env = { PATH = "/usr/bin:/bin" } })
    assert.are.equal(0, r.code, r.err)
    local d = yaml.load(r.out)
    local last = d.measurements[#d.measurements]
    assert.are.equal("Derived", last.type)
    assert.are.equal(0, last.subtypes[1].data["gpu-measurements"])
  end)

  it("a policy override replaces the Helm README template", function()
    local recipe = dir .. "/recipe.yaml"
    assert.are.equal(0, support.run({ "recipe", "--service", "eks", "--intent", "training", "-o", recipe }).code)
    local r = support.run({ "bundle", "--recipe", recipe, "-o", dir .. "/bundle" }, { env = { EIDOS_HOME = OVERRIDE } })
    assert.are.equal(0, r.code, r.err)
    local readme = support.read(dir .. "/bundle/README.md")
    assert.truthy(readme:find("(ACME platform)", 1, true), readme)
    assert.truthy(readme:find("- cert-manager", 1, true), readme)
    r = support.run({ "lua", "--list" }, { env = { EIDOS_HOME = OVERRIDE } })
    assert.truthy(r.out:match("templates/helm/README%.md%.tpl%s+" .. OVERRIDE:gsub("%p", "%%%0")), r.out)
  end)
end)
