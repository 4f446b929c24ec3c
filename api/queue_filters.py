"""The review queue's filters as the pages carry them: read from the query string (the queue, a unit's page and the
forms posted from it all take the same fields), written back into links, and turned into a `UnitFilter` for a key
(its languages, and the course ranking that order=priority needs)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Query
from sqlalchemy.orm import Session

from api.auth import ApiKeyInfo
from api.deps import check_language
from api.ui import LANGUAGE_NAMES
from models import InvalidInputError, UnitStatus, iter_learners
from recommender.inputs import load_inputs
from recommender.insights import PriorityCourse, translation_priorities
from translation.queue import UnitFilter, UnitOrder

NOT_GIVEN = "-"  # a status the query string did not name (the queue then shows machine translations)


def priority_courses(session: Session, language: str) -> list[PriorityCourse]:
    """Courses in the order to translate them into `language` (the insights' learner counts), all of them."""
    return list(translation_priorities(load_inputs(session), iter_learners(session), language, limit=None).courses)


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters as strings ("" for none); `order` is a UnitOrder value."""

    language: str = ""
    status: str = ""
    flag: str = ""
    q: str = ""
    field: str = ""
    order: str = UnitOrder.ID

    def params(self) -> dict[str, str]:
        """The query string's fields: status always (an empty one means any), the others when set."""
        fields = {"language": self.language, "flag": self.flag, "q": self.q, "field": self.field}
        order = {"order": self.order} if self.order != UnitOrder.ID else {}
        return {**{k: v for k, v in fields.items() if v}, "status": self.status, **order}

    def unit_filter(self, key: ApiKeyInfo, ranking: tuple[str, ...] = ()) -> UnitFilter:
        """The filter for `key` (403 for a language it may not review; 422 for an unknown flag or field)."""
        if self.language:
            check_language(key, self.language)
        if self.order == UnitOrder.PRIORITY and not self.language:
            raise InvalidInputError("order=priority ranks the courses for one language: choose a language")
        return UnitFilter(
            language=self.language or None,
            status=self.status or None,
            flag=self.flag or None,
            q=self.q or None,
            field=self.field or None,
            languages=key.review_languages,
            order=UnitOrder(self.order),
            ranking=ranking,
        )


def queue_filters(
    language: Annotated[str, Query(max_length=8)] = "",
    status: Annotated[str, Query(max_length=32)] = NOT_GIVEN,
    *,
    flag: Annotated[str, Query(max_length=64)] = "",
    q: Annotated[str, Query(max_length=200)] = "",
    field: Annotated[str, Query(max_length=16)] = "",
    order: Annotated[str, Query(max_length=16)] = UnitOrder.ID,
) -> QueueFilters:
    """The filters from a query string; an unknown order is a 422 (unknown flags and fields: `unit_filter`)."""
    if order not in set(UnitOrder):
        raise InvalidInputError(f"unknown order {order!r}; expected one of {', '.join(UnitOrder)}")
    if status != NOT_GIVEN and status not in set(UnitStatus):
        status = ""
    return QueueFilters(
        language=language if language in LANGUAGE_NAMES and language != "en" else "",
        status=status,
        flag=flag.strip(),
        q=q.strip(),
        field=field,
        order=order,
    )


def with_status(filters: QueueFilters, default: str) -> QueueFilters:
    """The filters with `default` where the query string named no status."""
    return replace(filters, status=default) if filters.status == NOT_GIVEN else filters
