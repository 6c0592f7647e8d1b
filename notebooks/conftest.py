"""Notebook tests (nbval) run every notebook with its default parameters, so they write to
the default reports and derived folders, which the root conftest.py moves out of the
checkout for the test run. The dashboard and cross-site notebooks read the sites' published
tables, so each site must have run first: the end-to-end test usually has; otherwise (say
`pytest notebooks/`) the main job runs once before the first notebook."""

import subprocess
import sys

from hampshire_research.params import site_ids
from hampshire_research.paths import project_root, reports_root

_checked = False


def pytest_runtest_setup(item):
    global _checked
    if _checked:
        return
    _checked = True
    reports = reports_root()
    if not all((reports / s / "manifest.json").is_file() for s in site_ids()) or \
            not (reports / "compare").is_dir():
        subprocess.run([sys.executable, "-m", "hampshire_research", "all"], cwd=project_root(),
                       check=True, capture_output=True)
