-- `eidos snapshot` on real machines: two fixture sysroots modelled on
-- machines the collectors met (spec/fixtures/sysroot/vm: a Firecracker VM
-- whose kernel command line carries init's arguments after "--" and whose
-- kernel has no loadable modules; spec/fixtures/sysroot/nonuma: a kernel
-- without NUMA support, no PCI bus, every kind of kernel-parameter quoting),
-- then the collectors on this machine's own /proc and /sys, checked against
-- invariants that hold on any Linux host (what each key must be, where it
-- must come from, that the same node gives the same snapshot).
local support = require("support")
local doc = require("eidos.doc")
local fs = require("eidos.core.fs")

local ROOT = support.root
local FIX = ROOT .. "/spec/fixtures/sysroot"
local TS = "2026-01-02T15:04:05Z"

-- fixtures: no GPU tools; this machine: its own PATH and NVML
local function env(machine)
  if machine then return {} end
  return { PATH = "/nonexistent", EIDOS_NVML_LIB = "/nonexistent/libnvidia-ml.so.1", NODE_NAME = "",
           KUBERNETES_NODE_NAME = "", HOSTNAME = "" }
end

-- snap(args [, machine]) -> document, its text (JSON)
local function snap(args, machine)
  local a = { "snapshot", "--timestamp", TS, "-t", "json" }
  for _, x in ipairs(args) do a[#a + 1] = x end
  local r = support.run(a, { env = env(machine) })
  assert.are.equal(0, r.code, r.err)
  return doc.decode(r.out, "snapshot"), r.out
end

local function measurement(d, t)
  for _, m in ipairs(d.measurements) do if m.type == t then return m end end
end

local function subtype(d, t, name)
  for _, st in ipairs(measurement(d, t) and measurement(d, t).subtypes or {}) do
    if st.subtype == name then return st end
  end
end

local function keys(t)
  local out = {}
  for k in pairs(t or {}) do out[#out + 1] = k end
  table.sort(out)
  return out
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

describe("eidos snapshot on machines as they are", function()
  describe("a VM whose kernel command line passes arguments to init", function()
    local d = snap({ "--sysroot", FIX .. "/vm", "--only", "OS,NodeTopology", "--fail-fast" })

    it("keeps only the kernel's parameters: what follows -- is init's", function()
      local grub = subtype(d, "OS", "grub").data
      assert.are.equal("/process_api", grub.rdinit)
      assert.are.equal("auto,no_guest_host,no_guest_guest", grub.mitigations)
      assert.are.equal("", grub.nomodule)
      for _, k in ipairs(keys(grub)) do
        assert.is_nil(k:find("^%-%-"), k)
        assert.is_nil(k:find("^%d"), k)
      end
      assert.is_nil(grub["0.0.0.0:2024"])
      assert.are.equal(18, #keys(grub))
    end)

    it("reads a kernel without module support as no modules, not as an error", function()
      local kmod = subtype(d, "OS", "kmod")
      assert.are.same({}, keys(kmod.data))
      assert.is_nil(kmod.context and kmod.context.error)
      assert.truthy(kmod.context.reason:find("no loadable module support", 1, true))
    end)

    it("describes its one NUMA node and its PCI bus without NVIDIA devices", function()
      local numa = subtype(d, "NodeTopology", "numa").data
      assert.are.equal(1, numa["node-count"])
      assert.are.equal("0-1", numa["node0.cpulist"])
      assert.are.equal(2, numa["node0.cpu-count"])
      local gpu = subtype(d, "NodeTopology", "gpu")
      assert.are.equal(0, gpu.data["gpu-count"])
      assert.is_nil(gpu.context)
    end)

    it("explodes a sysctl file of name-value lines", function()
      local sysctl = subtype(d, "OS", "sysctl").data
      assert.are.equal("0", sysctl["/proc/sys/fs/pipe-keep/read"])
      assert.is_nil(sysctl["/proc/sys/fs/pipe-keep"])
      assert.are.equal("#1 SMP PREEMPT_DYNAMIC @0", sysctl["/proc/sys/kernel/version"])
    end)
  end)

  describe("a kernel without NUMA support, no PCI bus, every quoting", function()
    local d = snap({ "--sysroot", FIX .. "/nonuma", "--only", "OS,NodeTopology", "--fail-fast" })

    it("removes the quotes the kernel removes, and only those", function()
      assert.are.same({
        BOOT_IMAGE = "/vmlinuz",
        quoted = "whole value",        -- "quoted=whole value"
        dyndbg = "file x.c +p",        -- dyndbg="file x.c +p"
        opt = 'a"b c"d',               -- quotes inside a value stay
        empty = "", novalue = "",
        flag = "",                     -- "flag"
        two = "=eq",                   -- the first = splits
        console = "ttyS0,115200",      -- the last of a repeated parameter
        init = "/sbin/init",
      }, subtype(d, "OS", "grub").data) -- "--" (quoted too) ends the kernel's part
    end)

    it("gives zero counts with the reason when /sys has no nodes or PCI bus", function()
      local numa, gpu = subtype(d, "NodeTopology", "numa"), subtype(d, "NodeTopology", "gpu")
      assert.are.same({ ["node-count"] = 0 }, numa.data)
      assert.truthy(numa.context.reason:find("/sys/devices/system/node", 1, true))
      assert.are.same({ ["gpu-count"] = 0 }, gpu.data)
      assert.truthy(gpu.context.reason:find("/sys/bus/pci/devices", 1, true))
    end)

    it("reads an empty /proc/modules (everything built in) as no modules, quietly", function()
      local kmod = subtype(d, "OS", "kmod")
      assert.are.same({}, keys(kmod.data))
      assert.is_nil(kmod.context)
    end)
  end)

  describe("this machine", function()
    local have_proc = support.read("/proc/sys/kernel/osrelease") ~= nil
    local it_proc = have_proc and it or pending
    local d
    if have_proc then d = snap({ "--only", "GPU,OS,SystemD,NodeTopology" }, true) end

    it_proc("takes every collector without a failure it cannot explain", function()
      local types = {}
      for i, m in ipairs(d.measurements) do
        types[i] = m.type
        -- a measurement not taken says why, and only the system's absence is a reason
        if m.status then
          assert.are.equal("SystemD", m.type, m.reason)
          assert.are.equal("unavailable", m.status)
        end
      end
      assert.are.same({ "GPU", "OS", "SystemD", "NodeTopology" }, types)
      for _, st in ipairs(measurement(d, "OS").subtypes) do
        assert.is_nil(st.context and st.context.error, st.subtype)
      end
      local r = support.run({ "snapshot", "--only", "OS,NodeTopology", "--fail-fast" }, { env = env(true) })
      assert.are.equal(0, r.code, r.err)
    end)

    it_proc("has keys and values of the documented shapes only", function()
      for _, m in ipairs(d.measurements) do
        for _, st in ipairs(m.subtypes or {}) do
          for _, k in ipairs(keys(st.data)) do
            assert.is_true(type(k) == "string" and k ~= "" and not k:find("[%c]"), m.type .. "." .. st.subtype)
            local v = st.data[k]
            local tv = type(v)
            assert.is_true(tv == "string" or tv == "number" or tv == "boolean", m.type .. "." .. st.subtype .. "." .. k)
          end
        end
      end
    end)

    it_proc("records the kernel's parameters, none of init's", function()
      local cmdline = support.read("/proc/cmdline")
      if not cmdline then return end
      -- the kernel's part: up to a standalone -- (quotes around it are rare)
      local kernel = (" " .. cmdline:gsub("%s", " ") .. " "):match("^(.-) %-%- ") or cmdline
      for _, k in ipairs(keys(subtype(d, "OS", "grub").data)) do
        assert.are_not.equal("--", k)
        assert.is_nil(k:find("%s"), k)
        assert.truthy(kernel:find(k, 1, true), "grub key " .. k .. " is not among the kernel's parameters")
      end
    end)

    it_proc("walks /proc/sys as documented", function()
      local sysctl = subtype(d, "OS", "sysctl").data
      assert.are.equal(trim(support.read("/proc/sys/kernel/osrelease")), sysctl["/proc/sys/kernel/osrelease"])
      local n = 0
      for _, k in ipairs(keys(sysctl)) do
        n = n + 1
        assert.truthy(k:find("^/proc/sys/"), k)
        assert.is_nil(k:find("^/proc/sys/net/"), k)
        assert.is_nil(k:find("^/proc/sys/dev/cdrom/"), k)
        assert.are.equal("string", type(sysctl[k]), k)
        -- a file, or a name-value line of a file (exploded)
        local kind = fs.exists(k)
        assert.is_true(kind == "file" or fs.exists((k:match("^(.*)/[^/]+$"))) == "file", k)
      end
      assert.is_true(n > 10, "only " .. n .. " sysctl keys")
    end)

    it_proc("lists the loaded modules, or says the kernel has none", function()
      local kmod = subtype(d, "OS", "kmod")
      local text = support.read("/proc/modules")
      if text then
        local want = {}
        for name in text:gmatch("([^%s]+)[^\n]*\n") do want[#want + 1] = name end
        table.sort(want)
        assert.are.same(want, keys(kmod.data))
      else
        assert.truthy(kmod.context and kmod.context.reason, "no /proc/modules and no reason")
      end
    end)

    it_proc("counts the NUMA nodes /sys has, and their CPUs", function()
      local numa = subtype(d, "NodeTopology", "numa").data
      local names = fs.list("/sys/devices/system/node")
      local nodes = 0
      for _, name in ipairs(names or {}) do
        if name:match("^node%d+$") then
          nodes = nodes + 1
          local cpus = numa[name .. ".cpu-count"]
          assert.is_true(math.type(cpus) == "integer" and cpus >= 0, name)
        end
      end
      assert.are.equal(nodes, numa["node-count"])
      if not names then
        assert.truthy(subtype(d, "NodeTopology", "numa").context.reason)
      end
    end)

    it_proc("counts no more GPUs through the driver than /sys has NVIDIA GPUs", function()
      local smi, topo = subtype(d, "GPU", "smi"), subtype(d, "NodeTopology", "gpu")
      local n = smi.data["gpu-count"]
      assert.is_true(math.type(n) == "integer" and n >= 0)
      if smi.context.source == "none" then
        assert.truthy(smi.context.reason) -- says what was tried
        assert.are.equal(0, n)
      elseif not topo.context then
        assert.is_true(n <= topo.data["gpu-count"], n .. " GPUs by " .. smi.context.source)
      end
    end)

    it_proc("gives the same OS and NodeTopology twice (nothing volatile left)", function()
      -- (SystemD is left out: a live unit's counters, such as its memory use, move)
      local _, a = snap({ "--only", "OS,NodeTopology" }, true)
      local _, b = snap({ "--only", "OS,NodeTopology" }, true)
      assert.are.equal(a, b)
    end)
  end)
end)
