-- eidos.diff: what changed between two documents of one kind (two
-- snapshots, two recipes, ...), as findings for people and as an RFC 6902
-- JSON Patch that turns OLD into NEW. One walk gives both:
--   * maps are compared key by key (keys in natural order);
--   * a list whose elements are maps that all carry a distinct `name`,
--     `subtype` or `type` (the first of these that identifies every
--     element) is compared element by element by that key: an element
--     that left is `removed`, a new one `added`, one whose place among the
--     others changed `moved` (a `move` operation), and the ones in both
--     are compared inside. Snapshot measurements (by type) and subtypes
--     (by subtype) are such lists, so a changed kernel is one finding;
--   * a list of distinct strings is compared by value the same way when
--     that gives fewer findings (a name left out of a list is one removal);
--   * any other list is compared position by position;
--   * scalars differ when their type or value differs.
-- Findings of a snapshot are named by constraint paths (`Type.subtype.key`,
-- `Type.subtype[context].key` for a subtype's context, `metadata.key`),
-- those of other documents by a JSON Pointer into NEW (into OLD for a
-- removal). `--ignore` patterns (`*` matches any run of characters) drop
-- findings from the view, never from the patch. The patch is exact but
-- for metadata.timestamp, which it leaves alone: applied to OLD it gives
-- NEW, list order included.
--
--   local diff = require("eidos.diff")
--   local r = diff.run(old, new, {old = "a.yaml", new = "b.yaml", ignore = {...}})
--   -- r: the DiffResult document; diff.differs(r) -> boolean
--   local ops = diff.patch(old, new)     -- a list of {op, from?, path, value?}
local doc = require("eidos.doc")
local errors = require("eidos.errors")

local M = {}

M.KIND = "DiffResult"
M.API_VERSION = "eidos.nvidia.com/v1alpha1"
-- the ignore patterns used when none is given
M.DEFAULT_IGNORE = {
  snapshot = { "metadata.timestamp", "SystemD.*.*Timestamp*" },
  document = { "/metadata/timestamp" },
}
M.LIST_KEYS = { "name", "subtype", "type" }

local DOC_ORDER = { "kind", "apiVersion", "metadata", "status", "summary", "findings" }
local META_ORDER = { "version", "old", "new", "document", "ignore" }
local SUM_ORDER = { "changed", "added", "removed", "moved", "ignored", "total" }
local FIND_ORDER = { "change", "path", "pointer", "old", "new", "from", "to" }
local OP_ORDER = { "op", "from", "path", "value" }

-- ---------------------------------------------------------------------------
-- values

local function is_table(v) return type(v) == "table" end
local function is_list(v) return is_table(v) and doc.islist(v) end

local function same_scalar(a, b)
  if type(a) ~= type(b) then return false end
  if type(a) == "number" and math.type(a) ~= math.type(b) then return false end
  return a == b
end

-- equal(a, b) -> deep equality (lists in order, maps by key)
local function equal(a, b)
  if not (is_table(a) and is_table(b)) then return same_scalar(a, b) end
  if is_list(a) ~= is_list(b) then return false end
  if is_list(a) then
    if #a ~= #b then return false end
    for i = 1, #a do if not equal(a[i], b[i]) then return false end end
    return true
  end
  for k, v in pairs(a) do if not equal(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
M.equal = equal

-- a value as a finding shows it: scalars as they are, containers by size
-- (a snapshot's measurements and subtypes by what they hold; a map by its
-- name, subtype or type first)
local function count(t)
  local n = 0
  if is_table(t) then for _ in pairs(t) do n = n + 1 end end
  return n
end

local function shown(v, snap_level)
  if v == nil then return nil end
  if not is_table(v) then return v end
  local function n(k, word) return string.format("(%d %s%s)", k, word, k == 1 and "" or "s") end
  if snap_level == 2 and is_list(v.subtypes) then return n(#v.subtypes, "subtype") end
  if snap_level == 4 and is_table(v.data) then return n(count(v.data), "key") end
  if is_list(v) then return string.format("(list of %d)", #v) end
  for _, k in ipairs(M.LIST_KEYS) do  -- a list element by the key that names it
    if type(v[k]) == "string" then return string.format("%s (map of %d)", v[k], count(v)) end
  end
  return string.format("(map of %d)", count(v))
end

-- ---------------------------------------------------------------------------
-- JSON Pointer (RFC 6901)

function M.escape(token)
  return (tostring(token):gsub("~", "~0"):gsub("/", "~1"))
end

function M.pointer(tokens)
  local parts = {}
  for i, t in ipairs(tokens) do parts[i] = "/" .. M.escape(t) end
  return table.concat(parts)
end

-- ---------------------------------------------------------------------------
-- keyed lists

-- the field that identifies every element of both lists, or nil
local function list_key(a, b)
  if #a + #b == 0 then return nil end
  for _, k in ipairs(M.LIST_KEYS) do
    local ok = true
    for _, l in ipairs({ a, b }) do
      local seen = {}
      for _, e in ipairs(l) do
        local id = is_table(e) and not is_list(e) and e[k]
        if type(id) ~= "string" or seen[id] then ok = false break end
        seen[id] = true
      end
      if not ok then break end
    end
    if ok then return k end
  end
end

-- ---------------------------------------------------------------------------
-- the walk

-- a walker holds the ops and findings; tok (pointer tokens) and lab
-- (labels: keyed-list elements by their key) describe where it is
local W = {}
W.__index = W

function W:op(o)
  if self.ops then self.ops[#self.ops + 1] = doc.ordered(o, OP_ORDER) end
end

function W:find(change, tok, lab, old, new, extra)
  if not self.findings then return end
  local f = { change = change }
  for k, v in pairs(extra or {}) do f[k] = v end
  self.findings[#self.findings + 1] = { f = f, old = old, new = new, tok = tok, lab = lab }
end

local function push(t, v) local c = { table.unpack(t) }; c[#c + 1] = v; return c end

function W:value(old, new, tok, lab)
  if is_table(old) and is_table(new) and is_list(old) == is_list(new) then
    if is_list(old) then return self:list(old, new, tok, lab) end
    return self:map(old, new, tok, lab)
  end
  if is_table(old) or is_table(new) or not same_scalar(old, new) then
    if not self.frozen(tok) then self:op({ op = "replace", path = M.pointer(tok), value = new }) end
    self:find("changed", tok, lab, old, new)
  end
end

-- map keys in the order findings are listed: a document's head and a
-- subtype's data before the rest, then natural order
local FIRST = { kind = 1, apiVersion = 2, metadata = 3, subtype = 4, data = 5 }
local function keys(t)
  local ks = doc.keys(t)
  local pos = {}
  for i, k in ipairs(ks) do pos[k] = i end
  table.sort(ks, function(a, b)
    local x, y = FIRST[a] or 9, FIRST[b] or 9
    if x ~= y then return x < y end
    return pos[a] < pos[b]
  end)
  return ks
end

function W:map(old, new, tok, lab)
  for _, k in ipairs(keys(old)) do
    if new[k] == nil then
      local t = push(tok, k)
      if not self.frozen(t) then self:op({ op = "remove", path = M.pointer(t) }) end
      self:find("removed", t, push(lab, k), old[k], nil)
    end
  end
  for _, k in ipairs(keys(new)) do
    local t, l = push(tok, k), push(lab, k)
    if old[k] == nil then
      if not self.frozen(t) then self:op({ op = "add", path = M.pointer(t), value = new[k] }) end
      self:find("added", t, l, nil, new[k])
    else
      self:value(old[k], new[k], t, l)
    end
  end
end

-- placements(old, new, id, in_new) -> before: for each place j of NEW, false
-- for an insertion, else how many survivors (elements of OLD also in NEW)
-- not yet placed precede it when places 1..j-1 hold NEW's first elements
-- and the rest the unplaced survivors in OLD's order: 0 means it is in
-- place, n > 0 a move from j + n. Counted with a Fenwick tree: O(n log n)
-- however the list was shuffled.
local function placements(old, new, id, in_new)
  local rank, n = {}, 0
  for _, e in ipairs(old) do if in_new[id(e)] then n = n + 1; rank[id(e)] = n end end
  local tree = {}
  for i = 1, n do tree[i] = i & -i end -- every survivor counted once
  local before = {}
  for j, e in ipairs(new) do
    local k = rank[id(e)]
    if k then
      local c, i = 0, k - 1
      while i > 0 do c = c + tree[i]; i = i - (i & -i) end
      i = k
      while i <= n do tree[i] = tree[i] - 1; i = i + (i & -i) end
      before[j] = c
    else
      before[j] = false
    end
  end
  return before, n
end

-- a list of distinct strings on both sides, matched by value when that
-- gives fewer findings than position by position: one component left out
-- of a recipe's deploymentOrder is one removal, not a shifted tail
local function distinct_strings(l)
  local seen = {}
  for _, e in ipairs(l) do
    if type(e) ~= "string" or seen[e] then return false end
    seen[e] = true
  end
  return true
end

local function ident(e) return e end

local function position_findings(a, b)
  local n = 0
  for i = 1, math.max(#a, #b) do if a[i] ~= b[i] then n = n + 1 end end
  return n
end

function W:list(old, new, tok, lab)
  local key = list_key(old, new)
  local id = key and function(e) return e[key] end
  if not id and #old + #new > 0 and distinct_strings(old) and distinct_strings(new) then
    local in_new = {}
    for i, e in ipairs(new) do in_new[e] = i end
    local before, kept = placements(old, new, ident, in_new)
    local n = #old - kept + #new - kept -- removed and added
    for _, b in ipairs(before) do if b and b > 0 then n = n + 1 end end
    if n < position_findings(old, new) then id = ident end
  end
  if id then return self:keyed(old, new, tok, lab, id) end
  -- position by position: the common part, then what is left over
  local n = math.min(#old, #new)
  for i = 1, n do self:value(old[i], new[i], push(tok, i - 1), push(lab, i - 1)) end
  for i = #old, n + 1, -1 do
    self:op({ op = "remove", path = M.pointer(push(tok, i - 1)) })
    self:find("removed", push(tok, i - 1), push(lab, i - 1), old[i], nil)
  end
  for i = n + 1, #new do
    self:op({ op = "add", path = M.pointer(push(tok, i - 1)), value = new[i] })
    self:find("added", push(tok, i - 1), push(lab, i - 1), nil, new[i])
  end
end

-- keyed(old, new, tok, lab, id): elements matched by id(element)
function W:keyed(old, new, tok, lab, id)
  local in_new, in_old = {}, {}
  for i, e in ipairs(new) do in_new[id(e)] = i end
  for i, e in ipairs(old) do in_old[id(e)] = i end
  -- removals, from the end so the indices stay right
  for i = #old, 1, -1 do
    local x = id(old[i])
    if not in_new[x] then
      self:op({ op = "remove", path = M.pointer(push(tok, i - 1)) })
      self:find("removed", push(tok, i - 1), push(lab, x), old[i], nil)
    end
  end
  -- then each place j of NEW in turn: a move of an element that is further
  -- down, or an insertion
  local before = placements(old, new, id, in_new)
  for j, e in ipairs(new) do
    local x = id(e)
    if not before[j] then
      self:op({ op = "add", path = M.pointer(push(tok, j - 1)), value = e })
      self:find("added", push(tok, j - 1), push(lab, x), nil, e)
    elseif before[j] > 0 then
      self:op({ op = "move", from = M.pointer(push(tok, j - 1 + before[j])), path = M.pointer(push(tok, j - 1)) })
      self:find("moved", push(tok, j - 1), push(lab, x), nil, nil, { from = in_old[x] - 1, to = j - 1 })
    end
  end
  if id == ident then return end -- elements matched by value are equal
  for j, e in ipairs(new) do
    local i = in_old[id(e)]
    if i then self:value(old[i], e, push(tok, j - 1), push(lab, id(e))) end
  end
end

-- ---------------------------------------------------------------------------
-- kinds and paths

-- is_snapshot(d): a Snapshot (kind Snapshot, or upstream's kind-less
-- document with a measurements list)
function M.is_snapshot(d)
  if not is_table(d) or is_list(d) then return false end
  if d.kind ~= nil then return d.kind == "Snapshot" end
  return is_list(d.measurements)
end

local function kind_name(d)
  if M.is_snapshot(d) then return "Snapshot" end
  if is_table(d) and not is_list(d) and type(d.kind) == "string" then return d.kind end
  if is_list(d) then return "a list" end
  if is_table(d) then return "a map without kind" end
  return errors.show(d)
end

-- the path of a finding in a snapshot, from its labels
local function snapshot_path(lab)
  if lab[1] ~= "measurements" or #lab < 2 then
    local parts = {}
    for i, l in ipairs(lab) do parts[i] = tostring(l) end
    return table.concat(parts, ".")
  end
  local p = tostring(lab[2])
  if #lab == 2 then return p end
  if lab[3] ~= "subtypes" or #lab < 4 then
    for i = 3, #lab do p = p .. "." .. tostring(lab[i]) end
    return p
  end
  p = p .. "." .. tostring(lab[4])
  if #lab == 4 then return p end
  local rest = {}
  for i = 6, #lab do rest[#rest + 1] = tostring(lab[i]) end
  local key = table.concat(rest, ".")
  if lab[5] == "data" then return #rest > 0 and (p .. "." .. key) or p end
  return p .. "[" .. tostring(lab[5]) .. "]" .. (#rest > 0 and ("." .. key) or "")
end

-- ignored(path, patterns) -> the first pattern that matches, or nil
-- (eidos.snapshot.filter's matcher: `*` is any run of characters)
function M.ignored(path, patterns)
  local match = require("eidos.snapshot.filter").match
  for _, p in ipairs(patterns or {}) do
    if match(p, path) then return p end
  end
end

-- the timestamp a patch leaves alone
local function frozen(tok) return #tok == 2 and tok[1] == "metadata" and tok[2] == "timestamp" end

local function check_pair(old, new, opts)
  local ko, kn = kind_name(old), kind_name(new)
  if ko ~= kn then
    errors.raise("invalid", string.format("%s is %s and %s is %s: diff compares two documents of one kind " ..
      "(two snapshots, two recipes, ...)", opts.old or "OLD", ko, opts.new or "NEW", kn))
  end
  return ko
end

-- patch(old, new) -> list of RFC 6902 operations turning old into new
-- (metadata.timestamp excepted)
function M.patch(old, new)
  check_pair(old, new, {})
  local w = setmetatable({ ops = {}, frozen = frozen }, W)
  w:value(old, new, {}, {})
  return doc.list(w.ops)
end

-- run(old, new, opts) -> DiffResult document. opts: old, new (names of the
-- sources), ignore (list of patterns; nil: M.DEFAULT_IGNORE for the kind),
-- version
function M.run(old, new, opts)
  opts = opts or {}
  local kind = check_pair(old, new, opts)
  local snap = kind == "Snapshot"
  local ignore = opts.ignore or M.DEFAULT_IGNORE[snap and "snapshot" or "document"]
  local w = setmetatable({ findings = {}, frozen = frozen }, W)
  w:value(old, new, {}, {})
  local sum = { changed = 0, added = 0, removed = 0, moved = 0, ignored = 0, total = 0 }
  local out = {}
  for _, x in ipairs(w.findings) do
    local f = x.f
    local level = snap and x.lab[1] == "measurements" and #x.lab or nil
    f.old, f.new = shown(x.old, level), shown(x.new, level)
    local ptr = M.pointer(x.tok)
    if snap then f.path, f.pointer = snapshot_path(x.lab), ptr else f.path = ptr end
    if M.ignored(f.path, ignore) then
      sum.ignored = sum.ignored + 1
    else
      sum[f.change] = sum[f.change] + 1
      sum.total = sum.total + 1
      out[#out + 1] = doc.ordered(f, FIND_ORDER)
    end
  end
  local meta = doc.ordered({
    version = opts.version or require("eidos.core.build").version,
    old = opts.old, new = opts.new, document = kind,
    ignore = #ignore > 0 and doc.list({ table.unpack(ignore) }) or nil,
  }, META_ORDER)
  return doc.ordered({
    kind = M.KIND, apiVersion = M.API_VERSION, metadata = meta,
    status = sum.total > 0 and "different" or "identical",
    summary = doc.ordered(sum, SUM_ORDER), findings = doc.list(out),
  }, DOC_ORDER)
end

-- differs(result) -> whether findings remain after the ignore patterns
function M.differs(r) return r.summary.total > 0 end

return M
