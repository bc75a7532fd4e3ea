-- eidos diff OLD NEW: what changed between two snapshots (or two recipes,
-- or any two documents of one kind), each a file, -, URL or cm://. The
-- engine is eidos.diff; this front end loads the inputs, picks the view
-- and maps "they differ" to exit 9 when --fail-on-diff is given.
local errors = require("eidos.errors")
local docio = require("eidos.docio")
local diff = require("eidos.diff")

local function ignore_help()
  return "also leave out findings at PATH in the table/yaml/json views: Type.subtype.key for snapshots, " ..
    "a JSON Pointer otherwise; * matches any run of characters (defaults: " ..
    table.concat(diff.DEFAULT_IGNORE.snapshot, ", ") .. " for snapshots; " ..
    table.concat(diff.DEFAULT_IGNORE.document, ", ") .. " otherwise)"
end

return {
  name = "diff",
  summary = "Show what changed between two snapshots or two recipes",
  usage = "eidos diff OLD NEW [-t table|yaml|json|patch] [-o PATH] [--ignore PATH]... [--fail-on-diff]",
  description = table.concat({
    "Compare two documents of one kind (two Snapshots, two RecipeResults, ...), each a file,",
    "-, an http(s):// URL or cm://NAMESPACE/NAME. Snapshots are compared measurement by",
    "measurement and subtype by subtype, so a changed kernel is one finding named by its",
    "constraint path (OS.sysctl./proc/sys/kernel/osrelease); other documents by JSON Pointer,",
    "list elements matched by their name. -t patch writes an RFC 6902 JSON Patch that turns",
    "OLD into NEW (exact, list order included, except metadata.timestamp; --ignore does not",
    "apply to it). Exit 0 whether or not they differ, unless --fail-on-diff: then 9 when",
    "findings remain after --ignore. See docs/snapshot.md.",
  }, "\n"),
  args = { min = 2, max = 2, text = "OLD and NEW", type = "uri" },
  flags = {
    { name = "output", short = "o", arg = "PATH", type = "uri",
      help = "write to PATH (written atomically) instead of stdout" },
    { name = "format", short = "t", arg = "FORMAT", choices = { "table", "yaml", "json", "patch" }, default = "table",
      help = "output format (patch: an RFC 6902 JSON Patch, as JSON)" },
    { name = "ignore", arg = "PATH", repeatable = true, help = ignore_help() },
    { name = "no-default-ignore", help = "report metadata.timestamp and SystemD *Timestamp* keys too" },
    { name = "fail-on-diff", help = "exit 9 when the documents differ (after --ignore)" },
  },
  examples = {
    "eidos diff last-week.yaml snapshot.yaml",
    "eidos diff cm://eidos/snapshot-gpu-node-1 snapshot.yaml --ignore 'OS.sysctl.*'",
    "eidos diff old.yaml new.yaml -t patch -o old-to-new.json",
    "eidos diff recipe-v1.yaml recipe-v2.yaml -t yaml --fail-on-diff",
  },
  run = function(ctx)
    local o = ctx.opts
    local a, b = ctx.args[1], ctx.args[2]
    if a == "-" and b == "-" then errors.raise("invalid", "OLD and NEW cannot both read stdin (-)") end
    local old, oname = docio.load(a, { what = "OLD document" })
    local new, nname = docio.load(b, { what = "NEW document" })
    local ignore = {}
    if not o["no-default-ignore"] then
      for _, p in ipairs(diff.DEFAULT_IGNORE[diff.is_snapshot(old) and "snapshot" or "document"]) do
        ignore[#ignore + 1] = p
      end
    end
    for _, p in ipairs(o.ignore or {}) do ignore[#ignore + 1] = p end
    local r = diff.run(old, new, { old = oname, new = nname, ignore = ignore })
    if o.format == "patch" then
      docio.write(o.output, require("eidos.doc").encode(diff.patch(old, new), "json"))
    else
      docio.emit(r, { format = o.format, output = o.output,
                      table = function(v) return require("eidos.diff.view").render(v) end })
    end
    if o["fail-on-diff"] and diff.differs(r) then
      errors.raise("checkfailed", string.format("%s and %s differ: %d finding%s", oname, nname,
        r.summary.total, r.summary.total == 1 and "" or "s"))
    end
    return 0
  end,
}
