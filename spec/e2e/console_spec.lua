-- spec/e2e/console_spec.lua: the console in a real browser (Debian's
-- chromium, headless, driven by chromedriver: spec/e2e/browser.lua)
-- against a real eidosd on a loopback port. It loads the page, picks
-- criteria, checks the rendered components and the SVG graph against the
-- CLI's recipe for the same criteria, pastes real snapshots and checks
-- the verdicts, builds and downloads a bundle and checks its checksums,
-- and proves the page asks nothing of any other origin (the browser's own
-- request log, and the CSP enforced). Screenshots go to spec/artifacts/
-- (ignored by git) for a person to look at. Without a browser the specs
-- are pending, saying why.
local support = require("support")
local srv = require("e2e.eidosd")
local browser = require("e2e.browser")
local cjson = require("cjson")

local missing = (not srv.available() and ("eidosd is not built: " .. srv.bin)) or browser.missing()
if missing then
  describe("the console in a browser", function() pending(missing) end)
  return
end

local ART = support.root .. "/spec/artifacts"
local GB200 = "service=eks&accelerator=gb200&os=ubuntu&intent=training"

-- the CLI's recipe for criteria (flags), with the Lua of the tree
local function cli_recipe(args)
  local words = { "recipe" }
  for _, a in ipairs(args) do words[#words + 1] = a end
  words[#words + 1] = "-t"
  words[#words + 1] = "json"
  local r = support.run(words, { env = { EIDOS_HOME = support.root } })
  assert.are.equal(0, r.code, r.err)
  return cjson.decode(r.out)
end

local function set_of(list)
  local t = {}
  for _, v in ipairs(list) do t[v] = true end
  return t
end

describe("the console in a browser", function()
  local s, b

  setup(function()
    os.execute("mkdir -p " .. support.q(ART))
    s = srv.start({ args = { "--rate=0" } })
    b = browser.start({ width = 1280, height = 900 })
    -- every CSP violation the page meets, recorded before any of its scripts run
    b:cdp("Page.addScriptToEvaluateOnNewDocument", { source = "window.__csp = [];" ..
      "document.addEventListener('securitypolicyviolation', (e) => " ..
      "window.__csp.push(e.effectiveDirective + ' ' + e.blockedURI));" })
  end)
  teardown(function()
    if b then b:quit() end
    srv.stop(s)
  end)

  -- open(path): load the page at path and wait until it is interactive
  local function open(path)
    b:requests() -- forget what came before
    b:go(s.base .. path)
    assert.are.equal("true", b:wait("document.documentElement.dataset.ready", 30, "the page to be ready"))
  end

  local function state(view) return b:exec("return document.querySelector('#view-" .. view .. "').dataset.state") end

  it("shows every component of the CLI's recipe for the criteria in the URL, and an SVG with one node each", function()
    open("/?" .. GB200)
    local want = cli_recipe({ "--service", "eks", "--accelerator", "gb200", "--os", "ubuntu", "--intent", "training" })
    local names, versions, deps = {}, {}, 0
    for _, r in ipairs(want.componentRefs) do
      names[#names + 1] = r.name
      versions[r.name] = r.version
      for _, d in ipairs(r.dependencyRefs or {}) do if versions[d] ~= nil or true then deps = deps + 1 end end
    end
    assert.are.equal("ready", state("recipe"))
    local rows = b:exec([[return [...document.querySelectorAll('table.components tbody tr')].map((tr) =>
      [tr.dataset.component, tr.querySelector('td[data-label="Version"]').textContent])]])
    assert.are.equal(#names, #rows)
    local shown = {}
    for _, r in ipairs(rows) do
      shown[#shown + 1] = r[1]
      assert.are.equal(versions[r[1]], r[2], r[1])
    end
    assert.are.same(set_of(names), set_of(shown))
    -- the graph: an inline <svg>, one <g data-component> per component, an edge per dependency
    local nodes = b:exec([[return [...document.querySelectorAll('main svg.graph g[data-component]')]
      .map((g) => [g.dataset.component, g.transform.baseVal.consolidate().matrix.e])]])
    assert.are.equal(#names, #nodes)
    local x = {}
    for _, n in ipairs(nodes) do x[n[1]] = n[2] end
    assert.are.same(set_of(names), (function() local t = {} for k in pairs(x) do t[k] = true end return t end)())
    local edges = b:exec([[return [...document.querySelectorAll('svg.graph path.edge')]
      .map((p) => [p.dataset.from, p.dataset.to])]])
    assert.are.equal(deps, #edges)
    for _, e in ipairs(edges) do
      assert.truthy(x[e[1]] < x[e[2]], e[1] .. " is drawn left of " .. e[2] .. ", which depends on it")
    end
    -- the overlays and the constraints of the recipe
    local overlays = b:exec("return [...document.querySelectorAll('ol.overlays li')].length")
    assert.are.equal(#want.metadata.appliedOverlays, overlays)
    local cons = b:exec("return [...document.querySelectorAll('table.constraints tbody tr')].map((r) => r.dataset.constraint)")
    local wc = {}
    for i, c in ipairs(want.constraints) do wc[i] = c.name end
    assert.are.same(wc, cons)
    -- where each constraint comes from, once the explanation is there
    local src = b:exec("return document.querySelector('table.constraints tbody td.src').textContent")
    assert.truthy(src:find("overlay", 1, true), src)
    b:shot_full(ART .. "/console-recipe.png")
  end)

  it("asks nothing of any other origin, and its Content-Security-Policy is enforced", function()
    open("/?" .. GB200 .. "&component=gpu-operator")
    local urls = b:requests()
    local ours, others = 0, {}
    for _, u in ipairs(urls) do
      if u:sub(1, #s.base + 1) == s.base .. "/" then ours = ours + 1
      elseif not u:match("^data:") and not u:match("^blob:") then others[#others + 1] = u end
    end
    assert.are.same({}, others)
    assert.truthy(ours >= 8, "the page, its style, scripts and API calls: " .. ours)
    assert.are.same({}, b:exec("return window.__csp"))
    -- the header the page came with
    local r = srv.get(s, "/?" .. GB200, { "Accept: text/html" })
    local csp = r.headers["content-security-policy"]
    assert.truthy(csp:find("default-src 'none'", 1, true), csp)
    -- enforced: no inline script runs, nothing loads from elsewhere
    local inline = b:exec([[try {
        const el = document.createElement('script'); el.textContent = 'window.__inline = 1';
        document.head.appendChild(el);
      } catch (e) { return 'refused: ' + e.name; }
      return window.__inline || 'did not run';]])
    assert.are_not.equal(1, inline)
    local v = b:wait("window.__csp.length && window.__csp", 10, "a CSP violation report")
    assert.truthy(v[1]:find("trusted-types", 1, true), v[1])
    b:exec("window.__csp = []; const i = new Image(); i.src = 'http://192.0.2.1/probe.png'; document.body.appendChild(i);")
    v = b:wait("window.__csp.length && window.__csp", 10, "a CSP violation report")
    assert.truthy(v[1]:find("img-src http://192.0.2.1", 1, true), v[1])
    -- the browser refused to send it
    local _, blocked = b:requests()
    assert.are.equal("csp", blocked["http://192.0.2.1/probe.png"])
    b:exec("window.__csp = []")
    -- no error in the console but for the refusals the page asked for
    for _, l in ipairs(b:log("browser")) do
      assert.falsy(l.message:find("Content Security Policy", 1, true) and not l.message:find("192.0.2.1", 1, true),
        l.message)
      assert.falsy(l.level == "SEVERE" and l.message:find("Uncaught", 1, true), l.message)
    end
  end)

  it("follows the criteria picked: the URL, the recipe and the graph; a refused pick is a hint beside it", function()
    open("/")
    assert.are.equal("empty", state("recipe"))
    b:select("#c-service", "eks")
    b:select("#c-accelerator", "h100")
    b:select("#c-intent", "training")
    b:select("#c-os", "ubuntu")
    b:wait("document.querySelector('#view-recipe').dataset.state === 'ready' && " ..
      "location.search.includes('os=ubuntu') && document.querySelector('svg.graph')", 20, "the picked recipe")
    local want = cli_recipe({ "--service", "eks", "--accelerator", "h100", "--intent", "training", "--os", "ubuntu" })
    assert.are.equal("?service=eks&accelerator=h100&intent=training&os=ubuntu", b:exec("return location.search"))
    assert.are.equal(#want.componentRefs, b:exec("return document.querySelectorAll('svg.graph g[data-component]').length"))
    -- a link reproduces the view
    local href = b:exec("return location.href")
    open(href:sub(#s.base + 1))
    assert.are.equal("h100", b:exec("return document.querySelector('#c-accelerator').value"))
    -- no curated recipe honours cos here: a hint beside the OS picker, with the nearest recipes
    b:select("#c-intent", "inference")
    b:wait("document.querySelector('#view-recipe').dataset.state === 'ready'")
    b:select("#c-os", "cos")
    b:wait("document.querySelector('#view-recipe').dataset.state === 'refused'", 20, "the refusal")
    local hint = b:exec("return document.querySelector('#c-os-hint').textContent")
    assert.truthy(hint:find("os=cos", 1, true), hint)
    assert.are.equal("true", b:exec("return document.querySelector('#c-os').getAttribute('aria-invalid')"))
    assert.are.same("", b:exec("return document.querySelector('#c-service-hint').textContent"))
    local chips = b:exec("return [...document.querySelectorAll('#c-os-hint button.chip')].map((c) => c.textContent)")
    assert.truthy(#chips >= 1)
    b:shot(ART .. "/console-hint.png")
    -- a nearest recipe is one click away
    b:click("#c-os-hint button.chip")
    b:wait("document.querySelector('#view-recipe').dataset.state === 'ready'", 20, "the nearest recipe")
    assert.are.equal("cos", b:exec("return document.querySelector('#c-os').value"))
    assert.are.equal("", b:exec("return document.querySelector('#c-os-hint').textContent"))
    -- aliases in a link read as their values (gpu= is accelerator, al2023 is amazonlinux)
    open("/?service=EKS&gpu=h100&intent=training&os=al2023")
    assert.are.equal("amazonlinux", b:exec("return document.querySelector('#c-os').value"))
    assert.are.equal("?service=eks&accelerator=h100&intent=training&os=amazonlinux", b:exec("return location.search"))
  end)

  it("shows a component's values and where each comes from when its node is clicked or pressed", function()
    open("/?" .. GB200)
    b:click('svg.graph g[data-component="gpu-operator"]')
    b:wait("document.querySelector('#h-detail').textContent.includes('gpu-operator')")
    local rows = b:exec([[return [...document.querySelectorAll('#component-detail table.values tbody tr')]
      .map((tr) => [tr.querySelector('th').textContent, tr.querySelector('td.src').textContent,
        tr.querySelector('td[data-label="Value"]').title])]])
    assert.truthy(#rows > 10, #rows)
    local driver
    for _, r in ipairs(rows) do
      assert.truthy(r[2] ~= "" and r[3]:find("recipes/", 1, true), r[1] .. ": " .. r[3])
      if r[1] == "driver.version" then driver = r end
    end
    assert.is_table(driver, "driver.version among the values")
    assert.truthy(b:exec("return location.search"):find("component=gpu-operator", 1, true))
    assert.are.equal("true", b:exec([[return document.querySelector('g[data-component="gpu-operator"]')
      .getAttribute('aria-pressed')]]))
    b:shot_full(ART .. "/console-component.png")
    -- by keyboard: focus a node, press Enter
    b:exec([[document.querySelector('g[data-component="kai-scheduler"]').focus()]])
    b:keys("\u{E007}")
    b:wait("document.querySelector('#h-detail').textContent.includes('kai-scheduler')", 10, "the keyboard selection")
  end)

  it("builds a bundle with overrides, downloads it, and every file matches its checksums", function()
    open("/ui/bundle?" .. GB200)
    b:wait("document.querySelector('#b-deployer')", 20, "the bundle form")
    assert.are.equal("Bundle · eidos console", b:exec("return document.title"))
    b:select("#b-deployer", "helm")
    b:type("#b-set", "gpu-operator:driver.version=580.105.08")
    b:click(".bundle-form button[type=submit]")
    b:wait("document.querySelector('#view-bundle').dataset.state === 'ready' || " ..
      "document.querySelector('#view-bundle').dataset.state === 'error'", 30, "the bundle")
    assert.are.equal("ready", state("bundle"))
    local verdict = b:exec("return document.querySelector('#bundle-verdict').textContent")
    assert.truthy(verdict:find("files match checksums.txt", 1, true), verdict)
    local shown = b:exec([[return [...document.querySelectorAll('table.checksums tbody tr')]
      .map((tr) => [tr.dataset.file, tr.querySelector('code.sha').textContent])]])
    b:shot_full(ART .. "/console-bundle.png")
    b:click("#bundle-download")
    local files = b:downloaded(20)
    assert.are.equal(1, #files)
    assert.truthy(files[1]:match("^bundle%-eks%-gb200%-training%-ubuntu%-helm%.zip$"), files[1])
    -- unpacked by another implementation, each file hashes as checksums.txt says, as the page showed
    local d = support.tmpdir()
    local r = support.sh(string.format("python3 -c 'import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' %s %s" ..
      " && cd %s && sha256sum -c checksums.txt && cat checksums.txt", support.q(b.downloads .. "/" .. files[1]),
      support.q(d), support.q(d)))
    assert.are.equal(0, r.code, r.out .. r.err)
    local sums = {}
    for sha, name in r.out:gmatch("(%x+)  ([^\n]+)") do sums[#sums + 1] = { name, sha } end
    assert.are.same(sums, shown)
    local values = support.read(d .. "/values.yaml") or ""
    assert.truthy(values:find("580.105.08", 1, true), "the override is in the bundle")
    os.execute("rm -rf " .. support.q(d))
  end)

  it("works on a phone and in the dark: no sideways scrolling, every control labelled, text contrast >= 4.5", function()
    local audit = [[
      const lum = (c) => {
        const [r, g, b] = c.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => {
          v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
      };
      const bg = (el) => {
        for (; el; el = el.parentElement) {
          const c = getComputedStyle(el).backgroundColor;
          if (c && !/rgba\(.*,\s*0\)$/.test(c) && c !== 'transparent') return c;
        }
        return getComputedStyle(document.documentElement).backgroundColor;
      };
      const low = [];
      for (const el of document.querySelectorAll('main *, header *, form#criteria *')) {
        if (!el.offsetParent || ![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
        const a = lum(getComputedStyle(el).color), b = lum(bg(el));
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        if (ratio < 4.5) low.push(el.tagName + '.' + el.className + ' ' + ratio.toFixed(2) + ' ' + el.textContent.slice(0, 30));
      }
      const unlabelled = [...document.querySelectorAll('input, select, textarea, button, [role=button]')]
        .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') &&
          !el.getAttribute('aria-labelledby') && !(el.textContent || '').trim())
        .map((el) => el.outerHTML.slice(0, 80));
      return { low, unlabelled, overflow: document.documentElement.scrollWidth - innerWidth };
    ]]
    for _, scheme in ipairs({ "light", "dark" }) do
      b:scheme(scheme)
      for _, view in ipairs({ "/?" .. GB200 .. "&component=gpu-operator", "/ui/bundle?" .. GB200,
                              "/ui/validate?" .. GB200, "/ui/diff?" .. GB200 }) do
        open(view)
        local a = b:exec(audit)
        assert.are.same({}, a.low, scheme .. " " .. view)
        assert.are.same({}, a.unlabelled, view)
      end
      b:size(390, 844, true)
      open("/?" .. GB200 .. "&component=gpu-operator")
      local a = b:exec(audit)
      assert.are.equal(0, a.overflow, "the page scrolls sideways on a phone")
      assert.are.same({}, a.low, scheme .. " phone")
      b:shot(ART .. "/console-phone-" .. scheme .. ".png")
      b:size()
      open("/?" .. GB200)
      b:shot(ART .. "/console-" .. scheme .. ".png")
    end
    b:scheme("light")
  end)
end)
