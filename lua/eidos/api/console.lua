-- eidos.api.console: the console's page and assets as eidosd serves them
-- (src/server/console.c answers them on its I/O threads, without Lua).
-- prepare(embedded) runs once at start, in the main thread. Each file of
-- ui/ -- the copy under an override root (--lua-path, EIDOS_HOME, ...)
-- when there is one, else the copy compiled into eidosd (embedded: path ->
-- contents) -- becomes an asset with its content type, an ETag and the
-- security headers (a strict Content-Security-Policy: nothing inline,
-- nothing from another origin). Every file but the page also gets a
-- fingerprinted name, NAME.<first 10 hex digits of its SHA-256>.EXT,
-- served `immutable`; references between the files ("/ui/NAME" in the
-- page, "./NAME" in modules and style sheets) are rewritten to those
-- names, dependencies first, so a name covers everything it loads. The
-- page links every module it imports statically (transitively) as
-- modulepreload (at its "<!-- modulepreload -->" marker), so a browser
-- fetches them at once; modules imported with import() load when asked.
-- Plain names stay served too (revalidated by ETag).
local errors = require("eidos.errors")

local M = {}

M.PAGE = "index.html"
M.PREFIX = "/ui/"
M.CSP = table.concat({
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
  "require-trusted-types-for 'script'", "trusted-types 'none'",
}, "; ")

local TYPES = {
  html = "text/html; charset=utf-8", js = "text/javascript; charset=utf-8", css = "text/css; charset=utf-8",
  svg = "image/svg+xml", png = "image/png", ico = "image/x-icon", json = "application/json",
  txt = "text/plain; charset=utf-8", woff2 = "font/woff2",
}
local TEXT = { html = true, js = true, css = true, svg = true, json = true, txt = true }
local IMMUTABLE = "public, max-age=31536000, immutable"

local function ext_of(name) return name:match("%.([%w]+)$") or "" end

-- the names (relative to ui/) another file of the set refers to, in order
-- of first appearance: "/ui/NAME" and "./NAME" in quotes
local function refs_of(text, files)
  local out, seen = {}, {}
  for _, pat in ipairs({ "([\"'])/ui/([%w%._%-/]+)%1", "([\"'])%./([%w%._%-/]+)%1" }) do
    for _, name in text:gmatch(pat) do
      if files[name] and name ~= M.PAGE and not seen[name] then
        seen[name] = true
        out[#out + 1] = name
      end
    end
  end
  table.sort(out)
  return out
end

-- the modules a module imports statically (`import ... from "./NAME"`,
-- `import "./NAME"`): what the page preloads; a dynamic import("./NAME")
-- loads when the page asks for it
local function static_refs(text, files)
  local out = {}
  for _, pat in ipairs({ "from%s*([\"'])%./([%w%._%-/]+)%1", "import%s*([\"'])%./([%w%._%-/]+)%1" }) do
    for _, name in text:gmatch(pat) do
      if files[name] then out[#out + 1] = name end
    end
  end
  table.sort(out)
  return out
end

local function rewrite(text, fp)
  text = text:gsub("([\"'])/ui/([%w%._%-/]+)%1", function(q, name)
    if fp[name] then return q .. M.PREFIX .. fp[name] .. q end
  end)
  return (text:gsub("([\"'])%./([%w%._%-/]+)%1", function(q, name)
    if fp[name] then return q .. "./" .. fp[name] .. q end
  end))
end

local function etag(body)
  return '"' .. require("eidos.core.sha256").hex(body):sub(1, 32) .. '"'
end

-- read(embedded) -> files (name -> text), names (sorted), overridden (names)
local function read(embedded)
  local res = require("eidos.core.res")
  local files, names, overridden = {}, {}, {}
  for path in pairs(embedded) do
    local name = path:match("^ui/(.+)$")
    if name then names[#names + 1] = name end
  end
  table.sort(names)
  for _, name in ipairs(names) do
    local embedded_text = embedded["ui/" .. name]
    local text, origin = res.read("ui/" .. name)
    if text and text ~= embedded_text then
      overridden[#overridden + 1] = "ui/" .. name .. " from " .. tostring(origin)
    end
    files[name] = text or embedded_text
  end
  return files, names, overridden
end

-- prepare(embedded) -> {page = "/ui/index.html", assets = {{path, headers, body, compress}}}
-- (nil when there is no page)
function M.prepare(embedded)
  local files, names, overridden = read(embedded or {})
  if not files[M.PAGE] then return nil end
  local final, fp, state = {}, {}, {}
  local function visit(name, via)
    if state[name] == "done" then return end
    if state[name] == "visiting" then
      errors.raise("invalid", string.format("the console's files refer to each other in a cycle: ui/%s and ui/%s",
        via, name))
    end
    state[name] = "visiting"
    local text = files[name]
    if TEXT[ext_of(name)] then
      for _, dep in ipairs(refs_of(text, files)) do visit(dep, name) end
      text = rewrite(text, fp)
    end
    final[name] = text
    if name ~= M.PAGE then
      local sha = require("eidos.core.sha256").hex(text)
      local base, ext = name:match("^(.-)%.([%w]+)$")
      fp[name] = (base or name) .. "." .. sha:sub(1, 10) .. (ext and ("." .. ext) or "")
    end
    state[name] = "done"
  end
  for _, name in ipairs(names) do if name ~= M.PAGE then visit(name) end end
  -- the page last: its modules (transitively) preloaded
  local page = files[M.PAGE]
  local preload, seen = {}, {}
  local function walk(name)
    if seen[name] or ext_of(name) ~= "js" then return end
    seen[name] = true
    preload[#preload + 1] = string.format('<link rel="modulepreload" href="%s%s">', M.PREFIX, fp[name])
    for _, dep in ipairs(static_refs(files[name], files)) do walk(dep) end
  end
  for _, dep in ipairs(refs_of(page, files)) do walk(dep) end
  page = page:gsub("<!%-%- modulepreload %-%->", function() return table.concat(preload, "\n") end)
  final[M.PAGE] = rewrite(page, fp)

  local assets = {}
  local function add(path, name, cache)
    local ext = ext_of(name)
    local body = final[name]
    local headers = {
      "content-type", TYPES[ext] or "application/octet-stream",
      "etag", etag(body),
      "cache-control", cache,
      "x-content-type-options", "nosniff",
      "referrer-policy", "no-referrer",
      "cross-origin-resource-policy", "same-origin",
    }
    if name == M.PAGE then
      for _, h in ipairs({ "content-security-policy", M.CSP, "cross-origin-opener-policy", "same-origin",
                           "vary", "Accept, Accept-Encoding" }) do headers[#headers + 1] = h end
    elseif TEXT[ext] then
      headers[#headers + 1] = "vary"
      headers[#headers + 1] = "Accept-Encoding"
    end
    assets[#assets + 1] = { path = path, headers = headers, body = body, compress = TEXT[ext] or false }
  end
  for _, name in ipairs(names) do
    if name == M.PAGE then
      add(M.PREFIX .. name, name, "no-cache")
    else
      add(M.PREFIX .. fp[name], name, IMMUTABLE)
      add(M.PREFIX .. name, name, "no-cache")
    end
  end
  if #overridden > 0 then
    require("eidos.log").info("the console's files on disk override the built-in ones",
      { files = table.concat(overridden, ", ") })
  end
  return { page = M.PREFIX .. M.PAGE, assets = assets, names = fp }
end

return M
