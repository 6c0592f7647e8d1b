"""The readers on the committed synthetic samples (data/synthetic/<site>/): the generator's
files go through the same path as a council's, and the record_ids match its truth key."""

from __future__ import annotations

import pandas as pd
import pytest

from hampshire_research.params import load_site, site_ids
from hampshire_research.sources import load_canonical, validate_site


@pytest.fixture(scope="module", params=site_ids())
def sample(request, tmp_path_factory):
    params = load_site(request.param)
    if not (params.data_path / "synthetic.json").is_file():
        pytest.skip(f"no committed synthetic sample for {request.param}")
    out = tmp_path_factory.mktemp(request.param)
    report = validate_site(params, params.data_path, out)
    return params, report, load_canonical(out / "canonical"), out


def test_rows_reconcile(sample):
    _, report, _, out = sample
    assert (report["read"] == report["kept"] + report["quarantined"]).all()
    assert report["read"].sum() > 10_000
    q = pd.read_parquet(out / "quarantine.parquet")
    assert len(q) == report["quarantined"].sum()
    assert q["reason"].str.len().gt(0).all()


def test_record_ids_match_the_truth_key(sample):
    params, _, tables, _ = sample
    key = pd.read_csv(params.data_path / "truth" / "linkage_key.csv", dtype=str)
    persons = tables["persons"]
    assert set(persons["record_id"]) == set(key["record_id"])
    assert persons["source"].value_counts().to_dict() == key["source"].value_counts().to_dict()


def test_every_source_and_join(sample):
    params, _, tables, _ = sample
    persons, events = tables["persons"], tables["events"]
    assert set(persons["source"]) == {"school_census", "early_help", "csc", "cin_census",
                                      "ssda903"}
    ids = set(persons["record_id"])
    assert set(events["record_id"]) <= ids
    assert set(tables["school_terms"]["record_id"]) <= ids
    assert set(tables["texts"]["record_id"]) <= ids
    for kind in ("contact", "referral", "assessment", "s47", "cp_plan", "cla_episode",
                 "early_help", "suspension", "school_enrolment"):
        assert (events["event_type"] == kind).any(), kind


def test_districts_come_from_the_site(sample):
    params, _, tables, _ = sample
    districts = tables["school_terms"]["district"]
    assert set(districts.dropna()) <= {d.name for d in params.districts}
    assert districts.notna().mean() > 0.9
