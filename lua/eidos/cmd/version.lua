-- eidos version: the version, commit and build date of this binary; with
-- --sbom an SPDX 2.3 SBOM of the binary and its third-party packages.
local flags = require("eidos.cli.flags")
local doc = require("eidos.doc")
local docio = require("eidos.docio")

local ORDER = { "version", "commit", "date", "lua" }

return {
  name = "version",
  summary = "Print the version, commit and build date",
  usage = "eidos version [-t yaml|json|table] [-o PATH] | eidos version --sbom [-o PATH]",
  description = "Print the version, git commit and build date injected at build time,\nand the embedded Lua release." ..
    "\nWith --sbom, print an SPDX 2.3 JSON SBOM of the binary: eidos and the third-party\n" ..
    "packages it is built from and loads at run time (vendor/README.md, embedded).",
  flags = (function()
    local f = flags.output({ "yaml", "json", "table" })
    f[#f + 1] = { name = "sbom", help = "print an SPDX 2.3 JSON SBOM of this binary's dependencies" }
    return f
  end)(),
  examples = { "eidos version", "eidos version --format json", "eidos version --sbom -o eidos.spdx.json" },
  run = function(ctx)
    if ctx.opts.sbom then
      docio.write(ctx.opts.output, require("eidos.bundle.sbom").binary())
      return 0
    end
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
