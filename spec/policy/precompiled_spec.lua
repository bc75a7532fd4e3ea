-- The build precompiles the embedded library's YAML documents and the
-- templates into Lua chunks (cmake/chunkgen.lua); a run uses them whenever
-- the embedded copy of a file wins. These specs hold the precompiled path to
-- the from-source one: every document chunk builds exactly what the YAML
-- loader builds, every template chunk is the dump of what the template
-- compiler makes of the text at run time, and whole bundles come out
-- byte-identical either way.
local res = require("eidos.core.res")
local yaml = require("eidos.core.yaml")
local emit = require("eidos.core.emit")
local chunk = require("eidos.chunk")
local template = require("eidos.template")
local doc = require("eidos.doc")

-- same(a, b, path) -> nil | "what differs where": equal
-- values of the same Lua and number types, the same metatables (list
-- markers), floats bit for bit, and a table shared in a exactly where it is
-- shared in b
local function same(a, b, path, seen)
  seen = seen or {}
  if type(a) ~= type(b) then return path .. ": " .. type(a) .. " vs " .. type(b) end
  if type(a) == "number" then
    if math.type(a) ~= math.type(b) then return path .. ": " .. math.type(a) .. " vs " .. math.type(b) end
    if string.format("%a", a) ~= string.format("%a", b) then return path .. ": " .. a .. " vs " .. b end
    return nil
  end
  if type(a) ~= "table" then
    if a ~= b then return path .. ": " .. tostring(a) .. " vs " .. tostring(b) end
    return nil
  end
  if seen[a] ~= nil or seen[b] ~= nil then
    if seen[a] ~= b then return path .. ": shared differently" end
    return nil
  end
  seen[a], seen[b] = b, a
  if getmetatable(a) ~= getmetatable(b) then return path .. ": metatables differ" end
  for k, v in pairs(a) do
    if b[k] == nil then return path .. "." .. tostring(k) .. ": missing" end
    local d = same(v, b[k], path .. "." .. tostring(k), seen)
    if d then return d end
  end
  for k in pairs(b) do
    if a[k] == nil then return path .. "." .. tostring(k) .. ": extra" end
  end
  return nil
end

local function embedded(kind)
  local out = {}
  for _, f in ipairs(res.list("")) do
    local text, origin, code = res.read_code(f.path, kind)
    if code then out[#out + 1] = { path = f.path, text = text, code = code, origin = origin } end
  end
  return out
end

describe("precompiled library documents", function()
  local docs = embedded("document")

  it("cover the library's overlays, registry and values and the data catalogs", function()
    local have = {}
    for _, d in ipairs(docs) do have[d.path] = true end
    assert.is_true(have["recipes/registry.yaml"])
    assert.is_true(have["recipes/overlays/base.yaml"])
    assert.is_true(have["recipes/components/gpu-operator/values.yaml"])
    assert.is_true(have["data/criteria.yaml"])
    assert.is_true(#docs > 100)
  end)

  it("build exactly what the YAML loader builds, file by file", function()
    for _, d in ipairs(docs) do
      local want = assert(yaml.load(d.text))
      local got = doc.from_chunk(d.code, d.path)
      assert.is_nil(same(want, got, d.path))
    end
  end)

  it("are handed out only as the kind asked for", function()
    local text, origin, code = res.read_code("recipes/registry.yaml", "template")
    assert.is_string(text)
    assert.are.equal("embedded", origin)
    assert.is_nil(code)
    local _, _, tcode = res.read_code("templates/helm/Chart.yaml.tpl", "document")
    assert.is_nil(tcode)
    assert.has_error(function() res.read_code("recipes/registry.yaml", "module") end)
  end)

  it("keep every kind of value: nulls, lists, numbers, strings, shared anchors", function()
    local text = [[
a: null
b: [1, -2, 9223372036854775807, -9223372036854775808, 0.1, -0.0, 1e300, 5e-324]
c: {d: [], e: {}, f: "x\ty\r\n\0z", g: true, h: false, "1": one}
s: &s {k: [x, y]}
t: *s
u: [*s, *s]
]]
    local want = assert(yaml.load(text))
    local src = assert(chunk.source(want))
    local got = doc.from_chunk(src, "sample")
    assert.is_nil(same(want, got, "sample"))
    assert.are.equal(emit.null, got.a)
    assert.are.equal(got.s, got.t)
    assert.are.equal(got.s, got.u[2])
    assert.are.equal(emit.list_mt, getmetatable(got.c.d))
    assert.is_nil(getmetatable(got.c.e))
    assert.are.equal("-0x0p+0", string.format("%a", got.b[6]))
  end)

  it("are not made for what a chunk cannot build exactly", function()
    assert.is_nil((chunk.source({ x = 0 / 0 })))
    assert.is_nil((chunk.source({ x = math.huge })))
    assert.is_nil((chunk.source({ [1.5] = "x" })))
    assert.is_nil((chunk.source(setmetatable({}, {}))))
  end)

  it("lose to a file on disk that differs, and not to one that is identical", function()
    local fs = require("eidos.core.fs")
    local dir = require("support").tmpdir()
    local roots = res.roots()
    local text = assert(res.read("data/criteria.yaml"))
    assert(fs.mkdir_p(dir .. "/data"))
    assert(fs.write_atomic(dir .. "/data/criteria.yaml", text))
    res.set_roots({ dir })
    local ok, err = pcall(function()
      local _, origin, code = res.read_code("data/criteria.yaml", "document")
      assert.are.equal("embedded", origin)
      assert.is_string(code)
      assert(fs.write_atomic(dir .. "/data/criteria.yaml", text .. "# changed\n"))
      _, origin, code = res.read_code("data/criteria.yaml", "document")
      assert.are.equal(dir .. "/data/criteria.yaml", origin)
      assert.is_nil(code)
    end)
    res.set_roots(roots)
    fs.remove_tree(dir)
    assert(ok, err)
  end)
end)

describe("precompiled templates", function()
  local tpls = embedded("template")

  it("cover the bundle templates and the library's manifests", function()
    local have = {}
    for _, t in ipairs(tpls) do have[t.path] = true end
    assert.is_true(have["templates/helm/values.yaml.tpl"])
    assert.is_true(have["templates/argocd/_helpers.tpl"])
    assert.is_true(have["recipes/components/gpu-operator/manifests/dcgm-exporter.yaml"])
    assert.is_nil(have["recipes/components/gpu-operator/values.yaml"])
  end)

  it("are the dump of what the compiler makes of the text at run time", function()
    for _, t in ipairs(tpls) do
      local name = t.path:match("^recipes/(.*)$") or t.path
      local fn = assert(load(template.translate(t.text, name), "=" .. name, "t", {}))
      assert.are.equal(string.dump(fn), t.code, t.path)
    end
  end)

  it("are kept across garbage collections", function()
    local c = template.compile("{{ .x }}", "kept.tpl")
    collectgarbage()
    collectgarbage()
    assert.are.equal(c, template.compile("{{ .x }}", "kept.tpl"))
  end)
end)

describe("the build's reading of the overlays", function()
  local library = require("eidos.recipe.library")
  local scan = require("eidos.recipe.scan")
  local recipe = require("eidos.recipe")

  local function built()
    return doc.from_chunk(assert(res.built("overlays", "document")), "overlays")
  end

  it("is what the scanner reads from each embedded overlay's text", function()
    local b, n, paths, pins = built(), 0, {}, {}
    for _, rel in ipairs((res.names("recipes/"))) do
      if library.is_overlay_path(rel) then
        paths[#paths + 1] = rel
        local text = assert(res.read("recipes/" .. rel))
        local want = scan.header(text)
        local h = b.headers[rel]
        -- true: the header is the document's own (library.header_of)
        if h == true then h = library.header_of(assert(yaml.load(text))) end
        assert.is_nil(same(want, h, rel))
        for f, v in pairs(want and type(want.criteria) == "table" and want.criteria or {}) do
          if scan.plain_pin(f, v) then pins[#pins + 1] = f .. "=" .. v .. "@" .. rel end
        end
        n = n + 1
      end
    end
    assert.are.same(paths, b.paths)
    local got = {}
    for f, byval in pairs(b.pins) do
      for v, rels in pairs(byval) do
        for _, rel in ipairs(rels) do got[#got + 1] = f .. "=" .. v .. "@" .. rel end
      end
    end
    table.sort(pins)
    table.sort(got)
    assert.are.same(pins, got)
    assert.is_true(n > 100 and #pins > 100)
  end)

  -- every query of the catalog's values (and any): the overlays matched
  local function matches()
    local cat = require("eidos.recipe.criteria").catalog().fields
    local function vals(f)
      local out = { "any" }
      for _, v in ipairs(cat[f].values) do out[#out + 1] = v end
      return out
    end
    local out = {}
    library.forget()
    local lib = recipe.library()
    for _, s in ipairs(vals("service")) do
      for _, a in ipairs(vals("accelerator")) do
        for _, i in ipairs(vals("intent")) do
          for _, o in ipairs(vals("os")) do
            local names = {}
            for _, e in ipairs(lib:match(recipe.criteria({ service = s, accelerator = a, intent = i, os = o }))) do
              names[#names + 1] = e.name .. "@" .. e.rel
            end
            out[#out + 1] = table.concat({ s, a, i, o }, "/") .. ": " .. table.concat(names, " ")
          end
        end
      end
    end
    library.forget()
    return out
  end

  it("matches exactly the overlays the text scan matches, for every query", function()
    -- the library embedded alone (no root on disk), then the text read
    -- file by file (the build's reading withheld)
    local roots = res.roots()
    res.set_roots({})
    local ok, with = pcall(matches)
    res.set_roots(roots)
    assert(ok, with)
    local rb = res.built
    res.built = function() return nil end
    local without
    ok, without = pcall(matches)
    res.built = rb
    assert(ok, without)
    assert.are.same(without, with)
    assert.is_true(#with > 300)
  end)

  it("give way to an overlay on disk that differs from the embedded one", function()
    local fs = require("eidos.core.fs")
    local support = require("support")
    local dir = support.tmpdir()
    local rel = "recipes/overlays/eks.yaml"
    local text = assert(res.read(rel))
    local changed = text:gsub("\n    service: eks\n", "\n    service: gke\n", 1)
    assert.are_not.equal(text, changed)
    assert(fs.mkdir_p(dir .. "/recipes/overlays"))
    assert(fs.write_atomic(dir .. "/" .. rel, changed))
    local roots = res.roots()
    res.set_roots({ dir })
    library.forget()
    local ok, err = pcall(function()
      local function names(service)
        local out = {}
        for _, e in ipairs(recipe.library():match(recipe.criteria({ service = service }))) do out[e.name] = true end
        return out
      end
      assert.is_nil(names("eks").eks)
      assert.is_true(names("gke").eks)
    end)
    res.set_roots(roots)
    library.forget()
    fs.remove_tree(dir)
    assert(ok, err)
  end)
end)

describe("bundles from the precompiled and the from-source library and templates", function()
  local recipe = require("eidos.recipe")
  local bundle = require("eidos.bundle")
  local library = require("eidos.recipe.library")

  local QUERIES = {
    { service = "eks", accelerator = "gb200", os = "ubuntu", intent = "training" },
    { service = "gke", accelerator = "h100", os = "cos", intent = "inference" },
    { service = "any", accelerator = "any", intent = "any" },
  }

  local function bundles()
    local out = {}
    for _, q in ipairs(QUERIES) do
      local r = recipe.build(recipe.criteria(q), { version = "0.5.0" })
      out[#out + 1] = emit.yaml(r)
      for _, d in ipairs(require("eidos.bundle.options").deployers()) do
        local b = bundle.build(r, { deployer = d, version = "0.5.0", repo = { URL = "X", Revision = "HEAD", Path = "" } })
        for _, f in ipairs(b.files) do out[#out + 1] = d .. ":" .. f.path .. "\n" .. f.data end
      end
    end
    return out
  end

  it("are byte-identical", function()
    library.forget()
    template.forget()
    local pre = bundles()
    local read_code, built = res.read_code, res.built
    res.read_code = function(rel, kind)
      local text, origin = read_code(rel, kind)
      return text, origin, nil
    end
    res.built = function() return nil end
    library.forget()
    template.forget()
    local ok, src = pcall(bundles)
    res.read_code, res.built = read_code, built
    library.forget()
    template.forget()
    assert(ok, src)
    assert.are.equal(#pre, #src)
    for i = 1, #pre do assert.are.equal(pre[i], src[i]) end
  end)
end)
