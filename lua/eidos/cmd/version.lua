-- eidos version: the version, commit and build date of this binary.
local flags = require("eidos.cli.flags")
local doc = require("eidos.doc")
local docio = require("eidos.docio")

local ORDER = { "version", "commit", "date", "lua" }

return {
  name = "version",
  summary = "Print the version, commit and build date",
  usage = "eidos version [-t yaml|json|table] [-o PATH]",
  description = "Print the version, git commit and build date injected at build time,\nand the embedded Lua release.",
  flags = flags.output({ "yaml", "json", "table" }),
  examples = { "eidos version", "eidos version --format json" },
  run = function(ctx)
    local b = require("eidos.core.build")
    local d = doc.ordered({ version = b.version, commit = b.commit, date = b.date, lua = b.lua }, ORDER)
    docio.emit(d, {
      format = ctx.opts.format, output = ctx.opts.output,
      table = function(v)
        return string.format("eidos %s (commit %s, built %s, %s)\n", v.version, v.commit, v.date, v.lua)
      end,
    })
    return 0
  end,
}
