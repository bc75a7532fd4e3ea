-- eidos.hooks: hook files found, ordered, applied and checked; their
-- failures mapped to exit codes with the file named; the limits, from the
-- flags, in one place. The sandbox itself: spec/core/sandbox_spec.lua;
-- hostile hooks end to end: spec/e2e/hostile_hooks_spec.lua.
local hooks = require("eidos.hooks")
local support = require("support")

describe("eidos.hooks", function()
  local dir
  before_each(function()
    dir = support.tmpdir()
  end)
  after_each(function()
    os.execute("rm -rf " .. dir)
    hooks.configure({ dirs = {} })
  end)

  it("leaves the machinery that runs hooks unloaded until a hook point is reached with hooks", function()
    package.loaded["eidos.hooks.run"] = nil
    hooks.configure({ dirs = {} })
    local c = { service = "eks" }
    assert.are.equal(c, hooks.apply("criteria", c))
    assert.are.same({}, hooks.collect("snapshot", {}))
    assert.is_false(hooks.has("recipe"))
    assert.are.same({}, hooks.operators())
    assert.are.same({}, hooks.template_helpers())
    assert.are.same({}, hooks.load())
    assert.is_nil(package.loaded["eidos.hooks.run"])
    support.write(dir .. "/10-first.lua", "return { criteria = function(c) c.trail = 'a'; return c end }")
    hooks.configure({ dirs = { dir } })
    assert.are.equal("a", hooks.apply("criteria", { service = "eks" }).trail)
    assert.is_table(package.loaded["eidos.hooks.run"])
  end)

  it("applies hooks in file-name order and checks results", function()
    support.write(dir .. "/20-second.lua", "return { criteria = function(c) c.trail = (c.trail or '') .. 'b'; return c end }")
    support.write(dir .. "/10-first.lua", "return { criteria = function(c) c.trail = (c.trail or '') .. 'a'; return c end }")
    hooks.configure({ dirs = { dir } })
    local c = hooks.apply("criteria", { service = "eks" })
    assert.are.equal("ab", c.trail)
    assert.are.equal("eks", c.service)
  end)

  it("stops on a bad result (exit 2) and on a crash (exit 8), or skips when lenient", function()
    support.write(dir .. "/bad.lua", "return { recipe = function(r) return { kind = 'Other' } end }")
    hooks.configure({ dirs = { dir } })
    local ok, e = pcall(hooks.apply, "recipe", { kind = "RecipeResult", componentRefs = {} })
    assert.is_false(ok)
    assert.are.equal("invalid", e.code)
    assert.truthy(e.msg:find("bad.lua", 1, true), e.msg)
    support.write(dir .. "/bad.lua", "return { recipe = function(r) error('kaput') end }")
    hooks.configure({ dirs = { dir } })
    ok, e = pcall(hooks.apply, "recipe", { kind = "RecipeResult", componentRefs = {} })
    assert.is_false(ok)
    assert.are.equal("internal", e.code)
    assert.truthy(e.msg:find("bad.lua:1: kaput", 1, true), e.msg)
    hooks.configure({ dirs = { dir }, lenient = true })
    local r = hooks.apply("recipe", { kind = "RecipeResult", componentRefs = {} })
    assert.are.equal("RecipeResult", r.kind)
  end)

  it("refuses unknown hook points and bundle paths that escape", function()
    support.write(dir .. "/x.lua", "return { recipes = function(r) return r end }")
    hooks.configure({ dirs = { dir } })
    local ok, e = pcall(hooks.with, "recipe")
    assert.is_false(ok)
    assert.truthy(e.msg:find("unknown hook point", 1, true), e.msg)
    support.write(dir .. "/x.lua", "return { bundle = function(f) f['../../etc/x'] = 'pwn'; return f end }")
    hooks.configure({ dirs = { dir } })
    ok, e = pcall(hooks.apply, "bundle", { ["README.md"] = "hi" }, {})
    assert.is_false(ok)
    assert.truthy(e.msg:find("escapes the bundle", 1, true), e.msg)
  end)

  it("exposes hook operators and template helpers as host functions", function()
    support.write(dir .. "/ops.lua", [[return {
      operators = { even = { eval = function(actual, operand) return tonumber(actual) % 2 == 0, 'odd' end } },
      template_helpers = { shout = function(s) return string.upper(s) .. '!' end },
    }]])
    hooks.configure({ dirs = { dir } })
    local ops = hooks.operators()
    assert.is_true((ops.even.eval("4")))
    local okv, reason = ops.even.eval("3")
    assert.is_false(okv)
    assert.are.equal("odd", reason)
    assert.are.equal("HI!", hooks.template_helpers().shout("hi"))
  end)

  it("returns the very value given when no hook implements the point", function()
    local v = { service = "eks" }
    assert.are.equal(v, hooks.apply("criteria", v)) -- no --hooks at all
    assert.are.same({}, hooks.collect("snapshot", {}))
    assert.are.same({}, hooks.template_helpers())
    support.write(dir .. "/r.lua", "return { recipe = function(r) return r end }")
    hooks.configure({ dirs = { dir } })
    assert.are.equal(v, hooks.apply("criteria", v)) -- hooks, none at this point
    assert.is_false(hooks.has("criteria"))
    assert.is_true(hooks.has("recipe"))
  end)

  it("maps the limits to exit codes, naming the file and line", function()
    support.write(dir .. "/slow.lua", "return {\n  recipe = function(r)\n    while true do end\n  end }")
    hooks.configure({ dirs = { dir }, time_ms = 50 })
    local ok, e = pcall(hooks.apply, "recipe", { kind = "RecipeResult", componentRefs = {} })
    assert.is_false(ok)
    assert.are.equal("timeout", e.code)
    assert.truthy(e.msg:find(dir .. "/slow.lua:3: hook exceeded its time limit of 50 ms", 1, true), e.msg)
    assert.are.same({ hook = "slow.lua", public = "hook slow.lua exceeded its time limit of 50 ms" }, e.detail)
    support.write(dir .. "/slow.lua", "return { recipe = function(r) return string.rep('x', 1 << 30) end }")
    hooks.configure({ dirs = { dir }, memory = 4 * 1024 * 1024 })
    ok, e = pcall(hooks.apply, "recipe", { kind = "RecipeResult", componentRefs = {} })
    assert.is_false(ok)
    assert.are.equal("internal", e.code)
    assert.truthy(e.msg:find("memory limit of 4194304 bytes", 1, true), e.msg)
    assert.are.equal("hook slow.lua exceeded its memory limit of 4 MiB", e.detail.public)
    hooks.configure({ dirs = { dir }, memory = 4 * 1024 * 1024, lenient = true })
    assert.are.equal("RecipeResult", hooks.apply("recipe", { kind = "RecipeResult", componentRefs = {} }).kind)
  end)

  it("takes its limits from the flags, and nowhere else", function()
    hooks.from_flags({ hooks = { dir }, ["hook-timeout"] = 250.5, ["hook-memory"] = 8 * 1024 * 1024 })
    assert.are.same({ time_ms = 251, memory = 8 * 1024 * 1024 }, hooks.limits())
    hooks.from_flags({ hooks = { dir } })
    assert.are.same({ time_ms = 100, memory = 32 * 1024 * 1024 }, hooks.limits())
    local ok, e = pcall(hooks.from_flags, { hooks = { dir }, ["hook-memory"] = 1000 })
    assert.is_false(ok)
    assert.are.equal("invalid", e.code)
    assert.truthy(e.msg:find("--hook-memory of 1000 bytes is too small", 1, true), e.msg)
    -- on the command line: the flag model's units, and its refusals
    support.write(dir .. "/noop.lua", "return { recipe = function(r) return r end }")
    for _, c in ipairs({ { "--hook-timeout", "0", "--hook-timeout" }, { "--hook-timeout", "ten", "--hook-timeout" },
                         { "--hook-memory", "0", "--hook-memory" }, { "--hook-memory", "lots", "--hook-memory" } }) do
      local r = support.run({ "recipe", "--service", "eks", "--hooks", dir, c[1], c[2] })
      assert.are.equal(2, r.code, r.err)
      assert.truthy(r.err:find(c[3], 1, true), r.err)
    end
  end)

  it("sends what a hook prints to the logger", function()
    support.write(dir .. "/p.lua", "return { recipe = function(r) print('seen', #r.componentRefs) return r end }")
    local r = support.run({ "recipe", "--service", "eks", "--hooks", dir, "--log-level", "info", "-o", dir .. "/out.yaml" })
    assert.are.equal(0, r.code, r.err)
    assert.truthy(r.err:find("hook " .. dir .. "/p.lua: seen\t", 1, true), r.err)
    r = support.run({ "recipe", "--service", "eks", "--hooks", dir, "-o", dir .. "/out.yaml" })
    assert.falsy(r.err:find("seen", 1, true), r.err) -- info is below the default level
    support.write(dir .. "/p.lua", "return { recipe = function(r) print(string.rep('x', 10000)) return r end }")
    r = support.run({ "recipe", "--service", "eks", "--hooks", dir, "--log-level", "info", "-o", dir .. "/out.yaml" })
    assert.truthy(r.err:find(string.rep("x", 4096) .. "... (10000 bytes)", 1, true), r.err)
  end)

  it("--help shows the defaults of LIMITS", function()
    local help = support.run({ "recipe", "--help" }).out
    local shown = { time_ms = function(v) return v .. "ms" end, memory = function(v) return (v // 1048576) .. "Mi" end }
    for _, l in ipairs(hooks.LIMITS) do
      local flag = ("--" .. l.flag):gsub("%p", "%%%0")
      assert.truthy(help:find(flag .. " [^\n]*%[default " .. shown[l.key](l.default) .. "%]"), l.flag .. "\n" .. help)
    end
  end)

  it("--help takes those defaults from LIMITS itself, not from text of its own", function()
    local flags, help = require("eidos.cli.flags"), require("eidos.cli.help")
    local spec_of = {}
    for _, s in ipairs(flags.global) do spec_of[s.name] = s end
    local saved = {}
    for i, l in ipairs(hooks.LIMITS) do saved[i] = l.default end
    hooks.LIMITS[1].default, hooks.LIMITS[2].default = 1500, 48 * 1048576
    local ok, err = pcall(function()
      assert.truthy(help.describe(spec_of["hook-timeout"]):find("[default 1.5s]", 1, true))
      assert.truthy(help.describe(spec_of["hook-memory"]):find("[default 48Mi]", 1, true))
    end)
    for i, l in ipairs(hooks.LIMITS) do l.default = saved[i] end
    assert(ok, err)
  end)
end)

describe("hooks directories", function()
  local dir
  before_each(function() dir = support.tmpdir() end)
  after_each(function() os.execute("rm -rf " .. dir) end)

  -- eidos recipe with --hooks dir, killed after 20 s if something blocks
  local function recipe_with_hooks()
    return support.run({ "20", support.eidos, "recipe", "--service", "eks", "--hooks", dir, "-o", dir .. "/out.yaml" },
                       { bin = "timeout" })
  end

  -- (the one rule for files found in a directory: eidos.docio.check_file)
  local cases = {
    { "a FIFO", "mkfifo %s", 'hook file "<F>" is a FIFO, not a regular file' },
    { "a socket", "python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' %s",
      'hook file "<F>" is a socket, not a regular file' },
    { "a character device", "ln -s /dev/null %s", 'hook file "<F>" is a character device, not a regular file' },
    { "a directory", "mkdir %s", 'hook file "<F>" is a directory, not a regular file' },
    { "a dangling symbolic link", "ln -s /nonexistent %s",
      'hook file "<F>": it is a symlink to "/nonexistent", which cannot be followed (No such file or directory)' },
  }
  for _, c in ipairs(cases) do
    it("refuses " .. c[1] .. " named *.lua (exit 2, naming it), without blocking", function()
      local file = dir .. "/10-x.lua"
      assert.is_true(os.execute(string.format(c[2], support.q(file))) == true)
      local r = recipe_with_hooks()
      assert.are.equal(2, r.code, r.err)
      assert.truthy(r.err:find((c[3]:gsub("<F>", function() return file end)), 1, true), r.err)
    end)
  end

  it("ignores special files not named *.lua, and refuses a --hooks that is not a directory", function()
    assert.is_true(os.execute("mkfifo " .. support.q(dir .. "/notes.fifo")) == true)
    support.write(dir .. "/ok.lua", "return { recipe = function(r) return r end }")
    assert.are.equal(0, recipe_with_hooks().code)
    local r = support.run({ "recipe", "--service", "eks", "--hooks", dir .. "/ok.lua" })
    assert.are.equal(2, r.code)
    assert.truthy(r.err:find("is not a directory (it is a file)", 1, true), r.err)
  end)
end)
