-- spec/e2e/eidosd.lua: start and stop eidosd for the e2e specs, and talk
-- to it with the curl CLI (and spec/fixtures/server/rawclient.py where a
-- request must be cut or held). start{args=, env=, stub=, cli=} runs the built
-- eidosd on a free loopback port (--listen 127.0.0.1:0, the port read from
-- its "listening" log line) with the source tree as EIDOS_HOME, so the Lua
-- on disk is what runs; stub = true puts spec/fixtures/server first on the
-- override path (a stand-in recipe engine and bundler with test switches);
-- cli = true starts it as `eidos serve`.
local support = require("support")
local cjson = require("cjson")

local M = {}

M.bin = support.build .. "/eidosd"
M.fixtures = support.root .. "/spec/fixtures/server"
local q = support.q

function M.available()
  return support.exists(M.bin)
end

function M.have(cmd)
  return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == true
end

function M.sleep(s)
  os.execute("sleep " .. s)
end

-- the real recipe engine has landed in lua/ (else every server uses the stub)
function M.real_engine()
  return support.exists(support.root .. "/lua/eidos/recipe/init.lua")
end

function M.real_bundler()
  return support.exists(support.root .. "/lua/eidos/bundle/init.lua")
    or support.exists(support.root .. "/lua/eidos/bundle.lua")
end

function M.start(opts)
  opts = opts or {}
  local dir = support.tmpdir()
  local s = { dir = dir, log = dir .. "/log", stub = opts.stub or not M.real_engine() }
  local words = { "EIDOS_HOME=" .. q(support.root) }
  for k, v in pairs(opts.env or {}) do words[#words + 1] = k .. "=" .. q(v) end
  if opts.cli then -- through `eidos serve`, which finds eidosd (EIDOSD) and runs it
    words[#words + 1] = "EIDOSD=" .. q(M.bin)
    words[#words + 1] = q(support.eidos)
    words[#words + 1] = "serve"
  else
    words[#words + 1] = q(M.bin)
  end
  if s.stub then words[#words + 1] = "--lua-path=" .. q(M.fixtures) end
  words[#words + 1] = "--listen=127.0.0.1:0"
  local has_threads = false
  for _, a in ipairs(opts.args or {}) do
    words[#words + 1] = q(a)
    if a:match("^%-%-threads") then has_threads = true end
  end
  if not has_threads then words[#words + 1] = "--threads=2" end
  local cmd = string.format("(env %s 2>%s >%s/stdout </dev/null & echo $! > %s/pid; wait $!; echo $? > %s/rc) >/dev/null 2>&1 &",
    table.concat(words, " "), q(s.log), q(dir), q(dir), q(dir))
  os.execute("sh -c " .. q(cmd))
  for _ = 1, 600 do -- 30 s: sanitizer builds under a loaded ctest start slowly
    local log = support.read(s.log) or ""
    local port = log:match('"msg":"listening".-"port":(%d+)')
    if port then
      s.port = tonumber(port)
      -- eidosd's own pid (with `eidos serve` it may be a child of the started process)
      s.pid = tonumber(log:match('"msg":"listening".-"pid":(%d+)')) or tonumber(support.read(dir .. "/pid"))
      s.base = "http://127.0.0.1:" .. port
      return s
    end
    if support.exists(dir .. "/rc") then break end
    M.sleep(0.05)
  end
  local log = support.read(s.log) or "(no log)"
  local pid = tonumber(support.read(dir .. "/pid") or "")
  if pid and not support.exists(dir .. "/rc") then os.execute("kill -KILL " .. pid .. " 2>/dev/null") end
  os.execute("rm -rf " .. q(dir))
  error("eidosd did not start: " .. log)
end

function M.signal(s, sig)
  os.execute("kill -" .. (sig or "TERM") .. " " .. s.pid .. " 2>/dev/null")
end

-- wait for the process to end: its exit code, or nil after `seconds`
function M.wait(s, seconds)
  for _ = 1, math.floor((seconds or 10) / 0.05) do
    local rc = support.read(s.dir .. "/rc")
    if rc and rc:match("%d") then return tonumber(rc) end
    M.sleep(0.05)
  end
  return nil
end

function M.stop(s)
  if not s or not s.pid then return end
  if not support.read(s.dir .. "/rc") then
    M.signal(s, "TERM")
    if not M.wait(s, 10) then M.signal(s, "KILL"); M.wait(s, 5) end
  end
  os.execute("rm -rf " .. q(s.dir))
end

-- the curl command line of a request, writing into directory d: the body
-- to d/body, the head to d/head, "STATUS SECONDS" on stdout
local function curl_command(s, method, path, opts, d)
  local words = { "curl", "-s", "-S", "--max-time", tostring(opts.timeout or 20), "-o", q(d .. "/body"),
                  "-D", q(d .. "/head"), "-w", "'%{http_code} %{time_total}'" }
  if method == "HEAD" then words[#words + 1] = "-I"
  else words[#words + 1] = "-X"; words[#words + 1] = q(method) end
  for _, h in ipairs(opts.headers or {}) do
    words[#words + 1] = "-H"
    words[#words + 1] = q(h)
  end
  local file = opts.body_file
  if opts.body then
    support.write(d .. "/in", opts.body)
    file = d .. "/in"
  end
  if file then
    words[#words + 1] = "--data-binary"
    words[#words + 1] = q("@" .. file)
    words[#words + 1] = "-H"
    words[#words + 1] = q("Expect:")
  end
  words[#words + 1] = q((opts.base or s.base) .. path)
  return table.concat(words, " ")
end

-- the answer curl left in d (its "STATUS SECONDS" line in out); removes d
local function curl_result(d, out)
  local code, secs = (out or ""):match("^(%d+) ([%d.]+)")
  local r = { status = tonumber(code), seconds = tonumber(secs), headers = {}, body = support.read(d .. "/body") or "",
              err = support.read(d .. "/err") }
  for line in (support.read(d .. "/head") or ""):gmatch("[^\r\n]+") do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then r.headers[k:lower()] = v end
  end
  local ok, j = pcall(cjson.decode, r.body)
  if ok and type(j) == "table" then r.json = j end
  os.execute("rm -rf " .. q(d))
  return r
end

-- request(s, method, path, {headers = {...}, body = "...", body_file = ..., timeout = ...})
--   -> {status, seconds, headers (lower-case names), body, json (decoded or nil)}
function M.request(s, method, path, opts)
  local d = support.tmpdir()
  local p = io.popen(curl_command(s, method, path, opts or {}, d) .. " 2>" .. q(d .. "/err"))
  local out = p:read("a")
  p:close()
  return curl_result(d, out)
end

-- the same in the background: a handle for M.collect
function M.bg(s, method, path, opts)
  opts = opts or {}
  opts.timeout = opts.timeout or 30
  local d = support.tmpdir()
  os.execute("(" .. curl_command(s, method, path, opts, d) .. " > " .. q(d .. "/out") .. " 2>" .. q(d .. "/err")
    .. "; touch " .. q(d .. "/done") .. ") &")
  return { dir = d }
end

-- wait for a background request: what M.request returns, or nil after `seconds`
function M.collect(h, seconds)
  for _ = 1, math.floor((seconds or 30) / 0.05) do
    if support.exists(h.dir .. "/done") then return curl_result(h.dir, support.read(h.dir .. "/out")) end
    M.sleep(0.05)
  end
  return nil
end

function M.get(s, path, headers) return M.request(s, "GET", path, { headers = headers }) end

-- seconds of a clock, with fractions (for timing from specs)
function M.now()
  local p = io.popen("date +%s.%N")
  local t = tonumber(p:read("l"))
  p:close()
  return t
end

-- run rawclient.py with arguments; its output line
function M.raw(...)
  local words = { "python3", q(M.fixtures .. "/rawclient.py") }
  for _, a in ipairs({ ... }) do words[#words + 1] = q(tostring(a)) end
  local p = io.popen(table.concat(words, " ") .. " 2>&1")
  local out = p:read("a")
  p:close()
  return (out:gsub("%s+$", ""))
end

-- the metric samples of /metrics: name{labels} -> value
function M.metrics(s)
  local r = M.get(s, "/metrics")
  local out = {}
  for line in r.body:gmatch("[^\n]+") do
    if not line:match("^#") then
      local k, v = line:match("^(%S+)%s+(%S+)$")
      if k then out[k] = tonumber(v) end
    end
  end
  return out, r
end

return M
