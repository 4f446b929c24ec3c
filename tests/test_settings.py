"""The one settings object: each section reads its own variables, code can override any field, and the
README's table lists every variable exactly as the fields define it."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import Settings, environment_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_each_section_reads_its_variables(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("KARMAYOGI_HOME", str(tmp_path))
    monkeypatch.setenv("KARMAYOGI_SEARCH_MULTILINGUAL_ENCODER", "none")
    monkeypatch.setenv("KARMAYOGI_MT_BEAMS", "2")
    monkeypatch.setenv("KARMAYOGI_PORT", "9000")
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    settings = Settings()
    assert settings.home == tmp_path
    assert settings.search.multilingual_encoder is None and settings.search.encoder == "minilm"
    assert settings.mt.beams == 2 and settings.service.port == 9000
    assert settings.database_url == "postgresql+psycopg://postgres@127.0.0.1/test"


def test_code_overrides_a_field_of_a_section_and_the_rest_still_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("KARMAYOGI_PORT", "9000")
    settings = Settings(service={"secret_key": "from-code"})  # type: ignore[arg-type]  # pydantic validates the dict
    assert settings.service.secret_key == "from-code" and settings.service.port == 9000
    assert settings.signing_secret() == "from-code"


def test_the_readme_lists_every_variable_as_the_settings_define_it():
    assert environment_table() in README.read_text(encoding="utf-8"), (
        "README's configuration table is out of date: paste api.settings.environment_table() into it"
    )
