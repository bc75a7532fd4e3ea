-- spec/e2e/replace_spec.lua: `bundle --force` over an existing bundle never
-- leaves the path without a whole bundle, and temporaries of killed runs
-- are cleaned up by the next run. The process is killed (SIGKILL, nothing
-- of eidos runs after it) right before and right after each rename that
-- touches the output, by the LD_PRELOAD library spec/fixtures/faultfs.c;
-- the same library plays a file system without RENAME_EXCHANGE, where the
-- previous bundle is set aside for the next run to put back.
local support = require("support")

local ROOT = support.root
local EIDOS = support.eidos:sub(1, 1) == "/" and support.eidos or (ROOT .. "/" .. support.eidos)
local LIB = (support.build:sub(1, 1) == "/" and support.build or (ROOT .. "/" .. support.build)) .. "/libfaultfs.so"
local q = support.q

-- ASan insists on coming first in the library list; LD_PRELOAD puts
-- faultfs before it, which is harmless here
local PRELUDE = "E=" .. q(EIDOS) .. "\nexport EIDOS_HOME=" .. q(ROOT) .. " HOME=/nonexistent ASAN_OPTIONS=" ..
  q("verify_asan_link_order=0:" .. (os.getenv("ASAN_OPTIONS") or "")) .. "\n"

local function sh(script, dir) return support.sh(PRELUDE .. script, dir) end

local entries = support.entries

describe("bundle --force over a bundle", function()
  local dir
  setup(function()
    dir = support.tmpdir()
    local r = sh('"$E" recipe --service eks -o r.yaml', dir)
    assert(r.code == 0, r.err)
  end)
  teardown(function() os.execute("rm -rf " .. q(dir)) end)

  -- a fresh old bundle at b; its README.md tells old from new (--set changes values.yaml)
  local function old_bundle()
    local r = sh('rm -rf b .b.eidos-*; "$E" bundle -r r.yaml -o b >/dev/null && "$E" verify b >/dev/null', dir)
    assert(r.code == 0, r.err)
    return support.read(dir .. "/b/values.yaml")
  end

  local function killed(at, noexchange)
    return sh(string.format('LD_PRELOAD=%s FAULTFS_PATH=b FAULTFS_KILL=%d FAULTFS_NOEXCHANGE=%s ' ..
      '"$E" bundle -r r.yaml -o b --force --set gpu-operator:replaced=1', q(LIB), at, noexchange and "1" or "0"), dir)
  end

  local function whole()
    return sh('"$E" verify b', dir).code == 0
  end

  it("is whole at every instant where the file system exchanges (renameat2 RENAME_EXCHANGE)", function()
    if not support.exists(LIB) then return pending("libfaultfs.so is not built") end
    -- the one rename that touches b is the exchange: before it the old bundle, after it the new
    for _, at in ipairs({ -1, 1 }) do
      local before = old_bundle()
      local r = killed(at, false)
      assert.are.equal(137, r.code, "not killed at " .. at .. ": " .. r.err)
      assert.is_true(whole(), "no whole bundle after a kill at " .. at)
      local now = support.read(dir .. "/b/values.yaml")
      if at < 0 then assert.are.equal(before, now) else assert.matches("replaced: 1", now, 1, true) end
      -- the killed run's holding directory is left; the next run removes it
      assert.are.equal(1, #entries(dir) - 2, table.concat(entries(dir), " "))
      r = sh('"$E" bundle -r r.yaml -o b --force >/dev/null', dir)
      assert.are.equal(0, r.code, r.err)
      assert.are.same({ "b", "r.yaml" }, entries(dir))
      assert.is_true(whole())
    end
  end)

  it("keeps the old bundle where it cannot exchange, and the next run puts it back", function()
    if not support.exists(LIB) then return pending("libfaultfs.so is not built") end
    -- without exchange: rename b -> hold/old (1), then the new one -> b (2)
    for _, at in ipairs({ -1, 1, -2, 2 }) do
      local before = old_bundle()
      local r = killed(at, true)
      assert.are.equal(137, r.code, "not killed at " .. at .. ": " .. r.err)
      if at == -1 or at == 2 then
        assert.is_true(whole(), "no whole bundle after a kill at " .. at)
      end
      -- killed between the two renames, b is absent: the next run, even
      -- one that changes nothing (no --force), puts the old bundle back
      r = sh('"$E" bundle -r r.yaml -o b >/dev/null', dir)
      assert.are.equal(2, r.code, "kill at " .. at .. ": " .. r.err)
      assert.matches("use --force", r.err, 1, true)
      assert.are.same({ "b", "r.yaml" }, entries(dir))
      assert.is_true(whole(), "no whole bundle after the next run, kill at " .. at)
      local now = support.read(dir .. "/b/values.yaml")
      if at == 2 then assert.matches("replaced: 1", now, 1, true) else assert.are.equal(before, now) end
    end
  end)

  it("replaces without a trace where nothing goes wrong, with or without exchange", function()
    if not support.exists(LIB) then return pending("libfaultfs.so is not built") end
    for _, nx in ipairs({ "0", "1" }) do
      old_bundle()
      local r = sh('LD_PRELOAD=' .. q(LIB) .. ' FAULTFS_NOEXCHANGE=' .. nx ..
        ' "$E" bundle -r r.yaml -o b --force --set gpu-operator:replaced=1 >/dev/null', dir)
      assert.are.equal(0, r.code, r.err)
      assert.are.same({ "b", "r.yaml" }, entries(dir))
      assert.is_true(whole())
      assert.matches("replaced: 1", support.read(dir .. "/b/values.yaml"), 1, true)
    end
  end)

  it("leaves a live run's temporaries alone", function()
    -- a temporary another process holds (flock) is not stale
    local r = sh('mkdir .b.eidos-AbC123 && flock .b.eidos-AbC123 sh -c \'"$E" bundle -r r.yaml -o b --force >/dev/null; ' ..
      'ls -A | LC_ALL=C sort\'', dir)
    assert.are.equal(0, r.code, r.err)
    assert.matches(".b.eidos-AbC123\nb\nr.yaml\n", r.out, 1, true)
    r = sh('"$E" bundle -r r.yaml -o b --force >/dev/null; ls -A | LC_ALL=C sort', dir)
    assert.are.equal("b\nr.yaml\n", r.out)
  end)

  it("cleans stale temporaries of a single file too (write_atomic)", function()
    local r = sh('echo partial > .r.json.eidos-Zz9Yy8 && "$E" recipe --service eks -o r.json -t json && ls -A | LC_ALL=C sort', dir)
    assert.are.equal(0, r.code, r.err)
    assert.is_nil(r.out:find("eidos-", 1, true), r.out)
    os.execute("rm -f " .. q(dir .. "/r.json"))
  end)
end)
