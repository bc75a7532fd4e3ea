-- spec/policy/labels_spec.lua: eidos.k8s.labels.label_selector, the
-- syntax of a Kubernetes label selector (as kube-apiserver's labels.Parse
-- reads it), checked where a flag of type "selector" is read
local labels = require("eidos.k8s.labels")

local function refused(text)
  local ok, e = pcall(labels.label_selector, text, "--snapshot-selector")
  assert.is_false(ok, text)
  assert.are.equal("invalid", e.code)
  return e.msg
end

describe("eidos.k8s.labels.label_selector", function()
  it("reads every form kube-apiserver takes, in order", function()
    local text, reqs = labels.label_selector(" a=1, b==2,c!=3 ,d in (x, y),e notin(z),f,!g,h>4,i<5,j=,k in ()",
      "--s")
    assert.are.equal(" a=1, b==2,c!=3 ,d in (x, y),e notin(z),f,!g,h>4,i<5,j=,k in ()", text)
    assert.are.same({
      { key = "a", op = "=", values = { "1" } }, { key = "b", op = "==", values = { "2" } },
      { key = "c", op = "!=", values = { "3" } }, { key = "d", op = "in", values = { "x", "y" } },
      { key = "e", op = "notin", values = { "z" } }, { key = "f", op = "exists" }, { key = "g", op = "!" },
      { key = "h", op = ">", values = { "4" } }, { key = "i", op = "<", values = { "5" } },
      { key = "j", op = "=", values = { "" } }, { key = "k", op = "in", values = { "" } },
    }, reqs)
    assert.are.same({}, select(2, labels.label_selector("", "--s")))
    assert.are.same({ { key = "eidos.nvidia.com/run-id", op = "=", values = { "20260101-abc" } } },
      select(2, labels.label_selector("eidos.nvidia.com/run-id=20260101-abc", "--s")))
  end)

  it("refuses a bad one naming it, the character where it goes wrong and what is accepted", function()
    local cases = {
      { "bad!!", 'at character 4 ("!"): expected an operator (=, ==, !=, in, notin) or \',\' after the key "bad"' },
      { "a=b,", "at character 5 (the end): expected a requirement after ','" },
      { ",a", 'at character 1 (","): expected a label key' },
      { "a in x", 'at character 6 ("x"): expected \'(\' after in' },
      { "a in (x", "at character 8 (the end): expected ',' or ')'" }, { "a in (,", "at character 7 (\",\"): expected a label value in (...)" },
      { "a in (x y)", 'at character 9 ("y"): expected \',\' or \')\'' },
      { "a=b c", 'at character 5 ("c"): expected \',\' or the end after a requirement' },
      { "!a=b", 'at character 3 ("="): expected \',\' or the end' },
      { "a>b", '"b" needs an integer after >' },
      { "a=-b", 'bad label value "-b"' },
      { "Bad_/x=1", 'bad label key "Bad_/x": its prefix must be a DNS subdomain' },
      { string.rep("k", 64), "its name must be at most 63" },
      { "a=" .. string.rep("v", 64), "up to 63 of" },
    }
    for _, c in ipairs(cases) do
      local m = refused(c[1])
      assert.truthy(m:find(string.format("invalid --snapshot-selector %q: ", c[1]), 1, true), m)
      assert.truthy(m:find(c[2], 1, true), m)
      assert.truthy(m:find("(accepted: comma-separated KEY=VALUE", 1, true), m)
    end
  end)

  it("a flag of type selector is checked as it is parsed (exit 2 before the command runs)", function()
    local flags = require("eidos.cli.flags")
    local specs = { { name = "sel", arg = "LABELS", type = "selector" } }
    assert.are.equal("a in (b)", flags.parse({ "--sel", "a in (b)" }, specs, "x").sel)
    local ok, e = pcall(flags.parse, { "--sel=a==" .. "=b" }, specs, "x")
    assert.is_false(ok)
    assert.truthy(e.msg:find('invalid --sel "a===b": at character 4 ("=")', 1, true), e.msg)
    assert.are.equal("SELECTOR", require("eidos.cli.help").placeholder({ name = "s", type = "selector" }))
  end)

  it("stays linear on a long hostile selector", function()
    local t0 = os.clock()
    labels.label_selector(string.rep("a in (b),", 20000) .. "c", "--s")
    refused(string.rep("a=b,", 50000) .. "!")
    assert.is_true(os.clock() - t0 < 2, "checking 200,000 characters took seconds")
  end)
end)
