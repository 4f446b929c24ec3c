"""`karmayogi eval recommend` and `eval retrieval`: figures that reproduce. Each runs on a scratch copy of what it
needs (the sample catalog, or the benchmark file), never on the live database, so the same command prints the
same table whatever the database holds. `--markdown` prints the README's table of the same figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.context import console, errors, print_json, progress_bar, reports_errors, settings
from api.cli.search import EncoderOption, MultilingualOption, search_config
from models.sample_data import DATA_DIR
from recommender.evaluation import SystemScores
from recommender.evaluation_sample import evaluate_on_sample
from search import RetrievalConfig, encoding_passes, evaluate_retrieval, retrieval_config
from search.catalog import cache_path
from search.evaluation import Judgements, MethodScores

eval_app = typer.Typer(
    help="Evaluate on scratch copies of the sample catalog and of benchmark files (never the live database).",
    no_args_is_help=True,
)

JUDGED_SET = DATA_DIR / "eval" / "recommend_judged.jsonl"
RECOMMEND_COLUMNS = ("nDCG@10", "Recall@10", "MRR", "gap coverage@5", "gap coverage@10", "catalog coverage", "ILD@10")
RETRIEVAL_COLUMNS = ("nDCG@10", "Recall@10", "MRR", "nDCG@10 dev", "nDCG@10 test")
# At 80 columns the terminal's headers are short, with a legend; the Markdown keeps the long ones.
RECOMMEND_SHORT = ("nDCG@10", "R@10", "MRR", "GC@5", "GC@10", "CatCov", "ILD@10")
RECOMMEND_LEGEND = "R: recall; GC: gap coverage; CatCov: catalog coverage; ILD: intra-list diversity"
RETRIEVAL_SHORT = ("nDCG@10", "R@10", "MRR", "nDCG dev", "nDCG test")
RETRIEVAL_LEGEND = "R: recall; dev and test: nDCG@10 on each fixed half of the queries"
# The README names a system by what it is; the command's own rows keep the short names scripts use.
SYSTEM_LABELS = {"platform cascade": "platform cascade (the existing service, reimplemented)"}

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.", show_default=True)]
MarkdownOption = Annotated[
    bool, typer.Option("--markdown", help="Print the README's Markdown table of these figures.", show_default=True)
]
CacheOption = Annotated[
    bool,
    typer.Option(
        "--cache/--no-cache",
        help="Read and fill the embedding cache under KARMAYOGI_HOME (faster; the figures are the same).",
        show_default=True,
    ),
]


@eval_app.command("recommend")
@reports_errors
def eval_recommend(
    judged: Annotated[
        Path, typer.Option("--judged", exists=True, dir_okay=False, help="The judged set.", show_default=True)
    ] = JUDGED_SET,
    semantic: Annotated[
        bool,
        typer.Option(
            "--semantic/--no-semantic", help="Also match competency texts against course texts.", show_default=True
        ),
    ] = True,
    cache: CacheOption = True,
    *,
    as_json: JsonOption = False,
    markdown: MarkdownOption = False,
) -> None:
    """Our ranker and the baselines on the judged set, over a scratch copy of the sample catalog under data/:
    nDCG@10, Recall@10, MRR, gap coverage, catalog coverage and intra-list diversity."""
    profiles, scores = evaluate_on_sample(
        judged,
        _reproducible(retrieval_config(settings().search)) if semantic else None,
        cache_home=settings().home if cache else None,
        notify=lambda _: errors.print("note: indexing a scratch copy of the sample catalog", highlight=False),
    )
    if as_json:
        print_json([asdict(s) for s in scores])
        return
    rows = [(s.system, _recommend_values(s)) for s in scores]
    if markdown:
        labelled = [(SYSTEM_LABELS.get(name, name), values) for name, values in rows]
        print_markdown(("system", *RECOMMEND_COLUMNS), labelled, bold="ours")
        return
    title = f"Recommendation quality on {judged.name} ({profiles} profiles)"
    print_scores(title, ("system", *RECOMMEND_SHORT), rows, legend=RECOMMEND_LEGEND)


@reports_errors
def eval_retrieval(
    courses: Annotated[
        Path, typer.Option("--courses", exists=True, dir_okay=False, help="JSON lines; each course has `skills`.")
    ],
    min_courses: Annotated[
        int, typer.Option("--min-courses", min=1, help="A skill must tag this many courses.", show_default=True)
    ] = 5,
    encoder: EncoderOption = None,
    *,
    multilingual: MultilingualOption = None,
    cache: CacheOption = True,
    as_json: JsonOption = False,
    markdown: MarkdownOption = False,
) -> None:
    """nDCG@10, Recall@10 and MRR of every retrieval method on an external catalog with skill tags, ingested
    into a scratch database (the live one is not read)."""
    config = _reproducible(search_config(encoder, multilingual))
    with courses.open(encoding="utf-8") as handle:
        total = sum(1 for line in handle if line.strip())
    with progress_bar("embedding", total, unit="courses", passes=encoding_passes(config)) as advance:
        judgements, results = evaluate_retrieval(
            courses, config, min_courses, advance, cache=cache_path(settings().home) if cache else None
        )
    if as_json:
        print_json({"queries": len(judgements.relevant), "methods": [r.__dict__ for r in results]})
        return
    rows = [(result.method, _retrieval_values(result)) for result in results]
    if markdown:
        print_markdown(("method", *RETRIEVAL_COLUMNS), rows, bold="(default)")
        return
    print_scores(_retrieval_title(courses, judgements), ("method", *RETRIEVAL_SHORT), rows, legend=RETRIEVAL_LEGEND)


def _reproducible(config: RetrievalConfig) -> RetrievalConfig:
    """Evaluations index in float32 on every machine, so that a figure does not depend on the CPU that printed it
    (bf16 indexes score within 0.001 nDCG@10 of float32 ones: bench/index_build.md)."""
    return replace(config, index_precision="fp32")


def _recommend_values(s: SystemScores) -> list[float]:
    return [
        s.ndcg_10,
        s.recall_10,
        s.mrr,
        s.gap_coverage_5,
        s.gap_coverage_10,
        s.catalog_coverage,
        s.diversity,
    ]


def _retrieval_values(result: MethodScores) -> list[float]:
    overall = result.scores["all"]
    return [
        overall["nDCG@10"],
        overall["Recall@10"],
        overall["MRR"],
        result.scores["dev"]["nDCG@10"],
        result.scores["test"]["nDCG@10"],
    ]


def _retrieval_title(courses: Path, judgements: Judgements) -> str:
    dev, test = len(judgements.split("dev").relevant), len(judgements.split("test").relevant)
    return f"{courses.name}: {len(judgements.relevant)} skill queries (dev {dev} / test {test})"


def print_scores(
    title: str, header: Sequence[str], rows: Sequence[tuple[str, Sequence[float]]], *, legend: str
) -> None:
    """A table that fits 80 columns: the names wrap at their spaces, the figures and headers never do."""
    table = Table(title=title)
    table.add_column(header[0], ratio=1, overflow="fold")
    for column in header[1:]:
        table.add_column(column, justify="right", no_wrap=True)
    for name, values in rows:
        table.add_row(name, *(f"{value:.3f}" for value in values))
    console.print(table)
    console.print(legend, highlight=False)


def print_markdown(header: Sequence[str], rows: Sequence[tuple[str, Sequence[float]]], *, bold: str) -> None:
    """The README's form: one row per system, three decimals; the row whose name holds `bold` in bold."""
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for name, values in rows:
        cells = [name, *(f"{value:.3f}" for value in values)]
        if bold in name:
            cells = [f"**{cell}**" for cell in cells]
        lines.append("| " + " | ".join(cells) + " |")
    console.file.write("\n".join(lines) + "\n")
