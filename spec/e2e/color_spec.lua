-- Colour (eidos.term) as a person at a terminal and a CI log meet it:
-- no-color.org (only a non-empty NO_COLOR turns colour off), TERM=dumb,
-- FORCE_COLOR, --color auto|always|never and EIDOS_COLOR, on stderr (the
-- "error:" prefix) and on stdout (the status words of validate -t table).
-- A real pseudo-terminal comes from script(1).
local support = require("support")

local ROOT = support.root
local EIDOS = support.eidos_abs
local SMALL = ROOT .. "/spec/fixtures/snapshots/validate-small.yaml"
local RED = "\27[31merror:"

local function has_script() return os.execute("command -v script >/dev/null 2>&1") == true end

-- run eidos with env (a string of NAME=VALUE words) and args (a string);
-- tty: on a pseudo-terminal (stdout and stderr together), else stderr
-- into a file and stdout into another
local function run(env, args, tty)
  local cmd = string.format("env -u NO_COLOR -u FORCE_COLOR -u EIDOS_COLOR TERM=xterm EIDOS_HOME=%s %s %s %s",
    support.q(ROOT), env, support.q(EIDOS), args)
  if tty then
    return support.sh("script -qec " .. support.q(cmd .. " 2>&1") .. " /dev/null").out
  end
  local r = support.sh(cmd)
  return r.err, r.out
end

describe("colour", function()
  local cases = {
    -- env, flags, on a terminal?, coloured?
    { "", "", true, true },
    { "", "", false, false },
    { "NO_COLOR=", "", true, true },         -- empty: not set
    { "NO_COLOR=1", "", true, false },
    { "NO_COLOR=0", "", true, false },       -- any non-empty value
    { "TERM=dumb", "", true, false },
    { "NO_COLOR=1", "--color always", true, true }, -- the command line wins
    { "", "--color never", true, false },
    { "", "--color=always", false, true },   -- forced into a pipe (CI logs)
    { "EIDOS_COLOR=always", "", false, true },
    { "EIDOS_COLOR=always", "--color never", false, false },
    { "FORCE_COLOR=1", "", false, true },
    { "FORCE_COLOR=0", "", false, false },
    { "FORCE_COLOR=1 NO_COLOR=1", "", false, false },
    { "TERM=dumb FORCE_COLOR=1", "", false, true },
  }
  for _, c in ipairs(cases) do
    local name = string.format("%s %s on %s: %s", c[1] ~= "" and c[1] or "(no env)", c[2],
      c[3] and "a terminal" or "a pipe", c[4] and "colour" or "none")
    local test = (c[3] and not has_script()) and pending or it
    test(name, function()
      -- a flag error: coloured as asked even though parsing failed
      local err = run(c[1], c[2] .. " recipe --servce eks", c[3])
      assert.truthy(err:find("error:", 1, true), err)
      assert.are.equal(c[4], err:find(RED, 1, true) ~= nil, err)
      if not c[4] then assert.is_nil(err:find("\27", 1, true), err) end
    end)
  end

  it("validate -t table colours its status words on stdout only where stdout is coloured", function()
    local args = "validate -s " .. support.q(SMALL) .. " -c 'OS.release.ID ubuntu' -c 'OS.release.ID rhel' -t table"
    local _, out = run("", args, false)
    assert.is_nil(out:find("\27", 1, true), out)
    _, out = run("", "--color always " .. args, false)
    assert.truthy(out:find("\27[32mpassed\27[0m", 1, true), out)
    assert.truthy(out:find("\27[31mfailed\27[0m", 1, true), out)
    -- never into a file, whatever --color says
    local dir = support.tmpdir()
    run("", "--color always " .. args .. " -o " .. support.q(dir .. "/t.txt"), false)
    local text = support.read(dir .. "/t.txt")
    os.execute("rm -rf " .. support.q(dir))
    assert.truthy(text:find("passed", 1, true), text)
    assert.is_nil(text:find("\27", 1, true), text)
    if has_script() then
      local both = run("", args, true)
      assert.truthy(both:find("\27[32mpassed\27[0m", 1, true), both)
      both = run("NO_COLOR=1", args, true)
      assert.is_nil(both:find("\27", 1, true), both)
    end
  end)

  it("a bad --color or EIDOS_COLOR is refused naming the accepted values", function()
    local err = run("", "recipe --service eks --color sometimes", false)
    assert.truthy(err:find('invalid value "sometimes" for --color (accepted: auto, always, never)', 1, true), err)
    err = run("EIDOS_COLOR=yes", "recipe --service eks", false)
    assert.truthy(err:find('invalid value "yes" for EIDOS_COLOR (accepted: auto, always, never)', 1, true), err)
  end)
end)
