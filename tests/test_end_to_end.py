"""The main job end to end on the committed synthetic sample: `hampshire-research all`.

Runs once per test session (a few minutes), into the test run's default reports and derived
folders (outside the checkout: see the root conftest.py), which the nbval notebooks reuse.
Checks what the publishing team and the cross-site analyst rely on: every notebook executed
for every site, manifests, tidy tables, a site whose sources are consistent, and no
identifier of any input record in any output.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from hampshire_research.params import load_site, site_ids
from hampshire_research.paths import derived_dir, params_dir, project_root, reports_root
from hampshire_research.publish import scan_for_identifiers
from hampshire_research.run import cross_site_notebooks, site_notebooks
from hampshire_research.website import navbar

ROOT = project_root()
REPORTS = reports_root()


def test_the_run_writes_outside_the_checkout():
    assert not REPORTS.is_relative_to(ROOT) and not derived_dir("x").is_relative_to(ROOT)


@pytest.fixture(scope="module")
def main_job():
    done = subprocess.run([sys.executable, "-m", "hampshire_research", "all"], cwd=ROOT,
                          capture_output=True, text=True, env=os.environ)
    return done


def test_all_succeeds_up_to_render(main_job):
    assert main_job.returncode == 0, main_job.stderr[-3000:]
    if shutil.which("quarto") is None:
        assert "site not rendered" in main_job.stderr and "conda" in main_job.stderr


@pytest.mark.parametrize("site", site_ids())
def test_every_notebook_ran_for_every_site(main_job, site):
    manifest = json.loads((REPORTS / site / "manifest.json").read_text())
    expected = [p.name for p in site_notebooks()]
    assert [n["notebook"] for n in manifest["notebooks"]] == expected
    assert all(n["status"] == "ok" for n in manifest["notebooks"]), manifest["notebooks"]
    assert manifest["params_hash"] == load_site(site).digest()
    assert manifest["synthetic"] is True and manifest["input_files"]
    for name in expected:
        nb = nbformat.read(REPORTS / site / name, as_version=4)
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert injected and injected[0].source.startswith("#| include: false")
        assert f'site = "{site}"' in injected[0].source


def test_cross_site_notebooks_ran(main_job):
    for nb in cross_site_notebooks():
        assert (REPORTS / "compare" / nb.name).is_file()


@pytest.mark.parametrize("site", site_ids())
def test_published_tables_are_tidy_csvs(main_job, site):
    tables = sorted((REPORTS / site / "tables").glob("*.csv"))
    assert len(tables) >= 10
    for path in tables:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
        assert len(df.columns) == len(set(df.columns)), path


def _quarto_targets() -> list[str]:
    config = yaml.safe_load((ROOT / "_quarto.yml").read_text())
    targets = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("href", "file"):
                if isinstance(node.get(key), str):
                    targets.append(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                if isinstance(item, str) and item.endswith((".qmd", ".ipynb")):
                    targets.append(item)
                else:
                    walk(item)

    walk(config["website"])
    walk(navbar(params_dir(), site_notebooks(), cross_site_notebooks())["website"])
    return targets


def _source(target: str) -> Path:
    """Where a page of the site is now: committed pages in the checkout, executed notebooks
    under this run's reports folder."""
    committed = ROOT / target
    return committed if committed.is_file() else REPORTS / Path(target).relative_to("reports")


def test_every_page_the_site_lists_exists_after_the_run(main_job):
    targets = _quarto_targets()
    assert len(targets) >= 20
    missing = [t for t in targets if not _source(t).is_file()]
    assert not missing


def _pages():
    pages = sorted(ROOT.glob("*.qmd")) + sorted((ROOT / "reports").glob("*.qmd"))
    return pages + sorted(REPORTS.glob("*/*.ipynb"))


def test_every_page_has_a_title(main_job):
    for page in _pages():
        if page.suffix == ".qmd":
            front = page.read_text().split("---")[1]
            assert yaml.safe_load(front).get("title"), page
        else:
            first = nbformat.read(page, as_version=4).cells[0]
            assert first.source.startswith("# ") or "title:" in first.source, page


LINK = re.compile(r"\]\(([^)#\s]+)")


def test_no_page_links_to_a_missing_file(main_job):
    for page in _pages():
        if page.suffix == ".qmd":
            texts = [page.read_text()]
        else:
            texts = [c.source for c in nbformat.read(page, as_version=4).cells
                     if c.cell_type == "markdown"]
        for text in texts:
            for target in LINK.findall(text):
                if target.startswith(("http://", "https://", "mailto:")):
                    continue
                where = ROOT / "reports" / page.relative_to(REPORTS) if page.is_relative_to(
                    REPORTS) else page  # as the site places it
                assert _source(os.path.relpath(os.path.normpath(where.parent / target), ROOT)
                               ).exists(), f"{page}: link to missing {target}"


def test_no_identifier_of_any_input_record_is_published(main_job):
    persons = pd.concat([pd.read_parquet(derived_dir(s) / "canonical" / "persons.parquet")
                         for s in site_ids()])
    outputs = [p for p in REPORTS.rglob("*") if p.suffix in {".ipynb", ".csv", ".txt"}]
    outputs += list((ROOT / "_site").rglob("*.html")) if (ROOT / "_site").is_dir() else []
    # the committed sample is synthetic and notebook 02 says so above its one example child
    hits = scan_for_identifiers(outputs, persons, allow_synthetic_examples=True)
    assert hits == []
    strict = scan_for_identifiers(outputs, persons, allow_synthetic_examples=False)
    assert {where.split("#")[0] for where, _, _ in strict} <= {
        str(REPORTS / s / "02_single_view.ipynb") for s in site_ids()}


@pytest.mark.parametrize("site", site_ids())
def test_no_suppressed_cell_can_be_narrowed_from_the_published_tables(main_job, site):
    done = subprocess.run([sys.executable, "-m", "hampshire_research", "audit-disclosure",
                           "--site", site], cwd=ROOT, capture_output=True, text=True,
                          env=os.environ)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]
    assert "referral rates: 0 suppressed cell(s)" in done.stdout


# What a council reader must never see on a page: reprs, warnings, pandas display limits and
# frames, paths of the build machine, and HTML or script outputs (Quarto loads require.js and
# jQuery from a CDN for them).
RAW = re.compile(r"PosixPath\(|Warning|<pandas|dtype:|\.\.\.\s*\n|^\s*\.\.\.\s*$|\[\d+ rows x \d+ columns\]"
                 r"|(?<![\w.])/(?:tmp|home|root|work|usr|Users|var)/", re.MULTILINE)


def raw_outputs(path: Path) -> list[str]:
    """Each output of an executed notebook that shows raw Python rather than the page."""
    found = []
    for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if "#| content: valuebox" in cell.source:
            continue  # Quarto reads a value box from the dict the cell returns
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if out.get("output_type") in ("stream", "error"):
                found.append(f"cell {i}: {out['output_type']} output")
            for kind in ("text/html", "application/javascript"):
                if kind in data:
                    found.append(f"cell {i}: {kind} output")
            text = out.get("text", "") + "".join(v for k, v in data.items()
                                                 if k.startswith("text/") and isinstance(v, str))
            if "text/plain" in data and not ({"text/markdown", "image/png"} & set(data)):
                found.append(f"cell {i}: bare text/plain output {data['text/plain'][:60]!r}")
            found += [f"cell {i}: {m.group(0)!r}" for m in RAW.finditer(text)]
    return found


def test_no_page_shows_raw_output(main_job):
    for path in sorted(REPORTS.glob("*/*.ipynb")):
        assert raw_outputs(path) == [], path
