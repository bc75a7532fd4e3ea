-- eidos.bundle.render: renders one bundle template (templates/<deployer>/
-- <name>.tpl, found through the resource tree so a file of the same path on
-- the override path replaces it) and appends the result to a file list.
-- templates/<deployer>/_helpers.tpl, when present, supplies named
-- templates ({{ define }}) to every template of that deployer; functions
-- from --hooks files (template_helpers) are added to the built-in ones.
local template = require("eidos.template")
local res = require("eidos.core.res")
local hooks = require("eidos.hooks")

local M = {}

local helpers_cache = {}

local function helpers(tpl)
  local dir = tpl:match("^([^/]+)/")
  if not dir then return {} end
  local h = helpers_cache[dir]
  if h == nil then
    local p = "templates/" .. dir .. "/_helpers.tpl"
    h = res.read(p) and { p } or {}
    helpers_cache[dir] = h
  end
  return h
end

-- template functions from --hooks files (template_helpers), or nil
function M.hook_funcs()
  local f = hooks.template_helpers()
  return next(f) and f or nil
end

-- text(tpl, data) -> rendered text; tpl is relative to templates/
function M.text(tpl, data)
  return (template.render_file("templates/" .. tpl, data, { helpers = helpers(tpl), funcs = M.hook_funcs() }))
end

-- add(files, tpl, path, data [, mode]): render and append {path, data, mode}
function M.add(files, tpl, path, data, mode)
  local text = M.text(tpl, data)
  if text:sub(-1) ~= "\n" then text = text .. "\n" end
  files[#files + 1] = { path = path, data = text, mode = mode }
  return text
end

return M
