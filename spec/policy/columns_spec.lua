-- eidos.columns: fitting tables and prose to a width, on ordinary and
-- hostile cells (long runs of spaces, invalid UTF-8, megabyte values).
local columns = require("eidos.columns")

local function widest(text)
  local w = 0
  for line in text:gmatch("[^\n]*") do w = math.max(w, utf8.len(line) or #line) end
  return w
end

describe("eidos.columns", function()
  it("aligns a table that fits, and leaves it as it is", function()
    local t = columns.render({ { "NAME", "VALUE" }, { "a", "1" }, { "long-name", "22" } }, { width = 80 })
    assert.are.equal("NAME       VALUE\na          1\nlong-name  22\n", t)
  end)

  it("cuts the longest columns first, to a common width, with ASCII '...'", function()
    local rows = { { "NAME", "A", "B" }, { "x", string.rep("a", 100), string.rep("b", 60) } }
    local t = columns.render(rows, { width = 60 })
    assert.is_true(widest(t) <= 60, t)
    assert.truthy(t:find("aaa...", 1, true), t)
    assert.truthy(t:find("bbb...", 1, true), t)
    assert.is_nil(t:find("\u{2026}", 1, true)) -- no Unicode ellipsis
    -- the short column keeps its width
    assert.truthy(t:match("\nx     a"), t)
  end)

  it("elides paths in the middle, wraps the columns asked to, leaves out optional ones with a note", function()
    local path = "recipes/overlays/" .. string.rep("x", 60) .. "-training.yaml"
    local t = columns.render({ { "N", "FILE" }, { "a", path } }, { width = 40, middle = { [2] = true } })
    assert.truthy(t:find("recipes/overlays/", 1, true) and t:find("-training.yaml", 1, true) and t:find("...", 1, true), t)
    t = columns.render({ { "N", "WHY" }, { "a", "one two three four five six seven eight nine ten eleven twelve" } },
      { width = 44, wrap = { [2] = true } })
    assert.is_true(widest(t) <= 44, t)
    assert.are.equal("one two three four five six seven eight nine ten eleven twelve",
      (t:gsub("^[^\n]*\n", ""):gsub("\n%s+", " "):gsub("^a%s+", ""):gsub("\n$", "")))
    t = columns.render({ { "NAME", "SOURCE" }, { "a", string.rep("s", 200) } },
      { width = 40, optional = { [2] = true }, min = { 40 } })
    assert.truthy(t:find("(SOURCE left out to fit 40 columns; --wide shows it)", 1, true), t)
    assert.is_nil(t:find("sss", 1, true), t)
  end)

  it("paints cells without counting the colour in the width", function()
    local t = columns.render({ { "S", "X" }, { "ok", "1" }, { "failed", "2" } },
      { width = 80, paint = function(s, row, col) return (row > 1 and col == 1) and ("<" .. s .. ">") or s end })
    assert.are.equal("S       X\n<ok>      1\n<failed>  2\n", t)
  end)

  it("wraps prose with a hanging indent, and keeps lines that fit", function()
    local t = columns.text("  short\n  " .. string.rep("word ", 30), { width = 50 })
    assert.is_true(widest(t) <= 50, t)
    assert.truthy(t:find("^  short\n  word", 1), t)
    assert.truthy(t:find("\n      word", 1, true), t)
  end)

  it("stays linear on hostile cells and never breaks on invalid UTF-8", function()
    local big = "a" .. string.rep(" ", 200000) .. "b" .. string.rep("x,", 200000)
    local t0 = os.clock()
    local lines = columns.wrap(big, 60)
    local t = columns.render({ { "K", "V" }, { "k", big } }, { width = 80, wrap = { [2] = true } })
    columns.text(big, { width = 80 })
    columns.render({ { "K", "V" }, { "k", big } }, { width = 80, middle = { [2] = true } })
    assert.is_true(os.clock() - t0 < 5, "took " .. (os.clock() - t0) .. " s")
    assert.is_true(#lines > 1000)
    assert.is_true(widest(t) <= 80)
    local bad = "\xff\xfe" .. string.rep("\x80", 100) .. "tail"
    t = columns.render({ { "K", "V" }, { "k", bad } }, { width = 40 })
    assert.is_true(widest(t) <= 40, t)
    assert.truthy(columns.wrap(bad, 10)[1])
    assert.are.equal(3, #columns.elide(bad, 3))
  end)

  it("gives everything with an unlimited width (--wide)", function()
    local long = string.rep("z", 500)
    local t = columns.render({ { "A", "B" }, { "x", long } }, { width = math.huge })
    assert.truthy(t:find(long, 1, true))
  end)
end)
