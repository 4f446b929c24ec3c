"""Sentence splitting for long descriptions and reassembly that keeps paragraphs and line breaks.

A text becomes a list of chunks: sentences to translate and the whitespace between them, kept verbatim, so
that joining the translated sentences with the original separators restores the layout."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_LINE_BREAKS = re.compile(r"[ \t]*\n\s*")
_EDGES = re.compile(r"^(\s*)(.*?)(\s*)$", re.DOTALL)
# A sentence ends at . ! ? or the danda, followed by space and something that can start a sentence.
_SENTENCE_END = re.compile(r"(?<=[.!?।])([\"'”’)\]]?)(\s+)(?=[\"'“‘(\[]?[A-Z0-9\u0900-\u0DFF])")
_ABBREVIATIONS = frozenset(
    "e.g i.e etc dr mr mrs ms prof no nos vol fig sec art govt dept st jr sr vs approx min max viz cf".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Chunk:
    text: str
    translate: bool


MAX_SEGMENT_CHARS = 400  # longer sentences are cut at clause boundaries: models truncate long inputs


def split_text(text: str, max_chars: int = MAX_SEGMENT_CHARS) -> list[Chunk]:
    """Sentences (translate=True) and the separators between them (translate=False), in order. A sentence
    longer than `max_chars` is cut after a `;` or `,` (or, failing that, a space) so no model truncates it."""
    edges = _EDGES.match(text)
    assert edges is not None  # the pattern matches every string
    lead, body, trail = edges.groups()
    chunks: list[Chunk] = [Chunk(lead, False)] if lead else []
    position = 0
    for match in _LINE_BREAKS.finditer(body):
        chunks.extend(_sentences(body[position : match.start()]))
        chunks.append(Chunk(match.group(), False))
        position = match.end()
    chunks.extend(_sentences(body[position:]))
    if trail:
        chunks.append(Chunk(trail, False))
    return [piece for chunk in chunks for piece in _shorten(chunk, max_chars)]


def _shorten(chunk: Chunk, max_chars: int) -> list[Chunk]:
    pieces: list[Chunk] = []
    rest = chunk.text
    while chunk.translate and len(rest) > max_chars:
        window = rest[: max_chars + 1]
        cut = max(window.rfind("; "), window.rfind(", "))
        cut = cut + 1 if cut > 0 else window.rfind(" ")
        if cut <= 0:
            break  # one enormous word: nothing sensible to cut
        pieces.append(Chunk(rest[:cut], True))
        pieces.append(Chunk(" ", False))
        rest = rest[cut + 1 :]
    pieces.append(Chunk(rest, chunk.translate))
    return pieces


def _sentences(line: str) -> list[Chunk]:
    chunks: list[Chunk] = []
    start = 0
    for match in _SENTENCE_END.finditer(line):
        end = match.start(2)
        if _ends_with_abbreviation(line[start:end]):
            continue
        chunks.append(Chunk(line[start:end], True))
        chunks.append(Chunk(match.group(2), False))
        start = match.end(2)
    if line[start:]:
        chunks.append(Chunk(line[start:], True))
    return chunks


def _ends_with_abbreviation(sentence: str) -> bool:
    words = sentence.rstrip("\"'”’)]").split()
    if not words:
        return False
    last = words[-1].rstrip(".").casefold()
    # Single letters are initials ("A. P. J. Abdul Kalam"), not sentence ends.
    return last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha())


def join_chunks(chunks: Sequence[Chunk], translations: Sequence[str]) -> str:
    """Put translated sentences back between the original separators; `translations` follows the
    translatable chunks in order."""
    pending = iter(translations)
    return "".join(next(pending) if chunk.translate else chunk.text for chunk in chunks)
