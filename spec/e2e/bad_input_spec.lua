-- spec/e2e/bad_input_spec.lua: a table of bad inputs across the commands,
-- each run through the eidos binary in a fresh working directory. A row:
--   name   what the row is about
--   args   the command line; {snap} {recipe} {bundle} {url} {root} are
--          replaced by a valid snapshot, a valid recipe, a valid signed
--          bundle (all made in setup), the test HTTP server and the tree
--   files  what to create first: path -> text ({...} placeholders too),
--          path ending in "/" -> a directory, {size = N} -> a sparse file,
--          {link = TARGET} -> a symlink, {fifo = true} -> a FIFO
--   env, stdin   extra environment; text on stdin
--   code   the expected exit status (docs/cli.md: 2 invalid input, 3 not
--          found, 8 internal, 9 check failed)
--   bad    the offending value: the message must name it
--   msg    a fragment of the message saying what is wrong or accepted
--   absent text that must appear nowhere in the output (secrets, the
--          content of a file that must not be read)
--   cm     "none": no request at all reached the Kubernetes API server
--          (names are checked first); "read": only GETs (nothing created)
--   needs  "http" (the test HTTP server) or "k8s" (the test API server)
-- After every row: the working directory holds exactly what the row
-- created, unchanged (no output, no temporary file), stdout is empty
-- unless the command reports a failed check (exit 9), no message shows a
-- table address or a Lua type where a value belongs, and with cm set the
-- test API server saw no write.
local support = require("support")
local fake = require("k8s_fake")

local ROOT = support.root
local EIDOS = support.eidos:sub(1, 1) == "/" and support.eidos or (ROOT .. "/" .. support.eidos)
local MiB = 1024 * 1024
local q = support.q

local function have(cmd)
  return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") == true
end

-- ---- inputs used by many rows ---------------------------------------------

local EMPTY_REG = "kind: ComponentRegistry\ncomponents: []\n"
local RECIPE_HEAD = "kind: RecipeResult\napiVersion: eidos.nvidia.com/v1alpha1\n"
local function recipe_with(refs) return RECIPE_HEAD .. "componentRefs:\n" .. refs end
local SNAP_HEAD = "kind: Snapshot\napiVersion: eidos.nvidia.com/v1alpha1\n"

-- a "billion laughs": 10 levels of 10 aliases each, 10^10 nodes expanded
local function bomb(head, key)
  local l = { head, "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]" }
  for i = 1, 9 do
    l[#l + 1] = string.format("a%d: &a%d [%s]", i, i, ("*a" .. (i - 1) .. ", "):rep(9) .. "*a" .. (i - 1))
  end
  l[#l + 1] = key .. ": *a9"
  return table.concat(l, "\n") .. "\n"
end

-- one scalar of `size` bytes repeated `times` times by aliases: a small
-- text that expands to size x times bytes
local function repeated(head, size, times)
  local l = { head .. "pad: &p " .. ("x"):rep(size), "more:" }
  for _ = 1, times do l[#l + 1] = "- *p" end
  return table.concat(l, "\n") .. "\n"
end

-- a map nested `depth` levels below key
local function nested(key, depth)
  return key .. ": " .. ("{a: "):rep(depth - 1) .. "1" .. ("}"):rep(depth - 1) .. "\n"
end

local function overlay(name, spec)
  return "kind: RecipeMetadata\napiVersion: eidos.nvidia.com/v1alpha1\nmetadata: {name: " .. name .. "}\nspec:\n" .. spec
end

local PASSWD = "root:x:0:0"   -- /etc/passwd's first line: never printed

-- ---- the table --------------------------------------------------------------

local ROWS = {
  -- commands, flags and values
  { name = "unknown command", args = { "frobnicate" }, code = 2, bad = '"frobnicate"', msg = "unknown command" },
  { name = "unknown flag", args = { "recipe", "--servce", "eks" }, code = 2, bad = '"--servce"', msg = 'did you mean "--service"?' },
  { name = "flag without its value", args = { "recipe", "--service" }, code = 2, bad = "--service", msg = "needs a value" },
  { name = "unknown subcommand word", args = { "recipe", "--service", "eks", "lnt" }, code = 2, bad = '"lnt"', msg = "accepted: list, lint" },
  { name = "recipe with no criteria at all", args = { "recipe", "-o", "r.yaml" }, code = 2, bad = "--service", msg = "no criteria provided" },
  { name = "recipe with only an any criterion", args = { "recipe", "--service", "self-managed" }, code = 2, bad = "--service self-managed", msg = "states nothing" },
  { name = "a stated criterion no overlay honours", args = { "recipe", "--service", "eks", "--accelerator", "h100", "--intent", "training", "--platform", "kubeflow", "-o", "r.yaml" }, code = 2, bad = "platform=kubeflow", msg = "--os ubuntu --platform kubeflow" },
  { name = "recipe list with a bad filter", args = { "recipe", "list", "--os", "windows" }, code = 2, bad = '"windows"', msg = "accepted: ubuntu" },
  { name = "recipe list with --snapshot", args = { "recipe", "list", "--snapshot", "{snap}" }, code = 2, bad = "--snapshot", msg = "accepted: --service" },
  { name = "--api-group unknown", args = { "recipe", "--service", "eks", "--api-group", "example.com" }, code = 2, bad = '"example.com"', msg = "accepted: eidos.nvidia.com, aicr.nvidia.com" },
  { name = "--data without registry.yaml", args = { "recipe", "--data", "lib", "--service", "eks" }, files = { ["lib/overlays/x.yaml"] = "kind: RecipeMetadata\n" }, code = 2, bad = "lib", msg = "registry.yaml is required in external data directory" },
  { name = "invalid --service", args = { "recipe", "--service", "eksx" }, code = 2, bad = '"eksx"', msg = "accepted: eks, gke" },
  { name = "invalid --gpu", args = { "recipe", "--gpu", "h900" }, code = 2, bad = '"h900"', msg = "accepted: h100" },
  { name = "invalid --intent", args = { "query", "--intent", "serving", "--selector", "criteria" }, code = 2, bad = '"serving"', msg = "accepted: training, inference" },
  { name = "invalid --os", args = { "recipe", "--os", "windows", "-o", "r.yaml" }, code = 2, bad = '"windows"', msg = "aliases: al2 -> amazonlinux" },
  { name = "invalid --platform", args = { "recipe", "--platform", "slurm" }, code = 2, bad = '"slurm"', msg = "accepted: dynamo, kubeflow" },
  { name = "--nodes written in hex", args = { "recipe", "--service", "eks", "--nodes", "0x10", "-o", "r.yaml" }, code = 2, bad = '"0x10"', msg = "an integer >= 0" },
  { name = "--nodes in exponent form", args = { "recipe", "--nodes", "1e3" }, code = 2, bad = '"1e3"', msg = "an integer >= 0" },
  { name = "negative --nodes", args = { "recipe", "--nodes", "-3" }, code = 2, bad = '"-3"', msg = "an integer >= 0" },
  { name = "recipe --format junk", args = { "recipe", "--service", "eks", "-t", "junk", "-o", "r.yaml" }, code = 2, bad = '"junk"', msg = "accepted: yaml, json, table" },
  { name = "validate --format xml", args = { "validate", "-s", "{snap}", "-c", "OS.release.ID ubuntu", "-t", "xml", "-o", "v.xml" }, code = 2, bad = '"xml"', msg = "junit" },
  { name = "verify --format junk", args = { "verify", "{bundle}", "-t", "junk" }, code = 2, bad = '"junk"', msg = "accepted: text, json, yaml" },
  { name = "snapshot --timeout not a duration", args = { "snapshot", "--timeout", "banana", "-o", "s.yaml" }, code = 2, bad = '"banana"', msg = "500ms, 30s, 1m30s" },
  { name = "snapshot --only unknown type", args = { "snapshot", "--only", "GPU,Bogus", "-o", "s.yaml" }, code = 2, bad = '"Bogus"', msg = "K8s, GPU, OS, SystemD, NodeTopology" },
  { name = "snapshot --timestamp not a time", args = { "snapshot", "--timestamp", "yesterday", "-o", "s.yaml" }, code = 2, bad = '"yesterday"', msg = "RFC 3339" },
  { name = "snapshot --sysroot not a directory", args = { "snapshot", "--sysroot", "nothere", "-o", "s.yaml" }, code = 2, bad = '"nothere"', msg = "not a directory" },
  { name = "--log-level junk", args = { "recipe", "--service", "eks", "--log-level", "loud" }, code = 2, bad = '"loud"', msg = "debug, info, warn, error" },
  { name = "--data-mode junk", args = { "recipe", "--data", "lib", "--data-mode", "merge" }, files = { ["lib/"] = true }, code = 2, bad = '"merge"', msg = "accepted: overlay, replace" },

  -- empty, binary, truncated, oversized, bombs
  { name = "empty recipe file", args = { "bundle", "-r", "empty.yaml", "-o", "out" }, files = { ["empty.yaml"] = "" }, code = 2, bad = "empty.yaml", msg = "empty YAML document" },
  { name = "empty stdin as snapshot", args = { "validate", "-s", "-", "-c", "OS.release.ID ubuntu", "-o", "v.yaml" }, stdin = "", code = 2, bad = "stdin", msg = "empty YAML document" },
  { name = "binary recipe file", args = { "bundle", "-r", "blob.yaml", "-o", "out" }, files = { ["blob.yaml"] = "\127ELF\2\1\1\0\0\0\0\0\0\0\0\0\3\0>\0" }, code = 2, bad = '"blob.yaml"', msg = "is binary, not YAML or JSON" },
  { name = "binary stdin as snapshot", args = { "validate", "-s", "-", "-c", "OS.release.ID ubuntu" }, stdin = "\137PNG\r\n\26\n\0\0\0\rIHDR", code = 2, bad = '"-"', msg = "binary, not YAML or JSON" },
  { name = "truncated YAML recipe", args = { "bundle", "-r", "cut.yaml", "-o", "out" }, files = { ["cut.yaml"] = recipe_with('- name: cert-manager\n  version: "v1.1') }, code = 2, bad = "cut.yaml", msg = "YAML parse error at line 5" },
  { name = "truncated JSON snapshot", args = { "validate", "-s", "cut.json", "-c", "OS.release.ID ubuntu" }, files = { ["cut.json"] = '{"kind": "Snapshot", "measurements": [' }, code = 2, bad = "cut.json", msg = "parse error" },
  { name = "duplicate key", args = { "recipe", "--criteria", "dup.yaml" }, files = { ["dup.yaml"] = "kind: RecipeCriteria\nspec: {service: eks}\nspec: {service: gke}\n" }, code = 2, bad = "'spec'", msg = "duplicate YAML key" },
  { name = "YAML bomb as recipe", args = { "bundle", "-r", "bomb.yaml", "-o", "out" }, files = { ["bomb.yaml"] = bomb(RECIPE_HEAD, "componentRefs") }, code = 2, bad = "bomb.yaml", msg = "expands to more than 67108864 bytes" },
  { name = "YAML bomb as snapshot", args = { "validate", "-s", "bomb.yaml", "-c", "OS.release.ID ubuntu", "-o", "v.yaml" }, files = { ["bomb.yaml"] = bomb(SNAP_HEAD, "measurements") }, code = 2, bad = "bomb.yaml", msg = "counting aliases as what they repeat" },
  { name = "YAML bomb as criteria", args = { "recipe", "--criteria", "bomb.yaml", "-o", "r.yaml" }, files = { ["bomb.yaml"] = bomb("kind: RecipeCriteria\n", "pad") }, code = 2, bad = "bomb.yaml", msg = "--max-expanded-size" },
  { name = "nesting 1000 deep", args = { "validate", "-s", "deep.yaml", "-c", "OS.release.ID ubuntu" }, files = { ["deep.yaml"] = SNAP_HEAD .. "x: " .. ("["):rep(1000) .. ("]"):rep(1000) .. "\n" }, code = 2, bad = "deep.yaml", msg = "nested deeper than 64 levels" },

  -- expansion measured in bytes (aliases of a big scalar: few nodes, many bytes)
  { name = "a 1 MiB scalar aliased a thousand times as recipe", args = { "bundle", "-r", "alias.yaml", "-o", "out" },
    files = { ["alias.yaml"] = repeated(RECIPE_HEAD, MiB, 1000) }, code = 2, bad = "alias.yaml", msg = "expands to more than 67108864 bytes" },
  { name = "aliases past the limit on stdin", args = { "validate", "-s", "-", "-c", "OS.release.ID ubuntu" },
    stdin = repeated(SNAP_HEAD, 64 * 1024, 1100), code = 2, bad = "stdin", msg = "expands to more than 67108864 bytes" },
  { name = "aliases past --max-expanded-size", args = { "recipe", "--criteria", "c.yaml", "--max-expanded-size", "64Ki" },
    files = { ["c.yaml"] = repeated("kind: RecipeCriteria\n", 1000, 80) }, code = 2, bad = "c.yaml", msg = "more than 65536 bytes" },
  { name = "aliases past EIDOS_MAX_EXPANDED_SIZE", args = { "bundle", "-r", "{recipe}", "-o", "out", "-f", "v.yaml" },
    env = { EIDOS_MAX_EXPANDED_SIZE = "10Ki" }, files = { ["v.yaml"] = repeated("", 1000, 20) }, code = 2, bad = "v.yaml", msg = "more than 10240 bytes" },
  { name = "--max-expanded-size not a size", args = { "recipe", "--service", "eks", "--max-expanded-size", "lots" }, code = 2, bad = '"lots"', msg = "--max-expanded-size" },
  { name = "a URL document expanding past the limit", args = { "bundle", "-r", "{url}/alias-bomb", "-o", "out" }, code = 2, bad = "/alias-bomb", msg = "expands to more than", needs = "http" },

  -- one nesting limit, checked where input is read (never an internal error later)
  { name = "recipe values nested 100 deep", args = { "bundle", "-r", "r.yaml", "-o", "out" },
    files = { ["r.yaml"] = recipe_with("- name: cert-manager\n  type: Helm\n  source: https://x.io\n  version: v1\n  namespace: a\n  chart: c\n  overrides:\n" .. "    " .. nested("deep", 100)) },
    code = 2, bad = "r.yaml", msg = "nested deeper than 64 levels" },
  { name = "a --values file nested 65 deep", args = { "bundle", "-r", "{recipe}", "-o", "out", "-f", "v.yaml" },
    files = { ["v.yaml"] = nested("cert-manager", 65) }, code = 2, bad = "v.yaml", msg = "nested deeper than 64 levels" },
  { name = "a --set path of 400 keys", args = { "bundle", "-r", "{recipe}", "-o", "out", "--set", "cert-manager:" .. ("a."):rep(399) .. "a=1" },
    code = 2, bad = "a.a.a.a", msg = "400 keys and the value nests 0 levels, more than the limit of 64" },
  { name = "a --set-json value past the nesting limit", args = { "bundle", "-r", "{recipe}", "-o", "out", "--set-json", "cert-manager:" .. ("a."):rep(59) .. "a=" .. ("["):rep(10) .. ("]"):rep(10) },
    code = 2, bad = "cert-manager:a.a", msg = "more than the limit of 64 levels" },
  { name = "oversized snapshot file (65 MiB)", args = { "validate", "-s", "huge.yaml", "-c", "OS.release.ID ubuntu" }, files = { ["huge.yaml"] = { size = 65 * MiB } }, code = 2, bad = "huge.yaml", msg = "more than the limit of 67108864" },
  { name = "oversized recipe file (65 MiB)", args = { "bundle", "-r", "huge.yaml", "-o", "out" }, files = { ["huge.yaml"] = { size = 65 * MiB } }, code = 2, bad = "huge.yaml", msg = "more than the limit" },
  { name = "oversized stdin (over 64 MiB) is refused like a file",
    args = { "validate", "-s", "-", "-c", "OS.release.ID ubuntu", "-o", "v.yaml" },
    stdin = SNAP_HEAD .. "# " .. ("x"):rep(64 * MiB) .. "\n", code = 2, bad = "stdin", msg = "more than the limit of 67108864" },

  -- directories, missing files, wrong kinds and apiVersions
  { name = "a directory as --recipe", args = { "bundle", "-r", "adir", "-o", "out" }, files = { ["adir/"] = true }, code = 2, bad = '"adir"', msg = "is a directory, not a regular file" },
  { name = "a directory as --snapshot", args = { "recipe", "--snapshot", "adir" }, files = { ["adir/"] = true }, code = 2, bad = '"adir"', msg = "not a regular file" },
  { name = "a FIFO as --snapshot that no one writes", args = { "recipe", "--snapshot", "pipe", "--intent", "training" },
    files = { pipe = { fifo = true } }, env = { EIDOS_INPUT_TIMEOUT = "1s" }, code = 5, bad = '"pipe"', msg = "the FIFO did not end within 1s" },
  { name = "a character device as --recipe: read, and empty", args = { "bundle", "-r", "/dev/null", "-o", "out" }, code = 2, bad = "/dev/null", msg = "empty YAML document" },
  { name = "an endless character device as --criteria", args = { "recipe", "--criteria", "/dev/zero", "--max-input-size", "1Mi" },
    code = 2, bad = "/dev/zero", msg = "more than the limit of 1048576 bytes" },
  { name = "a directory as --values", args = { "bundle", "-r", "{recipe}", "-o", "out", "--values", "vals" }, files = { ["vals/"] = true },
    code = 2, bad = '"vals"', msg = "is a directory, not a regular file (accepted: a file, a pipe" },
  { name = "a missing --sign-key", args = { "bundle", "-r", "{recipe}", "-o", "out", "--sign-key", "nokey.pem" }, code = 3, bad = '"nokey.pem"', msg = "not found" },
  { name = "a dangling symlink as --recipe", args = { "bundle", "-r", "link.yaml", "-o", "out" }, files = { ["link.yaml"] = { link = "gone.yaml" } }, code = 3, bad = '"gone.yaml"', msg = "cannot be followed (No such file or directory)" },
  { name = "a symlink loop as --criteria", args = { "recipe", "--criteria", "a.yaml" }, files = { ["a.yaml"] = { link = "b.yaml" }, ["b.yaml"] = { link = "a.yaml" } }, code = 1, bad = '"a.yaml"', msg = "Too many levels of symbolic links" },
  { name = "a file below a file", args = { "validate", "-s", "f.txt/s.yaml", "-c", "OS.release.ID ubuntu" }, files = { ["f.txt"] = "x\n" }, code = 3, bad = "f.txt/s.yaml", msg = "not found" },
  { name = "a dangling symlink as a --values file", args = { "bundle", "-r", "{recipe}", "-o", "out", "-f", "v.yaml" }, files = { ["v.yaml"] = { link = "nowhere.yaml" } }, code = 3, bad = '"nowhere.yaml"', msg = "No such file or directory" },
  { name = "a missing snapshot", args = { "validate", "-s", "nope.yaml", "-c", "OS.release.ID ubuntu" }, code = 3, bad = '"nope.yaml"', msg = "not found" },
  { name = "a Snapshot given as --recipe to bundle", args = { "bundle", "-r", "{snap}", "-o", "out" }, code = 2, bad = '"Snapshot"', msg = "expected a RecipeResult" },
  { name = "a Snapshot given as --recipe to validate", args = { "validate", "-s", "{snap}", "-r", "{snap}" }, code = 2, bad = '"Snapshot"', msg = "expected a RecipeResult" },
  { name = "a RecipeResult given as --snapshot", args = { "validate", "-s", "{recipe}", "-c", "OS.release.ID ubuntu" }, code = 2, bad = '"RecipeResult"', msg = 'expected "Snapshot"' },
  { name = "a RecipeResult given as recipe --snapshot", args = { "recipe", "--snapshot", "{recipe}", "-o", "r.yaml" }, code = 2, bad = '"RecipeResult"', msg = 'expected "Snapshot"' },
  { name = "a Snapshot given as --criteria", args = { "recipe", "--criteria", "{snap}" }, code = 2, bad = '"Snapshot"', msg = "accepted: RecipeCriteria" },
  { name = "an unsupported snapshot apiVersion", args = { "validate", "-s", "s.yaml", "-c", "OS.release.ID ubuntu" }, files = { ["s.yaml"] = "kind: Snapshot\napiVersion: v9/bogus\nmeasurements: []\n" }, code = 2, bad = '"v9/bogus"', msg = "eidos.nvidia.com/v1alpha1" },
  { name = "a kind that is a list", args = { "recipe", "--criteria", "c.yaml" }, files = { ["c.yaml"] = "kind: [RecipeCriteria]\nspec: {service: eks}\n" }, code = 2, bad = "kind a list", msg = "is not a criteria document" },
  { name = "a snapshot kind that is a map", args = { "validate", "-s", "s.yaml", "-c", "OS.release.ID ubuntu" }, files = { ["s.yaml"] = "kind: {a: 1}\nmeasurements: []\n" }, code = 2, bad = "kind is a map", msg = 'expected "Snapshot"' },
  { name = "a recipe kind that is null", args = { "bundle", "-r", "r.yaml", "-o", "out" }, files = { ["r.yaml"] = "kind: null\ncomponentRefs: []\n" }, code = 2, bad = "kind null", msg = "expected a RecipeResult" },
  { name = "a component name that is a map", args = { "bundle", "-r", "r.yaml", "-o", "out" }, files = { ["r.yaml"] = recipe_with("- {name: {x: 1}, type: Helm}\n") }, code = 2, bad = "component name a map", msg = "is not usable" },
  { name = "a valuesFile that is a list", args = { "bundle", "-r", "r.yaml", "-o", "out" }, files = { ["r.yaml"] = recipe_with("- {name: cert-manager, type: Helm, source: https://x.io, version: v1, namespace: a, chart: c, valuesFile: [a]}\n") }, code = 2, bad = "got a list", msg = "valuesFile must be a path" },
  { name = "a list as the recipe document", args = { "bundle", "-r", "list.yaml", "-o", "out" }, files = { ["list.yaml"] = "- a\n- b\n" }, code = 2, bad = "list.yaml", msg = "not a RecipeResult document" },

  -- wrong types
  { name = "componentRefs a map", args = { "bundle", "-r", "r.yaml", "-o", "out" }, files = { ["r.yaml"] = RECIPE_HEAD .. "componentRefs:\n  gpu-operator: {version: v1}\n" }, code = 2, bad = "componentRefs", msg = "is a map, not a list" },
  { name = "a componentRefs entry a string", args = { "bundle", "-r", "r.yaml", "-o", "out" }, files = { ["r.yaml"] = recipe_with("- gpu-operator\n") }, code = 2, bad = "componentRefs[0]", msg = "not a map" },
  { name = "constraints a string", args = { "validate", "-s", "{snap}", "-r", "r.yaml" }, files = { ["r.yaml"] = RECIPE_HEAD .. "constraints: K8s.server.version >= 1.30\n" }, code = 2, bad = "constraints", msg = "must be a list" },
  { name = "measurements a map", args = { "validate", "-s", "s.yaml", "-c", "OS.release.ID ubuntu" }, files = { ["s.yaml"] = SNAP_HEAD .. "measurements: {OS: 1}\n" }, code = 2, bad = "measurements", msg = "must be a list" },
  { name = "a criteria value that is a list", args = { "recipe", "--criteria", "c.yaml" }, files = { ["c.yaml"] = "kind: RecipeCriteria\nspec: {service: [eks]}\n" }, code = 2, bad = "service", msg = "a list, not a single value" },
  { name = "criteria nodes not a number", args = { "recipe", "--criteria", "c.yaml" }, files = { ["c.yaml"] = "kind: RecipeCriteria\nspec: {nodes: many}\n" }, code = 2, bad = '"many"', msg = "an integer >= 0" },
  { name = "an unknown criteria field", args = { "recipe", "--criteria", "c.yaml" }, files = { ["c.yaml"] = "kind: RecipeCriteria\nspec: {service: eks, colour: blue}\n" }, code = 2, bad = "colour", msg = "accepted: service, accelerator" },
  { name = "an overlay's componentRefs a map", args = { "recipe", "--data", "lib", "--service", "eks", "--intent", "training" },
    files = { ["lib/registry.yaml"] = EMPTY_REG, ["lib/overlays/x.yaml"] = overlay("x", "  criteria: {service: eks, intent: training}\n  componentRefs: {gpu-operator: {version: v1}}\n") },
    code = 2, bad = "spec.componentRefs", msg = "must be a list" },
  { name = "a component of an unsupported type", args = { "bundle", "-r", "r.yaml", "-o", "out" }, files = { ["r.yaml"] = recipe_with("- {name: cert-manager, type: Kustomize}\n") }, code = 2, bad = '"Kustomize"', msg = "accepted: Helm" },

  -- --data: broken files are errors, symlinks stay inside, only regular files
  { name = "a malformed overlay in --data", args = { "recipe", "--data", "lib", "--service", "eks" },
    files = { ["lib/registry.yaml"] = EMPTY_REG, ["lib/overlays/broken.yaml"] = "kind: RecipeMetadata\nmetadata: [\n" }, code = 2, bad = "lib/overlays/broken.yaml", msg = "YAML parse error" },
  { name = "an overlay in --data that is a list", args = { "query", "--data", "lib", "--data-mode", "replace", "--service", "eks", "--selector", "criteria" },
    files = { ["lib/registry.yaml"] = "kind: ComponentRegistry\ncomponents: []\n", ["lib/overlays/base.yaml"] = overlay("base", "  componentRefs: []\n"), ["lib/overlays/l.yaml"] = "- a\n" },
    code = 2, bad = "lib/overlays/l.yaml", msg = "not a RecipeMetadata document" },
  { name = "--data overlay symlinked to a file outside", args = { "recipe", "--data", "lib", "--service", "eks" },
    files = { ["lib/registry.yaml"] = EMPTY_REG, ["outside.yaml"] = overlay("o", "  criteria: {service: eks}\n"), ["lib/overlays/o.yaml"] = { link = "../../outside.yaml" } },
    code = 2, bad = '"overlays/o.yaml"', msg = "outside the directory" },
  { name = "--data directory symlinked outside", args = { "recipe", "--data", "lib", "--service", "eks" },
    files = { ["lib/registry.yaml"] = EMPTY_REG, ["lib/components"] = { link = "/etc" } }, code = 2, bad = '"/etc"', msg = "outside the directory", absent = PASSWD },
  { name = "--data overlay that is a dangling symlink", args = { "recipe", "--data", "lib", "--service", "eks" },
    files = { ["lib/registry.yaml"] = EMPTY_REG, ["lib/overlays/x.yaml"] = { link = "nothing.yaml" } }, code = 2, bad = '"overlays/x.yaml"', msg = "cannot be followed" },
  { name = "--data file that is a FIFO", args = { "recipe", "--data", "lib", "--service", "eks" },
    files = { ["lib/registry.yaml"] = EMPTY_REG, ["lib/overlays/p.yaml"] = { fifo = true } }, code = 2, bad = '"overlays/p.yaml"', msg = "is a FIFO, not a regular file" },

  -- path traversal in file names from data
  { name = "--data overlay valuesFile ../../etc/passwd", args = { "query", "--data", "lib", "--service", "eks", "--selector", "components.gpu-operator.values" },
    files = { ["lib/registry.yaml"] = EMPTY_REG, ["lib/overlays/evil.yaml"] = overlay("evil", "  criteria: {service: eks}\n  componentRefs:\n  - name: gpu-operator\n    valuesFile: ../../../../../../../../etc/passwd\n") },
    code = 3, bad = '"../../../../../../../../etc/passwd"', msg = "not found in the recipe library", absent = PASSWD },
  { name = "--data overlay valuesFile escaping to a real file beside the library", args = { "bundle", "--data", "lib", "-r", "r.yaml", "-o", "out" },
    files = { ["lib/registry.yaml"] = EMPTY_REG, ["outside.yaml"] = "secret: outside-the-library\n",
              ["lib/overlays/evil.yaml"] = overlay("evil", "  criteria: {service: eks}\n"),
              ["r.yaml"] = recipe_with("- {name: cert-manager, type: Helm, source: https://x.io, version: v1, namespace: a, chart: c, valuesFile: ../outside.yaml}\n") },
    code = 3, bad = '"../outside.yaml"', msg = "not found in the recipe library", absent = "outside-the-library" },
  { name = "--data overlay spec.base ../../etc/passwd", args = { "recipe", "--data", "lib", "--service", "eks", "--intent", "training", "-o", "r.yaml" },
    files = { ["lib/registry.yaml"] = EMPTY_REG, ["lib/overlays/evil.yaml"] = overlay("evil", "  base: ../../../etc/passwd\n  criteria: {service: eks, intent: training}\n") },
    code = 3, bad = '"../../../etc/passwd"', msg = "which no overlay declares" },
  { name = "manifest file name ../../../../etc/passwd", args = { "bundle", "-r", "r.yaml", "-o", "out" },
    files = { ["r.yaml"] = recipe_with("- {name: cert-manager, type: Helm, source: https://x.io, version: v1, namespace: a, chart: c, manifestFiles: [../../../../etc/passwd]}\n") },
    code = 2, bad = '"../../../../etc/passwd"', msg = "not a .yaml or .yml file", absent = PASSWD },
  { name = "manifest path climbing out of the library", args = { "bundle", "--data", "lib", "-r", "r.yaml", "-o", "out" },
    files = { ["lib/registry.yaml"] = EMPTY_REG, ["lib/overlays/x.yaml"] = overlay("x", "  criteria: {service: eks}\n"), ["evil.yaml"] = "kind: Secret\n",
              ["r.yaml"] = recipe_with("- {name: cert-manager, type: Helm, source: https://x.io, version: v1, namespace: a, chart: c, manifestFiles: [components/cert-manager/../../../evil.yaml]}\n") },
    code = 3, bad = '"components/cert-manager/../../../evil.yaml"', msg = "not found" },
  { name = "recipe valuesFile ../../../../etc/passwd", args = { "bundle", "-r", "r.yaml", "-o", "out" },
    files = { ["r.yaml"] = recipe_with("- {name: cert-manager, type: Helm, source: https://x.io, version: v1, namespace: a, chart: c, valuesFile: ../../../../etc/passwd}\n") },
    code = 3, bad = '"../../../../etc/passwd"', msg = "not found in the recipe library", absent = PASSWD },
  { name = "component name with ../", args = { "bundle", "-r", "r.yaml", "-o", "out" },
    files = { ["r.yaml"] = recipe_with("- {name: ../evil, type: Helm, source: https://x.io, version: v1, namespace: a, chart: c}\n") },
    code = 2, bad = '"../evil"', msg = "no path separators" },
  { name = "component namespace with ../", args = { "bundle", "-r", "r.yaml", "-o", "out", "-d", "flux" },
    files = { ["r.yaml"] = recipe_with("- {name: ok, type: Helm, source: https://x.io, version: v1, namespace: ../../etc, chart: c}\n") },
    code = 2, bad = '"../../etc"', msg = "not a DNS label" },
  { name = "argocd --path with ..", args = { "bundle", "-r", "{recipe}", "-o", "out", "-d", "argocd", "--path", "../../etc" }, code = 2, bad = '"../../etc"', msg = "must not contain '..'" },

  -- output that cannot be written is an error with the OS's reason
  { name = "-o /dev/full", args = { "recipe", "--service", "eks", "-o", "/dev/full" }, code = 1, bad = "/dev/full", msg = "No space left on device" },
  { name = "snapshot -o /dev/full", args = { "snapshot", "--only", "OS", "--sysroot", "{root}/spec/fixtures/sysroot/basic", "-o", "/dev/full" }, code = 1, bad = "/dev/full", msg = "No space left on device" },

  -- -o: traversal, directories, existing output
  { name = "-o cm:// name with ../", args = { "recipe", "--service", "eks", "-o", "cm://eidos/../snap" }, code = 2, bad = '"../snap"', msg = "DNS-1123", cm = "none" },
  { name = "-o into a missing directory", args = { "recipe", "--service", "eks", "-o", "missing/r.yaml" }, code = 2, bad = '"missing"', msg = "does not exist" },
  { name = "-o an existing directory", args = { "recipe", "--service", "eks", "-o", "adir" }, files = { ["adir/"] = true }, code = 2, bad = '"adir"', msg = "is a directory" },
  { name = "bundle into a non-empty directory without --force", args = { "bundle", "-r", "{recipe}", "-o", "out" },
    files = { ["out/mine.txt"] = "keep me\n" }, code = 2, bad = '"out"', msg = "use --force" },
  { name = "bundle into the working directory without --force", args = { "bundle", "-r", "{recipe}", "-o", "." },
    files = { ["notes.txt"] = "keep me\n" }, code = 2, bad = '"."', msg = "not empty" },
  { name = "bundle to an archive kind eidos does not write", args = { "bundle", "-r", "{recipe}", "-o", "b.tar.xz" },
    code = 2, bad = '"b.tar.xz"', msg = "accepted: a directory, or a .tar.gz/.tgz/.zip file" },
  { name = "bundle pull to an archive kind eidos does not write",
    args = { "bundle", "pull", "oci://127.0.0.1:1/x/y:v1", "-o", "b.rar" }, code = 2, bad = '"b.rar"', msg = "a .rar archive" },
  { name = "bundle over an existing archive without --force", args = { "bundle", "-r", "{recipe}", "-o", "b.tar.gz" },
    files = { ["b.tar.gz"] = "not really an archive\n" }, code = 2, bad = '"b.tar.gz"', msg = "already exists" },
  { name = "bundle to an archive name that is a directory", args = { "bundle", "-r", "{recipe}", "-o", "b.zip" },
    files = { ["b.zip/"] = true }, code = 2, bad = '"b.zip"', msg = "is a directory" },

  -- cm:// names (checked before any request)
  { name = "cm:// upper-case namespace", args = { "snapshot", "--only", "OS", "--sysroot", "{root}/spec/fixtures/sysroot/basic", "-o", "cm://Eidos/snap" }, code = 2, bad = '"Eidos"', msg = "lower-case letters", cm = "none" },
  { name = "cm:// upper-case name", args = { "recipe", "--service", "eks", "-o", "cm://eidos/Snap" }, code = 2, bad = '"Snap"', msg = "DNS-1123", cm = "none" },
  { name = "cm:// namespace over 63 characters", args = { "recipe", "--service", "eks", "-o", "cm://" .. ("n"):rep(64) .. "/x" }, code = 2, bad = ("n"):rep(64), msg = "at most 63 characters", cm = "none" },
  { name = "cm:// name over 253 characters", args = { "recipe", "--service", "eks", "-o", "cm://eidos/" .. ("a"):rep(254) }, code = 2, bad = ("a"):rep(254), msg = "at most 253 characters", cm = "none" },
  { name = "cm:// without a name", args = { "recipe", "--service", "eks", "-o", "cm://eidos" }, code = 2, bad = '"cm://eidos"', msg = "has no name", cm = "none" },
  { name = "cm:// with an empty name", args = { "validate", "-s", "cm://eidos/", "-c", "OS.release.ID ubuntu" }, code = 2, bad = '"cm://eidos/"', msg = "cm://NAMESPACE/NAME", cm = "none" },
  { name = "cm:// with an extra path segment", args = { "bundle", "-r", "cm://eidos/a/b", "-o", "out" }, code = 2, bad = '"a/b"', msg = "DNS-1123", cm = "none" },
  { name = "cm:// as --criteria with an underscore", args = { "recipe", "--criteria", "cm://eidos/my_criteria" }, code = 2, bad = '"my_criteria"', msg = "DNS-1123", cm = "none" },
  { name = "--format table into cm://", args = { "recipe", "--service", "eks", "-t", "table", "-o", "cm://eidos/r" }, code = 2, bad = "table", msg = "accepted: yaml, json", cm = "none" },
  { name = "a missing ConfigMap", args = { "validate", "-s", "cm://eidos/nothing", "-c", "OS.release.ID ubuntu", "-o", "v.yaml" }, code = 3, bad = '"nothing"', msg = "not found", cm = "read", needs = "k8s" },

  -- schemes and URLs
  { name = "an ftp:// input", args = { "validate", "-s", "ftp://127.0.0.1/snap.yaml", "-c", "OS.release.ID ubuntu" }, code = 2, bad = '"ftp://127.0.0.1/snap.yaml"', msg = "unsupported location" },
  { name = "a file:// input", args = { "bundle", "-r", "file:///etc/passwd", "-o", "out" }, code = 2, bad = '"file:///etc/passwd"', msg = "unsupported location", absent = PASSWD },
  { name = "a URL redirecting to file:///etc/passwd", args = { "validate", "-s", "{url}/redirect-file", "-c", "OS.release.ID ubuntu", "-o", "v.yaml" }, code = 2, bad = "/redirect-file", msg = "scheme not allowed", absent = PASSWD, needs = "http" },
  { name = "a URL redirecting to ftp://", args = { "bundle", "-r", "{url}/redirect-ftp", "-o", "out" }, code = 2, bad = "/redirect-ftp", msg = "redirects only to https://", needs = "http" },
  { name = "a URL redirecting to plain http://", args = { "recipe", "--criteria", "{url}/redirect-http" }, code = 2, bad = "/redirect-http", msg = "redirects only to https://", needs = "http" },
  { name = "a response with a 1 MiB header", args = { "validate", "-s", "{url}/huge-header", "-c", "OS.release.ID ubuntu" }, code = 2, bad = "/huge-header", msg = "header", needs = "http" },
  { name = "a response announcing 17 MiB", args = { "validate", "-s", "{url}/huge-length", "-c", "OS.release.ID ubuntu" }, code = 2, bad = "/huge-length", msg = "size limit of 16777216", needs = "http" },
  { name = "a streamed response over 16 MiB", args = { "bundle", "-r", "{url}/huge-stream", "-o", "out" }, code = 2, bad = "/huge-stream", msg = "size limit of 16777216", needs = "http" },
  { name = "an HTML page instead of a document", args = { "validate", "-s", "{url}/html", "-c", "OS.release.ID ubuntu" }, code = 2, bad = '"text/html"', msg = "not YAML or JSON", needs = "http" },
  { name = "a URL answering 404, query string not printed", args = { "validate", "-s", "{url}/missing?token=sekrit-123", "-c", "OS.release.ID ubuntu" }, code = 3, bad = "/missing?...", msg = "HTTP 404", absent = "sekrit-123", needs = "http" },

  -- overrides and scheduling flags
  { name = "--set of an unknown component", args = { "bundle", "-r", "{recipe}", "-o", "out", "--set", "nope:a=1" }, code = 2, bad = '"nope"', msg = "components of this recipe: " },
  { name = "--set through a non-map", args = { "bundle", "-r", "{recipe}", "-o", "out", "--set", "gpu-operator:driver.version.x=1" }, code = 2, bad = "driver.version", msg = "is a string, not a map" },
  { name = "--set without a component", args = { "bundle", "-r", "{recipe}", "-o", "out", "--set", "driver.version=1" }, code = 2, bad = '"driver.version=1"', msg = "COMPONENT:PATH=VALUE" },
  { name = "--set with an empty key", args = { "bundle", "-r", "{recipe}", "-o", "out", "--set", "gpu-operator:driver..version=1" }, code = 2, bad = "driver..version", msg = "empty key" },
  { name = "--set-json NaN", args = { "bundle", "-r", "{recipe}", "-o", "out", "--set-json", "gpu-operator:x=NaN" }, code = 2, bad = '"gpu-operator:x=NaN"', msg = "NaN and Infinity are not JSON" },
  { name = "--set-json -Infinity", args = { "bundle", "-r", "{recipe}", "-o", "out", "--set-json", "gpu-operator:x=[1,-Infinity]" }, code = 2, bad = "-Infinity", msg = "not valid JSON" },
  { name = "--set-json a number too big to be finite", args = { "bundle", "-r", "{recipe}", "-o", "out", "--set-json", "gpu-operator:x={\"y\":1e999}" }, code = 2, bad = "x.y", msg = "not finite" },
  { name = "--set-json a bare word", args = { "bundle", "-r", "{recipe}", "-o", "out", "--set-json", "gpu-operator:x=yes" }, code = 2, bad = '"gpu-operator:x=yes"', msg = "not valid JSON" },
  { name = "--set with an escaped '=' and no value", args = { "bundle", "-r", "{recipe}", "-o", "out", "--set", "gpu-operator:a\\=1" }, code = 2, bad = [["gpu-operator:a\\=1"]], msg = "missing '='" },
  { name = "--set with an unknown escape", args = { "bundle", "-r", "{recipe}", "-o", "out", "--set", "gpu-operator:a\\q=1" }, code = 2, bad = [["\\q"]], msg = "is not an escape" },
  { name = "--set-json with invalid JSON", args = { "bundle", "-r", "{recipe}", "-o", "out", "--set-json", "gpu-operator:a={x" }, code = 2, bad = '"gpu-operator:a={x"', msg = "not valid JSON" },
  { name = "--set enabled to a non-boolean", args = { "bundle", "-r", "{recipe}", "-o", "out", "--set", "gpu-operator:enabled=maybe" }, code = 2, bad = "maybe", msg = "must be true or false" },
  { name = "--set on a disabled component", args = { "bundle", "-r", "{recipe}", "-o", "out", "--set", "gpu-operator:enabled=false", "--set", "gpu-operator:x=1" }, code = 2, bad = '"gpu-operator:x=1"', msg = "is disabled" },
  { name = "--values file missing", args = { "bundle", "-r", "{recipe}", "-o", "out", "-f", "vals.yaml" }, code = 3, bad = '"vals.yaml"', msg = "not found" },
  { name = "--values not a map of components", args = { "bundle", "-r", "{recipe}", "-o", "out", "-f", "vals.yaml" }, files = { ["vals.yaml"] = "- 1\n- 2\n" }, code = 2, bad = '"vals.yaml"', msg = "map" },
  { name = "toleration with an unknown effect", args = { "bundle", "-r", "{recipe}", "-o", "out", "--system-node-toleration", "a=b:Sometimes" }, code = 2, bad = '"Sometimes"', msg = "NoSchedule, PreferNoSchedule, NoExecute" },
  { name = "node selector without =", args = { "bundle", "-r", "{recipe}", "-o", "out", "--accelerated-node-selector", "novalue" }, code = 2, bad = '"novalue"', msg = "KEY=VALUE" },
  { name = "node selector with an empty key", args = { "bundle", "-r", "{recipe}", "-o", "out", "--system-node-selector", "=x" }, code = 2, bad = '"=x"', msg = "label key" },
  { name = "an unknown deployer", args = { "bundle", "-r", "{recipe}", "-o", "out", "-d", "kustomize" }, code = 2, bad = '"kustomize"', msg = "accepted: helm, argocd, flux" },
  { name = "--repo with another scheme", args = { "bundle", "-r", "{recipe}", "-o", "out", "-d", "argocd", "--repo", "ftp://git.example.com/x" }, code = 2, bad = '"ftp://git.example.com/x"', msg = "Git URL" },
  { name = "--sign-key that is not PEM", args = { "bundle", "-r", "{recipe}", "-o", "out", "--sign-key", "key.pem" },
    files = { ["key.pem"] = "TOPSECRET-KEY-MATERIAL\n" }, code = 2, bad = '"key.pem"', msg = "not a PEM private key", absent = "TOPSECRET" },
  { name = "verify --key that is not PEM", args = { "verify", "{bundle}", "--key", "pub.pem" },
    files = { ["pub.pem"] = "not-a-key\n" }, code = 2, bad = '"pub.pem"', msg = "not a PEM public key", absent = "not-a-key" },

  -- validate constraints
  { name = "a constraint missing its last value", args = { "validate", "-s", "{snap}", "-c", "K8s.server.version >= 1.30, <", "-o", "v.yaml" }, code = 2, bad = '">= 1.30, <"', msg = "position 11" },
  { name = "an unknown operator", args = { "validate", "-s", "{snap}", "-c", "K8s.server.version => 1.2" }, code = 2, bad = '"=>"', msg = "accepted: !=, <, <=" },
  { name = "a constraint path with two parts", args = { "validate", "-s", "{snap}", "-c", "OS.release" }, code = 2, bad = '"OS.release"', msg = "expected a path, then an expression" },
  { name = "an unclosed in (", args = { "validate", "-s", "{snap}", "-c", "OS.release.ID in (ubuntu" }, code = 2, bad = '"in (ubuntu"', msg = "missing closing )" },
  { name = "~ with a non-version", args = { "validate", "-s", "{snap}", "-c", "OS.release.ID ~banana", "-t", "junit", "-o", "v.xml" }, code = 2, bad = '"banana"', msg = "MAJOR[.MINOR[.PATCH]]" },
  { name = "a malformed constraint in the recipe", args = { "validate", "-s", "{snap}", "-r", "r.yaml" },
    files = { ["r.yaml"] = RECIPE_HEAD .. "constraints:\n- {name: K8s.server.version, value: '>= '}\n" }, code = 2, bad = "K8s.server.version", msg = "malformed expression" },
  { name = "nothing to validate", args = { "validate", "-s", "{snap}" }, code = 2, bad = "--recipe", msg = "nothing to validate" },
  { name = "no snapshot and no cluster to take one from", args = { "validate", "-c", "OS.release.ID ubuntu" },
    env = { KUBECONFIG = "" }, code = 3, bad = "--snapshot", msg = "no cluster to take one from with the snapshot agent" },
  { name = "an unknown validation phase", args = { "validate", "-s", "{snap}", "--phase", "readiness,perf" }, code = 2,
    bad = '"perf"', msg = "accepted: readiness, deployment, conformance, performance, all" },
  { name = "a constraint word that is no operator", args = { "validate", "-s", "{snap}", "-c", "OS.release.ID matches ubu" },
    code = 2, bad = '"matches"', msg = "operators.d/matches.lua" },

  -- query selectors
  { name = "a selector key that does not exist", args = { "query", "--service", "eks", "--selector", "components.gpu-operator.values.nope" }, code = 3, bad = '"nope"', msg = "available keys: cdi" },
  { name = "a selector index out of range", args = { "query", "--service", "eks", "--selector", "deploymentOrder.99" }, code = 3, bad = '"99"', msg = "available keys: 0, 1" },
  { name = "a selector through a value", args = { "query", "--service", "eks", "--gpu", "h100", "--intent", "training", "--selector", "components.gpu-operator.version.x" }, code = 3, bad = '"x"', msg = "is a value, not a map" },
  { name = "query without --selector", args = { "query", "--service", "eks" }, code = 2, bad = "--selector", msg = "needs --selector" },

  -- verify
  { name = "verify a directory that is no bundle", args = { "verify", "plain" }, files = { ["plain/file.txt"] = "hello\n" }, code = 9, bad = "plain", msg = "checksums.txt not found" },
  { name = "verify malformed checksums", args = { "verify", "b" }, files = { ["b/checksums.txt"] = "zzz not a checksum line\n" }, code = 9, bad = '"zzz not a checksum line"', msg = "is not 'SHA256  PATH'" },
  { name = "verify a file", args = { "verify", "f.txt" }, files = { ["f.txt"] = "x\n" }, code = 2, bad = '"f.txt"', msg = "not a directory" },
  { name = "verify an archive", args = { "verify", "b.tar.gz" }, files = { ["b.tar.gz"] = "\31\139\8\0" }, code = 2, bad = '"b.tar.gz"', msg = "extract it first" },
  { name = "verify a bundle with a file symlinked outside it", args = { "verify", "b" },
    files = { ["b/checksums.txt"] = ("0"):rep(64) .. "  recipe.yaml\n", ["b/recipe.yaml"] = { link = "../secret.yaml" }, ["secret.yaml"] = "x: 1\n" },
    code = 9, bad = "recipe.yaml", msg = "is a symlink" },
  { name = "verify a bundle whose checksums.txt is a symlink", args = { "verify", "b" },
    files = { ["b/checksums.txt"] = { link = "../sums.txt" }, ["sums.txt"] = "" }, code = 9, bad = "checksums.txt", msg = "is a symlink" },
  { name = "verify a bundle holding a symlinked directory", args = { "verify", "b" },
    files = { ["b/checksums.txt"] = "", ["b/etc"] = { link = "/etc" } }, code = 9, bad = "etc", msg = "is a symlink" },
  { name = "verify a missing directory", args = { "verify", "gone" }, code = 2, bad = '"gone"', msg = "not found" },

  -- hooks
  { name = "a hooks directory that does not exist", args = { "recipe", "--service", "eks", "--hooks", "nohooks", "-o", "r.yaml" }, code = 2, bad = '"nohooks"', msg = "does not exist" },
  { name = "a recipe hook changing the kind", args = { "recipe", "--service", "eks", "--hooks", "hooks", "-o", "r.yaml" },
    files = { ["hooks/kind.lua"] = 'return { recipe = function(r) r.kind = "Snapshot"; return r end }\n' }, code = 2, bad = "hooks/kind.lua", msg = 'must stay RecipeResult, got "Snapshot"' },
  { name = "a criteria hook returning a list value", args = { "recipe", "--service", "eks", "--hooks", "hooks" },
    files = { ["hooks/crit.lua"] = "return { criteria = function(c) c.service = {1, 2}; return c end }\n" }, code = 2, bad = '"service"', msg = "must be a string or integer" },
  { name = "a select hook naming an unknown overlay", args = { "recipe", "--service", "eks", "--hooks", "hooks" },
    files = { ["hooks/sel.lua"] = 'return { select = function(c) return { "not-an-overlay" } end }\n' }, code = 2, bad = "not-an-overlay", msg = "is not one of the matched overlays" },
  { name = "a bundle hook writing outside the bundle", args = { "bundle", "-r", "{recipe}", "-o", "out", "--hooks", "hooks" },
    files = { ["hooks/escape.lua"] = 'return { bundle = function(f) f["../../escape.yaml"] = "x: 1\\n"; return f end }\n' }, code = 2, bad = '"../../escape.yaml"', msg = "escapes the bundle" },
  { name = "a bundle hook writing an absolute path", args = { "bundle", "-r", "{recipe}", "-o", "out.tgz", "--hooks", "hooks" },
    files = { ["hooks/abs.lua"] = 'return { bundle = function(f) f["/tmp/evil.yaml"] = "x: 1\\n"; return f end }\n' }, code = 2, bad = '"/tmp/evil.yaml"', msg = "is absolute" },
  { name = "a hook that raises", args = { "recipe", "--service", "eks", "--hooks", "hooks", "-o", "r.yaml" },
    files = { ["hooks/crash.lua"] = 'return {\n  recipe = function(r)\n    error("boom in the hook")\n  end,\n}\n' }, code = 8, bad = "hooks/crash.lua:3", msg = "boom in the hook" },
  { name = "a hook that never returns", args = { "recipe", "--service", "eks", "--hooks", "hooks", "-o", "r.yaml" },
    files = { ["hooks/loop.lua"] = "return { recipe = function(r) while true do end end }\n" }, code = 5, bad = "hooks/loop.lua", msg = "time limit of 100 ms" },
}

-- ---- the test HTTP server (python3 http.server on 127.0.0.1) ----------------

local HTTP_SERVER = [[
import http.server, os, socketserver, sys, threading, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def answer(self, code, body=b"", headers=()):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        p = self.path.split("?")[0]
        port = self.server.server_address[1]
        try:
            if p == "/redirect-file": return self.answer(302, headers=[("Location", "file:///etc/passwd")])
            if p == "/redirect-ftp": return self.answer(302, headers=[("Location", "ftp://127.0.0.1/snap.yaml")])
            if p == "/redirect-http": return self.answer(302, headers=[("Location", "http://127.0.0.1:%d/ok" % port)])
            if p == "/huge-header":
                return self.answer(200, b"kind: Snapshot\n", [("Content-Type", "application/yaml"), ("X-Pad", "x" * (1 << 20))])
            if p == "/huge-length":
                self.send_response(200)
                self.send_header("Content-Type", "application/yaml")
                self.send_header("Content-Length", str(17 << 20))
                self.end_headers()
                self.wfile.write(b"#" * 65536)
                return
            if p == "/huge-stream":
                self.send_response(200)
                self.send_header("Content-Type", "application/yaml")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                chunk = b"# padding padding padding padding\n" * 2048
                for _ in range((17 << 20) // len(chunk) + 1): self.wfile.write(chunk)
                return
            if p == "/html": return self.answer(200, b"<html>log in</html>", [("Content-Type", "text/html")])
            if p == "/alias-bomb":
                body = b"kind: RecipeResult\npad: &p " + b"x" * 65536 + b"\nmore:\n" + b"- *p\n" * 1100
                return self.answer(200, body, [("Content-Type", "application/yaml")])
            if p == "/ok": return self.answer(200, b"kind: Snapshot\n", [("Content-Type", "application/yaml")])
            return self.answer(404, b"no such thing\n", [("Content-Type", "text/plain")])
        except (BrokenPipeError, ConnectionResetError):
            pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
print(os.getpid(), s.server_address[1], flush=True)
ppid = os.getppid()
def watchdog():
    start = time.time()
    while os.getppid() == ppid and time.time() - start < 600: time.sleep(0.5)
    os._exit(0)
threading.Thread(target=watchdog, daemon=True).start()
s.serve_forever()
]]

-- ---- helpers ------------------------------------------------------------------

-- every entry below dir (files and directories), relative, sorted
local function listing(dir)
  local p = io.popen("cd " .. q(dir) .. " && find . -mindepth 1 | LC_ALL=C sort")
  local out = {}
  for l in p:lines() do out[#out + 1] = l:sub(3) end
  p:close()
  return out
end

local function subst(s, ctx)
  return (s:gsub("{(%a+)}", function(k) return ctx[k] end))
end

local function parents(path, set)
  local acc = ""
  for part in path:gmatch("[^/]+") do
    acc = acc == "" and part or (acc .. "/" .. part)
    set[acc] = true
  end
end

local function create(dir, files, ctx)
  local expect, content = {}, {}
  for path, v in pairs(files or {}) do
    local clean = path:gsub("/$", "")
    parents(clean, expect)
    local full = dir .. "/" .. clean
    if path:sub(-1) == "/" then
      os.execute("mkdir -p " .. q(full))
    else
      local parent = full:match("^(.*)/[^/]+$")
      os.execute("mkdir -p " .. q(parent))
      if type(v) == "table" and v.size then
        assert(os.execute("truncate -s " .. v.size .. " " .. q(full)))
      elseif type(v) == "table" and v.link then
        assert(os.execute("ln -s " .. q(v.link) .. " " .. q(full)))
      elseif type(v) == "table" and v.fifo then
        assert(os.execute("mkfifo " .. q(full)))
      else
        local text = subst(v, ctx)
        support.write(full, text)
        content[clean] = text
      end
    end
  end
  local list = {}
  for k in pairs(expect) do list[#list + 1] = k end
  table.sort(list)
  return list, content
end

-- ---- the spec -------------------------------------------------------------------

describe("bad input", function()
  local shared, ctx, k8s, http_proc, http_pid
  local env

  setup(function()
    shared = support.tmpdir()
    ctx = { root = ROOT, snap = shared .. "/snapshot.yaml", recipe = shared .. "/recipe.yaml", bundle = shared .. "/bundle" }
    env = { EIDOS_HOME = ROOT, HOME = shared .. "/nohome", NO_COLOR = "1", EIDOS_HOOKS = "",
            PATH = ROOT .. "/spec/fixtures/bin:" .. (os.getenv("PATH") or "/usr/bin:/bin"),
            EIDOS_NVML_LIB = "/nonexistent/libnvidia-ml.so.1", EIDOS_HTTP_TIMEOUT = "20" }
    -- the test Kubernetes API server (cm:// rows); without it a kubeconfig
    -- to a closed port, so that a request made anyway fails instead
    if fake.available() then
      k8s = fake.start({ pods = 2, nodes = 1, args = { "--namespace", "eidos" } })
      env.KUBECONFIG = k8s:kubeconfig("cert")
    else
      env.KUBECONFIG = shared .. "/kubeconfig"
      support.write(env.KUBECONFIG, "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        .. "users: [{name: u, user: {token: x}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n")
    end
    -- the test HTTP server (URL rows)
    if have("python3") then
      support.write(shared .. "/httpd.py", HTTP_SERVER)
      http_proc = io.popen("exec python3 " .. q(shared .. "/httpd.py") .. " 2>/dev/null")
      local pid, port = (http_proc:read("l") or ""):match("^(%d+) (%d+)$")
      if port then
        http_pid = pid
        ctx.url = "http://127.0.0.1:" .. port
      end
    end
    -- valid inputs
    local function ok(r, what) assert(r.code == 0, what .. " failed: " .. tostring(r.err)) end
    ok(support.run({ "snapshot", "--sysroot", ROOT .. "/spec/fixtures/sysroot/basic", "--only", "OS,GPU", "-o", ctx.snap },
      { env = env, bin = EIDOS }), "the snapshot")
    ok(support.run({ "recipe", "--service", "eks", "--gpu", "h100", "--os", "ubuntu", "--intent", "training", "-o", ctx.recipe },
      { env = env, bin = EIDOS }), "the recipe")
    ok(support.run({ "bundle", "-r", ctx.recipe, "-o", ctx.bundle }, { env = env, bin = EIDOS }), "the bundle")
  end)

  teardown(function()
    if http_pid then os.execute("kill " .. http_pid .. " 2>/dev/null") end
    if http_proc then http_proc:close() end
    if k8s then k8s:stop() end
    fake.cleanup()
    if shared then os.execute("rm -rf " .. q(shared)) end
  end)

  it("has at least 40 rows, each naming its offending value", function()
    assert.is_true(#ROWS >= 40, #ROWS .. " rows")
    local seen = {}
    for _, row in ipairs(ROWS) do
      assert.is_nil(seen[row.name], "two rows named " .. row.name)
      seen[row.name] = true
      assert.is_string(row.bad, row.name)
      assert.is_string(row.msg, row.name)
      assert.is_number(row.code, row.name)
    end
  end)

  for _, row in ipairs(ROWS) do
    it(row.name .. " -> exit " .. row.code, function()
      if row.needs == "http" and not ctx.url then return pending("python3 is needed for the test HTTP server") end
      if row.needs == "k8s" and not k8s then return pending("python3 and openssl are needed for the test API server") end
      local dir = support.tmpdir()
      local expect, content = create(dir, row.files, ctx)
      if k8s and row.cm then k8s:reset() end
      local args = {}
      for i, a in ipairs(row.args) do args[i] = subst(a, ctx) end
      local e = {}
      for k, v in pairs(env) do e[k] = v end
      for k, v in pairs(row.env or {}) do e[k] = subst(v, ctx) end
      local r = support.run(args, { env = e, stdin = row.stdin, cwd = dir, bin = EIDOS })
      local after = listing(dir)
      local changed = {}
      for path, text in pairs(content) do
        if support.read(dir .. "/" .. path) ~= text then changed[#changed + 1] = path end
      end
      local requests = k8s and row.cm and k8s:requests() or {}
      os.execute("rm -rf " .. q(dir))
      local err, out = r.err or "", r.out or ""
      local say = "\n$ eidos " .. table.concat(args, " "):sub(1, 300) .. "\nexit " .. tostring(r.code)
        .. "\nstderr: " .. err:sub(1, 1500) .. "\nstdout: " .. out:sub(1, 500)
      assert.are.equal(row.code, r.code, "exit status" .. say)
      -- a failed check (exit 9) is reported on stdout, the verdict on stderr
      local text = row.code == 9 and (err .. out) or err
      assert.truthy(text:find(row.bad, 1, true), "the message does not name the offending value " .. row.bad .. say)
      assert.truthy(text:find(row.msg, 1, true), "the message lacks " .. string.format("%q", row.msg) .. say)
      if row.absent then
        assert.falsy((err .. out):find(row.absent, 1, true), "the output shows " .. row.absent .. say)
      end
      for _, leak in ipairs({ "0x%x%x%x%x", "table: ", "userdata: ", "eidos%.list", "no literal form" }) do
        assert.falsy((err .. out):find(leak), "a message shows a Lua value instead of the input's" .. say)
      end
      if row.code ~= 9 then assert.are.equal("", out, "something was printed on stdout" .. say) end
      -- nothing written: exactly the row's own files, unchanged
      assert.are.same(expect, after, "the working directory changed" .. say)
      assert.are.same({}, changed, "files of the row were modified" .. say)
      if row.cm == "none" then
        assert.are.same({}, requests, "the API server got requests for a name refused up front" .. say)
      elseif row.cm == "read" then
        for _, rq in ipairs(requests) do
          assert.are.equal("GET", rq.method, rq.method .. " " .. rq.path .. say)
        end
      end
    end)
  end
end)
