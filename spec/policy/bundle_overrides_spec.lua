-- eidos.bundle.overrides: --set coercion and paths, --set-json, --values,
-- the scheduling flags, and how they are applied to values.
local overrides = require("eidos.bundle.overrides")
local emit = require("eidos.core.emit")

local function errmsg(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  assert.are.equal("invalid", e.code)
  return e.msg
end

describe("eidos.bundle.overrides", function()
  describe("coercion of --set values", function()
    local cases = {
      { "true", true }, { "false", false }, { "null", emit.null },
      { "0", 0 }, { "42", 42 }, { "-7", -7 }, { "9223372036854775807", 9223372036854775807 },
      { "1.5", 1.5 }, { "-0.25", -0.25 }, { "2e3", 2000.0 }, { "1.0e-3", 0.001 }, { "1.0", 1.0 },
      { "True", "True" }, { "yes", "yes" }, { "007", "007" }, { "+5", "+5" }, { "0x1F", "0x1F" },
      { "1.2.3", "1.2.3" }, { "580.105.08", "580.105.08" }, { "", "" }, { "NaN", "NaN" }, { "inf", "inf" },
      { "1.", "1." }, { ".5", ".5" }, { "9223372036854775808", "9223372036854775808" },
    }
    for _, c in ipairs(cases) do
      it(string.format("%q", c[1]), function()
        local v = overrides.coerce(c[1])
        assert.are.equal(c[2], v)
        assert.are.equal(math.type(c[2]), math.type(v))
      end)
    end
  end)

  describe("parse_set", function()
    it("splits on the first ':' and the first '='", function()
      local op = overrides.parse_set("gpu-operator:driver.env=A=B:C")
      assert.are.equal("gpu-operator", op.component)
      assert.are.same({ "driver", "env" }, op.path)
      assert.are.equal("A=B:C", op.value)
    end)

    it("takes \\= as a literal '=' in a key, and splits at the first '=' not escaped", function()
      local op = overrides.parse_set([[c:env.A\=B=x=y]])
      assert.are.same({ "env", "A=B" }, op.path)
      assert.are.equal("x=y", op.value)
      assert.are.equal([[env.A\=B]], overrides.join_path(op.path))
      assert.are.same(op.path, overrides.split_path(overrides.join_path(op.path)))
    end)

    it("takes paths up to the nesting limit of every input", function()
      local op = overrides.parse_set("c:" .. ("a."):rep(63) .. "a=1")
      assert.are.equal(64, #op.path)
      op = overrides.parse_set("c:" .. ("a."):rep(61) .. "a=[[1]]", "set-json")
      assert.are.equal(62, #op.path)
    end)

    it("takes \\. as a literal dot in a key", function()
      local op = overrides.parse_set([[c:nodeSelector.nvidia\.com/gpu\.present=true]])
      assert.are.same({ "nodeSelector", "nvidia.com/gpu.present" }, op.path)
      assert.are.equal(true, op.value)
    end)

    it("parses JSON for --set-json", function()
      local op = overrides.parse_set('c:tolerations=[{"key":"a","operator":"Exists"}]', "set-json")
      assert.are.equal("a", op.value[1].key)
      assert.are.same({ 1, 2 }, overrides.parse_set("c:x=[1,2]", "set-json").value)
    end)

    local bad = {
      { "nocolon", "set", "missing ':'" },
      { ":x=1", "set", "empty component" },
      { "c:novalue", "set", "missing '='" },
      { "c:=1", "set", "empty key" },
      { "c:a..b=1", "set", "empty key" },
      { "c:a.=1", "set", "empty key" },
      { [[c:a\x=1]], "set", "is not an escape" },
      { [[c:a\\b=1]], "set", "is not an escape" },
      { [[c:a\=1]], "set", "missing '='" },
      { "c:x=NaN", "set-json", "NaN and Infinity are not JSON" },
      { "c:x=Infinity", "set-json", "not valid JSON" },
      { "c:x=-Infinity", "set-json", "not valid JSON" },
      { "c:x=nan", "set-json", "not valid JSON" },
      { "c:x=.inf", "set-json", "not valid JSON" },
      { "c:x=0x10", "set-json", "not valid JSON" },
      { "c:x=bare", "set-json", "not valid JSON" },
      { "c:x=1e999", "set-json", "not finite at x" },
      { [[c:x={"a":[1,-1e400]}]], "set-json", "not finite at x.a.2" },
      { "c:" .. ("a."):rep(64) .. "a=1", "set", "more than the limit of 64 levels" },
      { "c:" .. ("a."):rep(60) .. "a=[[[[1]]]]", "set-json", "more than the limit of 64 levels" },
      { "c:x=", "set-json", "empty JSON" },
      { "c:x={bad", "set-json", "not valid JSON" },
    }
    for _, b in ipairs(bad) do
      it("rejects --" .. b[2] .. " " .. b[1], function()
        local msg = errmsg(overrides.parse_set, b[1], b[2])
        assert.matches("--" .. b[2], msg, 1, true)
        assert.matches(string.format("%q", b[1]), msg, 1, true)
        assert.matches(b[3], msg, 1, true)
      end)
    end
  end)

  describe("apply", function()
    it("creates missing maps and overwrites leaves", function()
      local v = { a = { keep = 1 } }
      v = overrides.apply(v, overrides.parse_set("c:a.b.c=x"))
      v = overrides.apply(v, overrides.parse_set("c:a.keep=2"))
      assert.are.same({ a = { keep = 2, b = { c = "x" } } }, v)
    end)

    it("refuses a path through a non-map, naming it", function()
      local v = { driver = { version = "1" }, list = { 1 } }
      local msg = errmsg(overrides.apply, v, overrides.parse_set("c:driver.version.major=2"))
      assert.matches("driver.version is a string, not a map", msg, 1, true)
      msg = errmsg(overrides.apply, v, overrides.parse_set("c:list.x=2"))
      assert.matches("list is a list, not a map", msg, 1, true)
    end)

    it("replaces a null on the way by a map", function()
      local v = overrides.apply({ a = emit.null }, overrides.parse_set("c:a.b=1"))
      assert.are.same({ a = { b = 1 } }, v)
    end)

    it("deep-merges --values maps without mutating them", function()
      local m = { a = { b = 2 }, enabled = true }
      local v = overrides.apply({ a = { c = 3 } }, { merge = m })
      assert.are.same({ a = { b = 2, c = 3 } }, v)
      assert.are.same({ a = { b = 2 }, enabled = true }, m)
    end)

    it("does not share the --set-json table between components", function()
      local op = overrides.parse_set("c:x=[1]", "set-json")
      local a = overrides.apply({}, op)
      local b = overrides.apply({}, op)
      a.x[1] = 9
      assert.are.equal(1, b.x[1])
    end)
  end)

  describe("scheduling flags", function()
    it("parses selectors and tolerations", function()
      local k, v = overrides.parse_selector("node-role.kubernetes.io/system=", "system-node-selector")
      assert.are.equal("node-role.kubernetes.io/system", k)
      assert.are.equal("", v)
      local t = overrides.parse_toleration("nvidia.com/gpu=present:NoSchedule", "accelerated-node-toleration")
      assert.are.same({ key = "nvidia.com/gpu", operator = "Equal", value = "present", effect = "NoSchedule" }, t)
      t = overrides.parse_toleration("dedicated:NoExecute", "system-node-toleration")
      assert.are.same({ key = "dedicated", operator = "Exists", effect = "NoExecute" }, t)
      assert.are.equal("key: dedicated\noperator: Exists\neffect: NoExecute\n", emit.yaml(t))
    end)

    local bad = {
      { "novalue", "system-node-selector", "KEY=VALUE" },
      { "=v", "system-node-selector", "bad label key" },
      { "k=bad value", "accelerated-node-selector", "bad label value" },
      { "k=v", "system-node-toleration", "KEY=VALUE:EFFECT" },
      { "k=v:NoSchedul", "system-node-toleration", "unknown effect \"NoSchedul\"" },
      { "k:v:NoSchedule", "accelerated-node-toleration", "too many ':'" },
      { ":NoSchedule", "accelerated-node-toleration", "bad taint key" },
    }
    for _, b in ipairs(bad) do
      it("rejects --" .. b[2] .. " " .. b[1], function()
        local f = b[2]:match("selector") and overrides.parse_selector or overrides.parse_toleration
        local msg = errmsg(f, b[1], b[2])
        assert.matches("--" .. b[2], msg, 1, true)
        assert.matches(b[3], msg, 1, true)
      end)
    end

    it("writes at the registry paths, replacing what is there", function()
      local entry = { nodeScheduling = {
        system = { nodeSelectorPaths = { "operator.nodeSelector" }, tolerationPaths = { "operator.tolerations" } },
        accelerated = { nodeSelectorPaths = { "daemonsets.nodeSelector" },
                        tolerationPaths = { "daemonsets.tolerations", "nfd.worker.tolerations" } },
      } }
      local sched = overrides.parse_scheduling({
        ["system-node-selector"] = { "role=system" },
        ["accelerated-node-toleration"] = { "nvidia.com/gpu:NoSchedule" },
      })
      local v = overrides.apply_scheduling({ operator = { nodeSelector = { old = "x" } }, nfd = "scalar" }, sched, entry)
      assert.are.same({ role = "system" }, v.operator.nodeSelector)
      assert.is_nil(v.operator.tolerations)
      assert.is_nil(v.daemonsets.nodeSelector)
      assert.are.equal("nvidia.com/gpu", v.daemonsets.tolerations[1].key)
      assert.are.equal("Exists", v.nfd.worker.tolerations[1].operator)
    end)

    it("invents nothing without flags", function()
      local entry = { nodeScheduling = { system = { tolerationPaths = { "tolerations" } } } }
      local v = overrides.apply_scheduling({}, overrides.parse_scheduling({}), entry)
      assert.are.same({}, v)
    end)
  end)
end)
