-- eidos.api.diff: POST /v1/diff, `eidos diff OLD NEW` over HTTP. The body
-- is the two documents (two snapshots, two recipes, any two documents of
-- one kind): a YAML stream of two, a list of two (a JSON array), or
-- {old, new}. The answer is the DiffResult of eidos.diff (findings named
-- by constraint paths for snapshots, JSON Pointers otherwise), 200 whether
-- or not they differ; ?format=patch answers the RFC 6902 JSON Patch that
-- turns old into new. ignore (repeatable) leaves findings out as --ignore
-- does, after the default ignores (timestamps) unless
-- no-default-ignore=true. Bodies are read with the loader's limits.
local errors = require("eidos.errors")
local doc = require("eidos.doc")
local http = require("eidos.api.http")
local recipe_api = require("eidos.api.recipe")

local M = {}

local PARAMS = { format = true, ignore = "list", ["no-default-ignore"] = true }
local WHAT = "two documents: a YAML stream of two, a list of two, or {old, new}"

-- the old and new documents of the body
local function pair(docs)
  local d = docs[1]
  if #docs == 1 and type(d) == "table" and not doc.islist(d) and d.kind == nil and (d.old ~= nil or d.new ~= nil) then
    local bad = errors.problems()
    for k in pairs(d) do
      if k ~= "old" and k ~= "new" then
        bad:add(tostring(k), string.format("unknown field %s in the request body (accepted: old, new)", errors.show(k)),
          { field = errors.show(k) })
      end
    end
    if d.old == nil then bad:add("old", "the request body has new but no old document") end
    if d.new == nil then bad:add("new", "the request body has old but no new document") end
    bad:raise("invalid")
    return d.old, d.new
  end
  if #docs ~= 2 then
    errors.raise("invalid", string.format("the request body holds %d document%s; send %s", #docs,
      #docs == 1 and "" or "s", WHAT), { documents = #docs })
  end
  return docs[1], docs[2]
end

-- POST /v1/diff[?ignore=PATH...][&no-default-ignore=true][&format=json|yaml|patch]
function M.post(req, ctx)
  local p = http.params(req.query, PARAMS)
  local patch = p.format == "patch"
  local format = http.format(req.headers.accept, not patch and p.format or nil)
  local old, new = pair(http.documents(req, WHAT))
  local diff = require("eidos.diff")
  if patch then
    return 200, http.encode(diff.patch(old, new), "json"),
      { "content-type", "application/json-patch+json", "cache-control", "no-store" }, false
  end
  local ignore = {}
  if not recipe_api.boolean(p["no-default-ignore"], "no-default-ignore") then
    for _, x in ipairs(diff.DEFAULT_IGNORE[diff.is_snapshot(old) and "snapshot" or "document"]) do
      ignore[#ignore + 1] = x
    end
  end
  for _, x in ipairs(p.ignore or {}) do ignore[#ignore + 1] = x end
  local r = diff.run(old, new, { old = "old", new = "new", ignore = ignore })
  return 200, http.encode(r, format), { "content-type", http.media[format], "cache-control", "no-store" }, false
end

return M
