-- eidos.bundle.options: the bundle options `eidos bundle` and POST
-- /v1/bundle share, in one place: their flag specs (the API's query
-- parameters are the specs marked api), the deployer list (read from the
-- deployer modules present, lua/eidos/bundle/deployer/*.lua, so a dropped-in
-- deployer is offered, checked and documented like the built-in ones), the
-- Git repository options (repo, revision, path, the placeholder written when
-- no repo is given), and the order of --set-style operations (command-line
-- or query-string order across --values, --set-json and --set).
local errors = require("eidos.errors")
local strx = require("eidos.text")

local M = {}

M.DEFAULT_DEPLOYER = "helm"
M.PLACEHOLDER = "EIDOS-GIT-REPOSITORY-URL-NOT-SET"

-- deployers() -> the deployer names: the default first, then the others
-- in name order
function M.deployers()
  local names = {}
  for _, f in ipairs(require("eidos.core.res").list("lua/eidos/bundle/deployer/")) do
    local n = f.path:match("^lua/eidos/bundle/deployer/([%w%-_]+)%.lua$")
    if n and n ~= M.DEFAULT_DEPLOYER then names[#names + 1] = n end
  end
  table.sort(names)
  table.insert(names, 1, M.DEFAULT_DEPLOYER)
  return names
end

-- deployer(name, show) -> name, or an "invalid" error naming the nearest
function M.deployer(name, show)
  local list = M.deployers()
  for _, d in ipairs(list) do if d == name then return name end end
  local h = require("eidos.nearest").hint(name, list)
  errors.raise("invalid", string.format("unknown %s %q (accepted: %s)%s", show or "deployer", tostring(name),
    table.concat(list, ", "), h ~= "" and ("; " .. h) or ""))
end

-- the options shared with the API (api = true: a query parameter of POST
-- /v1/bundle, repeatable ones as repeated parameters)
M.flags = {
  { name = "deployer", short = "d", arg = "NAME", type = "enum", values = M.deployers, default = M.DEFAULT_DEPLOYER,
    api = true, help = "bundle format" },
  { name = "set", arg = "C:PATH=VALUE", repeatable = true, api = true, help = "override one value of component C" },
  { name = "set-json", arg = "C:PATH=JSON", repeatable = true, api = true,
    help = "override one value with a JSON value" },
  { name = "system-node-selector", arg = "KEY=VALUE", repeatable = true, api = true,
    help = "node selector of system components" },
  { name = "system-node-toleration", arg = "KEY[=VALUE]:EFFECT", repeatable = true, api = true,
    help = "toleration of system components" },
  { name = "accelerated-node-selector", arg = "KEY=VALUE", repeatable = true, api = true,
    help = "node selector of GPU node components" },
  { name = "accelerated-node-toleration", arg = "KEY[=VALUE]:EFFECT", repeatable = true, api = true,
    help = "toleration of GPU node components" },
  { name = "workload-selector", arg = "KEY=VALUE", repeatable = true, api = true,
    help = "label of workload pods node tuning must not interrupt (Skyhook)" },
  { name = "workload-gate", arg = "KEY[=VALUE]:EFFECT", api = true,
    help = "taint held on nodes until their tuning is done (Skyhook)" },
  { name = "nodes", arg = "N", type = "int", api = true,
    help = "expected number of GPU nodes, for components that size by it (0: unset)" },
  { name = "repo", arg = "URL", type = "uri", api = true,
    help = "Git repository the bundle is pushed to (argocd, flux)" },
  { name = "revision", arg = "REV", api = true, help = "Git revision to track (default HEAD for argocd, main for flux)" },
  { name = "path", arg = "DIR", api = true, help = "directory of the bundle inside the Git repository (default .)" },
}

-- params() -> the API's query parameters: name -> true (once) or "list"
function M.params()
  local out = {}
  for _, s in ipairs(M.flags) do
    if s.api then out[s.name] = s.repeatable and "list" or true end
  end
  return out
end

-- clean_path(p, show, bad) -> p without "." segments and trailing "/";
-- its problem (one per path) goes to bad (errors.problems)
local function clean_path(p, show, bad)
  p = strx.rstrip(p or ".", "/")
  if p == "" or p == "." then return "" end
  if p:sub(1, 1) == "/" then
    bad:add("path", string.format("%s %q must be relative to the repository root", show, p))
    return p
  end
  local out = {}
  for seg in p:gmatch("[^/]+") do
    if seg == ".." then
      bad:add("path", string.format("%s %q must not contain '..'", show, p))
      return p
    end
    if seg ~= "." then out[#out + 1] = seg end
  end
  for _, seg in ipairs(out) do
    if not seg:match("^[%w._-]+$") then
      bad:add("path", string.format("%s %q: use letters, digits, '.', '_', '-' and '/'", show, p))
      return p
    end
  end
  return table.concat(out, "/")
end

-- repo(o, deployer, show) -> {Set, URL, Placeholder, Revision, Path} from
-- o.repo, o.revision, o.path; show(name) writes an option's name as the
-- user wrote it ("--repo" on the command line, "repo" in a query). Every
-- bad one of the three is reported at once (errors.problems, by option name)
function M.repo(o, deployer, show)
  show = show or function(n) return "--" .. n end
  local bad = errors.problems()
  local url = o.repo
  if url ~= nil then
    if not (url:match("^https://[%w.-]+[:/%w]") or url:match("^http://[%w.-]+[:/%w]") or
            url:match("^ssh://[%w@.-]+") or url:match("^git@[%w.-]+:") or url:match("^file://")) then
      bad:add("repo", string.format("invalid %s %q (accepted: an https://, ssh://, git@host: or " ..
        "file:// Git URL)", show("repo"), url))
    elseif url:find("[%s\"'`$\\]") then
      bad:add("repo", string.format("invalid %s %q: it contains spaces, quotes or '$'", show("repo"), url))
    end
  end
  local rev = o.revision
  if rev ~= nil and (rev == "" or rev:find("[%s\"'`$\\]")) then
    bad:add("revision", string.format("invalid %s %q (accepted: a branch, tag or commit)", show("revision"), rev))
  end
  if rev == nil then rev = deployer == "flux" and "main" or "HEAD" end
  local path = clean_path(o.path, show("path"), bad)
  bad:raise("invalid")
  return {
    Set = url ~= nil,
    URL = url or M.PLACEHOLDER,
    Placeholder = M.PLACEHOLDER,
    Revision = rev,
    Path = path,
  }
end

-- ops(seq) -> the value operations of a sequence of {name=, value=} in the
-- order given (flag names set, set-json, values; others are skipped;
-- eidos.bundle.overrides is loaded only when there are some).
-- Every bad operation is reported at once, in the order given
function M.ops(seq)
  local ops = {}
  local bad = errors.problems()
  for i, e in ipairs(seq or {}) do
    local ok, err = pcall(function()
      if e.name == "set" or e.name == "set-json" then
        ops[#ops + 1] = require("eidos.bundle.overrides").parse_set(e.value, e.name)
      elseif e.name == "values" then
        for _, op in ipairs(require("eidos.bundle.overrides").parse_values_file(e.value)) do ops[#ops + 1] = op end
      end
    end)
    if not ok then
      if not (errors.is(err) and err.code == "invalid") then error(err, 0) end
      local sub = type(err.detail) == "table" and err.detail.problems
      if sub then -- a --values file's own problems, one by one
        for _, q in ipairs(sub) do bad:add(i .. "." .. q.path, q.message, q.detail) end
      else
        bad:add(tostring(i), err.msg, err.detail)
      end
    end
  end
  bad:raise("invalid")
  return ops
end

-- the scheduling flags (eidos.bundle.overrides.parse_scheduling)
local SCHEDULING = { "system-node-selector", "system-node-toleration", "accelerated-node-selector",
                     "accelerated-node-toleration", "workload-selector", "workload-gate", "nodes" }

-- scheduling(o) -> the scheduling of the node and workload flags, or nil
-- when none is given
function M.scheduling(o)
  for _, name in ipairs(SCHEDULING) do
    if o[name] ~= nil then return require("eidos.bundle.overrides").parse_scheduling(o) end
  end
  return nil
end

return M
