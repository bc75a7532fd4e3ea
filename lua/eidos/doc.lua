-- eidos.doc: helpers to build documents for the canonical emitters and to
-- turn text into documents. Key order is declared, never left to table
-- iteration: doc.ordered(t, keys) fixes the leading keys of a map, other
-- keys follow in natural order; doc.list(t) marks a table as a list so an
-- empty one is written as [].
local emit = require("eidos.core.emit")
local yaml = require("eidos.core.yaml")
local errors = require("eidos.errors")

local M = {}

M.null = emit.null
M.list_mt = emit.list_mt

local ordered_mts = setmetatable({}, { __mode = "k" })

-- ordered(t, keys) -> t with a metatable whose __order is keys (the same
-- metatable is reused for the same keys table)
function M.ordered(t, keys)
  local mt = ordered_mts[keys]
  if not mt then
    mt = { __order = keys }
    ordered_mts[keys] = mt
  end
  return setmetatable(t, mt)
end

function M.list(t)
  return setmetatable(t or {}, emit.list_mt)
end

function M.islist(t)
  return type(t) == "table" and (getmetatable(t) == emit.list_mt or (next(t) ~= nil and #t > 0 and next(t, #t) == nil))
end

function M.isnull(v) return v == emit.null end

-- sorted keys of a map in the emitters' natural order
function M.keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = tostring(k) end
  table.sort(ks, function(a, b) return emit.natcmp(a, b) < 0 end)
  return ks
end

-- encode(doc, format) -> text; format "yaml" or "json"
function M.encode(d, format)
  local text, msg, code
  if format == "json" then text, msg, code = emit.json(d)
  elseif format == "yaml" then text, msg, code = emit.yaml(d)
  else
    errors.raise("invalid", string.format("unknown format %q (accepted: yaml, json)", tostring(format)))
  end
  return errors.check(text, msg, code)
end

-- decode(text, name) -> value. YAML (JSON is YAML too); `name` names the
-- source in errors. An empty document is an error naming the source.
function M.decode(text, name)
  local v, msg = yaml.load(text)
  if v == nil then
    errors.raise("invalid", string.format("%s: %s", name or "input", msg))
  end
  return v
end

function M.decode_all(text, name)
  local v, msg = yaml.load_all(text)
  if v == nil then errors.raise("invalid", string.format("%s: %s", name or "input", msg)) end
  return v
end

return M
