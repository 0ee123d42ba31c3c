-- wrk: an MCP `tools/call` of the memory tool's `view` on a random memory of the store, over
-- /mcp (stateless, JSON answers; the 2025-06-18 protocol, which needs no per-request metadata).
-- The same memories as retrieve.lua: setup.py makes them at /projects/pNN/notes-NNNNN.md.
local key = os.getenv("REVERIE_BENCH_KEY")
local ids_file = os.getenv("REVERIE_BENCH_IDS")
function init(args)
  dofile(ids_file)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end
function request()
  local i = math.random(#ids) - 1
  local path = string.format("/memories/projects/p%02d/notes-%05d.md", i % 40, i)
  local body = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"memory",'
    .. '"arguments":{"command":"view","path":"' .. path .. '"}}}'
  return wrk.format("POST", "/mcp?store=" .. store, {
    ["x-api-key"] = key,
    ["content-type"] = "application/json",
    ["accept"] = "application/json, text/event-stream",
    ["mcp-protocol-version"] = "2025-06-18",
  }, body)
end
-- A call that did not answer 200, or answered with an error, would make the figure a lie.
function response(status, headers, body)
  if status ~= 200 or not body:find('"isError":false', 1, true) then
    error("mcp call failed: " .. status .. " " .. body:sub(1, 200))
  end
end
