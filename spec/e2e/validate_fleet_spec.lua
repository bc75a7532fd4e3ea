-- eidos validate over many snapshots, run as a user would: several
-- --snapshot and a directory give a FleetValidationResult (nodes, failing,
-- outliers), one --snapshot gives today's document; table, yaml/json,
-- JUnit and CTRF; exit codes; bad input. Snapshots are made here from the
-- small validate fixture, one per node, a few of them different.
local support = require("support")
local cjson = require("cjson")

local SMALL = "spec/fixtures/snapshots/validate-small.yaml"
local RECIPE = "spec/fixtures/recipes/validate-eks-gb200-ubuntu-training.yaml"

local function run(args, opts)
  opts = opts or {}
  opts.env = opts.env or {}
  opts.env.EIDOS_HOME = opts.env.EIDOS_HOME or support.root
  if opts.env.SOURCE_DATE_EPOCH == nil then opts.env.SOURCE_DATE_EPOCH = "" end
  return support.run(args, opts)
end

describe("eidos validate of a fleet", function()
  local dir
  local base = support.read(SMALL)

  -- node(i, subs): the small snapshot as node i, with text substitutions
  local function node(i, subs)
    local t = base:gsub("source: ip%-10%-0%-1%-2%.ec2%.internal", "source-node: node-" .. i)
    for _, s in ipairs(subs or {}) do t = t:gsub(s[1], s[2]) end
    support.write(string.format("%s/node-%d.yaml", dir, i), t)
  end

  setup(function()
    dir = support.tmpdir()
    for i = 1, 12 do
      if i == 4 then node(i, { { "driver: 580%.105%.08", "driver: 570.86.15" } })
      elseif i == 7 then node(i, { { "version: v1%.33%.5%-eks%-3025e55", "version: v1.30.14-eks-3025e55" } })
      elseif i == 9 then node(i, { { "/proc/sys/kernel/osrelease: 6%.8%.0%-1028%-aws", "/proc/sys/kernel/osrelease: 6.8.0-1030-aws" } })
      else node(i) end
    end
    support.write(dir .. "/notes.txt", "not a snapshot")
  end)

  teardown(function() os.execute("rm -rf " .. support.q(dir)) end)

  local function fleet(extra)
    local args = { "validate", "-r", RECIPE, "-s", dir, "--fail-on-error=false" }
    for _, a in ipairs(extra or {}) do args[#args + 1] = a end
    return run(args)
  end

  it("a directory: each node's result, the failing constraints and the outliers", function()
    local r = fleet({ "-t", "json" })
    assert.are.equal(0, r.code, r.err)
    local v = cjson.decode(r.out)
    assert.are.equal("FleetValidationResult", v.kind)
    assert.are.equal(12, v.summary.nodes)
    assert.are.equal("node-1", v.nodes[1].node)
    assert.are.equal("node-12", v.nodes[12].node) -- natural order
    local one = v.nodes[7].result
    assert.are.equal("ValidationResult", one.kind)
    assert.are.equal(dir .. "/node-7.yaml", one.metadata.snapshot)
    -- node-7's server is too old for the recipe
    local failing = {}
    for _, f in ipairs(v.failing) do failing[f.constraint] = f.nodes end
    assert.are.same({ "node-7" }, failing["K8s.server.version"])
    assert.are.equal("fail", v.status)
    -- outliers: a different driver and kernel pass every constraint, and are still named
    local by = {}
    for _, o in ipairs(v.outliers) do by[o.path] = o end
    assert.are.same({ { node = "node-4", value = "570.86.15" } }, by["GPU.smi.driver"].nodes)
    assert.are.equal("580.105.08", by["GPU.smi.driver"].majority)
    assert.are.equal(11, by["GPU.smi.driver"].count)
    assert.are.same({ { node = "node-9", value = "6.8.0-1030-aws" } }, by["OS.sysctl./proc/sys/kernel/osrelease"].nodes)
    assert.are.same({ { node = "node-7", value = "v1.30.14-eks-3025e55" } }, by["K8s.server.version"].nodes)
    assert.is_nil(by["OS.release.ID"])
  end)

  it("the same report from the files given one by one; deterministic", function()
    local args = { "validate", "-r", RECIPE, "-t", "yaml", "--fail-on-error=false" }
    for i = 1, 12 do args[#args + 1] = "-s"; args[#args + 1] = dir .. "/node-" .. i .. ".yaml" end
    local a, b = run(args), fleet({ "-t", "yaml" })
    assert.are.equal(0, a.code, a.err)
    assert.are.equal(b.out, a.out)
    assert.are.equal(a.out, run(args).out)
    assert.truthy(a.out:match("^kind: FleetValidationResult\n"))
  end)

  it("one --snapshot gives today's document, the same as the node's in a fleet", function()
    local r = run({ "validate", "-r", RECIPE, "-s", dir .. "/node-7.yaml", "-t", "json" })
    assert.are.equal(9, r.code, r.err)
    local v = cjson.decode(r.out)
    assert.are.equal("ValidationResult", v.kind)
    assert.truthy(v.results)
    assert.is_nil(v.nodes)
    local f = cjson.decode(fleet({ "-t", "json" }).out)
    assert.are.same(v, f.nodes[7].result)
  end)

  it("exit 9 when a node fails, 0 with --fail-on-error=false", function()
    assert.are.equal(0, fleet({ "-o", "/dev/null" }).code)
    local r = run({ "validate", "-r", RECIPE, "-s", dir, "-o", "/dev/null" })
    assert.are.equal(9, r.code, r.err)
    assert.truthy(r.err:find("validation failed on 1 of 12 nodes", 1, true), r.err)
    -- without the failing node: only outliers, which do not fail
    r = run({ "validate", "-r", RECIPE, "-s", dir .. "/node-4.yaml", "-s", dir .. "/node-9.yaml", "-s",
              dir .. "/node-1.yaml", "-t", "json" })
    assert.are.equal(0, r.code, r.err)
    local v = cjson.decode(r.out)
    assert.are.equal("pass", v.status)
    assert.are.equal(0, #v.failing)
    assert.is_true(#v.outliers >= 2)
  end)

  it("table, JUnit and CTRF", function()
    local r = fleet({ "-t", "table" })
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find("\nK8s.server.version%s+>= 1.32%s+1: node%-7\n"), r.out)
    assert.truthy(r.out:find("\nGPU.smi.driver%s+580.105.08 %(11 of 12%)%s+node%-4%s+570.86.15\n"), r.out)
    assert.truthy(r.out:find("12 nodes, %d+ constraints each: 11 passed, 0 partial, 1 failed; %d+ outlier paths %-> fail\n$"), r.out)
    r = fleet({ "-t", "junit" })
    assert.are.equal(0, r.code, r.err)
    local suites = 0
    for _ in r.out:gmatch('<testsuite name="node%-%d+"') do suites = suites + 1 end
    assert.are.equal(12, suites)
    assert.truthy(r.out:find('<testsuite name="outliers"', 1, true))
    assert.truthy(r.out:find('<failure message="expected &gt;= 1.32, got v1.30.14-eks-3025e55"', 1, true), r.out)
    local x = support.sh("python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.read())' <<'EOF'\n"
      .. r.out .. "EOF")
    assert.are.equal(0, x.code, x.err)
    r = fleet({ "-t", "ctrf" })
    assert.are.equal(0, r.code, r.err)
    local c = cjson.decode(r.out)
    assert.are.equal("CTRF", c.reportFormat)
    assert.are.equal(#c.results.tests, c.results.summary.tests)
    assert.are.equal(1, c.results.summary.failed)
    assert.are.same({ "node-7", "readiness" }, c.results.tests[#c.results.tests / 12 * 6 + 1].suite)
  end)

  it("refuses stdin among several, an empty directory; names duplicate nodes by their source", function()
    local r = run({ "validate", "-r", RECIPE, "-s", "-", "-s", dir .. "/node-1.yaml" }, { stdin = base })
    -- (the documents below fail the recipe: exit 9 is theirs, not the point here)
    assert.are.equal(2, r.code)
    assert.truthy(r.err:find("stdin (-) holds one document", 1, true), r.err)
    local empty = support.tmpdir()
    r = run({ "validate", "-r", RECIPE, "-s", empty })
    assert.are.equal(3, r.code)
    assert.truthy(r.err:find("no *.yaml, *.yml or *.json file", 1, true), r.err)
    os.execute("rm -rf " .. support.q(empty))
    r = run({ "validate", "-r", RECIPE, "-s", dir .. "/node-1.yaml", "-s", SMALL, "-s", dir .. "/node-1.yaml", "-t", "json",
              "--fail-on-error=false" })
    assert.are.equal(0, r.code, r.err)
    local v = cjson.decode(r.out)
    assert.are.equal(2, v.summary.nodes) -- the same file once
    r = run({ "validate", "-r", RECIPE, "-s", SMALL, "-s", "spec/fixtures/snapshots/../snapshots/validate-small.yaml", "-t", "json" })
    v = cjson.decode(r.out)
    assert.are.equal("ip-10-0-1-2.ec2.internal", v.nodes[1].node)
    assert.are.equal("ip-10-0-1-2.ec2.internal (spec/fixtures/snapshots/../snapshots/validate-small.yaml)", v.nodes[2].node)
    r = run({ "validate", "-r", RECIPE, "-s", SMALL, "-s", SMALL, "--phase", "deployment" })
    assert.are.equal(2, r.code)
    assert.truthy(r.err:find("several snapshots are checked for --phase readiness only", 1, true), r.err)
  end)
end)
