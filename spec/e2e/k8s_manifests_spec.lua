-- deploy/agent/*.yaml are generated from lua/eidos/k8s/agent.lua; this
-- checks they are current (regenerate with
-- `eidos lua deploy/agent/generate.lua deploy/agent`) and well formed.
local support = require("support")

describe("deploy/agent manifests", function()
  it("match what eidos snapshot --deploy-agent creates", function()
    local d = support.tmpdir()
    local r = support.run({ "lua", "deploy/agent/generate.lua", d }, { env = { EIDOS_HOME = support.root } })
    assert.are.equal(0, r.code, r.err)
    for _, f in ipairs({ "1-rbac.yaml", "2-job.yaml" }) do
      assert.are.equal(support.read(d .. "/" .. f), support.read("deploy/agent/" .. f),
        "deploy/agent/" .. f .. " is stale: run eidos lua deploy/agent/generate.lua deploy/agent")
    end
    os.execute("rm -rf " .. support.q(d))
  end)

  it("hold the expected objects", function()
    local yaml = require("eidos.core.yaml")
    local docs = assert(yaml.load_all(support.read("deploy/agent/1-rbac.yaml")))
    local kinds = {}
    for _, o in ipairs(docs) do kinds[#kinds + 1] = o.kind end
    assert.are.same({ "Namespace", "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding" }, kinds)
    local job = assert(yaml.load(support.read("deploy/agent/2-job.yaml")))
    local c = job.spec.template.spec.containers[1]
    assert.is_false(c.securityContext.allowPrivilegeEscalation)
    assert.is_true(c.securityContext.readOnlyRootFilesystem)
    assert.are.same({ "ALL" }, c.securityContext.capabilities.drop)
    for _, m in ipairs(c.volumeMounts) do
      if m.name ~= "tmp" then assert.is_true(m.readOnly, m.name) end
    end
  end)
end)
