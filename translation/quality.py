"""How good the drafts were, per language × field × engine, judged by what reviewers did with them.

A draft's engine is what made it (the translation memory, a fuzzy memory match, or a machine translation model);
its fate is the review: approved as it was, approved after an edit, or rejected. For each group of units:

- approval and rejection rates over the units that were decided (approved or rejected);
- the share of approved units whose final text differs from the draft;
- chrF++ (sacrebleu's corpus chrF with word bigrams) of the drafts against the approved final texts, and the mean
  character edit distance between them (rapidfuzz's Levenshtein): how far reviewers had to move the drafts;
- the median time from the draft to the reviewer's decision.

Pontoon keeps the same kind of figures for its pre-translations; here they are computed from the units and their
history, so they need no bookkeeping of their own.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from rapidfuzz.distance import Levenshtein
from sacrebleu.metrics.chrf import CHRF
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import as_utc
from models.statuses import UnitStatus
from models.tables import TranslationUnitRow

_DECIDED = (UnitStatus.APPROVED, UnitStatus.REJECTED)
_DRAFTED = "machine_translated"  # the history action that records the draft


@dataclass(frozen=True)
class DraftQuality:
    language: str
    field: str
    engine: str
    units: int  # drafted units in the group
    decided: int  # approved or rejected
    approved: int
    rejected: int
    edited: int  # approved with a text other than the draft
    approval_rate: float | None  # of the decided units; None when none is decided
    rejection_rate: float | None
    edited_share: float | None  # of the approved units
    chrf: float | None  # chrF++ of the drafts against the approved texts, 0-100
    edit_distance: float | None  # mean characters changed between draft and approved text
    median_review_seconds: float | None  # from the draft to the decision


@dataclass
class _Group:
    units: int = 0
    approved: int = 0
    rejected: int = 0
    edited: int = 0
    drafts: list[str] = field(default_factory=list)  # of the approved units, beside their final texts
    finals: list[str] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)  # seconds from draft to decision


def draft_quality(session: Session, language: str | None = None) -> list[DraftQuality]:
    """One row per language × field × engine with drafts, in that order (all languages, or one)."""
    query = select(TranslationUnitRow).where(
        TranslationUnitRow.draft.is_not(None), TranslationUnitRow.engine.is_not(None)
    )
    if language is not None:
        query = query.where(TranslationUnitRow.language == language)
    groups: dict[tuple[str, str, str], _Group] = defaultdict(_Group)
    for row in session.scalars(query):
        _count(groups[(row.language, row.field, str(row.engine))], row)
    return [_summary(key, group) for key, group in sorted(groups.items())]


def _count(group: _Group, row: TranslationUnitRow) -> None:
    group.units += 1
    if row.status not in _DECIDED:
        return
    wait = _review_seconds(row)
    if wait is not None:
        group.waits.append(wait)
    if row.status == UnitStatus.REJECTED:
        group.rejected += 1
        return
    group.approved += 1
    draft, final = row.draft or "", row.edited if row.edited is not None else row.draft or ""
    group.edited += final != draft
    group.drafts.append(draft)
    group.finals.append(final)


def _review_seconds(row: TranslationUnitRow) -> float | None:
    """Seconds from the last draft before the decision to the decision (the unit's latest approval or
    rejection), or None when the history lacks either."""
    drafted: datetime | None = None
    decided: datetime | None = None
    for entry in row.history:
        if entry.action == _DRAFTED:
            drafted, decided = entry.at, None
        elif entry.action in ("approved", "rejected") and drafted is not None:
            decided = entry.at
    if drafted is None or decided is None:
        return None
    return (as_utc(decided) - as_utc(drafted)).total_seconds()


def _summary(key: tuple[str, str, str], group: _Group) -> DraftQuality:
    language, unit_field, engine = key
    decided = group.approved + group.rejected
    return DraftQuality(
        language=language,
        field=unit_field,
        engine=engine,
        units=group.units,
        decided=decided,
        approved=group.approved,
        rejected=group.rejected,
        edited=group.edited,
        approval_rate=_share(group.approved, decided),
        rejection_rate=_share(group.rejected, decided),
        edited_share=_share(group.edited, group.approved),
        chrf=_chrf(group.drafts, group.finals),
        edit_distance=_mean(Levenshtein.distance(d, f) for d, f in zip(group.drafts, group.finals, strict=True)),
        median_review_seconds=statistics.median(group.waits) if group.waits else None,
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: Iterable[float]) -> float | None:
    found = list(values)
    return sum(found) / len(found) if found else None


def _chrf(drafts: list[str], finals: list[str]) -> float | None:
    if not drafts:
        return None
    return float(CHRF(word_order=2).corpus_score(drafts, [finals]).score)
