"""Where Quarto is installed: render the site and look at it as a person would.

Quarto cannot be installed on machines without access to conda-forge or GitHub; there these
tests are skipped with the reason, and the CLI tests check that `render` says how to install it.
The `rendered` site comes from conftest.py (one render for this and the browse tests).
"""

import shutil
import subprocess

import pytest

pytestmark = pytest.mark.skipif(shutil.which("quarto") is None,
                                reason="Quarto is not installed here (see README)")


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
