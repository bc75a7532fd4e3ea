-- eidos.core.archive: reproducible tar.gz and zip (identical bytes for
-- identical input, in any time zone), sorted entries with their parent
-- directories, fixed owner/mode/mtime, refused entry paths, atomic writes;
-- reading tar and tar.gz back (hostile archives refused: links, special
-- files, unsafe paths, limits) and gzip.
local archive = require("eidos.core.archive")
local support = require("support")
local fs = require("eidos.core.fs")

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function lines(cmd)
  local p = assert(io.popen(cmd))
  local t = {}
  for l in p:lines() do t[#t + 1] = l end
  p:close()
  return t
end

local ENTRIES = {
  { path = "z/last.txt", data = "last\n" },
  { path = "README.md", data = "# bundle\n" },
  { path = "scripts/deploy.sh", data = "#!/bin/sh\necho hi\n", mode = "0755" },
  { path = "a/b/c/values.yaml", data = string.rep("key: value\n", 5000) },
  { path = "checksums.txt", data = "" },
  { path = "empty/", dir = true },
  { path = "bin/tool", data = "\0\1\2binary", mode = 493 },
  { path = string.rep("deep/", 25) .. "long-name.yaml", data = "x: 1\n" },
}

local SORTED = {
  "README.md", "a/", "a/b/", "a/b/c/", "a/b/c/values.yaml", "bin/", "bin/tool", "checksums.txt",
}

local function reversed(t)
  local r = {}
  for i = #t, 1, -1 do r[#r + 1] = t[i] end
  return r
end

describe("eidos.core.archive", function()
  local tmp
  before_each(function() tmp = assert(fs.mkdtemp("/tmp/eidos-archive-spec.")) end)
  after_each(function() assert(fs.remove_tree(tmp)) end)

  for _, fmt in ipairs({ "tar.gz", "zip" }) do
    describe(fmt, function()
      it("gives identical bytes for identical input, whatever the input order", function()
        local p1, p2 = tmp .. "/one." .. fmt, tmp .. "/two." .. fmt
        assert.is_true(archive.write(p1, fmt, ENTRIES))
        assert.is_true(archive.write(p2, fmt, reversed(ENTRIES)))
        local b1, b2 = fs.read(p1), fs.read(p2)
        assert.are.equal(b1, b2)
        assert.are.equal(b1, archive.bytes(fmt, ENTRIES))
        assert.are.equal(b1, archive.bytes(fmt, ENTRIES, { mtime = 0 }))
        assert.are_not.equal(b1, archive.bytes(fmt, ENTRIES, { mtime = 1700000000 }))
        assert.are.same({ "one." .. fmt, "two." .. fmt }, fs.list(tmp)) -- no temp files left
      end)

      it("gives the same bytes in another process and time zone", function()
        local script = tmp .. "/child.lua"
        assert(fs.write_atomic(script, ([[
          local a = require("eidos.core.archive")
          assert(a.write(%q, %q, {{path="x/y.txt", data="y"}, {path="run", data="r", mode=493}},
                         {mtime=1700000000}))
        ]]):format(tmp .. "/child." .. fmt, fmt)))
        local mine = archive.bytes(fmt, { { path = "run", data = "r", mode = 493 }, { path = "x/y.txt", data = "y" } },
                                   { mtime = 1700000000 })
        for _, tz in ipairs({ "UTC", "America/New_York", "Asia/Kolkata" }) do
          assert.is_true(os.execute("TZ=" .. tz .. " " .. q(support.eidos) .. " lua " .. q(script)))
          assert.are.equal(mine, fs.read(tmp .. "/child." .. fmt), "differs in TZ " .. tz)
        end
      end)

      it("refuses bad entry paths naming them, leaving no file", function()
        local bad = {
          { "/etc/passwd", "absolute" }, { "../x", '".."' }, { "a/../../x", '".."' },
          { "a/../b", '".."' }, { "a//b", "empty" }, { "./a", '"."' }, { "a/./b", '"."' },
          { "", "empty" }, { "a\\b", "backslash" }, { "caf\xc3\xa9", "printable ASCII" },
          { "a\nb", "printable ASCII" }, { "a\0b", "NUL" },
        }
        for _, c in ipairs(bad) do
          local out = tmp .. "/bad." .. fmt
          local ok, msg, code = archive.write(out, fmt, { { path = "fine.txt", data = "x" }, { path = c[1], data = "x" } })
          assert.is_nil(ok, c[1])
          assert.are.equal("invalid", code)
          assert.is_truthy(msg:find(c[2], 1, true), msg)
          if c[1] ~= "" and not c[1]:find("[%z\n]") then
            assert.is_truthy(msg:find('"' .. c[1] .. '"', 1, true), "names the path: " .. msg)
          end
          assert.is_nil(fs.exists(out))
          assert.is_nil((archive.bytes(fmt, { { path = c[1], data = "x" } })))
        end
        assert.are.same({}, fs.list(tmp))
      end)

      it("refuses duplicates, file/directory clashes and directories with data", function()
        local r, msg = archive.bytes(fmt, { { path = "a.txt", data = "1" }, { path = "a.txt", data = "2" } })
        assert.is_nil(r)
        assert.is_truthy(msg:find('duplicate archive entry path "a.txt"', 1, true), msg)
        r, msg = archive.bytes(fmt, { { path = "a", data = "1" }, { path = "a/b", data = "2" } })
        assert.is_nil(r)
        assert.is_truthy(msg:find('"a" is both a file and a directory', 1, true), msg)
        r, msg = archive.bytes(fmt, { { path = "d/", data = "1" } })
        assert.is_nil(r)
        assert.is_truthy(msg:find("directory but has data", 1, true), msg)
        -- a directory given explicitly and implied by a file is one entry
        assert.is_string(archive.bytes(fmt, { { path = "d/", dir = true }, { path = "d/f", data = "" }, { path = "d", dir = true } }))
      end)

      it("keeps an old file when the write fails, and names a missing directory", function()
        local out = tmp .. "/keep." .. fmt
        assert(fs.write_atomic(out, "old"))
        assert.is_nil((archive.write(out, fmt, { { path = "/abs", data = "" } })))
        assert.are.equal("old", fs.read(out))
        local ok, msg, code = archive.write(tmp .. "/missing/x." .. fmt, fmt, ENTRIES)
        assert.is_nil(ok)
        assert.are.equal("notfound", code)
        assert.is_truthy(msg:find(tmp .. "/missing/x." .. fmt, 1, true), msg)
        assert.are.same({ "keep." .. fmt }, fs.list(tmp))
      end)

      it("writes an empty archive", function()
        assert.is_string(archive.bytes(fmt, {}))
      end)
    end)
  end

  it("tar.gz: sorted entries with parents, root/root, fixed modes and mtime", function()
    local out = tmp .. "/b.tar.gz"
    assert(archive.write(out, "tar.gz", ENTRIES))
    local l = lines("TZ=UTC tar tzvf " .. q(out))
    local names = {}
    for i, line in ipairs(l) do
      local perm, owner, date, time, name = line:match("^(%S+) (%S+)%s+%d+ (%S+) (%S+) (.*)$")
      assert.are.equal("root/root", owner, line)
      assert.are.equal("1970-01-01", date, line)
      assert.are.equal("00:00", time, line)
      if name:sub(-1) == "/" or name == "bin/tool" or name == "scripts/deploy.sh" then
        assert.are.equal(name:sub(-1) == "/" and "drwxr-xr-x" or "-rwxr-xr-x", perm, line)
      else
        assert.are.equal("-rw-r--r--", perm, line)
      end
      names[i] = name
    end
    local sorted = { table.unpack(names) }
    table.sort(sorted)
    assert.are.same(sorted, names)
    assert.are.same(SORTED, { table.unpack(names, 1, #SORTED) })
    assert.are.equal(string.rep("deep/", 25) .. "long-name.yaml", names[#names - 5])
    -- extracts to the same contents
    assert.is_true(os.execute("mkdir " .. q(tmp .. "/x") .. " && tar xzf " .. q(out) .. " -C " .. q(tmp .. "/x")))
    for _, e in ipairs(ENTRIES) do
      if not e.dir then assert.are.equal(e.data, fs.read(tmp .. "/x/" .. e.path)) end
    end
    -- gzip header: no mtime, no name, and no trailing garbage
    local b = fs.read(out)
    assert.are.equal("\31\139\8\0\0\0\0\0", b:sub(1, 8))
    assert.is_true(os.execute("gzip -t " .. q(out)))
    -- a given mtime
    assert(archive.write(out, "tar.gz", ENTRIES, { mtime = 1700000000 }))
    assert.is_truthy(lines("TZ=UTC tar tzvf " .. q(out))[1]:find("2023-11-14 22:13", 1, true))
  end)

  it("zip: sorted entries, unix modes, UTC DOS times", function()
    local out = tmp .. "/b.zip"
    assert(archive.write(out, "zip", ENTRIES, { mtime = 1700000000 }))
    assert.is_true(os.execute("unzip -tq " .. q(out) .. " >/dev/null"))
    local names = {}
    for _, line in ipairs(lines("zipinfo " .. q(out))) do
      local perm, name = line:match("^([d-][rwx-]+)%s.*%d%d:%d%d (.*)$")
      if perm then
        names[#names + 1] = name
        local exe = name:sub(-1) == "/" or name == "bin/tool" or name == "scripts/deploy.sh"
        assert.are.equal(exe and (name:sub(-1) == "/" and "drwxr-xr-x" or "-rwxr-xr-x") or "-rw-r--r--", perm, line)
      end
    end
    assert.are.same(SORTED, { table.unpack(names, 1, #SORTED) })
    local sorted = { table.unpack(names) }
    table.sort(sorted)
    assert.are.same(sorted, names)
    -- the DOS time and date of every local and central header: 2023-11-14 22:13:20 UTC
    local b = fs.read(out)
    local dtime, ddate = (22 << 11) | (13 << 5) | 10, ((2023 - 1980) << 9) | (11 << 5) | 14
    local seen = 0
    for _, sig in ipairs({ "PK\3\4", "PK\1\2" }) do
      local off = sig == "PK\3\4" and 10 or 12
      local i = 1
      while true do
        i = b:find(sig, i, true)
        if not i then break end
        local t, d = string.unpack("<I2I2", b, i + off)
        assert.are.same({ dtime, ddate }, { t, d })
        seen = seen + 1
        i = i + 4
      end
    end
    assert.are.equal(2 * #names, seen)
    -- extracts to the same contents
    assert.is_true(os.execute("unzip -q " .. q(out) .. " -d " .. q(tmp .. "/x")))
    for _, e in ipairs(ENTRIES) do
      if not e.dir then assert.are.equal(e.data, fs.read(tmp .. "/x/" .. e.path)) end
    end
  end)

  it("returns invalid for unknown formats and negative mtimes", function()
    local r, msg, code = archive.bytes("rar", ENTRIES)
    assert.is_nil(r)
    assert.are.equal("invalid", code)
    assert.is_truthy(msg:find('"rar"', 1, true) and msg:find("tar.gz, zip", 1, true))
    r, msg, code = archive.bytes("zip", ENTRIES, { mtime = -1 })
    assert.is_nil(r)
    assert.are.equal("invalid", code)
    assert.is_truthy(msg:find("mtime", 1, true), msg)
    assert.is_nil((archive.write(tmp .. "/x.rar", "rar", ENTRIES)))
  end)

  it("raises on misuse", function()
    assert.has_error(function() archive.bytes("zip") end)
    assert.has_error(function() archive.bytes("zip", { "x" }) end)
    assert.has_error(function() archive.bytes("zip", { { data = "x" } }) end)
    assert.has_error(function() archive.bytes("zip", { { path = "a", data = 1 } }) end)
    assert.has_error(function() archive.bytes("zip", { { path = "a", mode = "rwx" } }) end)
    assert.has_error(function() archive.bytes("zip", {}, { mtime = "now" }) end)
  end)

  describe("read", function()
    it("reads back what bytes wrote: paths, data, modes, directories", function()
      local b = assert(archive.bytes("tar.gz", ENTRIES, { mtime = 0 }))
      local got = assert(archive.read(b))
      local by = {}
      for _, e in ipairs(got) do by[e.path] = e end
      for _, e in ipairs(ENTRIES) do
        local p = e.path:gsub("/$", "")
        assert.is_truthy(by[p], p)
        if e.dir then assert.is_true(by[p].dir) else assert.are.equal(e.data, by[p].data) end
      end
      assert.are.equal(tonumber("755", 8), by["scripts/deploy.sh"].mode)
      assert.are.equal(tonumber("644", 8), by["README.md"].mode)
      assert.are.equal(0, #assert(archive.read(assert(archive.bytes("tar.gz", {}, {})))))
    end)

    it("reads plain tar and ./-prefixed names (GNU tar, skopeo layers)", function()
      fs.mkdir_p(tmp .. "/t/sub")
      support.write(tmp .. "/t/sub/f.txt", "hello\n")
      assert(os.execute("tar -C " .. q(tmp .. "/t") .. " -cf " .. q(tmp .. "/a.tar") .. " ."))
      local got = assert(archive.read(support.read(tmp .. "/a.tar")))
      local files = {}
      for _, e in ipairs(got) do if not e.dir then files[#files + 1] = e.path .. "=" .. e.data end end
      assert.are.same({ "sub/f.txt=hello\n" }, files)
    end)

    it("refuses links, special files, unsafe paths, limits and garbage", function()
      fs.mkdir_p(tmp .. "/t")
      support.write(tmp .. "/t/f", "x")
      local function tar_of(setup_cmd, args)
        os.execute("rm -rf " .. q(tmp .. "/t2") .. " && mkdir -p " .. q(tmp .. "/t2") .. " && cd " .. q(tmp .. "/t2") ..
          " && " .. setup_cmd)
        assert(os.execute("cd " .. q(tmp .. "/t2") .. " && tar " .. (args or "") .. " -czf ../x.tgz *"))
        return support.read(tmp .. "/x.tgz")
      end
      local function refused(data, pat, opts)
        local v, msg, code = archive.read(data, opts)
        assert.is_nil(v)
        assert.are.equal("invalid", code)
        assert.matches(pat, msg, 1, true)
      end
      refused(tar_of("ln -s /etc/passwd link"), "is a symbolic link")
      refused(tar_of("echo x > a && ln a b"), "is a hard link")
      refused(tar_of("mkfifo fifo"), "is a FIFO")
      refused(tar_of("echo x > f", "--transform=s,^,../,"), "\"..\" segment")
      refused(tar_of("echo x > f", "--transform=s,^,/abs/,"), "absolute")
      refused(tar_of("head -c 5000 /dev/zero > big"), "expands to more than 1000 bytes", { max_size = 1000 })
      refused(tar_of("touch a b c"), "more than 2 entries", { max_entries = 2 })
      refused("not an archive at all", "not a tar or tar.gz archive")
      local good = assert(archive.bytes("tar.gz", ENTRIES, {}))
      refused(good:sub(1, #good // 2), "")
    end)

    it("gzip: deterministic, no name or time, readable by gzip -d", function()
      local data = string.rep("eidos layer ", 10000)
      local a, b = assert(archive.gzip(data)), assert(archive.gzip(data))
      assert.are.equal(a, b)
      assert.are.equal("\31\139", a:sub(1, 2))
      assert.are.equal("\0\0\0\0", a:sub(5, 8)) -- MTIME 0
      support.write(tmp .. "/x.gz", a)
      local p = io.popen("gzip -dc " .. q(tmp .. "/x.gz"))
      assert.are.equal(data, p:read("a"))
      p:close()
    end)
  end)
end)
