"""One policy for text that comes from outside (HTTP requests, the review UI's forms, files and the command line):
a NUL character or a lone surrogate is refused where it enters, naming the field, on every database alike.

PostgreSQL cannot store NUL in text at all, and neither database can store a lone surrogate (it is not Unicode
text: UTF-8 cannot encode it); SQLite would keep a NUL and then cut strings at it in some functions. Refusing both
at the edge makes the answer the same everywhere: a typed input error (422 / exit code 2), never a driver error.

Logs are a separate matter (any control character may be logged as data): `printable` escapes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from models.problems import InvalidRecordError

_UNSAFE = re.compile("[\x00\ud800-\udfff]")
# Control characters (C0, DEL, C1), lone surrogates, and the line and paragraph separators that split log lines.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")
_UNPRINTABLE_BUT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]")

Path = tuple[str | int, ...]


class UnsafeTextError(InvalidRecordError):
    """A text holds a character that the policy refuses; `field` names where."""


def text_problem(value: str) -> str | None:
    """Why `value` may not be accepted, or None when it may."""
    found = _UNSAFE.search(value)
    if found is None:
        return None
    character, position = found.group(), found.start()
    if character == "\x00":
        return f"contains a NUL character (U+0000) at position {position}; text may not hold NUL"
    return (
        f"contains a lone surrogate U+{ord(character):04X} at position {position}; "
        "text must be valid Unicode (UTF-8 cannot encode a lone surrogate)"
    )


def check_text(value: str, field: str) -> str:
    """`value` itself if the policy accepts it; raise UnsafeTextError naming `field` otherwise."""
    reason = text_problem(value)
    if reason is not None:
        raise UnsafeTextError(field, reason)
    return value


def unsafe_texts(value: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """(path, reason) for every string in a parsed JSON-like value (keys too) that the policy refuses.

    Iterative, so that a deeply nested value cannot exhaust the stack."""
    stack: list[tuple[Path, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            reason = text_problem(item)
            if reason is not None:
                yield where, reason
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                if isinstance(key, str) and (reason := text_problem(key)) is not None:
                    yield (*where, printable(key)), f"the key {reason.removeprefix('contains ')}"
                    continue
                stack.append(((*where, key), child))
        elif isinstance(item, list | tuple):
            stack.extend(((*where, position), child) for position, child in reversed(list(enumerate(item))))


def dotted(path: Path) -> str:
    """`body.levels.FUN-02-01` style, as the HTTP errors name fields."""
    return ".".join(str(part) for part in path)


def indexed(path: Path) -> str:
    """`competencies[0].competency_id` style, as the ingest errors name fields."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "record"


def printable(text: str, keep_newlines: bool = False) -> str:
    """`text` with every control character, lone surrogate and line separator escaped (`\\x00`, `\\n`, `\\ud800`),
    so that a log line shows exactly one line of what was sent and no terminal control sequence."""
    pattern = _UNPRINTABLE_BUT_NEWLINE if keep_newlines else _UNPRINTABLE
    if pattern.search(text) is None:
        return text
    return pattern.sub(lambda found: repr(found.group())[1:-1], text)


def nesting_depth(value: Any) -> int:
    """How deeply lists and objects nest in a parsed JSON value (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[int, Any]] = [(0, value)]
    while stack:
        depth, item = stack.pop()
        if isinstance(item, dict | list):
            depth += 1
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((depth, child) for child in children if isinstance(child, dict | list))
    return deepest
