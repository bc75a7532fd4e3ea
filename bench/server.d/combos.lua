-- bench/server.d/combos.lua -- every curated criteria combination as a
-- /v1/recipe query string, one a line, times nodes 0..NODES-1 (run with
-- `eidos lua bench/server.d/combos.lua [NODES]`): the combinations `eidos
-- recipe lint` walks in its criteria matrix (lint_matrix.combinations).
-- bench/server.d/combos prefers `eidos recipe list` when that command
-- exists; this file is the fallback until then.
local crit = require("eidos.recipe.criteria")

local nodes = tonumber(arg and arg[1]) or 8
local out = {}
for _, c in ipairs(require("eidos.recipe.lint_matrix").combinations()) do
  local parts = {}
  for _, f in ipairs(crit.FIELDS) do
    if c[f] ~= "any" then parts[#parts + 1] = f .. "=" .. c[f] end
  end
  for n = 0, nodes - 1 do
    local p = { table.unpack(parts) }
    if n > 0 then p[#p + 1] = "nodes=" .. n end
    out[#out + 1] = table.concat(p, "&")
  end
end
io.stdout:write(table.concat(out, "\n"), "\n")
