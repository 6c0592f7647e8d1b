"""Notebook tests (nbval) run every notebook with its default parameters. The dashboard and
cross-site notebooks read the sites' published tables, so each site must have run first: the
end-to-end test usually has; otherwise (say `pytest notebooks/` on a fresh clone) the main
job runs once before the first notebook."""

import subprocess

from hampshire_research.params import site_ids
from hampshire_research.paths import project_root

_checked = False


def pytest_runtest_setup(item):
    global _checked
    if _checked:
        return
    _checked = True
    reports = project_root() / "reports"
    if not all((reports / s / "manifest.json").is_file() for s in site_ids()) or \
            not (reports / "compare").is_dir():
        subprocess.run(["hampshire-research", "all"], cwd=project_root(), check=True,
                       capture_output=True)
