-- spec/e2e/mistakes_spec.lua: common command-line mistakes, each run
-- through the eidos binary. A row: args (and env), the documented exit
-- code, the bad word the message must name, the nearest right word it must
-- suggest as 'did you mean "X"?' (or no suggestion at all, hint = false,
-- when nothing is near), and optionally a fragment saying what is wrong.
-- Nothing may be written to stdout, and the message is one short line.
local support = require("support")

local EIDOS = support.eidos:sub(1, 1) == "/" and support.eidos or (support.root .. "/" .. support.eidos)

local ROWS = {
  -- commands and subcommands
  { args = { "recpie" }, bad = '"recpie"', hint = "recipe" },
  { args = { "snapsht", "-o", "s.yaml" }, bad = '"snapsht"', hint = "snapshot" },
  { args = { "valdate" }, bad = '"valdate"', hint = "validate" },
  { args = { "bundel", "-r", "r.yaml" }, bad = '"bundel"', hint = "bundle" },
  { args = { "help", "recpie" }, bad = '"recpie"', hint = "recipe" },
  { args = { "frobnicate" }, bad = '"frobnicate"', hint = false, msg = "accepted: bundle, catalog, completion" },
  { args = { "recipe", "lnt" }, bad = '"lnt"', hint = "lint" },
  { args = { "completion", "fsh" }, bad = '"fsh"', hint = "fish" },
  { args = { "version", "extra" }, bad = '"extra"', hint = false, msg = "takes flags only" },
  -- flags
  { args = { "recipe", "--servce", "eks" }, bad = '"--servce"', hint = "--service" },
  { args = { "recipe", "--acclerator", "h100" }, bad = '"--acclerator"', hint = "--accelerator" },
  { args = { "recipe", "--intnet", "training" }, bad = '"--intnet"', hint = "--intent" },
  { args = { "recipe", "--platfrom", "kubeflow" }, bad = '"--platfrom"', hint = "--platform" },
  { args = { "recipe", "--debg" }, bad = '"--debg"', hint = "--debug" },
  { args = { "bundle", "--deployr", "helm" }, bad = '"--deployr"', hint = "--deployer" },
  { args = { "snapshot", "--timout", "5s" }, bad = '"--timout"', hint = "--timeout" },
  { args = { "validate", "--snapshto", "s.yaml" }, bad = '"--snapshto"', hint = "--snapshot" },
  { args = { "lua", "--extrct", "d" }, bad = '"--extrct"', hint = "--extract" },
  { args = { "--versoin" }, bad = '"--versoin"', hint = "--version" },
  { args = { "recipe", "--force" }, bad = '"--force"', hint = false, msg = "eidos recipe --help" },
  -- enum values
  { args = { "recipe", "--service", "ekss" }, bad = '"ekss"', hint = "eks" },
  { args = { "recipe", "--gpu", "h10" }, bad = '"h10"', hint = "h100" },
  { args = { "recipe", "--accelerator", "gb20" }, bad = '"gb20"', hint = "gb200" },
  { args = { "recipe", "--intent", "trainig" }, bad = '"trainig"', hint = "training" },
  { args = { "query", "--intent", "inferance", "--selector", "." }, bad = '"inferance"', hint = "inference" },
  { args = { "recipe", "--os", "ubunt" }, bad = '"ubunt"', hint = "ubuntu" },
  { args = { "recipe", "--os", "redhat" }, bad = '"redhat"', hint = false, msg = "aliases: al2 -> amazonlinux" },
  { args = { "recipe", "--platform", "kubeflw" }, bad = '"kubeflw"', hint = "kubeflow" },
  { args = { "recipe", "-t", "jsn" }, bad = '"jsn"', hint = "json" },
  { args = { "recipe", "-t", "yml" }, bad = '"yml"', hint = "yaml" },
  { args = { "validate", "-s", "s.yaml", "-t", "junt" }, bad = '"junt"', hint = "junit" },
  { args = { "verify", "b", "-t", "jsn" }, bad = '"jsn"', hint = "json" },
  { args = { "bundle", "-r", "r.yaml", "-o", "out", "-d", "argo" }, bad = '"argo"', hint = "argocd" },
  { args = { "bundle", "-r", "r.yaml", "-o", "out", "-d", "helmm" }, bad = '"helmm"', hint = "helm" },
  { args = { "--log-level", "warning", "version" }, bad = '"warning"', hint = "warn" },
  { args = { "bundle", "-r", "r.yaml", "-o", "out", "--system-node-toleration", "a=b:NoSchedul" },
    bad = '"NoSchedul"', hint = "NoSchedule" },
  -- values and flags that do not fit together
  { args = { "recipe", "--service", "--intent", "training" }, bad = '"--intent"', hint = false,
    msg = "flag --service needs a value (SERVICE), but the next word is the flag" },
  { args = { "recipe", "--service", "eks", "--service", "gke" }, bad = '"gke"', hint = false, msg = "given twice" },
  { args = { "snapshot", "--timeout", "5s", "--timeout", "9s" }, bad = '"9s"', hint = false, msg = "given twice" },
  { args = { "recipe", "--service", "eks", "-o", "yaml" }, bad = '"yaml"', hint = false, msg = "-t picks the format" },
  { args = { "validate", "-s", "s.yaml", "-c", "OS.release.ID ubuntu", "-o", "junit" }, bad = '"junit"', hint = false,
    msg = "-t picks the format" },
  { args = { "snapshot", "--only", "OS", "-o", "wide" }, bad = '"wide"', hint = false, msg = "eidos takes --wide" },
  { args = { "recipe", "--accelerator", "h100", "--gpu", "h200" }, bad = '"h200"', hint = false, msg = "disagree" },
  { args = { "snapshot", "--namespace", "gpu-operator" }, bad = "--namespace", hint = false,
    msg = "only applies with --deploy-agent" },
  { args = { "snapshot", "--node-selector", "pool=gpu" }, bad = "--node-selector", hint = false,
    msg = "only applies with --deploy-agent" },
  { args = { "snapshot", "--deploy-agent", "--sysroot", "." }, bad = "--sysroot", hint = false,
    msg = "cannot be used together" },
  { args = { "snapshot", "--only", "OSS" }, bad = '"OSS"', hint = "OS" },
  -- no cluster configured: --watch stops at once (exit 3), it does not retry every interval
  { args = { "snapshot", "--watch", "--interval", "1s", "--only", "OS", "-o", "cm://eidos/node" },
    env = { KUBECONFIG = "", HOME = "/nonexistent" }, code = 3, bad = "KUBECONFIG", hint = false,
    msg = "no Kubernetes configuration found" },
  -- sizes, durations, counts
  { args = { "--max-input-size", "99999999999999999999G", "version" }, bad = '"99999999999999999999G"', hint = false,
    msg = "too large" },
  { args = { "--hook-timeout", "banana", "version" }, bad = '"banana"', hint = false, msg = "1m30s" },
  { args = { "snapshot", "--timeout", "25h" }, bad = '"25h"', hint = false, msg = "maximum of 24h" },
  { args = { "serve", "--body-limit", "4XB" }, bad = '"4XB"', hint = false, msg = "unknown unit" },
  { args = { "serve" }, env = { EIDOS_REQUEST_TIMEOUT = "soon" }, bad = "EIDOS_REQUEST_TIMEOUT", hint = false,
    msg = '"soon"' },
  { args = { "recipe", "--nodes", "many" }, bad = '"many"', hint = false, msg = "an integer" },
}

describe("common mistakes", function()
  it("are at least 40, each naming its bad word", function()
    assert.is_true(#ROWS >= 40, #ROWS .. " rows")
  end)

  local dir
  setup(function() dir = support.tmpdir() end)
  teardown(function() os.execute("rm -rf " .. support.q(dir)) end)

  for _, row in ipairs(ROWS) do
    local label = "eidos " .. table.concat(row.args, " ")
    it(label .. " -> exit " .. (row.code or 2) .. (row.hint and (", did you mean " .. row.hint) or ""), function()
      local env = { NO_COLOR = "1", EIDOS_HOOKS = "", EIDOSD = "/nonexistent/eidosd" }
      for k, v in pairs(row.env or {}) do env[k] = v end
      local r = support.run(row.args, { env = env, cwd = dir, bin = EIDOS })
      local say = "\n$ " .. label .. "\nexit " .. tostring(r.code) .. "\nstderr: " .. r.err .. "\nstdout: " .. r.out
      assert.are.equal(row.code or 2, r.code, "exit status" .. say)
      assert.are.equal("", r.out, "stdout" .. say)
      assert.truthy(r.err:find(row.bad, 1, true), "the message does not name " .. row.bad .. say)
      if row.hint then
        assert.truthy(r.err:find('did you mean "' .. row.hint .. '"', 1, true) or
                      r.err:find(' or "' .. row.hint .. '"?', 1, true), "no hint " .. row.hint .. say)
      else
        assert.falsy(r.err:find("did you mean", 1, true), "an unexpected hint" .. say)
      end
      if row.msg then assert.truthy(r.err:find(row.msg, 1, true), "the message lacks " .. row.msg .. say) end
      local _, lines = r.err:gsub("\n", "")
      assert.are.equal(1, lines, "one line" .. say)
    end)
  end
end)

describe("the program's help and version", function()
  it("bare eidos and 'eidos help' print the short help and exit 0", function()
    for _, args in ipairs({ {}, { "help" }, { "--help" }, { "-h" } }) do
      local r = support.run(args)
      assert.are.equal(0, r.code, r.err)
      assert.truthy(r.out:find("Commands:", 1, true), r.out)
      assert.truthy(r.out:find("recipe", 1, true), r.out)
    end
  end)

  it("'eidos help COMMAND' is the command's --help, and --version prints one line", function()
    local a, b = support.run({ "help", "recipe" }), support.run({ "recipe", "--help" })
    assert.are.equal(0, a.code)
    assert.are.equal(b.out, a.out)
    assert.truthy(a.out:find("Subcommands:", 1, true))
    local v = support.run({ "--version" })
    assert.are.equal(0, v.code, v.err)
    assert.truthy(v.out:match("^eidos %d+%.%d+%.%d+.*\n$"), v.out)
  end)

  it("--help shows types, values with aliases from the engine's data, defaults and constraints", function()
    local r = support.run({ "recipe", "--help" })
    assert.truthy(r.out:find("--os OS", 1, true))
    assert.truthy(r.out:find("(ubuntu|rhel|cos|amazonlinux)", 1, true), r.out)
    assert.truthy(r.out:find("al2 = amazonlinux", 1, true), r.out)
    r = support.run({ "snapshot", "--help" })
    assert.truthy(r.out:find("--namespace NS", 1, true))
    assert.truthy(r.out:find("(needs --deploy-agent)", 1, true), r.out)
    r = support.run({ "bundle", "--help" })
    assert.truthy(r.out:find("(helm|argocd|flux|helm-components) [default helm]", 1, true), r.out)
    r = support.run({ "serve", "--help" })
    assert.truthy(r.out:find("--body-limit SIZE", 1, true), r.out)
    assert.truthy(r.out:find("[default 4Mi] [env EIDOS_BODY_LIMIT]", 1, true), r.out)
  end)
end)

describe("subcommands that are commands of their own", function()
  -- a command may name modules as subcommands (eidos bundle pull): they
  -- parse their own flags, have their own help and complete like commands
  local home
  setup(function()
    home = support.tmpdir()
    os.execute("mkdir -p " .. home .. "/lua/eidos/cmd/demo")
    support.write(home .. "/lua/eidos/cmd/demo.lua", [[
return { name = "demo", summary = "a demo", subcommands = { hello = "eidos.cmd.demo.hello" },
         run = function() io.write("demo\n") return 0 end }
]])
    support.write(home .. "/lua/eidos/cmd/demo/hello.lua", [[
return { summary = "say hello", flags = { { name = "who", arg = "NAME", choices = { "world", "moon" } } },
         run = function(ctx) io.write("hello " .. (ctx.opts.who or "?") .. "\n") return 0 end }
]])
  end)
  teardown(function() os.execute("rm -rf " .. support.q(home)) end)

  it("run, help, hints and completion", function()
    local env = { EIDOS_HOME = home }
    local r = support.run({ "--debug", "demo", "hello", "--who", "moon" }, { env = env })
    assert.are.equal(0, r.code, r.err)
    assert.are.equal("hello moon\n", r.out)
    r = support.run({ "demo" }, { env = env })
    assert.are.equal("demo\n", r.out)
    r = support.run({ "help", "demo" }, { env = env })
    assert.truthy(r.out:find("hello   say hello", 1, true), r.out)
    r = support.run({ "demo", "hello", "--help" }, { env = env })
    assert.truthy(r.out:find("Usage: eidos demo hello [flags]", 1, true), r.out)
    r = support.run({ "demo", "helo" }, { env = env })
    assert.are.equal(2, r.code)
    assert.truthy(r.err:find('did you mean "hello"?', 1, true), r.err)
    r = support.run({ "demo", "hello", "--who", "mon" }, { env = env })
    assert.are.equal(2, r.code)
    assert.truthy(r.err:find('did you mean "moon"?', 1, true), r.err)
    r = support.run({ "__complete", "demo", "" }, { env = env })
    assert.truthy(r.out:find("\nhello\tsay hello", 1, true), r.out)
    r = support.run({ "__complete", "demo", "hello", "--who", "" }, { env = env })
    assert.truthy(r.out:find("\nworld\nmoon\n", 1, true), r.out)
  end)
end)
