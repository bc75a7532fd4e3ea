-- spec/policy/api_console_spec.lua: what eidosd's console is made of and
-- the API answers the page builds on, in-process. eidos.api.console turns
-- the ui/ files into assets (fingerprinted names that cover what a file
-- loads, rewritten references, modulepreload links, headers, a strict
-- CSP); GET /v1/criteria is the CLI's CriteriaList narrowed to the
-- server's allowlists; GET /v1/recipe?explain=true is the CLI's
-- RecipeExplanation; GET /v1/bundle/options lists the deployers and the
-- bundle parameters the API takes.
local support = require("support")
local console = require("eidos.api.console")
local cjson = require("cjson")

local function by_path(c)
  local out = {}
  for _, a in ipairs(c.assets) do
    local h = {}
    for i = 1, #a.headers, 2 do h[a.headers[i]] = a.headers[i + 1] end
    out[a.path] = { body = a.body, headers = h, compress = a.compress }
  end
  return out
end

local function ui(files)
  local t = {}
  for k, v in pairs(files) do t["ui/" .. k] = v end
  return t
end

-- prepare(embedded) with the override roots set to roots (the specs run
-- with the source tree as a root, whose ui/ would win)
local function prepare(embedded, roots)
  local res = require("eidos.core.res")
  local saved = res.roots()
  res.set_roots(roots or {})
  local ok, c = pcall(console.prepare, embedded)
  res.set_roots(saved)
  if not ok then error(c, 0) end
  return c
end

describe("eidos.api.console", function()
  local PAGE = '<!doctype html><link rel="stylesheet" href="/ui/s.css">\n<!-- modulepreload -->\n' ..
    '<script type="module" src="/ui/app.js"></script>'
  local files = {
    ["index.html"] = PAGE,
    ["app.js"] = 'import { h } from "./dom.js";\nimport "./graph.js";\nh("./not-an-asset.js");\n' ..
      'const later = () => import("./lazy.js");\n',
    ["lazy.js"] = 'export const x = 1;\n',
    ["dom.js"] = 'export const h = (x) => x;\n',
    ["graph.js"] = 'import { h } from "./dom.js";\nexport default h;\n',
    ["s.css"] = "body{color:red}\n",
  }

  it("fingerprints every file but the page, and references name the fingerprints, dependencies first", function()
    local c = prepare(ui(files))
    assert.are.equal("/ui/index.html", c.page)
    local a = by_path(c)
    local fp = c.names
    for _, n in ipairs({ "app.js", "dom.js", "graph.js", "s.css" }) do
      assert.truthy(fp[n]:match("^[%w]+%.%x%x%x%x%x%x%x%x%x%x%.%w+$"), fp[n])
      local immutable = a["/ui/" .. fp[n]]
      assert.is_table(immutable, fp[n])
      assert.are.equal("public, max-age=31536000, immutable", immutable.headers["cache-control"])
      assert.are.equal("no-cache", a["/ui/" .. n].headers["cache-control"])
      assert.are.equal(immutable.body, a["/ui/" .. n].body)
      -- the name is the digest of the final bytes
      assert.are.equal(require("eidos.core.sha256").hex(immutable.body):sub(1, 10), fp[n]:match("%.(%x+)%.%w+$"))
    end
    local app = a["/ui/" .. fp["app.js"]].body
    assert.truthy(app:find('from "./' .. fp["dom.js"] .. '"', 1, true), app)
    assert.truthy(app:find('import "./' .. fp["graph.js"] .. '"', 1, true), app)
    assert.truthy(app:find('"./not-an-asset.js"', 1, true), "a string that names no file stays")
    -- a change in a dependency changes the name of what imports it
    local changed = {}
    for k, v in pairs(files) do changed[k] = v end
    changed["dom.js"] = 'export const h = (y) => y;\n'
    local c2 = prepare(ui(changed))
    assert.are_not.equal(fp["dom.js"], c2.names["dom.js"])
    assert.are_not.equal(fp["graph.js"], c2.names["graph.js"])
    assert.are_not.equal(fp["app.js"], c2.names["app.js"])
    assert.are.equal(fp["s.css"], c2.names["s.css"])
  end)

  it("serves the page no-cache with a strict CSP and every module it loads preloaded", function()
    local c = prepare(ui(files))
    local page = by_path(c)["/ui/index.html"]
    assert.are.equal("text/html; charset=utf-8", page.headers["content-type"])
    assert.are.equal("no-cache", page.headers["cache-control"])
    assert.are.equal("Accept, Accept-Encoding", page.headers.vary)
    local csp = page.headers["content-security-policy"]
    assert.truthy(csp:find("default-src 'none'", 1, true))
    assert.truthy(csp:find("script-src 'self';", 1, true))
    assert.falsy(csp:find("unsafe", 1, true))
    assert.falsy(csp:find("http", 1, true))
    assert.truthy(page.body:find('src="/ui/' .. c.names["app.js"] .. '"', 1, true))
    assert.truthy(page.body:find('href="/ui/' .. c.names["s.css"] .. '"', 1, true))
    for _, n in ipairs({ "app.js", "dom.js", "graph.js" }) do
      assert.truthy(page.body:find('<link rel="modulepreload" href="/ui/' .. c.names[n] .. '">', 1, true), n)
    end
    -- a module imported with import() loads when asked: fingerprinted, not preloaded
    assert.falsy(page.body:find(c.names["lazy.js"], 1, true))
    assert.truthy(by_path(c)["/ui/" .. c.names["app.js"]].body:find('import("./' .. c.names["lazy.js"] .. '")', 1, true))
    assert.falsy(page.body:find("<!-- modulepreload -->", 1, true))
    assert.are.equal('"' .. require("eidos.core.sha256").hex(page.body):sub(1, 32) .. '"', page.headers.etag)
    assert.is_true(page.compress)
  end)

  it("refuses files that load each other in a cycle, naming them", function()
    local ok, err = pcall(prepare, ui({ ["index.html"] = PAGE, ["a.js"] = 'import "./b.js";',
      ["b.js"] = 'import "./a.js";' }))
    assert.is_false(ok)
    assert.truthy(err.msg:find("ui/a.js", 1, true) and err.msg:find("ui/b.js", 1, true), err.msg)
  end)

  it("is nothing without a page, and a file on disk under an override root wins", function()
    assert.is_nil(prepare(ui({ ["app.js"] = "x" })))
    local d = support.tmpdir()
    os.execute("mkdir -p " .. d .. "/ui")
    support.write(d .. "/ui/s.css", "body{color:blue}\n")
    local ok, c = pcall(prepare, ui(files), { d })
    os.execute("rm -rf " .. d)
    assert(ok, c)
    assert.are.equal("body{color:blue}\n", by_path(c)["/ui/s.css"].body)
  end)

  it("prepares the real ui/ of the tree: every file served, nothing refers to another origin", function()
    local embedded = {}
    local p = io.popen("cd " .. support.root .. " && find ui -type f | LC_ALL=C sort")
    for f in p:lines() do embedded[f] = support.read(support.root .. "/" .. f) end
    p:close()
    local c = prepare(embedded)
    local a = by_path(c)
    for f in pairs(embedded) do
      local name = f:sub(4)
      assert.is_table(a["/ui/" .. name], f)
      -- (the SVG namespace is a name, never fetched)
      local body = a["/ui/" .. name].body:gsub("http://www%.w3%.org/2000/svg", "")
      assert.falsy(body:find("https?://"), f .. " names another origin")
    end
  end)
end)

describe("API answers the console builds on", function()
  local api_recipe = require("eidos.api.recipe")
  local recipe = require("eidos.recipe")

  local function get(handler, query, ctx)
    local status, body, headers, cache = handler({ method = "GET", path = "/", query = query, headers = {}, id = "spec" },
      ctx)
    if type(body) == "table" then body = table.concat(body) end
    return status, body and cjson.decode(body), headers, cache
  end

  it("GET /v1/criteria is the CLI's CriteriaList, narrowed to the server's allowlists", function()
    local ctx = api_recipe.context({})
    local status, d, _, cache = get(api_recipe.criteria, "", ctx)
    assert.are.equal(200, status)
    assert.is_true(cache)
    local want = cjson.decode(require("eidos.doc").encode(recipe.criteria_list(ctx.library), "json"))
    assert.are.same(want, d)
    -- the allowlists as eidosd reads them (an alias becomes its value)
    ctx = api_recipe.context(require("eidos.api.config").normalize({ ["allow-accelerators"] = "h100, gb200",
      ["allow-os"] = "al2023" }))
    local _, n = get(api_recipe.criteria, "format=json", ctx)
    for _, f in ipairs(n.fields) do
      if f.name == "accelerator" then
        assert.are.same({ "h100", "gb200" }, f.values)
        assert.are.same({}, f.aliases) -- l40s -> l40 is not offered
        assert.is_nil(f.recipes.l40)
      elseif f.name == "os" then
        assert.are.same({ "amazonlinux" }, f.values)
        assert.are.equal("amazonlinux", f.aliases.al2023)
      elseif f.name == "service" then
        assert.are.equal(5, #f.values)
      end
    end
    local bad = pcall(get, api_recipe.criteria, "service=eks", ctx)
    assert.is_false(bad)
  end)

  it("GET /v1/recipe?explain=true is the CLI's RecipeExplanation, files named by their library path", function()
    -- the registry overridden under a root of the server's: the CLI names it
    -- by its path on disk, the API by its path in the library
    local res = require("eidos.core.res")
    local dir = support.tmpdir()
    os.execute("mkdir -p " .. support.q(dir .. "/recipes"))
    support.write(dir .. "/recipes/registry.yaml", "# the operator's copy\n" ..
      support.read(support.root .. "/recipes/registry.yaml"))
    local saved = res.roots()
    res.set_roots({ dir, table.unpack(saved) })
    local ok, ctx, status, d, text = pcall(function()
      local c = api_recipe.context({})
      local q = "service=eks&accelerator=gb200&os=ubuntu&intent=training"
      local st, doc_ = get(api_recipe.get, q .. "&explain=true", c)
      local result = recipe.build(recipe.criteria({ service = "eks", accelerator = "gb200", os = "ubuntu",
        intent = "training" }), { library = c.library })
      return c, st, doc_, require("eidos.doc").encode(recipe.explain(result, c.library), "json")
    end)
    res.set_roots(saved)
    os.execute("rm -rf " .. support.q(dir))
    assert(ok, ctx)
    assert.are.equal(200, status)
    assert.are.equal("RecipeExplanation", d.kind)
    assert.truthy(text:find(dir .. "/recipes/registry.yaml", 1, true))
    local want = cjson.decode((text:gsub(dir:gsub("%p", "%%%0") .. "/", "")))
    assert.are.same(want, d)
    local q = "service=eks&accelerator=gb200&os=ubuntu&intent=training"
    local files = 0
    local function walk(v)
      if type(v) ~= "table" then return end
      for k, x in pairs(v) do
        if k == "file" then
          files = files + 1
          assert.truthy(x:match("^recipes/"), x)
        else walk(x) end
      end
    end
    walk(d)
    assert.truthy(files > 50)
    ctx = api_recipe.context({}) -- the library of the usual roots
    local _, plain = get(api_recipe.get, q .. "&explain=false", ctx)
    assert.are.equal("RecipeResult", plain.kind)
    local err
    ok, err = pcall(get, api_recipe.get, q .. "&explain=maybe", ctx)
    assert.is_false(ok)
    assert.truthy(err.msg:find('explain "maybe"', 1, true))
  end)

  it("GET /v1/bundle/options lists the deployers present and the parameters POST /v1/bundle takes", function()
    local bundle_api = require("eidos.api.bundle")
    local options = require("eidos.bundle.options")
    local status, d = get(bundle_api.options, "", {})
    assert.are.equal(200, status)
    assert.are.equal("BundleOptions", d.kind)
    assert.are.same(options.deployers(), d.deployers)
    local names = {}
    for _, p in ipairs(d.parameters) do
      names[p.name] = p.repeatable and "list" or true
      assert.is_string(p.help)
    end
    local want = options.params()
    assert.are.same(want, names)
    assert.are.same(options.deployers(), d.parameters[1].values)
  end)
end)
