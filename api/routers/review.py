"""The review UI for content teams: server-rendered pages over the same review functions as the API.

Sign in with a key holding `translate:review`; every page re-checks the key (revoking it ends the session),
every form carries a CSRF token, and all course text is escaped by the templates (autoescape, no `|safe`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from api.auth import authenticate
from api.deps import ServicesDep, SessionDep, check_language
from api.queue_filters import QueueFilters, priority_courses, queue_filters, with_status
from api.routers.translation import UnitDetail, unit_detail
from api.services import Services
from api.ui import (
    LANGUAGE_NAMES,
    REVIEW_SCOPE,
    SECURITY_HEADERS,
    Reviewer,
    ReviewerDep,
    form_refusal,
    page,
    refused,
    to_login,
)
from api.ui_session import COOKIE, LOGIN_COOKIE, csrf_token, csrf_valid, end_session, new_nonce, start_session
from models import InvalidInputError, UnitStatus
from translation import (
    Action,
    ApprovalBlockedError,
    IllegalTransitionError,
    UnknownUnitError,
    allowed_actions,
    approve_unit,
    edit_unit,
    get_unit,
    reject_unit,
)
from translation.inflection import uses_term
from translation.quality import draft_quality
from translation.queue import FLAG_CHECKS, Neighbours, UnitOrder, count_units, find_units, unit_neighbours
from translation.review import UnitView

router = APIRouter(prefix="/review", include_in_schema=False)
QUEUE_PAGE = 50
UnitId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # the unit ids a database column holds
# What the page says after an action (`?done=`): keyed by the action taken, or "bulk".
DONE_MESSAGES: dict[str, str] = {
    Action.APPROVE: "Approved unit {unit}; the translation is now in the memory.",
    Action.EDIT: "Saved unit {unit}; it is in review with fresh QA checks.",
    Action.REJECT: "Rejected unit {unit}.",
}
ORDERS = {UnitOrder.ID: "unit id", UnitOrder.PRIORITY: "translation priority", UnitOrder.POPULARITY: "popularity"}


# --- signing in and out ---------------------------------------------------------------------------------


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, reviewer: ReviewerDep, services: ServicesDep) -> Response:
    if reviewer is not None:
        return RedirectResponse("/review", status_code=303)
    return _login_page(request, services, None, 200)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    key: Annotated[str, Form(max_length=256)] = "",
    *,
    csrf: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not csrf_valid(services.signing_secret, nonce, csrf):
        return _login_page(request, services, "The form expired; please sign in again.", 403)
    found = authenticate(session, key.strip())
    if found is None:
        return _login_page(request, services, "That key is unknown or has been revoked.", 401)
    if not found.allows(REVIEW_SCOPE):
        return _login_page(request, services, "That key may not review translations (needs translate:review).", 403)
    response = RedirectResponse("/review", status_code=303, headers=SECURITY_HEADERS)
    cookie = start_session(session, services.signing_secret, found.id, services.settings.service.session_hours)
    _set_cookie(response, services, COOKIE, cookie, max_age=int(services.settings.service.session_hours * 3600))
    response.delete_cookie(LOGIN_COOKIE, path="/review")
    return response


@router.post("/logout")
def logout(
    request: Request, session: SessionDep, reviewer: ReviewerDep, csrf: Annotated[str, Form(max_length=256)] = ""
) -> Response:
    if reviewer is None:
        return to_login()
    refusal = form_refusal(request, reviewer, csrf)
    if refusal is not None:
        return refusal
    end_session(session, reviewer.session)  # the cookie, even if a copy of it is kept, names no session now
    response = to_login()
    response.delete_cookie(COOKIE, path="/review")
    return response


def _login_page(request: Request, services: Services, error: str | None, status_code: int) -> HTMLResponse:
    nonce = new_nonce()
    context = {"error": error, "csrf": csrf_token(services.signing_secret, nonce), "reviewer": None}
    response = page(request, "login.html", context, status_code)
    _set_cookie(response, services, LOGIN_COOKIE, nonce, max_age=3600)
    return response


def _set_cookie(response: Response, services: Services, name: str, value: str, *, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/review",
        httponly=True,
        samesite="strict",
        secure=services.settings.service.cookie_secure,
    )


# --- the queue ------------------------------------------------------------------------------------------


FiltersDep = Annotated[QueueFilters, Depends(queue_filters)]


@router.get("", response_class=HTMLResponse)
def queue(
    request: Request,
    session: SessionDep,
    reviewer: ReviewerDep,
    given: FiltersDep,
    *,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    done: Annotated[str, Query(max_length=16)] = "",
    n: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    unit: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    end: Annotated[bool, Query()] = False,
) -> Response:
    if reviewer is None:
        return to_login()
    filters = with_status(given, UnitStatus.MACHINE_TRANSLATED)
    priorities = priority_courses(session, filters.language) if filters.order == UnitOrder.PRIORITY else []
    unit_filter = filters.unit_filter(reviewer.key, tuple(course.course_id for course in priorities))
    counts = count_units(session, unit_filter)
    total = counts.by_status()[UnitStatus(filters.status)] if filters.status else counts.total
    units = find_units(session, unit_filter, limit=QUEUE_PAGE, offset=offset)
    message = DONE_MESSAGES.get(done, "").format(n=n, unit=unit)
    if message and end:
        message += " That was the last unit matching these filters."
    context = {
        "reviewer": reviewer,
        "units": units,
        "filters": filters,
        "params": filters.params(),
        "unit_query": urlencode(filters.params()),
        "statuses": list(UnitStatus),
        "checks": FLAG_CHECKS,
        "orders": ORDERS,
        "counts": counts,
        "total": total,
        "offset": offset,
        "shown": (offset + 1, offset + len(units)),
        "pages": _pages(filters, offset, total),
        "previous": _queue_url(filters, max(offset - QUEUE_PAGE, 0)) if offset else None,
        "next": _queue_url(filters, offset + QUEUE_PAGE) if offset + QUEUE_PAGE < total else None,
        "priority": {course.course_id: (rank, course) for rank, course in enumerate(priorities, 1)},
        "message": message,
    }
    return page(request, "queue.html", context)


def _queue_url(filters: QueueFilters, offset: int) -> str:
    return "/review?" + urlencode({**filters.params(), "offset": offset})


def _pages(filters: QueueFilters, offset: int, total: int) -> list[dict[str, Any]]:
    """Page links: the first, the last and three either side of this one (None: a gap)."""
    count = max((total + QUEUE_PAGE - 1) // QUEUE_PAGE, 1)
    here = offset // QUEUE_PAGE
    shown = sorted({0, count - 1, *range(max(here - 3, 0), min(here + 4, count))})
    pages: list[dict[str, Any]] = []
    for index, number in enumerate(shown):
        if index and number != shown[index - 1] + 1:
            pages.append({"number": None, "url": None, "current": False})
        pages.append({"number": number + 1, "url": _queue_url(filters, number * QUEUE_PAGE), "current": number == here})
    return pages


# --- one unit -------------------------------------------------------------------------------------------


@router.get("/quality", response_class=HTMLResponse)
def quality_page(
    request: Request,
    session: SessionDep,
    reviewer: ReviewerDep,
    language: Annotated[str, Query(max_length=8)] = "",
) -> Response:
    if reviewer is None:
        return to_login()
    language = language if language in LANGUAGE_NAMES else ""
    if language:
        check_language(reviewer.key, language)
    allowed = reviewer.key.review_languages
    rows = [row for row in draft_quality(session, language or None) if allowed is None or row.language in allowed]
    return page(request, "quality.html", {"reviewer": reviewer, "rows": rows, "language": language})


@router.get("/units/{unit_id}", response_class=HTMLResponse)
def unit_page(
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    reviewer: ReviewerDep,
    *,
    given: FiltersDep,
    unit_id: UnitId,
    done: Annotated[str, Query(max_length=16)] = "",
    unit: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> Response:
    if reviewer is None:
        return to_login()
    try:
        found = get_unit(session, unit_id)
    except UnknownUnitError:
        return refused(request, 404, f"There is no unit {unit_id}.")
    check_language(reviewer.key, found.language)
    detail = unit_detail(session, found, services.glossary())
    message = DONE_MESSAGES.get(done, "").format(n=0, unit=unit or unit_id)
    # Just after an action, "previous" is the unit acted on (an approved unit leaves a queue of drafts).
    acted = unit if done and unit and unit != unit_id else None
    view = UnitPage(reviewer, detail, with_status(given, ""), message=message, error=None, acted=acted)
    return _unit_page(request, session, view, status_code=200)


@router.post("/units/{unit_id}", response_class=HTMLResponse)
def act_on_unit(
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    reviewer: ReviewerDep,
    *,
    given: FiltersDep,
    unit_id: UnitId,
    action: Annotated[str, Form(max_length=16)] = "",
    text: Annotated[str, Form(max_length=20_000)] = "",
    note: Annotated[str, Form(max_length=2_000)] = "",
    override: Annotated[str, Form(max_length=2_000)] = "",
    csrf: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    refusal = form_refusal(request, reviewer, csrf)
    if refusal is not None:
        return refusal
    assert reviewer is not None
    filters = with_status(given, "")
    current = get_unit(session, unit_id)
    check_language(reviewer.key, current.language)
    try:
        if action not in set(Action):
            raise InvalidInputError(f"unknown action {action!r}")
        done = Action(action)
        if done is Action.EDIT:
            edit_unit(session, unit_id, text, reviewer.key.name, glossary=services.glossary())
        elif done is Action.APPROVE:
            _approve(session, services, reviewer, current, text=text, override=override)
        else:
            reject_unit(session, unit_id, reviewer.key.name, note.strip() or None)
    except InvalidInputError as error:  # IllegalTransitionError and ApprovalBlockedError among them
        session.rollback()
        detail = unit_detail(session, get_unit(session, unit_id), services.glossary())
        status_code = 409 if isinstance(error, IllegalTransitionError | ApprovalBlockedError) else 422
        view = UnitPage(
            reviewer,
            detail,
            filters,
            message=None,
            error=str(error),
            typed=text if text.strip() else None,
            blocked=isinstance(error, ApprovalBlockedError),
        )
        return _unit_page(request, session, view, status_code=status_code)
    return RedirectResponse(
        _after(session, reviewer, filters, unit_id=unit_id, done=done), status_code=303, headers=SECURITY_HEADERS
    )


def _approve(
    session: Session, services: Services, reviewer: Reviewer, current: UnitView, *, text: str, override: str
) -> None:
    """Approve, with the text in the box when it differs; an untranslated unit is saved and approved in one step."""
    glossary = services.glossary()
    if current.status == UnitStatus.UNTRANSLATED:
        if not text.strip():
            raise InvalidInputError("type a translation to approve: the unit has none yet")
        edit_unit(session, current.id, text, reviewer.key.name, glossary=glossary)
        text = ""
    changed = text.strip() and text != current.text
    approve_unit(
        session,
        current.id,
        reviewer.key.name,
        text if changed else None,
        override_reason=override.strip() or None,
        glossary=glossary,
    )


def _after(session: Session, reviewer: Reviewer, filters: QueueFilters, *, unit_id: int, done: Action) -> str:
    """Where an action leads: a saved edit stays on the unit (to show its fresh QA flags); approving or rejecting
    moves to the next unit of the queue, or back to the queue after its last one."""
    params = filters.params()
    if done is not Action.EDIT:
        following = _neighbours(session, reviewer, filters, unit_id).next
        if following is None:
            return "/review?" + urlencode({**params, "done": done, "unit": unit_id, "end": 1})
        unit_id, params = following, {**params, "unit": str(unit_id)}
    return f"/review/units/{unit_id}?" + urlencode({**params, "done": done})


def _neighbours(session: Session, reviewer: Reviewer, filters: QueueFilters, unit_id: int) -> Neighbours:
    ranking = (
        tuple(course.course_id for course in priority_courses(session, filters.language))
        if filters.order == UnitOrder.PRIORITY and filters.language
        else ()
    )
    return unit_neighbours(session, unit_id, filters.unit_filter(reviewer.key, ranking))


@dataclass(frozen=True)
class UnitPage:
    reviewer: Reviewer
    detail: UnitDetail
    filters: QueueFilters
    message: str | None
    error: str | None
    typed: str | None = None  # the text the reviewer had typed, kept when an action is refused
    blocked: bool = False  # the action was refused because of error flags
    acted: int | None = None  # the unit an action was just taken on, before this one


def _unit_page(request: Request, session: Session, view: UnitPage, *, status_code: int) -> HTMLResponse:
    detail, filters = view.detail, view.filters
    if filters.order == UnitOrder.PRIORITY and not filters.language:
        filters = replace(filters, order=UnitOrder.ID)
    neighbours = _neighbours(session, view.reviewer, filters, detail.id)
    query = urlencode(filters.params())
    previous = view.acted or neighbours.previous
    can_approve = Action.APPROVE in allowed_actions(detail.status) or detail.status == UnitStatus.UNTRANSLATED
    context = {
        "reviewer": view.reviewer,
        "unit": detail,
        "text": view.typed if view.typed is not None else (detail.text or ""),
        "segments": _highlighted(detail),
        "terms": [
            {"term": t, "present": bool(t.approved and uses_term(detail.text or "", t.approved, detail.language))}
            for t in detail.terms
        ],
        "blocking": view.blocked or any(flag.severity == "error" for flag in detail.flags),
        "message": view.message,
        "error": view.error,
        "actions": allowed_actions(detail.status),
        "can_approve": can_approve,
        "query": query,
        "queue_url": "/review?" + query,
        "neighbours": neighbours,
        "previous_url": f"/review/units/{previous}?{query}" if previous else None,
        "next_url": f"/review/units/{neighbours.next}?{query}" if neighbours.next else None,
    }
    return page(request, "unit.html", context, status_code)


def _highlighted(detail: UnitDetail) -> list[dict[str, Any]]:
    """The source cut into plain runs and glossary terms, for the template to mark (and escape) each."""
    pieces: list[dict[str, Any]] = []
    position = 0
    for term in detail.terms:
        if term.start > position:
            pieces.append({"text": detail.source_text[position : term.start], "term": None})
        pieces.append({"text": detail.source_text[term.start : term.end], "term": term})
        position = term.end
    if position < len(detail.source_text):
        pieces.append({"text": detail.source_text[position:], "term": None})
    return pieces
