"""Shared test helpers."""

import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

PER_SITE = 'site = "hampshire"\ndata_dir = ""\nreports_root = ""\nderived_root = ""'


def write_notebook(path: Path, *sources: str, parameters: str = PER_SITE):
    """A small notebook: a title, a tagged parameters cell, then the given code cells."""
    nb = new_notebook()
    nb.cells.append(new_markdown_cell("# A test notebook"))
    params = new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells.append(params)
    nb.cells.extend(new_code_cell(s) for s in sources)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def notebook_factory():
    return write_notebook


@pytest.fixture
def python():
    return sys.executable
