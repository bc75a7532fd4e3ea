-- eidos.template: the Helm-like template engine of the bundle templates and
-- component manifests: syntax, whitespace trimming, control structures,
-- functions, includes, error positions, and the sandbox (template text is
-- never code, an instruction budget stops runaway loops).
local template = require("eidos.template")

local function R(text, data, opts) return template.render(text, "t.tpl", data or {}, opts) end

local function err_of(text, data, opts)
  local ok, e = pcall(template.render, text, "t.tpl", data or {}, opts)
  assert.is_false(ok, "expected an error")
  return tostring(type(e) == "table" and e.msg or e), e
end

describe("eidos.template", function()
  local D = {
    Values = {
      ["gpu-operator"] = { enabled = true, driver = { version = "580.105.08" }, list = { "a", "b" } },
      name = "abc", n = 3, f = 1.5, m = { b = 2, a = 1, a10 = 10, a2 = 2 }, empty = {},
    },
    Release = { Namespace = "gpu-operator" },
  }

  describe("expressions", function()
    it("prints fields, variables, literals", function()
      assert.are.equal("abc 3 1.5", R("{{ .Values.name }} {{ .Values.n }} {{ .Values.f }}", D))
      assert.are.equal("x", R('{{ "x" }}'))
      assert.are.equal("a}}b", R('{{ "a}}b" }}'))
      assert.are.equal("raw `x`", R('{{ `raw ` }}`x`'))
      assert.are.equal("true false 42 -7 0.25", R("{{ true }} {{ false }} {{ 42 }} {{ -7 }} {{ 0.25 }}"))
      assert.are.equal("", R("{{ nil }}{{ .Values.missing }}{{ .Values.missing.deeper }}", D))
      assert.are.equal("abc", R("{{ $x := .Values.name }}{{ $x }}", D))
      assert.are.equal("5", R("{{ $x := 1 }}{{ $x = add $x 4 }}{{ $x }}"))
      assert.are.equal("gpu-operator", R("{{ $.Release.Namespace }}", D))
    end)

    it("prints maps and lists like Go", function()
      assert.are.equal("[a b]", R('{{ index .Values "gpu-operator" "list" }}', D))
      assert.are.equal("map[x:1]", R('{{ dict "x" 1 }}'))
    end)

    it("supports index with hyphenated keys and list positions", function()
      assert.are.equal("580.105.08", R('{{ index .Values "gpu-operator" "driver" "version" }}', D))
      assert.are.equal("b", R('{{ index .Values "gpu-operator" "list" 1 }}', D))
      assert.are.equal("580.105.08", R('{{ (index .Values "gpu-operator").driver.version }}', D))
    end)

    it("pipes the previous value as the last argument", function()
      assert.are.equal('"ABC"', R("{{ .Values.name | upper | quote }}", D))
      assert.are.equal("fallback", R('{{ .Values.none | default "fallback" }}', D))
      assert.are.equal("abc", R('{{ .Values.name | default "fallback" }}', D))
      assert.are.equal("zero", R('{{ 0 | default "zero" }}'))
    end)
  end)

  describe("whitespace trimming", function()
    it("trims on both sides with {{- and -}}", function()
      assert.are.equal("a3b", R("a  \n\n{{- 3 -}}\n\n  b"))
      assert.are.equal("a\n3b", R("a\n{{ 3 -}}\n  b"))
      assert.are.equal("ab", R("a\n  {{- /* a comment */ -}}\n  b"))
      assert.are.equal("a  b", R("a {{/* comment */}} b"))
    end)

    it("does not take {{-3}} for a trim marker", function()
      assert.are.equal("x-3", R("x{{-3}}"))
    end)
  end)

  describe("control structures", function()
    it("if / else if / else", function()
      local t = "{{ if eq .v 1 }}one{{ else if eq .v 2 }}two{{ else }}many{{ end }}"
      assert.are.equal("one", R(t, { v = 1 }))
      assert.are.equal("two", R(t, { v = 2 }))
      assert.are.equal("many", R(t, { v = 3 }))
    end)

    it("treats nil, false, 0, empty strings and empty collections as false", function()
      for _, v in ipairs({ false, 0, "", {}, template.islist and setmetatable({}, require("eidos.core.emit").list_mt) }) do
        assert.are.equal("no", R("{{ if .v }}yes{{ else }}no{{ end }}", { v = v }))
      end
      assert.are.equal("no", R("{{ if .v }}yes{{ else }}no{{ end }}", { v = require("eidos.core.emit").null }))
      assert.are.equal("yes", R("{{ if .v }}yes{{ else }}no{{ end }}", { v = "0" }))
    end)

    it("ranges over lists with indexes and maps in natural key order", function()
      assert.are.equal("0=a,1=b,", R('{{ range $i, $v := index .Values "gpu-operator" "list" }}{{ $i }}={{ $v }},{{ end }}', D))
      assert.are.equal("a a2 a10 b ", R("{{ range $k, $v := .Values.m }}{{ $k }} {{ end }}", D))
      assert.are.equal("1 2 10 2 ", R("{{ range .Values.m }}{{ . }} {{ end }}", D))
      assert.are.equal("none", R("{{ range .Values.empty }}x{{ else }}none{{ end }}", D))
      assert.are.equal("012", R("{{ range $i := 3 }}{{ $i }}{{ end }}"))
    end)

    it("with changes the dot and has an else", function()
      assert.are.equal("580.105.08", R('{{ with index .Values "gpu-operator" }}{{ .driver.version }}{{ end }}', D))
      assert.are.equal("none", R("{{ with .Values.nope }}x{{ else }}none{{ end }}", D))
    end)

    it("scopes variables to their block", function()
      local msg = err_of("{{ if true }}{{ $x := 1 }}{{ end }}{{ $x }}")
      assert.matches('t.tpl:1: undefined variable "$x"', msg, 1, true)
    end)
  end)

  describe("functions", function()
    it("toYaml goes through the canonical emitter, with indent and nindent", function()
      assert.are.equal("a: 1\na2: 2\na10: 10\nb: 2", R("{{ toYaml .Values.m }}", D))
      assert.are.equal("x:\n  - 1\n  - 2", R("x:{{ list 1 2 | toYaml | nindent 2 }}"))
      assert.are.equal("  a: 1\n\n  b: 2", R('{{ indent 2 "a: 1\\n\\nb: 2" }}'))
      assert.are.equal('"true"', R('{{ toYaml "true" }}'))
      assert.are.equal("null", R("{{ toYaml nil }}"))
    end)

    it("quote escapes like Go, squote doubles single quotes", function()
      assert.are.equal([["a\"b\\c\n"]], R('{{ quote "a\\"b\\\\c\\n" }}'))
      assert.are.equal("'it''s'", R("{{ squote \"it's\" }}"))
    end)

    it("has the common string, list, map and number helpers", function()
      assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", R('{{ sha256 "abc" }}'))
      assert.are.equal("ABC abc x", R('{{ upper "abc" }} {{ lower "ABC" }} {{ trim "  x \\n" }}'))
      assert.are.equal("a,b", R('{{ join "," (list "a" "b") }}'))
      assert.are.equal("a-3-\"q\" 05", R('{{ printf "%s-%d-%q" "a" 3 "q" }} {{ printf "%02d" 5 }}'))
      assert.are.equal("true false true", R("{{ lt 1 2 }} {{ gt 1 2 }} {{ and 1 (not false) }}"))
      assert.are.equal("3 4 aGk= hi", R('{{ len "abc" }} {{ add 1 3 }} {{ b64enc "hi" }} {{ b64dec "aGk=" }}'))
      assert.are.equal("a a2 a10 b", R('{{ keys .Values.m | join " " }}', D))
      assert.are.equal("b a", R('{{ reverse (list "a" "b") | join " " }}'))
    end)

    it("reports an unknown function at compile time", function()
      local msg = err_of("line one\n{{ nosuchfunc 1 }}")
      assert.matches('t.tpl:2: function "nosuchfunc" not defined', msg, 1, true)
    end)

    it("required and fail raise with the template's position", function()
      assert.matches("t.tpl:3: need x", err_of('\n\n{{ required "need x" .x }}'), 1, true)
    end)
  end)

  describe("define, template and include", function()
    it("calls named templates", function()
      assert.are.equal('["F-3"]', R('{{ define "f" }}F-{{ . }}{{ end }}[{{ include "f" 3 | quote }}]'))
      assert.are.equal("<7>", R('{{ define "g" }}<{{ . }}>{{ end }}{{ template "g" 7 }}'))
    end)

    it("includes files relative to the including file, through the loader", function()
      local files = {
        ["templates/x/main.tpl"] = 'A{{ include "part.tpl" . }}C{{ include "../y/other.tpl" . }}',
        ["templates/x/part.tpl"] = "{{ .v }}",
        ["templates/y/other.tpl"] = "!",
      }
      local loader = function(p) return files[p], p end
      assert.are.equal("ABC!", (template.render_file("templates/x/main.tpl", { v = "B" }, { loader = loader })))
    end)

    it("refuses includes that leave the tree", function()
      for inc, msg in pairs({ ["../../etc/passwd"] = "leaves templates/", ["../../../x"] = "climbs above" }) do
        local files = { ["templates/x/main.tpl"] = '{{ include "' .. inc .. '" . }}' }
        local ok, e = pcall(template.render_file, "templates/x/main.tpl", {}, { loader = function(p) return files[p], p end })
        assert.is_false(ok)
        assert.matches(msg, tostring(e.msg or e), 1, true)
      end
    end)

    it("names the included file and line in errors", function()
      local files = {
        ["templates/x/main.tpl"] = 'one\n{{ include "bad.tpl" . }}',
        ["templates/x/bad.tpl"] = "a\nb\n{{ .v.w }}",
      }
      local ok, e = pcall(template.render_file, "templates/x/main.tpl", { v = "s" },
        { loader = function(p) return files[p], p end })
      assert.is_false(ok)
      assert.matches("templates/x/bad.tpl:3: can't evaluate field w in type string", e.msg, 1, true)
    end)
  end)

  describe("errors", function()
    local cases = {
      { "{{ end }}", "t.tpl:1: unexpected {{end}}" },
      { "a\n{{ if true }}", "unexpected end of template (missing {{end}})" },
      { "{{ .a", "t.tpl:1: unclosed action" },
      { '{{ "abc }}', "unterminated quoted string" },
      { "{{ .a .b }}", "can't give argument to non-function" },
      { "{{ 1 | 2 }}", "non-function" },
      { "\n\n{{ $nope }}", "t.tpl:3: undefined variable" },
      { "{{ /* x }}", "unclosed comment" },
      { "{{ block \"x\" . }}{{ end }}", "{{block}} is not supported" },
    }
    for _, c in ipairs(cases) do
      it("rejects " .. c[1]:gsub("\n", "\\n"), function()
        local msg, e = err_of(c[1])
        assert.matches(c[2], msg, 1, true)
        assert.are.equal("invalid", e.code)
      end)
    end
  end)

  describe("sandbox", function()
    it("never runs template text as Lua", function()
      -- text that would be Lua if it were pasted into code
      local evil = ']] os.exit(3) --[[ " .. os.exit(3) .. "'
      assert.are.equal(evil, R(evil))
      assert.are.equal(evil, R("{{ .s }}", { s = evil }))
      assert.are.equal(evil, R(string.format("{{ %q }}", evil):gsub("\\\n", "\\n")))
      -- Lua globals are not template functions
      assert.matches('function "os" not defined', err_of("{{ os }}"), 1, true)
      assert.matches('function "require" not defined', err_of('{{ require "x" }}'), 1, true)
    end)

    it("stops runaway loops with an instruction budget", function()
      local saved = template.max_steps
      template.max_steps = 100000
      local msg = err_of("{{ range $i := 100000000 }}{{ $i }}{{ end }}")
      template.max_steps = saved
      assert.matches("instruction budget", msg, 1, true)
    end)

    it("caps the size of produced strings", function()
      local saved = template.max_bytes
      template.max_bytes = 1000
      local msg = err_of('{{ repeat 5000 "x" }}')
      template.max_bytes = saved
      assert.matches("too large", msg, 1, true)
    end)

    it("caches compiled templates by name and text", function()
      local a = template.compile("{{ 1 }}", "c.tpl")
      assert.are.equal(a, template.compile("{{ 1 }}", "c.tpl"))
      assert.are_not.equal(a, template.compile("{{ 2 }}", "c.tpl"))
    end)
  end)

  describe("compile = translate (text -> Lua chunk text) then load", function()
    local runtime = require("eidos.template.runtime")
    local files = {
      ["templates/x/main.tpl"] = '{{ define "greet" }}hi {{ . }}{{ end }}{{ include "greet" .v }}, ' ..
        '{{ range $k, $v := .m }}{{ $k }}={{ $v | quote }} {{ end }}{{ include "part.tpl" . | upper }}',
      ["templates/x/part.tpl"] = "{{ .v }}!",
    }
    local function loader(p) return files[p], "mem:" .. tostring(p) end
    local data = { v = "you", m = { b = 2, a10 = 1, a2 = 3 } }
    local want = 'hi you, a2="3" a10="1" b="2" YOU!'

    it("gives the same text every time, the text compile loads", function()
      local text = files["templates/x/main.tpl"]
      local a = template.translate(text, "templates/x/main.tpl")
      assert.are.equal("string", type(a))
      assert.are.equal(a, template.translate(text, "templates/x/main.tpl"))
      assert.are.equal(a, template.compile(text, "templates/x/main.tpl").source)
      -- the text looks functions up when it runs: extra functions change nothing in it
      assert.are.equal(a, template.translate(text, "templates/x/main.tpl",
        runtime.with_funcs({ shout = function() end })))
      assert.are.equal(want, (template.render_file("templates/x/main.tpl", data, { loader = loader })))
    end)

    it("loads the text precompiled to a binary chunk (as a build step would) with the same result", function()
      local name = "templates/x/main.tpl"
      local text = template.translate(files[name], name)
      local bytes = string.dump(assert(load(text, "=" .. name, "t", {})), true)
      assert.are_not.equal(text, bytes)
      local c = template.load(bytes, name, "b")
      assert.are.equal(want, runtime.render(c, data, { loader = loader }, template.compile))
      -- a runtime error still names the file and line; the instruction budget still holds
      local bad = template.load(template.translate("a\n{{ len 3 }}", "y.tpl"), "y.tpl")
      local ok, e = pcall(runtime.render, bad, {}, {}, template.compile)
      assert.is_false(ok)
      assert.are.equal("y.tpl:2: len of int", e.msg)
      local loop = template.load(string.dump(load(template.translate("{{ range $i := 100000000 }}{{ $i }}{{ end }}",
        "z.tpl"), "=z.tpl", "t", {}), true), "z.tpl", "b")
      local saved = template.max_steps
      template.max_steps = 100000
      ok, e = pcall(runtime.render, loop, {}, {}, template.compile)
      template.max_steps = saved
      assert.is_false(ok)
      assert.matches("z.tpl:1: template exceeded its instruction budget", e.msg, 1, true)
    end)

    it("runs the chunk in an empty environment", function()
      local c = template.load("local a, b, c = print, os, string\n" ..
        "return function() return (a or b or c) == nil and 'empty' or 'leak' end, {}", "e.tpl")
      assert.are.equal("empty", c.main())
    end)

    it("reports code that is not a chunk as an internal error", function()
      local ok, e = pcall(template.load, "return (", "bad.tpl")
      assert.is_false(ok)
      assert.are.equal("internal", e.code)
      assert.matches("bad.tpl: template compiler produced invalid code", e.msg, 1, true)
    end)

    it("lists every function templates can call, the ones loaded on first use included", function()
      local names = table.concat(template.functions(), " ")
      for _, f in ipairs({ "toYaml", "include", "printf", "b64enc", "ternary", "keys" }) do
        assert.matches("%f[%w]" .. f .. "%f[%W]", names)
      end
    end)

    it("adds extra functions (the template_helpers hook point) for one render", function()
      local opts = { funcs = { shout = function(s) return string.upper(s) .. "!" end } }
      assert.are.equal("HI! you", R('{{ shout "hi" }} {{ .v }}', { v = "you" }, opts))
      assert.matches('function "shout" not defined', err_of('{{ shout "hi" }}'), 1, true)
      -- an extra function may replace a built-in one for that render only
      assert.are.equal("lower", R('{{ upper "x" }}', {}, { funcs = { upper = function() return "lower" end } }))
      assert.are.equal("X", R('{{ upper "x" }}'))
    end)
  end)

  it("renders the Helm escaping of literal braces back to the braces", function()
    -- the helm deployer escapes "{{" in rendered manifests as {{`{{`}}
    assert.are.equal("{{ $labels.x }}", R("{{`{{`}} $labels.x }}"))
  end)
end)
