-- spec/e2e/completion_spec.lua: shell completion as users meet it. The
-- engine (`eidos __complete`) is asked directly; the generated bash script
-- is driven through its completion function with COMP_WORDS/COMP_CWORD as
-- bash sets them (words split at ':' and '='); zsh runs interactively in
-- tmux and gets real TAB presses; fish completes with `complete -C`; the
-- PowerShell script is generated from the same model but unchecked (not
-- packaged for Debian 12). cm:// namespaces come from the test API server.
local support = require("support")
local fake = require("k8s_fake")

local BIN = (support.build:sub(1, 1) == "/" and support.build or (support.root .. "/" .. support.build))
local PATH = BIN .. ":" .. (os.getenv("PATH") or "/usr/bin:/bin")
local q = support.q

local function have(cmd) return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == true end

local function sh(cmd)
  local p = io.popen(cmd)
  local out = p:read("a")
  p:close()
  return out
end

-- the engine: the directive line and the candidate values
local function engine(words, env)
  local r = support.run({ "__complete", table.unpack(words) }, { env = env })
  assert.are.equal(0, r.code, r.err)
  local lines = {}
  for l in r.out:gmatch("[^\n]+") do lines[#lines + 1] = l end
  local values = {}
  for i = 2, #lines do values[#values + 1] = lines[i]:match("^[^\t]*") end
  return lines[1], values, r.out
end

local function has(list, v)
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end

describe("completion engine", function()
  local cases = {
    { { "rec" }, { "recipe" } },
    { { "--debug", "rec" }, { "recipe" } },
    { { "--log-level", "info", "--debug", "val" }, { "validate" } },
    { { "" }, { "recipe", "snapshot", "bundle", "completion", "help" } },
    { { "help", "sn" }, { "snapshot" } },
    { { "completion", "" }, { "bash", "zsh", "fish", "powershell" } },
    { { "recipe", "l" }, { "lint" } },
    { { "recipe", "--service", "" }, { "eks", "gke", "self-managed" } },
    { { "recipe", "--os", "a" }, { "amazonlinux", "al2", "al2023", "amzn" } },
    { { "recipe", "--gpu", "l4" }, { "l40", "l40s" } },
    { { "recipe", "--accelerator=gb" }, { "--accelerator=gb200" } },
    { { "recipe", "-t", "" }, { "yaml", "json", "table" } },
    { { "validate", "--format", "j" }, { "json", "junit" } },
    { { "bundle", "-d", "" }, { "helm", "argocd", "flux" } },
    { { "snapshot", "--only", "GPU,O" }, { "GPU,OS" } },
    { { "recipe", "--servi" }, { "--service" } },
    { { "--debug", "recipe", "--service", "eks", "--in" }, { "--intent" } },
    { { "--kube" }, { "--kubeconfig" } },
    { { "--ver" }, { "--version" } },
  }
  for _, c in ipairs(cases) do
    it(table.concat(c[1], " ") .. "<TAB>", function()
      local _, values, out = engine(c[1])
      for _, want in ipairs(c[2]) do assert.is_true(has(values, want), want .. " missing from:\n" .. out) end
      local cur = c[1][#c[1]]
      for _, v in ipairs(values) do
        assert.are.equal(cur, v:sub(1, #cur), "candidate " .. v .. " does not extend " .. cur)
      end
    end)
  end

  it("offers files, directories and cm:// where a flag takes them", function()
    assert.are.equal("files", (engine({ "bundle", "-r", "" })))
    assert.are.equal("files", (engine({ "bundle", "--values", "" })))
    assert.are.equal("dirs", (engine({ "recipe", "--data", "" })))
    assert.are.equal("dirs", (engine({ "verify", "" })))
    assert.are.equal("dirs", (engine({ "--hooks", "" })))
    local d, values = engine({ "snapshot", "-o", "cm" })
    assert.are.equal("files nospace", d)
    assert.same({ "cm://" }, values)
    d, values = engine({ "snapshot", "--timeout", "" })
    assert.are.equal("-", d)
    assert.same({}, values)
  end)

  it("a comma-separated list offers only the values not in it yet, after what was typed", function()
    local _, values, out = engine({ "validate", "--phase", "deployment," })
    assert.are.same({ "deployment,readiness", "deployment,conformance", "deployment,performance", "deployment,all" },
      values, out)
    _, values, out = engine({ "validate", "--phase=deployment,conformance,p" })
    assert.are.same({ "--phase=deployment,conformance,performance" }, values, out)
    _, values, out = engine({ "validate", "--phase", "deployment,conformance,deployment" })
    assert.are.same({}, values, out)
    -- typed in another case, the value is still held
    _, values, out = engine({ "snapshot", "--only", "gpu,OS," })
    assert.is_false(has(values, "gpu,OS,GPU"), out)
    assert.is_false(has(values, "gpu,OS,OS"), out)
    assert.is_true(has(values, "gpu,OS,K8s"), out)
    _, values, out = engine({ "snapshot", "--exclude=K8s," })
    assert.is_false(has(values, "--exclude=K8s,K8s"), out)
    assert.is_true(has(values, "--exclude=K8s,GPU"), out)
  end)

  it("does not offer a single-value flag already given", function()
    local _, values = engine({ "recipe", "--service", "eks", "--" })
    assert.is_false(has(values, "--service"))
    assert.is_true(has(values, "--intent"))
    _, values = engine({ "bundle", "--set", "a:b=1", "--s" })
    assert.is_true(has(values, "--set"))
  end)

  it("lists namespaces and ConfigMaps of a reachable cluster, nothing quickly of an unreachable one", function()
    if not fake.available() then return pending("python3 and openssl are needed for the test API server") end
    local srv = fake.start({ pods = 2, nodes = 1 })
    local env = { KUBECONFIG = srv:kubeconfig("cert"), HOME = "/nonexistent" }
    local ok, err = pcall(function()
      local d, values = engine({ "validate", "-s", "cm://" }, env)
      assert.are.equal("nospace", d)
      assert.is_true(has(values, "cm://gpu-operator/"), table.concat(values, " "))
      assert.is_true(has(values, "cm://kube-system/"))
      values = select(2, engine({ "validate", "-s", "cm://gpu" }, env))
      assert.same({ "cm://gpu-operator/" }, values)
      local r = support.run({ "version", "-o", "cm://gpu-operator/eidos-version" }, { env = env })
      assert.are.equal(0, r.code, r.err)
      values = select(2, engine({ "--kubeconfig", env.KUBECONFIG, "recipe", "--criteria", "cm://gpu-operator/e" },
        { HOME = "/nonexistent", KUBECONFIG = "/nonexistent" }))
      assert.same({ "cm://gpu-operator/eidos-version" }, values)
      -- arguments that take cm:// too: both of diff's
      values = select(2, engine({ "diff", "cm://gpu-operator/e" }, env))
      assert.same({ "cm://gpu-operator/eidos-version" }, values)
      values = select(2, engine({ "diff", "old.yaml", "cm://gpu" }, env))
      assert.same({ "cm://gpu-operator/" }, values)
    end)
    srv:stop()
    fake.cleanup()
    assert(ok, err)
    -- a kubeconfig pointing at a closed port: no candidates, within the short timeout
    local dir = support.tmpdir()
    support.write(dir .. "/kc", "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n" ..
      "users: [{name: u, user: {token: x}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n")
    local t0 = os.time()
    local d, values = engine({ "validate", "-s", "cm://" }, { KUBECONFIG = dir .. "/kc" })
    assert.is_true(os.time() - t0 <= 5, "took " .. (os.time() - t0) .. " s")
    assert.are.equal("nospace", d)
    assert.same({}, values)
    os.execute("rm -rf " .. q(dir))
  end)
end)

describe("the generated bash script", function()
  local dir, script

  setup(function()
    dir = support.tmpdir()
    script = dir .. "/eidos.bash"
    local r = support.run({ "completion", "bash" })
    assert.are.equal(0, r.code, r.err)
    support.write(script, r.out)
    -- a line as bash splits it for completion (COMP_WORDBREAKS ':' and '=')
    support.write(dir .. "/drive.sh", [==[
source "$1"
line="$2"
COMP_LINE="$line"; COMP_POINT=${#line}
read -r -a COMP_WORDS <<< "$(printf '%s' "$line" | sed -e 's/\([=:]\)/ \1 /g')"
[[ "$line" =~ [[:space:]]$ ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMPREPLY=()
_eidos
printf '%s\n' "${COMPREPLY[@]}"
complete -p eidos
complete -p eidosd 2>/dev/null && echo "eidosd registered"
true
]==])
  end)

  teardown(function() os.execute("rm -rf " .. q(dir)) end)

  local function bash(line)
    local out = sh("cd " .. q(dir) .. " && env PATH=" .. q(PATH) .. " bash " .. q(dir .. "/drive.sh") .. " "
      .. q(script) .. " " .. q(line) .. " 2>&1")
    local values = {}
    for l in out:gmatch("[^\n]+") do values[#values + 1] = l end
    return values, out
  end

  it("is valid bash and registers for eidos only", function()
    assert.is_true(os.execute("bash -n " .. q(script)))
    local _, out = bash("eidos ")
    assert.truthy(out:find("complete -o default -F _eidos eidos\n", 1, true), out)
    assert.falsy(out:find("eidosd registered", 1, true), out)
  end)

  local cases = {
    { "eidos --debug rec", { "recipe" } },
    { "eidos recipe l", { "lint" } },
    { "eidos completion ", { "bash", "zsh", "fish", "powershell" } },
    { "eidos recipe --os a", { "amazonlinux", "al2" } },
    { "eidos recipe --format=j", { "json" } },           -- bash's word is "j" after '='
    { "eidos bundle --deployer ar", { "argocd" } },
    { "eidos snapshot --only GPU,Sys", { "GPU,SystemD" } },
  }
  for _, c in ipairs(cases) do
    it("completes '" .. c[1] .. "'", function()
      local values, out = bash(c[1])
      for _, want in ipairs(c[2]) do assert.is_true(has(values, want), want .. " missing:\n" .. out) end
    end)
  end

  it("offers files where a flag takes a file", function()
    support.write(dir .. "/recipe-a.yaml", "kind: RecipeResult\n")
    local values, out = bash("eidos bundle -r reci")
    assert.is_true(has(values, "recipe-a.yaml"), out)
    os.execute("mkdir -p " .. q(dir .. "/libdir"))
    values, out = bash("eidos recipe --data lib")
    assert.is_true(has(values, "libdir"), out)
    assert.is_false(has(values, "recipe-a.yaml"), out)
  end)
end)

describe("the generated zsh script, under tmux with real TAB presses", function()
  it("completes commands after global flags, subcommands and enum values", function()
    if not (have("zsh") and have("tmux")) then return pending("zsh and tmux are needed (scripts/install-deps)") end
    local dir = support.tmpdir()
    local r = support.run({ "completion", "zsh" })
    assert.are.equal(0, r.code, r.err)
    support.write(dir .. "/_eidos", r.out)
    support.write(dir .. "/rc", "autoload -Uz compinit && compinit -u -d " .. dir .. "/dump\n" ..
      "source " .. dir .. "/_eidos\nPS1='READY%% '\nzstyle ':completion:*' list-rows-first true\n")
    local sock = dir .. "/sock"
    local function tmux(args) return sh("tmux -S " .. q(sock) .. " " .. args .. " 2>&1") end
    tmux("new-session -d -x 200 -y 40 " .. q("env -i PATH=" .. PATH .. " HOME=" .. dir .. " TERM=xterm zsh -f -i"))
    local function screen() return tmux("capture-pane -p") end
    -- wait (bounded) until the screen shows want; the machine may be busy
    local function await(want)
      for _ = 1, 100 do
        local s = screen()
        if s:find(want, 1, true) then return s end
        os.execute("sleep 0.1")
      end
      return screen()
    end
    local ok, err = pcall(function()
      tmux("send-keys " .. q("source " .. dir .. "/rc") .. " Enter")
      await("READY%")
      tmux("send-keys 'eidos --debug rec' Tab")
      -- (tmux drops the space completion adds at the end of the line)
      local s = await("eidos --debug recipe\n")
      assert.truthy(s:find("eidos --debug recipe\n", 1, true), s)
      tmux("send-keys C-u 'eidos recipe lin' Tab")
      s = await("eidos recipe lint")
      assert.truthy(s:find("eidos recipe lint", 1, true), s)
      tmux("send-keys C-u 'eidos recipe --os a' Tab")
      s = await("alias of amazonlinux")
      assert.truthy(s:find("al2023 -- alias of amazonlinux", 1, true), s)
      tmux("send-keys C-u 'eidos completion f' Tab")
      s = await("eidos completion fish")
      assert.truthy(s:find("eidos completion fish", 1, true), s)
    end)
    tmux("kill-server")
    os.execute("rm -rf " .. q(dir))
    assert(ok, err)
  end)
end)

describe("the generated fish script", function()
  it("is valid fish and completes through complete -C", function()
    if not have("fish") then return pending("fish is needed (scripts/install-deps)") end
    local dir = support.tmpdir()
    local r = support.run({ "completion", "fish" })
    support.write(dir .. "/eidos.fish", r.out)
    assert.is_true(os.execute("fish -n " .. q(dir .. "/eidos.fish")))
    local out = sh("env PATH=" .. q(PATH) .. " HOME=" .. q(dir) .. " fish -c " .. q("source " .. dir ..
      "/eidos.fish; complete -C 'eidos --debug rec'; complete -C 'eidos recipe --os a'; complete -C 'eidos recipe l'"))
    assert.truthy(out:find("recipe\tGenerate a recipe", 1, true), out)
    assert.truthy(out:find("al2\talias of amazonlinux", 1, true), out)
    assert.truthy(out:find("lint\t", 1, true), out)
    os.execute("rm -rf " .. q(dir))
  end)
end)

describe("the generated PowerShell script", function()
  it("is generated from the same engine (unchecked: PowerShell is not packaged for Debian 12)", function()
    local r = support.run({ "completion", "powershell" })
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.out:find("Register-ArgumentCompleter -Native -CommandName 'eidos'", 1, true))
    assert.truthy(r.out:find("eidos __complete @words", 1, true))
  end)

  it("pwsh is an alias of powershell, as kubectl users type it: the same script, offered and shown as one", function()
    local ps, pw = support.run({ "completion", "powershell" }), support.run({ "completion", "pwsh" })
    assert.are.equal(0, pw.code, pw.err)
    assert.are.equal(ps.out, pw.out)
    local _, values, out = engine({ "completion", "p" })
    assert.are.same({ "powershell", "pwsh" }, values, out)
    assert.truthy(out:find("pwsh\talias of powershell", 1, true), out)
    local h = support.run({ "completion", "--help" })
    assert.truthy(h.out:find("Aliases: pwsh = powershell", 1, true), h.out)
    local bad = support.run({ "completion", "pwsx" })
    assert.are.equal(2, bad.code)
    assert.truthy(bad.err:find('unknown shell "pwsx" (accepted: bash, zsh, fish, powershell; pwsh = powershell); ' ..
      'did you mean "pwsh"?', 1, true), bad.err)
  end)
end)
