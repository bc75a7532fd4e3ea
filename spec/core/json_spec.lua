-- eidos.core.json.drop: member values at given paths replaced by null in
-- JSON text, without a parse tree; everything else byte for byte; text
-- that is not JSON refused.
local json = require("eidos.core.json")
local cjson = require("cjson")

describe("eidos.core.json.drop", function()
  it("replaces the values at the paths, at their depth only, and keeps the rest as written", function()
    local t = '{"name":"x","chart":{"metadata":{"name":"c"},"templates":[{"name":"a","data":"QUJD"}],' ..
      '"values":{"manifest":"keep","templates":[1,2]}},"config":{"manifest":"also kept"},' ..
      '"manifest":"---\\nkind: \\"Secret\\"\\n","version":3}'
    local out = assert(json.drop(t, { "manifest", "chart.templates" }))
    assert.are.equal('{"name":"x","chart":{"metadata":{"name":"c"},"templates":null,' ..
      '"values":{"manifest":"keep","templates":[1,2]}},"config":{"manifest":"also kept"},' ..
      '"manifest":null,"version":3}', out)
    local d = cjson.decode(out)
    assert.are.equal("keep", d.chart.values.manifest)
    assert.are.equal(3, d.version)
    assert.are.equal(t, assert(json.drop(t, {})))
  end)

  it("handles whitespace, escapes, nested containers and short values", function()
    local t = '{ "a" : { "b" : [ {"c": "]}\\\\"}, "x\\"y" ] , "d" : 1 }, "e": "\\\\", "f": [] }'
    -- "e" is 4 bytes ("\\" with its quotes): replaced; "f" ([]) is shorter than null: kept
    assert.are.equal('{ "a" : null, "e": null, "f": [] }', assert(json.drop(t, { "a", "e", "f" })))
    assert.are.equal('{ "a" : { "b" : null , "d" : 1 }, "e": "\\\\", "f": [] }', assert(json.drop(t, { "a.b" })))
    -- paths do not count array levels
    assert.are.equal('[{"k":null}]', assert(json.drop('[{"k":"value"}]', { "k" })))
  end)

  it("refuses text that is not JSON", function()
    for _, c in ipairs({ { '{"a": "open', "unterminated value" }, { '[1, 2}', "stray '}'" },
                         { '{"b": {', "2 containers left open" }, { '{"m": "x', "unterminated" },
                         { string.rep("[", 65) .. string.rep("]", 65), "nests deeper than 64" } }) do
      local v, msg, code = json.drop(c[1], { "a" })
      assert.is_nil(v)
      assert.are.equal("invalid", code)
      assert.matches(c[2], msg, 1, true)
    end
    assert.has_error(function() json.drop("{}", "a") end)
  end)
end)
