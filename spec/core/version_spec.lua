-- eidos.core.version: parsing, precision-aware comparison, validity, and
-- the deliberate differences from the Go tool (see src/core/version.c).
local version = require("eidos.core.version")

describe("eidos.core.version", function()
  describe("parse", function()
    local ok = {
      { "1", 1, 0, 0, 1, "" },
      { "v2", 2, 0, 0, 1, "" },
      { "1.2", 1, 2, 0, 2, "" },
      { "v0.1", 0, 1, 0, 2, "" },
      { "1.2.3", 1, 2, 3, 3, "" },
      { "v1.2.3", 1, 2, 3, 3, "" },
      { "V1.2.3", 1, 2, 3, 3, "" },
      { "v0.0.0", 0, 0, 0, 3, "" },
      { "6.8.0-1028-aws", 6, 8, 0, 3, "-1028-aws" },
      { "v1.33.5-eks-3025e55", 1, 33, 5, 3, "-eks-3025e55" },
      { "v1.28.0-gke.1337000", 1, 28, 0, 3, "-gke.1337000" },
      { "1.30.5-gke.1014001", 1, 30, 5, 3, "-gke.1014001" },
      { "1.29.2-hotfix.20240322", 1, 29, 2, 3, "-hotfix.20240322" },
      { "1.2.3+meta", 1, 2, 3, 3, "+meta" },
      { "1.2.3-rc1", 1, 2, 3, 3, "-rc1" },
      { "570.86.15", 570, 86, 15, 3, "" },
      { "580.105.08", 580, 105, 8, 3, "" },
      { "01.02", 1, 2, 0, 2, "" },
      { "5.15.0-1050-aws", 5, 15, 0, 3, "-1050-aws" },
      { "9007199254740991", 9007199254740991, 0, 0, 1, "" },
    }
    for _, c in ipairs(ok) do
      it("parses " .. c[1], function()
        local v, msg = version.parse(c[1])
        assert.is_nil(msg)
        assert.are.same({ major = c[2], minor = c[3], patch = c[4], precision = c[5],
                          extra = c[6], raw = c[1] }, v)
        assert.is_true(math.type(v.major) == "integer")
      end)
    end

    local bad = {
      { "", "version string is empty" },
      { "v", "component 1 is empty" },
      { "vv1", "is not a number" },
      { "1.2.3.4", "it has 4 components, at most 3" },
      { "1..2", "component 2 is empty" },
      { "1.", "component 2 is empty" },
      { "v1.2.a", 'component 3 ("a") is not a number' },
      { "a.2.3", 'component 1 ("a") is not a number' },
      { "1.b.3", 'component 2 ("b") is not a number' },
      { "1.2a", 'component 2 ("2a") is not a number' },
      { " 1.2", "is not a number" },
      { "1.2 ", "is not a number" },
      { "-1.2.3", 'component 1 ("-1") is negative' },
      { "1.-2.3", 'component 2 ("-2") is negative' },
      { "1.2.-3", 'component 3 ("-3") is negative' },
      { "1.+2", 'component 2 ("+2") is not a number' },
      { "1.2-", "suffix after \"-\" is empty" },
      { "1.2.3+", "suffix after \"+\" is empty" },
      { "1.2.3-x\n", "control character" },
      { "1\0.2", "is not a number" },
      { "9007199254740992", "is larger than 9007199254740991" },
      { "1.99999999999999999999999", "is larger than" },
    }
    for _, c in ipairs(bad) do
      it(string.format("refuses %q", c[1]), function()
        local v, msg, code = version.parse(c[1])
        assert.is_nil(v)
        assert.are.equal("invalid", code)
        assert.is_truthy(msg:find(c[2], 1, true), msg)
        assert.is_truthy(msg:find("expected MAJOR[.MINOR[.PATCH]]", 1, true), msg)
        if c[1] ~= "" and not c[1]:find("[%z\n]") then
          assert.is_truthy(msg:find('"' .. c[1] .. '"', 1, true), "message names the input: " .. msg)
        end
      end)
    end

    it("raises on a non-string argument", function()
      assert.has_error(function() version.parse(12) end)
      assert.has_error(function() version.parse() end)
    end)
  end)

  describe("compare", function()
    local cases = {
      { "1.2.3", "1.2.3", 0 }, { "1.2.3", "1.2.4", -1 }, { "1.3.0", "1.2.9", 1 },
      { "2", "1.9.9", 1 }, { "1", "1.9.9", 0 }, { "1.32", "1.32.4", 0 },
      { "1.32.4", "1.32", 0 }, { "6.8", "6.8.0-1028-aws", 0 },
      { "5.15.0-1050-aws", "6.8", -1 }, { "v1.33.5-eks-3025e55", "1.32", 1 },
      { "1.30.7", "1.30", 0 }, { "1.99", "2.0", -1 }, { "10.0", "9.0", 1 },
      { "1.2.3-rc1", "1.2.3", 0 }, { "1.2.3+b", "1.2.3-a", 0 },
      { "580.105.08", "580.105.8", 0 }, { "v1.2", "V1.2", 0 },
    }
    for _, c in ipairs(cases) do
      it(string.format("%s vs %s -> %d", c[1], c[2], c[3]), function()
        assert.are.equal(c[3], version.compare(c[1], c[2]))
        assert.are.equal(-c[3], version.compare(c[2], c[1]))
      end)
    end

    it("accepts tables from parse and plain tables", function()
      assert.are.equal(1, version.compare(version.parse("1.2.4"), "1.2.3"))
      assert.are.equal(0, version.compare({ major = 1, minor = 2, precision = 2 }, version.parse("1.2.7")))
      assert.are.equal(-1, version.compare({ major = 1, precision = 1 }, { major = 2, precision = 1 }))
    end)

    it("returns nil, msg, invalid naming the bad string", function()
      local r, msg, code = version.compare("1.2", "one.two")
      assert.is_nil(r)
      assert.are.equal("invalid", code)
      assert.is_truthy(msg:find('"one.two"', 1, true))
      r, msg, code = version.compare("", "1")
      assert.is_nil(r)
      assert.is_truthy(msg:find("empty"))
      assert.are.equal("invalid", code)
    end)

    it("raises on misuse", function()
      assert.has_error(function() version.compare(1, "1") end)
      assert.has_error(function() version.compare({ major = 1 }, "1") end)
      assert.has_error(function() version.compare({ major = -1, precision = 1 }, "1") end)
      assert.has_error(function() version.compare({ major = 1, precision = 4 }, "1") end)
    end)
  end)

  describe("valid and format", function()
    it("tells valid strings", function()
      assert.is_true(version.valid("1.2.3"))
      assert.is_true(version.valid("v1.33.5-eks-3025e55"))
      assert.is_false(version.valid("1.2.3.4"))
      assert.is_false(version.valid(""))
      assert.is_false(version.valid(nil))
      assert.is_false(version.valid(123))
    end)

    it("formats by precision without the suffix", function()
      assert.are.equal("1", version.format("v1"))
      assert.are.equal("1.2", version.format("1.2"))
      assert.are.equal("6.8.0", version.format("6.8.0-1028-aws"))
      assert.are.equal("580.105.8", version.format("580.105.08"))
      assert.are.equal("1.5", version.format({ major = 1, minor = 5, patch = 9, precision = 2 }))
      local r, _, code = version.format("x")
      assert.is_nil(r)
      assert.are.equal("invalid", code)
    end)

    it("round-trips format through parse", function()
      for _, s in ipairs({ "0", "1.2", "1.2.3", "570.86.15" }) do
        assert.are.equal(s, version.format(version.parse(s)))
      end
    end)
  end)
end)
