-- spec/policy/text_spec.lua: eidos.text, the string helpers that stay
-- linear on hostile input, and the counted nouns of closing lines
local text = require("eidos.text")

describe("eidos.text", function()
  it("trims in time linear in the input, even on long runs of white space", function()
    local run = string.rep(" ", 200000)
    local t0 = os.clock()
    assert.are.equal("x", text.trim(run .. "x" .. run))
    assert.are.equal(run .. "x", text.rtrim(run .. "x" .. run))
    assert.are.equal("x" .. run, text.ltrim(run .. "x" .. run))
    assert.are.equal("a/b", text.rstrip("a/b" .. string.rep("/", 200000), "/"))
    assert.are.equal("", text.trim(run))
    assert.is_true(os.clock() - t0 < 1, "trimming 400,000 spaces took seconds")
  end)

  it("counts nouns: singular for one, plural otherwise", function()
    assert.are.equal("1 file", text.count(1, "file"))
    assert.are.equal("0 files", text.count(0, "file"))
    assert.are.equal("12 components", text.count(12, "component"))
    assert.are.equal("1 outlier path", text.count(1, "outlier path"))
    assert.are.equal("3 indices", text.count(3, "index", "indices"))
  end)
end)
