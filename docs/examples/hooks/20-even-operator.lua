-- A new constraint operator: `multiple-of 8` passes when the measured value
-- is a whole multiple of the operand, e.g. GPUs per node for NVLink domains:
--   eidos validate --snapshot s.yaml --constraint 'GPU.smi.gpu-count multiple-of 8'
return {
  operators = {
    ["multiple-of"] = {
      eval = function(actual, operand)
        local a, n = tonumber(actual), tonumber(operand)
        if not a or not n or n == 0 then
          return false, "multiple-of needs numbers, got " .. tostring(actual) .. " and " .. tostring(operand)
        end
        if a % n == 0 then return true end
        return false, string.format("%s is not a multiple of %s", actual, operand)
      end,
    },
  },
}
