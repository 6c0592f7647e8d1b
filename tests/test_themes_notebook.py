"""Notebook 06 runs for both sites, publishes what the package returns, and no planted
identifier reaches any table or the executed notebook."""

from __future__ import annotations

import re

import nbformat
import pandas as pd
import pytest

from hampshire_research import themes
from hampshire_research.params import load_site
from hampshire_research.paths import derived_dir, project_root
from hampshire_research.run import execute
from hampshire_research.sources import load_canonical, load_report
from hampshire_research.themes.anonymise import leaked
from hampshire_research.themes.tables import publish
from hampshire_research.voice import voice_map as vm

NOTEBOOK = project_root() / "notebooks" / "06_information_use_voices.ipynb"


def test_notebook_specifics():  # the common shape: tests/test_notebooks.py
    nb = nbformat.read(NOTEBOOK, as_version=4)
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    names = re.findall(r'"([a-z0-9_]+)",\s*params', sources)
    assert len(set(names)) >= 15
    assert all(n.startswith(("themes_", "voicemap_")) for n in names)


@pytest.mark.slow
@pytest.mark.parametrize("site", ["hampshire", "north_yorkshire"])
def test_notebook_runs_and_publishes_the_package_results(site, tmp_path):
    params = load_site(site)
    out = tmp_path / NOTEBOOK.name
    outputs = {"reports_root": str(tmp_path / "reports")}  # the notebook's, not ours
    site_reports = tmp_path / "reports" / site
    run = execute(NOTEBOOK, out, {"site": site, "data_dir": "", **outputs})
    assert run.status == "ok", run.error
    data = params.data_path
    derived = derived_dir(site)
    canonical = load_canonical(derived / "canonical")
    turns = canonical["transcript_turns"]
    coding = themes.load_coding(data, turns)
    expected = themes.theme_frequencies(turns, coding.codes, coding.codebook, by="role")
    publish(expected, "themes_by_role", params, out_dir=tmp_path)
    tables = site_reports / "tables"
    assert (tmp_path / "tables" / "themes_by_role.csv").read_text() == \
        (tables / "themes_by_role.csv").read_text()
    records = vm.read_voice_records(canonical, load_report(derived))
    summary = vm.coverage_summary(vm.voice_coverage(records))
    published = pd.read_csv(tables / "voicemap_coverage.csv", dtype=str)
    assert published["measure"].tolist() == summary["measure"].tolist()

    planted = pd.read_csv(data / "truth" / "transcript_identifiers.csv")["value"]
    texts = [p.read_text(encoding="utf-8") for p in sorted(tables.glob("themes_*.csv"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted(tables.glob("voicemap_*.csv"))]
    executed = nbformat.read(out, as_version=4)
    texts += [str(o) for c in executed.cells for o in c.get("outputs", [])]
    assert leaked(texts, planted) == []
    quotes = pd.read_csv(tables / "themes_quotes.csv")
    assert quotes["theme"].nunique() == 9
    assert (site_reports / "figures" / "themes_by_role.alt.txt").read_text().strip()
