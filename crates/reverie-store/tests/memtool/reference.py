#!/usr/bin/env python3
"""Reference side of reverie's byte-for-byte differential test of the memory tool.

Anthropic's "memory tool" (`memory_20250818`) lets a model keep files under a
virtual `/memories` directory through six commands: view, create, str_replace,
insert, delete and rename.  The Python SDK ships a reference implementation,
`BetaLocalFilesystemMemoryTool`, which keeps the files on the local disk.
reverie implements the same tool on top of its own store and promises to answer
every command exactly as the reference does, down to the byte.

This script produces the evidence for that promise.  It generates command
sequences -- about twenty hand-written `fixed-*` ones that pin down the edge
cases, then `--count` random ones -- runs each sequence through the reference in
a fresh directory, and writes the commands together with the reference's
answers as JSON.  A Rust test replays the same commands against reverie and
compares every answer.  A result is turned into a string the way the SDK's tool
runner does it (`tool_result_content` / `tool_error_content`), so what is
compared is what the model would read.

reverie emulates the reference's host (ext4 on Linux, CPython 3.11) only within
some limits, and every generated command stays inside them:

* a path that gets created has at most 19 segments below /memories and stays
  well under 900 bytes even if every non-printable-ASCII character tripled;
* file contents stay under 50,000 bytes;
* a directory holds only a handful of entries, so ext4 keeps reporting its
  size as 4096 bytes;
* `insert_line` and `view_range` values lie within +-1000.

Random commands are built against the live reference directory (so they hit
existing files often) and checked against these limits before they run; after
every command the directory tree is checked again, and a random sequence that
broke a limit anyway is thrown away and drawn afresh.  Everything is derived
from `--seed`, so a run is reproducible.

Usage:  reference.py --seed S --count N --out FILE   (FILE may be "-" for stdout)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

SDK_VERSION = "2.12.0"
PYTHON_VERSION = (3, 11)
INSTALL_HINT = f"python3 -m pip install anthropic=={SDK_VERSION}"

# crates/reverie-store/tests/memtool/reference.py -> the repository root is 4 levels up.
REPO_ROOT = Path(__file__).resolve().parents[4]
DEFAULT_BASE = REPO_ROOT / "target" / "memtool-ref"

EXT4_DIR_SIZE = 4096

# Limits reverie's emulation relies on (see the module docstring).
MAX_CREATED_DEPTH = 8  # segments below /memories; reverie allows 19
MAX_PATH_COST = 850  # bytes, counting non-printable-ASCII characters 3x; reverie allows ~900
MAX_CONTENT_BYTES = 49_000  # reverie allows 50,000
MAX_DIR_ENTRIES = 10  # ext4 keeps a directory at 4096 bytes well past this
MAX_FILES = 1_500
MAX_INT = 1_000  # |insert_line| and |view_range[i]|
MAX_COMMAND_PATH_BYTES = 1_500  # keeps every path far from PATH_MAX whatever BASE is

Command = dict[str, Any]
Result = dict[str, Any]
Snapshot = dict[tuple[str, ...], bool]  # segments below /memories -> is a directory


# --------------------------------------------------------------------------- #
# The SDK
# --------------------------------------------------------------------------- #


def fail(message: str) -> None:
    print(f"reference.py: {message}", file=sys.stderr)
    sys.exit(2)


@dataclass(frozen=True)
class Sdk:
    """The reference implementation and the tool runner's result rendering."""

    tool_class: type
    result_content: Callable[[Any], Any]
    error_content: Callable[[BaseException], Any]

    def run(self, tool: Any, command: Command) -> Result:
        """Runs one command the way the SDK's tool runner does and renders the outcome."""
        try:
            content = self.result_content(tool.call(command))
            is_error = False
        except Exception as exc:  # the tool runner catches everything, and so must we
            content = self.error_content(exc)
            is_error = True
        if not isinstance(content, str):
            raise RuntimeError(f"the reference returned non-text content for {command!r}: {content!r}")
        return {"is_error": is_error, "content": content}


def load_sdk() -> Sdk:
    try:
        import anthropic
        from anthropic.lib.tools._beta_builtin_memory_tool import BetaLocalFilesystemMemoryTool
        from anthropic.lib.tools._tool_dispatch import tool_error_content, tool_result_content
    except ImportError as exc:
        fail(f"cannot import the Anthropic SDK ({exc}). Run: {INSTALL_HINT}")
    if anthropic.__version__ != SDK_VERSION:
        fail(f"the reference must be anthropic=={SDK_VERSION}, found {anthropic.__version__}. Run: {INSTALL_HINT}")
    return Sdk(BetaLocalFilesystemMemoryTool, tool_result_content, tool_error_content)


def prepare_base(base: Path) -> Path:
    """Makes BASE and checks that its filesystem reports directories as 4096 bytes, like ext4."""
    base.mkdir(parents=True, exist_ok=True)
    base = base.resolve()
    if len(str(base).encode()) + MAX_COMMAND_PATH_BYTES > 3_500:
        fail(f"--base {base} is too long: the reference's outputs would depend on it through PATH_MAX")
    probe = tempfile.mkdtemp(dir=base)
    try:
        size = os.stat(probe).st_size
    finally:
        os.rmdir(probe)
    if size != EXT4_DIR_SIZE:
        fail(
            f"a new directory in {base} reports st_size {size}, not {EXT4_DIR_SIZE}. The reference must run on a "
            f"filesystem whose directories report {EXT4_DIR_SIZE} bytes (ext4); pass --base DIR on such a filesystem."
        )
    return base


# --------------------------------------------------------------------------- #
# Commands
# --------------------------------------------------------------------------- #


def view(path: str, view_range: list[int] | None = None) -> Command:
    command: Command = {"command": "view", "path": path}
    if view_range is not None:
        command["view_range"] = view_range
    return command


def create(path: str, file_text: str = "") -> Command:
    return {"command": "create", "path": path, "file_text": file_text}


def str_replace(path: str, old_str: str, new_str: str) -> Command:
    return {"command": "str_replace", "path": path, "old_str": old_str, "new_str": new_str}


def insert(path: str, insert_line: int, insert_text: str) -> Command:
    return {"command": "insert", "path": path, "insert_line": insert_line, "insert_text": insert_text}


def delete(path: str) -> Command:
    return {"command": "delete", "path": path}


def rename(old_path: str, new_path: str) -> Command:
    return {"command": "rename", "old_path": old_path, "new_path": new_path}


COMMAND_KINDS = ("view", "create", "str_replace", "insert", "delete", "rename")


def command_paths(command: Command) -> list[str]:
    if command["command"] == "rename":
        return [command["old_path"], command["new_path"]]
    return [command["path"]]


# --------------------------------------------------------------------------- #
# Names, paths and texts
# --------------------------------------------------------------------------- #

BASIC_NAMES = ["a", "b", "dir", "sub", "notes.md", "todo.txt"]
EXOTIC_NAMES = [
    ".hidden",
    "日本.md",
    "\u00e9",  # é, NFC
    "e\u0301",  # é, NFD: a different name on ext4
    "x y",
    "100%.md",
    "%41",
    "%2e%2e",
    "..%2f",
    "...",
    "A",
    "a\nb",
    "tab\tname",
    "\x01ctl",
    "del\x7f",
    "zero\u200bwidth",
    "line\u2028sep",
    "\u202ertl",
    "emoji\U0001f642",
    "back\\slash",
    " lead",
    "trail ",
    "memories",
]


def exact_bytes(text: str, size: int, pad: str = "x") -> str:
    """The longest prefix of `text` within `size` UTF-8 bytes, padded with ASCII to exactly `size` bytes."""
    out, used = [], 0
    for char in text:
        width = len(char.encode())
        if used + width > size:
            break
        out.append(char)
        used += width
    return "".join(out) + pad * (size - used)


def long_name(rng: random.Random, low: int, high: int) -> str:
    """A name of `low`..`high` UTF-8 bytes; ext4 refuses names over 255 bytes."""
    size = rng.randint(low, high)
    fill = rng.choice(["n", "é", "日", "ab-", "\U0001f642"])
    return exact_bytes(f"long{size}-" + fill * size, size)


def path_cost(segments: tuple[str, ...]) -> int:
    """UTF-8 length of /memories/<segments>, counting non-printable-ASCII characters 3x."""
    text = "/memories/" + "/".join(segments)
    return sum(1 if " " <= char <= "~" else 3 * len(char.encode()) for char in text)


def resolve(path: str) -> tuple[str, ...] | None:
    """The segments below /memories the reference resolves `path` to, or None when it refuses it.

    Mirrors `_validate_path`: the prefix check, the `/memories` strip with `lstrip("/")`, and a lexical
    resolution of `.`, `..` and empty segments (there are no symlinks).  A path that climbs above the
    base directory can only come back by naming the temp directory, which nothing here does.
    """
    if not path.startswith("/memories") or "\x00" in path:
        return None
    stack = ["memories"]
    for part in path[len("/memories") :].lstrip("/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not stack:
                return None
            stack.pop()
        else:
            stack.append(part)
    if not stack or stack[0] != "memories":
        return None
    return tuple(stack[1:])


def split_lines_keeping_cr(content: str) -> list[str]:
    """The reference's line split for insert: on LF only, without the empty tail of a final newline."""
    lines = content.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


WORDS = [
    "alpha", "beta", "gamma", "delta", "TODO:", "-", "#", "note", "a", "aa", "the", "é", "e\u0301",
    "日本語", "🙂", "\t", "x y", "`code`", "100%", "\\n", "naïve", "Ω", "  ",
]  # fmt: skip

TEXT_SNIPPETS = [
    "hello",
    "hello\n",
    "\n",
    "\n\n",
    "one\ntwo\nthree\n",
    "one\ntwo\nthree",
    "a\r\nb\r\n",
    "a\r\nb\rc\n\nd",
    "\r",
    "no newline at end",
    "héllo wörld\n日本語のテキスト\n🙂 emoji \U0001f680\n",
    "tab\tseparated\tvalues\n",
    "nul\x00byte\n",
    "ctl\x01\x02\x1b[0m\x7f\n",
    "nel\x85line\u2028sep\u2029para\x0bvt\x0cff\n",
    "aaaa\naaa\n",
    "aaa",
    "- [ ] buy milk\n- [x] write tests\n",
    "e\u0301 vs \u00e9\n",
    "`backticks` and \\ backslashes\n",
]

CONTENT_SIZES = [
    0, 1, 999, 1000, 1023, 1024, 1025, 1075, 1100, 1126, 1280, 1536, 1792,
    2047, 2048, 2304, 2816, 3328, 4096, 10239, 10240,
]  # fmt: skip

NEW_STRS = [
    "", "X", "replaced", "multi\nline\nnew", "\n", "ünïcødé 🙂", "\r\n", "back`tick", "日本", "y" * 300,
    "line1\nline2\nline3\nline4\nline5\n",
]  # fmt: skip

INSERT_TEXTS = [
    "inserted", "", "\n", "two\nlines", "trailing\n\n\n", "crlf\r\n", "\r\n", "ünï 🙂", "  spaced  ",
    "\ttab", "z" * 200, "mid\r\nline\n", "\r", "a\x00b",
]  # fmt: skip

VIEW_RANGES = [
    [1, -1], [2, 3], [0, 100], [-3, -2], [5, 2], [3], [], [3, -3], [1, 1], [2, -1], [0, 0],
    [1000, 1000], [-1000, 1000], [-1, -1], [4, 1000],
]  # fmt: skip


def random_lines(rng: random.Random, max_lines: int = 12) -> str:
    lines = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 6))) for _ in range(rng.randint(1, max_lines))]
    endings = rng.choices(["\n", "\r\n", "\r"], weights=[16, 3, 1], k=len(lines))
    text = "".join(line + ending for line, ending in zip(lines, endings))
    return text if rng.random() < 0.6 else text.rstrip("\r\n")


def random_text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.08:
        return ""
    if roll < 0.30:
        return rng.choice(TEXT_SNIPPETS)
    if roll < 0.88:
        return random_lines(rng)
    size = rng.choice(CONTENT_SIZES)
    filler = "".join(random_lines(rng, 40) + "\n" for _ in range(size // 200 + 1)) + "x" * size
    return exact_bytes(filler, size)


# --------------------------------------------------------------------------- #
# Running sequences
# --------------------------------------------------------------------------- #


class LimitExceeded(Exception):
    """A sequence left the limits reverie emulates; a random one is drawn afresh."""


def snapshot(root: Path) -> Snapshot:
    """Everything below `root`, in sorted order, as segments -> is-a-directory."""
    found: Snapshot = {}

    def walk(directory: str, prefix: tuple[str, ...]) -> None:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda entry: entry.name)
        for entry in entries:
            segments = prefix + (entry.name,)
            is_dir = entry.is_dir(follow_symlinks=False)
            found[segments] = is_dir
            if is_dir:
                walk(entry.path, segments)

    walk(str(root), ())
    return found


class Session:
    """One sequence run against the reference in its own fresh directory."""

    def __init__(self, sdk: Sdk, base: Path, name: str) -> None:
        self.sdk = sdk
        self.name = name
        self.dir = Path(tempfile.mkdtemp(dir=base))
        self.tool = sdk.tool_class(base_path=str(self.dir))
        self.root = self.dir / "memories"
        self.commands: list[Command] = []
        self.results: list[Result] = []
        self.snapshots: list[Snapshot] = []  # the tree before each command, for the coverage summary

    def close(self) -> None:
        shutil.rmtree(self.dir)

    def run(self, command: Command) -> Result:
        check_command_shape(command)
        before = snapshot(self.root)
        result = self.sdk.run(self.tool, command)
        if str(self.dir) in result["content"]:
            raise RuntimeError(f"{self.name}: the result leaks the temp directory: {result!r}")
        self.commands.append(command)
        self.results.append(result)
        self.snapshots.append(before)
        self.check_limits()
        return result

    def check_limits(self) -> None:
        tree = snapshot(self.root)
        children: Counter[tuple[str, ...]] = Counter(segments[:-1] for segments in tree)
        for segments, is_dir in tree.items():
            full = self.root.joinpath(*segments)
            if len(segments) > MAX_CREATED_DEPTH or path_cost(segments) > MAX_PATH_COST:
                raise LimitExceeded(f"path too deep or long: {segments!r}")
            if is_dir and os.stat(full).st_size != EXT4_DIR_SIZE:
                raise LimitExceeded(f"directory grew past {EXT4_DIR_SIZE} bytes: {segments!r}")
            if not is_dir and os.stat(full).st_size > MAX_CONTENT_BYTES:
                raise LimitExceeded(f"file too large: {segments!r}")
            if segments[-1].startswith(".tmp-"):
                raise RuntimeError(f"{self.name}: the reference left a temp file behind: {segments!r}")
        if os.stat(self.root).st_size != EXT4_DIR_SIZE:
            raise LimitExceeded("/memories grew past 4096 bytes")
        if max(children.values(), default=0) > MAX_DIR_ENTRIES + 1:
            raise LimitExceeded("a directory has too many entries")
        if sum(not is_dir for is_dir in tree.values()) > MAX_FILES:
            raise LimitExceeded("too many files")

    def record(self) -> dict[str, Any]:
        return {"name": self.name, "commands": self.commands, "results": self.results}


def check_command_shape(command: Command) -> None:
    """Fails unless `command` is one of the six shapes reverie accepts, within its limits (a generator bug)."""

    def require(condition: bool, what: str) -> None:
        if not condition:
            raise RuntimeError(f"generated command breaks the contract ({what}): {command!r:.300}")

    keys = {
        "view": {"command", "path"},
        "create": {"command", "path", "file_text"},
        "str_replace": {"command", "path", "old_str", "new_str"},
        "insert": {"command", "path", "insert_line", "insert_text"},
        "delete": {"command", "path"},
        "rename": {"command", "old_path", "new_path"},
    }[command["command"]]
    optional = {"view_range"} if command["command"] == "view" else set()
    require(keys <= set(command) <= keys | optional, "keys")
    for value in command.values():
        if isinstance(value, str):
            require(not any("\ud800" <= char <= "\udfff" for char in value), "lone surrogate")
            require(len(value.encode()) <= MAX_CONTENT_BYTES, "string too large")
    for path in command_paths(command):
        require(len(path.encode()) <= MAX_COMMAND_PATH_BYTES, "path too long")
    numbers = command.get("view_range", []) + ([command["insert_line"]] if "insert_line" in command else [])
    require(all(type(n) is int and abs(n) <= MAX_INT for n in numbers), "integer out of range")


# --------------------------------------------------------------------------- #
# Random sequences
# --------------------------------------------------------------------------- #


class RandomSequence:
    """Draws commands against the live reference tree so that they often hit what is there."""

    def __init__(self, rng: random.Random, session: Session) -> None:
        self.rng = rng
        self.session = session
        self.names = rng.sample(BASIC_NAMES, rng.randint(3, 5)) + rng.sample(EXOTIC_NAMES, rng.randint(1, 4))
        if rng.random() < 0.15:
            self.names.append(long_name(rng, 100, 255))
        if rng.random() < 0.10:
            self.names.append(long_name(rng, 256, 400))
        self.max_depth = rng.randint(1, 4)
        self.tree: Snapshot = {}

    # ---- picking paths ------------------------------------------------------

    def name(self) -> str:
        roll = self.rng.random()
        if roll < 0.02:
            return long_name(self.rng, 100, 255)
        if roll < 0.04:
            return long_name(self.rng, 256, 400)
        return self.rng.choice(self.names)

    def existing(self, want_dir: bool | None) -> list[tuple[str, ...]]:
        return [segments for segments, is_dir in self.tree.items() if want_dir is None or is_dir == want_dir]

    def fresh(self) -> tuple[str, ...]:
        """A path built from the name pool, often below an existing directory; usually one that is not there."""
        dirs = self.existing(True)
        for _ in range(8):
            prefix = self.rng.choice(dirs) if dirs and self.rng.random() < 0.5 else ()
            depth = self.rng.randint(1, max(1, self.max_depth - len(prefix)))
            segments = prefix + tuple(self.name() for _ in range(depth))
            if segments not in self.tree:
                break
        return segments

    def pick(self, want_dir: bool | None, otherwise: Callable[[], tuple[str, ...]] | None = None) -> tuple[str, ...]:
        candidates = self.existing(want_dir)
        if candidates:
            return self.rng.choice(candidates)
        return (otherwise or self.fresh)()

    def under_file(self) -> tuple[str, ...]:
        return self.pick(False) + tuple(self.name() for _ in range(self.rng.randint(1, 2)))

    def render(self, segments: tuple[str, ...]) -> str:
        """A path string for `segments`, usually canonical, sometimes spelled oddly but equivalently."""
        rng = self.rng
        body = "/".join(segments)
        if not segments:
            return rng.choice(["/memories", "/memories", "/memories/", "/memories//", "/memories/.", "/memories/a/.."])
        if rng.random() < 0.75:
            return "/memories/" + body
        return rng.choice(
            [
                "/memories/" + body + "/",
                "/memories//" + "//".join(segments) + "//",
                "/memories/./" + body,
                "/memories/../memories/" + body,
                "/memories/" + self.name() + "/../" + body,
                "/memories" + body,  # no separator after the prefix: the reference accepts it
                "/memories///" + body + "/.",
            ]
        )

    def hostile(self) -> str:
        """A path the reference refuses or treats surprisingly."""
        n, m = self.rng.choice(self.names), self.rng.choice(self.names)
        return self.rng.choice(
            [
                f"/memories/../{n}",
                f"/memories/{n}/../../memories/{m}",
                f"/memories/../memories/{n}",
                f"/memories/../memories2/{n}",
                f"/memories/{n}/../..",
                "/memories/..",
                "/memories/../../../../../../../../etc/passwd",
                f"/memories/%2e%2e/{n}",
                f"/memories/..%2f{n}",
                f"/memories/%2e%2e%2f{n}",
                f"/{n}",
                f"memories/{n}",
                f"/Memories/{n}",
                "",
                "/",
                f" /memories/{n}",
                "/memoriesfoo",
                "/memories..",
                f"/memories../{n}",
                f"/memories\\{n}",
                f"/memories/{n}\x00",
                f"/memories/\x00/{n}",
                f"/memories/{n}/{m}\n",
                "/memories/" + long_name(self.rng, 256, 400),
                f"/memories/{n}/" + long_name(self.rng, 256, 400),
            ]
        )

    def path(self, segments: tuple[str, ...], hostile_chance: float = 0.08) -> str:
        return self.hostile() if self.rng.random() < hostile_chance else self.render(segments)

    def file_content(self, segments: tuple[str, ...] | None) -> str:
        if segments is None or self.tree.get(segments) is not False:
            return ""
        return self.session.root.joinpath(*segments).read_bytes().decode()

    # ---- commands ------------------------------------------------------------

    def make_view(self) -> Command:
        roll = self.rng.random()
        if roll < 0.45:
            segments = self.pick(False)
            view_range = None
            if self.rng.random() < 0.5:
                lines = len(self.file_content(segments).split("\n"))
                a, b = self.rng.randint(-2, lines + 2), self.rng.randint(-2, lines + 2)
                view_range = self.rng.choice(VIEW_RANGES + [[a, b], [a, -1]])
            return view(self.path(segments), view_range)
        if roll < 0.80:
            segments = self.pick(True, lambda: ()) if self.rng.random() < 0.7 else ()
            view_range = self.rng.choice(VIEW_RANGES) if self.rng.random() < 0.1 else None
            return view(self.path(segments), view_range)
        if roll < 0.90:
            return view(self.path(self.fresh()))
        return view(self.path(self.under_file(), hostile_chance=0.5))

    def make_create(self) -> Command:
        roll = self.rng.random()
        if roll < 0.60 or not self.tree:
            segments = self.fresh()
        elif roll < 0.72:
            segments = self.pick(False)
        elif roll < 0.80:
            segments = self.pick(True)
        elif roll < 0.90:
            segments = self.under_file()
        else:
            segments = ()
        return create(self.path(segments), random_text(self.rng))

    def make_str_replace(self) -> Command:
        rng = self.rng
        segments = self.pick(False) if rng.random() < 0.85 else self.pick(None)
        content = self.file_content(segments)
        roll = rng.random()
        if roll < 0.40 and content:
            start = rng.randrange(len(content))
            old = content[start : start + rng.randint(1, 24)]
        elif roll < 0.55 and content:
            lines = content.split("\n")
            old = rng.choice(lines) + ("\n" if rng.random() < 0.4 else "")
        elif roll < 0.65:
            old = rng.choice(["a", "\n", " ", "e", "aa"])
        elif roll < 0.75:
            old = ""
        elif roll < 0.88:
            old = rng.choice(["not present", "🙂🙂🙂", "ALPHA", "\r\n\r\n"])
        else:
            old = rng.choice(TEXT_SNIPPETS)
        new = rng.choice(NEW_STRS + [old + "!", old.upper(), old * 2])
        return str_replace(self.path(segments, hostile_chance=0.05), old, new)

    def make_insert(self) -> Command:
        rng = self.rng
        segments = self.pick(False) if rng.random() < 0.85 else self.pick(None)
        lines = len(split_lines_keeping_cr(self.file_content(segments)))
        line = rng.choice(
            [0, lines, lines, rng.randint(0, lines), rng.randint(0, lines), lines + 1, -1,
             -rng.randint(1, MAX_INT), rng.randint(lines + 1, MAX_INT)]
        )  # fmt: skip
        text = rng.choice(INSERT_TEXTS) if rng.random() < 0.7 else random_lines(rng, 3)
        return insert(self.path(segments, hostile_chance=0.05), line, text)

    def make_delete(self) -> Command:
        roll = self.rng.random()
        if roll < 0.45:
            segments = self.pick(False)
        elif roll < 0.70:
            segments = self.pick(True)
        elif roll < 0.85:
            segments = self.fresh()
        elif roll < 0.90:
            segments = self.under_file()
        else:
            segments = ()
        return delete(self.path(segments))

    def make_rename(self) -> Command:
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            old = self.pick(False)
        elif roll < 0.75:
            old = self.pick(True)
        elif roll < 0.88:
            old = self.fresh()
        elif roll < 0.93:
            old = self.under_file()
        else:
            old = ()
        roll = rng.random()
        if roll < 0.60:
            new = self.fresh()
        elif roll < 0.70:
            new = self.pick(None)
        elif roll < 0.80:
            new = old + tuple(self.name() for _ in range(rng.randint(1, 2)))  # into itself
        elif roll < 0.88:
            new = self.under_file()
        elif roll < 0.92:
            new = old
        else:
            new = ()
        return rename(self.path(old), self.path(new))

    def next_command(self) -> Command:
        self.tree = snapshot(self.session.root)
        files = sum(not is_dir for is_dir in self.tree.values())
        weights = {
            "view": 20,
            "create": 45 if files < 2 else 24,
            "str_replace": 14 if files else 3,
            "insert": 12 if files else 3,
            "delete": 10,
            "rename": 14,
        }
        makers = {
            "view": self.make_view,
            "create": self.make_create,
            "str_replace": self.make_str_replace,
            "insert": self.make_insert,
            "delete": self.make_delete,
            "rename": self.make_rename,
        }
        for _ in range(30):
            kind = self.rng.choices(list(weights), weights=list(weights.values()))[0]
            command = makers[kind]()
            if self.within_limits(command):
                return command
        return view("/memories")

    # ---- limits --------------------------------------------------------------

    def within_limits(self, command: Command) -> bool:
        """Whether running `command` keeps the tree inside the limits reverie emulates.

        Conservative: it counts as created every directory the reference might make, even
        when the command then fails (create and rename make parent directories first).
        """
        if any(len(path.encode()) > MAX_COMMAND_PATH_BYTES for path in command_paths(command)):
            return False
        kind = command["command"]
        if kind == "create":
            return len(command["file_text"].encode()) <= MAX_CONTENT_BYTES and self.creation_fits(
                resolve(command["path"]), ()
            )
        if kind == "rename":
            old = resolve(command["old_path"])
            moved = [()]
            if old is not None and old in self.tree:
                moved += [segments[len(old) :] for segments in self.tree if segments[: len(old)] == old]
            return self.creation_fits(resolve(command["new_path"]), *moved)
        if kind in ("str_replace", "insert"):
            content = self.file_content(resolve(command["path"]))
            if kind == "insert":
                grown = len(content.encode()) + len(command["insert_text"].encode()) + 1
            else:
                grown = len(content.encode()) + len(command["new_str"].encode())
            return grown <= MAX_CONTENT_BYTES
        return True

    def creation_fits(self, target: tuple[str, ...] | None, *moved: tuple[str, ...]) -> bool:
        if target is None or target in self.tree:
            return True  # refused, or "already exists": nothing is created
        new_entries = []
        for depth in range(1, len(target) + 1):
            prefix = target[:depth]
            if prefix in self.tree:
                if not self.tree[prefix]:
                    break  # a file where a directory should be: NotADirectoryError
                continue
            if len(prefix[-1].encode()) > 255:
                break  # ENAMETOOLONG
            new_entries.append(prefix)
        if not new_entries:
            return True
        first = new_entries[0]
        siblings = sum(1 for segments in self.tree if segments[:-1] == first[:-1])
        if siblings + 1 > MAX_DIR_ENTRIES:
            return False
        for entry in new_entries:
            for tail in moved if entry == target else [()]:
                full = entry + tail
                if len(full) > MAX_CREATED_DEPTH or path_cost(full) > MAX_PATH_COST:
                    return False
        return True


def random_sequence(sdk: Sdk, base: Path, name: str, seed: int) -> Session:
    rng = random.Random(seed)
    session = Session(sdk, base, name)
    try:
        generator = RandomSequence(rng, session)
        for _ in range(rng.randint(5, 40)):
            session.run(generator.next_command())
    except BaseException:
        session.close()
        raise
    return session


# --------------------------------------------------------------------------- #
# Hand-written sequences
# --------------------------------------------------------------------------- #

L255 = "n" * 255
L256 = "n" * 256
E254 = "é" * 127
E256 = "é" * 128
J255 = "日" * 85
J258 = "日" * 86
L300 = long_name(random.Random(300), 300, 300)
LEGAL200 = exact_bytes("legal-" + "m" * 200, 200)

TWENTY_LINES = "".join(f"line {i}\n" for i in range(1, 21))


def sized(size: int) -> str:
    return exact_bytes("".join(f"{i:04d} sized content line\n" for i in range(size // 20 + 1)), size)


FIXED_SEQUENCES: list[tuple[str, list[Command]]] = [
    (
        "fixed-basic",
        [
            view("/memories"),
            create("/memories/notes.md", "# Notes\n\n- first\n- second\n"),
            view("/memories/notes.md"),
            view("/memories"),
            str_replace("/memories/notes.md", "- first", "- 1st"),
            insert("/memories/notes.md", 2, "inserted line"),
            view("/memories/notes.md"),
            rename("/memories/notes.md", "/memories/archive/notes.md"),
            view("/memories"),
            delete("/memories/archive/notes.md"),
            view("/memories"),
            delete("/memories/archive"),
            view("/memories"),
        ],
    ),
    (
        "fixed-view-ranges",
        [
            create("/memories/t.txt", "one\ntwo\nthree\nfour\nfive\nsix\n"),
            create("/memories/u.txt", "one\ntwo\nthree"),
            *[view("/memories/t.txt", r) for r in VIEW_RANGES + [[2, 0], [7, -1], [8, -1], [-5, 3]]],
            *[view("/memories/u.txt", r) for r in [[1, -1], [3, 3], [4, 5], [0, -1], [2, -2]]],
            view("/memories", [1, 2]),
            view("/memories/", []),
        ],
    ),
    (
        "fixed-size-formatter-1",
        [create(f"/memories/s1/{size:05d}", sized(size)) for size in CONTENT_SIZES[:10]]
        + [view("/memories"), view("/memories/s1")],
    ),
    (
        "fixed-size-formatter-2",
        [create(f"/memories/s2/{size:05d}", sized(size)) for size in CONTENT_SIZES[10:]]
        + [create(f"/memories/s3/{size:05d}", "é" * (size // 2)) for size in [513, 640, 896, 1280, 5120]]
        + [create("/memories/s3/big", sized(48_000)), view("/memories"), view("/memories/s2/")],
    ),
    (
        "fixed-listing-depth",
        [
            create("/memories/a/b/c/d/deep.md", "deep"),
            create("/memories/a/b/c/file.md", "level three"),
            create("/memories/a/b/file.md", "level two"),
            create("/memories/a/file.md", "level one"),
            create("/memories/a/.hidden-file", "hidden"),
            create("/memories/a/.hidden-dir/inside.md", "inside a hidden dir"),
            create("/memories/a/b/.h", "hidden at depth two"),
            create("/memories/.top-hidden", "hidden at top"),
            create("/memories/z.md", ""),
            view("/memories"),
            view("/memories/a"),
            view("/memories/a/b"),
            view("/memories/a/b/c/"),
            view("/memories/a/.hidden-dir"),
            view("/memories/.top-hidden"),
            view("/memories/a/b/c/d"),
        ],
    ),
    (
        "fixed-create",
        [
            create("/memories/f.md", "first"),
            create("/memories/f.md", "again"),
            create("/memories/d/g.md", "in a new dir"),
            create("/memories/d", "onto a dir"),
            create("/memories/d/", "onto a dir, trailing slash"),
            create("/memories/f.md/x", "parent is a file"),
            create("/memories/f.md/x/y", "grandparent is a file"),
            create("/memories", "root"),
            create("/memories/", "root"),
            create("/memories/d/..", "root via .."),
            create("/memories/f.md/..", "root via a file's .."),
            create("/memories/new/", "trailing slash makes a file"),
            create("/memories/dot/.", "trailing dot makes a file"),
            create("/memories/p/q/r/s.md", "parents made on the way"),
            view("/memories"),
            view("/memories/new"),
            view("/memories/dot"),
        ],
    ),
    (
        "fixed-str-replace",
        [
            create("/memories/s.md", TWENTY_LINES),
            str_replace("/memories/s.md", "line 10\n", "line ten\nand more\n"),
            str_replace("/memories/s.md", "line 1\n", "first\n"),
            str_replace("/memories/s.md", "line 20\n", "last\n"),
            str_replace("/memories/s.md", "line 1", "x"),
            str_replace("/memories/s.md", "absent", "x"),
            str_replace("/memories/s.md", "", "x"),
            view("/memories/s.md"),
            create("/memories/aaaa", "aaaa\naaa"),
            str_replace("/memories/aaaa", "aa", "b"),
            str_replace("/memories/aaaa", "aaa\na", "b"),
            create("/memories/aaa", "aaa"),
            str_replace("/memories/aaa", "aa", "b"),
            view("/memories/aaa"),
            create("/memories/empty", ""),
            str_replace("/memories/empty", "", "Z\nY"),
            view("/memories/empty"),
            create("/memories/u.md", "héllo wörld\r\nsecond 🙂 line\r\n`tick`\r\n"),
            str_replace("/memories/u.md", "wörld\r\nsecond 🙂", "world\nzweite 🚀"),
            str_replace("/memories/u.md", "`tick`", "``"),
            str_replace("/memories/u.md", "nope `x`", "y"),
            view("/memories/u.md"),
            create("/memories/d/inner", "x"),
            str_replace("/memories/d", "x", "y"),
            str_replace("/memories/missing", "x", "y"),
            str_replace("/memories/u.md/x", "x", "y"),
            str_replace("/memories/d/inner/", "x", "y"),
        ],
    ),
    (
        "fixed-insert",
        [
            create("/memories/i.md", "a\nb\nc\n"),
            insert("/memories/i.md", 0, "top"),
            insert("/memories/i.md", 4, "bottom"),
            insert("/memories/i.md", 6, "too far"),
            insert("/memories/i.md", -1, "negative"),
            insert("/memories/i.md", 1000, "way too far"),
            insert("/memories/i.md", 2, "trailing\n\n\n"),
            insert("/memories/i.md", 3, "\r\n"),
            insert("/memories/i.md", 1, ""),
            insert("/memories/i.md", 1, "two\nlines"),
            view("/memories/i.md"),
            create("/memories/e.md", ""),
            insert("/memories/e.md", 1, "x"),
            insert("/memories/e.md", 0, "x"),
            view("/memories/e.md"),
            create("/memories/n.md", "no newline"),
            insert("/memories/n.md", 1, "after"),
            view("/memories/n.md"),
            create("/memories/c.md", "a\r\nb\r\n\n\n"),
            insert("/memories/c.md", 3, "crlf\r\n"),
            view("/memories/c.md"),
            create("/memories/dd/x", ""),
            insert("/memories/dd", 0, "dir"),
            insert("/memories/nothing", 0, "missing"),
            insert("/memories/n.md/x", 0, "under a file"),
        ],
    ),
    (
        "fixed-delete",
        [
            create("/memories/a/b/c.md", "c"),
            create("/memories/a/d.md", "d"),
            create("/memories/f.md", "f"),
            create("/memories/.hidden", "h"),
            delete("/memories"),
            delete("/memories/"),
            delete("/memories/a/.."),
            delete("/memories/."),
            delete("/memories/f.md/.."),
            delete("/memories/missing"),
            delete("/memories/f.md/x"),
            delete("/memories/missing/x"),
            delete("/memories/.hidden"),
            delete("/memories/f.md/"),
            delete("/memories/a"),
            view("/memories"),
        ],
    ),
    (
        "fixed-rename",
        [
            create("/memories/f.md", "file"),
            create("/memories/d/g.md", "g"),
            create("/memories/e/h.md", "h"),
            rename("/memories/f.md", "/memories/f2.md"),
            rename("/memories/f2.md", "/memories/x/y/f3.md"),
            rename("/memories/d", "/memories/d2"),
            rename("/memories/e/h.md", "/memories/d2/g.md"),
            rename("/memories/e", "/memories/d2"),
            rename("/memories/e", "/memories/e/sub"),
            rename("/memories/e", "/memories/e/new/sub"),
            rename("/memories/missing", "/memories/made/by/rename"),
            rename("/memories/d2", "/memories/x/y/f3.md/z"),
            rename("/memories/d2/g.md/", "/memories/g.md"),
            rename("/memories/g.md", "/memories/g.md"),
            rename("/memories", "/memories/root"),
            rename("/memories/.", "/memories/root"),
            rename("/memories/e/..", "/memories/root"),
            rename("/memories/g.md", "/memories"),
            rename("/memories/g.md", "/memories/d2/.."),
            rename("/memories/g.md/x", "/memories/q"),
            view("/memories"),
        ],
    ),
    (
        "fixed-traversal",
        [
            create("/memories/a.md", "a"),
            view("/memories/../x"),
            view("/memories/a/../../memories/a.md"),
            view("/memories/../memories/a.md"),
            view("/memories/.."),
            view("/memories/../memories2/a.md"),
            view("/memories/a/../.."),
            create("/memories/../../../../../../../../etc/passwd", "x"),
            create("/memories/../evil.md", "x"),
            create("/memories/x/../../memories/ok.md", "ok"),
            str_replace("/memories/../a.md", "a", "b"),
            insert("/memories/../a.md", 0, "x"),
            delete("/memories/.."),
            delete("/memories/../memories"),
            rename("/memories/a.md", "/memories/../a.md"),
            rename("/memories/../a.md", "/memories/b.md"),
            rename("/memories/a.md", "/memories/../memories/b.md"),
            view("/memories"),
        ],
    ),
    (
        "fixed-encoded-traversal",
        [
            create("/memories/%2e%2e/x", "literal percent dir"),
            create("/memories/..%2fy", "literal name"),
            create("/memories/%2e%2e%2fz", "literal name"),
            create("/memories/%41", "not decoded"),
            create("/memories/...", "three dots is a name"),
            create("/memories/..../x", "four dots too"),
            view("/memories"),
            view("/memories/%2e%2e/x"),
            view("/memories/A"),
            view("/memories/..."),
        ],
    ),
    (
        "fixed-prefix",
        [
            create("/x", "x"),
            create("memories/a", "x"),
            create("/Memories/a", "x"),
            create("", "x"),
            create("/", "x"),
            create(" /memories/a", "x"),
            create("/memoriesfoo", "accepted, becomes foo"),
            create("/memories.md", "becomes .md"),
            create("/memories\\a", "becomes \\a"),
            view("/memoriesfoo"),
            view("/memories/foo"),
            view("/memories"),
            view("/MEMORIES"),
            str_replace("/x", "a", "b"),
            insert("memories", 0, "x"),
            delete("/memoriesfoo"),
            delete("/x"),
            rename("/memories.md", "/x"),
            rename("/x", "/memories/y"),
            rename("/memories.md", "/memoriesbar"),
            view("/memories/"),
            view("/memories.."),
            view("/memories../x"),
        ],
    ),
    (
        "fixed-slashes-and-dots",
        [
            create("/memories//a//b/", "double slashes"),
            create("/memories/./c", "dot"),
            create("/memories/a/./d/", "dot and trailing slash"),
            create("/memories///e/.", "triple slash"),
            view("/memories/"),
            view("/memories//"),
            view("/memories///a//"),
            view("/memories/./a/."),
            view("/memories/a/b/"),
            view("/memories/a//b"),
            str_replace("/memories//a/b", "double", "single"),
            insert("/memories/./c/", 0, "top"),
            rename("/memories//c", "/memories/a//c/"),
            delete("/memories/a/./d/"),
            view("/memories"),
        ],
    ),
    (
        "fixed-control-characters",
        [
            create("/memories/a\x00b", "nul in path"),
            view("/memories/a\x00b"),
            view("/memories/\x00/x"),
            str_replace("/memories/a\x00b", "a", "b"),
            insert("/memories/a\x00b", 0, "b"),
            delete("/memories/a\x00b"),
            rename("/memories/a\x00b", "/memories/c"),
            create("/memories/ok", "ok"),
            rename("/memories/ok", "/memories/c\x00"),
            create("/memories/a\nb", "newline in name"),
            create("/memories/tab\tname", "tab in name"),
            create("/memories/\x01ctl", "control char"),
            create("/memories/del\x7f", "del char"),
            create("/memories/line\u2028sep/zero\u200bwidth", "format chars"),
            create("/memories/\u202ertl", "bidi override"),
            create("/memories/content", "nul\x00in\x01content\x7f\r\n\x85\u2028\n"),
            view("/memories"),
            view("/memories/content"),
            view("/memories/a\nb"),
            str_replace("/memories/content", "\x00", "[NUL]"),
            view("/memories/content"),
        ],
    ),
    (
        "fixed-unicode-names",
        [
            create("/memories/\u00e9", "NFC"),
            create("/memories/e\u0301", "NFD"),
            create("/memories/日本.md", "日本語"),
            create("/memories/emoji\U0001f642", "emoji"),
            create("/memories/x y", "space"),
            create("/memories/Zeta", "upper"),
            create("/memories/alpha", "lower"),
            create("/memories/10", "digits"),
            create("/memories/_under", "underscore"),
            create("/memories/~tilde", "tilde"),
            view("/memories"),
            view("/memories/\u00e9"),
            view("/memories/e\u0301"),
            rename("/memories/\u00e9", "/memories/e\u0301"),
            delete("/memories/e\u0301"),
            view("/memories/\u00e9"),
        ],
    ),
    (
        "fixed-long-names",
        [
            create(f"/memories/{L255}", "255 bytes is fine"),
            create(f"/memories/{L256}", "256 bytes is not"),
            create(f"/memories/{E254}", "254 bytes of é"),
            create(f"/memories/{E256}", "256 bytes of é"),
            create(f"/memories/{J255}", "255 bytes of 日"),
            create(f"/memories/{J258}", "258 bytes of 日"),
            view("/memories"),
            view(f"/memories/{L300}"),
            create(f"/memories/{L300}/f", "x"),
            create(f"/memories/nonexist/{L300}", "parent made, then ENAMETOOLONG"),
            view(f"/memories/nonexist2/{L300}"),
            delete(f"/memories/nonexist2/{L300}"),
            delete(f"/memories/{L300}"),
            str_replace(f"/memories/{L300}", "a", "b"),
            insert(f"/memories/{L300}", 0, "b"),
            create("/memories/f", "abc"),
            view(f"/memories/f/{L300}"),
            delete(f"/memories/f/{L300}"),
            rename("/memories/f", f"/memories/f/{L300}"),
            rename(f"/memories/{L300}", "/memories/c"),
            rename("/memories/f", f"/memories/{L300}"),
            rename("/memories/f", f"/memories/{L300}/x"),
            rename("/memories/zz", f"/memories/f/{L300}"),
            view("/memories"),
        ],
    ),
    (
        "fixed-long-legal-paths",
        [
            create(f"/memories/{LEGAL200}/{LEGAL200}", "two long names"),
            create(f"/memories/{E254}/note.md", "long unicode dir"),
            view("/memories"),
            view(f"/memories/{LEGAL200}"),
            rename(f"/memories/{LEGAL200}/{LEGAL200}", f"/memories/{LEGAL200}/short"),
            view(f"/memories/{LEGAL200}/short"),
        ],
    ),
    (
        "fixed-content-edges",
        [
            create("/memories/empty", ""),
            create("/memories/nl", "\n"),
            create("/memories/cr", "a\rb\r"),
            create("/memories/crlf", "a\r\nb\r\n"),
            create("/memories/nel", "a\x85b\u2028c\u2029d\x0be\x0cf\n"),
            create("/memories/uni", "é" * 700 + "\n" + "日本語" * 100 + "\n🙂\n"),
            view("/memories/empty"),
            view("/memories/empty", [1, -1]),
            view("/memories/nl"),
            view("/memories/cr"),
            view("/memories/crlf"),
            view("/memories/nel"),
            view("/memories/uni", [2, 3]),
            view("/memories"),
            insert("/memories/nel", 1, "after first"),
            insert("/memories/cr", 1, "x"),
            view("/memories/nel"),
            view("/memories/cr"),
        ],
    ),
    (
        "fixed-rename-trees",
        [
            create("/memories/src/a/b/c.md", "c"),
            create("/memories/src/a/d.md", "d"),
            create("/memories/src/.h", "hidden"),
            create("/memories/dst/keep.md", "keep"),
            rename("/memories/src", "/memories/dst/moved"),
            view("/memories"),
            view("/memories/dst"),
            rename("/memories/dst/moved/a", "/memories/dst/moved/a/b/c.md/x"),
            rename("/memories/dst/moved/.h", "/memories/visible"),
            rename("/memories/dst", "/memories/dst/moved/a/inner"),
            rename("/memories/dst/moved/a/b/c.md", "/memories/dst/keep.md"),
            delete("/memories/dst/moved"),
            view("/memories"),
        ],
    ),
    (
        "fixed-empty-old-str",
        [
            create("/memories/abc", "abc"),
            str_replace("/memories/abc", "", "Z"),
            create("/memories/lines", "a\nb\n"),
            str_replace("/memories/lines", "", "Z"),
            str_replace("/memories/lines", "\n", "Z"),
            str_replace("/memories/lines", "b\n", ""),
            view("/memories/lines"),
            str_replace("/memories/lines", "a\n", ""),
            view("/memories/lines"),
            str_replace("/memories/lines", "", "only\n"),
            view("/memories/lines"),
        ],
    ),
]


def fixed_sequence(sdk: Sdk, base: Path, name: str, commands: list[Command]) -> Session:
    session = Session(sdk, base, name)
    try:
        for command in commands:
            session.run(command)
    except BaseException:
        session.close()
        raise
    return session


# --------------------------------------------------------------------------- #
# Coverage summary
# --------------------------------------------------------------------------- #

# Checked in order; the first pattern found in an error's content names its class.
ERROR_CLASSES = [
    "OSError(36, 'File name too long')",
    "NotADirectoryError(20, 'Not a directory')",
    "ValueError('embedded null byte')",
    "OSError(22, 'Invalid argument')",
    "Cannot delete the /memories directory itself",
    "Cannot rename the /memories directory itself",
    "Path must start with /memories",
    "would escape /memories directory",
    "Multiple occurrences",
    "did not appear verbatim",
    "Invalid `insert_line`",
    "is not a file",
    "already exists",
    "does not exist",
]

LISTING_FEATURES = ["hidden items skipped", "depth-2 entries", "depth-3 entries cut off"]


def error_class(content: str) -> str:
    for pattern in ERROR_CLASSES:
        if pattern in content:
            return pattern
    return "other: " + json.dumps(content[:60])


def listing_features(listed: tuple[str, ...], tree: Snapshot) -> set[str]:
    """Which listing behaviours a view of directory `listed` exercised, judged from the tree before it."""
    features = set()
    for segments in tree:
        if segments[: len(listed)] != listed or len(segments) == len(listed):
            continue
        relative = segments[len(listed) :]
        hidden = [part.startswith(".") for part in relative]
        if any(hidden[:-1]):
            continue  # inside a hidden directory: never looked at
        if hidden[-1] and len(relative) <= 2:
            features.add("hidden items skipped")
        elif not hidden[-1]:
            if len(relative) == 2:
                features.add("depth-2 entries")
            elif len(relative) == 3:
                features.add("depth-3 entries cut off")
    return features


@dataclass
class Coverage:
    outcomes: Counter[tuple[str, bool]] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    listings: Counter[str] = field(default_factory=Counter)
    sequences: int = 0
    rejected: int = 0

    def add(self, session: Session) -> None:
        self.sequences += 1
        for command, result, tree in zip(session.commands, session.results, session.snapshots):
            kind = command["command"]
            self.outcomes[kind, result["is_error"]] += 1
            if result["is_error"]:
                self.errors[error_class(result["content"])] += 1
            elif kind == "view" and result["content"].startswith("Here're the files"):
                for feature in listing_features(resolve(command["path"]) or (), tree):
                    self.listings[feature] += 1

    def missing(self) -> list[str]:
        gaps = [f"{kind} {'error' if err else 'success'}" for kind in COMMAND_KINDS for err in (False, True)
                if not self.outcomes[kind, err]]  # fmt: skip
        gaps += [pattern for pattern in ERROR_CLASSES if not self.errors[pattern]]
        gaps += [f"listing: {feature}" for feature in LISTING_FEATURES if not self.listings[feature]]
        return gaps

    def report(self, seed: int, seconds: float) -> str:
        total = sum(self.outcomes.values())
        lines = [
            f"memtool reference: anthropic {SDK_VERSION}, python {sys.version.split()[0]}, seed {seed}: "
            f"{self.sequences} sequences, {total} commands in {seconds:.1f}s"
            + (f" ({self.rejected} random sequences redrawn)" if self.rejected else ""),
            f"  {'command':<12}{'ok':>7}{'error':>7}",
        ]
        for kind in COMMAND_KINDS:
            lines.append(f"  {kind:<12}{self.outcomes[kind, False]:>7}{self.outcomes[kind, True]:>7}")
        lines.append("  errors:")
        for pattern, count in sorted(self.errors.items(), key=lambda item: (-item[1], item[0])):
            lines.append(f"  {count:>7}  {pattern}")
        lines.append("  directory listings:")
        for feature in LISTING_FEATURES:
            lines.append(f"  {self.listings[feature]:>7}  {feature}")
        gaps = self.missing()
        lines.append("  coverage: " + ("complete" if not gaps else "MISSING " + "; ".join(gaps)))
        return "\n".join(lines)


# --------------------------------------------------------------------------- #
# Main
# --------------------------------------------------------------------------- #


def generate(sdk: Sdk, base: Path, seed: int, count: int, coverage: Coverage) -> Iterator[dict[str, Any]]:
    for name, commands in FIXED_SEQUENCES:
        session = fixed_sequence(sdk, base, name, commands)
        coverage.add(session)
        session.close()
        yield session.record()

    master = random.Random(seed)
    for index in range(count):
        while True:
            try:
                session = random_sequence(sdk, base, f"random-{index}", master.getrandbits(64))
                break
            except LimitExceeded:
                coverage.rejected += 1
        coverage.add(session)
        session.close()
        yield session.record()


def write_json(out: Any, seed: int, sequences: Iterator[dict[str, Any]]) -> None:
    """Writes the document with one sequence per line, so diffs between runs stay readable."""
    out.write(f'{{"sdk_version": {json.dumps(SDK_VERSION)}, "seed": {json.dumps(seed)}, "sequences": [')
    for i, sequence in enumerate(sequences):
        out.write(",\n" if i else "\n")
        json.dump(sequence, out, ensure_ascii=True)
    out.write("\n]}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, required=True, help="seed for the random sequences")
    parser.add_argument("--count", type=int, required=True, help="number of random sequences (after the fixed ones)")
    parser.add_argument("--out", required=True, help='output JSON file, or "-" for stdout')
    parser.add_argument("--base", type=Path, default=DEFAULT_BASE, help=f"scratch directory (default {DEFAULT_BASE})")
    args = parser.parse_args()

    sdk = load_sdk()
    if sys.version_info[:2] != PYTHON_VERSION:
        print(
            f"reference.py: warning: running on Python {sys.version.split()[0]}, but reverie follows the reference "
            f"on Python {'.'.join(map(str, PYTHON_VERSION))}. From 3.13 pathlib's exists()/is_file()/is_dir() swallow "
            "ENAMETOOLONG and ValueError, which changes the reference's answers for over-long names.",
            file=sys.stderr,
        )
    base = prepare_base(args.base)

    started = time.monotonic()
    coverage = Coverage()
    sequences = generate(sdk, base, args.seed, args.count, coverage)
    if args.out == "-":
        write_json(sys.stdout, args.seed, sequences)
        sys.stdout.flush()
    else:
        out_path = Path(args.out)
        temp_path = out_path.with_name(out_path.name + ".partial")
        try:
            with open(temp_path, "w", encoding="ascii") as out:
                write_json(out, args.seed, sequences)
            os.replace(temp_path, out_path)
        finally:
            temp_path.unlink(missing_ok=True)
    print(coverage.report(args.seed, time.monotonic() - started), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
