-- eidos.recipe.criteria: normalising (case, aliases), unknown values with
-- the accepted list, the explicit-intent match in both directions, nodes,
-- specificity, RecipeCriteria documents, and snapshot -> criteria rules.
local crit = require("eidos.recipe.criteria")
local model = require("eidos.snapshot.model")
local yaml = require("eidos.core.yaml")

local function invalid(f)
  local ok, err = pcall(f)
  assert.is_false(ok)
  assert.are.equal("invalid", err.code, tostring(err))
  return err.msg
end

describe("eidos.recipe.criteria", function()
  describe("new", function()
    it("fills every field, any when unset, nodes 0", function()
      assert.are.same({ service = "any", accelerator = "any", intent = "any", os = "any", platform = "any", nodes = 0 },
        crit.new({}))
    end)

    it("is case-insensitive, trims, and maps aliases", function()
      local c = crit.new({ service = " EKS ", accelerator = "GB200", os = "al2023", intent = "Training",
                           platform = "KubeFlow", nodes = "8" })
      assert.are.same({ service = "eks", accelerator = "gb200", os = "amazonlinux", intent = "training",
                        platform = "kubeflow", nodes = 8 }, c)
      assert.are.equal("amazonlinux", crit.new({ os = "al2" }).os)
      assert.are.equal("amazonlinux", crit.new({ os = "amzn" }).os)
      for _, s in ipairs({ "self-managed", "self", "vanilla", "any", "" }) do
        assert.are.equal("any", crit.new({ service = s }).service)
      end
    end)

    it("rejects unknown values naming the value and every accepted one", function()
      local msg = invalid(function() crit.new({ service = "eksx" }) end)
      assert.matches('invalid service "eksx"', msg, 1, true)
      for _, v in ipairs({ "eks", "gke", "aks", "oke", "kind", "any", "self-managed" }) do
        assert.matches(v, msg, 1, true)
      end
      assert.matches("h100", invalid(function() crit.new({ accelerator = "t4" }) end), 1, true)
      assert.matches("amazonlinux", invalid(function() crit.new({ os = "windows" }) end), 1, true)
      assert.matches("training", invalid(function() crit.new({ intent = "serving" }) end), 1, true)
      assert.matches("kubeflow", invalid(function() crit.new({ platform = "ray" }) end), 1, true)
      assert.matches(">= 0", invalid(function() crit.new({ nodes = -1 }) end), 1, true)
      assert.matches("nodes", invalid(function() crit.new({ nodes = "many" }) end), 1, true)
    end)

    it("empty and string", function()
      assert.is_true(crit.empty(crit.new({})))
      assert.is_false(crit.empty(crit.new({ nodes = 2 })))
      assert.are.equal("any", crit.string(crit.new({})))
      assert.are.equal("service=eks, intent=training, nodes=4",
        crit.string(crit.new({ intent = "training", service = "eks", nodes = 4 })))
    end)
  end)

  describe("match (explicit intent)", function()
    local q = function(t) return crit.new(t) end
    local o = function(t) return crit.overlay(t) end

    it("an overlay field that is unset or any matches every query value", function()
      assert.is_true(crit.match(o({ service = "eks" }), q({ service = "eks", accelerator = "h100", intent = "training" })))
      assert.is_true(crit.match(o({ service = "eks", accelerator = "any" }), q({ service = "eks", accelerator = "gb200" })))
      assert.is_true(crit.match(o({ intent = "any" }), q({})))
      assert.is_true(crit.match(o({ intent = "any" }), q({ service = "gke", os = "cos" })))
      assert.is_true(crit.match(o({ service = "" }), q({ service = "aks" })))
    end)

    it("a query field that is any matches only overlays that leave it unset", function()
      assert.is_false(crit.match(o({ service = "eks", accelerator = "gb200" }), q({ service = "eks" })))
      assert.is_false(crit.match(o({ service = "eks", intent = "training" }), q({ service = "eks" })))
      assert.is_false(crit.match(o({ os = "ubuntu" }), q({})))
      assert.is_true(crit.match(o({ service = "eks" }), q({ service = "eks" })))
    end)

    it("specified fields must be equal; overlay values are normalised like query values", function()
      assert.is_false(crit.match(o({ service = "eks" }), q({ service = "gke" })))
      assert.is_true(crit.match(o({ service = "EKS", os = "al2023" }), q({ service = "eks", os = "amazonlinux" })))
      -- an unknown overlay value never matches a valid query
      assert.is_false(crit.match(o({ service = "ekz" }), q({ service = "eks" })))
    end)

    it("overlays without criteria never match", function()
      assert.is_false(crit.match(o(nil), q({})))
      assert.is_false(crit.match(nil, q({ service = "eks" })))
    end)

    it("nodes: overlay 0 matches any count, an overlay count only that count", function()
      assert.is_true(crit.match(o({ service = "eks" }), q({ service = "eks", nodes = 8 })))
      assert.is_true(crit.match(o({ service = "eks", nodes = 8 }), q({ service = "eks", nodes = 8 })))
      assert.is_false(crit.match(o({ service = "eks", nodes = 8 }), q({ service = "eks", nodes = 4 })))
      assert.is_false(crit.match(o({ service = "eks", nodes = 8 }), q({ service = "eks" })))
    end)
  end)

  it("specificity counts specified fields, \"\" and any alike, nodes as one", function()
    assert.are.equal(0, crit.specificity(crit.overlay({ intent = "any" })))
    assert.are.equal(0, crit.specificity(crit.overlay({ service = "", intent = "any" })))
    assert.are.equal(1, crit.specificity(crit.overlay({ service = "eks" })))
    assert.are.equal(3, crit.specificity(crit.overlay({ service = "eks", accelerator = "h100", intent = "training" })))
    assert.are.equal(2, crit.specificity(crit.overlay({ service = "eks", nodes = 8 })))
    assert.are.equal(6, crit.specificity(crit.new({ service = "eks", accelerator = "h100", intent = "training",
      os = "ubuntu", platform = "kubeflow", nodes = 2 })))
  end)

  describe("RecipeCriteria documents", function()
    it("accept every kind spelling and apiVersion, and missing headers", function()
      for _, k in ipairs({ "RecipeCriteria", "recipeCriteria" }) do
        for _, a in ipairs({ "eidos.nvidia.com/v1alpha1", "aicr.nvidia.com/v1alpha1", "cns.nvidia.com/v1alpha1" }) do
          local raw = crit.from_doc({ kind = k, apiVersion = a, spec = { service = "eks", nodes = 4 } })
          assert.are.same({ service = "eks", nodes = 4 }, raw)
        end
      end
      assert.are.same({}, crit.from_doc({ spec = {} }))
      assert.are.same({}, crit.from_doc({ kind = "RecipeCriteria" }))
    end)

    it("reject other kinds, apiVersions and unknown fields, listing what is accepted", function()
      assert.matches("RecipeCriteria, recipeCriteria", invalid(function() crit.from_doc({ kind = "Recipe" }) end), 1, true)
      assert.matches("aicr.nvidia.com/*",
        invalid(function() crit.from_doc({ apiVersion = "example.com/v1" }) end), 1, true)
      -- every version of a known group reads
      assert.are.same({ os = "ubuntu" }, crit.from_doc({ apiVersion = "aicr.nvidia.com/v1", spec = { os = "ubuntu" } }))
      assert.matches("aicr.nvidia.com/*",
        invalid(function() crit.from_doc({ apiVersion = "aicr.nvidia.com/latest" }) end), 1, true)
      assert.matches("unknown criteria field(s) gpu",
        invalid(function() crit.from_doc({ spec = { gpu = "h100" } }) end), 1, true)
      assert.matches("list", invalid(function() crit.from_doc(setmetatable({ 1 }, require("eidos.doc").list_mt)) end),
        1, true)
    end)
  end)

  describe("from_snapshot", function()
    local function snap(measurements)
      return model.from_doc({ kind = "Snapshot", apiVersion = "eidos.nvidia.com/v1alpha1", measurements = measurements })
    end
    local function m(t, sub, data) return { type = t, subtypes = { { subtype = sub, data = data } } } end

    it("reads the service from the Kubernetes version's vendor suffix", function()
      for v, want in pairs({ ["v1.33.5-eks-3025e55"] = "eks", ["v1.30.5-gke.1014001"] = "gke",
                             ["v1.31.1-aks-abc"] = "aks", ["v1.32.0"] = nil }) do
        local c = crit.from_snapshot(snap({ m("K8s", "server", { version = v }) }))
        assert.are.equal(want, c.service, v)
      end
    end)

    it("lets the version suffix win over a service key, and detects kind from the node provider", function()
      local c = crit.from_snapshot(snap({ { type = "K8s", subtypes = {
        { subtype = "server", data = { version = "v1.33.5-eks-1", service = "gke" } } } } }))
      assert.are.equal("eks", c.service)
      c = crit.from_snapshot(snap({ m("K8s", "server", { service = "OKE" }) }))
      assert.are.equal("oke", c.service)
      c = crit.from_snapshot(snap({ { type = "K8s", subtypes = {
        { subtype = "server", data = { version = "v1.32.2" } }, { subtype = "node", data = { provider = "kind" } } } } }))
      assert.are.equal("kind", c.service)
      -- a cloud provider id alone does not make a managed service
      c = crit.from_snapshot(snap({ { type = "K8s", subtypes = {
        { subtype = "server", data = { version = "v1.32.2" } }, { subtype = "node", data = { provider = "eks" } } } } }))
      assert.is_nil(c.service)
    end)

    it("maps GPU models, gb200 before b200, gh200 not as h200, unknown models left unset", function()
      local cases = {
        ["NVIDIA H100 80GB HBM3"] = "h100", ["h100-sxm"] = "h100", ["NVIDIA A100-SXM4-80GB"] = "a100",
        ["NVIDIA GB200"] = "gb200", ["NVIDIA-B200"] = "b200", ["NVIDIA B200"] = "b200", ["NVIDIA L40S"] = "l40",
        ["NVIDIA H200"] = "h200", ["NVIDIA GH200 480GB"] = false, ["NVIDIA T4"] = false,
      }
      for model_name, want in pairs(cases) do
        local c = crit.from_snapshot(snap({ m("GPU", "smi", { ["gpu.model"] = model_name }) }))
        assert.are.equal(want or nil, c.accelerator, model_name)
      end
      -- the short key of older collectors
      local c = crit.from_snapshot(snap({ m("GPU", "smi", { model = "NVIDIA A100" }) }))
      assert.are.equal("a100", c.accelerator)
    end)

    it("reads upstream's GPU.device subtype (model, gpu.model) like GPU.smi", function()
      local c, why = crit.from_snapshot(snap({ m("GPU", "device", { model = "NVIDIA H100 80GB HBM3" }) }))
      assert.are.equal("h100", c.accelerator)
      assert.are.same({ "GPU.device.model", "NVIDIA H100 80GB HBM3" }, { why[1].path, why[1].actual })
      c = crit.from_snapshot(snap({ m("GPU", "device", { ["gpu.model"] = "NVIDIA GB200" }) }))
      assert.are.equal("gb200", c.accelerator)
      -- smi first: a later subtype does not override it
      c = crit.from_snapshot(snap({ { type = "GPU", subtypes = {
        { subtype = "smi", data = { ["gpu.model"] = "NVIDIA A100-SXM4-80GB" } },
        { subtype = "device", data = { model = "NVIDIA H100" } } } } }))
      assert.are.equal("a100", c.accelerator)
    end)

    it("without a driver: the GFD label nvidia.com/gpu.product, then the PCI device id (upstream #1351)", function()
      -- eidos' K8s.node.gpu-product
      local c, why = crit.from_snapshot(snap({ m("GPU", "smi", { ["gpu-count"] = 0 }),
        m("K8s", "node", { ["gpu-product"] = "NVIDIA-L40S" }) }))
      assert.are.equal("l40", c.accelerator)
      assert.are.equal("K8s.node.gpu-product", why[1].path)
      -- upstream's NodeTopology.label, "value|nodes"
      c = crit.from_snapshot(snap({ m("NodeTopology", "label",
        { ["nvidia.com/gpu.product"] = "NVIDIA-H100-80GB-HBM3|gpu-node-1,gpu-node-2" }) }))
      assert.are.equal("h100", c.accelerator)
      -- eidos' PCI bus scan: the first NVIDIA device id in bus order that is known
      for id, want in pairs({ ["0x2330"] = "h100", ["0x2335"] = "h200", ["0x20B2"] = "a100", ["0x26b9"] = "l40",
                              ["0x2901"] = "b200", ["0x2941"] = "gb200", ["0x2342"] = false, ["0x1eb8"] = false }) do
        c = crit.from_snapshot(snap({ m("NodeTopology", "gpu", { ["gpu-count"] = 2,
          ["0000:0a:00.0.device-id"] = id, ["0000:0a:00.0.class"] = "0x030200" }) }))
        assert.are.equal(want or nil, c.accelerator, id)
      end
      c, why = crit.from_snapshot(snap({ m("NodeTopology", "gpu", {
        ["0000:1b:00.0.device-id"] = "0x20b2", ["0000:0a:00.0.device-id"] = "0x2330" }) }))
      assert.are.equal("h100", c.accelerator)
      assert.are.same({ "NodeTopology.gpu.0000:0a:00.0.device-id", "0x2330" }, { why[1].path, why[1].actual })
      -- a model name wins over the label and the bus
      c = crit.from_snapshot(snap({ m("GPU", "smi", { ["gpu.model"] = "NVIDIA B200" }),
        m("NodeTopology", "gpu", { ["0000:0a:00.0.device-id"] = "0x2330" }) }))
      assert.are.equal("b200", c.accelerator)
    end)

    it("reads the OS from os-release ID through the aliases; unknown IDs stay unset", function()
      for id, want in pairs({ ubuntu = "ubuntu", amzn = "amazonlinux", rhel = "rhel", cos = "cos", debian = false }) do
        local c = crit.from_snapshot(snap({ m("OS", "release", { ID = id }) }))
        assert.are.equal(want or nil, c.os, id)
      end
    end)

    it("never derives intent, platform or nodes, and says where each value came from", function()
      local d = yaml.load(io.open("spec/fixtures/snapshots/recipe-eks-h100.yaml"):read("a"))
      local c, why = crit.from_snapshot(model.from_doc(d))
      assert.are.same({ service = "eks", accelerator = "h100", os = "ubuntu" }, c)
      assert.are.equal(3, #why)
      assert.are.same({ field = "service", value = "eks", path = "K8s.server.version", actual = "v1.31.4-eks-1234567" },
        why[1])
    end)
  end)
end)
