"""Fonts shipped with the app for every script of the catalog's languages (models.LANGUAGES), so that Indic text
renders on a machine without Indic fonts: the Noto Sans faces of the manimgx-fonts package (SIL OFL 1.1) and Noto
Sans Ol Chiki from the @fontsource/noto-sans-ol-chiki npm package (kept in api/static/fonts with its licence: no
Python package ships it).

`/fonts/scripts.css` holds one `@font-face` per script, each limited by `unicode-range`, so a browser downloads
only the faces of the scripts a page shows; `/fonts/{file}` serves the files named there and nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import manimgx_fonts
from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response

NOTO = Path(manimgx_fonts.__file__).parent
VENDORED = Path(__file__).with_name("static") / "fonts"
CACHE = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
# Shared by the Indic scripts: Vedic marks, dandas, ZWNJ/ZWJ, the rupee sign, the dotted circle.
_INDIC = "U+0951-0952, U+0964-0965, U+200C-200D, U+20B9, U+25CC"


@dataclass(frozen=True)
class Face:
    family: str
    path: Path
    unicode_range: str
    weight: str = "100 900"  # a variable font's range; a static one's weight

    @property
    def url(self) -> str:
        return f"/fonts/{self.path.name}"

    @property
    def format(self) -> str:
        return "woff2" if self.path.suffix == ".woff2" else "truetype"


def _noto(family: str, unicode_range: str) -> Face:
    return Face(family, NOTO / f"{family.replace(' ', '')}[wght].ttf", unicode_range)


# ISO 15924 script → its face. Latin (Latn) is the system's own face, which every machine has.
FACES: dict[str, Face] = {
    "Deva": _noto("Noto Sans Devanagari", f"U+0900-097F, U+1CD0-1CFF, U+A830-A839, U+A8E0-A8FF, {_INDIC}"),
    "Beng": _noto("Noto Sans Bengali", f"U+0980-09FE, U+1CD0-1CF7, {_INDIC}"),
    "Gujr": _noto("Noto Sans Gujarati", f"U+0A80-0AFF, U+A830-A839, {_INDIC}"),
    "Guru": _noto("Noto Sans Gurmukhi", f"U+0A01-0A76, U+262C, U+A830-A839, {_INDIC}"),
    "Knda": _noto("Noto Sans Kannada", f"U+0C80-0CF3, U+1CD0-1CF4, U+A830-A835, {_INDIC}"),
    "Mlym": _noto("Noto Sans Malayalam", f"U+0D00-0D7F, U+1CDA, U+1CF2, U+A830-A832, {_INDIC}"),
    "Orya": _noto("Noto Sans Oriya", f"U+0B01-0B77, U+1CDA, U+1CF2, {_INDIC}"),
    "Taml": _noto("Noto Sans Tamil", f"U+0B82-0BFA, U+11FC0-11FFF, {_INDIC}"),
    "Telu": _noto("Noto Sans Telugu", f"U+0C00-0C7F, U+1CDA, U+1CF2, {_INDIC}"),
    "Arab": _noto(
        "Noto Sans Arabic",
        "U+0600-06FF, U+0750-077F, U+0870-08FF, U+200C-200E, U+FB50-FDFF, U+FE70-FEFC",
    ),
    "Olck": Face("Noto Sans Ol Chiki", VENDORED / "noto-sans-ol-chiki-ol-chiki-400-normal.woff2", "U+1C50-1C7F", "400"),
}
FILES: dict[str, Path] = {face.path.name: face.path for face in FACES.values()}
# The font-family list of every page: one face per script, then the system's. The system's comes last because
# Chromium on Linux takes every character for system-ui (drawing boxes for those it lacks), so nothing after it
# would be tried; each face's unicode-range leaves Latin text to it.
FAMILIES = ", ".join([*(f'"{face.family}"' for face in FACES.values()), "system-ui", "sans-serif"])

router = APIRouter(prefix="/fonts", include_in_schema=False)


def stylesheet() -> str:
    rules = [
        f'@font-face {{ font-family: "{face.family}"; src: url("{face.url}") format("{face.format}"); '
        f"font-weight: {face.weight}; font-display: swap; unicode-range: {face.unicode_range}; }}"
        for face in FACES.values()
    ]
    return "\n".join([*rules, f":root {{ --script-fonts: {FAMILIES}; }}", ""])


@router.get("/scripts.css")
def scripts_css() -> Response:
    return Response(stylesheet(), media_type="text/css", headers=CACHE)


@router.get("/{name}")
def font_file(name: str) -> Response:
    path = FILES.get(name)
    if path is None:
        raise HTTPException(404, f"no font {name!r}")
    media_type = "font/woff2" if path.suffix == ".woff2" else "font/ttf"
    return FileResponse(path, media_type=media_type, headers=CACHE)
