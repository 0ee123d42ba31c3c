-- wrk: POST a new memory at a path no other request uses (thread id and a counter).
local key = os.getenv("REVERIE_BENCH_KEY")
local ids_file = os.getenv("REVERIE_BENCH_IDS")
local n = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  dofile(ids_file)
end
function request()
  n = n + 1
  local body = '{"path": "/load/t' .. tid .. '/m' .. n .. '.md", "content": "- created under load\\n"}'
  return wrk.format("POST", "/v1/memory_stores/" .. create_store .. "/memories",
    { ["x-api-key"] = key, ["content-type"] = "application/json" }, body)
end
