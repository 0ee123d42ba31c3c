"""The SDK's own memory-folder sync client (`SessionMemoryStores`, anthropic/lib/tools/_memories.py)
against `reverie serve`: a store downloaded into a folder; files created, edited and deleted
locally reach the store; the store's changes reach the folder.

Usage: python memory_sync.py BASE_URL API_KEY. Exits non-zero on the first failed check.
"""

import asyncio
import sys
import tempfile
from pathlib import Path

from anthropic import Anthropic, AsyncAnthropic
from anthropic.lib.tools._memories import MIN_MEMORY_SYNC_INTERVAL, SessionMemoryStores
from anthropic.types.beta.beta_managed_agents_session import BetaManagedAgentsSession
from anthropic.types.beta.sessions.beta_managed_agents_memory_store_resource import (
    BetaManagedAgentsMemoryStoreResource,
)

base_url, api_key = sys.argv[1], sys.argv[2]
sync_client = Anthropic(api_key=api_key, base_url=base_url, max_retries=0)
mems = sync_client.beta.memory_stores.memories


def remote(store_id):
    out = {}
    for item in mems.list(store_id):
        out[item.path] = mems.retrieve(item.id, memory_store_id=store_id).content
    return out


def session_for(store_id, mount):
    resource = BetaManagedAgentsMemoryStoreResource.construct(
        type="memory_store", memory_store_id=store_id, mount_path=str(mount), access="read_write", name="synced"
    )
    # `download` reads only the session's resources.
    return BetaManagedAgentsSession.construct(resources=[resource])


async def main():
    client = AsyncAnthropic(api_key=api_key, base_url=base_url, max_retries=0)
    store = sync_client.beta.memory_stores.create(name="synced")
    mems.create(store.id, path="/a.md", content="- a\n")
    b = mems.create(store.id, path="/dir/b.md", content="- b\n")
    mems.create(store.id, path="/c.md", content="- c\n")

    work = Path(tempfile.mkdtemp())
    mount = work / "mnt" / "synced"
    sms = SessionMemoryStores(client, workdir=work, sync_interval=MIN_MEMORY_SYNC_INTERVAL)
    await sms.download(session_for(store.id, mount))
    assert (mount / "a.md").read_text() == "- a\n"
    assert (mount / "dir" / "b.md").read_text() == "- b\n"
    assert (mount / "c.md").read_text() == "- c\n"

    # Local edits, a new file and a deletion; a remote edit meanwhile.
    (mount / "a.md").write_text("- a, edited locally\n")
    (mount / "notes").mkdir()
    (mount / "notes" / "new.md").write_text("- written by the agent\n")
    (mount / "c.md").unlink()
    mems.update(b.id, memory_store_id=store.id, content="- b, edited on the server\n")

    await sms.finish()
    after = remote(store.id)
    assert after.get("/a.md") == "- a, edited locally\n", after
    assert after.get("/notes/new.md") == "- written by the agent\n", after
    assert "/c.md" not in after, after
    assert (mount / "dir" / "b.md").read_text() == "- b, edited on the server\n"
    assert after.get("/dir/b.md") == "- b, edited on the server\n", after
    await sms.dispose()

    # A new session downloads exactly the store as it is now.
    mount2 = work / "mnt" / "again"
    sms2 = SessionMemoryStores(client, workdir=work, sync_interval=MIN_MEMORY_SYNC_INTERVAL)
    await sms2.download(session_for(store.id, mount2))
    files = sorted(
        str(p.relative_to(mount2)) for p in mount2.rglob("*") if p.is_file() and not p.name.startswith(".anthropic")
    )
    assert files == ["a.md", "dir/b.md", "notes/new.md"], files
    await sms2.dispose()
    print("ok")


asyncio.run(main())
