-- bench/server.d/missmix.lua -- a wrk script: GET /v1/recipe rotating
-- through the query strings of the file $COMBOS (bench/server.d/combos),
-- each wrk thread starting at its own offset. UNIQUE=1 makes the criteria
-- of every request unique (nodes set to a fresh large number), so neither
-- the response cache nor the recipe cache can answer it. Every answer
-- that is not 2xx is counted; done() prints "non2xx N" (bench/server fails
-- the run when N > 0).
local paths = {}
for line in io.lines(os.getenv("COMBOS")) do paths[#paths + 1] = line end
local unique = os.getenv("UNIQUE") == "1"
local threads, nthreads = {}, 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("id", nthreads)
  threads[#threads + 1] = thread
end

function init()
  i = ((id - 1) * 7919) % #paths
  n, bad = 0, 0
end

function request()
  i = i % #paths + 1
  local q = paths[i]
  if unique then
    n = n + 1
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
