"""Typed reads of a stored index's state (values from a JSON header beside arrays): a damaged or foreign file
fails with a ValueError naming the field, which the store reports as a corrupt index."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import numpy as np

Choice = TypeVar("Choice", bound=str)


def read_int(state: Mapping[str, object], key: str) -> int:
    value = state[key]
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{key} is not an integer: {value!r}")
    return int(value)


def read_choice(state: Mapping[str, object], key: str, choices: tuple[Choice, ...]) -> Choice:
    value = state[key]
    for choice in choices:
        if value == choice:
            return choice
    raise ValueError(f"{key} is {value!r}, not one of {', '.join(choices)}")


def read_identifiers(state: Mapping[str, object], key: str) -> list[str | None]:
    """A list of identifiers; None marks a removed item's row."""
    value = state[key]
    if not isinstance(value, list | tuple) or not all(i is None or isinstance(i, str) for i in value):
        raise ValueError(f"{key} is not a list of identifiers")
    return list(value)


def read_strings(state: Mapping[str, object], key: str) -> list[str]:
    value = state[key]
    if not isinstance(value, list | tuple) or not all(isinstance(i, str) for i in value):
        raise ValueError(f"{key} is not a list of strings")
    return list(value)
