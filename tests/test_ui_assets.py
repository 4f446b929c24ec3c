"""What the app serves for its pages besides HTML: the fonts of every script (api/fonts.py) and the API
documentation's own assets (api/docs.py), each page under a Content-Security-Policy that allows just what it loads.
The browser side (glyphs drawn, docs rendered with no network) is tests/test_ui_browser_pages.py."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from api.fonts import FACES
from tests.api_helpers import make_services


@pytest.fixture
def client(small_kcm_engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(services=make_services(small_kcm_engine, tmp_path)), follow_redirects=False) as c:
        yield c


def test_the_stylesheet_names_a_face_per_script_and_each_file_is_served(client: TestClient):
    css = client.get("/fonts/scripts.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    urls = re.findall(r'url\("([^"]+)"\)', css.text)
    assert urls == [face.url for face in FACES.values()]
    assert css.text.count("unicode-range:") == len(FACES)
    for face in FACES.values():
        font = client.get(face.url)
        assert font.status_code == 200, face.url
        assert font.headers["content-type"] == ("font/woff2" if face.format == "woff2" else "font/ttf")
        assert font.content == face.path.read_bytes()
        assert font.content[:4] in (b"wOF2", b"\x00\x01\x00\x00")  # WOFF2 / TrueType signatures


@pytest.mark.parametrize("name", ["__init__.py", "NotoEmoji[wght].ttf", "..%2F..%2Fpyproject.toml", "nothing.ttf"])
def test_only_the_listed_fonts_are_served(client: TestClient, name: str):
    assert client.get(f"/fonts/{name}").status_code == 404


def test_review_pages_allow_fonts_from_the_app_only(client: TestClient):
    csp = client.get("/review/login").headers["content-security-policy"]
    assert "font-src 'self'" in csp
    assert "default-src 'none'" in csp


def test_docs_pages_load_only_local_assets_and_their_inline_script_by_hash(client: TestClient):
    for path, assets in (
        ("/docs", ["/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"]),
        ("/redoc", ["/docs-assets/redoc.standalone.js"]),
    ):
        page = client.get(path)
        assert page.status_code == 200
        loaded = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert set(assets) <= set(loaded)
        assert all(url.startswith("/") for url in loaded), loaded  # nothing from another host
        for url in loaded:
            assert client.get(url).status_code == 200, url
        csp = page.headers["content-security-policy"]
        for inline in re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL):
            digest = base64.b64encode(hashlib.sha256(inline.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in csp
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert client.get("/docs-assets/favicon.png").headers["content-type"] == "image/png"
    assert client.get("/docs-assets/core.py").status_code == 404
    assert "/v1/courses" in client.get("/openapi.json").json()["paths"]
