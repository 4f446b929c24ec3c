"""`karmayogi synth`: synthetic catalogs of iGOT scale for benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from api.cli.context import console, progress_bar, reports_errors
from models.sample_data import COMPETENCIES_FILE, ROLES_FILE
from models.synth import SynthPlan, synthesise


@reports_errors
def synth(
    courses: Annotated[int, typer.Option(min=1, help="How many courses to write.")] = 2400,
    learners: Annotated[int, typer.Option(min=0, help="How many learners to write.")] = 10_000,
    out: Annotated[Path, typer.Option(help="Folder to write into.")] = Path("var/synth"),
    seed: Annotated[int, typer.Option(help="Same seed, same files.")] = 7,
    *,
    competencies: Annotated[Path, typer.Option(exists=True, help="KCM document to draw from.")] = COMPETENCIES_FILE,
    roles: Annotated[Path, typer.Option(exists=True, help="Roles to draw from.")] = ROLES_FILE,
) -> None:
    """Write a seeded synthetic catalog (courses and learners in the ingest formats), streaming."""
    plan = SynthPlan(courses=courses, learners=learners, out=out, seed=seed)
    with progress_bar("synthesising", courses + learners, unit="records") as advance:
        files = synthesise(plan, competencies, roles, progress=advance)
    for kind, path in files.items():
        console.print(f"{kind}: {path}")
