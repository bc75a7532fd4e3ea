-- eidos.recipe.lint: the built-in library passes every check; a broken copy
-- of it fails with every planted problem listed (lint never stops at the
-- first one).
local recipe = require("eidos.recipe")
local support = require("support")
-- the working directory (ctest runs specs from the source tree without
-- updating $PWD, which support.root reads)
local ROOT = io.popen("pwd"):read("l")

local function problems(report)
  local out = {}
  for _, p in ipairs(report.problems) do
    out[#out + 1] = (p.file or "") .. " | " .. p.check .. " | " .. p.message
  end
  return table.concat(out, "\n")
end

describe("eidos.recipe.lint", function()
  it("passes on the built-in library and covers the criteria matrix", function()
    local r = recipe.lint(recipe.library())
    assert.are.equal(0, #r.problems, problems(r))
    local s = r.summary
    assert.is_true(s.overlays > 1)
    assert.is_true(s.components > 0)
    assert.are.equal(s.combinations, s.combinationsBuilt)
    assert.is_true(s.combinations >= 6 * 7 * 5 * 3 * 3) -- service x accelerator x os x intent x platform, each + any
    assert.is_true(s.combinationsSpecialised > 0)
  end)

  it("passes on the rules fixture except the non-canonical value it holds on purpose", function()
    local r = recipe.lint(recipe.library({ data = "spec/fixtures/recipes/rules", data_mode = "replace" }))
    assert.are.equal(1, #r.problems, problems(r))
    assert.matches('write the canonical value "kind"', r.problems[1].message, 1, true)
  end)

  describe("its checks", function()
    local lint = require("eidos.recipe.lint")

    it("are a table of named checks, each with a description and the problems it reports", function()
      local names = {}
      assert.is_true(#lint.CHECKS >= 12)
      for _, c in ipairs(lint.CHECKS) do
        assert.matches("^[a-z][a-z-]*$", c.name)
        assert.is_nil(names[c.name], "check named twice: " .. c.name)
        names[c.name] = true
        assert.is_true(type(c.about) == "string" and #c.about > 10 and not c.about:find("\n"), c.name)
        assert.is_true(type(c.reports) == "table" and #c.reports > 0, c.name)
        assert.is_function(c.run, c.name)
      end
    end)

    it("are all run, in the table's order, a check added to the table included", function()
      local saved = {}
      for i, c in ipairs(lint.CHECKS) do saved[i] = c end
      local ran = {}
      local ok, err = pcall(function()
        for i, c in ipairs(saved) do
          lint.CHECKS[i] = { name = c.name, about = c.about, reports = c.reports,
                             run = function(ctx) ran[#ran + 1] = c.name; return c.run(ctx) end }
        end
        table.insert(lint.CHECKS, 3, { name = "zz-planted", about = "a check the spec adds", reports = { "planted" },
          run = function(ctx)
            ran[#ran + 1] = "zz-planted"
            ctx.add("zz.yaml", "planted", "found by the added check (" .. #ctx.overlays .. " overlays)")
          end })
        return recipe.lint(recipe.library({ data = "spec/fixtures/recipes/rules", data_mode = "replace" }))
      end)
      for i = #lint.CHECKS, 1, -1 do lint.CHECKS[i] = saved[i] end
      assert.is_true(ok, tostring(err))
      local r = err
      local want = {}
      for i, c in ipairs(saved) do want[#want + 1] = c.name; if i == 2 then want[#want + 1] = "zz-planted" end end
      assert.are.same(want, ran)
      assert.are.equal(#saved, #lint.CHECKS)
      local found
      for _, p in ipairs(r.problems) do
        if p.check == "planted" then found = p end
      end
      assert.is_table(found, problems(r))
      assert.are.equal("zz.yaml", found.file)
      assert.are.equal("found by the added check (" .. r.summary.overlays .. " overlays)", found.message)
      assert.are.equal(2, r.summary.problems)
    end)
  end)

  describe("on a broken copy", function()
    local dir, report, text
    setup(function()
      dir = support.tmpdir()
      os.execute("cp -r recipes/. " .. support.q(dir))
      local function edit(rel, from, to)
        local p = dir .. "/" .. rel
        local t = assert(support.read(p), rel)
        local n
        t, n = t:gsub(from, to, 1)
        assert(n == 1, "could not plant a problem in " .. rel .. ": " .. from)
        support.write(p, t)
      end
      local function add(rel, t) support.write(dir .. "/" .. rel, t) end
      -- 1 a missing base
      add("overlays/zz-orphan.yaml", "kind: RecipeMetadata\napiVersion: eidos.nvidia.com/v1alpha1\nmetadata:\n" ..
        "  name: zz-orphan\nspec:\n  base: no-such-parent\n  criteria:\n    service: eks\n    platform: dynamo\n" ..
        "    nodes: 99\n")
      -- 2 an inheritance cycle
      add("overlays/zz-cyc-a.yaml", "kind: RecipeMetadata\napiVersion: eidos.nvidia.com/v1alpha1\nmetadata:\n" ..
        "  name: zz-cyc-a\nspec:\n  base: zz-cyc-b\n  criteria:\n    service: kind\n    nodes: 3\n")
      add("overlays/zz-cyc-b.yaml", "kind: RecipeMetadata\napiVersion: eidos.nvidia.com/v1alpha1\nmetadata:\n" ..
        "  name: zz-cyc-b\nspec:\n  base: zz-cyc-a\n")
      -- 3 a file that does not parse
      add("overlays/zz-broken.yaml", "kind: RecipeMetadata\nmetadata: [\n")
      -- 4 a component missing from the registry, 5 a missing manifest, 6 a missing values file,
      -- 7 an unknown criteria value, 8 a constraint path no collector produces, 9 an unknown dependency
      add("overlays/zz-bad.yaml", [[
kind: RecipeMetadata
apiVersion: eidos.nvidia.com/v1alpha1
metadata:
  name: zz-bad
spec:
  criteria:
    service: eks
    accelerator: t4
  constraints:
    - name: GPU.smy.driver
      value: ">= 570"
  componentRefs:
    - name: no-such-component
      manifestFiles: [components/no-such-component/manifests/x.yaml]
    - name: cert-manager
      valuesFile: components/cert-manager/values-nope.yaml
]])
      edit("overlays/monitoring-hpa.yaml", "dependencyRefs: %[kube%-prometheus%-stack%]", "dependencyRefs: [no-such-dep]")
      -- 10 a registry entry listed twice
      text = support.read(dir .. "/registry.yaml")
      support.write(dir .. "/registry.yaml", text .. "\n  - name: cert-manager\n    displayName: again\n")
      report = recipe.lint(recipe.library({ data = dir, data_mode = "replace" }))
    end)
    teardown(function() os.execute("rm -rf " .. support.q(dir)) end)

    it("lists every planted problem", function()
      local all = problems(report)
      local want = {
        'names spec.base "no-such-parent"',
        "circular inheritance through spec.base: zz-cyc-a",
        "circular inheritance through spec.base: zz-cyc-b",
        "zz-broken.yaml | overlays |",
        'component "no-such-component" is not in the registry',
        "manifest components/no-such-component/manifests/x.yaml does not exist",
        "valuesFile components/cert-manager/values-nope.yaml does not exist",
        'invalid accelerator "t4"',
        "constraint GPU.smy.driver names no measurement",
        'depends on "no-such-dep", which is not in the recipe',
        'component "cert-manager" is listed twice',
      }
      for _, w in ipairs(want) do
        assert.is_truthy(all:find(w, 1, true), "missing problem: " .. w .. "\n--- got:\n" .. all)
      end
      assert.are.equal(#report.problems, report.summary.problems)
      assert.is_true(report.summary.combinationsBuilt < report.summary.combinations)
      -- each problem comes from a check that says it reports that kind of problem
      local declared = {}
      for _, c in ipairs(require("eidos.recipe.lint").CHECKS) do
        for _, k in ipairs(c.reports) do declared[k] = true end
      end
      for _, p in ipairs(report.problems) do assert.is_true(declared[p.check], p.check) end
    end)

    it("makes eidos recipe lint exit non-zero and print them", function()
      local env = { EIDOS_HOME = ROOT }
      local r = support.run({ "recipe", "lint", "--data", dir, "--data-mode", "replace" }, { env = env })
      assert.are.equal(1, r.code, r.err)
      assert.matches("no-such-dep", r.out, 1, true)
      assert.matches("problem", r.err, 1, true)
      r = support.run({ "recipe", "lint" }, { env = env })
      assert.are.equal(0, r.code, r.out .. r.err)
      assert.matches("problems: 0", r.out, 1, true)
    end)
  end)
end)
