"""Filters on names that the catalog stores as plain text (course providers, role departments and ministries):
a client may give the full name in any case, or the short name that the name carries in parentheses.

Providers and departments have no id of their own in the catalog (models store `organisations` and `department`
as names, e.g. "Institute of Secretariat Training and Management (ISTM)"), so their short name serves as the id:
`ISTM`, `istm` and `institute of secretariat training and management (istm)` all find ISTM's courses. A short name
is a parenthesised word without spaces ("(ISTM)", "(BPR&D)"); "(Central Board of Direct Taxes)" is part of a name,
not a short name. Whitespace runs count as one space.

A value is first matched whole; a value that matches no name is taken as a comma-separated list (`ISTM,NIC`), so
a name that holds a comma ("YASHADA, Pune") is still found as one value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

NAME_FILTER = (
    'The full name in any case, or the short name it carries in parentheses (`ISTM` for "Institute of '
    'Secretariat Training and Management (ISTM)"); several: repeat the parameter or separate them with commas'
)
_SHORT_NAME = re.compile(r"\(([^()\s]+)\)")


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def name_keys(name: str) -> set[str]:
    """What a client may give to mean `name`: the full name and its short names, case-folded."""
    return {_key(name), *(_key(short) for short in _SHORT_NAME.findall(name))}


def matching_names(asked: Iterable[str], stored: Iterable[str]) -> set[str]:
    """The stored names that any of the `asked` values means (empty when none does)."""
    by_key: dict[str, set[str]] = {}
    for name in set(stored):
        for key in name_keys(name):
            by_key.setdefault(key, set()).add(name)
    found: set[str] = set()
    for value in asked:
        whole = by_key.get(_key(value))
        if whole:
            found |= whole
            continue
        for part in value.split(","):
            found |= by_key.get(_key(part), set())
    return found
