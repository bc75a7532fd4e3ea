-- eidos catalog: recipe catalogs (a recipe data directory, as for --data)
-- distributed through OCI registries. 'eidos catalog push DIR oci://...'
-- publishes one; '--data oci://...' on recipe, query and bundle uses it.
local errors = require("eidos.errors")

return {
  name = "catalog",
  summary = "Publish a recipe catalog (a --data directory) to an OCI registry",
  usage = "eidos catalog push DIR oci://REGISTRY/REPO:TAG",
  description = table.concat({
    "A recipe catalog is a recipe data directory (the layout of recipes/: overlays,",
    "components/, registry.yaml) that platform teams layer over the built-in library",
    "with --data. 'eidos catalog push' packs it as an OCI artifact",
    "(application/vnd.eidos.catalog.v1, one tar.gz layer) and pushes it; any command",
    "that takes --data DIR also takes --data oci://REGISTRY/REPO:TAG and reads the",
    "catalog from the registry (in memory, digests checked). See docs/bundle.md.",
  }, "\n"),
  subcommands = { push = "eidos.cmd.catalog.push" },
  args = { min = 0, max = 1, text = "a subcommand (push)" },
  examples = { "eidos catalog push ./my-recipes oci://registry.example.com/platform/recipes:2025.06",
               "eidos recipe --data oci://registry.example.com/platform/recipes:2025.06 --service eks" },
  run = function(ctx)
    errors.raise("invalid", string.format("'eidos catalog' needs a subcommand%s (accepted: push)",
      ctx.args[1] and (", got " .. string.format("%q", ctx.args[1])) or ""))
  end,
}
