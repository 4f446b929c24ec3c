"""The closed vocabulary of a translation unit's status, shared by the tables, the workflow and the API.

A unit moves untranslated → machine_translated → in_review → approved | rejected. The values are what the
database stores and what the API sends, so they must not change (migration 0002 checks them)."""

from __future__ import annotations

from enum import StrEnum


class UnitStatus(StrEnum):
    UNTRANSLATED = "untranslated"
    MACHINE_TRANSLATED = "machine_translated"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"


def status_check(column: str = "status") -> str:
    """The SQL CHECK that keeps `column` inside the vocabulary."""
    return f"{column} IN ({', '.join(repr(status.value) for status in UnitStatus)})"
