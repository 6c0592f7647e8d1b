"""The CIN census XML and SSDA903 CSVs pass the DfE validators (run from their own venv) with 0
errors under each year's ruleset (years before 2022-23 under the 2022-23 rules).

They check the committed samples, which test_synthetic.py proves are what the generator
writes today (so this is a check of the generator, without generating again)."""

from __future__ import annotations

import pytest
from validators_env import CANNOT_RUN, validate_903, validate_cin

from hampshire_research.params import load_site

pytestmark = [pytest.mark.validators, pytest.mark.slow]

@pytest.fixture(scope="module", params=["hampshire", "north_yorkshire"])
def site_data(request):
    params = load_site(request.param)
    return params, params.data_path


def test_cin_census_has_no_errors(site_data):
    params, out = site_data
    queries = {}
    files = {y: out / "cin_census" / f"cin_census_{y}.xml" for y in params.study_window.collection_years}
    for year, issues in validate_cin(files).items():
        errors = [i for i in issues if not i["rule"].endswith("Q")]
        assert errors == [], (year, errors[:5])
        queries[year] = sorted({i["rule"] for i in issues})
    # queries may remain; the ones seen are explained in the data dictionary
    allowed = {"8670Q", "8825Q", "8569Q", "8873Q", "2991Q"}
    assert set().union(*queries.values()) <= allowed, queries


def test_ssda903_has_no_errors(site_data):
    params, out = site_data
    folders = {y: out / "ssda903" / str(y) for y in params.study_window.collection_years}
    for year, issues in validate_903(folders, params.ons_code).items():
        broken = [i for i in issues if i["rule"] not in CANNOT_RUN]
        assert broken == [], (year, broken[:5])
