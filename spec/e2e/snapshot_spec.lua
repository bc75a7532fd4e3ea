-- `eidos snapshot` as a user runs it, on fixture sysroots with a fake
-- nvidia-smi on PATH (spec/fixtures/bin) and the fake NVML library of the
-- build (libfakenvml.so, cmake/targets/fakenvml.cmake).
local support = require("support")
local cjson = require("cjson")
local doc = require("eidos.doc")

local ROOT = support.root
local BASIC = ROOT .. "/spec/fixtures/sysroot/basic"
local BIN = ROOT .. "/spec/fixtures/bin"
local TS = "2026-01-02T15:04:05Z"

local function env(extra)
  local e = { PATH = BIN .. ":" .. (os.getenv("PATH") or "/usr/bin:/bin"), NODE_NAME = "node-a",
              EIDOS_NVML_LIB = "/nonexistent/libnvidia-ml.so.1" }
  for k, v in pairs(extra or {}) do e[k] = v end
  return e
end

local function snap(args, extra)
  local a = { "snapshot", "--sysroot", BASIC }
  for _, x in ipairs(args or {}) do a[#a + 1] = x end
  return support.run(a, { env = env(extra) })
end

local function measurement(d, t)
  for _, m in ipairs(d.measurements) do if m.type == t then return m end end
end

local function subtype(m, name)
  for _, st in ipairs(m and m.subtypes or {}) do if st.subtype == name then return st end end
end

local function now_ms()
  local p = io.popen("date +%s%3N")
  local t = tonumber(p:read("l"))
  p:close()
  return t
end

describe("eidos snapshot", function()
  it("prints a Snapshot in the fixed order, best effort", function()
    local r = snap({ "--timestamp", TS })
    assert.are.equal(0, r.code, r.err)
    local d = doc.decode(r.out, "snapshot")
    assert.are.equal("Snapshot", d.kind)
    assert.are.equal("eidos.nvidia.com/v1alpha1", d.apiVersion)
    assert.are.equal(TS, d.metadata.timestamp)
    assert.are.equal("node-a", d.metadata["source-node"])
    assert.truthy(d.metadata.version)
    local types = {}
    for i, m in ipairs(d.measurements) do types[i] = m.type end
    assert.are.same({ "K8s", "GPU", "OS", "SystemD", "NodeTopology" }, types)
    assert.are.equal("unavailable", measurement(d, "SystemD").status)
    assert.truthy(measurement(d, "SystemD").reason:find("D-Bus", 1, true))
    local smi = subtype(measurement(d, "GPU"), "smi")
    assert.are.equal(2, smi.data["gpu-count"])
    assert.are.equal("nvidia-smi", smi.context.source)
    assert.are.equal("ubuntu", subtype(measurement(d, "OS"), "release").data.ID)
  end)

  it("reads the real 8xH100 nvidia-smi output through PATH", function()
    local shared = support.shared()
    if not shared then return pending("../shared fixtures absent") end
    local r = snap({ "--only", "GPU", "-t", "json", "--timestamp", TS },
      { EIDOS_FIXTURE_SMI_XML = shared .. "/fixtures/nvidia-smi/h100x8-q-x.xml" })
    assert.are.equal(0, r.code, r.err)
    local d = cjson.decode(r.out)
    assert.are.equal(1, #d.measurements)
    local gpu = d.measurements[1]
    local smi = subtype(gpu, "smi").data
    assert.are.equal(8, smi["gpu-count"])
    assert.are.equal("570.86.15", smi.driver)
    assert.are.equal("570.86.15", smi["driver-version"])
    assert.are.equal("12.8", smi["cuda-version"])
    assert.are.equal("NVIDIA H100 80GB HBM3", smi["gpu.model"])
    assert.are.equal(9, #gpu.subtypes)
    local uuids = {}
    for i = 0, 7 do
      local g = subtype(gpu, "gpu-" .. i).data
      assert.are.equal(81559, g["memory-total-mib"])
      assert.are.equal("Disabled", g["mig-mode"])
      assert.is_nil(uuids[g.uuid])
      uuids[g.uuid] = true
    end
  end)

  it("uses NVML first when the driver library loads", function()
    local lib = support.build .. "/libfakenvml.so"
    if not support.exists(lib) then return pending("libfakenvml.so not built") end
    if lib:sub(1, 1) ~= "/" then lib = ROOT .. "/" .. lib end
    local r = snap({ "--only", "GPU", "-t", "json" }, { EIDOS_NVML_LIB = lib })
    assert.are.equal(0, r.code, r.err)
    local gpu = cjson.decode(r.out).measurements[1]
    local smi = subtype(gpu, "smi")
    assert.are.equal("nvml", smi.context.source)
    assert.are.equal("575.51.03", smi.data.driver)
    assert.are.equal("12.9", smi.data["cuda-version"])
    assert.are.equal("Enabled", subtype(gpu, "gpu-1").data["mig-mode"])
  end)

  it("gives gpu-count 0 with a reason when there is no driver", function()
    local r = support.run({ "snapshot", "--sysroot", BASIC, "--only", "GPU", "-t", "json" },
      { env = { PATH = "/usr/bin:/bin", EIDOS_NVML_LIB = "/nonexistent/lib.so" } })
    assert.are.equal(0, r.code, r.err)
    local smi = subtype(cjson.decode(r.out).measurements[1], "smi")
    assert.are.equal(0, smi.data["gpu-count"])
    assert.truthy(smi.context.reason:find("nvidia-smi not found", 1, true), smi.context.reason)
    r = support.run({ "snapshot", "--sysroot", BASIC, "--only", "GPU", "--require-gpu" },
      { env = { PATH = "/usr/bin:/bin", EIDOS_NVML_LIB = "/nonexistent/lib.so" } })
    assert.are.equal(3, r.code)
    assert.truthy(r.err:find("--require-gpu", 1, true), r.err)
    assert.are.equal("", r.out)
    r = snap({ "--only", "GPU", "--require-gpu" })
    assert.are.equal(0, r.code, r.err)
  end)

  it("does not hang on a collector that hangs: best effort records the timeout, --fail-fast exits 5", function()
    local t0 = now_ms()
    local r = snap({ "--only", "GPU,OS", "--gpu-timeout", "300ms", "-t", "json" },
      { EIDOS_FIXTURE_SMI_MODE = "hang" })
    local took = now_ms() - t0
    assert.are.equal(0, r.code, r.err)
    assert.truthy(took < 3000, "took " .. took .. " ms")
    local d = cjson.decode(r.out)
    assert.are.equal("timeout", d.measurements[1].status)
    -- the reason names the time limit (the collector's, or the time the killed
    -- process ran, which can be a few ms over it on a loaded machine)
    local ms = tonumber(d.measurements[1].reason:match("within (%d+) ms"))
    assert.truthy(ms and ms >= 300 and ms < 3000, d.measurements[1].reason)
    assert.is_nil(d.measurements[2].status)
    -- a sleep length no other run on this machine uses, so pgrep sees only ours
    local secs = tostring(40000 + math.random(0, 59999))
    r = snap({ "--only", "GPU", "--timeout", "300ms", "--fail-fast" },
      { EIDOS_FIXTURE_SMI_MODE = "hang", EIDOS_FIXTURE_SMI_SLEEP = secs })
    assert.are.equal(5, r.code, r.err)
    assert.truthy(r.err:find("GPU", 1, true) and r.err:find("--fail-fast", 1, true), r.err)
    assert.are.equal("", r.out)
    -- the hung process was killed with the run, not left behind
    local p = io.popen("pgrep -f '[s]leep " .. secs .. "' || true")
    local left = p:read("a")
    p:close()
    assert.are.equal("", left)
  end)

  it("--fail-fast turns an unavailable measurement into exit 6", function()
    local r = snap({ "--only", "SystemD", "--fail-fast" })
    assert.are.equal(6, r.code, r.err)
    assert.truthy(r.err:find("SystemD", 1, true), r.err)
    r = snap({ "--only", "OS", "--fail-fast" })
    assert.are.equal(0, r.code, r.err)
  end)

  it("is byte-identical for the same sysroot and pinned time", function()
    local a = snap({ "--timestamp", TS })
    local b = snap({ "--timestamp", TS })
    assert.are.equal(0, a.code, a.err)
    assert.are.equal(a.out, b.out)
    local c = snap({}, { SOURCE_DATE_EPOCH = "1767366245" })
    assert.are.equal(a.out, c.out)
    local j1 = snap({ "-t", "json", "--timestamp", TS })
    local j2 = snap({ "-t", "json", "--timestamp", TS })
    assert.are.equal(j1.out, j2.out)
  end)

  it("selects measurements with --only and --exclude and rejects unknown ones", function()
    local r = snap({ "--only", "os,NodeTopology", "--exclude", "nodetopology", "-t", "json" })
    assert.are.equal(0, r.code, r.err)
    local d = cjson.decode(r.out)
    assert.are.equal(1, #d.measurements)
    assert.are.equal("OS", d.measurements[1].type)
    r = snap({ "--only", "GPU,Disk" })
    assert.are.equal(2, r.code)
    assert.truthy(r.err:find('"Disk"', 1, true) and r.err:find("NodeTopology", 1, true), r.err)
    r = snap({ "--timeout", "soon" })
    assert.are.equal(2, r.code)
    r = snap({ "--timestamp", "yesterday" })
    assert.are.equal(2, r.code)
    r = support.run({ "snapshot", "--sysroot", "/nonexistent-root" }, { env = env() })
    assert.are.equal(2, r.code)
  end)

  it("takes the sysroot from EIDOS_SYSROOT", function()
    local r = support.run({ "snapshot", "--only", "OS", "-t", "json" }, { env = env({ EIDOS_SYSROOT = BASIC }) })
    assert.are.equal(0, r.code, r.err)
    local release = subtype(cjson.decode(r.out).measurements[1], "release").data
    assert.are.equal("noble", release.VERSION_CODENAME)
  end)

  it("redacts secrets in kernel arguments", function()
    local r = snap({ "--only", "OS" })
    assert.are.equal(0, r.code, r.err)
    assert.is_nil(r.out:find("s3cr3t", 1, true))
    assert.truthy(r.out:find("api_token: <redacted>", 1, true), r.out)
    assert.is_nil(r.out:find("PARTUUID", 1, true))
  end)

  it("prints a table with one section per measurement", function()
    local r = snap({ "-t", "table", "--timestamp", TS })
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find("node=node-a", 1, true))
    assert.truthy(r.out:find("\nGPU\n  SUBTYPE", 1, true), r.out)
    assert.truthy(r.out:find("\nSystemD: unavailable (", 1, true), r.out)
    assert.truthy(r.out:find("gpu-count", 1, true))
  end)

  it("writes a file that the snapshot readers accept", function()
    local tmp = support.tmpdir()
    local path = tmp .. "/snap.yaml"
    local r = snap({ "-o", path, "--timestamp", TS })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("", r.out)
    local text = support.read(path)
    local model = require("eidos.snapshot.model")
    local m = model.from_doc(doc.decode(text, path), path)
    assert.truthy(m.types.gpu)
    -- the commands that read snapshots, when this build has them
    local h = support.run({ "recipe", "--help" })
    if h.code == 0 and h.out:find("--snapshot", 1, true) then
      local rr = support.run({ "recipe", "--snapshot", path, "-t", "json" })
      assert.are.equal(0, rr.code, rr.err)
      assert.are.equal("RecipeResult", cjson.decode(rr.out).kind)
    end
    h = support.run({ "validate", "--help" })
    if h.code == 0 and h.out:find("--snapshot", 1, true) then
      local rv = support.run({ "validate", "--snapshot", path, "-t", "json", "--fail-on-error",
        "-c", "GPU.smi.driver-version >= 570", "-c", "GPU.smi.gpu.model == NVIDIA A100-SXM4-80GB",
        "-c", "OS.release.VERSION_ID == 24.04", "-c", "GPU.gpu-1.mig-mode == N/A" })
      assert.are.equal(0, rv.code, rv.err .. rv.out)
      assert.truthy(rv.out:find('"passed"', 1, true), rv.out)
    end
    os.execute("rm -rf " .. support.q(tmp))
  end)
end)
