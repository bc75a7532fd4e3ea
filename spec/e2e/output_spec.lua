-- spec/e2e/output_spec.lua: output is complete or reported lost, and
-- input errors carry the OS's reason. Every kind of output is driven into
-- a real failure of the OS:
--   * standard output and -o on /dev/full (ENOSPC on every write);
--   * a file size limit (ulimit -f with SIGXFSZ ignored: EFBIG), on a
--     redirected stdout and on -o files;
--   * a full file system: a 64 KiB tmpfs mounted in a private mount
--     namespace (unshare -m; pending where the kernel or the user may not
--     mount), for snapshot, recipe, validate reports, bundle directories,
--     archives and --force over an existing bundle;
-- and each must exit 1 with the OS's message, leaving no file behind (the
-- previous one intact). Reading: EACCES (run as nobody when the spec runs
-- as root), a directory on stdin.
local support = require("support")

local ROOT = support.root
local EIDOS = support.eidos:sub(1, 1) == "/" and support.eidos or (ROOT .. "/" .. support.eidos)
local q = support.q
local SYSROOT = ROOT .. "/spec/fixtures/sysroot/basic"
local ENV = "EIDOS_HOME=" .. q(ROOT) .. " HOME=/nonexistent NO_COLOR=1 EIDOS_HOOKS= EIDOS_NVML_LIB=/nonexistent"

-- sh(script, dir) -> {code=, out=, err=}; the script runs with $EIDOS set
local function sh(script, dir)
  return support.sh("EIDOS=" .. q(EIDOS) .. "\nexport " .. ENV .. "\n" .. script, dir)
end

local listing = support.entries

local function have_tmpfs()
  return os.execute("unshare -m sh -c 'mount -t tmpfs -o size=64k tmpfs /tmp' >/dev/null 2>&1") == true
end

-- the commands and their arguments that write a document to stdout
local STDOUT = {
  { "recipe", "--service", "eks", "--gpu", "h100", "--intent", "training", "--os", "ubuntu" },
  { "snapshot", "--only", "OS", "--sysroot", SYSROOT },
  { "query", "--service", "eks", "--selector", "components" },
  { "validate", "-s", "SNAP", "-c", "OS.release.ID ubuntu" },
  { "verify", "BUNDLE" },
  { "completion", "bash" },
  { "lua", "--list" },
  { "version" },
  { "recipe", "--help" },
  { "--help" },
}

describe("output", function()
  local dir, snap, bundle
  setup(function()
    dir = support.tmpdir()
    snap, bundle = dir .. "/snap.yaml", dir .. "/bundle"
    local r = sh('"$EIDOS" snapshot --only OS --sysroot ' .. q(SYSROOT) .. " -o " .. q(snap) ..
      ' && "$EIDOS" recipe --service eks -o ' .. q(dir .. "/r.yaml") ..
      ' && "$EIDOS" bundle -r ' .. q(dir .. "/r.yaml") .. " -o " .. q(bundle))
    assert(r.code == 0, r.err)
  end)
  teardown(function() os.execute("rm -rf " .. q(dir)) end)

  local function words(args)
    local w = {}
    for i, a in ipairs(args) do w[i] = q((a:gsub("^SNAP$", snap):gsub("^BUNDLE$", bundle))) end
    return table.concat(w, " ")
  end

  describe("to /dev/full is an error with the OS's message", function()
    for _, args in ipairs(STDOUT) do
      it("eidos " .. table.concat(args, " "):gsub(SYSROOT, "SYSROOT") .. " > /dev/full", function()
        local ok = sh('"$EIDOS" ' .. words(args) .. " > /dev/null")
        assert.are.equal(0, ok.code, ok.err)
        local r = sh('"$EIDOS" ' .. words(args) .. " > /dev/full")
        assert.are.equal(1, r.code, r.err)
        assert.matches("cannot write to standard output: No space left on device", r.err, 1, true)
      end)
    end
    it("eidos bundle writes nothing on stdout (its closing line is on stderr), so > /dev/full is no error", function()
      local r = sh('"$EIDOS" bundle -r ' .. q(dir .. "/r.yaml") .. " -o " .. q(dir .. "/b2.tgz") .. " > /dev/full")
      assert.are.equal(0, r.code, r.err)
      assert.matches("wrote helm bundle to " .. dir .. "/b2.tgz (", r.err, 1, true)
    end)
    it("-o /dev/full (a device is written in place, and checked)", function()
      for _, args in ipairs({ { "recipe", "--service", "eks" }, { "validate", "-s", "SNAP", "-c", "OS.release.ID ubuntu", "-t", "junit" } }) do
        local r = sh('"$EIDOS" ' .. words(args) .. " -o /dev/full")
        assert.are.equal(1, r.code, r.err)
        assert.matches("cannot write /dev/full: No space left on device", r.err, 1, true)
      end
    end)
  end)

  describe("past a file size limit (EFBIG)", function()
    it("on a redirected stdout", function()
      local w = support.tmpdir()
      local r = sh("trap '' XFSZ; ulimit -f 1; \"$EIDOS\" recipe --service eks > r.yaml", w)
      assert.are.equal(1, r.code, r.err)
      assert.matches("cannot write to standard output: File too large", r.err, 1, true)
      os.execute("rm -rf " .. q(w))
    end)
    it("on -o FILE, leaving no file and no temporary", function()
      local w = support.tmpdir()
      for _, cmd in ipairs({ "recipe --service eks -o r.yaml", "snapshot --only OS --sysroot " .. q(SYSROOT) .. " -o s.json -t json",
                             "bundle -r " .. q(dir .. "/r.yaml") .. " -o b.tar.gz", "bundle -r " .. q(dir .. "/r.yaml") .. " -o b" }) do
        local r = sh("trap '' XFSZ; ulimit -f 1; \"$EIDOS\" " .. cmd, w)
        assert.are.equal(1, r.code, cmd .. ": " .. r.err)
        assert.matches("File too large", r.err, 1, true)
        assert.are.same({}, listing(w), cmd)
      end
      os.execute("rm -rf " .. q(w))
    end)
  end)

  describe("on a full file system", function()
    -- every case runs in its own mount namespace on a fresh 64 KiB tmpfs
    -- at $T, filled to the last block before eidos runs
    local function full(prepare, cmd)
      local w = support.tmpdir()
      local r = sh("exec unshare -m sh -c " .. q("mount -t tmpfs -o size=64k tmpfs " .. q(w) .. " || exit 99\n" ..
        "export EIDOS=" .. q(EIDOS) .. " T=" .. q(w) .. "\n" .. (prepare or "") ..
        "\ndd if=/dev/zero of=$T/fill bs=1024 2>/dev/null; \"$EIDOS\" " .. cmd ..
        "; rc=$?; echo \"rc=$rc\"; rm -f $T/fill; ls -A $T | LC_ALL=C sort; " ..
        "if [ -d $T/b ]; then \"$EIDOS\" verify $T/b >/dev/null && echo verified; fi; exit $rc"), w)
      os.execute("rm -rf " .. q(w))
      return r
    end

    local cases = {
      { "snapshot -o", "snapshot --only OS --sysroot " .. q(SYSROOT) .. " -o $T/s.yaml" },
      { "snapshot > file", "snapshot --only OS --sysroot " .. q(SYSROOT) .. " > $T/s.yaml", "s.yaml" },
      { "recipe -o", "recipe --service eks --gpu h100 --intent training --os ubuntu -o $T/r.json -t json" },
      { "validate junit -o", "validate -s " .. q(snap) .. " -c 'OS.release.ID ubuntu' -t junit -o $T/v.xml" },
      { "bundle into a directory", "bundle -r " .. q(dir .. "/r.yaml") .. " -o $T/b" },
      { "bundle into an archive", "bundle -r " .. q(dir .. "/r.yaml") .. " -o $T/b.zip" },
    }
    for _, c in ipairs(cases) do
      it(c[1] .. ": exit 1 with ENOSPC's message, nothing left behind", function()
        if not have_tmpfs() then return pending("cannot mount a tmpfs in a private mount namespace here") end
        local r = full(nil, c[2])
        assert.are.equal(1, r.code, r.err .. r.out)
        assert.matches("No space left on device", r.err, 1, true)
        local left = {}
        for l in r.out:gmatch("[^\n]+") do if not l:match("^rc=") then left[#left + 1] = l end end
        -- a shell redirection creates its file before eidos runs; nothing else may be there
        assert.are.same(c[3] and { c[3] } or {}, left, r.out)
      end)
    end

    it("bundle --force over a bundle: exit 1, the old bundle whole", function()
      if not have_tmpfs() then return pending("cannot mount a tmpfs in a private mount namespace here") end
      local r = full('"$EIDOS" bundle -r ' .. q(dir .. "/r.yaml") .. " -o $T/b >/dev/null || exit 98",
        "bundle -r " .. q(dir .. "/r.yaml") .. " -o $T/b --force --set gpu-operator:x=1")
      assert.are.equal(1, r.code, r.err .. r.out)
      assert.matches("No space left on device", r.err, 1, true)
      assert.matches("\nb\nverified\n$", "\n" .. r.out:gsub("^rc=%d+\n", ""), r.out)
    end)
  end)
end)

describe("reading", function()
  it("a directory on stdin is an error that says so", function()
    local w = support.tmpdir()
    local r = sh('"$EIDOS" validate -s - -c "OS.release.ID ubuntu" < ' .. q(w))
    os.execute("rm -rf " .. q(w))
    assert.are.equal(2, r.code, r.err)
    assert.matches("cannot read the snapshot from stdin: Is a directory", r.err, 1, true)
  end)

  it("a file or directory that may not be read gives EACCES's message, not \"not found\"", function()
    local w = support.tmpdir()
    os.execute("chmod 755 " .. q(w) .. " && mkdir " .. q(w .. "/locked") .. " && echo 'kind: Snapshot' > " ..
      q(w .. "/locked/s.yaml") .. " && echo 'kind: Snapshot' > " .. q(w .. "/s.yaml") ..
      " && chmod 000 " .. q(w .. "/locked") .. " " .. q(w .. "/s.yaml"))
    -- root reads anything: drop to nobody where the spec runs as root
    local as = ""
    local id = io.popen("id -u"):read("l")
    if id == "0" then
      if os.execute("command -v setpriv >/dev/null") ~= true then return pending("setpriv is needed to run as nobody") end
      as = "setpriv --reuid=65534 --regid=65534 --clear-groups "
    end
    for _, p in ipairs({ "locked/s.yaml", "s.yaml" }) do
      local r = sh(as .. '"$EIDOS" validate -s ' .. q(p) .. ' -c "OS.release.ID ubuntu"', w)
      assert.are.equal(1, r.code, r.err)
      assert.matches("Permission denied", r.err, 1, true)
      assert.is_nil(r.err:find("not found", 1, true), r.err)
    end
    os.execute("chmod -R 755 " .. q(w) .. "; rm -rf " .. q(w))
  end)
end)
