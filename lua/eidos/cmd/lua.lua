-- eidos lua: the embedded tree and the embedded interpreter. --list shows
-- every module and data file with its origin (embedded, or the path of the
-- file on disk that overrides it); --extract DIR writes the embedded tree
-- out as a starting point for customisation; FILE [ARGS] runs a Lua script
-- like the lua interpreter (with package.path/cpath restored from LUA_PATH
-- and LUA_CPATH, so the specs can run under the shipped binary).
local errors = require("eidos.errors")
local docio = require("eidos.docio")

local function extract(dir)
  local fs = require("eidos.core.fs")
  local res = require("eidos.core.res")
  if fs.exists(dir) == "dir" and #fs.list(dir) > 0 then
    errors.raise("invalid", string.format("extract directory %q is not empty; choose a new or empty directory", dir))
  end
  local n = 0
  for _, f in ipairs(res.list("")) do
    local data = errors.check(res.read(f.path))
    local path = errors.check(fs.join(dir, f.path))
    errors.check(fs.mkdir_p(path:match("^(.*)/[^/]*$")))
    errors.check(fs.write_atomic(path, data))
    n = n + 1
  end
  require("eidos.progress").wrote("the embedded tree", dir, require("eidos.text").count(n, "file"))
end

return {
  name = "lua",
  summary = "List, extract or run the embedded Lua and data files",
  usage = "eidos lua --list | --extract DIR | FILE [ARGS...]",
  description = "Inspect and customise the policy shipped inside the binary. Files found on\n" ..
    "disk (--lua-path, $EIDOS_HOME, <exe>/../share/eidos, <exe dir>) replace the\n" ..
    "embedded copy of the same relative path.",
  flags = {
    { name = "list", help = "print every module and data file with its origin" },
    { name = "extract", arg = "DIR", type = "dir", help = "write the embedded tree into DIR (new or empty)" },
    { name = "format", short = "t", arg = "FORMAT", choices = { "table", "yaml", "json" }, default = "table",
      help = "format of --list" },
  },
  args = { min = 0, text = "a script and its arguments", type = "file" },
  passthrough = true, -- flags after FILE belong to the script
  examples = { "eidos lua --list", "eidos lua --extract ./my-eidos && EIDOS_HOME=./my-eidos eidos lua --list",
               "eidos lua script.lua arg1" },
  run = function(ctx)
    local o = ctx.opts
    if o.list then
      local res = require("eidos.core.res")
      local files = res.list("")
      if o.format == "table" then
        local rows = { { "PATH", "ORIGIN" } }
        for _, f in ipairs(files) do rows[#rows + 1] = { f.path, f.origin } end
        docio.write(nil, require("eidos.columns").render(rows, { middle = { true }, min = { 24, math.huge } }))
      else
        local doc = require("eidos.doc")
        local list = doc.list({})
        for _, f in ipairs(files) do list[#list + 1] = doc.ordered({ path = f.path, origin = f.origin }, { "path", "origin" }) end
        docio.emit(list, { format = o.format })
      end
      return 0
    end
    if o.extract then extract(o.extract); return 0 end
    local file = ctx.args[1]
    if not file then
      errors.raise("invalid", "nothing to do: give --list, --extract DIR or a script FILE")
    end
    package.path = os.getenv("LUA_PATH_5_4") or os.getenv("LUA_PATH") or
      "/usr/local/share/lua/5.4/?.lua;/usr/local/share/lua/5.4/?/init.lua;/usr/share/lua/5.4/?.lua;/usr/share/lua/5.4/?/init.lua;./?.lua;./?/init.lua"
    package.cpath = os.getenv("LUA_CPATH_5_4") or os.getenv("LUA_CPATH") or
      "/usr/local/lib/lua/5.4/?.so;/usr/lib/x86_64-linux-gnu/lua/5.4/?.so;/usr/lib/lua/5.4/?.so;./?.so"
    package.path = package.path:gsub(";;", ";" .. "./?.lua;")
    local script_args = { [0] = file }
    for i = 2, #ctx.args do script_args[i - 1] = ctx.args[i] end
    _G.arg = script_args
    local chunk, err = loadfile(file, "t")
    if not chunk then errors.raise("invalid", err) end
    local rv = chunk(table.unpack(script_args))
    return type(rv) == "number" and math.tointeger(rv) or 0
  end,
}
