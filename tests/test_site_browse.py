"""Render and browse: every page as readers see it, in headless Chromium at the screens councils
use, with the network blocked except for the site itself.

Each page, at 1280x720, 1440x900, 1920x1080 and 390x844, fails on a console error, a request
to anything but the site, a broken image, an empty chart or value box, a card whose content is
cut off, raw Python output (``PosixPath(``, ``RuntimeWarning``, ``<pandas``, ``dtype:``), a
truncated table (a row of ``...``) or a serious or critical axe-core violation.

Where ``quarto`` is on PATH the whole site is rendered (``rendered`` in conftest.py, in a copy
of the project) and served on 127.0.0.1. Where it is not, the same checks run on one site's
executed notebooks converted with nbconvert's basic template into a plain page: nbconvert's
full themes load require.js and MathJax from a CDN and show prompts a reader never sees.
"""

import functools
import os
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import nbformat
import pytest
from browser import PROBLEMS_JS, SCREENS, chromium, findings, open_page, require_browser

from hampshire_research.paths import project_root, reports_root
from hampshire_research.run import site_notebooks

SITE = "hampshire"
NO_QUARTO = "quarto is not on PATH: the rendered site is checked where Quarto is installed"


def _failures(seen, reading: bool = True) -> list[str]:
    """What is wrong with a page; `reading=False` leaves out raw output and truncation."""
    p = seen.problems
    checks = [(f"console errors {seen.console_errors}", seen.console_errors),
              (f"outside requests {seen.outside_requests}", seen.outside_requests),
              (f"axe {[(v['id'], v['impact'], v['nodes'][:3]) for v in seen.serious()]}",
               seen.serious()),
              (f"broken images {p['broken']}", p["broken"]),
              (f"{p['emptyCharts']} empty charts", p["emptyCharts"]),
              (f"{p['emptyBoxes']} empty value boxes", p["emptyBoxes"]),
              (f"{p['clipped']} clipped cards", p["clipped"])]
    if reading:
        checks += [(f"raw output {p['raw']}", p["raw"]),
                   (f"{p['truncated']} truncated table rows", p["truncated"])]
    return [f"{seen.url} at {seen.screen}: {what}" for what, bad in checks if bad]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_every_page_of_the_rendered_site(rendered_site_url):
    url, pages = rendered_site_url
    failures = []
    with chromium() as driver:
        for page in pages:
            for screen in SCREENS:
                open_page(driver, f"{url}/{page}", screen)
                seen = findings(driver, screen)
                print(seen.summary())
                failures += _failures(seen)
    assert failures == []


@pytest.fixture(scope="module")
def rendered_site_url(request):
    """The rendered site served on 127.0.0.1, and its pages."""
    if not shutil.which("quarto"):
        pytest.skip(NO_QUARTO)
    require_browser()
    site = request.getfixturevalue("rendered")
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    pages = sorted(str(p.relative_to(site)) for p in site.rglob("*.html")
                   if "site_libs" not in p.parts)
    yield f"http://127.0.0.1:{server.server_port}", pages
    server.shutdown()


@pytest.fixture(scope="module")
def notebook_pages(tmp_path_factory):
    """One site's executed notebooks as plain HTML pages beside the explore page the run wrote
    (from what the end-to-end run or the notebook tests executed, else a run of that site now)."""
    if shutil.which("quarto"):
        pytest.skip("quarto is on PATH: the rendered site is checked instead")
    require_browser()
    from nbconvert import HTMLExporter

    folder = reports_root() / SITE
    if not (folder / "manifest.json").is_file():
        subprocess.run([sys.executable, "-m", "hampshire_research", "run", "--site", SITE],
                       cwd=project_root(), check=True, capture_output=True, env=os.environ)
    exporter = HTMLExporter(template_name="basic", exclude_input=True, embed_images=True,
                            exclude_input_prompt=True, exclude_output_prompt=True)
    out = tmp_path_factory.mktemp("pages")
    shutil.copy(folder / "explore.html", out / "explore.html")
    for path in sorted(folder.glob("*.ipynb")):
        body, _ = exporter.from_notebook_node(nbformat.read(path, as_version=4))
        (out / f"{path.stem}.html").write_text(
            f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
            f"<title>{path.stem}</title></head><body><main>{body}</main></body></html>",
            encoding="utf-8")
    return out


NOTEBOOKS = [p.stem for p in site_notebooks()]


@pytest.mark.parametrize("notebook", [*NOTEBOOKS, "explore"])
def test_notebook_page_offline_and_accessible(notebook_pages, notebook):
    failures = []
    with chromium() as driver:
        for screen in SCREENS:
            open_page(driver, (notebook_pages / f"{notebook}.html").as_uri(), screen)
            seen = findings(driver, screen)
            print(seen.summary())
            failures += _failures(seen, reading=False)
    assert failures == []


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_notebook_page_shows_no_raw_output(notebook_pages, notebook):
    with chromium() as driver:
        open_page(driver, (notebook_pages / f"{notebook}.html").as_uri(), "1280x720")
        problems = driver.execute_script(PROBLEMS_JS)
    assert problems["raw"] == [] and problems["truncated"] == 0
