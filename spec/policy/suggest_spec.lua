-- eidos.snapshot.suggest and eidos.core.editdist: the nearest paths of a
-- missing one are found through indexes, bounds and C (so a validation with
-- many misses on a large snapshot stays linear); these specs hold them to
-- the plain definitions -- the full edit-distance table, and a pass that
-- scores every path of the model -- on real and random inputs.
local editdist = require("eidos.core.editdist")
local suggest = require("eidos.snapshot.suggest")
local model = require("eidos.snapshot.model")
local yaml = require("eidos.core.yaml")
local support = require("support")

-- the optimal string alignment distance, the whole table, no bound
local function osa(a, b)
  a, b = a:lower(), b:lower()
  local d = {}
  for i = 0, #a do d[i] = { [0] = i } end
  for j = 0, #b do d[0][j] = j end
  for i = 1, #a do
    for j = 1, #b do
      local v = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a:byte(i) == b:byte(j) and 0 or 1))
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        v = math.min(v, d[i - 2][j - 2] + 1)
      end
      d[i][j] = v
    end
  end
  return d[#a][#b]
end

-- the ranking of nearest() by its definition: every candidate scored (with
-- the distance the first spec below holds to the full table)
local function reference(m, path, n)
  n = n or 3
  local function last_word(p) return (p:match("([^./]+)$") or p):lower() end
  local tname, sub = model.split(path)
  local t = tname and m.types[tname:lower()]
  local cands = {}
  if t then
    for _, s in ipairs(t.order) do
      for _, k in ipairs(suggest.flat_keys(t.subtypes[s], "", {})) do cands[#cands + 1] = t.name .. "." .. s .. "." .. k end
    end
  else
    cands = suggest.paths(m)
  end
  local want, limit, lp = last_word(path), math.max(3, #path // 3), path:lower()
  local scored = {}
  local function pre(lc)
    local p = 0
    while p < #lp and lp:byte(p + 1) == lc:byte(p + 1) do p = p + 1 end
    return p
  end
  for _, c in ipairs(cands) do
    local lc = c:lower()
    local rank = (last_word(c) == want) and 0 or (lc:sub(1, #lp) == lp or lp:sub(1, #lc) == lc) and 1 or 2
    local d = editdist.distance(path, c)
    if rank < 2 or d <= limit then scored[#scored + 1] = { c, rank, d, -pre(lc) } end
  end
  if #scored == 0 and t and sub and t.subtypes[sub] then
    for _, k in ipairs(suggest.flat_keys(t.subtypes[sub], "", {})) do
      local c = t.name .. "." .. sub .. "." .. k
      scored[#scored + 1] = { c, 1, editdist.distance(path, c), -pre(c:lower()) }
    end
  end
  table.sort(scored, function(x, y)
    if x[2] ~= y[2] then return x[2] < y[2] end
    if x[3] ~= y[3] then return x[3] < y[3] end
    if x[4] ~= y[4] then return x[4] < y[4] end
    return x[1] < y[1]
  end)
  local out = {}
  for i = 1, math.min(n, #scored) do out[i] = scored[i][1] end
  return out
end

describe("eidos.core.editdist", function()
  it("is the optimal string alignment distance, bounded, on random strings", function()
    local rnd = 20260101
    local function rand(k) rnd = (rnd * 1103515245 + 12345) % 2147483648; return rnd % k end
    local alphabets = { "ab", "abcAB", "abcdefgh-./", "xyz0123456789" }
    local function word(alpha, len)
      local t = {}
      for i = 1, len do local k = rand(#alpha) + 1; t[i] = alpha:sub(k, k) end
      return table.concat(t)
    end
    for it = 1, 3000 do
      local alpha = alphabets[it % #alphabets + 1]
      local a, b = word(alpha, rand(14)), word(alpha, rand(14))
      if rand(3) == 0 then local p = word(alpha, rand(6)); a, b = p .. a, p .. b end
      if rand(3) == 0 then local s = word(alpha, rand(6)); a, b = a .. s, b .. s end
      local want = osa(a, b)
      assert.are.equal(want, editdist.distance(a, b), a .. " / " .. b)
      local ix = editdist.index({ b, a })
      for _, max in ipairs({ 0, 1, 2, 3, 5 }) do
        local capped = want > max and max + 1 or want
        assert.are.equal(capped, editdist.distance(a, b, max), a .. " / " .. b .. " max " .. max)
        local pos, ds = ix:nearest(a, 0, max, 1, 1)
        assert.are.equal(capped, pos[1] and ds[1] or max + 1, a .. " / " .. b .. " index, max " .. max)
      end
    end
  end)

  it("counts a swap of neighbours as one edit, ignores letter case, and handles long strings", function()
    assert.are.equal(1, editdist.distance("versoin", "version"))
    assert.are.equal(0, editdist.distance("OS.Release", "os.release"))
    local long = string.rep("abcdefghij", 30)
    assert.are.equal(1, editdist.distance(long, long:sub(1, 150) .. "X" .. long:sub(152)))
    assert.are.equal(2, editdist.distance(long, long .. "zz", 5))
    assert.are.equal(4, editdist.distance(long, "x" .. long .. "yyy", 3))
    local pos, ds = editdist.index({ long .. "q", "nothing" }):nearest(long, 1, 3)
    assert.are.same({ 1 }, pos)
    assert.are.same({ 1 }, ds)
  end)

  it("keeps the k nearest of an index and every one tied with the k-th", function()
    local ix = editdist.index({ "abcd", "abce", "xbcd", "abzz", "abcdef", "wxyz" })
    local pos, ds = ix:nearest("abcd", 2, 3)
    assert.are.same({ 1, 2, 3 }, pos)
    assert.are.same({ 0, 1, 1 }, ds)
    pos = ix:nearest("abcd", 0, 2)
    assert.are.same({ 1, 2, 3, 4, 5 }, pos)
    pos = ix:nearest("abcd", 0, 2, 3, 4)
    assert.are.same({ 3, 4 }, pos)
    assert.has_error(function() ix:nearest("abcd", 1, 2, 0, 9) end)
  end)
end)

describe("eidos.snapshot.suggest.nearest", function()
  it("ranks as scoring every path would, on the fixture snapshots", function()
    for _, f in ipairs(support.snapshot_files("spec/fixtures/snapshots/validate-small.yaml")) do
      local text = support.read(f)
      if text then
        local m = model.from_doc(assert(yaml.load(text)), f)
        local paths = suggest.paths(m)
        local asked = { "Foo.bar.baz", "OS.relase.ID", "OS.release.osrelease", "K8s.server.versoin",
                        "GPU.smi.driver-version", "SystemD.containerd.service.ActiveStat", "OS.release.VERSION",
                        "os.release.id", "OS.release.ID.x", "OS.sysctl./proc/sys/kernel/osrelase" }
        -- and two typos in a path of every 40 of the model
        for i = 1, #paths, 40 do
          local p = paths[i]
          local k = #p - (i % 5)
          asked[#asked + 1] = p:sub(1, k - 1) .. (p:sub(k, k) == "x" and "y" or "x") .. p:sub(k + 1)
          asked[#asked + 1] = p:sub(1, k - 2) .. p:sub(k, k) .. p:sub(k - 1, k - 1) .. p:sub(k + 1)
        end
        for _, a in ipairs(asked) do
          if model.lookup(m, a) == nil and model.split(a) then
            assert.are.same(reference(m, a), suggest.nearest(m, a), f .. ": " .. a)
          end
        end
      end
    end
  end)

  it("ranks as scoring every path would, on random snapshots", function()
    local rnd = 7
    local function rand(k) rnd = (rnd * 1103515245 + 12345) % 2147483648; return rnd % k end
    local words = { "driver", "kernel", "memory", "net", "ver", "Version", "id", "max-sm", "a.b", "x" }
    for _ = 1, 4 do
      local doc = { kind = "Snapshot", apiVersion = "eidos.nvidia.com/v1alpha1", measurements = {} }
      for ti, tn in ipairs({ "K8s", "OS", "GPU" }) do
        local subs = {}
        for s = 1, 2 + rand(3) do
          local data = {}
          for _ = 1, 3 + rand(30) do
            local key = words[rand(#words) + 1] .. (rand(2) == 0 and ("-" .. rand(40)) or "")
            if rand(5) == 0 then data[key] = { inner = "v", [words[rand(#words) + 1]] = "w" } else data[key] = "v" end
          end
          subs[#subs + 1] = { subtype = ({ "server", "node", "config", "containerd.service", "smi" })[s], data = data }
        end
        doc.measurements[ti] = { type = tn, subtypes = subs }
      end
      local m = model.from_doc(doc)
      local paths = suggest.paths(m)
      for i = 1, #paths, 3 do
        local p = paths[i]
        local k = 1 + rand(#p)
        for _, a in ipairs({ p:sub(1, k - 1) .. "q" .. p:sub(k + 1), p:sub(1, k - 1) .. p:sub(k + 1), p .. "s",
                             p:sub(1, k) .. "zz" .. p:sub(k + 1), "Nope." .. p }) do
          if model.lookup(m, a) == nil and model.split(a) then
            for _, n in ipairs({ 1, 3, 6 }) do
              assert.are.same(reference(m, a, n), suggest.nearest(m, a, n), a .. " n=" .. n)
            end
          end
        end
      end
    end
  end)
end)
