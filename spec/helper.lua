-- spec/helper.lua: loaded by busted before every spec (see CMakeLists.txt
-- and .busted). Puts the build's eidos_lua module on package.cpath and makes
-- the source tree the first override root, so specs exercise the Lua files
-- in lua/ as they are on disk (no rebuild needed for Lua changes).
local build = os.getenv("EIDOS_BUILD_DIR") or "build"
package.cpath = build .. "/?.so;" .. package.cpath
package.path = "spec/?.lua;" .. package.path
local res = require("eidos_lua")
local root = os.getenv("PWD") or "."
res.set_roots({ root })
