"""Where Quarto is installed: render the site and look at it as a person would.

Quarto cannot be installed on machines without access to conda-forge or GitHub; there these
tests are skipped with the reason, and the CLI tests check that `render` says how to install it.
"""

import os
import shutil
import subprocess
import sys

import pytest

from hampshire_research.paths import DERIVED_ENV, REPORTS_ENV, project_root

ROOT = project_root()
pytestmark = pytest.mark.skipif(shutil.which("quarto") is None,
                                reason="Quarto is not installed here (see README)")
# what a checkout needs to run and render the site (Quarto renders the project's own reports/)
PROJECT = ["pyproject.toml", "_quarto.yml", "theme.scss", "index.qmd", "params", "notebooks", "src",
           "data/synthetic"]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """`all` in a copy of the project, so the render writes nothing into this checkout."""
    project = tmp_path_factory.mktemp("project")
    for name in PROJECT:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, project / name,
                            ignore=shutil.ignore_patterns("__pycache__", "large"))
        else:
            shutil.copy(ROOT / name, project / name)
    (project / "reports").mkdir()
    for page in (ROOT / "reports").glob("*.qmd"):
        shutil.copy(page, project / "reports" / page.name)
    env = {k: v for k, v in os.environ.items() if k not in (REPORTS_ENV, DERIVED_ENV)}
    env["PYTHONPATH"] = str(project / "src")
    done = subprocess.run([sys.executable, "-m", "hampshire_research", "all"], cwd=project,
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    return project / "_site"


def test_every_page_is_rendered(rendered):
    for page in ["index.html", "reports/hampshire/03_referral_routes.html",
                 "reports/north_yorkshire/07_dashboard.html", "reports/compare/05_cross_site.html",
                 "reports/codebook.html", "reports/data_dictionary.html", "search.json"]:
        assert (rendered / page).is_file(), page


def _dom(page):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    done = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-background-networking", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    return done.stdout


def test_home_page_shows_the_synthetic_notice_and_the_ethics_decision(rendered):
    dom = _dom(rendered / "index.html")
    assert "synthetic" in dom and "No predictive scores" not in dom
    assert "Why there are no predictive scores" in dom


def test_dashboard_shows_value_boxes_without_internet(rendered):
    page = rendered / "reports" / "hampshire" / "07_dashboard.html"
    dom = _dom(page)
    assert "Children in the cohort" in dom and "per 10,000" in dom
    assert "cdn." not in page.read_text()
