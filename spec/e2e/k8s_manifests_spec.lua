-- deploy/agent/*.yaml are generated from lua/eidos/k8s/agent.lua, and
-- deploy/agent/watch/*.yaml from lua/eidos/k8s/watch.lua; this checks they
-- are current (regenerate with `eidos lua deploy/agent/generate.lua
-- deploy/agent`) and well formed, and that the watch's RBAC is the least it
-- needs.
local support = require("support")

describe("deploy/agent manifests", function()
  it("match what eidos snapshot --deploy-agent creates", function()
    local d = support.tmpdir()
    local r = support.run({ "lua", "deploy/agent/generate.lua", d }, { env = { EIDOS_HOME = support.root } })
    assert.are.equal(0, r.code, r.err)
    for _, f in ipairs({ "1-rbac.yaml", "2-job.yaml", "watch/1-rbac.yaml", "watch/2-daemonset.yaml" }) do
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

  it("the watch DaemonSet: the agent's pod, restarted, with its own least RBAC", function()
    local yaml = require("eidos.core.yaml")
    local docs = assert(yaml.load_all(support.read("deploy/agent/watch/1-rbac.yaml")))
    local by, events = {}, {}
    for _, o in ipairs(docs) do
      -- the Role and RoleBinding in "default" are the events' (the API keeps
      -- the events about a Node there, and refuses them anywhere else)
      if o.metadata.namespace == "default" then events[o.kind] = o else by[o.kind] = o end
    end
    local function rules(o)
      local out = {}
      for _, r in ipairs(o.rules) do
        for _, res in ipairs(r.resources) do out[#out + 1] = res .. ":" .. table.concat(r.verbs, ",") end
      end
      table.sort(out)
      return out
    end
    assert.are.same({ "configmaps:get,create,update" }, rules(by.Role))
    assert.are.equal("eidos", by.Role.metadata.namespace)
    assert.are.same({ "events:create" }, rules(events.Role))
    assert.are.equal(events.Role.metadata.name, events.RoleBinding.roleRef.name)
    assert.are.same({ kind = "ServiceAccount", name = by.ServiceAccount.metadata.name, namespace = "eidos" },
      events.RoleBinding.subjects[1])
    assert.are.same({ "nodes:get" }, rules(by.ClusterRole))
    assert.are.equal(by.ServiceAccount.metadata.name, by.RoleBinding.subjects[1].name)
    assert.are.equal(by.ServiceAccount.metadata.name, by.ClusterRoleBinding.subjects[1].name)
    local ds = assert(yaml.load(support.read("deploy/agent/watch/2-daemonset.yaml")))
    assert.are.equal("DaemonSet", ds.kind)
    local spec = ds.spec.template.spec
    assert.are.equal("Always", spec.restartPolicy)
    assert.are.equal(by.ServiceAccount.metadata.name, spec.serviceAccountName)
    local c = spec.containers[1]
    local args = table.concat(c.args, " ")
    assert.truthy(args:find("snapshot --watch --interval 10m", 1, true), args)
    assert.truthy(args:find("-o cm://eidos/eidos-snapshot-$(NODE_NAME)", 1, true), args)
    assert.is_false(c.securityContext.allowPrivilegeEscalation)
    assert.are.same({ "ALL" }, c.securityContext.capabilities.drop)
    for k, v in pairs(ds.spec.selector.matchLabels) do assert.are.equal(v, ds.spec.template.metadata.labels[k], k) end
  end)
end)
