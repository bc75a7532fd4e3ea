-- eidos.api.routes: the routing table of the HTTP API (policy: edit or
-- override this file to move or add endpoints). Each route: path (exact
-- match), methods (method -> "module#function"; GET also answers HEAD),
-- summary (shown by GET /), and either a Lua handler or builtin (health,
-- ready, metrics: answered by the C server without entering Lua, so they
-- stay fast and answer while Lua is busy). limited = false exempts a
-- route from the per-client rate limit (the probes and the scraper).
-- pool = "bundlers" runs a route's handlers on the bundle threads (slow
-- work that recipes must not wait behind); the others run on "handlers".
-- page = true: a GET whose Accept prefers text/html (a browser) gets the
-- console's page from C instead (everyone else, Accept: */* included, the
-- handler's answer); builtin = "console" with prefix = true: every path
-- below it is the console's (its assets, or its page for a browser), see
-- eidos.api.console.
return {
  { path = "/", methods = { GET = "eidos.api.meta#index" }, page = true,
    summary = "this index of endpoints; a browser (Accept preferring text/html) gets the console" },
  { path = "/v1/recipe", methods = { GET = "eidos.api.recipe#get", POST = "eidos.api.recipe#post" },
    summary = "the recipe for criteria given as query parameters (GET) or a RecipeCriteria body (POST)" },
  { path = "/v1/criteria", methods = { GET = "eidos.api.recipe#criteria" },
    summary = "the criteria fields, their values (those this server offers) and aliases" },
  { path = "/v1/query", methods = { GET = "eidos.api.recipe#query", POST = "eidos.api.recipe#query_post" },
    summary = "one value of the hydrated recipe, addressed by a dot-separated selector" },
  { path = "/v1/validate", methods = { POST = "eidos.api.validate#post" },
    summary = "the ValidationResult of a Snapshot body (several: the FleetValidationResult) against a recipe" },
  { path = "/v1/diff", methods = { POST = "eidos.api.diff#post" },
    summary = "the DiffResult of the two documents in the body (two snapshots, two recipes)" },
  { path = "/v1/bundle", methods = { POST = "eidos.api.bundle#post" }, pool = "bundlers",
    summary = "a deployment bundle (zip) for the RecipeResult in the body" },
  { path = "/v1/bundle/options", methods = { GET = "eidos.api.bundle#options" },
    summary = "the deployers and the query parameters of POST /v1/bundle" },
  { path = "/openapi.yaml", methods = { GET = "eidos.api.meta#openapi" },
    summary = "the OpenAPI 3 description of this API" },
  { path = "/ui/", builtin = "console", prefix = true, methods = { GET = true },
    summary = "the console: its assets, and its page for any other path a browser asks for (docs/console.md)" },
  { path = "/health", builtin = "health", methods = { GET = true }, limited = false,
    summary = "liveness: 200 while the process runs" },
  { path = "/ready", builtin = "ready", methods = { GET = true }, limited = false,
    summary = "readiness: 200 when serving, 503 while loading or shutting down" },
  { path = "/metrics", builtin = "metrics", methods = { GET = true }, limited = false,
    summary = "Prometheus metrics" },
}
