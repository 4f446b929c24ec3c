"""Every research notebook runs offline on the sample data, shows at least one plot, and is committed clean."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from api.settings import environment_table

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
# What only a notebook reads; everything else it configures through api.settings.Settings, as the CLI does.
NOTEBOOK_ONLY = {"KARMAYOGI_RETRIEVAL_BENCH", "KARMAYOGI_NOTEBOOK_COURSES"}
SETTINGS_VARIABLES = set(re.findall(r"KARMAYOGI_[A-Z_]*[A-Z]", environment_table()))


def test_the_three_research_notebooks_exist():
    assert [path.stem for path in NOTEBOOKS] == ["recommendation", "retrieval", "translation"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_committed_without_outputs(path: Path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count)
    ]
    assert not dirty, f"{path.name}: cells {dirty} hold outputs; run `python notebooks/strip_outputs.py`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_names_each_variable_as_the_command_line_does(path: Path):
    """One name per setting: a notebook reads a KARMAYOGI_* variable only when it is the settings object's (the
    CLI's) or one of the notebooks' own knobs."""
    text = "".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
    unknown = set(re.findall(r"KARMAYOGI_[A-Z_]*[A-Z]", text)) - SETTINGS_VARIABLES - NOTEBOOK_ONLY
    assert not unknown, f"{path.name} names {sorted(unknown)}: use api.settings.Settings"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_offline_and_shows_a_plot(path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    for name in [*NOTEBOOK_ONLY, *SETTINGS_VARIABLES, "DATABASE_URL"]:
        monkeypatch.delenv(name, raising=False)
    notebook = nbformat.read(path, as_version=4)

    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()

    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{path.name} shows no plot"
