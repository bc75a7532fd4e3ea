-- A company overlay rule: our inventory calls its GPU node pools by
-- internal names; map them to the accelerator names eidos knows, and keep
-- only the eks overlays our platform team has certified.
local aliases = { ["hopper-80"] = "h100", ["hopper-141"] = "h200", ["grace-blackwell"] = "gb200" }

return {
  criteria = function(c)
    if c.accelerator and aliases[c.accelerator] then
      c.accelerator = aliases[c.accelerator]
    end
    return c
  end,

  -- candidates: the matched overlay names, in application order
  select = function(candidates)
    local out = {}
    for _, name in ipairs(candidates) do
      if not name:find("%-dynamo$") then out[#out + 1] = name end -- no Dynamo in production yet
    end
    return out
  end,
}
