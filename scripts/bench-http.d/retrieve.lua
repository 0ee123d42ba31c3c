-- wrk: GET a random memory of the store (ids from setup.py's output, loaded by `init`).
local key = os.getenv("REVERIE_BENCH_KEY")
local ids_file = os.getenv("REVERIE_BENCH_IDS")
function init(args)
  dofile(ids_file)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
function request()
  local id = ids[math.random(#ids)]
  return wrk.format("GET", "/v1/memory_stores/" .. store .. "/memories/" .. id, { ["x-api-key"] = key })
end
