"""The whole test run writes outside the checkout.

Tests pass their own tmp_path folders where they can; this moves the default reports and
derived folders (paths.REPORTS_ENV, paths.DERIVED_ENV) into a temporary folder for the
session, which every subprocess inherits: the CLI, papermill kernels, and the kernels nbval
starts for notebooks/, which cannot be given parameters. Each xdist worker gets its own.
"""

import os
import shutil
import tempfile
from pathlib import Path

from hampshire_research.paths import DERIVED_ENV, REPORTS_ENV

_made: list[Path] = []


def pytest_configure(config):
    out = Path(tempfile.mkdtemp(prefix="hampshire-research-tests-"))
    _made.append(out)
    os.environ[REPORTS_ENV] = str(out / "reports")
    os.environ[DERIVED_ENV] = str(out / "derived")


def pytest_unconfigure(config):
    for folder in _made:
        shutil.rmtree(folder, ignore_errors=True)
