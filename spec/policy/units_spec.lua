-- spec/policy/units_spec.lua: the one value syntax (eidos.units) and that
-- every flag and environment variable of eidos and eidosd taking a size or
-- a duration reads the same strings the same way. The flags are found in
-- the flag model itself (every command module, the global flags, eidosd's
-- flags), so a flag added later is covered without editing this spec.
local units = require("eidos.units")
local flags = require("eidos.cli.flags")
local support = require("support")

local function fails(f, ...) return support.raises("invalid", f, ...) end

describe("eidos.units", function()
  it("reads sizes: K/M/G powers of 1000, Ki/Mi/Gi powers of 1024, bare numbers in the flag's unit", function()
    assert.are.equal(4000000, units.size("4MB"))
    assert.are.equal(4000000, units.size("4M"))
    assert.are.equal(4194304, units.size("4Mi"))
    assert.are.equal(4194304, units.size("4MiB"))
    assert.are.equal(1500, units.size("1.5K"))
    assert.are.equal(1610612736, units.size("1.5Gi"))
    assert.are.equal(2000000000000, units.size("2T"))
    assert.are.equal(123, units.size("123"))
    assert.are.equal(32 * 1048576, units.size("32", { unit = "MiB" }))
    assert.are.equal(65536, units.size("64kib"))
  end)

  it("refuses garbage and overflow naming the value and what is accepted", function()
    for _, bad in ipairs({ "", "4 parsecs", "-3", "1e3", "0x10", "12XB", "M", "4..5M", "0", "1.5", "1.0001K",
                           "99999999999999999999G", "99999999999999999999", "9999999999Ti" }) do
      local msg = fails(units.size, bad, { what = "--max-input-size" })
      assert.truthy(msg:find(string.format("%q", bad), 1, true), msg)
      assert.truthy(msg:find("--max-input-size", 1, true), msg)
      assert.truthy(msg:find("16Mi", 1, true), msg)
    end
    assert.truthy(fails(units.size, "99999999999999999999G"):find("too large", 1, true))
    assert.truthy(fails(units.size, "2Gi", { max = 1024 }):find("maximum of 1Ki", 1, true))
  end)

  it("reads durations in Go's syntax, bare numbers in the flag's unit", function()
    assert.are.equal(500, units.duration("500ms"))
    assert.are.equal(10000, units.duration("10s"))
    assert.are.equal(90000, units.duration("1m30s"))
    assert.are.equal(7200000, units.duration("2h"))
    assert.are.equal(5400000, units.duration("1h30m"))
    assert.are.equal(1500, units.duration("1.5s"))
    assert.are.equal(0.5, units.duration("500us"))
    assert.are.equal(0, units.duration("0"))
    assert.are.equal(2500, units.duration("2.5", { unit = "s" }))
    assert.are.equal(100, units.duration("100", { unit = "ms" }))
    for _, bad in ipairs({ "", "10x", "-1s", "s", "1m30", "banana", "1e3s", "99999999999999999999h" }) do
      local msg = fails(units.duration, bad, { what = "--timeout", unit = "s" })
      assert.truthy(msg:find(string.format("%q", bad), 1, true), msg)
      assert.truthy(msg:find("1m30s", 1, true), msg)
    end
    fails(units.duration, "90") -- no unit, and none documented
    fails(units.duration, "0", { min = 1 })
    assert.truthy(fails(units.duration, "25h", { max = 86400000 }):find("maximum of 24h", 1, true))
  end)

  it("reads counts and numbers in plain decimal", function()
    assert.are.equal(10, units.count("10"))
    assert.are.equal(0.5, units.number("0.5"))
    for _, bad in ipairs({ "0x10", "-1", "1e3", "two", "", "9999999999999999" }) do fails(units.count, bad) end
    fails(units.count, "300", { max = 256 })
    for _, bad in ipairs({ "-1", "1e3", "inf", "nan", "" }) do fails(units.number, bad) end
  end)

  it("reads timestamps as UTC RFC 3339", function()
    assert.are.equal("2026-01-02T15:04:05Z", units.timestamp("2026-01-02T15:04:05Z"))
    assert.are.equal("2026-01-02T13:04:05Z", units.timestamp("2026-01-02T15:04:05.123+02:00"))
    assert.are.equal("1970-01-01T00:00:00Z", units.timestamp("0"))
    assert.are.equal("2023-11-14T22:13:20Z", units.timestamp("1700000000"))
    for _, bad in ipairs({ "yesterday", "2026-13-01T00:00:00Z", "2026-01-02T15:04:05", "-5", "99999999999999999" }) do
      fails(units.timestamp, bad)
    end
  end)

  it("writes sizes and durations back in their shortest exact form", function()
    assert.are.equal("4Mi", units.format_size(4194304))
    assert.are.equal("4M", units.format_size(4000000))
    assert.are.equal("17", units.format_size(17))
    assert.are.equal("1m30s", units.format_duration(90000))
    assert.are.equal("1h30m", units.format_duration(5400000))
    assert.are.equal("250ms", units.format_duration(250))
  end)
end)

-- every flag spec of eidos (each command and the global flags) and eidosd
local function all_flags()
  local main = require("eidos.main")
  local out = {}
  local function add(where, list, specs)
    for _, s in ipairs(list) do out[#out + 1] = { where = where, spec = s, specs = specs } end
  end
  for _, name in ipairs(main.commands()) do
    local cmd = main.load(name)
    local specs = {}
    for _, s in ipairs(cmd.flags or {}) do specs[#specs + 1] = s end
    for _, s in ipairs(flags.global) do specs[#specs + 1] = s end
    add("eidos " .. name, cmd.flags or {}, specs)
  end
  local eidosd = {}
  for _, s in ipairs(require("eidos.api.config").flags) do eidosd[#eidosd + 1] = s end
  for _, s in ipairs(flags.global) do eidosd[#eidosd + 1] = s end
  add("eidosd", require("eidos.api.config").flags, eidosd)
  add("global", flags.global, flags.global)
  return out
end

-- parse one flag of a command line (with the flags it requires), either
-- given as --name VALUE or through its environment variable
local function parse(f, value, via_env)
  local args = {}
  for _, r in ipairs(type(f.spec.requires) == "string" and { f.spec.requires } or f.spec.requires or {}) do
    args[#args + 1] = "--" .. r
  end
  local real = os.getenv
  if via_env then
    os.getenv = function(n) if n == f.spec.env then return value end return real(n) end
  else
    args[#args + 1] = "--" .. f.spec.name
    args[#args + 1] = value
  end
  local ok, opts = pcall(flags.parse, args, f.specs, f.where)
  os.getenv = real
  if not ok then error(opts, 0) end
  local v = opts[f.spec.name]
  if f.spec.repeatable then v = v[1] end
  return v
end

local SIZES = { { "4MB", 4000000 }, { "4M", 4000000 }, { "4Mi", 4194304 }, { "4MiB", 4194304 }, { "64Ki", 65536 } }
local DURATIONS = { { "1m30s", 90000 }, { "500ms", 500 }, { "2h", 7200000 }, { "1.5s", 1500 } }
local BARE = { s = 1000, ms = 1, B = 1, MiB = 1048576 }

describe("every size and duration flag and environment variable", function()
  local sizes, durations = 0, 0
  for _, f in ipairs(all_flags()) do
    local t = flags.type_of(f.spec)
    if t == "size" or t == "duration" then
      local ways = { false }
      if f.spec.env then ways[2] = true end
      for _, via_env in ipairs(ways) do
        local label = (via_env and f.spec.env or ("--" .. f.spec.name)) .. " of " .. f.where
        it(label .. " reads the shared syntax", function()
          for _, c in ipairs(t == "size" and SIZES or DURATIONS) do
            assert.are.equal(c[2], parse(f, c[1], via_env), label .. " " .. c[1])
          end
          assert.is_truthy(f.spec.unit, label .. " documents the unit of a bare number")
          assert.are.equal(3 * BARE[f.spec.unit], parse(f, "3", via_env), label .. " bare 3")
          for _, bad in ipairs({ "banana", "99999999999999999999G", "99999999999999999999h", "-5" }) do
            local msg = fails(parse, f, bad, via_env)
            assert.truthy(msg:find(string.format("%q", bad), 1, true), msg)
            assert.truthy(msg:find(via_env and f.spec.env or ("--" .. f.spec.name), 1, true), msg)
          end
        end)
        if t == "size" then sizes = sizes + 1 else durations = durations + 1 end
      end
    end
  end

  it("covers the flags the issue names", function()
    assert.is_true(sizes >= 4, sizes .. " size flags")      -- --max-input-size, --hook-memory, --body-limit (+env)
    assert.is_true(durations >= 7, durations .. " duration flags") -- --timeout, --gpu-timeout, --hook-timeout, eidosd's
  end)
end)

-- the environment variables that are no flag's: each reads a duration
-- (a bare number is seconds) through eidos.units, and refuses garbage
describe("duration environment variables", function()
  local real = os.getenv
  local function with_env(name, value, f)
    os.getenv = function(n) if n == name then return value end return real(n) end
    local ok, a, b = pcall(f)
    os.getenv = real
    if not ok then error(a, 0) end
    return a, b
  end
  local dir, kc
  setup(function()
    dir = support.tmpdir()
    kc = dir .. "/kubeconfig"
    support.write(kc, "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n" ..
      "users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/true}}}]\n" ..
      "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n")
  end)
  teardown(function() os.execute("rm -rf " .. support.q(dir)) end)

  local function fresh(mod)
    package.loaded[mod] = nil
    return require(mod)
  end

  local vars = {
    EIDOS_AGENT_POLL = function() return fresh("eidos.k8s.job").POLL end,
    EIDOS_HTTP_TIMEOUT = function() return require("eidos.fetch").get("http://127.0.0.1:1/x") end,
    EIDOS_K8S_TIMEOUT = function() return fresh("eidos.k8s.client").connect({ kubeconfig = kc }) end,
    EIDOS_EXEC_TIMEOUT = function()
      local _, err = fresh("eidos.k8s.client").connect({ kubeconfig = kc }):get("/api/v1/namespaces")
      if err and err.code == "invalid" then require("eidos.errors").raise(err.code, err.msg) end
    end,
  }
  for _, name in ipairs({ "EIDOS_AGENT_POLL", "EIDOS_HTTP_TIMEOUT", "EIDOS_K8S_TIMEOUT", "EIDOS_EXEC_TIMEOUT" }) do
    local use = vars[name]
    it(name .. " reads 1m30s and refuses banana naming itself", function()
      local ok, e = pcall(with_env, name, "1m30s", use)
      if not ok then -- the value is read; what follows may fail (nothing listens there)
        assert.are_not.equal("invalid", type(e) == "table" and e.code, name .. ": " .. tostring(type(e) == "table" and e.msg or e))
      end
      local msg = fails(with_env, name, "banana", use)
      assert.truthy(msg:find('"banana" for ' .. name, 1, true), msg)
    end)
  end
end)
