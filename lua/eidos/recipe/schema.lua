-- eidos.recipe.schema: the key order of a RecipeResult document, in one
-- place for every writer of one (the engine's build, the CLI, the API and
-- the bundle's recipe.yaml). The emitters write the keys listed here first,
-- in this order, then any other key in natural order.
local doc = require("eidos.doc")

local M = {}

M.KIND = "RecipeResult"
M.API_VERSION = "eidos.nvidia.com/v1alpha1"
M.RESULT = { "kind", "apiVersion", "metadata", "criteria", "constraints", "componentRefs", "deploymentOrder",
             "validation" }
M.METADATA = { "version", "appliedOverlays", "excludedOverlays", "constraintWarnings", "warnings" }
M.CRITERIA = { "service", "accelerator", "intent", "os", "platform", "nodes" }
M.CONSTRAINT_WARNING = { "overlay", "constraint", "expected", "actual", "reason" }
M.CONSTRAINT = { "name", "value", "severity", "remediation", "unit" }
M.COMPONENT_REF = { "name", "namespace", "chart", "type", "source", "version", "tag", "valuesFile", "overrides",
                    "patches", "dependencyRefs", "manifestFiles", "path", "cleanup", "expectedResources",
                    "healthCheckAsserts" }

-- order(r) -> r with every known part in schema order (mutates r; content
-- unchanged)
function M.order(r)
  doc.ordered(r, M.RESULT)
  if type(r.metadata) == "table" then doc.ordered(r.metadata, M.METADATA) end
  if type(r.criteria) == "table" then doc.ordered(r.criteria, M.CRITERIA) end
  for _, x in ipairs(type(r.constraints) == "table" and r.constraints or {}) do
    if type(x) == "table" then doc.ordered(x, M.CONSTRAINT) end
  end
  for _, x in ipairs(type(r.componentRefs) == "table" and r.componentRefs or {}) do
    if type(x) == "table" then doc.ordered(x, M.COMPONENT_REF) end
  end
  -- validation phases in the recipe's own order (eidos.recipe.merge)
  if type(r.validation) == "table" and not doc.islist(r.validation) and next(r.validation) then
    r.validation = require("eidos.recipe.merge").validation_doc(r.validation)
  end
  return r
end

return M
