"""Learners for the batch engine, read fast: JSON Lines decoded by msgspec into plain structs, as strict as pydantic.

A line is accepted on the fast path only when every value is one that `models.Learner` would accept *unchanged*
(no whitespace to strip, identifiers within their pattern and length, known language codes, no repeats). Any
other line (an error, or a value pydantic would coerce or strip) goes through `Learner.model_validate_json`
itself, so a bad line fails with pydantic's own message and a coerced one gets pydantic's own value; nothing is
ever accepted that pydantic would refuse. `tests/test_batch_engine.py` checks both against pydantic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec
from pydantic import ValidationError

from models import Learner, normalise_language

# Identifiers one per line: each printable ASCII without space (within Identifier's pattern, nothing to strip).
_IDENTIFIERS = re.compile(r"[!-~]{1,128}(?:\n[!-~]{1,128})*")
_NAME_LENGTH = 256  # OptionalName's max_length
_SOURCES = frozenset(("self", "assessed"))


class Attested(msgspec.Struct, frozen=True, gc=False):
    competency_id: str
    level: int
    source: str = "self"


class Profile(msgspec.Struct, gc=False):
    """What the batch engine needs of a learner (the same values as the `Learner` validated from the line)."""

    id: str
    name: str | None = None
    roles: list[str] = []
    department: str | None = None
    preferred_languages: list[str] = msgspec.field(default_factory=lambda: ["en"])
    enrolled: list[str] = []
    completed: list[str] = []
    competencies: list[Attested] = []
    interests: list[str] = []


# The fields `Profile` mirrors; a test fails when `Learner` gains one, so that this reader is updated with it.
PROFILE_FIELDS = ("id", "name", "roles", "department", "preferred_languages", "enrolled", "completed",
                  "competencies", "interests")  # fmt: skip
_ONE = msgspec.json.Decoder(Profile)
_languages: dict[str, str | None] = {}  # a raw code or name -> its code; None: refused (pydantic decides)


class LineError(ValueError):
    """Line `number` (1-based, among non-blank lines) is not a valid learner; `where` and `message` as pydantic's."""

    def __init__(self, number: int, where: str, message: str) -> None:
        super().__init__(f"learner {number}: {where}: {message}")
        self.number = number
        self.where = where
        self.message = message

    def __reduce__(self) -> tuple[type[LineError], tuple[int, str, str]]:
        return LineError, (self.number, self.where, self.message)


def decode_lines(lines: Sequence[bytes], first_number: int) -> list[Profile]:
    """Profiles for JSON lines (numbered from `first_number`); LineError naming the first bad one.

    Each line is decoded on its own: joined into one array, two broken lines could pass as two good ones."""
    try:
        profiles = [_ONE.decode(line) for line in lines]
    except (msgspec.ValidationError, msgspec.DecodeError):
        return [_decode_one(line, number) for number, line in enumerate(lines, start=first_number)]
    for position, profile in enumerate(profiles):
        if not _plain(profile):
            profiles[position] = _validated(lines[position], first_number + position)
    return profiles


def from_learner(learner: Learner) -> Profile:
    return Profile(
        id=learner.id,
        name=learner.name,
        roles=list(learner.roles),
        department=learner.department,
        preferred_languages=list(learner.preferred_languages),
        enrolled=list(learner.enrolled),
        completed=list(learner.completed),
        competencies=[Attested(c.competency_id, c.level, c.source) for c in learner.competencies],
        interests=list(learner.interests),
    )


def to_learner(profile: Profile) -> Learner:
    """The `Learner` a profile stands for (its values were validated already)."""
    return Learner.model_validate(msgspec.structs.asdict(profile) | {"competencies": [
        msgspec.structs.asdict(c) for c in profile.competencies]})  # fmt: skip


def _decode_one(line: bytes, number: int) -> Profile:
    try:
        profile = _ONE.decode(line)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return _validated(line, number)
    return profile if _plain(profile) else _validated(line, number)


def _validated(line: bytes, number: int) -> Profile:
    """pydantic's verdict on a line the fast path would not accept as it is."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise LineError(number, "record", f"not valid UTF-8 ({error.reason} at byte {error.start})") from None
    try:
        return from_learner(Learner.model_validate_json(text))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "record"
        raise LineError(number, where, first["msg"]) from None


def _plain(profile: Profile) -> bool:
    """True when `Learner` would take every value of `profile` as it is; False: let pydantic decide."""
    competencies = profile.competencies
    identifiers = [profile.id, *profile.roles, *profile.enrolled, *profile.completed]
    identifiers.extend([c.competency_id for c in competencies])
    if not _IDENTIFIERS.fullmatch("\n".join(identifiers)):
        return False
    if profile.enrolled and profile.completed and not set(profile.enrolled).isdisjoint(profile.completed):
        return False
    if not _unstripped(profile.name) or not _unstripped(profile.department):
        return False
    if not all(_unstripped(interest) for interest in profile.interests):
        return False
    if not all(1 <= c.level <= 5 and c.source in _SOURCES for c in competencies):
        return False
    if len(competencies) > 1 and len({c.competency_id for c in competencies}) < len(competencies):
        return False
    languages = []
    for raw in profile.preferred_languages:
        code = _languages[raw] if raw in _languages else _language(raw)
        if code is None:
            return False
        languages.append(code)
    profile.preferred_languages = list(dict.fromkeys(languages))
    return True


def _unstripped(text: str | None) -> bool:
    """None, or a text pydantic keeps as it is: no leading or trailing whitespace, within OptionalName's length."""
    if text is None:
        return True
    return len(text) <= _NAME_LENGTH and not (text[:1].isspace() or text[-1:].isspace())


def _language(raw: str) -> str | None:
    code: str | None = None
    if raw and raw == raw.strip():  # pydantic strips (Unicode White_Space) before the validator sees it
        try:
            code = normalise_language(raw)
        except ValueError:
            code = None
    _languages[raw] = code
    return code
