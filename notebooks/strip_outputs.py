"""Strip outputs and execution counts from the notebooks before committing: `python notebooks/strip_outputs.py`.

The test suite executes every notebook and refuses committed outputs (tests/test_notebooks.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def strip(path: Path) -> bool:
    """Remove outputs in place; True when the file changed."""
    notebook = nbformat.read(path, as_version=4)
    changed = False
    for cell in notebook.cells:
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            cell.outputs, cell.execution_count = [], None
            changed = True
    if changed:
        nbformat.write(notebook, path)
    return changed


if __name__ == "__main__":
    paths = [Path(p) for p in sys.argv[1:]] or sorted(Path(__file__).parent.glob("*.ipynb"))
    for notebook_path in paths:
        print(f"{notebook_path}: {'stripped' if strip(notebook_path) else 'clean'}")
