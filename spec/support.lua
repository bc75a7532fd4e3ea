-- spec/support.lua: helpers for specs that run the eidos binary as a user
-- would: run(args, {env=, stdin=}) -> {code=, out=, err=}; sh(script, dir);
-- temporary directories; file helpers; the location of ../shared fixtures.
local M = {}

M.build = os.getenv("EIDOS_BUILD_DIR") or "build"
-- ctest sets the working directory but not $PWD: ask the process itself
M.root = (function()
  local p = io.popen("pwd")
  local d = p and p:read("l")
  if p then p:close() end
  return d or os.getenv("PWD") or "."
end)()
M.eidos = M.build .. "/eidos"
-- the same as an absolute path (for scripts that run in another directory)
M.eidos_abs = M.eidos:sub(1, 1) == "/" and M.eidos or (M.root .. "/" .. M.eidos)

local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end
M.q = sh_quote

local tmp_n = 0
function M.tmpdir()
  tmp_n = tmp_n + 1
  local p = io.popen("mktemp -d /tmp/eidos-spec.XXXXXX")
  local d = p:read("l")
  p:close()
  return d
end

function M.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local t = f:read("a")
  f:close()
  return t
end

function M.exists(path)
  return os.execute("test -e " .. sh_quote(path)) == true
end

-- run(args, opts): args a list of words passed to the eidos binary (or
-- opts.bin); opts.env a map of extra environment; opts.stdin text.
function M.run(args, opts)
  opts = opts or {}
  local d = M.tmpdir()
  local words = {}
  for k, v in pairs(opts.env or {}) do words[#words + 1] = k .. "=" .. sh_quote(v) end
  words[#words + 1] = sh_quote(opts.bin or M.eidos)
  for _, a in ipairs(args) do words[#words + 1] = sh_quote(a) end
  local cmd = table.concat(words, " ")
  if opts.stdin then
    M.write(d .. "/in", opts.stdin)
    cmd = cmd .. " < " .. d .. "/in"
  else
    cmd = cmd .. " < /dev/null"
  end
  cmd = "env " .. cmd .. " > " .. d .. "/out 2> " .. d .. "/err; echo $? > " .. d .. "/rc"
  if opts.cwd then cmd = "cd " .. sh_quote(opts.cwd) .. " && " .. cmd end
  os.execute(cmd)
  local r = { code = tonumber(M.read(d .. "/rc")), out = M.read(d .. "/out"), err = M.read(d .. "/err") }
  os.execute("rm -rf " .. sh_quote(d))
  return r
end

-- sh(script, dir) -> {code=, out=, err=}: run a shell script (sh) in dir
-- (default: a fresh temporary directory), stdin from /dev/null
function M.sh(script, dir)
  local d = M.tmpdir()
  M.write(d .. "/s.sh", script .. "\n")
  os.execute(string.format("cd %s && sh %s/s.sh < /dev/null > %s/out 2> %s/err; echo $? > %s/rc",
    sh_quote(dir or d), d, d, d, d))
  local r = { code = tonumber(M.read(d .. "/rc")), out = M.read(d .. "/out"), err = M.read(d .. "/err") }
  os.execute("rm -rf " .. sh_quote(d))
  return r
end

-- entries(dir) -> the names in dir, hidden ones too, sorted bytewise
function M.entries(dir)
  local p = io.popen("cd " .. sh_quote(dir) .. " && ls -A | LC_ALL=C sort")
  local out = {}
  for l in p:lines() do out[#out + 1] = l end
  p:close()
  return out
end

-- raises(code, f, ...) -> message: f(...) must raise a structured error
-- (eidos.errors) with that code
function M.raises(code, f, ...)
  local ok, e = pcall(f, ...)
  assert(not ok, "no error raised")
  assert(type(e) == "table" and e.code, "not a structured error: " .. tostring(e))
  assert(e.code == code, string.format("error code %s, expected %s: %s", tostring(e.code), code, tostring(e.msg)))
  return e.msg
end

-- the shared fixtures beside the project, or nil (specs then skip)
function M.shared()
  for _, p in ipairs({ M.root .. "/../shared", M.root .. "/../../shared" }) do
    if M.exists(p .. "/fixtures") then return p end
  end
  return nil
end

-- snapshot_files(first) -> first, then the real snapshots of the shared
-- fixtures when they are present
function M.snapshot_files(first)
  local files = { first }
  local shared = M.shared()
  if shared then
    files[#files + 1] = shared .. "/fixtures/snapshots/h100-eks-ubuntu.yaml"
    files[#files + 1] = shared .. "/fixtures/snapshots/gb200-eks-ubuntu.yaml"
  end
  return files
end

return M
