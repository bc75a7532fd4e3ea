-- eidos.template: a small Helm-like template engine for bundle templates
-- (templates/<deployer>/*.tpl) and component manifests. Syntax is a subset
-- of Go text/template: {{ pipeline }}, {{- / -}} whitespace trimming,
-- {{/* comments */}}, $variables (:= and =), if / else if / else / end,
-- range [$k,] [$v :=] / else / end (maps in natural key order), with,
-- define / template / include, pipes, parenthesised pipelines and a set of
-- Helm/sprig functions (see M.functions and docs/bundle.md).
--
-- This module is the public face and the compile cache; the rooms are
--   eidos.template.lex      text -> items (text, actions as tokens)
--   eidos.template.parse    items -> tree
--   eidos.template.gen      tree -> Lua chunk text (pure: no load, no state)
--   eidos.template.runtime  chunk text -> compiled template; value semantics,
--                           built-in functions, render state and budgets
--   eidos.template.funcs    the less common functions (loaded on first use)
-- The seam between compiling and loading is translate() -> text -> load():
-- the build runs translate on every embedded template (templates/, the
-- library's manifests; cmake/chunkgen.lua) and embeds the dumped chunk;
-- res.read_code(path, "template") hands it out with the text, and compile()
-- loads it instead of translating, so the compiler (lex, parse, gen) is
-- never required for an embedded template.
--
-- Safety: template text is parsed into a tree and Lua source is generated
-- from the tree only (literals through %q, names chosen by the compiler), so
-- template text never becomes code. The generated chunk runs with an empty
-- environment, inside a coroutine with an instruction budget; strings are
-- capped in size. Every error names the template file and line.
-- Compiled templates are cached by name and text, strongly (a server keeps
-- them across requests and garbage collections), up to M.cache_max of them.
local runtime = require("eidos.template.runtime")

local M = {}

-- limits, read at each use (callers and specs may change them)
M.max_steps = 50000000   -- VM instructions per top-level render
M.max_bytes = 64 * 1024 * 1024
M.max_depth = 64         -- include / template nesting
runtime.limits = M

M.islist = runtime.islist
M.sorted_keys = runtime.sorted_keys
M.tostring = runtime.tostring
M.rt = runtime.rt            -- helpers shared with eidos.template.funcs
M.functions = runtime.functions

------------------------------------------------------------------------
-- compile

-- translate(text, name [, funcs]) -> Lua chunk text (see eidos.template.gen).
-- funcs: the functions the template may call (default: the built-in ones);
-- the text does not depend on them, it looks functions up when it runs.
-- Raises an "invalid" error naming the file and line on a syntax error.
function M.translate(text, name, funcs)
  local lex = require("eidos.template.lex")
  local parse = require("eidos.template.parse")
  local gen = require("eidos.template.gen")
  return gen.chunk(parse.parse(lex.split(text, name), name, funcs or runtime.builtins), name)
end

-- load(code, name [, mode]) -> compiled template (see eidos.template.runtime)
M.load = runtime.load

M.cache_max = 512
local cache, cached = {}, 0

-- compile(text, name [, extra_funcs [, code]]) -> {main=fn, defines={name=fn},
-- name=, source=} (cached when there are no extra functions). code: the
-- build's precompiled chunk of exactly this text under this name (the third
-- value of res.read_code(path, "template")), loaded instead of translating
-- the text; it serves extra functions too (the translation does not depend
-- on them, it only refuses calls to functions that do not exist). Raises an
-- "invalid" error naming the file and line on a syntax error.
function M.compile(text, name, extra_funcs, code)
  name = name or "template"
  local key = name .. "\0" .. text
  local hit = cache[key]
  if hit and not extra_funcs then return hit end
  local c
  if code then c = runtime.load(code, name, "b")
  else c = runtime.load(M.translate(text, name, runtime.with_funcs(extra_funcs)), name) end
  if not extra_funcs then
    if cached >= M.cache_max then cache, cached = {}, 0 end
    cache[key] = c
    cached = cached + 1
  end
  return c
end

-- forget() drops every compiled template (specs, a server reloading)
function M.forget()
  cache, cached = {}, 0
end

------------------------------------------------------------------------
-- render

-- render(text, name, data, opts [, code]) -> string. opts.loader(path) ->
-- text, origin[, code] for includes (default: the resource tree, with the
-- build's chunks), opts.funcs extra functions, opts.helpers list of template
-- paths whose defines are preloaded; code as compile's.
function M.render(text, name, data, opts, code)
  opts = opts or {}
  return runtime.render(M.compile(text, name, opts.funcs, code), data, opts, M.compile)
end

-- render_file(path, data, opts) -> string, origin. The file is read through
-- opts.loader or the resource tree (so a file on the override path wins).
function M.render_file(path, data, opts)
  opts = opts or {}
  local loader = opts.loader or runtime.default_loader
  local text, origin, code = loader(path)
  if not text then
    require("eidos.errors").raise("notfound", string.format("template %q not found (%s)", path, tostring(origin)))
  end
  return M.render(text, path, data, opts, code), origin
end

return M
