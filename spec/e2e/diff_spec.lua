-- eidos diff, run as a user would, on the two real snapshots of ../shared
-- (an H100 and a GB200 node of EKS clusters): the GPU, kernel and OS
-- differences are findings; -t patch applied to OLD by python3-jsonpatch
-- (spec/fixtures/jsonpatch_apply.py, reading the YAML with PyYAML) gives
-- NEW; formats, --ignore, exit codes and bad input.
local support = require("support")
local cjson = require("cjson")

local shared = support.shared()
local OLD = shared and (shared .. "/fixtures/snapshots/h100-eks-ubuntu.yaml")
local NEW = shared and (shared .. "/fixtures/snapshots/gb200-eks-ubuntu.yaml")
local SMALL = "spec/fixtures/snapshots/validate-small.yaml"

local function run(args, opts)
  opts = opts or {}
  opts.env = opts.env or {}
  opts.env.EIDOS_HOME = opts.env.EIDOS_HOME or support.root
  return support.run(args, opts)
end

local function finding(r, path)
  for _, f in ipairs(r.findings) do if f.path == path then return f end end
end

local describe_shared = shared and describe or pending

describe_shared("eidos diff of the two real snapshots", function()
  local r
  setup(function()
    local res = run({ "diff", OLD, NEW, "-t", "json" })
    assert.are.equal(0, res.code, res.err)
    r = cjson.decode(res.out)
  end)

  it("finds the GPU, kernel and OS differences, one finding each", function()
    assert.are.equal("DiffResult", r.kind)
    assert.are.equal("Snapshot", r.metadata.document)
    local want = {
      ["GPU.smi.gpu.model"] = { "NVIDIA H100 80GB HBM3", "NVIDIA GB200" },
      ["GPU.smi.driver"] = { "570.133.20", "580.82.07" },
      ["GPU.smi.gpu-count"] = { 8, 4 },
      ["OS.sysctl./proc/sys/kernel/osrelease"] = { "6.8.0-1024-aws", "6.8.0-1028-aws" },
      ["K8s.node.kernel-version"] = { "6.8.0-1024-aws", "6.8.0-1028-aws" },
      ["OS.sysctl./proc/sys/kernel/arch"] = { "x86_64", "aarch64" },
      ["OS.grub.BOOT_IMAGE"] = { "/boot/vmlinuz-6.8.0-1024-aws", "/boot/vmlinuz-6.8.0-1028-aws" },
      ["K8s.server.version"] = { "v1.30.14-eks-3025e55", "v1.33.5-eks-3025e55" },
    }
    for path, v in pairs(want) do
      local f = finding(r, path)
      assert.truthy(f, "no finding for " .. path)
      assert.are.equal("changed", f.change, path)
      assert.are.same(v, { f.old, f.new }, path)
    end
    assert.are.equal("added", finding(r, "OS.grub.numa_balancing").change)
    -- K8s is first in NEW, third in OLD: one move, not a rewritten list
    local mv = finding(r, "K8s")
    assert.are.same({ "moved", 2, 0 }, { mv.change, mv.from, mv.to })
    -- each path once
    local seen = {}
    for _, f in ipairs(r.findings) do
      assert.is_nil(seen[f.path], f.path)
      seen[f.path] = true
    end
    -- the volatile ones are counted, not listed
    assert.is_nil(finding(r, "metadata.timestamp"))
    assert.is_true(r.summary.ignored > 0)
    for _, f in ipairs(r.findings) do assert.is_nil(f.path:match("^SystemD%..*Timestamp"), f.path) end
  end)

  it("-t patch applied to OLD by an independent RFC 6902 implementation gives NEW", function()
    local d = support.tmpdir()
    local res = run({ "diff", OLD, NEW, "-t", "patch", "-o", d .. "/patch.json" })
    assert.are.equal(0, res.code, res.err)
    local ops = cjson.decode(support.read(d .. "/patch.json"))
    local kinds = {}
    for _, o in ipairs(ops) do kinds[o.op] = (kinds[o.op] or 0) + 1 end
    assert.are.equal(1, kinds.move)
    local a = support.sh(string.format("python3 %s/spec/fixtures/jsonpatch_apply.py %s %s/patch.json %s --except-timestamp",
      support.root, support.q(OLD), d, support.q(NEW)))
    assert.are.equal(0, a.code, a.out .. a.err)
    -- and backwards
    res = run({ "diff", NEW, OLD, "-t", "patch", "-o", d .. "/back.json" })
    assert.are.equal(0, res.code, res.err)
    a = support.sh(string.format("python3 %s/spec/fixtures/jsonpatch_apply.py %s %s/back.json %s --except-timestamp",
      support.root, support.q(NEW), d, support.q(OLD)))
    assert.are.equal(0, a.code, a.out .. a.err)
    os.execute("rm -rf " .. support.q(d))
  end)

  it("the table: one line per finding and a summary; deterministic", function()
    local a = run({ "diff", OLD, NEW })
    local b = run({ "diff", OLD, NEW })
    assert.are.equal(0, a.code, a.err)
    assert.are.equal(a.out, b.out)
    assert.truthy(a.out:match("^CHANGE%s+PATH%s+OLD%s+NEW\n"), a.out:sub(1, 200))
    assert.truthy(a.out:find("\nchanged%s+GPU%.smi%.gpu%.model%s+NVIDIA H100 80GB HBM3%s+NVIDIA GB200\n"))
    assert.truthy(a.out:find("\nmoved%s+K8s%s+position 3%s+position 1\n"))
    local total = a.out:match("\n(%d+) differences: ")
    assert.are.equal(r.summary.total, tonumber(total))
    assert.truthy(a.out:find("ignored: metadata.timestamp, SystemD.*.*Timestamp*)", 1, true), a.out:sub(-300))
  end)

  it("--ignore leaves findings out; --no-default-ignore shows the volatile ones", function()
    local res = run({ "diff", OLD, NEW, "-t", "json", "--ignore", "OS.sysctl.*", "--ignore", "K8s.image.*" })
    local x = cjson.decode(res.out)
    assert.is_nil(finding(x, "OS.sysctl./proc/sys/kernel/osrelease"))
    assert.truthy(finding(x, "GPU.smi.driver"))
    assert.are.same({ "metadata.timestamp", "SystemD.*.*Timestamp*", "OS.sysctl.*", "K8s.image.*" }, x.metadata.ignore)
    res = run({ "diff", OLD, NEW, "-t", "yaml", "--no-default-ignore" })
    assert.are.equal(0, res.code, res.err)
    assert.truthy(res.out:find("path: metadata.timestamp", 1, true))
  end)

  it("exit 0 when they differ, 9 with --fail-on-diff, 0 with --fail-on-diff and no difference", function()
    local res = run({ "diff", OLD, NEW, "--fail-on-diff", "-o", "/dev/null" })
    assert.are.equal(9, res.code, res.err)
    assert.truthy(res.err:find("differ: %d+ findings"), res.err)
    res = run({ "diff", OLD, OLD, "--fail-on-diff" })
    assert.are.equal(0, res.code, res.err)
    assert.are.equal("no differences\n", res.out)
    -- only ignored differences: not different
    res = run({ "diff", OLD, NEW, "--fail-on-diff", "--ignore", "*" })
    assert.are.equal(0, res.code, res.err)
  end)
end)

describe("eidos diff input", function()
  it("reads stdin for one side and refuses two kinds, two stdins and missing files", function()
    local res = run({ "diff", SMALL, "-", "-t", "json" }, { stdin = support.read(SMALL) })
    assert.are.equal(0, res.code, res.err)
    assert.are.equal("identical", cjson.decode(res.out).status)
    res = run({ "diff", SMALL, "spec/fixtures/recipes/validate-eks-gb200-ubuntu-training.yaml" })
    assert.are.equal(2, res.code)
    assert.truthy(res.err:find("is Snapshot and", 1, true), res.err)
    res = run({ "diff", "-", "-" })
    assert.are.equal(2, res.code)
    res = run({ "diff", SMALL, "no-such.yaml" })
    assert.are.equal(3, res.code)
    assert.truthy(res.err:find("no-such.yaml", 1, true), res.err)
    res = run({ "diff", SMALL })
    assert.are.equal(2, res.code)
    res = run({ "diff", SMALL, SMALL, "-t", "xml" })
    assert.are.equal(2, res.code)
    assert.truthy(res.err:find("table, yaml, json, patch", 1, true), res.err)
  end)

  it("two recipes: findings by JSON Pointer, patch exact", function()
    local d = support.tmpdir()
    local a = support.read("spec/fixtures/recipes/validate-eks-gb200-ubuntu-training.yaml")
    local b = a:gsub(">= 1.32", ">= 1.33", 1)
    support.write(d .. "/b.yaml", b)
    local res = run({ "diff", "spec/fixtures/recipes/validate-eks-gb200-ubuntu-training.yaml", d .. "/b.yaml", "-t", "json" })
    assert.are.equal(0, res.code, res.err)
    local x = cjson.decode(res.out)
    assert.are.equal(1, x.summary.total)
    assert.truthy(x.findings[1].path:match("^/constraints/%d+/value$"), x.findings[1].path)
    assert.are.same({ ">= 1.32", ">= 1.33" }, { x.findings[1].old, x.findings[1].new })
    os.execute("rm -rf " .. support.q(d))
  end)
end)
