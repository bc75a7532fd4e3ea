-- eidos.core.emit: canonical YAML and JSON
local emit = require("eidos.core.emit")
local yaml = require("eidos.core.yaml")
local doc = require("eidos.doc")
local support = require("support")

describe("eidos.core.emit", function()
  it("orders keys by __order, then naturally", function()
    local t = doc.ordered({ b = 1, a = 2, kind = "X", k10 = 1, k2 = 1 }, { "kind" })
    assert.are.equal("kind: X\na: 2\nb: 1\nk2: 1\nk10: 1\n", emit.yaml(t))
    assert.are.equal('{"kind":"X","a":2,"b":1,"k2":1,"k10":1}\n', emit.json(t, { indent = 0 }))
  end)

  it("quotes strings that would read back as another type", function()
    local t = { a = "24.04", b = "true", c = "yes", d = "null", e = "", f = "123", g = "v1.2", h = "0x1F",
                i = "on", j = ">= 1.32", k = "1_000" }
    local out = emit.yaml(t)
    local back = yaml.load(out)
    for k, v in pairs(t) do assert.are.equal(v, back[k], k) end
    assert.truthy(out:find('a: "24.04"', 1, true))
    assert.truthy(out:find("g: v1.2", 1, true))
  end)

  it("keeps integers integers and floats floats", function()
    local out = emit.yaml({ i = 3, f = 3.0, big = 9007199254740993, neg = -7, half = 0.5 })
    assert.are.equal("big: 9007199254740993\nf: 3.0\nhalf: 0.5\ni: 3\nneg: -7\n", out)
    local back = yaml.load(out)
    assert.are.equal(math.type(back.i), "integer")
    assert.are.equal(math.type(back.f), "float")
    assert.are.equal(9007199254740993, back.big)
  end)

  it("round-trips empty maps and lists, and null", function()
    local t = { m = {}, l = doc.list({}), z = emit.null, nested = { x = doc.list({}) } }
    local y = emit.yaml(t)
    assert.are.equal("l: []\nm: {}\nnested:\n  x: []\nz: null\n", y)
    local back = yaml.load(y)
    assert.are.equal(emit.null, back.z)
    assert.are.equal(emit.yaml(back), y)
    assert.are.equal('{\n  "l": [],\n  "m": {},\n  "nested": {\n    "x": []\n  },\n  "z": null\n}\n', emit.json(t))
  end)

  it("writes multi-line strings as literal blocks", function()
    local y = emit.yaml({ s = "line1\nline2\n" })
    assert.are.equal("s: |\n  line1\n  line2\n", y)
    assert.are.equal("line1\nline2\n", yaml.load(y).s)
  end)

  it("escapes JSON strings", function()
    assert.are.equal('"a\\"b\\\\c\\n\\u0001"\n', emit.json("a\"b\\c\n\1"))
  end)

  it("refuses functions, cycles and NaN in JSON", function()
    assert.has_error(function() emit.yaml({ f = print }) end)
    local t = {}
    t.self = t
    assert.has_error(function() emit.yaml(t) end)
    local v, msg, code = emit.json({ x = 0 / 0 })
    assert.is_nil(v)
    assert.are.equal("invalid", code)
    assert.truthy(msg:find("NaN"))
  end)

  it("gives identical bytes for hundreds of keys in fresh processes", function()
    local script = [[
      local emit = require("eidos.core.emit")
      local t = {}
      for i = 1, 500 do t["key" .. i] = { n = i, s = "v" .. i, l = { i, i + 1 }, f = i / 7 } end
      io.write(emit.yaml(t), emit.json(t))
    ]]
    local dir = support.tmpdir()
    support.write(dir .. "/gen.lua", script)
    local first
    for _ = 1, 5 do
      local p = io.popen(support.q(support.eidos) .. " lua " .. dir .. "/gen.lua")
      local out = p:read("a")
      p:close()
      assert.truthy(#out > 10000)
      if first then assert.are.equal(first, out) else first = out end
    end
    os.execute("rm -rf " .. dir)
  end)
end)
