-- eidos.core.merge: deep merge rules and immutability of inputs
local merge = require("eidos.core.merge")
local doc = require("eidos.doc")
local emit = require("eidos.core.emit")

describe("eidos.core.merge", function()
  it("merges maps recursively and replaces lists and scalars", function()
    local a = { x = 1, m = { a = 1, b = { c = 1 } }, l = doc.list({ 1, 2, 3 }) }
    local b = { y = 2, m = { b = { d = 2 } }, l = doc.list({ 9 }) }
    local r = merge.deep(a, b)
    assert.are.same({ x = 1, y = 2, m = { a = 1, b = { c = 1, d = 2 } }, l = { 9 } }, r)
  end)

  it("never mutates its inputs and shares no tables with them", function()
    local a = { m = { k = 1 } }
    local b = { m = { j = 2 } }
    local r = merge.deep(a, b)
    r.m.k = 99
    assert.are.equal(1, a.m.k)
    assert.is_nil(a.m.j)
    assert.are_not.equal(a.m, r.m)
  end)

  it("lets null and scalars replace maps, and merges several layers in order", function()
    local r = merge.deep({ a = { x = 1 } }, { a = emit.null }, { b = 1 }, nil, { b = 2 })
    assert.are.equal(emit.null, r.a)
    assert.are.equal(2, r.b)
  end)

  it("keeps list markers and key order on copies", function()
    local t = doc.ordered({ kind = "K", a = doc.list({}) }, { "kind" })
    local c = merge.copy(t)
    assert.are.equal(emit.yaml(t), emit.yaml(c))
    assert.are.equal("kind: K\na: []\n", emit.yaml(c))
  end)

  it("refuses cycles", function()
    local t = {}
    t.t = t
    assert.has_error(function() merge.copy(t) end)
  end)
end)
