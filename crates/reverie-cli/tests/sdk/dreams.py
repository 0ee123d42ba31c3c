"""The official Anthropic SDK (2.12.0) against `reverie serve`: every dream call and its
documented errors.

Usage: python dreams.py BASE_URL API_KEY STORE_ID SESSION_ID. Exits non-zero on the first failed
check.
"""

import sys
import time

import anthropic
from anthropic import Anthropic

base_url, api_key, store_id, session_id = sys.argv[1:5]
client = Anthropic(api_key=api_key, base_url=base_url, max_retries=0)
dreams = client.beta.dreams


def expect(exc, fn, kind=None, status=None):
    try:
        fn()
    except exc as e:
        if kind is not None:
            assert e.body["error"]["type"] == kind, (e.body, kind)
        if status is not None:
            assert e.status_code == status, (e.status_code, status)
        return e
    raise AssertionError(f"expected {exc.__name__}")


def wait(dream_id):
    for _ in range(600):
        d = dreams.retrieve(dream_id)
        if d.status in ("completed", "failed", "canceled"):
            return d
        time.sleep(0.05)
    raise AssertionError(f"dream {dream_id} did not finish")


inputs = [
    {"type": "memory_store", "memory_store_id": store_id},
    {"type": "sessions", "session_ids": [session_id]},
]

# create_new (the default): the input store is never modified; the output is a new store.
before = client.beta.memory_stores.retrieve(store_id)
d = dreams.create(inputs=inputs, model="claude-sonnet-4-5")
assert d.type == "dream" and d.id.startswith("drm_") and d.status in ("pending", "running", "completed"), d
d = wait(d.id)
assert d.status == "completed", d
assert len(d.outputs) == 1 and d.outputs[0].memory_store_id != store_id, d.outputs
assert d.usage is not None
out = client.beta.memory_stores.retrieve(d.outputs[0].memory_store_id)
assert out.type == "memory_store"
assert client.beta.memory_stores.retrieve(store_id).updated_at == before.updated_at
lessons = [m.path for m in client.beta.memory_stores.memories.list(out.id)]
assert lessons, "the dream wrote memories"

# update_existing: the input store itself, as a model config object.
u = dreams.create(
    inputs=inputs,
    model={"id": "claude-sonnet-4-5", "speed": "standard"},
    instructions="Keep the staging facts.",
    output_behavior={"type": "update_existing", "memory_store_id": store_id},
)
u = wait(u.id)
assert u.status == "completed" and u.outputs[0].memory_store_id == store_id, u
assert u.instructions == "Keep the staging facts."

# List, with status filters and cursors.
ids = [x.id for x in dreams.list(limit=1)]
assert set(ids) >= {d.id, u.id}, ids
done = dreams.list(statuses=["completed"])
assert all(x.status == "completed" for x in done.data) and done.data
assert dreams.list(statuses=["running"]).data == []

# Cancelling a finished dream is 400; archive hides it from the default listing.
expect(anthropic.BadRequestError, lambda: dreams.cancel(d.id), "invalid_request_error", 400)
a = dreams.archive(d.id)
assert a.archived_at is not None
assert d.id not in [x.id for x in dreams.list()]
assert d.id in [x.id for x in dreams.list(include_archived=True)]

# Bad requests name the rule.
expect(anthropic.BadRequestError, lambda: dreams.create(inputs=inputs[:1], model="m"), "invalid_request_error", 400)
expect(
    anthropic.BadRequestError,
    lambda: dreams.create(inputs=[inputs[0], {"type": "sessions", "session_ids": []}], model="m"),
    "invalid_request_error",
)
expect(anthropic.BadRequestError, lambda: dreams.create(inputs=inputs, model="m", instructions=""), "invalid_request_error")
expect(anthropic.NotFoundError, lambda: dreams.retrieve("drm_0000000000000000000000"), "not_found_error", 404)
expect(
    anthropic.NotFoundError,
    lambda: dreams.create(
        inputs=[{"type": "memory_store", "memory_store_id": "memstore_0000000000000000000000"}, inputs[1]],
        model="m",
    ),
    "not_found_error",
)
print("ok")
