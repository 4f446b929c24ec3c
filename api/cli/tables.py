"""Tables that read at 80 columns: identifiers are never cut or wrapped, names wrap at their spaces, and the text
that may hold Indian scripts goes last, so that a terminal that draws a Devanagari cluster wider or narrower than
its Unicode width shifts nothing after it. Plain (ASCII, no colour) when standard output is not a terminal or
`--plain` was given."""

from __future__ import annotations

from rich import box
from rich.table import Table

from api.cli.context import console, errors

# rich's SIMPLE_HEAD in ASCII: a rule under the header and nothing else.
ASCII_HEAD = box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)
_plain = False
_COLOURS = console._color_system
_ERROR_COLOURS = errors._color_system


def set_plain(plain: bool) -> None:
    """`--plain`: ASCII tables without colour, as when the output goes to a file or a pipe."""
    global _plain
    _plain = plain
    # No ANSI at all, as when piped: rich writes styles only through a colour system (it has no public switch).
    console._color_system = None if plain else _COLOURS
    errors._color_system = None if plain else _ERROR_COLOURS


def plain() -> bool:
    return _plain or not console.is_terminal


def table(title: str | None = None, *, show_header: bool = True) -> Table:
    """A table without vertical rules (nothing to misalign after a wide cluster), ASCII when plain."""
    return Table(
        title=title,
        box=ASCII_HEAD if plain() else box.SIMPLE_HEAD,
        show_header=show_header,
        pad_edge=False,
        collapse_padding=True,
        show_edge=False,
        title_justify="left",
    )


def add_identifier(t: Table, header: str, values: list[str] | None = None) -> None:
    """An identifier column: as wide as its longest value, never wrapped or shortened."""
    width = max([len(header), *(len(v) for v in values or [])])
    t.add_column(header, no_wrap=True, min_width=width, overflow="fold")


def add_name(t: Table, header: str, *, ratio: int = 1, min_width: int = 12) -> None:
    """A name column: takes the room left (by `ratio`), wraps at spaces."""
    t.add_column(header, ratio=ratio, min_width=min_width, overflow="fold")


def add_figure(t: Table, header: str) -> None:
    """A number: right-aligned, never wrapped."""
    t.add_column(header, justify="right", no_wrap=True)
