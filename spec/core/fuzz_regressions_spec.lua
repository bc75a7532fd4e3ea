-- Regressions found by the libFuzzer targets of fuzz/ (docs/fuzzing.md).
-- Each case keeps the input that failed (reduced by hand where noted) and
-- says which target found it and what was fixed. Run under the sanitizer
-- build (ctest in an EIDOS_SANITIZE build dir) the leak cases are also
-- checked by LeakSanitizer at exit.
local yaml = require("eidos.core.yaml")
local emit = require("eidos.core.emit")
local cjson = require("cjson")

describe("fuzz regressions", function()
  -- target yaml: LeakSanitizer reported libyaml events (scalar values,
  -- anchors, tags) lost when the node limit was hit. node() in
  -- src/bind/lyaml.c raised before freeing the event it had been handed.
  -- Fixed: the event is freed first. The limit is now on the expanded size
  -- in bytes (each node 16 bytes plus its text): a limit of 50 bytes stops
  -- at the fourth node of each case.
  describe("yaml: the expansion limit does not leak the event it stops at", function()
    local cases = {
      ["a plain scalar"] = "[1, 2, 3, 4]",
      ["an anchored, tagged scalar"] = "[1, 2, 3, &x !!str four]",
      ["an alias"] = "[&a 1, 2, 3, *a]",
      ["a mapping value"] = "{a: 1, b: 2, c: three}",
      ["a sequence"] = "[1, 2, 3, [4]]",
    }
    for what, text in pairs(cases) do
      it(what, function()
        local v, msg, code = yaml.load(text, { max_expanded = 50 })
        assert.is_nil(v)
        assert.are.equal("invalid", code)
        assert.truthy(msg:find("more than 50 bytes", 1, true), msg)
      end)
    end
    it("keeps working after many refusals", function()
      for _ = 1, 200 do assert.is_nil((yaml.load("[a, b, c, d, e]", { max_expanded = 40 }))) end
      assert.are.same({ "a" }, yaml.load("[a]", { max_expanded = 40 }))
    end)
  end)

  -- target json: cjson.decode lets bytes that are not UTF-8 through (here a
  -- ConfigMap whose name holds 0xBD); writing such a value as YAML failed
  -- with "out of memory" and the code "internal" (exit 8). Fixed in
  -- src/core/emit.c: an "invalid" error that says the string is not UTF-8.
  it("json: a string that is not UTF-8 is refused as invalid, not as out of memory", function()
    local input = '{"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "e\189dos-snapshot", '
      .. '"namespace": "default"}}'
    local v = cjson.decode(input)
    local text, msg, code = emit.yaml(v)
    assert.is_nil(text)
    assert.are.equal("invalid", code)
    assert.truthy(msg:find("not valid UTF-8 (byte 0xbd at offset 1 of 14)", 1, true), msg)
    for _, bad in ipairs({ "\xff", "a\xc3", "\xe2\x82", "\xc0\xaf", "\xed\xa0", "ok\xf8\x88\x80\x80\x80" }) do
      local t, m, c = emit.yaml({ k = bad })
      assert.is_nil(t, bad)
      assert.are.equal("invalid", c)
      assert.truthy(m:find("not valid UTF-8", 1, true), m)
    end
    -- a key too
    local t, _, c = emit.yaml({ ["k\xfe"] = 1 })
    assert.is_nil(t)
    assert.are.equal("invalid", c)
  end)

  -- targets json and yaml (round trip): JSON written by eidos with U+0085,
  -- U+2028 or U+2029 in a string read back through eidos's own loader
  -- (libyaml: JSON is YAML) with the character folded to a space, and with
  -- a C1 control (U+0080..U+009F) or U+FFFE/U+FFFF it did not read back at
  -- all ("control characters are not allowed"). Fixed in src/core/emit.c:
  -- the JSON writer escapes them as \uXXXX.
  describe("json: characters YAML readers treat specially are escaped", function()
    local inputs = {
      -- the fuzzer's inputs, as they came
      ['{"apiata": {"name": "eidosion: eidos.n\\Nmeasurements: []\\n"}}'] = "\\u0085",
      ['{"a\\u0081b": 9237322036e31$2}'] = "\\u0081",
      -- the rest of the family
      ['{"s": "line\\Lsep"}'] = "\\u2028",
      ['{"s": "para\\Psep"}'] = "\\u2029",
      ['{"s": "\\x9f"}'] = "\\u009f",
      ['{"s": "\\uFFFE\\uFFFF"}'] = "\\ufffe\\uffff",
    }
    for input, escaped in pairs(inputs) do
      it(escaped, function()
        local v = assert(yaml.load(input))
        local j = assert(emit.json(v))
        assert.truthy(j:find(escaped, 1, true), j)
        assert.are.same(v, yaml.load(j))
        assert.are.same(v, cjson.decode(j))
      end)
    end
    it("leaves other text alone", function()
      assert.are.equal('"\xc2\xa0\xe2\x80\xa7\xe2\x80\xaa\xef\xbf\xbd\xc3\xa9"\n', emit.json("\xc2\xa0\xe2\x80\xa7\xe2\x80\xaa\xef\xbf\xbd\xc3\xa9"))
      -- a lone lead byte at the end is copied as it is (JSON does not check UTF-8)
      assert.are.equal('"a\xc2"\n', emit.json("a\xc2"))
      assert.are.equal('"a\xe2\x80"\n', emit.json("a\xe2\x80"))
    end)
  end)

  -- target api, FIXED: POST /v1/bundle with a RecipeResult whose
  -- componentRefs[].valuesFile is null or a map answered 500 "internal
  -- server error" (and `eidos bundle` exits 8): eidos.recipe.hydrate.layers
  -- (lua/eidos/recipe/hydrate.lua:44) formats the value with %q, which
  -- raises "bad argument #2 to 'format' (value has no literal form)". The
  -- fuzzer's input had `"valuesFile", "components/..."` (a YAML flow-map
  -- entry without a value: null). Expected: 400 naming the field. Not fixed
  -- here (the recipe engine is outside the fuzzing work).
  it("api: a componentRef whose valuesFile is not a string is a 400", function()
    local config = require("eidos.api.config")
    local app = require("eidos.api").new(config.normalize({}))
    -- null is the same as an absent valuesFile; a map is refused
    for _, case in ipairs({ { "null", 200 }, { "{}", 400 } }) do
      local vf, want = case[1], case[2]
      local body = '{"kind": "RecipeResult", "apiVersion": "eidos.nvidia.com/v1alpha1", '
        .. '"criteria": {"service": "eks", "accelerator": "h100"}, "componentRefs": [{"name": "cert-manager", '
        .. '"namespace": "cert-manager", "chart": "cert-manager", "type": "Helm", '
        .. '"source": "https://charts.jetstack.io", "version": "v1.17.2", "valuesFile": ' .. vf .. '}]}'
      local status = app.handle({ method = "POST", path = "/v1/bundle", query = "deployer=helm",
        headers = { ["content-type"] = "application/json" }, body = body, id = "fuzz" })
      assert.are.equal(want, status)
    end
  end)

  -- target api, FIXED: an Accept header with an element that is blank or
  -- has no media type answers 500 on every endpoint that negotiates JSON
  -- or YAML: eidos.api.http.format (lua/eidos/api/http.lua:128) calls
  -- :lower() on the nil that part:match("^%s*([^;%s]+)") returns. The
  -- fuzzer's request: `GET /v1/recipe?service= HTTP/1.1` with the headers
  -- `accept: ica` and `accept: ` (joined by the server as "ica, ").
  -- Expected: such elements are skipped. Not fixed here (eidos.api is
  -- outside the fuzzing work).
  it("api: Accept elements without a media type are skipped", function()
    local http = require("eidos.api.http")
    assert.are.equal("json", http.format("ica, "))
    assert.are.equal("json", http.format("application/json, "))
    assert.are.equal("json", http.format(";q=1"))
    assert.are.equal("yaml", http.format(" , application/yaml"))
  end)

  -- targets yaml and json (round trip), FIXED: a map key holding a NUL
  -- byte (YAML "\0", JSON "\u0000") is written cut at the NUL by both
  -- emitters -- src/bind/lemit.c reads keys with lua_tostring/strlen and
  -- looks the value up again by the cut key -- so {"a\0b": 1, "a": 2}
  -- comes out as two "a" keys. Not fixed here (lemit.c is outside the
  -- fuzzing work); the fuzz adapters skip such documents until it is.
  it("yaml/json: a key with a NUL byte is written whole (src/bind/lemit.c)", function()
    local v = yaml.load('{"a\\0b": 1, "a": 2}')
    local back = yaml.load(emit.json(v))
    assert.are.same(v, back)
  end)

  -- target sandbox: an error raised by one of Lua's functions that the
  -- sandbox wraps (os.date, string.pack, ...: called from C) named neither
  -- the hook file nor the function: "bad argument #1 to '?' (invalid
  -- conversion specifier '%\255')". Input 'dif%w+)\0%2%\255=%\2551'
  -- through the generator. Fixed in src/host/sandbox_lib.c (the wrapper
  -- says where and which) and src/host/sandbox.c (a message that does not
  -- name the file gets its name).
  it("sandbox: errors of wrapped library functions name the hook, the line and the function", function()
    local sandbox = require("eidos.core.sandbox")
    local b = assert(sandbox.new("return {\n f = function() return os.date('%\\255') end,\n g = function() error('x', 0) end }",
      "fuzzed.lua", { time_ms = 100, memory = 1 << 22 }))
    local ok, msg = b:call("f")
    assert.is_false(ok)
    assert.truthy(msg:find("^fuzzed%.lua:2: bad argument #1 to 'os%.date' %(invalid conversion specifier"), msg)
    ok, msg = b:call("g")
    assert.are.same({ false, "fuzzed.lua: x" }, { ok, msg })
  end)
end)
