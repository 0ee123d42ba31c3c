#!/usr/bin/env python3
"""Writes N small Claude Code transcripts (a failing `cargo test`, then a passing one; four
errors in turn) into DIR, for timing `reverie curve` on a store of many sessions:

    scripts/curve-sessions.py 1000 /tmp/curve1k
    reverie --database /tmp/curve1k.db store create s
    reverie --database /tmp/curve1k.db ingest -s s /tmp/curve1k
    reverie --database /tmp/curve1k.db dream -s s
    time reverie --database /tmp/curve1k.db curve -s s --json > /dev/null
"""
import json
import os
import sys

ERRORS = [
    "error: DATABASE_URL must be set",
    "error: linker `cc` not found",
    "fatal: not a git repository",
    "error[E0433]: failed to resolve: use of undeclared crate `serde`",
]


def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for d in range(n):
        sid = f"s{d}"

        def ts(s):
            return f"2026-01-{1 + d // 1440:02d}T{(d // 60) % 24:02d}:{d % 60:02d}:{s:02d}Z"

        base = {"sessionId": sid, "cwd": "/home/dev/app"}
        lines = [
            {**base, "type": "user", "uuid": "u1", "timestamp": ts(0),
             "message": {"role": "user", "content": f"run the tests, round {d}"}},
            {**base, "type": "assistant", "uuid": "a1", "timestamp": ts(1),
             "message": {"role": "assistant", "content": [
                 {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "cargo test"}}]}},
            {**base, "type": "user", "uuid": "r1", "timestamp": ts(2),
             "message": {"role": "user", "content": [
                 {"type": "tool_result", "tool_use_id": "t1", "is_error": True,
                  "content": ERRORS[d % len(ERRORS)]}]}},
            {**base, "type": "assistant", "uuid": "a2", "timestamp": ts(3),
             "message": {"role": "assistant", "content": [
                 {"type": "tool_use", "id": "t2", "name": "Bash",
                  "input": {"command": "cargo test --workspace"}}]}},
            {**base, "type": "user", "uuid": "r2", "timestamp": ts(4),
             "message": {"role": "user", "content": [
                 {"type": "tool_result", "tool_use_id": "t2", "is_error": False,
                  "content": "test result: ok"}]}},
        ]
        with open(os.path.join(out, f"{d:05d}.jsonl"), "w") as f:
            f.writelines(json.dumps(line) + "\n" for line in lines)


if __name__ == "__main__":
    main()
