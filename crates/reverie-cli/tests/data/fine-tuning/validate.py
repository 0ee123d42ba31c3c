"""Validates a fine-tuning JSONL file against the provider's documented format.

Usage: validate.py openai|anthropic FILE. Each line must be one JSON object that the format's
schema (beside this script) accepts; an Anthropic (Bedrock) record's turns must also alternate,
user first, assistant last. Prints the number of records; exits 1 naming the first bad line.
"""

import json
import pathlib
import sys

import jsonschema


def main() -> int:
    fmt, path = sys.argv[1], sys.argv[2]
    schema = json.loads((pathlib.Path(__file__).parent / f"{fmt}.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    text = pathlib.Path(path).read_text(encoding="utf-8")
    if not text.endswith("\n"):
        print(f"{path}: the last line has no newline", file=sys.stderr)
        return 1
    n = 0
    for i, line in enumerate(text.split("\n")[:-1], 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            print(f"{path}:{i}: not JSON: {e}", file=sys.stderr)
            return 1
        errors = sorted(validator.iter_errors(record), key=lambda e: list(e.path))
        if errors:
            print(f"{path}:{i}: {errors[0].message} at {list(errors[0].path)}", file=sys.stderr)
            return 1
        if fmt == "anthropic":
            roles = [m["role"] for m in record["messages"]]
            want = ["user" if k % 2 == 0 else "assistant" for k in range(len(roles))]
            if roles != want or roles[-1] != "assistant":
                print(f"{path}:{i}: turns do not alternate user/assistant: {roles}", file=sys.stderr)
                return 1
        n += 1
    print(n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
