-- spec/helper.lua: loaded by busted before every spec (see CMakeLists.txt
-- and .busted). Under a stock lua5.4 it loads the build's eidos_lua module;
-- under the eidos binary itself (`eidos lua busted ...`, used by the
-- sanitizer builds) the core modules are already preloaded. Either way the
-- source tree becomes the first override root, so specs exercise the Lua
-- files in lua/ as they are on disk (no rebuild needed for Lua changes).
local build = os.getenv("EIDOS_BUILD_DIR") or "build"
package.path = "spec/?.lua;" .. package.path
local res
if package.preload["eidos.core.res"] then
  res = require("eidos.core.res")
else
  package.cpath = build .. "/?.so;" .. package.cpath
  res = require("eidos_lua")
end
local p = io.popen("pwd")
local root = p and p:read("l") or os.getenv("PWD") or "."
if p then p:close() end
res.set_roots({ root })
