"""Fills a store through the API for scripts/bench-http: N memories of about 1 KB, then writes
their ids as a Lua table for wrk. Usage: setup.py BASE_URL KEY STORE_NAME N LUA_OUT"""

import sys

from anthropic import Anthropic

base_url, key, name, n, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
client = Anthropic(api_key=key, base_url=base_url, max_retries=0)
store = client.beta.memory_stores.create(name=name)
line = "- the staging database listens on port 6543; deploys need two approvals\n"
ids = []
for i in range(n):
    m = client.beta.memory_stores.memories.create(
        store.id, path=f"/projects/p{i % 40:02}/notes-{i:05}.md", content=f"# Notes {i}\n\n" + line * 14
    )
    ids.append(m.id)
# Creates go to a store of their own, so that retrieves read the same 2,000 memories throughout.
load = client.beta.memory_stores.create(name=name + "-creates")
with open(out, "w") as f:
    f.write(f'store = "{store.id}"\ncreate_store = "{load.id}"\n')
    f.write("ids = {" + ",".join(f'"{i}"' for i in ids) + "}\n")
print(load.id)
