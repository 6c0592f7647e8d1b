"""Extracts in the shapes councils' systems write them (fixtures written from the public
column lists and specifications): an SSD exported from SQL Server Management Studio (the text
NULL for a blank), dates in every form, a resubmitted CIN census year; and the run that stops,
naming the file, when a file keeps too few of its rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hampshire_research import cli
from hampshire_research.params import load_site
from hampshire_research.sources import readers
from hampshire_research.sources.validate import report

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
PARAMS = load_site("hampshire")


def _read(folder: str, reader) -> readers.Build:
    b = readers.Build(data_dir=FIXTURES / folder, params=PARAMS)
    reader(b)
    return b


def test_ssms_null_is_blank_and_open_cases_are_kept():
    # SystemC (LiquidLogic) ssd_person, ssd_cin_episodes and ssd_address columns, BOM, CRLF,
    # SSMS datetimes, NULL in every empty cell
    b = _read("ssms_null", readers.read_ssd)
    rep = report(b.logs).set_index("file")
    person = rep.loc["csc/ssd_person.csv"]
    assert (person["read"], person["kept"], person["quarantined"]) == (4, 4, 0)
    assert person["flag_reasons"] == "pers_dob: date out of range (set to null) (1)"
    assert person["missing_columns"] == ""  # the NHS number is pers_single_unique_id here
    assert person["identity"] == ("first_name 50%, surname 75%, dob 25%, postcode 25%, upn 25%, "
                                  "nhs_number 25%")
    episodes = rep.loc["csc/ssd_cin_episodes.csv"]
    assert (episodes["read"], episodes["kept"]) == (5, 3)
    assert episodes["quarantine_reasons"] == ("cine_person_id: person not in ssd_person (1); "
                                              "cine_referral_date: missing key field (1)")
    assert episodes["flag_reasons"] == ""  # NULL is no value, not a bad one
    ev = pd.concat(b.events).set_index("event_id")
    assert pd.isna(ev.loc["csc:referral:R1", "end_date"])  # the open referral is kept
    assert ev.loc["csc:referral:R2", "end_date"] == pd.Timestamp("2023-02-03")
    persons = pd.concat(b.persons).set_index("record_id")
    assert persons.loc["csc:P1", "postcode"] == "SO23 8AA"  # the open address
    assert persons.loc["csc:P4"].drop(["source", "sex"]).isna().all()
    assert rep.loc["csc/ssd_address.csv", "kept"] == 3


def test_every_date_form_in_one_export():
    b = _read("dates", readers.read_early_help)
    (log,) = b.logs
    assert (log.read, log.kept) == (8, 8)
    assert b.events[0]["start_date"].eq(pd.Timestamp("2022-10-06")).all()
    assert b.events[0]["end_date"].isna().all()
    assert log.flagged["reason"].value_counts().to_dict() == {
        "date out of range (set to null)": 4}


def test_a_resubmitted_cin_year_reads_the_file_made_last_and_says_why():
    b = _read("cin_resubmitted", readers.read_cin)
    chosen = "cin_census/CIN_Census_2022_resubmission.xml"
    assert {log.file.split("#")[0] for log in b.logs} == {chosen}
    rep = report(b.logs, FIXTURES / "cin_resubmitted", b.notes).set_index("file")
    assert rep.loc["cin_census/cin_census_2022.xml", "note"] == (
        "not read: a resubmission of Year 2022; cin_census/CIN_Census_2022_resubmission.xml "
        "was read instead (made later, or the last by name: DateTime 2022-05-03T09:00:00)")
    assert rep.loc[f"{chosen}#Child", "note"] == (
        "chosen of 2 files for Year 2022: made last (Header/Source/DateTime "
        "2022-06-14T16:30:00Z); Year 2022 but ReferenceDate 2023-03-31 (record ids use Year); "
        "LEA 201 is not this site's LA number 850")
    child = rep.loc[f"{chosen}#Child"]
    # ExpectedPersonBirthDate 1066-04-13 (as in the DfE validator's test files): flagged, kept
    assert (child["read"], child["kept"], child["quarantined"]) == (4, 3, 1)
    assert child["flag_reasons"] == \
        "ExpectedPersonBirthDate: date out of range (set to null) (1)"
    # the child without an LAchildID takes its two episodes and their assessments with it
    assert rep.loc[f"{chosen}#CINdetails", "quarantine_reasons"] == \
        "LAchildID: child record set aside (LAchildID: missing key field) (2)"
    assert rep.loc[f"{chosen}#Assessments", "quarantined"] == 2
    persons = pd.concat(b.persons)
    assert sorted(persons["record_id"]) == ["cin_census:2022:C1", "cin_census:2022:C2",
                                            "cin_census:2022:C3"]


@pytest.fixture
def site(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "tiny_site", site)
    return site


def test_validate_stops_naming_the_file_when_most_rows_are_set_aside(site, tmp_path, capsys):
    pupils = site / "school_census/2021-22/autumn/pupils.csv"
    lines = pupils.read_text().splitlines()
    header = lines[0].split(",")
    urn = header.index("URN")
    blanked = [",".join("" if i == urn else v for i, v in enumerate(line.split(",")))
               for line in lines[1:]]
    pupils.write_text("\n".join([lines[0], *blanked]) + "\n")
    args = ["validate", "--site", "hampshire", "--data", str(site), "--derived",
            str(tmp_path / "derived")]
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after the build's progress line
    assert err.startswith("error: school_census/2021-22/autumn/pupils.csv: kept 0 of ")
    assert "under the threshold 50% (top reason URN: missing key field" in err
    assert cli.main([*args, "--min-kept", "0"]) == 0  # told to go on


def test_link_refuses_an_empty_source_unless_told(site, tmp_path, capsys):
    notes = site / "case_notes/case_notes.csv"
    notes.write_text(notes.read_text().splitlines()[0] + "\n")  # the header alone
    args = ["--site", "hampshire", "--data", str(site), "--derived", str(tmp_path / "d")]
    assert cli.main(["validate", *args]) == 2
    assert "source case_notes is empty: no rows kept from case_notes/case_notes.csv" in \
        capsys.readouterr().err
    assert cli.main(["validate", *args, "--allow-empty"]) == 0
    out = capsys.readouterr().out
    assert "case_notes: read 0, kept 0 (0 flagged), set aside 0 (1 files)" in out
    assert cli.main(["link", *args]) == 2
    assert "pass --allow-empty" in capsys.readouterr().err
