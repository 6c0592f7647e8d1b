"""Voice map: the catalogue, coverage figures from hand-made raw files read by the sources
readers into canonical tables, and every row accounted for."""

from pathlib import Path

import pandas as pd
import pytest

from hampshire_research.errors import ProjectError
from hampshire_research.params import load_site
from hampshire_research.sources import readers, validate
from hampshire_research.voice import voice_map as vm
from hampshire_research.voice.autocode import autocode


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _records(root: Path) -> vm.VoiceRecords:
    """The voice map of raw files, read as every analysis reads them: by the sources readers."""
    b = readers.Build(data_dir=root, params=load_site("hampshire"))
    readers.read_ssd(b)
    readers.read_ssda903(b)
    tables = dict(validate._tables(b))
    return vm.read_voice_records(tables, validate.report(b.logs, root))


@pytest.fixture
def site(tmp_path):
    csc = tmp_path / "csc"
    _write(csc / "ssd_person.csv", "pers_person_id,pers_dob\n1,2012-05-01\n2,2020-01-01\n"
           "3,2007-09-30\n3,2007-09-30\n")
    # child 1 is on a CP plan from 2023-01-01; child 2 never
    _write(csc / "ssd_cp_plans.csv", "cppl_cp_plan_id,cppl_person_id,cppl_cp_plan_start_date,"
           "cppl_cp_plan_end_date\n10,1,2023-01-01,\n")
    _write(csc / "ssd_cin_visits.csv",
           "cinv_cin_visit_id,cinv_person_id,cinv_cin_visit_date,cinv_cin_visit_seen,"
           "cinv_cin_visit_seen_alone\n"
           "a,1,2022-06-01,Y,N\n"      # CIN, 2023, age 10 -> 10-15
           "b,1,2023-02-01,Y,Y\n"      # CP, 2023
           "c,2,2023-05-01,N,N\n"      # CIN, 2024, age 3 -> 1-4
           "d,2,2023-06-01,Y,N\n"      # CIN, 2024
           "e,9,2023-06-01,Y,Y\n"      # person not in ssd_person -> set aside
           "f,2,not a date,Y,Y\n"      # bad date -> set aside
           "g,2,2023-07-01,maybe,N\n")  # seen not Y/N -> set aside
    _write(csc / "ssd_cin_assessments.csv",
           "cina_assessment_id,cina_person_id,cina_assessment_start_date,"
           "cina_assessment_child_seen\nx,1,2022-05-01,Y\ny,2,2023-04-02,N\n")
    _write(csc / "ssd_cin_episodes.csv",
           "cine_referral_id,cine_person_id,cine_referral_date,cine_referral_source_code\n"
           "r1,1,2022-04-10,1C\nr2,2,2023-04-01,2A\nr3,1,2023-01-05,1a\n")
    _write(csc / "ssd_voice_of_child.csv",
           "voch_table_id,voch_person_id,voch_explained_worries,voch_story_help_understand,"
           "voch_agree_worker,voch_plan_safe,voch_tablet_help_explain\n1,1,Y,,N,,\n2,2,,,,,\n")
    _write(csc / "ssd_initial_cp_conference.csv", "icpc_icpc_id,icpc_person_id,icpc_icpc_date\n"
           "c1,1,2022-12-20\n")
    _write(tmp_path / "ssda903" / "2023" / "reviews.csv",
           "CHILD,DOB,REVIEW,REVIEW_CODE\nA,01/05/2012,01/06/2022,PN1\nA,01/05/2012,01/12/2022,PN7\n"
           "B,01/01/2020,10/10/2022,PN0\nC,01/05/2008,05/01/2023,PN6\nC,01/05/2008,,PN1\n"
           "C,01/05/2008,06/01/2023,PN9\n")
    _write(tmp_path / "ssda903" / "2023" / "header.csv",
           "CHILD,SEX,DOB\nA,1,01/05/2012\nB,2,01/01/2020\nC,1,01/05/2008\n")
    _write(tmp_path / "ssda903" / "2023" / "episodes.csv", "CHILD,DECOM\n")
    return tmp_path


def test_catalogue_covers_every_source_and_names_the_measures():
    cat = vm.load_catalogue()
    assert {"ssda903", "csc", "cin_census", "school_census", "early_help", "case_notes",
            "transcripts"} <= set(cat["source"])
    assert set(cat["carries_voice"]) == {"yes", "partial", "no"}
    measured = set(cat["measure"]) - {"", "text_voice", "icpc_attendance"}
    assert measured <= set(vm.MEASURES)
    # every "no" field says what could be recorded, unless it is only identity
    gaps = cat[(cat["carries_voice"] == "no") & (cat["field"] != "(identity)")]
    assert (gaps["opportunity"] != "").sum() >= len(gaps) - 1


def test_coverage_figures_and_rows_set_aside(site):
    rec = _records(site)
    report = rec.rows_read.set_index("file")
    assert (report["read"] == report["kept"] + report["quarantined"]).all()
    visits = report.loc["csc/ssd_cin_visits.csv"]
    assert (visits["read"], visits["kept"], visits["quarantined"]) == (7, 5, 2)
    assert "person not in ssd_person (1)" in visits["reasons"]
    assert "unparseable date (1)" in visits["reasons"]
    assert visits["not_counted"] == "cinv_cin_visit_seen not Y/N (1)"  # kept, seen unknown
    assert report.loc["csc/ssd_person.csv", "quarantined"] == 1  # the duplicate
    reviews = report.loc["ssda903/2023/reviews.csv"]
    assert (reviews["kept"], reviews["quarantined"]) == (6, 0)
    assert reviews["not_counted"] == "REVIEW_CODE not PN0-PN7 (1); no REVIEW date (1)"
    assert "REVIEW_CODE: not a participation code PN0-PN7" in reviews["reasons"]

    cov = vm.voice_coverage(rec)
    s = vm.coverage_summary(cov).set_index(["measure", "stage"])
    # reviews of children 4+: PN1, PN7, PN6 -> conveyed 2 of 3; spoke for self 1 of 3
    assert tuple(s.loc[("review_views_conveyed", "Looked after"), ["records", "with_voice"]]) == (3, 2)
    assert tuple(s.loc[("review_spoke_for_self", "Looked after"), ["records", "with_voice"]]) == (3, 1)
    assert tuple(s.loc[("visit_seen", "CIN plan"), ["records", "with_voice"]]) == (3, 2)
    assert tuple(s.loc[("visit_seen", "CP plan"), ["records", "with_voice"]]) == (1, 1)
    # the visit whose seen flag is not Y/N still says it was not seen alone
    assert tuple(s.loc[("visit_seen_alone", "CIN plan"), ["records", "with_voice"]]) == (4, 0)
    assert tuple(s.loc[("assessment_child_seen", "Assessment"),
                       ["records", "with_voice"]]) == (2, 1)
    assert tuple(s.loc[("referral_by_child_or_family", "Contact / Referral"),
                       ["records", "with_voice"]]) == (3, 2)
    # children referred: 1 (answered) and 2 (a blank row is not an answer)
    assert tuple(s.loc[("voice_questionnaire", "CIN plan / CP plan / Looked after"),
                       ["records", "with_voice"]]) == (2, 1)
    seen = cov[cov.measure == "visit_seen"].set_index(["stage", "year", "age_band"])
    assert seen.loc[("CIN plan", 2024, "1-4"), "records"] == 2
    assert seen.loc[("CIN plan", 2023, "10-15"), "with_voice"] == 1


def test_review_codes_and_the_gaps_table(site):
    rec = _records(site)
    codes = vm.review_participation(rec)
    assert len(codes) == 8 and codes["reviews"].sum() == 4
    assert codes.set_index("code").loc["PN0", "reviews"] == 1
    summary = vm.coverage_summary(vm.voice_coverage(rec), by=())
    pct = dict(zip(summary["measure"], summary["pct"], strict=True))
    assert pct["review_views_conveyed"] == 66.7
    pct["visit_seen"] = "c"  # a suppressed share is shown as its symbol
    text = pd.DataFrame({"stage": ["CIN plan / CP plan", "Looked after"], "pct": [41.0, 55.5]})
    table = vm.recorded_and_missing(vm.load_catalogue(), pct, rec, text).set_index("stage")
    assert "no attendance field" in table.loc["CP plan", "could_be_and_is_not"]
    assert "cinv_cin_visit_seen (c%)" in table.loc["CIN plan / CP plan", "recorded"]
    assert table.loc["CP plan", "recorded"] == "nothing"
    assert "(66.7%)" in table.loc["Looked after", "recorded"]
    assert table.loc["Looked after", "case_notes_with_child_voice_pct"] == 55.5


def test_missing_person_file_is_an_error(tmp_path):
    (tmp_path / "csc").mkdir()
    with pytest.raises(ProjectError, match="ssd_person"):
        _records(tmp_path)
    _write(tmp_path / "csc" / "ssd_person.csv", "pers_person_id,pers_dob\n1,2012-05-01\n")
    _write(tmp_path / "csc" / "ssd_cin_visits.csv", "cinv_person_id,wrong\n1,x\n")
    with pytest.raises(ProjectError, match="ssd_cin_visits.csv"):
        _records(tmp_path)


def test_text_coverage_counts_the_voice_coders_segments():
    texts = pd.DataFrame({
        "text_id": ["N1", "N2", "N3"], "record_id": ["csc:1", "csc:1", "csc:2"],
        "source": "csc", "note_type": "visit", "stage": ["CIN", "CIN", "CP"],
        "date": pd.to_datetime(["2023-01-01", "2023-02-01", "2023-02-01"]),
        "author_role": "Social Worker",
        "text": ['Ellie said, "I like my new school."', "Ellie was at school so was not seen.",
                 "Home visit completed."]})
    segments = autocode(texts.rename(columns={"text_id": "note_id"}))
    text = vm.text_voice_coverage(texts, segments).set_index("stage")
    assert tuple(text.loc["CIN plan", ["notes", "with_child_voice"]]) == (2, 1)
    assert tuple(text.loc["CIN plan / CP plan", ["notes", "with_child_voice"]]) == (3, 1)
    assert text.loc["Looked after", "notes"] == 0


def test_questionnaire_method_when_the_extract_records_one(site):
    assert vm.questionnaire_methods(_records(site)).empty  # the SSD shape has none
    _write(site / "csc" / "ssd_voice_of_child.csv",
           "voch_table_id,voch_person_id,voch_explained_worries,voch_agree_worker,voch_method\n"
           "1,1,Y,,Mind of My Own\n2,1,N,Y,worker\n3,2,Y,,\n4,3,,,worker\n")
    methods = vm.questionnaire_methods(_records(site)).set_index("method")
    assert methods["answers"].to_dict() == {"Mind of My Own": 1, "not recorded": 1, "worker": 1}
