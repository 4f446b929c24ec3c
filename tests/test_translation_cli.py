"""The translation commands on (a copy of) the sample catalog, offline: what a content team would run."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner, Result

from api.cli import app
from models import make_engine, session_scope
from translation import demo_translations, list_units

Run = Callable[..., Result]


@pytest.fixture
def catalog_copy(sample_engine: Engine, tmp_path: Path) -> Engine:
    """A writable copy of the session's sample catalog database."""
    target = tmp_path / "catalog.db"
    source = sqlite3.connect(sample_engine.url.database)
    copy = sqlite3.connect(target)
    source.backup(copy)
    source.close()
    copy.close()
    db = make_engine(f"sqlite:///{target}")
    yield db
    db.dispose()


@pytest.fixture
def karmayogi(catalog_copy: Engine, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("DATABASE_URL", catalog_copy.url.render_as_string(hide_password=False))
    monkeypatch.delenv("KARMAYOGI_MT_MODEL", raising=False)
    monkeypatch.setenv("COLUMNS", "200")

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, list(args))

    return run


def test_translate_offline_fills_from_memory_queues_the_rest_and_says_how_to_add_a_model(karmayogi: Run):
    result = karmayogi("translate", "--langs", "hi", "--fields", "name")
    assert result.exit_code == 0, result.output
    assert re.search(r"from memory \(exact\)\s+│\s+(\d+)", result.output)
    memory_hits = int(re.search(r"from memory \(exact\)\s+│\s+(\d+)", result.output).group(1))
    queued = int(re.search(r"queued for translators\s+│\s+(\d+)", result.output).group(1))
    assert memory_hits >= 40 and queued > 100
    assert "memory only (no model configured)" in result.output
    assert "KARMAYOGI_MT_MODEL" in result.output and "models fetch" in result.output

    again = karmayogi("translate", "--langs", "hi", "--fields", "name", "--json")
    report = json.loads(again.stdout)
    assert (report["already_done"], report["created"], report["from_memory"]) == (memory_hits, 0, 0)
    assert report["queued"] == queued


def test_export_edit_import_through_the_cli(karmayogi: Run, catalog_copy: Engine, tmp_path: Path):
    assert karmayogi("translate", "--langs", "hi").exit_code == 0
    exported = tmp_path / "hi.xlf"
    result = karmayogi(
        "translations", "export", "--lang", "hi", "--out", str(exported), "--status", "machine_translated"
    )
    assert result.exit_code == 0, result.output
    xliff = exported.read_text(encoding="utf-8")
    first_target = re.search(r"<target[^>]*>([^<]+)</target>", xliff).group(1)
    exported.write_text(xliff.replace(first_target, first_target + " (संशोधित)", 1), encoding="utf-8")

    imported = karmayogi("translations", "import", str(exported), "--reviewer", "asha")
    assert imported.exit_code == 0, imported.output
    # Rich wraps the line at 80 columns, and where depends on the length of pytest's temporary path.
    assert "1 edited" in " ".join(imported.output.split())
    with session_scope(catalog_copy) as session:
        (unit,) = list_units(session, "hi", "in_review")
        assert unit.text == first_target + " (संशोधित)" and unit.reviewer == "asha"

    exported.write_text(xliff.replace("</trans-unit>", "", 1), encoding="utf-8")  # broken XML
    rejected = karmayogi("translations", "import", str(exported), "--reviewer", "asha")
    assert rejected.exit_code == 2
    assert re.search(rf"{re.escape(str(exported))}:\d+: xml: ", rejected.output)
    assert "nothing was written" in rejected.output

    tmx = tmp_path / "memory.tmx"
    assert karmayogi("translations", "export", "--lang", "hi", "--out", str(tmx)).exit_code == 0
    assert tmx.read_text(encoding="utf-8").count("<tu ") > 150


def test_list_and_approve_clean(karmayogi: Run):
    karmayogi("translate", "--langs", "hi")
    listed = karmayogi("translations", "list", "--lang", "hi", "--status", "machine_translated", "--json")
    units = json.loads(listed.stdout)
    assert units and all(unit["status"] == "machine_translated" for unit in units)
    approved = karmayogi("translations", "approve-clean", "--lang", "hi", "--reviewer", "asha")
    assert approved.exit_code == 0 and re.search(r"approved \d+ clean unit", approved.output)


def test_bad_input_gets_a_clear_error_and_exit_code(karmayogi: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    unknown = karmayogi("translate", "--langs", "hi,xx")
    assert unknown.exit_code == 2 and "unknown language 'xx'; supported codes: en, as" in unknown.output
    field = karmayogi("translate", "--langs", "hi", "--fields", "keywords")
    assert field.exit_code == 2 and "translatable fields: name, description" in field.output
    missing_model = karmayogi("translate", "--langs", "hi", "--model", str(tmp_path))
    assert missing_model.exit_code == 2 and "not a model directory" in missing_model.output
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    fetch = karmayogi("models", "fetch", "indictrans2-en-indic-dist-200M", "--to", str(tmp_path / "m"))
    assert fetch.exit_code == 2 and "HF_HUB_OFFLINE is set" in fetch.output
    unknown_model = karmayogi("models", "fetch", "some-model", "--to", str(tmp_path / "m"))
    assert unknown_model.exit_code == 2 and "unknown model 'some-model'" in unknown_model.output


def test_demo_translations_returns_the_report(catalog_copy: Engine, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("KARMAYOGI_MT_MODEL", raising=False)
    report = demo_translations(catalog_copy)
    assert report.languages == ["hi"] and report.from_memory >= 40 and report.queued > 0


def test_models_fetch_without_a_network_fails_with_a_clear_message(
    karmayogi: Run, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    import huggingface_hub

    def no_network(**_: object) -> None:
        raise ConnectionError("Failed to resolve 'huggingface.co'")

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(huggingface_hub, "snapshot_download", no_network)
    result = karmayogi("models", "fetch", "opus-mt-en-hi", "--to", str(tmp_path / "m"))
    assert result.exit_code == 2
    assert "could not download Helsinki-NLP/opus-mt-en-hi" in result.output
    assert "KARMAYOGI_MT_MODEL" in result.output
