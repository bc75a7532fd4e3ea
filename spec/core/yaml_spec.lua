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
    assert.truthy(msg:find("expands to more than 67108864 bytes", 1, true), msg)
    local r2, msg2 = yaml.load("x: *nope\n")
    assert.is_nil(r2)
    assert.truthy(msg2:find("nope", 1, true) or msg2:find("alias", 1, true), msg2)
  end)

  describe("bounds the expanded size in bytes, aliases counted as what they repeat", function()
    -- one big scalar repeated by aliases: few nodes, many bytes (the 1 MB
    -- recipe of the issue that drove eidosd to 2 GB)
    local function repeated(size, times)
      local l = { "pad: &p " .. ("x"):rep(size), "more:" }
      for _ = 1, times do l[#l + 1] = "- *p" end
      return table.concat(l, "\n") .. "\n"
    end

    it("refuses a 1 MiB scalar aliased a thousand times, before copying anything", function()
      local text = repeated(1024 * 1024, 1000)
      local t0 = os.clock()
      local v, msg, code = yaml.load(text)
      assert.is_nil(v)
      assert.are.equal("invalid", code)
      -- 16 x 1 MiB is under the floor: the limit is 64 MiB
      assert.truthy(msg:find("expands to more than 67108864 bytes", 1, true), msg)
      assert.is_true(os.clock() - t0 < 5, "refusing took " .. (os.clock() - t0) .. " s of CPU")
    end)

    it("counts keys, scalars and nodes, under the default floor of 64 MiB", function()
      -- 100 aliases of a 64 KiB scalar: 6.4 MiB expanded from 64 KiB of text, allowed
      assert.is_table(yaml.load(repeated(64 * 1024, 100)))
      -- 1100 of them: 70 MiB, over the floor
      assert.is_nil(yaml.load(repeated(64 * 1024, 1100)))
      -- a map alias repeats its keys too
      local keyed = "m: &m {" .. ("k"):rep(1000) .. ": 1}\nl: [" .. ("*m, "):rep(99) .. "*m]\n"
      assert.is_table(yaml.load(keyed, { max_expanded = 110 * 1000 }))
      assert.is_nil(yaml.load(keyed, { max_expanded = 90 * 1000 }))
    end)

    it("takes max_expanded as the limit", function()
      local text = repeated(1000, 10) -- ~11 KB expanded
      assert.is_table(yaml.load(text, { max_expanded = 20000 }))
      local v, msg = yaml.load(text, { max_expanded = 5000 })
      assert.is_nil(v)
      assert.truthy(msg:find("more than 5000 bytes", 1, true), msg)
      assert.is_nil((yaml.load_all(text .. "---\n" .. text, { max_expanded = 15000 })))
    end)

    it("never refuses a document without aliases: it measures at most 8.5 x its text + 16", function()
      local shapes = {
        ("-\n"):rep(5000),                                   -- nulls, 2 bytes each
        "[" .. ("a,"):rep(5000) .. "a]",                    -- 1-byte scalars
        (function()                                         -- keys without values
          local k = {}
          for i = 1, 5000 do k[i] = string.format("%x", i) end
          return "{" .. table.concat(k, ",") .. "}"
        end)(),
        "[" .. ("[],"):rep(5000) .. "[]]",                  -- empty lists
        ("- {}\n"):rep(3000),                               -- empty maps
        ("--- x\n"):rep(2000),                              -- documents
      }
      for i, text in ipairs(shapes) do
        local v, msg = yaml.load_all(text, { max_expanded = math.ceil(8.5 * #text) + yaml.NODE_COST })
        assert.is_not_nil(v, "shape " .. i .. ": " .. tostring(msg))
      end
    end)
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

  it("nests at most MAX_DEPTH (64) levels, the limit of every input", function()
    assert.are.equal(64, yaml.MAX_DEPTH)
    assert.is_table(yaml.load(("["):rep(64) .. ("]"):rep(64)))
    local v, msg = yaml.load(("["):rep(65) .. ("]"):rep(65))
    assert.is_nil(v)
    assert.truthy(msg:find("nested deeper than 64 levels at line 1", 1, true), msg)
    local block = {}
    for i = 1, 65 do block[i] = ("  "):rep(i - 1) .. "k:" end
    block[#block] = block[#block] .. " 1"
    assert.is_nil((yaml.load(table.concat(block, "\n"))))
    assert.is_table(yaml.load(("["):rep(10) .. ("]"):rep(10), { max_depth = 10 }))
    assert.is_nil((yaml.load(("["):rep(11) .. ("]"):rep(11), { max_depth = 10 })))
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
