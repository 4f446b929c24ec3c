"""The API's documentation pages, Swagger UI at /docs and ReDoc at /redoc, from assets served by the app itself
(the fastapi-offline package's copies of swagger-ui-dist and redoc), so they work with no network.

Each page carries a Content-Security-Policy allowing what these two need and no more: their own scripts from here
and the one inline script of Swagger UI's page by its hash; inline styles (both set styles at run time), data:
images (Swagger UI's icons) and a blob: worker (ReDoc's search). Everything else keeps the review UI's policy."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

ASSETS = Path(fastapi_offline.__file__).parent / "static"
NAMES = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
FILES = {name: ASSETS / name for name in NAMES}
FAVICON = "/docs-assets/favicon.png"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _hashes(html: str) -> str:
    """CSP sources for the page's inline scripts, by their SHA-256."""
    digests = [hashlib.sha256(body.encode()).digest() for body in _INLINE_SCRIPT.findall(html)]
    return " ".join(f"'sha256-{base64.b64encode(digest).decode()}'" for digest in digests)


def _policy(html: str) -> dict[str, str]:
    csp = (
        f"default-src 'none'; script-src 'self' {_hashes(html)}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src blob:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return {"Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}


def _page(html: str) -> HTMLResponse:
    return HTMLResponse(html, headers=_policy(html))


def docs_router(app: FastAPI) -> APIRouter:
    """/docs, /redoc and their assets under /docs-assets, for the app's OpenAPI document."""
    router = APIRouter(include_in_schema=False)
    openapi_url = app.openapi_url or "/openapi.json"

    @router.get("/docs")
    def swagger_ui() -> HTMLResponse:
        html = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} · Swagger UI",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url=FAVICON,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )
        return _page(bytes(html.body).decode())

    @router.get("/redoc")
    def redoc() -> HTMLResponse:
        html = get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} · ReDoc",
            redoc_js_url="/docs-assets/redoc.standalone.js",
            redoc_favicon_url=FAVICON,
            with_google_fonts=False,
        )
        return _page(bytes(html.body).decode())

    @router.get("/docs-assets/{name}")
    def asset(name: str) -> Response:
        path = FILES.get(name)
        if path is None:
            raise HTTPException(404, f"no documentation asset {name!r}")
        return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})

    return router
