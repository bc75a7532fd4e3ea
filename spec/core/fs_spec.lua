-- eidos.core.fs: atomic writes leave nothing behind on failure, join refuses
-- to escape its base, bounded reads, sorted listings and walks, rm -rf.
local fs = require("eidos.core.fs")

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

describe("eidos.core.fs", function()
  local tmp
  before_each(function()
    tmp = assert(fs.mkdtemp((os.getenv("TMPDIR") or "/tmp") .. "/eidos-fs-spec."))
  end)
  after_each(function()
    if tmp then os.execute("chmod -R u+rwx " .. q(tmp) .. " 2>/dev/null") end
    assert.is_true(fs.remove_tree(tmp))
  end)

  describe("write_atomic", function()
    it("writes data with the given mode and leaves no temporary file", function()
      local p = tmp .. "/out.yaml"
      assert.is_true(fs.write_atomic(p, "a: 1\n\0binary"))
      assert.are.equal("a: 1\n\0binary", fs.read(p))
      assert.is_true(fs.write_atomic(p, "#!/bin/sh\n", "0755"))
      assert.are.equal("#!/bin/sh\n", fs.read(p))
      local h = io.popen("stat -c %a " .. q(p))
      assert.are.equal("755", h:read("l"))
      h:close()
      assert.is_true(fs.write_atomic(p, "x", 384)) -- 0600
      h = io.popen("stat -c %a " .. q(p))
      assert.are.equal("600", h:read("l"))
      h:close()
      assert.are.same({ "out.yaml" }, fs.list(tmp))
    end)

    it("defaults to mode 0644", function()
      local p = tmp .. "/f"
      assert.is_true(fs.write_atomic(p, ""))
      local h = io.popen("stat -c %a " .. q(p))
      assert.are.equal("644", h:read("l"))
      h:close()
      assert.are.equal("", fs.read(p))
    end)

    it("fails naming the path and leaves nothing when the directory is missing", function()
      local p = tmp .. "/missing/out.txt"
      local ok, msg, code = fs.write_atomic(p, "data")
      assert.is_nil(ok)
      assert.are.equal("notfound", code)
      assert.is_truthy(msg:find(p, 1, true), msg)
      assert.are.same({}, fs.list(tmp))
    end)

    it("leaves nothing and keeps the old file when the rename fails", function()
      -- the target is a non-empty directory: the temp file is written, the rename fails
      assert.is_true(fs.mkdir_p(tmp .. "/target/sub"))
      local ok, msg, code = fs.write_atomic(tmp .. "/target", "data")
      assert.is_nil(ok)
      assert.are.equal("failure", code)
      assert.is_truthy(msg:find(tmp .. "/target", 1, true), msg)
      assert.are.same({ "target" }, fs.list(tmp))
      assert.are.same({ "sub" }, fs.list(tmp .. "/target"))
    end)

    it("leaves nothing in a read-only directory", function()
      if os.execute("test $(id -u) -eq 0") then return end -- root ignores permissions
      assert.is_true(fs.mkdir_p(tmp .. "/ro", "0555"))
      local ok, msg = fs.write_atomic(tmp .. "/ro/f", "x")
      assert.is_nil(ok)
      assert.is_truthy(msg:find(tmp .. "/ro/f", 1, true))
      assert.are.same({}, fs.list(tmp .. "/ro"))
    end)

    it("refuses directory names and NUL bytes", function()
      local ok, msg, code = fs.write_atomic(tmp .. "/", "x")
      assert.is_nil(ok)
      assert.are.equal("invalid", code)
      assert.is_truthy(msg:find("names a directory", 1, true))
      ok, msg, code = fs.write_atomic(tmp .. "/a\0b", "x")
      assert.is_nil(ok)
      assert.are.equal("invalid", code)
      assert.is_truthy(msg:find("NUL", 1, true))
      assert.are.same({}, fs.list(tmp))
    end)

    it("raises on misuse", function()
      assert.has_error(function() fs.write_atomic(tmp .. "/x") end)
      assert.has_error(function() fs.write_atomic(tmp .. "/x", "d", "0999") end)
      assert.has_error(function() fs.write_atomic(tmp .. "/x", "d", -1) end)
    end)
  end)

  describe("join", function()
    local good = {
      { "/b", "a", "/b/a" }, { "/b/", "a/b", "/b/a/b" }, { "/b", "./a//b/", "/b/a/b" },
      { "/b", "a/../c", "/b/c" }, { "/b", "a/./b/../../c", "/b/c" }, { "/b", "", "/b" },
      { "/b", ".", "/b" }, { "/b", "a/..", "/b" }, { "/", "etc", "/etc" },
      { "rel", "x", "rel/x" }, { "", "x/y", "x/y" }, { "", "", "." }, { "b", "..x", "b/..x" },
      { "b", "x..", "b/x.." },
    }
    for _, c in ipairs(good) do
      it(string.format("joins %q and %q", c[1], c[2]), function()
        assert.are.equal(c[3], fs.join(c[1], c[2]))
      end)
    end

    local bad = {
      { "/b", "/etc/passwd", "is absolute" }, { "/b", "..", "escapes" },
      { "/b", "../x", "escapes" }, { "/b", "a/../../x", "escapes" },
      { "/b", "a/b/../../..", "escapes" }, { "/b", "./../b", "escapes" },
      { "/b", "a\0b", "NUL" }, { "/b\0", "a", "NUL" },
    }
    for _, c in ipairs(bad) do
      it(string.format("refuses %q onto %q", c[2], c[1]), function()
        local r, msg, code = fs.join(c[1], c[2])
        assert.is_nil(r)
        assert.are.equal("invalid", code)
        assert.is_truthy(msg:find(c[3], 1, true), msg)
        if not (c[1] .. c[2]):find("%z") then
          assert.is_truthy(msg:find('"' .. c[2] .. '"', 1, true), "names the path: " .. msg)
        end
      end)
    end
  end)

  describe("read", function()
    it("reads whole files and enforces a limit naming it", function()
      local p = tmp .. "/f"
      assert(fs.write_atomic(p, string.rep("x", 100)))
      assert.are.equal(100, #fs.read(p))
      assert.are.equal(100, #fs.read(p, 100))
      local r, msg, code = fs.read(p, 99)
      assert.is_nil(r)
      assert.are.equal("invalid", code)
      assert.is_truthy(msg:find("99", 1, true) and msg:find(p, 1, true), msg)
    end)

    it("enforces the limit on files whose size is not known in advance", function()
      local r, msg = fs.read("/proc/self/status", 10)
      assert.is_nil(r)
      assert.is_truthy(msg:find("limit of 10 bytes", 1, true), msg)
      assert.is_truthy(#fs.read("/proc/self/status") > 10)
    end)

    it("names the path when missing or a directory", function()
      local r, msg, code = fs.read(tmp .. "/nope")
      assert.is_nil(r)
      assert.are.equal("notfound", code)
      assert.is_truthy(msg:find(tmp .. "/nope", 1, true))
      r, msg = fs.read(tmp)
      assert.is_nil(r)
      assert.is_truthy(msg:find("is a directory", 1, true))
    end)

    it("reads a FIFO without waiting on open, within a time limit", function()
      local sys = require("eidos.core.sys")
      local p = tmp .. "/fifo"
      assert.is_true(os.execute("mkfifo " .. q(p)))
      -- no writer ever: the limit, not a hang (the open does not block)
      local t0 = sys.monotime()
      local r, msg, code = fs.read(p, 1024, 200)
      assert.is_nil(r)
      assert.are.equal("timeout", code)
      assert.is_truthy(msg:find(p, 1, true) and msg:find("200 ms", 1, true), msg)
      assert.is_true(sys.monotime() - t0 < 10)
      -- a writer that comes later and closes: its whole text
      -- (background writers give up on their own and never hold the test's output)
      os.execute("timeout 30 sh -c \"sleep 0.3; printf hello; sleep 0.2; printf ' world'\" 2>/dev/null > " .. q(p) .. " &")
      assert.are.equal("hello world", fs.read(p, 1024, 20000))
      -- over the limit while streaming
      os.execute("timeout 30 head -c 5000 /dev/zero 2>/dev/null > " .. q(p) .. " &")
      r, msg = fs.read(p, 100, 20000)
      assert.is_nil(r)
      assert.is_truthy(msg:find("limit of 100 bytes", 1, true), msg)
      os.remove(p)
      -- a character device: read like a pipe
      assert.are.equal("", fs.read("/dev/null", 10, 1000))
      r, msg = fs.read("/dev/zero", 10, 1000)
      assert.is_nil(r)
      assert.is_truthy(msg:find("limit of 10 bytes", 1, true), msg)
    end)
  end)

  describe("exists, list, walk", function()
    it("reports kinds", function()
      assert(fs.write_atomic(tmp .. "/f", "x"))
      assert.are.equal("file", fs.exists(tmp .. "/f"))
      assert.are.equal("dir", fs.exists(tmp))
      assert.are.equal("other", fs.exists("/dev/null"))
      assert.is_nil(fs.exists(tmp .. "/nope"))
      assert.is_nil(fs.exists(tmp .. "/f/below"))
      assert.is_nil((fs.exists(tmp .. "/\0")))
    end)

    it("lists and walks in sorted order", function()
      for _, p in ipairs({ "b/z.txt", "b/a.txt", "a.txt", "B.txt", "c/d/e/f.yaml", "a-b/x" }) do
        local full = assert(fs.join(tmp, p))
        assert(fs.mkdir_p(full:match("^(.*)/[^/]*$")))
        assert(fs.write_atomic(full, p))
      end
      assert(fs.mkdir_p(tmp .. "/empty/dir"))
      os.execute("ln -s ../a.txt " .. q(tmp .. "/b/link.txt"))
      os.execute("ln -s .. " .. q(tmp .. "/c/loop"))
      assert.are.same({ "B.txt", "a-b", "a.txt", "b", "c", "empty" }, fs.list(tmp))
      assert.are.same({ "B.txt", "a-b/x", "a.txt", "b/a.txt", "b/link.txt", "b/z.txt", "c/d/e/f.yaml" },
                      fs.walk(tmp))
      assert.are.same({}, fs.walk(tmp .. "/empty"))
    end)

    it("names the directory on failure", function()
      local r, msg, code = fs.list(tmp .. "/nope")
      assert.is_nil(r)
      assert.are.equal("notfound", code)
      assert.is_truthy(msg:find(tmp .. "/nope", 1, true))
      r, msg = fs.walk(tmp .. "/nope")
      assert.is_nil(r)
      assert.is_truthy(msg:find(tmp .. "/nope", 1, true))
    end)
  end)

  describe("mkdir_p, rename, remove_tree, mkdtemp", function()
    it("creates nested directories and accepts existing ones", function()
      assert.is_true(fs.mkdir_p(tmp .. "/a/b//c/"))
      assert.is_true(fs.mkdir_p(tmp .. "/a/b/c"))
      assert.are.equal("dir", fs.exists(tmp .. "/a/b/c"))
      assert(fs.write_atomic(tmp .. "/file", "x"))
      local ok, msg = fs.mkdir_p(tmp .. "/file/sub")
      assert.is_nil(ok)
      assert.is_truthy(msg:find(tmp .. "/file", 1, true))
    end)

    it("renames and names both paths on failure", function()
      assert(fs.write_atomic(tmp .. "/a", "x"))
      assert.is_true(fs.rename(tmp .. "/a", tmp .. "/b"))
      assert.are.same({ "b" }, fs.list(tmp))
      local ok, msg, code = fs.rename(tmp .. "/a", tmp .. "/c")
      assert.is_nil(ok)
      assert.are.equal("notfound", code)
      assert.is_truthy(msg:find(tmp .. "/a", 1, true) and msg:find(tmp .. "/c", 1, true))
    end)

    it("removes trees without following symlinks", function()
      local keep = tmp .. "/keep"
      assert(fs.mkdir_p(keep))
      assert(fs.write_atomic(keep .. "/precious", "x"))
      assert(fs.mkdir_p(tmp .. "/t/a/b"))
      assert(fs.write_atomic(tmp .. "/t/a/b/f", "x"))
      assert(fs.write_atomic(tmp .. "/t/g", "x"))
      os.execute("ln -s " .. q(keep) .. " " .. q(tmp .. "/t/a/link"))
      assert.is_true(fs.remove_tree(tmp .. "/t"))
      assert.is_nil(fs.exists(tmp .. "/t"))
      assert.are.equal("x", fs.read(keep .. "/precious"))
      assert.is_true(fs.remove_tree(tmp .. "/t")) -- absent is fine
      assert.is_true(fs.remove_tree(keep .. "/precious")) -- a plain file
      assert.is_nil(fs.exists(keep .. "/precious"))
    end)

    it("refuses to remove the root, the empty path, . and ..", function()
      for _, p in ipairs({ "", "/", "//", ".", "..", "./", tmp .. "/..", tmp .. "/." }) do
        local ok, msg, code = fs.remove_tree(p)
        assert.is_nil(ok, p)
        assert.are.equal("invalid", code)
        assert.is_truthy(msg:find("refusing", 1, true))
      end
      assert.are.equal("dir", fs.exists(tmp))
    end)

    it("makes unique temporary directories", function()
      local a = assert(fs.mkdtemp(tmp .. "/x."))
      local b = assert(fs.mkdtemp(tmp .. "/x."))
      assert.are_not.equal(a, b)
      assert.are.equal("dir", fs.exists(a))
      local r, msg = fs.mkdtemp(tmp .. "/missing/x.")
      assert.is_nil(r)
      assert.is_truthy(msg:find(tmp .. "/missing/x.", 1, true))
    end)
  end)
end)
