-- eidos.core.yaml: the libyaml-based loader, cross-checked against lyaml
local yaml = require("eidos.core.yaml")
local emit = require("eidos.core.emit")
local support = require("support")

local null = yaml.null

describe("eidos.core.yaml", function()
  it("resolves plain scalars by the YAML 1.2 core schema", function()
    local v = yaml.load([[
a: true
b: False
c: ~
d: null
e: 42
f: -7
g: 0x1F
h: 0o17
i: 1.5
j: .inf
k: 24.04
l: "24.04"
m: 'true'
n: yes
o: 92233720368547758070
p: !!str 12
q:
r: 1e3
]])
    assert.are.equal(true, v.a)
    assert.are.equal(false, v.b)
    assert.are.equal(null, v.c)
    assert.are.equal(null, v.d)
    assert.are.equal(42, v.e); assert.are.equal("integer", math.type(v.e))
    assert.are.equal(-7, v.f)
    assert.are.equal(31, v.g)
    assert.are.equal(15, v.h)
    assert.are.equal(1.5, v.i)
    assert.are.equal(math.huge, v.j)
    assert.are.equal("float", math.type(v.k))
    assert.are.equal("24.04", v.l)
    assert.are.equal("true", v.m)
    assert.are.equal("yes", v.n) -- YAML 1.2: not a boolean
    assert.are.equal("float", math.type(v.o))
    assert.are.equal("12", v.p)
    assert.are.equal(null, v.q)
    assert.are.equal(1000.0, v.r)
  end)

  it("keeps map keys as strings and refuses duplicates with the line", function()
    local v = yaml.load("1: a\ntrue: b\n")
    assert.are.equal("a", v["1"])
    assert.are.equal("b", v["true"])
    local r, msg, code = yaml.load("a: 1\nb: 2\na: 3\n")
    assert.is_nil(r)
    assert.are.equal("invalid", code)
    assert.truthy(msg:find("duplicate YAML key 'a' at line 3", 1, true), msg)
  end)

  it("shares anchors and caps alias expansion", function()
    local v = yaml.load("base: &b {x: 1}\nuse: *b\n")
    assert.are.equal(1, v.use.x)
    local bomb = { "a: &a [1,1,1,1,1,1,1,1,1,1]" }
    for i = 2, 9 do
      local prev = string.char(96 + i - 1)
      local cur = string.char(96 + i)
      bomb[#bomb + 1] = string.format("%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]", cur, cur, prev, prev, prev, prev, prev, prev, prev, prev, prev, prev)
    end
    local r, msg = yaml.load(table.concat(bomb, "\n"))
    assert.is_nil(r)
    assert.truthy(msg:find("alias bomb", 1, true), msg)
    local r2, msg2 = yaml.load("x: *nope\n")
    assert.is_nil(r2)
    assert.truthy(msg2:find("nope", 1, true) or msg2:find("alias", 1, true), msg2)
  end)

  it("refuses deep nesting, bad syntax, multiple and empty documents", function()
    local deep = string.rep("[", 300) .. string.rep("]", 300)
    assert.is_nil((yaml.load(deep)))
    local r, msg = yaml.load("a: [1, 2\n")
    assert.is_nil(r)
    assert.truthy(msg:find("line"), msg)
    assert.is_nil((yaml.load("a: 1\n---\nb: 2\n")))
    assert.are.equal(2, #yaml.load_all("a: 1\n---\nb: 2\n"))
    local e, emsg = yaml.load("# only a comment\n")
    assert.is_nil(e)
    assert.truthy(emsg:find("empty"))
  end)

  it("marks lists so empty ones round-trip", function()
    local v = yaml.load("l: []\nm: {}\n")
    assert.are.equal("l: []\nm: {}\n", emit.yaml(v))
  end)

  it("reads JSON", function()
    local v = yaml.load('{"a": [1, 2.5, "x", null, true], "b": {"c": "\\u00e9"}}')
    assert.are.equal(2.5, v.a[2])
    assert.are.equal(null, v.a[4])
    assert.are.equal("é", v.b.c)
  end)

  it("agrees with lyaml on a corpus", function()
    local ok, lyaml = pcall(require, "lyaml")
    if not ok then pending("lyaml not installed"); return end
    local corpus = {}
    local shared = support.shared()
    if shared then
      corpus[#corpus + 1] = support.read(shared .. "/fixtures/snapshots/h100-eks-ubuntu.yaml")
      corpus[#corpus + 1] = support.read(shared .. "/fixtures/snapshots/gb200-eks-ubuntu.yaml")
    end
    local p = io.popen("find recipes spec/fixtures -name '*.yaml' 2>/dev/null | sort")
    for f in p:lines() do
      local t = support.read(f)
      if t and not t:find("{{", 1, true) then corpus[#corpus + 1] = t end
    end
    p:close()
    -- normalise both to comparable plain values: lyaml's nulls and ours differ
    local function norm(v)
      if v == null or v == lyaml.null then return "<null>" end
      if type(v) == "table" then
        local o = {}
        for k, x in pairs(v) do o[tostring(k)] = norm(x) end
        return o
      end
      if type(v) == "number" then return tostring(v + 0.0) end
      return v
    end
    for _, text in ipairs(corpus) do
      local ours = yaml.load_all(text)
      local theirs = lyaml.load(text, { all = true })
      assert.are.same(norm(theirs), norm(ours))
    end
  end)
end)
