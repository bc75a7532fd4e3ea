-- eidos.snapshot.model: reading Snapshot documents, path lookup with
-- reasons and nearest paths, value formatting.
local model = require("eidos.snapshot.model")
local yaml = require("eidos.core.yaml")
local support = require("support")

local function load(path)
  return assert(yaml.load(assert(support.read(path))))
end

local SMALL = "spec/fixtures/snapshots/validate-small.yaml"

describe("eidos.snapshot.model", function()
  local m
  setup(function() m = model.from_doc(load(SMALL), SMALL) end)

  describe("from_doc", function()
    for _, api in ipairs({ "cns.nvidia.com/v1alpha1", "aicr.nvidia.com/v1alpha1", "eidos.nvidia.com/v1alpha1" }) do
      it("reads apiVersion " .. api, function()
        local d = { kind = "Snapshot", apiVersion = api, measurements = {
          { type = "K8s", subtypes = { { subtype = "server", data = { version = "v1.33.5" } } } } } }
        assert.are.equal("v1.33.5", model.lookup(model.from_doc(d), "K8s.server.version"))
      end)
    end

    local bad = {
      { "a string", "expected a Snapshot document" },
      { { kind = "RecipeResult", apiVersion = "eidos.nvidia.com/v1alpha1" }, 'kind is "RecipeResult"' },
      { { kind = "Snapshot", apiVersion = "v1" }, 'apiVersion "v1" is not supported (accepted: eidos.nvidia.com/*' },
      { { apiVersion = "aicr.nvidia.com/v1alpha1" }, "not a Snapshot document (no kind and no measurements list)" },
      { { kind = "Snapshot", apiVersion = "cns.nvidia.com/v1alpha1", measurements = { x = 1 } }, "measurements must be a list" },
      { { kind = "Snapshot", apiVersion = "cns.nvidia.com/v1alpha1", measurements = { { subtypes = {} } } },
        "measurements[0] has no type" },
      { { kind = "Snapshot", apiVersion = "cns.nvidia.com/v1alpha1", measurements = { { type = "OS", subtypes = { { data = {} } } } } },
        "subtypes[0] has no subtype name" },
      { { kind = "Snapshot", apiVersion = "cns.nvidia.com/v1alpha1",
          measurements = { { type = "OS", subtypes = { { subtype = "x", data = "y" } } } } }, "OS.x: data must be a map" },
    }
    for _, c in ipairs(bad) do
      it("refuses a bad document: " .. c[2], function()
        local ok, err = pcall(model.from_doc, c[1], "snap.yaml")
        assert.is_false(ok)
        assert.are.equal("invalid", err.code)
        assert.is_truthy(err.msg:find(c[2], 1, true), err.msg)
        assert.is_truthy(err.msg:find("snap.yaml", 1, true), err.msg)
      end)
    end

    it("reads upstream shapes: no kind/apiVersion, any version of a known group, subtypes written name:", function()
      -- upstream's readers check neither kind nor apiVersion (its chainsaw mock snapshot has neither)
      local mm = model.from_doc({ measurements = {
        { type = "OS", subtypes = { { name = "release", data = { ID = "ubuntu" } } } },
        { type = "K8s", subtypes = { { subtype = "server", data = { version = "v1.33.5-eks-1" } } } } } }, "s.yaml")
      assert.are.equal("ubuntu", model.lookup(mm, "OS.release.ID"))
      assert.are.equal("v1.33.5-eks-1", model.lookup(mm, "K8s.server.version"))
      for _, api in ipairs({ "aicr.nvidia.com/v1alpha1", "aicr.nvidia.com/v1", "aicr.nvidia.com/v1beta1",
                             "cns.nvidia.com/v1alpha1", "eidos.nvidia.com/v2" }) do
        mm = model.from_doc({ kind = "Snapshot", apiVersion = api, measurements = {} }, "s.yaml")
        assert.are.equal(api, mm.apiVersion)
      end
      -- subtype wins over name when both are written
      mm = model.from_doc({ measurements = { { type = "os", subtypes = {
        { subtype = "release", name = "other", data = { ID = "rhel" } } } } } })
      assert.are.equal("rhel", model.lookup(mm, "OS.release.ID"))
    end)

    it("accepts a snapshot without measurements", function()
      local e = model.from_doc({ kind = "Snapshot", apiVersion = "eidos.nvidia.com/v1alpha1" })
      local v, why = model.lookup(e, "K8s.server.version")
      assert.is_nil(v)
      assert.is_truthy(why:find("types: none", 1, true), why)
    end)

    it("keeps the first subtype of a name, and joins measurements of one type", function()
      local d = { kind = "Snapshot", apiVersion = "eidos.nvidia.com/v1alpha1", measurements = {
        { type = "OS", subtypes = { { subtype = "release", data = { ID = "ubuntu" } },
                                    { subtype = "release", data = { ID = "rhel" } } } },
        { type = "os", subtypes = { { subtype = "grub", data = { ro = "" } } } } } }
      local mm = model.from_doc(d)
      assert.are.equal("ubuntu", model.lookup(mm, "OS.release.ID"))
      assert.are.equal("", model.lookup(mm, "OS.grub.ro"))
    end)
  end)

  describe("split", function()
    it("splits on the first two dots only", function()
      assert.are.same({ "OS", "sysctl", "/proc/sys/kernel/osrelease" },
        { model.split("OS.sysctl./proc/sys/kernel/osrelease") })
      assert.are.same({ "GPU", "smi", "gpu.model" }, { model.split("GPU.smi.gpu.model") })
    end)
    for _, p in ipairs({ "K8s", "K8s.server", "K8s.server.", ".server.version", "K8s..version", "" }) do
      it(string.format("refuses %q", p), function()
        local t, msg = model.split(p)
        assert.is_nil(t)
        assert.is_truthy(msg:find("expected Type.subtype.key", 1, true), msg)
      end)
    end
  end)

  describe("lookup", function()
    local found = {
      { "K8s.server.version", "v1.33.5-eks-3025e55" },
      { "k8s.server.version", "v1.33.5-eks-3025e55" },
      { "K8S.server.version", "v1.33.5-eks-3025e55" },
      { "OS.sysctl./proc/sys/kernel/osrelease", "6.8.0-1028-aws" },
      { "OS.release.VERSION_ID", "24.04" },
      { "OS.grub.nokaslr", "" },
      { "OS.kmod.nvidia", "true" },
      { "OS.kmod.nvidia_peermem", "false" },
      { "GPU.smi.gpu-count", "4" },
      { "GPU.smi.gpu.model", "NVIDIA GB200" },
      { "GPU.smi.clocks.max-sm", "1980" },
      { "GPU.smi.mig-mode", "" },
      { "SystemD.containerd.service.ActiveState", "active" },
    }
    for _, c in ipairs(found) do
      it("finds " .. c[1], function()
        assert.are.equal(c[2], model.lookup(m, c[1]))
      end)
    end

    it("matches subtypes and keys exactly", function()
      assert.is_nil(model.lookup(m, "OS.Release.ID"))
      assert.is_nil(model.lookup(m, "OS.release.id"))
    end)

    local missing = {
      { "Foo.bar.baz", "no Foo measurement in the snapshot (types: K8s, OS, SystemD, GPU)", nil },
      { "OS.relase.ID", 'no subtype "relase" in the OS measurement (subtypes: release, sysctl, grub, kmod)', "OS.release.ID" },
      { "OS.release.VERSION", 'no key "VERSION" in OS.release', "OS.release.VERSION_ID" },
      { "OS.release.osrelease", 'no key "osrelease" in OS.release', "OS.sysctl./proc/sys/kernel/osrelease" },
      { "K8s.server.versoin", 'no key "versoin" in K8s.server', "K8s.server.version" },
      { "GPU.smi.driver-version", 'no key "driver-version" in GPU.smi', "GPU.smi.driver" },
      { "SystemD.containerd.service.ActiveStat", 'no key "ActiveStat" in SystemD.containerd.service',
        "SystemD.containerd.service.ActiveState" },
      { "GPU.smi.clocks", "GPU.smi.clocks is a map, not a single value", "GPU.smi.clocks.max-sm" },
    }
    for _, c in ipairs(missing) do
      it("explains a miss: " .. c[1], function()
        local v, why, near = model.lookup(m, c[1])
        assert.is_nil(v)
        assert.is_truthy(why:find(c[2], 1, true), why)
        assert.is_table(near)
        if c[3] then assert.are.equal(c[3], near[1]) end
        assert.is_true(#near <= 3)
      end)
    end

    it("explains a malformed path", function()
      local v, why, near = model.lookup(m, "K8s.server")
      assert.is_nil(v)
      assert.is_truthy(why:find('invalid path "K8s.server"', 1, true))
      assert.are.same({}, near)
    end)
  end)

  describe("scalar", function()
    local cases = {
      { "x", "x" }, { 8, "8" }, { -3, "-3" }, { 24.04, "24.04" }, { 1.3, "1.3" }, { 1000.0, "1000" },
      { 0.1, "0.1" }, { 1e300, "1e+300" }, { true, "true" }, { false, "false" }, { yaml.null, "" },
    }
    for _, c in ipairs(cases) do
      it(string.format("prints %s as %q", tostring(c[1]), c[2]), function()
        assert.are.equal(c[2], model.scalar(c[1]))
      end)
    end
    it("prints a list of scalars like the Go tool", function()
      assert.are.equal("[a 1 true]", model.scalar({ "a", 1, true }))
      assert.is_nil(model.scalar({ a = 1 }))
    end)
  end)

  describe("paths", function()
    it("lists every path in measurement order", function()
      local ps = model.paths(m)
      assert.are.equal("K8s.server.goVersion", ps[1])
      local set = {}
      for _, p in ipairs(ps) do set[p] = true end
      assert.is_true(set["OS.sysctl./proc/sys/kernel/osrelease"])
      assert.is_true(set["GPU.smi.clocks.max-sm"])
      assert.is_true(set["SystemD.containerd.service.ActiveState"])
      assert.is_nil(set["GPU.smi.clocks"])
    end)

    it("finds every listed path (real snapshots when ../shared is present)", function()
      for _, f in ipairs(support.snapshot_files(SMALL)) do
        local mm = model.from_doc(load(f), f)
        local ps = model.paths(mm)
        assert.is_true(#ps > 20)
        for _, p in ipairs(ps) do
          local v, why = model.lookup(mm, p)
          assert.is_string(v, p .. ": " .. tostring(why))
        end
      end
    end)
  end)
end)
