-- bench/server.d/combos.lua -- every curated criteria combination as a
-- /v1/recipe query string, one a line, times nodes 0..NODES-1 (run with
-- `eidos lua bench/server.d/combos.lua [NODES]`). The combinations are
-- those `eidos recipe lint` walks in its criteria matrix (its axes: each
-- field of the criteria catalog is "any" or one of its canonical values).
-- bench/server.d/combos prefers `eidos recipe list` when that command
-- exists; this file is the fallback until then.
local crit = require("eidos.recipe.criteria")

local nodes = tonumber(arg and arg[1]) or 8
local axes = require("eidos.recipe.lint_matrix").axes()

local out, q = {}, {}
local function walk(i)
  if i > #crit.FIELDS then
    local parts = {}
    for k, f in ipairs(crit.FIELDS) do
      if q[k] ~= "any" then parts[#parts + 1] = f .. "=" .. q[k] end
    end
    for n = 0, nodes - 1 do
      local p = { table.unpack(parts) }
      if n > 0 then p[#p + 1] = "nodes=" .. n end
      out[#out + 1] = table.concat(p, "&")
    end
    return
  end
  for _, v in ipairs(axes[i]) do
    q[i] = v
    walk(i + 1)
  end
end
walk(1)
io.stdout:write(table.concat(out, "\n"), "\n")
