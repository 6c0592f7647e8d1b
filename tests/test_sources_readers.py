"""The readers on a hand-made site that follows contracts.md, with known faults planted:
what is read, kept, flagged and quarantined, and what the canonical tables hold."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from hampshire_research.params import load_site
from hampshire_research.sources import (
    build_canonical,
    format_report,
    is_synthetic,
    load_canonical,
    validate_site,
)

TINY = Path(__file__).parent / "fixtures" / "sources" / "tiny_site"


@pytest.fixture(scope="module")
def hampshire():
    return load_site("hampshire")


@pytest.fixture(scope="module")
def built(hampshire, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    report = validate_site(hampshire, TINY, out)
    return report, out, load_canonical(out / "canonical")


def _row(report: pd.DataFrame, file: str) -> pd.Series:
    return report.set_index("file").loc[file]


def test_every_row_is_kept_or_quarantined(built):
    report, _, _ = built
    assert (report["read"] == report["kept"] + report["quarantined"]).all()
    assert report[["read", "kept", "flagged", "quarantined"]].sum().to_dict() == {
        "read": 53, "kept": 49, "flagged": 6, "quarantined": 4}


def test_planted_faults_are_reported(built):
    report, _, _ = built
    att = _row(report, "school_census/2021-22/autumn/attendance.csv")
    assert (att["read"], att["kept"], att["quarantined"]) == (5, 4, 1)
    assert "no census row for this pupil" in att["quarantine_reasons"]
    pupils = _row(report, "school_census/2021-22/autumn/pupils.csv")
    assert pupils["flag_reasons"] == "UPN: UPN check letter fails (1)"
    eh = _row(report, "early_help/early_help_episodes.csv")
    assert "NHSNumber: NHS number fails modulus 11 (1)" in eh["flag_reasons"]
    assert _row(report, "csc/ssd_contacts.csv")["quarantine_reasons"] == \
        "cont_contact_date: unparseable date (1)"
    assert _row(report, "csc/ssd_cin_visits.csv")["quarantine_reasons"] == \
        "cinv_person_id: person not in ssd_person (1)"
    assert _row(report, "case_notes/case_notes.csv")["quarantined"] == 1


def test_outputs_written(built):
    report, out, _ = built
    on_disk = pd.read_csv(out / "validation_report.csv")
    assert on_disk["read"].sum() == report["read"].sum()
    q = pd.read_parquet(out / "quarantine.parquet")
    assert len(q) == report["quarantined"].sum()
    assert q["reason"].notna().all() and q["file"].notna().all() and (q["row"] >= 1).all()
    contact = q[q["file"] == "csc/ssd_contacts.csv"].iloc[0]
    assert (contact["row"], contact["field"], contact["value"]) == (3, "cont_contact_date",
                                                                    "2022-13-01")
    flags = pd.read_parquet(out / "flags.parquet")
    assert len(flags) == 7  # one per flagged row, but two (UPN and NHS number) on EH002
    assert not list(out.glob(".validate-*"))


def test_record_ids_follow_the_contract(built):
    persons = built[2]["persons"]
    assert set(persons["record_id"]) == {
        "school_census:G850200115001", "school_census:W850200115002",
        "school_census:K850200115003", "school_census:A850400116004",
        "early_help:EH001", "early_help:EH002", "csc:P001", "csc:P002",
        "cin_census:2022:P001", "cin_census:2022:P002", "cin_census:2027:P001",
        "ssda903:2022:P001"}


def test_identity_fields(built):
    persons = built[2]["persons"].set_index("record_id")
    chloe = persons.loc["school_census:K850200115003"]
    # one person per UPN, identity from the latest census row (spring)
    assert chloe["surname"] == "Patel-Shah"
    assert chloe["dob"] == pd.Timestamp("2010-02-21")
    # a failing check letter: kept, upn null
    assert persons.loc["school_census:A850400116004", "upn"] is None
    assert persons.loc["early_help:EH002", "nhs_number"] is None
    assert persons.loc["early_help:EH001", "nhs_number"] == "9990000018"
    # SSD: the open address is the current postcode
    assert persons.loc["csc:P001", "postcode"] == "RG21 4AB"
    # 903 SEX 1 and CIN GenderCurrent 2 become M and F
    assert persons.loc["ssda903:2022:P001", "sex"] == "M"
    assert persons.loc["cin_census:2022:P002", "sex"] == "F"


def test_events(built):
    ev = built[2]["events"]
    csc = ev[ev["source"] == "csc"].set_index("event_id")
    assert sorted(csc["event_type"]) == ["assessment", "cin_visit", "contact", "contact",
                                         "cp_plan", "icpc", "referral", "s47"]
    assert csc.loc["csc:assessment:AS1", "factors"] == "3B,4B"
    assert csc.loc["csc:assessment:AS1", "episode_id"] == "R1"
    assert not csc.loc["csc:referral:R1", "referral_nfa"]
    cin = ev[ev["source"] == "cin_census"].set_index("event_id")
    assert cin.loc["cin_census:2022:P001:1:assessment:1", "factors"] == "3B,4B"
    assert cin.loc["cin_census:2022:P002:1:referral", "referral_nfa"]
    # one ICPC although recorded on both the episode and its S47
    assert (cin["event_type"] == "icpc").sum() == 1
    pp = cin.loc["cin_census:2027:P001:1:pre_proceedings:1"]
    assert (pp["start_date"], pp["outcome"]) == (pd.Timestamp("2026-06-01"), "PPO1")
    school = ev[ev["source"] == "school_census"]
    assert school["event_type"].value_counts().to_dict() == {
        "school_enrolment": 4, "suspension": 1, "permanent_exclusion": 1}
    assert school.loc[school["event_type"] == "suspension", "sessions"].iloc[0] == 4


def test_school_terms_and_districts(built):
    terms = built[2]["school_terms"]
    assert len(terms) == 8
    autumn = terms[terms["term"] == "autumn"].set_index("record_id")
    ben = autumn.loc["school_census:W850200115002"]
    assert (ben["census_date"], ben["ncy"], ben["sen_provision"], ben["district"]) == (
        pd.Timestamp("2021-10-07"), 6, "K", "Winchester")
    assert (ben["sessions_possible"], ben["sessions_unauthorised"]) == (120, 6)
    assert autumn.loc["school_census:K850200115003", "district"] == "Basingstoke and Deane"
    assert terms["fsm"].sum() == 4


def test_texts_keep_multiline_notes(built):
    texts = built[2]["texts"].set_index("text_id")
    assert list(texts.index) == ["N1", "N2"]
    assert texts.loc["N2", "text"] == "Met Ben at school.\nHe told me he likes football."
    assert texts.loc["N2", "record_id"] == "early_help:EH001"
    assert 'said "I don\'t want to go home"' in texts.loc["N1", "text"]


def test_parquet_is_queryable_with_duckdb(built):
    out = built[1]
    con = duckdb.connect()
    n, dob_type = con.execute(
        f"select count(*), any_value(typeof(dob)) from '{out}/canonical/persons.parquet'"
    ).fetchone()
    assert (n, dob_type) == (12, "DATE")


def test_same_input_same_bytes(hampshire, built, tmp_path):
    validate_site(hampshire, TINY, tmp_path)
    for p in sorted((built[1] / "canonical").glob("*.parquet")):
        assert p.read_bytes() == (tmp_path / "canonical" / p.name).read_bytes(), p.name


def test_is_synthetic_and_report_text(built, tmp_path):
    assert is_synthetic(TINY)
    assert not is_synthetic(tmp_path)
    text = format_report(built[0])
    assert "read 53, kept 49 (6 with a flag), quarantined 4" in text
    assert "cont_contact_date: unparseable date (1)" in text


def test_north_yorkshire_districts_by_outcode(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(TINY, site)
    pupils = site / "school_census/2021-22/autumn/pupils.csv"
    pupils.write_text(pupils.read_text().replace("SO23 8AA", "HG1 2AB"))
    tables, _ = build_canonical(load_site("north_yorkshire"), site)
    terms = tables["school_terms"]
    row = terms[(terms["term"] == "autumn") & (terms["postcode"] == "HG1 2AB")]
    assert row["district"].tolist() == ["Harrogate"]
    assert terms.loc[terms["postcode"] != "HG1 2AB", "district"].isna().all()


def test_a_file_no_reader_takes_is_reported(hampshire, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(TINY, site)
    (site / "csc/ssd_cla_placement.csv").write_text("clap_cla_placement_id\nPL1\n")
    report = validate_site(hampshire, site, tmp_path / "out")
    row = _row(report, "csc/ssd_cla_placement.csv")
    assert (row["read"], row["note"]) == (0, "not read: no reader for this file")
    assert "csc/ssd_cla_placement.csv: not read: no reader for this file" in format_report(report)
    assert report["note"].fillna("").ne("").sum() == 1


def test_child_seen_flags_for_the_voice_map(built):
    _, _, tables = built
    seen = tables["csc_child_seen"].set_index("event_id")
    assert seen.loc["csc:cin_visit:V1", ["child_seen", "seen_alone"]].tolist() == [True, True]
    assert seen.loc["csc:assessment:AS1", "child_seen"]
    assert pd.isna(seen.loc["csc:assessment:AS1", "seen_alone"])  # assessments have no such field
    # one row per visit and assessment kept in the events table, by the same event_id
    events = tables["events"]
    kept = events[events["event_type"].isin(["cin_visit", "assessment"])
                  & events["source"].eq("csc")]
    assert sorted(seen.index) == sorted(kept["event_id"])


def test_review_codes_and_transcripts_reach_the_canonical_tables(hampshire, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(TINY, site)
    year = sorted((site / "ssda903").iterdir())[0]
    child = pd.read_csv(year / "header.csv", dtype=str)["CHILD"].iloc[0]
    (year / "reviews.csv").write_text(f"CHILD,DOB,REVIEW,REVIEW_CODE\n{child},,01/06/2022,pn 1\n"
                                      f"{child},,01/07/2022,PN9\n{child},,,\n")
    (site / "transcripts").mkdir()
    (site / "transcripts" / "S1.txt").write_text(
        "Interviewer: How is your information used?\nP1 (parent): Nobody asked me.\n"
        "It felt like a file about us.\nInterviewer: Thank you.\n", encoding="utf-8")
    report = validate_site(hampshire, site, tmp_path / "out")
    tables = load_canonical(tmp_path / "out" / "canonical")
    reviews = tables["ssda903_reviews"]
    assert reviews["REVIEW_CODE"].tolist()[:3] == ["PN1", None, None]
    row = _row(report, f"ssda903/{year.name}/reviews.csv")
    assert (row["read"], row["kept"], row["flagged"]) == (3, 3, 1)
    assert "REVIEW_CODE: not a participation code PN0-PN7 (set to null) (1)" in row["flag_reasons"]
    turns = tables["transcript_turns"]
    assert turns["role"].tolist() == ["interviewer", "parent_carer", "interviewer"]
    assert turns.loc[1, "text"] == "Nobody asked me. It felt like a file about us."
    row = _row(report, "transcripts/S1.txt")
    assert (row["source"], row["read"], row["kept"]) == ("transcripts", 3, 3)
