-- eidos.core.proc: helper programs for Lua (over src/core/proc.c, whose
-- deadline, group kill and caps are tested alone in spec/core/c/test_proc.c):
-- stdout back, stdin data in, environment overrides, and every failure as
-- nil, message, code with the program named.
local proc = require("eidos.core.proc")

describe("eidos.core.proc", function()
  it("runs a program without a shell and returns its stdout", function()
    assert.are.equal("a b;c\n", proc.run({ "/bin/sh", "-c", 'echo "$1;$2"', "sh", "a b", "c" }))
    assert.are.equal("", proc.run({ "true" }))
  end)

  it("feeds stdin data and overrides the environment", function()
    assert.are.equal("example.org", proc.run({ "cat" }, { stdin = "example.org" }))
    assert.are.equal("", proc.run({ "cat" })) -- stdin is /dev/null
    local big = string.rep("x", 16 * 1024)
    assert.are.equal(#big, #proc.run({ "cat" }, { stdin = big }))
    assert.are.equal("v1 kept\n", proc.run({ "/bin/sh", "-c", 'echo "$EIDOS_T1 $HOME_SET"' },
      { env = { "EIDOS_T1=v1", "HOME_SET=kept" } }))
  end)

  it("fails with nil, a message naming the program, and a code", function()
    local out, msg, code = proc.run({ "eidos-no-such-helper" }, { what = "credential helper" })
    assert.is_nil(out)
    assert.are.equal("unavailable", code)
    assert.truthy(msg:find('credential helper "eidos-no-such-helper"', 1, true), msg)
    assert.truthy(msg:find("not found on PATH", 1, true), msg)

    out, msg, code = proc.run({ "/bin/sh", "-c", "echo partial; echo 'login expired' >&2; exit 2" })
    assert.is_nil(out)
    assert.are.equal("failure", code)
    assert.truthy(msg:find('program "/bin/sh" exited with status 2: login expired', 1, true), msg)

    out, msg, code = proc.run({ "/bin/sh", "-c", "echo 'credentials not found'; exit 1" })
    assert.is_nil(out)
    assert.are.equal("failure", code)
    assert.truthy(msg:find("credentials not found", 1, true), msg) -- stdout when stderr is empty

    out, msg, code = proc.run({ "sleep", "30" }, { timeout = 0.2 })
    assert.is_nil(out)
    assert.are.equal("timeout", code)
    assert.truthy(msg:find("was killed", 1, true), msg)

    out, msg, code = proc.run({ "yes" }, { max_out = 1000 })
    assert.is_nil(out)
    assert.are.equal("failure", code)
    assert.truthy(msg:find("more than 1000 bytes", 1, true), msg)

    out, msg, code = proc.run({ "cat" }, { stdin = string.rep("x", 16 * 1024 + 1) })
    assert.is_nil(out)
    assert.are.equal("invalid", code)
    assert.truthy(msg:find("16384", 1, true), msg)
  end)

  it("raises on misuse", function()
    assert.has_error(function() proc.run({}) end)
    assert.has_error(function() proc.run({ "true", 3 }) end)
    assert.has_error(function() proc.run({ "true" }, { env = { 1 } }) end)
    assert.has_error(function() proc.run({ "true" }, { timeout = "soon" }) end)
  end)
end)
