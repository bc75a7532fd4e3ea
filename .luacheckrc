-- .luacheckrc: luacheck (Debian lua-check) over every Lua file of the
-- project; run by ctest as the test "luacheck" (so by scripts/test and CI).
-- Each rule below that silences a warning says why.
std = "lua54"

-- none of our own: modules are `local M = {} ... return M`
globals = {}

-- the project has no line-length rule (its style rules are file size and
-- structure, tools/check-layout): messages and help texts stay on one line
-- so that they can be found with grep
max_line_length = false

-- W542 (empty if branch): a branch whose comment says why nothing is done
-- ("-- reported", "-- the root overlay applies to every query") reads
-- better than the inverted condition
ignore = { "542" }

include_files = { "lua/**/*.lua", "spec/**/*.lua", "tools/*.lua", "tools/check-layout", "tools/console-screenshot",
                  "bench/**/*.lua", "cmake/*.lua", "deploy/**/*.lua", "fuzz/**/*.lua", "docs/examples/**/*.lua",
                  ".luacheckrc" }
exclude_files = {
  -- hostile hooks: inputs written to misbehave in the sandbox (unreachable
  -- code, unused growth), not code of ours
  "spec/fixtures/hooks/hostile/*.lua",
  -- a wrk script: wrk calls its global functions (setup, init, request,
  -- response, done) and keeps each thread's state in globals
  "bench/server.d/load.lua",
}

-- busted's globals (describe, it, assert, ...) in the specs
files["spec"] = { std = "+busted" }

-- specs and the fuzz adapter of kubeconfig stand in for the environment by
-- replacing os.getenv (and put it back)
files["spec/policy/units_spec.lua"] = { globals = { "os.getenv" } }
files["fuzz/adapters/kubeconfig.lua"] = { globals = { "os.getenv" } }

-- route handlers all take (req, ctx) (eidos.api resolves "module#function")
files["lua/eidos/api"] = { ignore = { "212/req", "212/ctx" } }
