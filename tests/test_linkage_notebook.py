"""Notebook 02 (single view) runs on the committed sample and publishes what the package gives."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest

from hampshire_research.build import build_site
from hampshire_research.linkage import report as lr
from hampshire_research.params import load_site
from hampshire_research.paths import project_root
from hampshire_research.publish import SYNTHETIC_EXAMPLE_TAG, scan_for_identifiers
from hampshire_research.run import execute

NOTEBOOK = project_root() / "notebooks" / "02_single_view.ipynb"


def test_notebook_specifics():  # the common shape: tests/test_notebooks.py
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # the one row-level cell is marked so the identifier scan knows it is a synthetic example
    row_level = [c for c in nb.cells if SYNTHETIC_EXAMPLE_TAG in c.metadata.get("tags", [])]
    assert len(row_level) == 1 and "is_synthetic(data_dir)" in row_level[0].source


def test_source_combinations_add_up():
    sv = pd.DataFrame({"child_id": list("abcd"),
                       **{f"in_{s}": [True, True, True, False] for s in lr.SOURCES}})
    sv["in_csc"] = [True, False, False, True]
    combos = lr.source_combinations(sv)
    assert combos["children"].sum() == 4
    top = combos.iloc[0]
    assert top["children"] == 2 and not top[lr.LABELS["csc"]] and top["n_sources"] == 4


@pytest.mark.slow
def test_notebook_tables_equal_package_results(tmp_path):
    params = load_site("hampshire")
    outputs = {"reports_root": str(tmp_path / "reports")}  # the notebook's, not ours
    published = tmp_path / "reports" / "hampshire"
    run = execute(NOTEBOOK, tmp_path / NOTEBOOK.name, {"site": "hampshire", "data_dir": "", **outputs})
    assert run.status == "ok", run.error
    tables = build_site(params, "")
    expected = {
        "linkage_overview": lr.overview(tables),
        "linkage_sources": lr.sources_table(tables),
        "linkage_source_combinations": lr.source_combinations(tables["single_view"]),
        "linkage_tradeoff": tables["tradeoff"],
    }
    for name, table in expected.items():
        lr.publish(table, name, params, out_dir=tmp_path)
        ours = (tmp_path / "tables" / f"{name}.csv").read_text()
        assert ours == (published / "tables" / f"{name}.csv").read_text(), name
    children = int(lr.overview(tables).set_index("measure").loc["children (after linkage)",
                                                                   "count"])
    assert children == tables["single_view"]["child_id"].nunique()
    for fig in ("linkage_source_combinations", "linkage_match_weights"):
        assert (published / "figures" / f"{fig}.alt.txt").read_text().strip()
    # nothing identifying outside the synthetic example cell
    hits = scan_for_identifiers([tmp_path / NOTEBOOK.name], tables["persons"],
                                allow_synthetic_examples=True)
    assert hits == []
