"""The command line at 80 columns, as an operator's terminal or a pipe gets it: no identifier cut, no line wider
than the terminal, no word split across lines; and read-only commands on an empty home create nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.cells import cell_len

from api.cli import app
from models import ingest_file, make_engine, upgrade
from models.sample_data import COURSES_FILE, SAMPLE_FILES
from tests.conftest import Run, write_jsonl

KARMAYOGI = Path(sys.executable).with_name("karmayogi")
WIDTH = 80


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`karmayogi ARGS` in its own process, its output piped (so plain), at 80 columns."""
    environment = os.environ | {"KARMAYOGI_HOME": str(home), "COLUMNS": str(WIDTH), "HF_HUB_OFFLINE": "1"}
    environment.pop("DATABASE_URL", None)
    environment.pop("KARMAYOGI_DATABASE_URL", None)
    return subprocess.run(
        [str(KARMAYOGI), *args], capture_output=True, text=True, env=environment, timeout=600, check=False
    )


def assert_readable(output: str, identifiers: list[str], texts: list[str]) -> None:
    """Every line fits; every identifier is on one line, whole; every word of every text is whole on a line."""
    lines = output.splitlines()
    wide = [line for line in lines if cell_len(line.rstrip()) > WIDTH]
    assert not wide, f"lines wider than {WIDTH} columns: {wide[:3]}"
    words = {word for line in lines for word in line.split()}
    cut = [identifier for identifier in identifiers if identifier not in words]
    assert not cut, f"identifiers cut or wrapped: {cut[:5]}"
    split = [word for text in texts for word in text.split() if word not in words and word.strip("()") not in words]
    assert not split, f"words split across lines: {split[:5]}"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample catalog under a fresh home."""
    home = tmp_path_factory.mktemp("readable") / "home"
    home.mkdir()
    db = make_engine(f"sqlite:///{home / 'karmayogi.db'}")
    upgrade(db)
    for kind, path in SAMPLE_FILES:
        ingest_file(db, kind, path)
    db.dispose()
    return home


def test_keys_list_keeps_ids_and_scopes_whole(home: Path) -> None:
    created = run(
        home,
        "keys",
        "create",
        "hindi review team of the ministry",
        "--json",
        *(f"--scope={scope}" for scope in ("translate:review", "recommend:read", "catalog:write", "admin")),
    )
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    listed = run(home, "keys", "list")
    assert listed.returncode == 0, listed.stderr
    assert_readable(listed.stdout, [key["id"], *key["scopes"]], [key["name"]])


def test_stats_fits_80_columns(home: Path) -> None:
    result = run(home, "stats")
    assert result.returncode == 0, result.stderr
    assert_readable(result.stdout, ["415"], ["ministries / state governments", "in an Indian language"])
    assert "\x1b[" not in result.stdout  # piped: no colour codes


def test_insights_coverage_keeps_competency_ids_and_names_whole(home: Path) -> None:
    result = run(home, "insights", "coverage")
    assert result.returncode == 0, result.stderr
    records = json.loads(run(home, "insights", "coverage", "--json").stdout)
    ids = [record["competency_id"] for record in records["competencies"]]
    names = [record["name"] for record in records["competencies"]]
    assert len(ids) > 50
    assert_readable(result.stdout, [*ids, *records["languages"]], names)


@pytest.mark.slow
def test_search_keeps_identifiers_whole_beside_devanagari(tmp_path: Path) -> None:
    """Thirty courses, Hindi ones among them, indexed with the real encoders."""
    home = tmp_path / "home"
    db = make_engine(f"sqlite:///{home / 'karmayogi.db'}")
    upgrade(db)
    ingest_file(db, "competencies", SAMPLE_FILES[0][1])
    records = [json.loads(line) for line in COURSES_FILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    hindi = [r for r in records if "Hindi" in r.get("language", [])][:10]
    chosen = {r["identifier"]: r for r in [*records[:20], *hindi]}
    ingest_file(db, "courses", write_jsonl(tmp_path / "courses.jsonl", list(chosen.values())))
    db.dispose()
    assert run(home, "index", "build").returncode == 0
    result = run(home, "search", "सूचना का अधिकार", "--top-k", "8")
    assert result.returncode == 0, result.stderr
    found = json.loads(run(home, "search", "सूचना का अधिकार", "--top-k", "8", "--json").stdout)["results"]
    assert len(found) == 8
    assert_readable(result.stdout, [item["identifier"] for item in found], [])


@pytest.mark.parametrize(
    "command",
    [
        ["stats"],
        ["keys", "list"],
        ["insights", "coverage"],
        ["insights", "readiness"],
        ["insights", "translate-priorities", "--lang", "ta"],
        ["search", "noting"],
        ["translations", "list", "--lang", "hi"],
    ],
    ids=" ".join,
)
def test_a_read_only_command_on_an_empty_home_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    home = tmp_path / "home"
    result = run(home, *command)
    assert result.returncode == 4, result.stderr  # not ready: the convention of api/cli/context.py
    assert result.stderr.strip().splitlines() == [
        f"error: no database at {home / 'karmayogi.db'}: run `karmayogi db upgrade` (or `make demo`) first"
    ]
    assert not home.exists()
    assert not list(tmp_path.iterdir())


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield " ".join(path), command


def test_every_option_says_what_it_does_and_its_default() -> None:
    """A default typer shows itself, or one the help names: `(default: …)` (an option whose default is None
    means something, which the help says). No `[…]` in a help text: rich would take it for markup and drop it."""
    silent = []
    for name, command in _commands(typer.main.get_command(app)):
        for option in command.params:
            if option.param_type_name != "option" or option.name == "help":
                continue
            text = option.help or ""
            shown = option.required or option.multiple or option.default not in (None, False)
            flag_off = option.default is False  # a flag: absent means off
            if not text.strip() or "[" in text or not (shown or flag_off or "default" in text.lower()):
                silent.append(f"{name} {option.opts[0]}: {text!r}")
    assert not silent, silent


def test_serve_help_names_the_defaults(karmayogi: Run) -> None:
    result = karmayogi("serve", "--help")
    assert "(default: KARMAYOGI_HOST, else 127.0.0.1)" in " ".join(result.output.replace("│", " ").split())
    assert " . " not in result.output


def test_every_command_a_script_may_run_has_json() -> None:
    # Not for scripts: the demo and the server print for people; these write files or set things up and
    # report one line.
    for_people = {"demo", "serve", "synth", "db upgrade", "models fetch"}
    without = [
        name
        for name, command in _commands(typer.main.get_command(app))
        if name not in for_people and not any("--json" in option.opts for option in command.params)
    ]
    assert not without, without
