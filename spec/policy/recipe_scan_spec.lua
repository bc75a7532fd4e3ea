-- eidos.recipe.scan / scanlines: the quick overlay-header readers agree with
-- the YAML parser on every layout they accept, refuse what they cannot read
-- exactly, and the criteria pre-filter only rejects files that cannot match.
local scan = require("eidos.recipe.scan")
local scanlines = require("eidos.recipe.scanlines")
local library = require("eidos.recipe.library")
local crit = require("eidos.recipe.criteria")
local yaml = require("eidos.core.yaml")
local res = require("eidos.core.res")

local function full(text)
  return library.header_of(yaml.load(text))
end

local function same(a, b)
  assert.are.equal(b.name, a.name)
  assert.are.equal(b.base, a.base)
  assert.are.equal(b.kind, a.kind)
  assert.are.equal(b.apiVersion, a.apiVersion)
  assert.are.equal(b.has_criteria or false, a.has_criteria or false)
  assert.are.same(b.criteria, a.criteria)
end

local CANON = [[
# a comment
#
kind: RecipeMetadata
apiVersion: eidos.nvidia.com/v1alpha1
metadata:
  name: h100-eks-training
spec:
  base: eks-training
  criteria:
    service: eks
    accelerator: h100
    intent: training
  constraints:
    - name: K8s.server.version
      value: ">= 1.30"
  componentRefs:
    - name: gpu-operator
      overrides:
        service: gke
]]

describe("eidos.recipe.scan", function()
  it("reads the library layout with the fast reader, like the YAML parser", function()
    local h = scan._canonical(CANON)
    assert.is_not_nil(h)
    same(h, full(CANON))
    assert.are.same({ service = "eks", accelerator = "h100", intent = "training" }, h.criteria)
  end)

  -- variants: each must either be read exactly like the YAML parser reads
  -- it, or refused (nil) -- never read differently
  local variants = {
    CANON,
    (CANON:gsub("  base: eks%-training\n", "")),
    (CANON:gsub("  criteria:\n    service: eks\n    accelerator: h100\n    intent: training\n",
      "  criteria: {service: eks, accelerator: h100, intent: training}\n")),
    (CANON:gsub("    service: eks\n", "    service: eks   # trailing comment\n")),
    (CANON:gsub("    service: eks\n", "    # a comment inside\n    service: eks\n")),
    (CANON:gsub("    service: eks\n", '    service: "eks"\n')),
    (CANON:gsub("    service: eks\n", "    service: 'EKS'\n")),
    (CANON:gsub("  criteria:\n    service: eks\n    accelerator: h100\n    intent: training\n", "  criteria:\n")),
    (CANON:gsub("  criteria:\n    service: eks\n    accelerator: h100\n    intent: training\n", "  criteria: {}\n")),
    (CANON:gsub("  criteria:\n    service: eks\n    accelerator: h100\n    intent: training\n", "")),
    (CANON:gsub("    intent: training\n", "    intent: training\n    nodes: 8\n")),
    (CANON:gsub("    intent: training\n", "    intent: null\n")),
    (CANON:gsub("    intent: training\n", "    intent: ~\n")),
    (CANON:gsub("    intent: training\n", "    intent: true\n")),
    (CANON:gsub("metadata:\n  name: h100%-eks%-training\n", "metadata:\n  labels: {a: b}\n  name: h100-eks-training\n")),
    (CANON:gsub("metadata:\n  name: h100%-eks%-training\n", "metadata: {name: x}\n")),
    (CANON:gsub("  componentRefs:", "  criteria:\n    service: gke\n  componentRefs:")), -- duplicate key: parser error
    -- criteria after the heavy keys
    (CANON:gsub("  criteria:\n    service: eks\n    accelerator: h100\n    intent: training\n", "") ..
      "  criteria:\n    service: gke\n"),
    -- four-space indentation
    [[
kind: RecipeMetadata
apiVersion: eidos.nvidia.com/v1alpha1
metadata:
    name: four
spec:
    base: x
    criteria:
        service: eks
    componentRefs:
        - name: a
]],
    -- spec before metadata, compact lists, a document marker
    [[
---
spec:
  criteria:
    service: aks
  constraints:
  - name: K8s.server.version
    value: ">= 1.30"
kind: RecipeMetadata
metadata:
  name: reordered
]],
    -- a block scalar that contains lines looking like keys
    [[
kind: RecipeMetadata
apiVersion: eidos.nvidia.com/v1alpha1
description: |
  criteria:
    service: gke
metadata:
  name: blocky
spec:
  criteria:
    service: eks
]],
    -- an anchor and alias
    [[
kind: RecipeMetadata
metadata:
  name: anchored
spec:
  criteria: &c
    service: eks
  constraints: []
]],
    -- windows line ends and tabs
    "kind: RecipeMetadata\r\nmetadata:\r\n  name: crlf\r\nspec:\r\n  criteria:\r\n    service: eks\r\n",
    "kind: RecipeMetadata\nmetadata:\n  name: tab\nspec:\n  criteria:\n    service:\teks\n",
    -- a non-overlay kind
    "kind: ValidatorCatalog\napiVersion: aicr.nvidia.com/v1\nmetadata:\n  name: catalog\nvalidators: []\n",
    -- a number and a quoted name
    (CANON:gsub("  name: h100%-eks%-training", '  name: "1.30"')),
    (CANON:gsub("  name: h100%-eks%-training", "  name: 1.30")),
  }

  it("reads every variant like the YAML parser, or refuses it", function()
    local read = 0
    for i, text in ipairs(variants) do
      local ok, parsed = pcall(yaml.load, text)
      local h = scan.header(text)
      if h then
        assert.is_true(ok, "variant " .. i .. " read although the YAML parser rejects it")
        local okf, f = pcall(full, parsed and text or "")
        if okf then same(h, f) end
        read = read + 1
      end
    end
    assert.is_true(read >= 12, "expected most variants to be read quickly, got " .. read)
  end)

  it("the careful reader alone agrees too", function()
    for _, text in ipairs(variants) do
      local ok = pcall(yaml.load, text)
      local h = scanlines.header(text)
      if h and ok then same(h, full(text)) end
    end
  end)

  it("agrees with the YAML parser on every overlay of the built-in library", function()
    local n = 0
    for _, f in ipairs(res.list("recipes/overlays/")) do
      local text = res.read(f.path)
      local h = scan.header(text)
      assert.is_not_nil(h, f.path .. " is not read by the quick readers")
      same(h, full(text))
      n = n + 1
    end
    assert.is_true(n > 0)
  end)

  describe("rejects", function()
    local q = crit.new({ service = "gke", intent = "training" })
    local fields = crit.catalog().fields
    local function compatible(f, v)
      if v == "any" or v == q[f] then return true end
      local c = fields[f] and (fields[f].canon[v] or fields[f].canon[v:lower()])
      return c == "any" or c == q[f]
    end

    it("rejects a file whose criteria pin another value", function()
      assert.is_true(scan.rejects(CANON, compatible))
      local q2 = crit.new({ service = "eks", accelerator = "h100", intent = "training" })
      assert.is_false(scan.rejects(CANON, function(f, v) return v == q2[f] or v == "any" end))
    end)

    it("never rejects what it cannot read exactly", function()
      -- criteria under another key than spec
      local other = "kind: RecipeMetadata\nmetadata:\n  name: x\n  criteria:\n    service: eks\nspec:\n  criteria:\n    service: gke\n"
      assert.is_false(scan.rejects(other, compatible))
      -- a comment or a quoted value stops the reading
      assert.is_false(scan.rejects((CANON:gsub("    service: eks\n", "    # c\n    service: eks\n")), compatible))
      assert.is_false(scan.rejects((CANON:gsub("    service: eks\n", '    service: "eks"\n')), compatible))
      -- overrides lines that look like criteria do not count
      local noc = CANON:gsub("  criteria:\n    service: eks\n    accelerator: h100\n    intent: training\n", "")
      assert.is_false(scan.rejects(noc, compatible))
    end)
  end)
end)
