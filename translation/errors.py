"""Typed errors of the translation package; the CLI maps their base classes to exit codes."""

from __future__ import annotations

from models import InvalidInputError, NotFoundError


class UnknownUnitError(NotFoundError):
    """No translation unit with this id (or key)."""

    def __init__(self, identifier: str) -> None:
        super().__init__("translation unit", identifier)


class IllegalTransitionError(InvalidInputError):
    """A review action that the unit's current status does not allow."""

    def __init__(self, unit_id: int, status: str, action: str, allowed: list[str]) -> None:
        options = ", ".join(allowed) or "nothing"
        super().__init__(f"unit {unit_id} is {status}: cannot {action} it (from {status} it can go to {options})")
        self.unit_id = unit_id
        self.status = status
        self.action = action


class ApprovalBlockedError(InvalidInputError):
    """Approving a unit whose text has an error flag, without a reason for overriding it."""

    def __init__(self, unit_id: int, flags: list[str]) -> None:
        super().__init__(
            f"unit {unit_id} has error flag(s), which block approval: {'; '.join(flags)}. Fix the text, or approve "
            "with a reason for overriding them (`override_reason`)"
        )
        self.unit_id = unit_id
        self.flags = flags


class EngineConfigError(InvalidInputError):
    """A translation model directory that cannot be used, or a language pair that the model does not cover."""


class ModelFetchError(InvalidInputError):
    """`karmayogi models fetch` could not download a model (no network, unknown name, ...)."""


class GlossaryError(InvalidInputError):
    """A glossary file that cannot be read; the message names the file and the entry."""
