-- spec/e2e/helm_real_spec.lua: the Helm umbrella charts eidos writes, checked
-- by the real Helm when `helm` is on PATH (Debian 12 packages no Helm, so CI
-- shows these as skipped; docs/bundle.md says how the development check was
-- run). For recipes of the built-in library: `helm lint` passes, and `helm
-- template` renders the chart's own templates with every dependency present
-- as an empty chart of the same name and version (the real charts are on the
-- internet, which the tests cannot reach), so what is checked is eidos's part:
-- Chart.yaml, values.yaml scoped per dependency, and the templates it adds.
local support = require("support")
local yaml = require("eidos.core.yaml")

local q = support.q

local function has_helm() return os.execute("command -v helm >/dev/null 2>&1") == true end

local CRITERIA = {
  { "--service", "eks", "--accelerator", "h100", "--os", "ubuntu", "--intent", "training" },
  { "--service", "eks", "--accelerator", "gb200", "--os", "ubuntu", "--intent", "training" },
  { "--service", "gke", "--accelerator", "h100", "--os", "cos", "--intent", "inference" },
}

describe("the real Helm on eidos's umbrella charts", function()
  if not has_helm() then
    pending("skipped: helm is not on PATH (not packaged for Debian 12; see docs/bundle.md)")
    return
  end

  for _, crit in ipairs(CRITERIA) do
    local label = table.concat(crit, " ")
    it("lints and renders the chart of " .. label, function()
      local dir = support.tmpdir()
      local args = { "recipe" }
      for _, a in ipairs(crit) do args[#args + 1] = a end
      args[#args + 1] = "-o"
      args[#args + 1] = dir .. "/recipe.yaml"
      local r = support.run(args)
      assert.are.equal(0, r.code, r.err)
      r = support.run({ "bundle", "-r", dir .. "/recipe.yaml", "-o", dir .. "/chart" })
      assert.are.equal(0, r.code, r.err)

      local lint = support.sh("helm lint " .. q(dir .. "/chart"))
      assert.are.equal(0, lint.code, lint.out .. lint.err)
      assert.truthy(lint.out:find("0 chart(s) failed", 1, true), lint.out)

      local chart = yaml.load(support.read(dir .. "/chart/Chart.yaml"))
      assert.truthy(#chart.dependencies > 0)
      for _, d in ipairs(chart.dependencies) do
        os.execute("mkdir -p " .. q(string.format("%s/chart/charts/%s", dir, d.name)))
        support.write(string.format("%s/chart/charts/%s/Chart.yaml", dir, d.name),
          string.format("apiVersion: v2\nname: %s\nversion: %s\n", d.name, d.version))
      end
      local t = support.sh("helm template t " .. q(dir .. "/chart") .. " > " .. q(dir .. "/out.yaml"))
      assert.are.equal(0, t.code, t.err)
      -- every template eidos wrote renders (each component is enabled), and
      -- the output is YAML Helm would send to the cluster
      local want = support.sh("find " .. q(dir .. "/chart/templates") .. " -name '*.yaml' | wc -l")
      local got = support.sh("grep '^# Source: ' " .. q(dir .. "/out.yaml") .. " | sort -u | wc -l")
      local parse = support.sh("python3 -c 'import sys, yaml; list(yaml.safe_load_all(open(sys.argv[1])))' " ..
        q(dir .. "/out.yaml"))
      assert.are.equal(0, parse.code, parse.err)
      assert.are.equal(tonumber(want.out), tonumber(got.out), support.read(dir .. "/out.yaml"))
      os.execute("rm -rf " .. q(dir))
    end)
  end
end)
