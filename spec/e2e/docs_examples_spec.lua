-- The examples of docs/snapshot.md (fleet runs, prune, watch, diff) and
-- docs/validate.md (a fleet), run as written. An example is a ```console
-- block after a line `<!-- example: NAME -->`: each `$ ` line (with its `\`
-- continuation lines) is run by sh in a directory of its own for the
-- document, with eidos on PATH, against the test API server simulating an
-- 8-node cluster (pools gpu and gpu-b; gpu-node-3 with another driver,
-- gpu-node-6 with an older API server) and with h100.yaml and gb200.yaml
-- (the real snapshots of ../shared) at hand. Every output line the
-- document shows must come out, in order (blanks collapsed; `...` stands
-- for lines left out, `<run-id>` for a run id, `<elapsed>` for the time a
-- progress line reports). If this spec fails, the
-- documentation is wrong.
local fake = require("k8s_fake")
local support = require("support")

local available = fake.available() and support.exists(support.eidos) and support.shared() ~= nil
local describe_if = available and describe or pending

-- examples(path) -> list of {name=, steps = {{cmd=, out = {lines}}}}
local function examples(path)
  local out, cur, step, inblock, name = {}, nil, nil, false, nil
  for line in (support.read(path) .. "\n"):gmatch("([^\n]*)\n") do
    if not inblock then
      name = line:match("^<!%-%- example: ([%w-]+) %-%->$") or (line == "```console" and name) or nil
      if line == "```console" and name then
        inblock, cur = true, { name = name, steps = {} }
        out[#out + 1] = cur
      end
    elseif line == "```" then
      inblock, name, step = false, nil, nil
    elseif line:sub(1, 2) == "$ " then
      step = { cmd = line:sub(3), out = {} }
      cur.steps[#cur.steps + 1] = step
    elseif step and step.cmd:sub(-1) == "\\" and #step.out == 0 then
      step.cmd = step.cmd:sub(1, -2) .. " " .. line:gsub("^%s+", "")
    elseif step then
      step.out[#step.out + 1] = line
    end
  end
  return out
end

local function norm(s) return (s:gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")) end

-- matches(doc line, actual line): blanks collapsed, <run-id> any run id,
-- <elapsed> the time a progress line reports (12s, 1m05s)
local function matches(want, got)
  local pat = "^" .. norm(want):gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"):gsub("<run%%%-id>", "%%w+")
    :gsub("<elapsed>", "[%%dhms]+") .. "$"
  return norm(got):match(pat) ~= nil
end

-- check(step, text): the document's lines, in order, among the actual ones
local function check(step, text)
  local got = {}
  for l in (text .. "\n"):gmatch("([^\n]*)\n") do got[#got + 1] = l end
  local i = 1
  for _, want in ipairs(step.out) do
    if want ~= "..." and norm(want) ~= "" then
      while i <= #got and not matches(want, got[i]) do i = i + 1 end
      assert(i <= #got, string.format("$ %s\nthe documented line\n  %s\nis not in the output (in order):\n%s",
        step.cmd, want, text))
      i = i + 1
    end
  end
end

describe_if("the documented examples", function()
  for _, docfile in ipairs({ "docs/snapshot.md", "docs/validate.md" }) do
    describe(docfile, function()
      local srv, dir, env

      setup(function()
        srv = fake.start({ nodes = 8, pods = 5, job_delay = 0.2, args = { "--namespace", "eidos" } })
        srv:control("fleet", { overrides = { ["gpu-node-3"] = { ["GPU.smi.driver"] = "550.54.15" },
                                             ["gpu-node-6"] = { ["K8s.server.version"] = "v1.29.15-eks-3025e55" } } })
        dir = support.tmpdir()
        local shared = support.shared()
        os.execute(string.format("cp %s/fixtures/snapshots/h100-eks-ubuntu.yaml %s/h100.yaml && " ..
          "cp %s/fixtures/snapshots/gb200-eks-ubuntu.yaml %s/gb200.yaml",
          support.q(shared), support.q(dir), support.q(shared), support.q(dir)))
        env = string.format("export EIDOS_HOME=%s KUBECONFIG=%s EIDOS_AGENT_POLL=0.2 HOME=%s PATH=%s:\"$PATH\"; ",
          support.q(support.root), support.q(srv:kubeconfig("cert")), support.q(dir),
          support.q(support.build:sub(1, 1) == "/" and support.build or (support.root .. "/" .. support.build)))
      end)

      teardown(function()
        if srv then srv:stop() end
        fake.cleanup()
        if dir then os.execute("rm -rf " .. support.q(dir)) end
      end)

      local list = examples(docfile)
      it("has examples", function() assert.is_true(#list > 0) end)
      for _, ex in ipairs(list) do
        it(ex.name, function()
          for _, step in ipairs(ex.steps) do
            local r = support.sh(env .. "exec 2>&1; " .. step.cmd, dir)
            assert.are.equal(0, r.code, "$ " .. step.cmd .. "\n" .. r.out .. r.err)
            check(step, r.out)
          end
        end)
      end
    end)
  end
end)
