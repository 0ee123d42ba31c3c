"""The official Anthropic SDK (2.12.0) against `reverie serve`: every memory-store, memory and
memory-version call, and the documented errors, as a client would make them.

Usage: python memory_stores.py BASE_URL API_KEY. Exits non-zero on the first failed check.
"""

import hashlib
import sys

import anthropic
from anthropic import Anthropic

base_url, api_key = sys.argv[1], sys.argv[2]
client = Anthropic(api_key=api_key, base_url=base_url, max_retries=0)
ms = client.beta.memory_stores


def expect(exc, fn, kind=None, status=None):
    try:
        fn()
    except exc as e:
        if kind is not None:
            assert e.body["error"]["type"] == kind, (e.body, kind)
            assert e.body["type"] == "error", e.body
            assert e.body["error"]["message"], e.body
        if status is not None:
            assert e.status_code == status, (e.status_code, status)
        return e
    raise AssertionError(f"expected {exc.__name__}")


# Stores: create, retrieve, update (metadata set and removed), list with cursors, archive.
store = ms.create(name="sdk", description="conformance", metadata={"owner": "ana", "team": "x"})
assert store.type == "memory_store" and store.id.startswith("memstore_"), store
assert store.name == "sdk" and store.metadata == {"owner": "ana", "team": "x"}
got = ms.retrieve(store.id)
assert got.id == store.id and got.created_at == store.created_at
upd = ms.update(store.id, name="sdk2", metadata={"team": None, "k": "v"})
assert upd.name == "sdk2" and upd.metadata == {"owner": "ana", "k": "v"}, upd.metadata
others = [ms.create(name=f"s{i}") for i in range(3)]
page = ms.list(limit=2)
assert len(page.data) == 2 and page.next_page, page
ids = [s.id for s in ms.list(limit=2)]  # auto-pagination follows next_page
assert {store.id, *[o.id for o in others]} <= set(ids), ids
assert len(ids) == len(set(ids))

# Memories: create (basic view), retrieve (full), list with prefix, depth and view, update
# with a precondition, rename, delete with an expected digest.
mems = ms.memories
m = mems.create(store.id, path="/projects/foo/build.md", content="- build with `cargo build`\n")
assert m.type == "memory" and m.id.startswith("mem_"), m
assert m.content is None, "create answers with view=basic"
sha = hashlib.sha256("- build with `cargo build`\n".encode()).hexdigest()
assert m.content_sha256 == sha and m.content_size_bytes == len("- build with `cargo build`\n".encode()), m
full = mems.retrieve(m.id, memory_store_id=store.id)
assert full.content == "- build with `cargo build`\n" and full.path == "/projects/foo/build.md"
assert mems.retrieve(m.id, memory_store_id=store.id, view="basic").content is None
mems.create(store.id, path="/projects/bar/a.md", content="é ünïcode\n")
mems.create(store.id, path="/top.md", content="top\n")
paths = [i.path for i in mems.list(store.id)]
assert paths == ["/projects/bar/a.md", "/projects/foo/build.md", "/top.md"], paths
rolled = mems.list(store.id, depth=1)
kinds = sorted((i.type, i.path) for i in rolled.data)
assert kinds == [("memory", "/top.md"), ("memory_prefix", "/projects/")], kinds
pref = mems.list(store.id, path_prefix="/projects/foo/", view="full")
assert [i.content for i in pref.data] == ["- build with `cargo build`\n"], pref
one = mems.list(store.id, limit=1)
assert len(one.data) == 1 and one.next_page

u = mems.update(
    m.id,
    memory_store_id=store.id,
    content="- build with `cargo build --locked`\n",
    precondition={"type": "content_sha256", "content_sha256": sha},
)
assert u.id == m.id and u.content is None and u.content_sha256 != sha
e = expect(
    anthropic.ConflictError,
    lambda: mems.update(
        m.id,
        memory_store_id=store.id,
        content="lost update",
        precondition={"type": "content_sha256", "content_sha256": sha},
    ),
    "memory_precondition_failed_error",
    409,
)
r = mems.update(m.id, memory_store_id=store.id, path="/build.md", view="full")
assert r.id == m.id and r.path == "/build.md" and r.content.startswith("- build"), r
expect(
    anthropic.ConflictError,
    lambda: mems.create(store.id, path="/build.md", content="again"),
    "memory_path_conflict_error",
    409,
)
expect(
    anthropic.ConflictError,
    lambda: mems.delete(m.id, memory_store_id=store.id, expected_content_sha256=sha),
    "memory_precondition_failed_error",
)
d = mems.delete(m.id, memory_store_id=store.id)
assert d.id == m.id and d.type == "memory_deleted", d
expect(anthropic.NotFoundError, lambda: mems.retrieve(m.id, memory_store_id=store.id), "not_found_error", 404)

# Versions: created, modified (content), modified (rename), deleted — and they outlive the memory.
vs = ms.memory_versions
versions = list(vs.list(store.id, memory_id=m.id))
ops = sorted(v.operation for v in versions)
assert ops == ["created", "deleted", "modified", "modified"], ops
assert all(v.type == "memory_version" and v.id.startswith("memver_") for v in versions)
assert all(v.created_by is not None for v in versions)
created = next(v for v in versions if v.operation == "created")
assert vs.retrieve(created.id, memory_store_id=store.id).content == "- build with `cargo build`\n"
assert [v.operation for v in vs.list(store.id, operation="deleted")] == ["deleted"]
red = vs.redact(created.id, memory_store_id=store.id)
assert red.redacted_at is not None and red.content is None and red.path is None, red
assert red.content_sha256 is None and red.content_size_bytes is None
assert vs.retrieve(created.id, memory_store_id=store.id).content is None

# Errors the SDK maps to its exception classes, each with the contract's body.
expect(anthropic.BadRequestError, lambda: mems.create(store.id, path="no-slash", content="x"), "invalid_request_error", 400)
expect(anthropic.BadRequestError, lambda: mems.create(store.id, path="/a/../b", content="x"), "invalid_request_error")
expect(anthropic.BadRequestError, lambda: mems.create(store.id, path="/big.md", content="x" * 102_401), "invalid_request_error")
expect(anthropic.BadRequestError, lambda: mems.list(store.id, limit=101), "invalid_request_error")
expect(anthropic.BadRequestError, lambda: ms.create(name=""), "invalid_request_error")
expect(anthropic.NotFoundError, lambda: ms.retrieve("memstore_0000000000000000000000"), "not_found_error")
expect(anthropic.NotFoundError, lambda: mems.retrieve("mem_0000000000000000000000", memory_store_id=store.id), "not_found_error")
expect(anthropic.BadRequestError, lambda: ms.retrieve("not-an-id"), None)
mems.create(store.id, path="/big.md", content="x" * 102_400)  # exactly the limit is fine

# An archived store is read-only.
arch = ms.archive(others[0].id)
assert arch.archived_at is not None
expect(anthropic.ConflictError, lambda: mems.create(others[0].id, path="/a.md", content="x"), "conflict_error", 409)
expect(anthropic.ConflictError, lambda: ms.update(others[0].id, name="nope"), "conflict_error", 409)
assert others[0].id not in [s.id for s in ms.list()]
assert others[0].id in [s.id for s in ms.list(include_archived=True)]

# Delete a store.
gone = ms.delete(others[1].id)
assert gone.id == others[1].id and gone.type == "memory_store_deleted"
expect(anthropic.NotFoundError, lambda: ms.retrieve(others[1].id), "not_found_error")
# A wrong key: 401, authentication_error.
bad = Anthropic(api_key="rvk_wrong", base_url=base_url, max_retries=0)
expect(anthropic.AuthenticationError, lambda: bad.beta.memory_stores.list(), "authentication_error", 401)
print("ok")
