"""Pictures of the catalog insights (matplotlib, drawn off-screen)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from recommender.insights import CoverageMatrix, RoleReadiness


def _off_screen() -> None:
    import matplotlib

    matplotlib.use("Agg")  # commands and tests have no display


def coverage_heatmap(matrix: CoverageMatrix, out: Path, title: str = "Courses per competency and language") -> Path:
    """A competency × language heatmap of course counts written as PNG; empty cells stand out in red."""
    _off_screen()
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    rows, columns = matrix.courses.shape
    height = max(4.0, 0.22 * rows + 1.8)
    width = max(6.0, 0.55 * columns + 5.5)
    figure, axes = plt.subplots(figsize=(width, height), dpi=110)
    # Capped so that one heavily served competency does not wash out the difference between 0, 1 and 2 courses.
    top = max(5, int(np.percentile(matrix.courses, 95)) if matrix.courses.size else 5)
    colours = plt.get_cmap("YlGn")(np.linspace(0.15, 1.0, top))
    palette = ListedColormap(np.vstack([[0.86, 0.24, 0.22, 1.0], colours]))
    image = axes.imshow(np.minimum(matrix.courses, top), cmap=palette, vmin=0, vmax=top, aspect="auto")
    for i in range(rows):
        for j in range(columns):
            count = int(matrix.courses[i, j])
            colour = "white" if count >= top else "black"
            axes.text(j, i, str(count), ha="center", va="center", fontsize=7, color=colour)
    labels = [
        f"{c.id} {c.name[:34]} (L{int(level)})"
        for c, level in zip(matrix.competencies, matrix.required_level, strict=True)
    ]
    axes.set_yticks(range(rows), labels, fontsize=7)
    axes.set_xticks(range(columns), matrix.languages, fontsize=9)
    axes.xaxis.tick_top()
    axes.set_title(title + "\n(red: no course; (Ln): highest level a role requires)", fontsize=10)
    bar = figure.colorbar(image, ax=axes, fraction=0.04, pad=0.02)
    bar.set_label(f"courses (capped at {top})")
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out)
    plt.close(figure)
    return out


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
