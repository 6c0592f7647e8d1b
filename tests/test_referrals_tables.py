"""The published-tables contract of the referrals analysis (referrals/tables.py)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from hampshire_research import referrals as rf
from hampshire_research.errors import ProjectError
from hampshire_research.params import load_site

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_referral_routes.ipynb"


def test_the_notebook_publishes_exactly_the_registered_tables():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    calls = code.split("rf.publish(")[1:]
    published = {re.search(r'"(referrals_\w+)"', call).group(1) for call in calls}
    assert published == set(rf.TABLES)


def test_publish_holds_a_table_to_its_columns(tmp_path):
    params = load_site("hampshire")
    cohort = pd.DataFrame({"person_years": [120.0, 60.0, 60.0], "children": [40, 20, 20],
                           "level": ["All", "F", "M"], "subgroup": ["All", "sex", "sex"]})
    rf.publish(cohort, "referrals_cohort", params, out_dir=tmp_path)
    header = (tmp_path / "tables" / "referrals_cohort.csv").read_text().splitlines()[0]
    assert header.split(",") == rf.TABLES["referrals_cohort"]["columns"]
    with pytest.raises(ProjectError, match="referrals_cohort has columns"):
        rf.publish(cohort.drop(columns="level"), "referrals_cohort", params, out_dir=tmp_path)
    with pytest.raises(ProjectError, match="referrals_cohort has columns"):
        rf.publish(cohort.assign(child_id="A"), "referrals_cohort", params, out_dir=tmp_path)


def test_sankey_labels_a_node_only_when_all_its_bands_are_published():
    flows = pd.DataFrame({"source": ["Referral", "Referral", "Assessment", "Assessment"],
                          "target": ["Assessment", "No further action", "No plan", "Looked after"],
                          "referrals": [40, 12, 37, "c"]})
    fig = rf.plot_sankey(flows, "routes")
    labels = {t.get_text() for t in fig.axes[0].texts}
    # a hidden band leaves Assessment: 40 beside the visible 37 would show it is 3
    assert labels == {"Referral (52)", "Assessment", "No further action (12)", "No plan (37)"}
    # the band into Assessment hidden too: Assessment keeps its column, its visible band is drawn
    fig = rf.plot_sankey(flows.assign(referrals=["c", 12, 37, "c"]), "routes")
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert labels == {"Referral", "Assessment", "No further action (12)", "No plan (37)"}


def test_a_cumulative_curve_is_published_only_where_every_step_is_none_or_more_than_five():
    t = pd.DataFrame({"subgroup": ["All"] * 4 + ["sex"] * 8,
                      "level": ["All"] * 4 + ["F"] * 4 + ["M"] * 4,
                      "months_since_year5": [0, 4, 8, 12] * 3,
                      "first_referrals": [0, 14, 19, 34, 0, 7, 9, 16, 0, 7, 10, 18]})
    out = rf.tables.coarsen_steps(t, "first_referrals", 5)
    # All: 0 -> 14 (14) -> 34 (20; 8 skipped, a step of 5); sex: 4 has F and M up 7, but the
    # step to 8 is 2 for F, so 8 goes, and 12 is 9 and 11 up from 4
    assert out[out.subgroup == "All"]["months_since_year5"].tolist() == [0, 4, 12]
    assert out[out.level == "F"]["months_since_year5"].tolist() == [0, 4, 12]
    steps = out.groupby("level")["first_referrals"].diff().dropna()
    assert ((steps == 0) | (steps > 5)).all()
