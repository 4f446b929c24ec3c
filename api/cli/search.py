"""Search commands: build the course index and search it (one query or a batch)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from api.cli.context import console, engine, print_json, progress_bar, reports_errors, settings
from api.cli.ray_engine import ActorsOption, BatchEngine, EngineOption, start_ray
from api.cli.tables import add_figure, add_identifier, add_name, table
from embeddings import Encoder, load_encoder
from embeddings.index import INDEX_KINDS
from embeddings.ray_encoder import ray_encoder_loader
from models import get_course, normalise_language, session_scope
from search import (
    METHODS,
    CourseSearcher,
    Method,
    RetrievalConfig,
    SearchFilters,
    build_course_index,
    count_courses,
    encoding_passes,
    open_course_searcher,
    retrieval_config,
)

index_app = typer.Typer(help="The course search index.", no_args_is_help=True)

EncoderOption = Annotated[
    str | None,
    typer.Option(
        "--encoder",
        help="English encoder: minilm, e5, minilm+e5, st:DIR or a model directory "
        "(default: KARMAYOGI_SEARCH_ENCODER, else minilm).",
    ),
]
MultilingualOption = Annotated[
    str | None,
    typer.Option(
        "--multilingual-encoder",
        help="Encoder for non-English queries; 'none' to go without "
        "(default: KARMAYOGI_SEARCH_MULTILINGUAL_ENCODER, else e5).",
    ),
]


def search_config(encoder: str | None, multilingual: str | None, method: Method = "hybrid") -> RetrievalConfig:
    """The configured encoders and index precision (settings' `search` section), each encoder replaced by its
    option when given."""
    configured = settings().search
    multilingual = configured.multilingual_encoder if multilingual is None else multilingual
    return replace(
        retrieval_config(configured),
        encoder=encoder or configured.encoder,
        multilingual_encoder=None if multilingual is None or multilingual.lower() == "none" else multilingual,
        method=method,
    )


def _method(name: str) -> Method:
    for method in METHODS:
        if method == name:
            return method
    raise typer.BadParameter(f"expected one of {', '.join(METHODS)}", param_hint="--method")


@index_app.command("build")
@reports_errors
def index_build(
    encoder: EncoderOption = None,
    multilingual: MultilingualOption = None,
    kind: Annotated[
        str, typer.Option("--kind", help="auto (exact up to 100k courses, IVF above), flat (exact) or ivf.")
    ] = "auto",
    batch_engine: EngineOption = BatchEngine.local,
    *,
    actors: ActorsOption = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Encode every course and save the index under KARMAYOGI_HOME (unchanged texts come from the cache)."""
    index_kind = next((known for known in INDEX_KINDS if known == kind), None)
    if index_kind is None:
        raise typer.BadParameter("expected auto, flat or ivf", param_hint="--kind")
    config = search_config(encoder, multilingual)
    loader: Callable[[str], Encoder] = load_encoder
    if batch_engine is BatchEngine.ray:
        start_ray()
        loader = ray_encoder_loader(actors)
    total = count_courses(engine())
    with progress_bar("embedding", total, unit="courses", passes=encoding_passes(config)) as advance:
        report = build_course_index(
            engine(),
            settings().home,
            config,
            progress=advance,
            index_kind=index_kind,
            encoder_loader=loader,
        )
    if as_json:
        print_json(
            {
                "courses": report.count,
                "seconds": round(report.seconds, 3),
                "encoded": report.encoded,
                "path": str(report.path),
            }
        )
        return
    console.print(
        f"indexed {report.count} courses in {report.seconds:.1f} s "
        f"({report.encoded} texts encoded, each once: passages with their tokens, sentences; the rest from the "
        f"cache) → {report.path}",
        highlight=False,
    )


@reports_errors
def search(
    query: Annotated[str | None, typer.Argument(help="What to look for, in any language.")] = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=1000, help="How many courses.")] = 10,
    lang: Annotated[str | None, typer.Option("--lang", help="The query's language (default: detected).")] = None,
    batch: Annotated[
        Path | None,
        typer.Option(
            "--batch",
            exists=True,
            dir_okay=False,
            help="One query per line; JSON lines out (default: one QUERY instead).",
        ),
    ] = None,
    *,
    method: Annotated[str, typer.Option("--method", help=f"One of {', '.join(METHODS)}.")] = "hybrid",
    language: Annotated[
        list[str], typer.Option("--language", help="Only courses offered in it (repeatable, or hi,en).")
    ] = [],  # noqa: B006
    reads: Annotated[
        list[str],
        typer.Option("--reads", help="Another language the reader reads: ranked with the query's and English."),
    ] = [],  # noqa: B006
    provider: Annotated[list[str], typer.Option("--provider", help="Only courses by this provider.")] = [],  # noqa: B006
    category: Annotated[list[str], typer.Option("--category", help="Only this primary category.")] = [],  # noqa: B006
    max_minutes: Annotated[
        int | None,
        typer.Option("--max-minutes", min=0, help="Longest duration (default: no limit; unknown durations stay)."),
    ] = None,
    encoder: EncoderOption = None,
    multilingual: MultilingualOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Find courses for a query, or for every line of --batch FILE."""
    if (query is None) == (batch is None):
        raise typer.BadParameter("give either a QUERY or --batch FILE", param_hint="QUERY")
    chosen = _method(method)
    query_language = normalise_language(lang) if lang else None
    filters = SearchFilters(
        languages=frozenset(normalise_language(code) for value in language for code in value.split(",")),
        providers=frozenset(provider),
        categories=frozenset(category),
        max_duration_seconds=max_minutes * 60 if max_minutes is not None else None,
    )
    reader = [normalise_language(code) for value in reads for code in value.split(",")]
    searcher = open_course_searcher(engine(), settings().home, search_config(encoder, multilingual, chosen))
    if batch is not None:
        _search_batch(searcher, batch, top_k, filters, language=query_language, reads=reader)
        return
    assert query is not None
    results = searcher.search(query, top_k, filters, query_language, reads=reader)
    if as_json:
        print_json({"query": query, "results": [{"identifier": i, "score": round(s, 6)} for i, s in results]})
        return
    with session_scope(engine()) as session:
        courses = [get_course(session, identifier) for identifier, _ in results]
    shown = table(query)
    add_figure(shown, "#")
    add_figure(shown, "score")
    add_identifier(shown, "identifier", [identifier for identifier, _ in results])
    shown.add_column("lang", no_wrap=True)
    add_name(shown, "course · provider")
    for rank, ((identifier, score), course) in enumerate(zip(results, courses, strict=True), start=1):
        who = ", ".join(course.organisations) or "provider unknown"
        shown.add_row(
            str(rank),
            f"{score:.3f}",
            identifier,
            ", ".join(course.languages),
            f"{escape(course.name)}\n[dim]{escape(who)}[/]",
        )
    console.print(shown)
    if not results:
        console.print("no matching course")


def _search_batch(
    searcher: CourseSearcher,
    batch: Path,
    top_k: int,
    filters: SearchFilters,
    *,
    language: str | None,
    reads: list[str],
) -> None:
    queries = [line.strip() for line in batch.read_text(encoding="utf-8").splitlines() if line.strip()]
    # Batches of queries share one encoder call each; results stream out as they are ready.
    for start in range(0, len(queries), 64):
        chunk = queries[start : start + 64]
        rankings = searcher.search_many(chunk, top_k, filters, [language] * len(chunk), reads=reads)
        for query, results in zip(chunk, rankings, strict=True):
            line = {"query": query, "results": [{"identifier": i, "score": round(s, 6)} for i, s in results]}
            sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        sys.stdout.flush()
