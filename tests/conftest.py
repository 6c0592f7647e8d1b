"""Shared test helpers."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from hampshire_research.paths import DERIVED_ENV, REPORTS_ENV, project_root

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


# what a checkout needs to run and render the site (Quarto renders the project's own reports/)
PROJECT = ["pyproject.toml", "_quarto.yml", "theme.scss", "index.qmd", "params", "notebooks", "src",
           "data/synthetic"]


@pytest.fixture(scope="session")
def rendered(tmp_path_factory):
    """`all` in a copy of the project, so the render writes nothing into this checkout."""
    project = tmp_path_factory.mktemp("project")
    for name in PROJECT:
        if (project_root() / name).is_dir():
            shutil.copytree(project_root() / name, project / name,
                            ignore=shutil.ignore_patterns("__pycache__", "large"))
        else:
            shutil.copy(project_root() / name, project / name)
    (project / "reports").mkdir()
    for page in (project_root() / "reports").glob("*.qmd"):
        shutil.copy(page, project / "reports" / page.name)
    env = {k: v for k, v in os.environ.items() if k not in (REPORTS_ENV, DERIVED_ENV)}
    env["PYTHONPATH"] = str(project / "src")
    done = subprocess.run([sys.executable, "-m", "hampshire_research", "all"], cwd=project,
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return project / "_site"
