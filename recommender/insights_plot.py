"""Pictures of the catalog insights (matplotlib, drawn off-screen)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np

from recommender.insights import CoverageMatrix, RoleReadiness


def _off_screen() -> None:
    import matplotlib

    matplotlib.use("Agg")  # commands and tests have no display


# The same three kinds of cell as `karmayogi insights coverage` prints (red, yellow, plain), the last in shades
# of green by how many courses build the required level.
NO_COURSE = "#c62828"
BELOW_REQUIRED = "#f9d949"
BUILDS = ("#b7e1a1", "#6fbf73", "#2e8b57", "#155d3a")  # 1, 2, 3-4, 5 or more courses up to the required level
BUILDS_LABELS = ("1", "2", "3–4", "5+")
LABEL_CHARACTERS = 60  # a competency's label wraps beyond this


def coverage_heatmap(matrix: CoverageMatrix, out: Path, title: str = "Courses per competency and language") -> Path:
    """A competency × language grid written as PNG, coloured as the command line colours its table: red, no
    course; yellow, courses exist but none builds the level a role requires; green, courses that build it (darker:
    more). Each cell prints its course count; every competency is named in full."""
    _off_screen()
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    rows, columns = matrix.courses.shape
    kinds = _cell_kinds(matrix)
    labels = [
        textwrap.fill(f"{c.id} {c.name} (L{int(level)})", LABEL_CHARACTERS)
        for c, level in zip(matrix.competencies, matrix.required_level, strict=True)
    ]
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    height = max(4.0, (0.2 + 0.12 * (lines - 1)) * rows + 2.4)
    width = max(8.0, 0.42 * columns + 0.075 * min(LABEL_CHARACTERS, max(map(len, labels), default=10)) + 1.5)
    figure, axes = plt.subplots(figsize=(width, height), dpi=120)
    palette = ListedColormap([NO_COURSE, BELOW_REQUIRED, *BUILDS])
    axes.imshow(kinds, cmap=palette, vmin=-0.5, vmax=len(BUILDS) + 1.5, aspect="auto", interpolation="nearest")
    for i in range(rows):
        for j in range(columns):
            # White on the red and the two dark greens, black on the yellow and the light greens.
            colour = "white" if kinds[i, j] in (0, 4, 5) else "black"
            axes.text(j, i, str(int(matrix.courses[i, j])), ha="center", va="center", fontsize=7.5, color=colour)
    axes.set_yticks(range(rows), labels, fontsize=8)
    axes.set_xticks(range(columns), matrix.languages, fontsize=9)
    axes.set_xticks(np.arange(-0.5, columns), minor=True)
    axes.set_yticks(np.arange(-0.5, rows), minor=True)
    axes.grid(which="minor", color="white", linewidth=0.6)
    axes.tick_params(which="minor", length=0)
    axes.xaxis.tick_top()
    axes.set_title(f"{title}\n(each cell: courses; (Ln): the highest level a role requires)", fontsize=10)
    legend = [
        Patch(color=NO_COURSE, label="no course"),
        Patch(color=BELOW_REQUIRED, label="courses, none builds the required level"),
        *(
            Patch(color=c, label=f"{n} course(s) build the required level")
            for c, n in zip(BUILDS, BUILDS_LABELS, strict=True)
        ),
    ]
    figure.legend(handles=legend, loc="lower center", ncol=3, fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0.75 / height, 1, 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)
    return out


def _cell_kinds(matrix: CoverageMatrix) -> np.ndarray:
    """0: no course; 1: courses, none up to the required level; 2-5: courses that build it, 1, 2, 3-4, 5+."""
    building = matrix.at_required
    shades = np.digitize(building, [2, 3, 5]) + 2  # 1 -> 2, 2 -> 3, 3-4 -> 4, 5+ -> 5
    return np.where(matrix.courses == 0, 0, np.where(building == 0, 1, shades))


def readiness_chart(readiness: list[RoleReadiness], out: Path, title: str = "Role readiness") -> Path:
    """Horizontal bars: the share of each role's required competency-levels the catalog can build."""
    _off_screen()
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, max(3.0, 0.25 * len(readiness) + 1.2)), dpi=110)
    labels = [f"{r.designation[:40]} ({r.role_id})" for r in readiness]
    shares = [100 * r.share for r in readiness]
    axes.barh(range(len(readiness)), shares, color=["#d73c38" if s < 50 else "#4a9a5b" for s in shares])
    axes.set_yticks(range(len(readiness)), labels, fontsize=7)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("required competency-levels the catalog can build (%)")
    axes.set_title(title, fontsize=10)
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)
    return out
