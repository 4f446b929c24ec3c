"""Word-level differences between two versions of a unit's text, for the history a reviewer reads.

difflib (the standard library's sequence matcher) does the matching; this module only cuts the texts into
words and the spaces between them, so that a changed word shows as one deletion and one insertion."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Literal

Operation = Literal["equal", "delete", "insert"]
_TOKENS = re.compile(r"\s*\S+\s*|\s+")  # a word with the spaces around it


@dataclass(frozen=True)
class DiffPart:
    op: Operation
    text: str


def word_diff(before: str | None, after: str | None) -> list[DiffPart]:
    """The parts of `after` compared with `before`: kept, deleted and inserted runs of words, in reading order."""
    old, new = _TOKENS.findall(before or ""), _TOKENS.findall(after or "")
    # Words are compared without their spaces, so that a kept word next to a changed one still matches.
    matcher = difflib.SequenceMatcher(a=[t.strip() for t in old], b=[t.strip() for t in new], autojunk=False)
    parts: list[DiffPart] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            _add(parts, "equal", "".join(new[j1:j2]))
            continue
        if tag in ("delete", "replace"):
            _add(parts, "delete", "".join(old[i1:i2]))
        if tag in ("insert", "replace"):
            _add(parts, "insert", "".join(new[j1:j2]))
    return parts


def _add(parts: list[DiffPart], op: Operation, text: str) -> None:
    if not text:
        return
    if parts and parts[-1].op == op:
        parts[-1] = DiffPart(op, parts[-1].text + text)
    else:
        parts.append(DiffPart(op, text))
