"""The `karmayogi` command line: one typer app, with a module per group of commands."""

from __future__ import annotations

from typing import Annotated

import typer
from huggingface_hub.utils.tqdm import disable_progress_bars

from api.cli import catalog, demo, evaluate, insights, keys, recommend, search, serve, synth, tables, translate
from api.cli.context import engine, settings

app = typer.Typer(
    name="karmayogi",
    help="Course recommendation and translation for iGOT Karmayogi.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _read_configuration_afresh(
    plain: Annotated[
        bool,
        typer.Option(
            "--plain",
            help="ASCII tables, no colour (the default when the output is not a terminal).",
            show_default=True,
        ),
    ] = False,
) -> None:
    # One process may run several invocations (tests, notebooks): each must see the environment as it is now.
    settings.cache_clear()
    engine.cache_clear()
    # Long work has our own progress bars; the model loaders' bars for a sub-second load are noise.
    disable_progress_bars()
    tables.set_plain(plain)


app.add_typer(catalog.db_app, name="db")
app.add_typer(catalog.courses_app, name="courses")
app.add_typer(catalog.roles_app, name="roles")
app.command("ingest")(catalog.ingest)
app.command("stats")(catalog.stats)
app.command("synth")(synth.synth)
app.command("demo")(demo.demo)
app.add_typer(keys.keys_app, name="keys")
app.command("serve")(serve.serve)
app.command("recommend")(recommend.recommend)
app.command("gaps")(recommend.gaps)
app.command("path")(recommend.path)
app.command("recommend-batch")(recommend.recommend_batch)
app.command("translate")(translate.translate)
app.add_typer(translate.translations_app, name="translations")
app.add_typer(translate.models_app, name="models")
app.add_typer(evaluate.eval_app, name="eval")
app.add_typer(insights.insights_app, name="insights")
app.add_typer(search.index_app, name="index")
app.command("search")(search.search)
evaluate.eval_app.command("retrieval")(evaluate.eval_retrieval)
