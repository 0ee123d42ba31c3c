#!/usr/bin/env python3
"""A model for `reverie dream --model exec:…` that hands each request to someone else — a person
or an agent acting as the curator — through a folder, and records the answers so that
answer.py can replay them without anyone:

    export REVERIE_RELAY=/tmp/relay REVERIE_MODEL_TIMEOUT=3600
    reverie bench curve --data ../shared/data/transcripts \
        --model "exec:python3 bench/curator-answers/relay.py"

Each request is written to $REVERIE_RELAY/pending/DIGEST.json (DIGEST: the SHA-256 of the
request's bytes); the answer (the curator's JSON answer, or a ModelReply) is expected in
$REVERIE_RELAY/answers/DIGEST.json, written whole (write elsewhere, then rename). A request
already answered here (a recorded answer beside this script) is answered at once. Each new
answer is recorded beside this script, where answer.py finds it.
"""
import hashlib
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
relay = os.environ.get("REVERIE_RELAY")
if not relay:
    sys.stderr.write("relay.py: set REVERIE_RELAY to the folder requests and answers go through\n")
    sys.exit(2)
request = sys.stdin.buffer.read()
digest = hashlib.sha256(request).hexdigest()
recorded = os.path.join(here, digest + ".json")
if os.path.exists(recorded):
    sys.stdout.write(open(recorded, encoding="utf-8").read())
    sys.exit(0)
for d in ("pending", "answers", "done"):
    os.makedirs(os.path.join(relay, d), exist_ok=True)
pending = os.path.join(relay, "pending", digest + ".json")
tmp = pending + ".tmp"
with open(tmp, "wb") as f:
    f.write(request)
os.replace(tmp, pending)
answer = os.path.join(relay, "answers", digest + ".json")
while not os.path.exists(answer):
    time.sleep(1)
text = open(answer, encoding="utf-8").read()
with open(recorded + ".tmp", "w", encoding="utf-8") as f:
    f.write(text)
os.replace(recorded + ".tmp", recorded)
os.replace(pending, os.path.join(relay, "done", digest + ".json"))
sys.stdout.write(text)
