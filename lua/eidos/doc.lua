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

-- from_chunk(code, name) -> the document a chunk made by eidos.chunk.source
-- builds (text, or the build's dump of it -- trusted code only:
-- res.read_code's; name names it in errors). The chunk takes setmetatable,
-- the list metatable and null, and touches nothing else.
local load_chunk = load
function M.from_chunk(code, name)
  local fn, msg = load_chunk(code, "=" .. tostring(name), nil, {})
  if not fn then
    errors.raise("internal", string.format("%s: precompiled document does not load: %s", tostring(name), msg))
  end
  return fn(setmetatable, emit.list_mt, emit.null)
end

-- Limits of every document read, checked once by the loader while the text
-- is read (src/bind/lyaml.c): the expanded size in bytes, aliases counted as
-- what they repeat (max_expanded; nil: the loader's default, max(16 x the
-- text's size, 64 MiB)), and the nesting, fixed at yaml.MAX_DEPTH levels.
-- `hint` says how to change the limit where it is reported. The CLI sets
-- max_expanded from --max-expanded-size / EIDOS_MAX_EXPANDED_SIZE; a caller
-- with its own limits (eidosd) passes them to decode.
M.limits = { max_expanded = nil, hint = "--max-expanded-size SIZE or EIDOS_MAX_EXPANDED_SIZE" }
M.MAX_DEPTH = yaml.MAX_DEPTH

local function load(fn, text, name, limits)
  limits = limits or M.limits
  local v, msg = fn(text, { max_expanded = limits.max_expanded })
  if v == nil then
    if msg:find("expands to more than", 1, true) then
      msg = msg .. string.format(" (limit %s; change it with %s)", limits.max_expanded and "set by the user"
        or string.format("max(16 x the input's %d bytes, 64 MiB)", #text), limits.hint or M.limits.hint)
    end
    errors.raise("invalid", string.format("%s: %s", name or "input", msg))
  end
  return v
end

-- decode(text, name [, limits [, code]]) -> value. YAML (JSON is YAML
-- too); `name` names the source in errors; limits as M.limits (default
-- M.limits). An empty document, a second document, a parse error and a
-- limit passed are "invalid" errors naming the source. code: the build's
-- precompiled chunk of exactly this text (the third value of
-- res.read_code), which builds the same value without parsing (from_chunk).
function M.decode(text, name, limits, code)
  if code then return M.from_chunk(code, name) end
  return load(yaml.load, text, name, limits)
end

-- decode_all(text, name [, limits]) -> list of documents
function M.decode_all(text, name, limits)
  return load(yaml.load_all, text, name, limits)
end

return M
