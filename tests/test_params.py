"""Site parameters load, validate, and fail with one clear error naming key and file."""

import pytest
import yaml

from hampshire_research.errors import ProjectError
from hampshire_research.params import load_site, resolve_data_dir, site_ids


def test_both_sites_load_with_their_la_codes():
    assert site_ids() == ["hampshire", "north_yorkshire"]
    hants, ny = load_site("hampshire"), load_site("north_yorkshire")
    assert (hants.la_number, hants.ons_code) == (850, "E10000014")
    assert (ny.la_number, ny.ons_code) == (815, "E06000065")
    assert len(hants.districts) == 11 and len(ny.districts) == 7
    assert hants.cohort.ncy == [5, 6, 7, 8] and hants.cohort.transfer_ncy == 7


def test_study_window_follows_year5_past_the_september_of_year7():
    for site in site_ids():
        w = load_site(site).study_window
        # Year 5 in the first academic year starts Year 7 two Septembers later, and needs
        # the cohort's months_after (24) of follow-up inside the window.
        assert w.last_academic_year - (w.first_academic_year + 2) >= 2
        assert len(w.collection_years) == len(w.academic_years)


def test_every_figure_has_a_source_comment():
    """Each calibration figure line in the YAML carries a comment or a source block."""
    for site in site_ids():
        text = open(f"params/{site}.yaml", encoding="utf-8").read()
        block = text.split("calibration:")[1].split("disclosure_profile")[0]
        for line in block.splitlines():
            # direct children of calibration with a value on the line (blocks carry `source:`)
            if line.startswith("  ") and not line.startswith("   ") and line.partition(":")[2].strip():
                assert "#" in line, f"{site}: no source comment on {line.strip()!r}"
        assert block.count("source: >-") == 3  # referral rates, referral sources, ever in need
        assert "SYNTHETIC" in block.split("effects:")[0][-400:]  # the effects are labelled


def _write(tmp_path, change):
    raw = yaml.safe_load(open("params/hampshire.yaml", encoding="utf-8"))
    change(raw)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_unknown_key_names_the_key_and_the_file(tmp_path):
    path = _write(tmp_path, lambda r: r.update(la_numbr=850))
    with pytest.raises(ProjectError) as e:
        load_site(path)
    assert "broken.yaml" in str(e.value) and "la_numbr" in str(e.value) and "unknown key" in str(e.value)


def test_missing_key_is_named(tmp_path):
    path = _write(tmp_path, lambda r: r["calibration"].pop("fsm"))
    with pytest.raises(ProjectError, match=r"calibration\.fsm.*missing key"):
        load_site(path)


def test_mistyped_value_is_named(tmp_path):
    path = _write(tmp_path, lambda r: r.update(la_number="eight-fifty"))
    with pytest.raises(ProjectError, match=r"'la_number'.*bad value"):
        load_site(path)


def test_population_needs_every_age(tmp_path):
    path = _write(tmp_path, lambda r: r["population"]["by_age"].pop(17))
    with pytest.raises(ProjectError, match="population.by_age"):
        load_site(path)


def test_missing_file_lists_known_sites():
    with pytest.raises(ProjectError, match="no parameters file.*hampshire, north_yorkshire"):
        load_site("atlantis")


def test_data_dir_defaults_to_the_committed_sample(tmp_path):
    params = load_site("hampshire")
    assert resolve_data_dir(params, "") == params.data_path
    assert resolve_data_dir(params, "data/x").parts[-2:] == ("data", "x")
    assert resolve_data_dir(params, tmp_path) == tmp_path


def test_rows_by_source_reconciles_and_reasons_hide_values():
    import pandas as pd

    from hampshire_research import site_profile

    report = pd.DataFrame({"source": ["a", "a", "b"], "read": [10, 5, 3], "kept": [9, 5, 3],
                           "flagged": [1, 0, 0], "quarantined": [1, 0, 0]})
    out = site_profile.rows_by_source(report)
    assert out.to_dict("records")[0] == {"source": "a", "read": 15, "kept": 14, "flagged": 1,
                                         "quarantined": 1}
    flags = pd.DataFrame({"file": ["a/x.csv"], "row": [3], "line": [None], "field": ["UPN"],
                          "reason": ["check letter"], "value": ["A123"]})
    reasons = site_profile.set_aside_reasons(flags, flags.iloc[:0])
    assert "value" not in reasons.columns and reasons["rows"].tolist() == [1]
    bad = report.assign(kept=[1, 1, 1])
    import pytest
    with pytest.raises(ValueError, match="does not reconcile"):
        site_profile.rows_by_source(bad)
