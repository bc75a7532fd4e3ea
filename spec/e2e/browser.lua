-- spec/e2e/browser.lua: a real browser for the console specs -- Debian's
-- chromium, headless, driven over the W3C WebDriver protocol by
-- chromedriver (both from scripts/install-deps), spoken with the curl CLI.
-- start() runs chromedriver on a free loopback port (--port=0, the port
-- read from what it prints) and opens a session with a fresh profile, a
-- download directory, the network quiet (no background requests: the
-- machine has no network) and the performance log on, so a spec sees
-- every request the page makes (requests()). Chromium's own DevTools
-- commands go through chromedriver's goog/cdp/execute (cdp()).
--   local b = browser.start({width = 1280, height = 900})
--   b:go(url); b:wait("document.documentElement.dataset.ready")
--   b:exec("return document.title"); b:click("button.x"); b:shot(path)
--   b:quit()
local support = require("support")
local cjson = require("cjson")

local M = {}
local q = support.q

M.chromium = os.getenv("EIDOS_CHROMIUM") or "/usr/bin/chromium"
M.driver = os.getenv("EIDOS_CHROMEDRIVER") or "/usr/bin/chromedriver"

-- why no browser can run here, or nil when one can
function M.missing()
  for _, p in ipairs({ M.chromium, M.driver }) do
    if not support.exists(p) then
      return p .. " is missing (scripts/install-deps installs Debian's chromium and chromium-driver)"
    end
  end
  return nil
end

local Browser = {}
Browser.__index = Browser

local function sleep(s) os.execute("sleep " .. s) end

-- one WebDriver command: method, path below the session (or absolute
-- when it starts with //), body (a table, or JSON text) -> the decoded value
function Browser:cmd(method, path, body, timeout)
  local url = self.base .. (path:sub(1, 2) == "//" and path:sub(2) or ("/session/" .. self.id .. path))
  local words = { "curl", "-s", "-S", "--max-time", tostring(timeout or 60), "-X", method, "-H",
    q("Content-Type: application/json") }
  local f
  if body ~= nil then
    f = os.tmpname()
    support.write(f, type(body) == "string" and body or cjson.encode(body))
    words[#words + 1] = "--data-binary"
    words[#words + 1] = q("@" .. f)
  end
  words[#words + 1] = q(url)
  local p = io.popen(table.concat(words, " ") .. " 2>&1")
  local out = p:read("a")
  p:close()
  if f then os.remove(f) end
  local ok, j = pcall(cjson.decode, out)
  if not ok or type(j) ~= "table" then error("webdriver " .. method .. " " .. path .. ": " .. out, 2) end
  if type(j.value) == "table" and j.value.error then
    error("webdriver " .. method .. " " .. path .. ": " .. tostring(j.value.error) .. ": " ..
      tostring(j.value.message):sub(1, 600), 2)
  end
  return j.value
end

function M.start(opts)
  opts = opts or {}
  local dir = support.tmpdir()
  local b = setmetatable({ dir = dir, downloads = dir .. "/downloads" }, Browser)
  os.execute("mkdir -p " .. q(b.downloads) .. " " .. q(dir .. "/profile"))
  os.execute(string.format("(%s --port=0 > %s 2>&1 & echo $! > %s) ", q(M.driver), q(dir .. "/driver.log"),
    q(dir .. "/driver.pid")))
  b.pid = tonumber(support.read(dir .. "/driver.pid"))
  for _ = 1, 200 do
    local port = (support.read(dir .. "/driver.log") or ""):match("started successfully on port (%d+)")
    if port then b.base = "http://127.0.0.1:" .. port break end
    sleep(0.05)
  end
  if not b.base then
    b:quit()
    error("chromedriver did not start: " .. (support.read(dir .. "/driver.log") or ""))
  end
  local args = { "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--no-default-browser-check", "--disable-dev-shm-usage",
    "--user-data-dir=" .. dir .. "/profile",
    string.format("--window-size=%d,%d", opts.width or 1280, opts.height or 900) }
  local caps = { capabilities = { alwaysMatch = {
    browserName = "chrome",
    ["goog:chromeOptions"] = { binary = M.chromium, args = args,
      prefs = { ["download.default_directory"] = b.downloads, ["download.prompt_for_download"] = false } },
    ["goog:loggingPrefs"] = { performance = "ALL", browser = "ALL" },
  } } }
  local ok, v = pcall(Browser.cmd, b, "POST", "//session", caps, 120)
  if not ok then
    b:quit()
    error(v)
  end
  b.id = v.sessionId
  b:cmd("POST", "/timeouts", { script = 30000, pageLoad = 30000, implicit = 0 })
  -- downloads of a headless browser go where the spec looks
  b:cdp("Browser.setDownloadBehavior", { behavior = "allow", downloadPath = b.downloads })
  return b
end

function Browser:quit()
  if self.id then pcall(Browser.cmd, self, "DELETE", "", nil, 30) end
  self.id = nil
  if self.pid then os.execute("kill " .. self.pid .. " 2>/dev/null") end
  self.pid = nil
  if self.dir then os.execute("rm -rf " .. q(self.dir)) end
  self.dir = nil
end

function Browser:cdp(cmd, params)
  return self:cmd("POST", "/goog/cdp/execute", { cmd = cmd, params = params or {} })
end

function Browser:go(url)
  return self:cmd("POST", "/url", { url = url })
end

-- exec(js, ...) -> the value the script returns (arguments[1..])
function Browser:exec(js, ...)
  local args = select("#", ...) > 0 and cjson.encode({ ... }) or "[]" -- cjson writes {} for an empty table
  return self:cmd("POST", "/execute/sync", '{"script":' .. cjson.encode(js) .. ',"args":' .. args .. "}")
end

-- wait(js_expression, seconds) -> its first truthy value; errors naming it after seconds
function Browser:wait(expr, seconds, what)
  local v
  for _ = 1, math.floor((seconds or 20) / 0.1) do
    v = self:exec("return (" .. expr .. ") || null")
    if v ~= nil and v ~= cjson.null and v ~= false then return v end
    sleep(0.1)
  end
  error("timed out waiting for " .. (what or expr), 2)
end

local ELEMENT = "element-6066-11e4-a52e-4f735466cecf"

function Browser:find(css)
  local v = self:cmd("POST", "/element", { using = "css selector", value = css })
  return v[ELEMENT]
end

function Browser:findall(css)
  local out = {}
  for _, v in ipairs(self:cmd("POST", "/elements", { using = "css selector", value = css })) do
    out[#out + 1] = v[ELEMENT]
  end
  return out
end

-- a real click (the element scrolled into view, pointer events)
function Browser:click(css)
  return self:cmd("POST", "/element/" .. self:find(css) .. "/click", {})
end

-- typing into an element (a file input takes a path)
function Browser:type(css, text)
  return self:cmd("POST", "/element/" .. self:find(css) .. "/value", { text = text })
end

-- keys: a string of characters and WebDriver key codes ("\u{E007}" is Enter)
function Browser:keys(text)
  local actions = {}
  for _, cp in utf8.codes(text) do
    local ch = utf8.char(cp)
    actions[#actions + 1] = { type = "keyDown", value = ch }
    actions[#actions + 1] = { type = "keyUp", value = ch }
  end
  self:cmd("POST", "/actions", { actions = { { type = "key", id = "kb", actions = actions } } })
  self:cmd("DELETE", "/actions")
end

-- select(css, value): pick an option of a <select> as a person does (a
-- click on the option), so its change event fires
function Browser:select(css, value)
  self:click(css .. string.format(' option[value="%s"]', value))
end

function Browser:shot(path)
  local b64 = self:cmd("GET", "/screenshot")
  local f = os.tmpname()
  support.write(f, b64)
  os.execute(string.format("base64 -d %s > %s", q(f), q(path)))
  os.remove(f)
  return path
end

-- the whole page, not only the window
function Browser:shot_full(path)
  local v = self:cdp("Page.captureScreenshot", { format = "png", captureBeyondViewport = true })
  local f = os.tmpname()
  support.write(f, v.data)
  os.execute(string.format("base64 -d %s > %s", q(f), q(path)))
  os.remove(f)
  return path
end

-- log entries of a type ("performance", "browser") since the last call
function Browser:log(kind)
  return self:cmd("POST", "/se/log", { type = kind })
end

-- requests() -> every URL the page asked for since the last call (from
-- the DevTools network events of the performance log), and blocked: URL ->
-- why the browser refused to send it ("csp", ...)
function Browser:requests()
  local out, ids, blocked = {}, {}, {}
  for _, e in ipairs(self:log("performance")) do
    local ok, m = pcall(cjson.decode, e.message)
    local method = ok and m.message and m.message.method
    if method == "Network.requestWillBeSent" then
      out[#out + 1] = m.message.params.request.url
      ids[m.message.params.requestId] = m.message.params.request.url
    elseif method == "Network.loadingFailed" and type(m.message.params.blockedReason) == "string" then
      local url = ids[m.message.params.requestId]
      if url then blocked[url] = m.message.params.blockedReason end
    end
  end
  return out, blocked
end

-- emulate a screen of w x h CSS pixels (mobile: a phone's viewport and
-- touch; a phone is 390 x 844); size() without arguments ends it
function Browser:size(w, h, mobile)
  if not w then return self:cdp("Emulation.clearDeviceMetricsOverride") end
  self:cdp("Emulation.setDeviceMetricsOverride", { width = w, height = h, deviceScaleFactor = 1,
    mobile = mobile and true or false })
end

-- the colour scheme the page sees ("light" or "dark")
function Browser:scheme(s)
  self:cdp("Emulation.setEmulatedMedia", { features = { { name = "prefers-color-scheme", value = s } } })
end

-- the download directory's files once every download finished
function Browser:downloaded(seconds)
  for _ = 1, math.floor((seconds or 20) / 0.1) do
    local p = io.popen("ls -1 " .. q(self.downloads) .. " 2>/dev/null")
    local files = {}
    for l in p:lines() do files[#files + 1] = l end
    p:close()
    local partial = false
    for _, f in ipairs(files) do if f:match("%.crdownload$") then partial = true end end
    if #files > 0 and not partial then return files end
    sleep(0.1)
  end
  return {}
end

return M
