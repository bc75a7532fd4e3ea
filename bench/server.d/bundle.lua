-- bench/server.d/bundle.lua -- a wrk script: POST /v1/bundle of the
-- RecipeResult in the file $BODY (JSON), options from the URL. UNIQUE=1
-- adds a set= option unique to every request, so no answer can come from
-- the response cache: every request builds a bundle. Every answer that is
-- not 2xx is counted; done() prints "non2xx N".
local f = assert(io.open(os.getenv("BODY"), "rb"))
local body = f:read("*a")
f:close()
local unique = os.getenv("UNIQUE") == "1"
local threads, nthreads = {}, 0

function setup(thread)
  nthreads = nthreads + 1
  thread:set("id", nthreads)
  threads[#threads + 1] = thread
end

function init()
  n, bad = 0, 0
end

function request()
  local path = wrk.path
  if unique then
    n = n + 1
    path = path .. "&set=gpu-operator:benchRequest=" .. (id * 100000000 + n)
  end
  return wrk.format("POST", path, { ["Content-Type"] = "application/json" }, body)
end

function response(status)
  if status < 200 or status > 299 then bad = bad + 1 end
end

function done()
  local b = 0
  for _, t in ipairs(threads) do b = b + (t:get("bad") or 0) end
  io.write(string.format("non2xx %d\n", b))
end
