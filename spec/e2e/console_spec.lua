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

-- the snapshots to paste: our own always, the real ones of ../shared when present
local OWN = { support.root .. "/spec/fixtures/snapshots/console-old-node.json",
              support.root .. "/spec/fixtures/snapshots/validate-small.yaml" }
local SHARED = {}
for _, n in ipairs({ "gb200-eks-ubuntu.yaml", "h100-eks-ubuntu.yaml" }) do
  local p = support.root .. "/../shared/fixtures/snapshots/" .. n
  if support.exists(p) then -- a browser takes only canonical paths to upload
    local r = io.popen("realpath " .. support.q(p))
    SHARED[#SHARED + 1] = r:read("l")
    r:close()
  end
end

-- the CLI's answer (JSON) to `eidos ARGS -t json`, whatever its exit code
local function cli_json(args)
  local words = {}
  for _, a in ipairs(args) do words[#words + 1] = a end
  words[#words + 1] = "-t"
  words[#words + 1] = "json"
  local r = support.run(words, { env = { EIDOS_HOME = support.root } })
  local ok, d = pcall(cjson.decode, r.out or "")
  assert(ok and type(d) == "table", "eidos " .. table.concat(args, " ") .. ": " .. tostring(r.err))
  return d
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
    -- no edge runs through a node it does not join (it would read as a dependency)
    local crossings = b:exec([[
      const boxes = [...document.querySelectorAll('svg.graph g.node')].map((g) => {
        const m = g.transform.baseVal.consolidate().matrix, r = g.querySelector('rect');
        return { name: g.dataset.component, x: m.e, y: m.f, w: r.width.baseVal.value, h: r.height.baseVal.value };
      });
      const out = [];
      for (const p of document.querySelectorAll('svg.graph path.edge')) {
        const len = p.getTotalLength();
        for (let t = 0; t <= len; t += 4) {
          const q = p.getPointAtLength(t);
          for (const b of boxes) {
            if (b.name === p.dataset.from || b.name === p.dataset.to) continue;
            if (q.x > b.x + 1 && q.x < b.x + b.w - 1 && q.y > b.y + 1 && q.y < b.y + b.h - 1) {
              out.push(p.dataset.from + ' -> ' + p.dataset.to + ' crosses ' + b.name);
            }
          }
        }
      }
      return [...new Set(out)];]])
    assert.are.same({}, crossings)
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

  -- paste(css, text): put text into a text area as a paste does (its input event)
  local function paste(css, text)
    b:exec("const t = document.querySelector(arguments[0]); t.value = arguments[1];" ..
      "t.dispatchEvent(new Event('input', {bubbles: true}));", css, text)
  end

  local function verdicts()
    local out = {}
    for _, r in ipairs(b:exec([[return [...document.querySelectorAll('#view-validate table.results tbody tr')]
        .map((tr) => [tr.dataset.constraint, tr.dataset.status])]])) do out[r[1]] = r[2] end
    return out
  end

  it("validates a pasted snapshot: each constraint passed, failed or skipped as the CLI says, with reasons", function()
    local recipe = support.tmpdir() .. "/recipe.json"
    support.write(recipe, cjson.encode(cli_recipe({ "--service", "eks", "--accelerator", "gb200", "--os", "ubuntu",
      "--intent", "training" })))
    -- from the recipe to the validate view by its link: the criteria go along, Back returns
    open("/?" .. GB200)
    b:click('nav.views a[data-view="validate"]')
    b:wait("document.querySelector('#v-snapshots')", 10, "the validate view")
    assert.are.equal("/ui/validate?" .. "service=eks&accelerator=gb200&intent=training&os=ubuntu",
      b:exec("return location.pathname + location.search"))
    assert.are.equal("page", b:exec([[return document.querySelector('nav.views a[data-view="validate"]')
      .getAttribute('aria-current')]]))
    b:exec("history.back()")
    b:wait("!document.querySelector('#view-recipe').hidden && document.querySelector('#view-validate').hidden", 10,
      "the recipe view again")
    open("/ui/validate?" .. GB200)
    assert.are.equal("Validate · eidos console", b:exec("return document.title"))
    assert.are.equal("/ui/validate", b:exec("return location.pathname"))
    local seen = {}
    for i, path in ipairs({ OWN[1], OWN[2], table.unpack(SHARED) }) do
      paste("#v-snapshots", support.read(path))
      b:click("#view-validate button[type=submit]")
      b:wait("document.querySelector('#view-validate').dataset.state === 'ready' && " ..
        "document.querySelector('#view-validate table.results')", 20, "the verdicts of " .. path)
      local want = cli_json({ "validate", "--recipe", recipe, "--snapshot", path })
      local got = verdicts()
      local wanted = {}
      for _, r in ipairs(want.results) do
        wanted[r.name] = r.status
        seen[r.status] = true
      end
      assert.are.same(wanted, got, path)
      local status = b:exec("return document.querySelector('#view-validate [data-status]').dataset.status")
      assert.are.equal(want.status, status, path)
      if i == 1 then
        -- the node that is behind: reasons and what to do
        local row = b:exec([[const tr = document.querySelector('#view-validate tr[data-constraint="K8s.server.version"]');
          return tr.textContent]])
        assert.truthy(row:find("expected >= 1.32", 1, true), row)
        assert.truthy(row:find("Suggestion:", 1, true), row)
        b:shot_full(ART .. "/console-validate.png")
      end
    end
    assert.is_true(seen.passed and seen.failed and seen.skipped, "every verdict was shown")
    -- a file chosen (uploaded by the browser) is validated the same way
    paste("#v-snapshots", "")
    b:type("#v-snapshots-file", OWN[1])
    b:wait("document.querySelector('#view-validate ul.files li')", 10, "the chosen file")
    b:click("#view-validate button[type=submit]")
    b:wait("document.querySelector('#view-validate').dataset.state === 'ready'", 20, "the verdicts of the file")
    assert.are.equal("failed", verdicts()["K8s.server.version"])
    -- a file dropped on the box is added as one more snapshot (two: the fleet view)
    b:exec([=[const dt = new DataTransfer();
      dt.items.add(new File([arguments[0]], 'dropped.yaml', { type: 'application/yaml' }));
      document.querySelector('#view-validate .doc-input').dispatchEvent(
        new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));]=], support.read(OWN[2]))
    b:wait("document.querySelectorAll('#view-validate ul.files li').length === 2", 10, "the dropped file")
    assert.truthy(b:exec("return document.querySelector('#view-validate ul.files').textContent"):find("dropped.yaml", 1, true))
    b:exec("document.querySelector('#view-validate ul.files button').click()")
    -- a document that is no snapshot is refused with the server's reason
    b:exec("document.querySelector('#view-validate ul.files button').click()")
    paste("#v-snapshots", "kind: Snapshot\nmeasurements: 7\n")
    b:click("#view-validate button[type=submit]")
    b:wait("document.querySelector('#view-validate').dataset.state === 'error'", 20, "the refusal")
    local err = b:exec("return document.querySelector('#view-validate .error').textContent")
    assert.truthy(err:find("measurements", 1, true), err)
  end)

  it("validates several snapshots as a fleet: one column per node", function()
    open("/ui/validate?" .. GB200)
    local texts = {}
    for _, p in ipairs({ OWN[1], OWN[2], table.unpack(SHARED) }) do texts[#texts + 1] = support.read(p) end
    for _, p in ipairs({ OWN[1], OWN[2], table.unpack(SHARED) }) do b:type("#v-snapshots-file", p) end
    b:wait("document.querySelectorAll('#view-validate ul.files li').length === " .. #texts, 10, "the chosen files")
    b:click("#view-validate button[type=submit]")
    b:wait("document.querySelector('#view-validate').dataset.state === 'ready' && " ..
      "document.querySelector('#view-validate table.matrix')", 30, "the fleet matrix")
    local cols = b:exec("return [...document.querySelectorAll('table.matrix thead th[data-node]')].map((t) => t.dataset.node)")
    assert.are.equal(#texts, #cols)
    assert.truthy(b:exec([[return document.querySelector('table.matrix td[data-node="gpu-node-old"]')
      .dataset.status]]) ~= nil)
    local failing = b:exec("return document.querySelector('#view-validate .failing').textContent")
    assert.truthy(failing:find("gpu-node-old", 1, true), failing)
    b:shot_full(ART .. "/console-fleet.png")
  end)

  it("diffs two snapshots, and two recipes, side by side as the CLI does", function()
    local old, new = OWN[2], OWN[1]
    if #SHARED == 2 then old, new = SHARED[2], SHARED[1] end
    open("/ui/diff?" .. GB200)
    paste("#d-old", support.read(old))
    paste("#d-new", support.read(new))
    b:click("#view-diff button[type=submit]")
    b:wait("document.querySelector('#view-diff').dataset.state === 'ready'", 20, "the snapshot diff")
    local want = cli_json({ "diff", old, new })
    local rows = b:exec([[return [...document.querySelectorAll('#view-diff table.diff tbody tr')]
      .map((tr) => [tr.dataset.path, tr.dataset.change, tr.querySelector('td.old').textContent,
        tr.querySelector('td.new').textContent])]])
    assert.are.equal(#want.findings, #rows)
    for i, f in ipairs(want.findings) do
      assert.are.equal(f.path, rows[i][1])
      assert.are.equal(f.change, rows[i][2])
    end
    b:shot(ART .. "/console-diff.png")
    -- two recipes: the criteria on screen against h100
    b:click('#view-diff input[value="recipes"]')
    b:wait("document.querySelector('#b-accelerator')", 10, "the second criteria")
    b:select("#b-accelerator", "h100")
    b:click("#view-diff button[type=submit]")
    b:wait("document.querySelector('#view-diff').dataset.state === 'ready' && " ..
      "document.querySelector('#h-diff-result')", 20, "the recipe diff")
    local d = support.tmpdir()
    support.write(d .. "/a.json", cjson.encode(cli_recipe({ "--service", "eks", "--accelerator", "gb200", "--os",
      "ubuntu", "--intent", "training" })))
    support.write(d .. "/b.json", cjson.encode(cli_recipe({ "--service", "eks", "--accelerator", "h100", "--os",
      "ubuntu", "--intent", "training" })))
    local rwant = cli_json({ "diff", d .. "/a.json", d .. "/b.json" })
    local n = b:exec("return document.querySelectorAll('#view-diff table.diff tbody tr').length")
    assert.are.equal(#rwant.findings, n)
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
