-- Hostile hooks (spec/fixtures/hooks/hostile/; issue 13, classes 2 and 3):
-- each one costs at most its configured time (+ a constant) and memory, in
-- the CLI and in eidosd. A file's name says what must stop it: time-*
-- (exit 5, HTTP 504), memory-* (exit 8, HTTP 500), ok-* (nothing: it is
-- harmless now); *-bundle-* files are bundle hooks, the others recipe
-- hooks. Every failure names the hook file (HTTP: its name, not the
-- server's directories); eidosd answers /health meanwhile and goes on
-- serving. New fixtures are picked up from the directory.
local support = require("support")
local srv = require("e2e.eidosd")
local cjson = require("cjson")

local DIR = support.root .. "/spec/fixtures/hooks/hostile"
local LIMIT_MS, LIMIT_MB = 300, 16
local LIMITS = { "--hook-timeout=" .. LIMIT_MS, "--hook-memory=" .. LIMIT_MB }
-- what a hostile hook may cost beyond a harmless one: CPU time, its time
-- limit plus SLACK_CPU (the sandbox overshoots by a few ms; CPU time does
-- not grow when the machine is loaded, wall time does: wall time only has
-- to show the hook did not hang); memory, its limit three times over (its
-- state, what it hands the host, the allocator's slack) plus 32 MiB
local SLACK_CPU, SLACK_WALL = 0.5, 5
local SLACK_KB = 3 * LIMIT_MB * 1024 + 32 * 1024
local EXPECT = {
  time = { code = 5, status = 504, words = "time limit of " .. LIMIT_MS .. " ms" },
  memory = { code = 8, status = 500, words = "memory limit" },
  ok = { code = 0, status = 200 },
}

local function fixtures()
  local out = {}
  local p = io.popen("ls " .. support.q(DIR))
  for name in p:lines() do
    local kind = name:match("^(%a+)%-.*%.lua$")
    if kind then
      assert(EXPECT[kind], "fixture " .. name .. ": name must start with time-, memory- or ok-")
      out[#out + 1] = { file = name, kind = kind, bundle = name:find("-bundle-", 1, true) ~= nil,
                        top = name:find("-top-level", 1, true) ~= nil }
    end
  end
  p:close()
  return out
end

-- ASan keeps freed memory in a quarantine (256 MiB by default): keep it
-- small so that the resident size measures what was held
local ENV = { ASAN_OPTIONS = (os.getenv("ASAN_OPTIONS") or "detect_leaks=1") .. ":quarantine_size_mb=8" }

-- run eidos under /usr/bin/time: r.code, r.err, r.secs (wall), r.cpu
-- (user + system seconds), r.kb (peak resident)
local function timed(args)
  local d = support.tmpdir()
  local words = { "-f", "%e %U %S %M", "-o", d .. "/time", support.eidos }
  for _, a in ipairs(args) do words[#words + 1] = a end
  local r = support.run(words, { bin = "/usr/bin/time", env = ENV })
  local secs, user, sys, kb = (support.read(d .. "/time") or ""):match("([%d.]+) ([%d.]+) ([%d.]+) (%d+)%s*$")
  os.execute("rm -rf " .. support.q(d))
  r.secs, r.kb = assert(tonumber(secs), "no timing"), tonumber(kb)
  r.cpu = tonumber(user) + tonumber(sys)
  return r
end

local function hooks_dir(root, f)
  local d = root .. "/" .. f.file:gsub("%.lua$", "")
  os.execute("mkdir -p " .. support.q(d) .. " && cp " .. support.q(DIR .. "/" .. f.file) .. " " .. support.q(d))
  return d
end

describe("hostile hooks in the CLI", function()
  local tmp, recipe, base = nil, nil, {}
  local function command(f, hooks, out)
    local args = f.bundle and { "bundle", "-r", recipe, "-o", out }
                 or { "recipe", "--service", "eks", "--accelerator", "h100", "--intent", "training", "-o", out }
    if hooks then args[#args + 1] = "--hooks=" .. hooks end
    for _, l in ipairs(LIMITS) do args[#args + 1] = l end
    return args
  end
  setup(function()
    tmp = support.tmpdir()
    recipe = tmp .. "/recipe.yaml"
    assert.are.equal(0, support.run({ "recipe", "--service", "eks", "--accelerator", "h100", "--intent", "training",
                                      "-o", recipe }).code)
    -- the cost of the same commands with a harmless hook
    local noop = tmp .. "/noop"
    os.execute("mkdir -p " .. support.q(noop))
    support.write(noop .. "/noop.lua", "return { recipe = function(r) return r end, bundle = function(f) return f end }")
    for _, b in ipairs({ false, true }) do
      local r = timed(command({ bundle = b }, noop, tmp .. "/noop-out-" .. tostring(b)))
      assert.are.equal(0, r.code, r.err)
      base[b] = r
    end
  end)
  teardown(function() os.execute("rm -rf " .. support.q(tmp)) end)

  for _, f in ipairs(fixtures()) do
    local want = EXPECT[f.kind]
    it(f.file .. " costs at most its limits (exit " .. want.code .. ")", function()
      local out = tmp .. "/out-" .. f.file
      local r = timed(command(f, hooks_dir(tmp, f), out))
      assert.are.equal(want.code, r.code, r.err)
      if want.words then
        assert.truthy(r.err:find(f.file, 1, true), r.err)
        assert.truthy(r.err:find(want.words, 1, true), r.err)
        assert.is_false(support.exists(out), "output written by a failed command")
      end
      local b = base[f.bundle]
      assert.is_true(r.cpu <= b.cpu + LIMIT_MS / 1000 + SLACK_CPU,
        string.format("%s took %.2f s of CPU time (a harmless hook: %.2f s)", f.file, r.cpu, b.cpu))
      assert.is_true(r.secs <= b.secs + LIMIT_MS / 1000 + SLACK_WALL,
        string.format("%s took %.2f s (a harmless hook: %.2f s)", f.file, r.secs, b.secs))
      assert.is_true(r.kb <= b.kb + SLACK_KB,
        string.format("%s peaked at %d KiB (a harmless hook: %d KiB)", f.file, r.kb, b.kb))
    end)
  end
end)

if not srv.available() then
  describe("hostile hooks in eidosd", function() pending("eidosd is not built (libh2o-evloop-dev missing)") end)
  return
end

-- peak resident size of a process in KiB
local function hwm(pid)
  return tonumber((support.read("/proc/" .. pid .. "/status") or ""):match("VmHWM:%s*(%d+)"))
end

-- CPU seconds a process has used, all its threads (clock ticks of 1/100 s)
local function cpu(pid)
  local stat = support.read("/proc/" .. pid .. "/stat") or ""
  local fields = {}
  for w in stat:gsub("^.*%) ", ""):gmatch("%S+") do fields[#fields + 1] = w end
  return (tonumber(fields[12]) + tonumber(fields[13])) / 100 -- utime, stime
end

describe("hostile hooks in eidosd", function()
  local tmp, body
  setup(function()
    tmp = support.tmpdir()
    body = tmp .. "/recipe.json"
    assert.are.equal(0, support.run({ "recipe", "--service", "eks", "--accelerator", "h100", "--intent", "training",
                                      "-t", "json", "-o", body }).code)
  end)
  teardown(function() os.execute("rm -rf " .. support.q(tmp)) end)

  it("cuts hostile hooks in both Lua threads at once, each at its limit", function()
    local f = { file = "time-table-move.lua" }
    local s = srv.start({ env = ENV, args = { "--rate=0", "--cache-entries=0", "--handlers=2",
                                              "--hooks=" .. hooks_dir(tmp, f), LIMITS[1], LIMITS[2] } })
    local ok, err = pcall(function()
      local p = io.popen("PROBE_PARALLEL=4 python3 " .. support.q(support.root .. "/spec/fixtures/hooks/probe.py") .. " " ..
                         support.q(s.base) .. " GET " .. support.q("/v1/recipe?service=eks&accelerator=h100&intent=training"))
      local out = cjson.decode(p:read("a"))
      p:close()
      assert.are.equal(4, #out.all)
      for _, a in ipairs(out.all) do
        assert.are.equal(504, a[1])
        -- two Lua threads, four requests: the last ones wait for one cut each
        assert.is_true(a[2] <= 2 * LIMIT_MS + SLACK_WALL * 1000, string.format("a request took %.0f ms", a[2]))
      end
      for _, st in ipairs(out.health) do assert.are.equal(200, st) end
    end)
    srv.stop(s)
    if not ok then error(err, 0) end
  end)

  for _, f in ipairs(fixtures()) do
    local want = EXPECT[f.kind]
    if f.top then
      it(f.file .. " stops the server at start (exit " .. want.code .. ")", function()
        local r = support.run({ "--listen=127.0.0.1:0", "--threads=2", "--hooks=" .. hooks_dir(tmp, f), LIMITS[1], LIMITS[2] },
                              { bin = srv.bin, env = { EIDOS_HOME = support.root } })
        assert.are.equal(want.code, r.code, r.err)
        assert.truthy(r.err:find(f.file, 1, true) and r.err:find(want.words, 1, true), r.err)
      end)
    else
      it(f.file .. " holds a Lua thread no longer than its limits (HTTP " .. want.status .. "), /health answers", function()
        local s = srv.start({ env = ENV, args = { "--rate=0", "--cache-entries=0", "--hooks=" .. hooks_dir(tmp, f),
                                                  LIMITS[1], LIMITS[2] } })
        local ok, err = pcall(function()
          local before, cpu0 = hwm(s.pid), cpu(s.pid)
          local words = { "python3", support.q(support.root .. "/spec/fixtures/hooks/probe.py"), support.q(s.base) }
          if f.bundle then
            words[#words + 1] = "POST /v1/bundle " .. support.q(body)
          else
            words[#words + 1] = "GET " .. support.q("/v1/recipe?service=eks&accelerator=h100&intent=training")
          end
          local p = io.popen(table.concat(words, " "))
          local out = cjson.decode(p:read("a"))
          p:close()
          assert.are.equal(want.status, out.status, out.body)
          if want.words then
            local j = cjson.decode(out.body)
            assert.are.equal(f.file, j.details.hook, out.body)
            assert.truthy(j.message:find(f.file, 1, true), out.body)
            assert.falsy(out.body:find(tmp, 1, true), "the server's directory reached the client: " .. out.body)
          end
          local used = cpu(s.pid) - cpu0
          assert.is_true(used <= LIMIT_MS / 1000 + SLACK_CPU, string.format("the server used %.2f s of CPU time", used))
          assert.is_true(out.ms <= LIMIT_MS + SLACK_WALL * 1000, string.format("the request took %.0f ms", out.ms))
          assert.is_true(#out.health >= 1)
          for _, st in ipairs(out.health) do assert.are.equal(200, st) end
          assert.is_true(out.health_max_ms <= LIMIT_MS + SLACK_WALL * 1000,
            string.format("/health took %.0f ms", out.health_max_ms))
          local after = hwm(s.pid)
          assert.is_true(after <= before + SLACK_KB, string.format("peak resident size %d -> %d KiB", before, after))
          -- still serving
          assert.are.equal(200, srv.get(s, "/health").status)
        end)
        srv.stop(s)
        if not ok then error(err, 0) end
      end)
    end
  end
end)
