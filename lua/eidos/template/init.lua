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
-- text made ahead of time (precompiled at build time) loads the same way,
-- and the compiler (lex, parse, gen) is then never required.
--
-- Safety: template text is parsed into a tree and Lua source is generated
-- from the tree only (literals through %q, names chosen by the compiler), so
-- template text never becomes code. The generated chunk runs with an empty
-- environment, inside a coroutine with an instruction budget; strings are
-- capped in size. Every error names the template file and line.
-- Compiled templates are cached by name and text.
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

local cache = setmetatable({}, { __mode = "v" })

-- compile(text, name [, extra_funcs]) -> {main=fn, defines={name=fn}, name=,
-- source=} (cached when there are no extra functions). Raises an "invalid"
-- error naming the file and line on a syntax error.
function M.compile(text, name, extra_funcs)
  name = name or "template"
  local key = name .. "\0" .. text
  local hit = cache[key]
  if hit and not extra_funcs then return hit end
  local c = runtime.load(M.translate(text, name, runtime.with_funcs(extra_funcs)), name)
  if not extra_funcs then cache[key] = c end
  return c
end

------------------------------------------------------------------------
-- render

-- render(text, name, data, opts) -> string. opts.loader(path) -> text for
-- includes (default: the resource tree), opts.funcs extra functions,
-- opts.helpers list of template paths whose defines are preloaded.
function M.render(text, name, data, opts)
  opts = opts or {}
  return runtime.render(M.compile(text, name, opts.funcs), data, opts, M.compile)
end

-- render_file(path, data, opts) -> string, origin. The file is read through
-- opts.loader or the resource tree (so a file on the override path wins).
function M.render_file(path, data, opts)
  opts = opts or {}
  local loader = opts.loader or runtime.default_loader
  local text, origin = loader(path)
  if not text then
    require("eidos.errors").raise("notfound", string.format("template %q not found (%s)", path, tostring(origin)))
  end
  return M.render(text, path, data, opts), origin
end

return M
