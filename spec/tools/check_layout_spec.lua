-- tools/check-layout on a small tree of its own: a cycle among three
-- source files (through the symbols of their objects, built here with cc)
-- is reported with the symbols that make it, oversized bindings and Lua
-- files are named, every path docs/architecture.md names must exist, and a
-- clean tree passes. The real tree is checked by
-- the ctest test tools/layout.
local support = require("support")
local q = support.q

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1; echo \"rc=$?\"")
  local out = p:read("a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)%s*$"))
  return rc, out
end

local function lines(n, line)
  return string.rep(line .. "\n", n)
end

-- a tree with src/core/{a,b,c}.c (a uses b, b uses c, and c uses a when
-- cyclic) compiled into build/CMakeFiles/t.dir/src/core/*.c.o
local function tree(cyclic)
  local d = support.tmpdir()
  os.execute("mkdir -p " .. q(d .. "/src/core") .. " " .. q(d .. "/src/bind") .. " " .. q(d .. "/lua/eidos")
    .. " " .. q(d .. "/build/CMakeFiles/t.dir/src/core"))
  support.write(d .. "/src/core/a.c", "int b(void);\nint a(void) { return b() + 1; }\n")
  support.write(d .. "/src/core/b.c", "int c(void);\nint b(void) { return c() + 1; }\n")
  support.write(d .. "/src/core/c.c", cyclic and "int a(void);\nint c(void) { return a(); }\n"
    or "int c(void) { return 1; }\n")
  for _, f in ipairs({ "a", "b", "c" }) do
    assert(os.execute("cc -c -o " .. q(d .. "/build/CMakeFiles/t.dir/src/core/" .. f .. ".c.o") .. " "
      .. q(d .. "/src/core/" .. f .. ".c")))
  end
  support.write(d .. "/src/bind/lsmall.c", lines(300, "/* x */"))
  support.write(d .. "/lua/eidos/small.lua", lines(600, "-- x"))
  os.execute("mkdir -p " .. q(d .. "/docs"))
  support.write(d .. "/docs/architecture.md", "| a | `src/core/a.c` | `lua/eidos/small.lua` | `src/bind` |\n")
  return d
end

-- known: a path for the table of known exceptions (else none)
local function check(d, known)
  return sh((known and ("CHECK_LAYOUT_KNOWN=" .. q(known) .. " ") or "CHECK_LAYOUT_NO_KNOWN=1 ") .. q(support.root .. "/tools/check-layout")
    .. " " .. q(d) .. " " .. q(d .. "/build"))
end

describe("tools/check-layout", function()
  it("reports a cycle among src/ files with the symbols that make it", function()
    local d = tree(true)
    local rc, out = check(d)
    assert.are.equal(1, rc, out)
    assert.truthy(out:find("cycle among src/core/a.c, src/core/b.c, src/core/c.c: "
      .. "src/core/a.c -> src/core/b.c (b); src/core/b.c -> src/core/c.c (c); src/core/c.c -> src/core/a.c (a)",
      1, true), out)
    os.execute("rm -rf " .. q(d))
  end)

  it("names every binding over 300 lines and Lua file over 600", function()
    local d = tree(false)
    support.write(d .. "/src/bind/lbig.c", lines(301, "/* x */"))
    support.write(d .. "/lua/eidos/big.lua", lines(601, "-- x"))
    os.execute("mkdir -p " .. q(d .. "/lua/eidos/deep"))
    support.write(d .. "/lua/eidos/deep/huge.lua", lines(900, "-- x"))
    local rc, out = check(d)
    assert.are.equal(1, rc, out)
    assert.truthy(out:find("src/bind/lbig.c has 301 lines", 1, true), out)
    assert.truthy(out:find("lua/eidos/big.lua has 601 lines", 1, true), out)
    assert.truthy(out:find("lua/eidos/deep/huge.lua has 900 lines", 1, true), out)
    assert.falsy(out:find("lsmall.c", 1, true), out)
    assert.falsy(out:find("small.lua", 1, true), out)
    assert.falsy(out:find("cycle among src/core", 1, true), out)
    os.execute("rm -rf " .. q(d))
  end)

  it("names every path of docs/architecture.md that does not exist, and a missing map", function()
    local d = tree(false)
    support.write(d .. "/docs/architecture.md", "# map\n\n| x | `src/core/a.c` | `src/core/gone.c` |\n" ..
      "see `lua/eidos/nowhere.lua` and `eidos.core.x` (no path) and `src/core/gone.c` again\n")
    local rc, out = check(d)
    assert.are.equal(1, rc, out)
    assert.truthy(out:find("docs/architecture.md:3 names src/core/gone.c, which does not exist", 1, true), out)
    assert.truthy(out:find("docs/architecture.md:4 names lua/eidos/nowhere.lua, which does not exist", 1, true), out)
    assert.falsy(out:find("a.c,", 1, true), out)
    local _, n = out:gsub("which does not exist", "")
    assert.are.equal(2, n, out)
    os.remove(d .. "/docs/architecture.md")
    rc, out = check(d)
    assert.are.equal(1, rc, out)
    assert.truthy(out:find("docs/architecture.md is missing", 1, true), out)
    os.execute("rm -rf " .. q(d))
  end)

  it("passes a clean tree, skipping objects whose source is gone", function()
    local d = tree(true)
    os.remove(d .. "/src/core/c.c") -- its object stays, as in a build dir after a rename
    local rc, out = check(d)
    assert.are.equal(0, rc, out)
    assert.truthy(out:find("checked 2 object files", 1, true), out)
    os.execute("rm -rf " .. q(d))
  end)

  it("asks for known exceptions that are no longer needed to go", function()
    local d = tree(false) -- without the file of the known exception
    local rc, out = check(d, "src/bind/lgone.c")
    assert.are.equal(1, rc, out)
    assert.truthy(out:find("delete its entry from KNOWN in tools/check-layout", 1, true), out)
    os.execute("rm -rf " .. q(d))
  end)
end)
