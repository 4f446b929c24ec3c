"""`karmayogi demo`: the main job on the embedded defaults, from an empty home to readable results."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy.orm import Session

from api.cli.catalog import print_role_profile, stats
from api.cli.context import console, engine, reports_errors
from api.cli.recommend import show_demo_recommendations
from api.cli.search import index_build, search
from api.cli.translate import print_report
from models import get_role, ingest_file, list_roles, load_competency_model, session_scope, upgrade
from models.sample_data import SAMPLE_FILES
from translation import demo_translations

DEMO_ROLES = ("ROLE-DOPT-SO", "ROLE-TNREV-DC", "ROLE-TNHFW-PHCMO")
# One English and one Hindi question: the Hindi one must find English courses too.
DEMO_QUERIES = ("noting and drafting in Hindi", "सूचना का अधिकार अधिनियम के तहत आवेदन")


@reports_errors
def demo(
    roles: Annotated[list[str] | None, typer.Option("--role", help="Role profiles to show.")] = None,
) -> None:
    """Load the sample catalog, then show its roles, search, recommendations and translations."""
    db = engine(checked=False)
    upgrade(db)
    console.rule("[bold]1. Loading the sample catalog")
    for kind, path in SAMPLE_FILES:
        report = ingest_file(db, kind, path)
        console.print(
            f"{kind:<13} {path.name:<20} {report.created:>4} new, {report.updated:>4} updated, "
            f"{report.unchanged:>4} unchanged"
        )
    console.rule("[bold]2. What the catalog holds")
    stats(as_json=False)
    console.rule("[bold]3. Role competency profiles")
    with session_scope(db) as session:
        model = load_competency_model(session)
        competencies = {c.id: c for c in model.competencies}
        areas = {a.id: a.name for a in model.areas}
        for role_id in roles or _demo_roles(session):
            print_role_profile(get_role(session, role_id), competencies, areas)
    console.rule("[bold]4. Semantic course search (English and cross-lingual)")
    index_build()
    for query in DEMO_QUERIES:
        search(query=query, top_k=5)
    console.rule("[bold]5. What should these learners take next?")
    show_demo_recommendations(db)
    console.rule("[bold]6. Translating course titles into Hindi")
    print_report(demo_translations(db))


def _demo_roles(session: Session) -> list[str]:
    """The named demo roles where the sample has them, else the first three."""
    available = [role.id for role in list_roles(session)]
    chosen = [role_id for role_id in DEMO_ROLES if role_id in available]
    return chosen or available[:3]
