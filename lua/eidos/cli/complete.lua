-- eidos.cli.complete: the completion engine behind every shell's script
-- (eidos completion bash|zsh|fish|powershell). The scripts hand the words
-- of the command line up to the cursor to `eidos __complete WORD...` (the
-- last word is the one being completed, maybe empty) and show what it
-- prints: a first line of directives (any of "files", "dirs", "nospace";
-- "-" for none) and one candidate a line, "value<TAB>description". The
-- candidates come from the flag model (eidos.cli.flags) and the command
-- modules: commands at any position after global flags, subcommands,
-- flags, enum values with their aliases (in a list flag such as --phase
-- a,b, those not already in the list), files where a flag takes a file,
-- directories where it takes one, and cm://NAMESPACE/ and cm://NS/NAME
-- from the cluster when a kubeconfig is reachable (a short timeout).
local flags = require("eidos.cli.flags")

local M = {}

M.CLUSTER_TIMEOUT = 1 -- seconds for the cm:// lookups

local function starts(s, prefix) return s:sub(1, #prefix) == prefix end

local function add(r, value, desc, prefix)
  if starts(value, prefix or "") then r.words[#r.words + 1] = { value, desc or "" } end
end

-- cm:// namespaces (cm://NS/) or ConfigMaps of one (cm://NS/NAME) of the
-- cluster the global flags (or the environment) point to; nothing when it
-- cannot be reached in time
local function configmaps(r, cur, opts)
  local rest = cur:sub(6)
  local ok = pcall(function()
    local client = require("eidos.k8s.client")
    local c = client.connect({ kubeconfig = opts.kubeconfig, context = opts.context, timeout = M.CLUSTER_TIMEOUT,
                               connect_timeout = M.CLUSTER_TIMEOUT, max_attempts = 1 })
    local ns = rest:match("^([^/]*)/")
    if not ns then
      for _, n in ipairs(c:list(client.path("v1", "namespaces")) or {}) do
        add(r, "cm://" .. n.metadata.name .. "/", "namespace", cur)
      end
      r.nospace = true
    else
      for _, m in ipairs(c:list(client.path("v1", "configmaps", ns)) or {}) do
        add(r, "cm://" .. ns .. "/" .. m.metadata.name, "ConfigMap", cur)
      end
    end
  end)
  return ok
end

-- a file, or cm://NAMESPACE/NAME (flags and arguments of type uri)
local function uri(r, cur, prefix, opts)
  if starts(cur, "cm://") then configmaps(r, cur, opts)
  else
    r.files = true
    if cur ~= "" and starts("cm://", cur) then add(r, prefix .. "cm://", "a ConfigMap: cm://NAMESPACE/NAME"); r.nospace = true end
  end
end

-- the values of flag s for the word cur (prefix: what precedes the value
-- in the word, "--format=")
local function values(r, s, cur, prefix, opts)
  local t = flags.type_of(s)
  if t == "enum" then
    local head, chosen = "", {}
    if s.separator then
      local sep = s.separator:gsub("%p", "%%%0")
      head = cur:match("^(.*" .. sep .. ")") or ""
      for w in head:gmatch("([^" .. sep .. "]+)") do chosen[w:lower()] = true end
    end
    -- a list in one word offers only what it does not hold yet (a value
    -- counts as held when it or one of its aliases was typed)
    local aliases = flags.aliases(s)
    for _, a in ipairs(aliases) do
      if chosen[a[1]:lower()] then chosen[a[2]:lower()] = true end
    end
    for _, v in ipairs(flags.values(s)) do
      if not chosen[v:lower()] then add(r, prefix .. head .. v, "", prefix .. cur) end
    end
    for _, a in ipairs(aliases) do
      if not (chosen[a[1]:lower()] or chosen[a[2]:lower()]) then
        add(r, prefix .. head .. a[1], "alias of " .. a[2], prefix .. cur)
      end
    end
  elseif t == "file" then r.files = true
  elseif t == "dir" then r.dirs = true
  elseif t == "uri" then uri(r, cur, prefix, opts)
  end
end

-- positional words of a command: subcommands, or args.type (file, dir,
-- uri, enum with args.choices and their args.aliases)
local function positional(r, cmd, pos, cur, opts)
  if #pos == 0 then
    for _, s in ipairs(flags.subcommands(cmd)) do add(r, s.name, s.summary, cur) end
  end
  local a = cmd.args
  if a and (a.max == nil or #pos < a.max) then
    if a.type == "file" then r.files = true
    elseif a.type == "dir" then r.dirs = true
    elseif a.type == "uri" then uri(r, cur, "", opts)
    elseif a.choices then
      for _, v in ipairs(a.choices) do add(r, v, "", cur) end
      for _, al in ipairs(flags.aliases(a)) do add(r, al[1], "alias of " .. al[2], cur) end
    end
  end
end

-- complete(words) -> {words = {{value, description}...}, files=, dirs=, nospace=}
function M.complete(words)
  local main = require("eidos.main")
  local r = { words = {} }
  local n = #words
  local cur = words[n] or ""
  local specs = flags.global
  local bylong, byshort = flags.index(specs)
  local cmd, cmdname, cmdat, expect, dashdash = nil, nil, nil, nil, false
  local pos, given, opts = {}, {}, {}
  for i = 1, n - 1 do
    local w = words[i]
    if expect then
      opts[expect.name] = w
      expect = nil
    elseif dashdash then pos[#pos + 1] = w
    elseif w == "--" then dashdash = true
    elseif w:sub(1, 1) == "-" and w ~= "-" then
      local s, _, value = flags.lookup(w, bylong, byshort)
      if s then
        given[s.name] = true
        if flags.takes_value(s) and value == nil then expect = s else opts[s.name] = value end
      end
    elseif not cmdname then
      cmdname, cmdat = w, i
      cmd = w ~= "help" and w:match("^[%w%-_]+$") and main.load(w) or nil
      if cmd then
        specs = flags.specs(cmd)
        bylong, byshort = flags.index(specs)
      end
    elseif cmd and i == cmdat + 1 and flags.subcommand(cmd, w) then
      cmd = flags.subcommand(cmd, w)
      specs = flags.specs(cmd)
      bylong, byshort = flags.index(specs)
    else
      pos[#pos + 1] = w
    end
  end
  if expect then
    values(r, expect, cur, "", opts)
    return r
  end
  if not dashdash and starts(cur, "--") and cur:find("=", 1, true) then
    local name, v = cur:match("^%-%-([^=]+)=(.*)$")
    local s = bylong[name]
    if s and flags.takes_value(s) then values(r, s, v, "--" .. name .. "=", opts) end
    return r
  end
  if not dashdash and starts(cur, "-") then
    for _, s in ipairs(specs) do
      if not s.hidden and (s.repeatable or not given[s.name]) then add(r, "--" .. s.name, s.help, cur) end
    end
    if not cmdname then add(r, "--version", "print the version", cur) end
    return r
  end
  if not cmdname or (cmdname == "help" and #pos == 0) then
    for _, name in ipairs(main.commands()) do
      local c = main.load(name)
      if c and not c.hidden then add(r, name, c.summary, cur) end
    end
    if not cmdname then add(r, "help", "help for a command", cur) end
  elseif cmd then
    positional(r, cmd, pos, cur, opts)
  end
  return r
end

-- main(words) -> 0: prints the completion of words (see the top)
function M.main(words)
  local r = M.complete(words)
  local d = {}
  if r.files then d[#d + 1] = "files" end
  if r.dirs then d[#d + 1] = "dirs" end
  if r.nospace then d[#d + 1] = "nospace" end
  local out = { #d > 0 and table.concat(d, " ") or "-" }
  for _, w in ipairs(r.words) do
    local desc = (w[2] or ""):gsub("[\t\n]", " ")
    out[#out + 1] = desc ~= "" and (w[1] .. "\t" .. desc) or w[1]
  end
  require("eidos.docio").write(nil, table.concat(out, "\n") .. "\n")
  return 0
end

return M
