"""What every page of the review UI shares: the templates, security headers, the signed-in reviewer (from the
session cookie, re-checked against the key on each request) and the CSRF check of its forms.

The pages themselves live in api/routers/review.py (queue, units, signing in) and api/routers/insights.py; both
import from here and neither imports the other."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from api.auth import ApiKeyInfo, Scope, key_by_id
from api.deps import ServicesDep, SessionDep
from api.errors import render_errors_as_pages
from api.ui_session import COOKIE, UiSession, csrf_token, find_session, same_token
from models import LANGUAGES

REVIEW_SCOPE: Scope = "translate:review"
templates = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
LANGUAGE_NAMES = {language.code: language.name for language in LANGUAGES}


class Reviewer(BaseModel):
    key: ApiKeyInfo
    csrf: str
    session: UiSession


def current_reviewer(request: Request, session: SessionDep, services: ServicesDep) -> Reviewer | None:
    """The signed-in reviewer, or None when there is no session held on the server for the cookie (never signed
    in, logged out, expired) or its key was revoked or narrowed."""
    ui = find_session(session, services.signing_secret, request.cookies.get(COOKIE))
    if ui is None:
        return None
    key = key_by_id(session, ui.key_id)
    if key is None or not key.allows(REVIEW_SCOPE):
        return None
    return Reviewer(key=key, csrf=csrf_token(services.signing_secret, f"session:{ui.token}"), session=ui)


ReviewerDep = Annotated[Reviewer | None, Depends(current_reviewer)]


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    context = {"language_names": LANGUAGE_NAMES, **context}
    return templates.TemplateResponse(request, name, context, status_code=status_code, headers=SECURITY_HEADERS)


def refused(request: Request, status_code: int, message: str) -> HTMLResponse:
    return page(request, "refused.html", {"message": message, "reviewer": None}, status_code)


def _error_page(request: Request, problem: dict[str, Any], headers: dict[str, str]) -> HTMLResponse:
    """An error under /review as a page: the problem's detail, each field's reason, and the error id of a 500."""
    status = int(problem.get("status", 500))
    if status >= 500:
        message = f"Something went wrong on our side (error {problem.get('error_id', 'unknown')}); please try again."
    elif status in (404, 405):
        message = f"Not found: {problem.get('detail', request.url.path)}."
    else:
        reasons = [f"{e['field']}: {e['reason']}" for e in problem.get("errors", [])]
        message = "; ".join(reasons) or str(problem.get("detail", "The request was not understood."))
    response = refused(request, status, message)
    for name, value in headers.items():
        response.headers.setdefault(name, value)
    return response


render_errors_as_pages("/review", _error_page)


def to_login() -> RedirectResponse:
    return RedirectResponse("/review/login", status_code=303, headers=SECURITY_HEADERS)


def form_refusal(request: Request, reviewer: Reviewer | None, csrf: str) -> Response | None:
    """The page refusing a posted form without a session or with a wrong CSRF token; None when it may proceed."""
    if reviewer is None:
        return refused(request, 401, "Your session has ended; please sign in again.")
    if not same_token(reviewer.csrf, csrf):
        return refused(request, 403, "The form's security token did not match; reload the page and try again.")
    return None
