#!/usr/bin/env python3
"""A model for `reverie dream --model exec:…` that answers from recorded answers: a model's
answers to the curator requests that `reverie bench curation` makes on
../shared/data/transcripts, one file per request named by the SHA-256 of the request's bytes.
It reproduces the model-curator figures of BENCHMARKS.md without a model:

    reverie bench curation --data ../shared/data/transcripts --no-growth \
        --model "exec:python3 bench/curator-answers/answer.py"

A request it holds no answer for (the prompt, the condensing or the data changed) fails the
dream with the request's digest: the answers belong to the reverie version that recorded them.
"""
import hashlib
import os
import sys

request = sys.stdin.buffer.read()
digest = hashlib.sha256(request).hexdigest()
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), digest + ".json")
if not os.path.exists(path):
    sys.stderr.write(f"no recorded answer for request {digest[:12]}\n")
    sys.exit(3)
sys.stdout.write(open(path, encoding="utf-8").read())
