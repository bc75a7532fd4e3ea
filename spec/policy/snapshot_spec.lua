-- Snapshot policy and assembly in Lua: the redaction rule, the filter, the
-- flag parsers, the document built from fixture sysroots through the C
-- collectors (eidos.core.collect), the table view, and read-back through
-- eidos.snapshot.model (also of the real upstream snapshots in ../shared).
local redact = require("eidos.snapshot.redact")
local filter = require("eidos.snapshot.filter")
local collect = require("eidos.snapshot.collect")
local core = require("eidos.core.collect")
local support = require("support")

local ROOT = support.root
local BASIC = ROOT .. "/spec/fixtures/sysroot/basic"
local BIN = ROOT .. "/spec/fixtures/bin"

local function subtype(m, name)
  for _, st in ipairs(m.subtypes or {}) do if st.subtype == name then return st end end
end

local function measurement(d, t)
  for _, m in ipairs(d.measurements) do if m.type == t then return m end end
end

describe("snapshot redaction rule", function()
  it("recognises secret-looking names", function()
    for _, n in ipairs({ "api_token", "AWS_SECRET_ACCESS_KEY", "password", "db-password", "apiKey",
                         "ssh.key", "CREDENTIALS", "githubtoken", "adminPassword", "X_API_TOKENS" }) do
      assert.is_true(redact.secret_name(n), n)
    end
    for _, n in ipairs({ "console", "hugepagesz", "KUBELET_CONFIG_ARGS", "monkey", "keyboard",
                         "BOOT_IMAGE", "kubernetes.io/hostname", "", "nvidia.com/gpu.present" }) do
      assert.is_false(redact.secret_name(n), n)
    end
  end)

  it("redacts NAME=VALUE entries and --flag=value words, keeping the rest", function()
    assert.are.equal("[KUBELET_CONFIG_ARGS=--config=/x.yaml AWS_SECRET_ACCESS_KEY=<redacted>]",
      redact.entries("[KUBELET_CONFIG_ARGS=--config=/x.yaml AWS_SECRET_ACCESS_KEY=abc]"))
    assert.are.equal("/usr/bin/kubelet --token=<redacted> --v=2 --password= x",
      redact.entries("/usr/bin/kubelet --token=s3cr3t --v=2 --password= x"))
    assert.are.equal("PASSWORD=<redacted>", redact.entries("PASSWORD=hunter2"))
  end)

  it("applies per measurement: kernel arguments, unit environment, node labels", function()
    local os_m = { type = "OS", subtypes = {
      { subtype = "grub", data = { api_token = "x", ro = "", nokaslr = "" } },
      { subtype = "sysctl", data = { ["/proc/sys/kernel/keys/maxkeys"] = "200" } } } }
    assert.are.equal(1, redact.measurement(os_m))
    assert.are.equal("<redacted>", os_m.subtypes[1].data.api_token)
    assert.are.equal("", os_m.subtypes[1].data.ro)
    assert.are.equal("200", os_m.subtypes[2].data["/proc/sys/kernel/keys/maxkeys"])
    local sd = { type = "SystemD", subtypes = { { subtype = "kubelet.service", data = {
      Environment = "[A=1 MY_TOKEN=t]", ExecStart = "[[/bin/x [/bin/x --secret=s] false]]",
      Description = "password=not-an-entry-field" } } } }
    redact.measurement(sd)
    local d = sd.subtypes[1].data
    assert.are.equal("[A=1 MY_TOKEN=<redacted>]", d.Environment)
    assert.are.equal("[[/bin/x [/bin/x --secret=<redacted>] false]]", d.ExecStart)
    assert.are.equal("password=not-an-entry-field", d.Description)
    local k = { type = "K8s", subtypes = { { subtype = "node", data = {
      ["label.example.com/api-token"] = "abc", ["label.kubernetes.io/arch"] = "amd64" } } } }
    redact.measurement(k)
    assert.are.equal("<redacted>", k.subtypes[1].data["label.example.com/api-token"])
    assert.are.equal("amd64", k.subtypes[1].data["label.kubernetes.io/arch"])
  end)
end)

describe("snapshot filter", function()
  it("matches upstream's wildcard forms", function()
    assert.is_true(filter.match("*Credential*", "LoadCredentialEncrypted"))
    assert.is_true(filter.match("Id", "Id"))
    assert.is_false(filter.match("Id", "Ids"))
    assert.is_true(filter.match("/proc/sys/fs/quota/*", "/proc/sys/fs/quota/syncs"))
    assert.is_true(filter.match("*suffix", "a-suffix"))
    assert.is_false(filter.match("*suffix", "suffix-a"))
    assert.is_true(filter.match("a*b*c", "a-b-c"))
    assert.is_false(filter.match("a*b*c", "a-c-b"))
    assert.is_false(filter.match("ab*ba", "aba"))
  end)

  it("drops volatile sysctls, grub root and upstream's SystemD keys", function()
    local m = { type = "OS", subtypes = {
      { subtype = "grub", data = { root = "UUID=x", ro = "" } },
      { subtype = "sysctl", data = { ["/proc/sys/kernel/random/uuid"] = "u", ["/proc/sys/vm/swappiness"] = "60" } } } }
    assert.are.equal(2, filter.measurement(m))
    assert.is_nil(m.subtypes[1].data.root)
    assert.are.equal("60", m.subtypes[2].data["/proc/sys/vm/swappiness"])
    local s = { type = "SystemD", subtypes = { { subtype = "x.service", data = {
      Id = "x", LoadCredential = "[]", ActiveState = "active" } } } }
    filter.measurement(s)
    assert.are.same({ ActiveState = "active" }, s.subtypes[1].data)
  end)
end)

describe("snapshot flag parsing", function()
  it("parses measurement types case-insensitively and rejects unknown ones", function()
    local set = collect.parse_types({ "gpu,OS", "systemd" })
    assert.are.same({ GPU = true, OS = true, SystemD = true }, set)
    assert.is_nil(collect.parse_types({}))
    local ok, e = pcall(collect.parse_types, { "GPU,Bogus" }, "only")
    assert.is_false(ok)
    assert.are.equal("invalid", e.code)
    assert.truthy(e.msg:find('"Bogus"', 1, true) and e.msg:find("NodeTopology", 1, true), e.msg)
  end)
end)

describe("eidos.core.collect", function()
  it("returns records in the fixed order with reasons", function()
    local r = core.run({ sysroot = BASIC, nvml_lib = "", path = BIN })
    local types = {}
    for i, rec in ipairs(r) do types[i] = rec.type end
    assert.are.same({ "K8s", "GPU", "OS", "SystemD", "NodeTopology" }, types)
    assert.are.equal("unavailable", r[1].status)
    assert.are.equal("ok", r[2].status)
    assert.are.equal(2, subtype(r[2].measurement, "smi").data["gpu-count"])
    assert.are.equal("unavailable", r[4].status)
    assert.truthy(r[4].reason:find("D-Bus", 1, true))
    assert.are.equal("ok", r[5].status)
  end)

  it("raises on bad options", function()
    assert.has_error(function() core.run({ only = { "gpu" } }) end)
    assert.has_error(function() core.run({ timeout_ms = -1 }) end)
    assert.has_error(function() core.run({ units = "x" }) end)
    assert.has_error(function() core.run({ k8s = function() end }) end)
  end)

  it("runs in the background between start and wait, once", function()
    local run = core.start({ sysroot = BASIC, only = { "OS" } })
    local r = run:wait()
    assert.are.equal(1, #r)
    assert.are.equal("OS", r[1].type)
    assert.has_error(function() run:wait() end)
    assert.are.equal(0, #core.run({ only = { "OS" }, exclude = { "OS" } }))
  end)
end)

describe("snapshot document", function()
  local function build(extra)
    local o = { sysroot = BASIC, nvml_lib = "", path = BIN, timestamp = "2026-01-02T15:04:05Z",
                version = "9.9.9", node = "node-a" }
    for k, v in pairs(extra or {}) do o[k] = v end
    return collect.collect(o)
  end

  it("has the header, the fixed order and unavailable records", function()
    local d, records = build()
    assert.are.equal("Snapshot", d.kind)
    assert.are.equal("eidos.nvidia.com/v1alpha1", d.apiVersion)
    assert.are.same({ ["source-node"] = "node-a", timestamp = "2026-01-02T15:04:05Z", version = "9.9.9" },
      { ["source-node"] = d.metadata["source-node"], timestamp = d.metadata.timestamp, version = d.metadata.version })
    local types = {}
    for i, m in ipairs(d.measurements) do types[i] = m.type end
    assert.are.same({ "K8s", "GPU", "OS", "SystemD", "NodeTopology" }, types)
    local k8s = d.measurements[1]
    assert.are.equal("unavailable", k8s.status)
    assert.is_nil(k8s.subtypes)
    assert.truthy(k8s.reason ~= "")
    local sd = measurement(d, "SystemD")
    assert.are.equal("unavailable", sd.status)
    assert.are.equal(5, #records)
  end)

  it("filters and redacts", function()
    local d = build()
    local grub = subtype(measurement(d, "OS"), "grub").data
    assert.is_nil(grub.root)
    assert.are.equal("<redacted>", grub.api_token)
    assert.are.equal("tty1", grub.console)
    local sysctl = subtype(measurement(d, "OS"), "sysctl").data
    assert.is_nil(sysctl["/proc/sys/kernel/random/uuid"])
    assert.is_nil(sysctl["/proc/sys/fs/file-nr"])
    assert.are.equal("#1 SMP PREEMPT_DYNAMIC Fri Apr 11 18:03:28 UTC 2025", sysctl["/proc/sys/kernel/version"])
  end)

  it("keeps subtypes in collector order and leaves empty context out", function()
    local d = build({ types = { GPU = true, NodeTopology = true } })
    assert.are.equal(2, #d.measurements)
    local gpu = d.measurements[1]
    assert.are.same({ "smi", "gpu-0", "gpu-1" },
      { gpu.subtypes[1].subtype, gpu.subtypes[2].subtype, gpu.subtypes[3].subtype })
    assert.are.equal("nvidia-smi", gpu.subtypes[1].context.source)
    assert.is_nil(gpu.subtypes[2].context)
    assert.are.equal(2, collect.gpu_count(d))
    local topo = d.measurements[2]
    assert.are.equal(3, subtype(topo, "numa").data["node-count"])
    assert.are.equal(1, subtype(topo, "gpu").data["0000:05:00.0.numa-node"])
  end)

  it("reports failures for --fail-fast, subtype errors included", function()
    local tmp = support.tmpdir()
    local _, records = collect.collect({ sysroot = tmp, types = { OS = true, SystemD = true },
                                         timestamp = "2026-01-02T15:04:05Z", node = "n" })
    local f = collect.failures(records)
    local what = {}
    for _, x in ipairs(f) do what[#what + 1] = x.what end
    assert.are.same({ "OS.grub", "OS.sysctl", "OS.kmod", "OS.release", "SystemD" }, what)
    assert.are.equal("unavailable", f[5].code)
    os.execute("rm -rf " .. support.q(tmp))
  end)

  it("takes the node name from the environment, then the sysroot", function()
    local tmp = support.tmpdir()
    os.execute("mkdir -p " .. support.q(tmp .. "/etc"))
    support.write(tmp .. "/etc/hostname", "gpu-node-7\n")
    local env_name = os.getenv("NODE_NAME") or os.getenv("KUBERNETES_NODE_NAME") or os.getenv("HOSTNAME")
    assert.are.equal(env_name or "gpu-node-7", collect.node_name(tmp))
    os.execute("rm -rf " .. support.q(tmp))
  end)

  it("renders a table with one aligned section per measurement", function()
    local d = build({ types = { OS = true, SystemD = true } })
    local text = require("eidos.snapshot.view").render(d)
    assert.truthy(text:find("\nOS\n", 1, true), text)
    assert.truthy(text:find("\nSystemD: unavailable (", 1, true), text)
    -- the KEY column starts at the same offset on every row of a section
    local first
    for line in text:gmatch("[^\n]+") do
      if line:find("^  grub ") or line:find("^  kmod ") or line:find("^  SUBTYPE ") then
        local s = line:match("^  (%S+%s+)%S")
        first = first or #s
        assert.are.equal(first, #s, line)
      end
    end
    assert.truthy(first)
  end)

  it("is read back by the snapshot model, like the real upstream snapshots", function()
    local model = require("eidos.snapshot.model")
    local doc = require("eidos.doc")
    local d = build()
    local m = model.from_doc(doc.decode(doc.encode(d, "yaml"), "ours"), "ours")
    assert.truthy(m.types.gpu and m.types.os)
    local shared = support.shared()
    if not shared then
      pending("../shared fixtures absent")
      return
    end
    for _, f in ipairs({ "h100-eks-ubuntu.yaml", "gb200-eks-ubuntu.yaml" }) do
      local text = support.read(shared .. "/fixtures/snapshots/" .. f)
      local up = model.from_doc(doc.decode(text, f), f)
      assert.truthy(up.types.gpu, f)
    end
  end)
end)
