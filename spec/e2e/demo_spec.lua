-- scripts/demo as a new user sees it: five steps, each with what it is
-- about, the command as typed (`eidos ...`, relative paths) and eidos's own
-- one-line summary of what it wrote; no warning or error, contradictory or
-- repeated, no line said twice, every line within 120 columns, and the
-- files it announces are there.
local support = require("support")

describe("scripts/demo", function()
  local dir, out, ok
  setup(function()
    dir = support.tmpdir()
    local p = io.popen("cd " .. support.q(dir) .. " && EIDOS=" .. support.q(support.eidos_abs) .. " EIDOS_HOME=" ..
      support.q(support.root) .. " " .. support.q(support.root .. "/scripts/demo") .. " 2>&1")
    out = p:read("a")
    ok = p:close()
  end)
  teardown(function() os.execute("rm -rf " .. support.q(dir)) end)

  it("runs, and every step has a header, its commands and its summary", function()
    assert.is_true(ok, out)
    local steps = {}
    for i, what in out:gmatch("\n== (%d)/5 (%a+):") do steps[#steps + 1] = i .. " " .. what end
    assert.are.same({ "1 snapshot", "2 recipe", "3 validate", "4 bundle", "5 verify" }, steps)
    -- the commands as a user types them
    for line in out:gmatch("\n%$ ([^\n]*)") do
      assert.truthy(line:match("^eidos %l"), line)
      assert.is_nil(line:find(support.eidos_abs, 1, true), line)
    end
    assert.truthy(out:find("\n$ eidos snapshot %-%-sysroot [^\n]+/spec/fixtures/sysroot/basic %-o out/snapshot%.yaml\n"), out)
    -- the closing lines, in order, with their key numbers
    local wrote = {}
    for w in out:gmatch("\nwrote ([^\n]*)") do wrote[#wrote + 1] = w end
    assert.are.equal(4, #wrote, out)
    assert.truthy(wrote[1]:match("^snapshot to out/snapshot%.yaml %(5 measurements, K8s and SystemD not taken, 2 GPUs; "), wrote[1])
    assert.truthy(wrote[2]:match("^recipe to out/recipe%.yaml %(%d+ components, 4 constraints; "), wrote[2])
    assert.truthy(wrote[3]:match("^helm bundle to out/bundle%-helm %(%d+ components, %d+ files; start with its README%.md%)$"), wrote[3])
    assert.truthy(wrote[4]:match("^argocd bundle to out/bundle%-argocd%.tar%.gz %(%d+ components, %d+ files%)$"), wrote[4])
    assert.truthy(out:find("\n4 constraints: 3 passed, 0 failed, 1 skipped -> partial\n", 1, true), out)
    assert.truthy(out:find("\nOK: %d+ files listed in checksums%.txt, 0 problem%(s%)"), out)
    assert.truthy(out:find("\nDone: snapshot -> recipe -> validate -> bundle -> verify, all under out/\n", 1, true), out)
    for _, f in ipairs({ "snapshot.yaml", "recipe.yaml", "bundle-helm/README.md", "bundle-argocd.tar.gz" }) do
      assert.is_true(support.exists(dir .. "/out/" .. f), f)
    end
  end)

  it("says no warning or error, nothing twice, and fits 120 columns", function()
    assert.is_nil(out:find("warning", 1, true), out)
    assert.is_nil(out:find("error", 1, true), out)
    assert.is_nil(out:find("\27", 1, true), "escape sequences in a pipe")
    local seen = {}
    for line in out:gmatch("[^\n]+") do
      assert.is_true((utf8.len(line) or #line) <= 120, line)
      -- the recipe's command is shown twice on purpose (to a file, then as a table)
      if not line:find("^%$ eidos recipe") then
        assert.is_nil(seen[line], "said twice: " .. line)
        seen[line] = true
      end
    end
  end)
end)
