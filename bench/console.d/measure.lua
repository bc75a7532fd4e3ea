-- bench/console.d/measure.lua: the console's page weight and time to
-- interactive, in Debian's chromium (headless, spec/e2e/browser.lua)
-- against eidosd on 127.0.0.1 (spec/e2e/eidosd.lua). For the gb200 recipe
-- view (/?service=eks&accelerator=gb200&os=ubuntu&intent=training):
--   weight  bytes on the wire (Network.loadingFinished encodedDataLength:
--           headers and gzip'd bodies as the browser received them) of the
--           page and its assets, and separately of the API answers it asks
--   tti     from the start of the navigation to the page's "console-ready"
--           mark (the recipe, its graph and its sources rendered and the
--           controls live), median of RUNS loads with the browser cache
--           off (cold: every asset fetched) and on (warm: revalidated)
-- Prints one "FIGURE name value unit" line per figure.
package.path = "spec/?.lua;" .. package.path
local srv = require("e2e.eidosd")
local browser = require("e2e.browser")
local cjson = require("cjson")

local RUNS = tonumber(os.getenv("BENCH_CONSOLE_RUNS") or "") or 20
local VIEW = "/?service=eks&accelerator=gb200&os=ubuntu&intent=training"

local function median(t)
  table.sort(t)
  local n = #t
  if n % 2 == 1 then return t[(n + 1) / 2] end
  return (t[n / 2] + t[n / 2 + 1]) / 2
end

local s = srv.start({ args = { "--rate=0", "--access-log=false" } })
local b
local ok, err = pcall(function()
  b = browser.start({ width = 1280, height = 900 })
  local function load()
    b:log("performance")
    b:go(s.base .. VIEW)
    b:wait("document.documentElement.dataset.ready", 30, "the console")
    local t = b:exec([=[const n = performance.getEntriesByType('navigation')[0];
      return [performance.getEntriesByName('console-ready')[0].startTime, n.domContentLoadedEventEnd]]=])
    local urls, page, api = {}, 0, 0
    for _, e in ipairs(b:log("performance")) do
      local m = cjson.decode(e.message).message
      if m.method == "Network.responseReceived" then
        urls[m.params.requestId] = m.params.response.url
      elseif m.method == "Network.loadingFinished" then
        local u = urls[m.params.requestId] or ""
        if u:find("/v1/", 1, true) then api = api + m.params.encodedDataLength
        else page = page + m.params.encodedDataLength end
      end
    end
    return t[1], t[2], page, api
  end
  for _, mode in ipairs({ "cold", "warm" }) do
    b:cdp("Network.enable")
    b:cdp("Network.setCacheDisabled", { cacheDisabled = mode == "cold" })
    load() -- once before measuring
    local tti, dcl, page, api = {}, {}, {}, {}
    for i = 1, RUNS do tti[i], dcl[i], page[i], api[i] = load() end
    print(string.format("FIGURE tti_%s %.1f ms", mode, median(tti)))
    print(string.format("FIGURE dcl_%s %.1f ms", mode, median(dcl)))
    print(string.format("FIGURE page_%s %.1f KB", mode, median(page) / 1024))
    print(string.format("FIGURE api_%s %.1f KB", mode, median(api) / 1024))
  end
end)
if b then b:quit() end
srv.stop(s)
if not ok then
  io.stderr:write(tostring(err) .. "\n")
  os.exit(1)
end
