-- wrk: the baseline — GET a route that does not exist: HTTP, the key check and an error body,
-- no store read.
local key = os.getenv("REVERIE_BENCH_KEY")
function request()
  return wrk.format("GET", "/v1/no_such_route", { ["x-api-key"] = key })
end
