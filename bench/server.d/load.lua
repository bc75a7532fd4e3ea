-- bench/server.d/load.lua -- the wrk script of bench/server.
--   MODE=recipe (default): GET /v1/recipe rotating through the query
--     strings of the file $COMBOS (bench/server.d/combos), each wrk thread
--     from its own offset. UNIQUE=1: criteria unique to every request (nodes
--     set to a fresh large number), so no cache can answer it.
--   MODE=bundle: POST to the URL's path the RecipeResult in the file $BODY
--     (JSON). UNIQUE=1: a set= option unique to every request, so every
--     request builds a bundle.
-- Every answer that is not 2xx is counted; done() prints "non2xx N"
-- (bench/server fails the run when N > 0).
local mode = os.getenv("MODE") or "recipe"
local unique = os.getenv("UNIQUE") == "1"
local paths, body = {}, nil
if mode == "bundle" then
  local f = assert(io.open(os.getenv("BODY"), "rb"))
  body = f:read("*a")
  f:close()
else
  for line in io.lines(os.getenv("COMBOS")) do paths[#paths + 1] = line end
end
local threads, nthreads = {}, 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("id", nthreads)
  threads[#threads + 1] = thread
end

function init()
  i = #paths > 0 and ((id - 1) * 7919) % #paths or 0
  n, bad = 0, 0
end

function request()
  n = n + 1
  if mode == "bundle" then
    local path = wrk.path
    if unique then path = path .. "&set=gpu-operator:benchRequest=" .. (id * 100000000 + n) end
    return wrk.format("POST", path, { ["Content-Type"] = "application/json" }, body)
  end
  i = i % #paths + 1
  local q = paths[i]
  if unique then
    q = q:gsub("&?nodes=%d+", "")
    q = q .. (q == "" and "" or "&") .. "nodes=" .. (id * 100000000 + n)
  end
  return wrk.format("GET", "/v1/recipe?" .. q)
end

function response(status)
  if status < 200 or status > 299 then bad = bad + 1 end
end

function done()
  local b = 0
  for _, t in ipairs(threads) do b = b + (t:get("bad") or 0) end
  io.write(string.format("non2xx %d\n", b))
end
