-- eidos.diff: findings (measurement-aware for snapshots, JSON Pointers for
-- other documents), --ignore patterns, and JSON Patches checked by applying
-- them with python3-jsonpatch (spec/fixtures/jsonpatch_apply.py), an RFC
-- 6902 implementation that shares nothing with eidos.
local diff = require("eidos.diff")
local doc = require("eidos.doc")
local support = require("support")

local function snap(ms, meta)
  local list = {}
  for _, m in ipairs(ms) do
    local subs = {}
    for _, st in ipairs(m[2]) do subs[#subs + 1] = { subtype = st[1], data = st[2], context = st[3] } end
    list[#list + 1] = { type = m[1], subtypes = doc.list(subs) }
  end
  return { kind = "Snapshot", apiVersion = "eidos.nvidia.com/v1alpha1",
           metadata = meta or { ["source-node"] = "n1", timestamp = "2026-01-01T00:00:00Z" },
           measurements = doc.list(list) }
end

local function paths(r)
  local out = {}
  for _, f in ipairs(r.findings) do out[#out + 1] = f.change .. " " .. f.path end
  return out
end

-- apply(old, ops, new) -> the applier's verdict (exit code, message)
local function apply(old, ops, new, except_ts)
  local d = support.tmpdir()
  support.write(d .. "/old.json", doc.encode(old, "json"))
  support.write(d .. "/new.json", doc.encode(new, "json"))
  support.write(d .. "/patch.json", doc.encode(ops, "json"))
  local r = support.sh(string.format("python3 %s/spec/fixtures/jsonpatch_apply.py %s/old.json %s/patch.json %s/new.json %s",
    support.root, d, d, d, except_ts and "--except-timestamp" or ""))
  os.execute("rm -rf " .. support.q(d))
  return r.code, r.out .. r.err
end

describe("eidos.diff", function()
  local A = snap({
    { "K8s", { { "server", { version = "v1.30.14" } }, { "node", { ["kernel-version"] = "6.8.0-1024-aws" } } } },
    { "GPU", { { "smi", { driver = "570.86.15", ["gpu-count"] = 8 }, { source = "nvml" } } } },
    { "OS", { { "sysctl", { ["/proc/sys/kernel/osrelease"] = "6.8.0-1024-aws", ["/proc/sys/a~b"] = "1" } },
              { "release", { ID = "ubuntu", VERSION_ID = "22.04" } } } },
    { "SystemD", { { "containerd.service", { ActiveState = "active", ActiveEnterTimestamp = 1 } } } },
  })
  local B = snap({
    { "GPU", { { "smi", { driver = "580.105.08", ["gpu-count"] = 8 }, { source = "nvidia-smi" } } } },
    { "K8s", { { "node", { ["kernel-version"] = "6.8.0-1028-aws" } }, { "server", { version = "v1.30.14" } } } },
    { "OS", { { "sysctl", { ["/proc/sys/kernel/osrelease"] = "6.8.0-1028-aws" } },
              { "release", { ID = "ubuntu", VERSION_ID = "24.04" } }, { "kmod", { nvidia = true } } } },
    { "SystemD", { { "containerd.service", { ActiveState = "failed", ActiveEnterTimestamp = 2 } } } },
  }, { ["source-node"] = "n1", timestamp = "2026-02-01T00:00:00Z" })

  it("names snapshot findings by constraint path, one per measurement that changed", function()
    local r = diff.run(A, B, { old = "a", new = "b" })
    assert.are.same({
      "moved GPU", "changed GPU.smi.driver", "changed GPU.smi[context].source",
      "moved K8s.node", "changed K8s.node.kernel-version",
      "added OS.kmod", "removed OS.sysctl./proc/sys/a~b", "changed OS.sysctl./proc/sys/kernel/osrelease",
      "changed OS.release.VERSION_ID", "changed SystemD.containerd.service.ActiveState",
    }, paths(r))
    assert.are.equal("different", r.status)
    assert.are.same({ 6, 1, 1, 2, 2, 11 }, { r.summary.changed, r.summary.added, r.summary.removed,
      r.summary.moved, r.summary.ignored, r.summary.total + 1 })
    local f = r.findings[2]
    assert.are.equal("570.86.15", f.old)
    assert.are.equal("580.105.08", f.new)
    assert.are.equal("/measurements/0/subtypes/0/data/driver", f.pointer)
    assert.are.equal(1, r.findings[1].from)
    assert.are.equal(0, r.findings[1].to)
    assert.are.equal("(1 key)", r.findings[6].new)
    assert.is_true(diff.differs(r))
  end)

  it("--ignore patterns: * matches any run of characters, dots included", function()
    local r = diff.run(A, B, { ignore = { "OS.sysctl.*", "*.context*", "*[context]*", "SystemD.*.Active*",
      "metadata.*" } })
    assert.are.same({ "moved GPU", "changed GPU.smi.driver", "moved K8s.node", "changed K8s.node.kernel-version",
      "added OS.kmod", "changed OS.release.VERSION_ID" }, paths(r))
    assert.are.equal(6, r.summary.ignored)
    assert.are.equal("[context]", ("GPU.smi[context].source"):match("%[context%]"))
    -- a pattern is literal but for *
    assert.is_nil(diff.ignored("GPU.smi.driver", { "GPU.smi.drive." }))
    assert.are.equal("GPU.?*", diff.ignored("GPU.?mi", { "GPU.?*" }))
  end)

  it("two equal documents: no findings, an empty patch", function()
    local r = diff.run(A, A)
    assert.are.equal("identical", r.status)
    assert.are.equal(0, #r.findings)
    assert.are.equal(0, #diff.patch(A, A))
    assert.is_false(diff.differs(r))
  end)

  it("the patch turns OLD into NEW, moves and order included, timestamp excepted", function()
    local ops = diff.patch(A, B)
    local moves = 0
    for _, o in ipairs(ops) do
      if o.op == "move" then moves = moves + 1 end
      assert.are_not.equal("/metadata/timestamp", o.path)
    end
    assert.are.equal(2, moves)
    local code, out = apply(A, ops, B, true)
    assert.are.equal(0, code, out)
    code, out = apply(B, diff.patch(B, A), A, true)
    assert.are.equal(0, code, out)
    -- without the timestamp exception the applier sees the one difference
    code, out = apply(A, ops, B, false)
    assert.are.equal(1, code, out)
    assert.truthy(out:find("/metadata/timestamp", 1, true), out)
  end)

  it("keyed lists: reorders, insertions and removals together", function()
    local function L(names)
      local l = {}
      for i, n in ipairs(names) do l[i] = { name = n, v = i } end
      return { kind = "Thing", items = doc.list(l) }
    end
    local cases = {
      { { "a", "b", "c", "d" }, { "d", "c", "b", "a" } },
      { { "a", "b", "c" }, { "x", "c", "a", "y" } },
      { { "a" }, {} },
      { {}, { "a", "b" } },
      { { "a", "b", "c", "d", "e" }, { "b", "e", "a", "f", "d" } },
    }
    for _, c in ipairs(cases) do
      local old, new = L(c[1]), L(c[2])
      local code, out = apply(old, diff.patch(old, new), new)
      assert.are.equal(0, code, table.concat(c[1], ",") .. " -> " .. table.concat(c[2], ",") .. ": " .. out)
    end
  end)

  it("other documents: JSON Pointer paths, escaped; positional lists; type changes", function()
    local old = { kind = "RecipeResult", metadata = { timestamp = "t1", ["a/b"] = "x" },
                  componentRefs = doc.list({ { name = "gpu-operator", version = "v25.3.0" },
                                             { name = "network-operator", version = "v25.4.0" } }),
                  deploymentOrder = doc.list({ "gpu-operator", "network-operator" }),
                  criteria = { service = "eks" } }
    local new = { kind = "RecipeResult", metadata = { timestamp = "t2", ["a/b"] = "y", ["c~d"] = 1 },
                  componentRefs = doc.list({ { name = "network-operator", version = "v25.4.0" },
                                             { name = "gpu-operator", version = "v25.10.0" } }),
                  deploymentOrder = doc.list({ "network-operator", "gpu-operator", "cert-manager" }),
                  criteria = "any" }
    local r = diff.run(old, new)
    assert.are.same({ "changed /metadata/a~1b", "added /metadata/c~0d", "moved /componentRefs/0",
      "changed /componentRefs/1/version", "changed /criteria", "moved /deploymentOrder/0",
      "added /deploymentOrder/2" }, paths(r))
    assert.are.equal(1, r.summary.ignored) -- /metadata/timestamp by default
    assert.are.equal("(map of 1)", r.findings[5].old)
    local code, out = apply(old, diff.patch(old, new), new, true)
    assert.are.equal(0, code, out)
  end)

  it("a shuffled keyed list of 100,000 elements costs O(n log n), not O(n^2)", function()
    local l, shuffled = {}, {}
    for i = 1, 100000 do l[i] = { name = "n" .. i, v = i } end
    local seed = 12345
    for i = 1, #l do shuffled[i] = l[i] end
    for i = #shuffled, 2, -1 do -- a fixed pseudo-random permutation (an LCG), the same on every run
      seed = (seed * 1103515245 + 12345) % 2147483648
      local j = seed % i + 1
      shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
    end
    local t0 = os.clock()
    local ops = diff.patch({ kind = "Thing", l = doc.list(l) }, { kind = "Thing", l = doc.list(shuffled) })
    local cpu = os.clock() - t0
    -- quadratic placement took over a minute here; n log n a few seconds
    assert.is_true(cpu < 30, string.format("%.1f s of CPU", cpu))
    assert.is_true(#ops > 99000 and #ops < 100000, tostring(#ops))
    for _, o in ipairs(ops) do assert.are.equal("move", o.op) end
  end)

  it("lists of distinct strings: by value when that says it in fewer findings, else by position", function()
    local L = doc.list
    local function one(a, b)
      local old, new = { kind = "RecipeResult", l = L(a) }, { kind = "RecipeResult", l = L(b) }
      local code, out = apply(old, diff.patch(old, new), new, true)
      assert.are.equal(0, code, out)
      return paths(diff.run(old, new)), diff.run(old, new).findings
    end
    -- one name left out: one removal, not a shifted tail
    local p, f = one({ "a", "b", "c", "d", "e" }, { "a", "c", "d", "e" })
    assert.are.same({ "removed /l/1" }, p)
    assert.are.equal("b", f[1].old)
    assert.are.same({ "added /l/0" }, (one({ "b", "c" }, { "a", "b", "c" })))
    -- a name replaced in place: one change, as before
    assert.are.same({ "changed /l/1" }, (one({ "a", "b", "c" }, { "a", "x", "c" })))
    -- repeated or non-string elements stay positional
    assert.are.same({ "changed /l/0", "added /l/2" }, (one({ "a", "a" }, { "b", "a", "a" })))
    -- a removed keyed element shows its name
    local old = { kind = "RecipeResult", refs = L({ { name = "x", v = 1 }, { name = "y", v = 2 } }) }
    local new = { kind = "RecipeResult", refs = L({ { name = "y", v = 2 } }) }
    assert.are.equal("x (map of 2)", diff.run(old, new).findings[1].old)
  end)

  it("refuses documents of two kinds, naming both", function()
    local msg = support.raises("invalid", diff.run, A, { kind = "RecipeResult" }, { old = "a.yaml", new = "r.yaml" })
    assert.truthy(msg:find('a.yaml is Snapshot and r.yaml is RecipeResult', 1, true), msg)
    -- upstream's kind-less snapshot is a snapshot
    assert.is_true(diff.is_snapshot({ measurements = doc.list({}) }))
  end)
end)
