"""What real exports look like: other headers, encodings, Excel, older CIN specifications."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hampshire_research.params import load_site
from hampshire_research.sources import build_canonical
from hampshire_research.sources.aliases import ALIASES, normalise_header, resolve_columns
from hampshire_research.sources.cin_xml import read_cin_census
from hampshire_research.sources.tabular import read_table

TINY = Path(__file__).parent / "fixtures" / "sources" / "tiny_site"
EH_COLUMNS = ["EHPersonID", "EpisodeID", "StartDate"]
EH_ROW = "EH1,EP1,Zoë,O'Brien,01/02/2012,F,SO23 8AA,,,03/09/2021,,Behaviour,School,Ongoing\n"
EH_HEADER = ("EHPersonID,EpisodeID,Forename,Surname,DOB,Sex,Postcode,UPN,NHSNumber,StartDate,"
             "EndDate,Reason,LeadPractitionerRole,Outcome\n")


@pytest.mark.parametrize("canonical, aliases", sorted(ALIASES.items()))
def test_each_alias_is_understood(canonical, aliases):
    for alias in aliases:
        for header in (alias, alias.upper(), f" {alias.lower()} ", alias.replace(" ", "_")):
            assert resolve_columns(["other", header], [canonical]) == {canonical: header}


def test_contract_name_wins_over_an_alias():
    assert resolve_columns(["Gender", "Sex"], ["Sex"]) == {"Sex": "Sex"}
    assert normalise_header("Date of-Birth_") == "dateofbirth"


def test_council_headers_in_a_file(tmp_path):
    path = tmp_path / "early_help_episodes.csv"
    path.write_text("Person ID,Episode ID,Date of Birth,Start Date,NHS No\n"
                    "EH1,EP1,01/02/2012,2021-09-03,999 000 0018\n")
    df = read_table(path, EH_COLUMNS, ["DOB", "NHSNumber"])
    assert df.iloc[0][["EHPersonID", "EpisodeID", "DOB", "StartDate", "NHSNumber"]].tolist() == [
        "EH1", "EP1", "01/02/2012", "2021-09-03", "999 000 0018"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
def test_encodings(tmp_path, encoding):
    path = tmp_path / "early_help_episodes.csv"
    path.write_bytes((EH_HEADER + EH_ROW).encode(encoding))
    df = read_table(path, EH_COLUMNS, ["Forename", "Surname"])
    assert (df.loc[0, "EHPersonID"], df.loc[0, "Forename"], df.loc[0, "Surname"]) == (
        "EH1", "Zoë", "O'Brien")


def test_windows_line_endings_and_bom(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (EH_HEADER + EH_ROW).replace("\n", "\r\n").encode())
    df = read_table(path, EH_COLUMNS, ["Outcome"])
    assert df.loc[0, "Outcome"] == "Ongoing" and len(df) == 1


def test_xlsx_export_gives_the_same_tables(tmp_path):
    site = tmp_path / "site"
    shutil.copytree(TINY, site)
    for rel in ["early_help/early_help_episodes.csv", "csc/ssd_contacts.csv",
                "school_census/2021-22/autumn/pupils.csv"]:
        csv = site / rel
        frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
        if "DOB" in frame:  # Excel holds dates as dates
            frame["DOB"] = pd.to_datetime(frame["DOB"], format="%d/%m/%Y")
        frame.to_excel(csv.with_suffix(".xlsx"), index=False)
        csv.unlink()
    params = load_site("hampshire")
    from_csv, _ = build_canonical(params, TINY)
    from_xlsx, logs = build_canonical(params, site)
    for name in ("persons", "events", "school_terms", "texts"):
        pd.testing.assert_frame_equal(from_csv[name], from_xlsx[name])
    assert "early_help/early_help_episodes.xlsx" in {log.file for log in logs}


CIN_2023 = """<?xml version="1.0" encoding="utf-8"?>
<Message>
 <Header><CollectionDetails><Collection>CIN</Collection><Year>2023</Year>
  <ReferenceDate>2023-03-31</ReferenceDate></CollectionDetails>
  <Source><SourceLevel>L</SourceLevel><LEA>850</LEA></Source></Header>
 <Children>
  <Child>
   <ChildIdentifiers><LAchildID>C1</LAchildID><UPN>G850200115001</UPN>
    <PersonBirthDate>2011-05-03</PersonBirthDate><GenderCurrent>2</GenderCurrent>
   </ChildIdentifiers>
   <ChildCharacteristics><Ethnicity>WBRI</Ethnicity></ChildCharacteristics>
   <CINdetails><CINreferralDate>2022-06-01</CINreferralDate><ReferralSource>1A</ReferralSource>
    <PrimaryNeedCode>N4</PrimaryNeedCode><CINclosureDate>2022-09-01</CINclosureDate>
    <ReasonForClosure>RC7</ReasonForClosure><ReferralNFA>0</ReferralNFA>
    <CINPlanDates><CINPlanStartDate>2022-07-01</CINPlanStartDate>
     <CINPlanEndDate>2022-09-01</CINPlanEndDate></CINPlanDates>
   </CINdetails>
  </Child>
  <Child>
   <ChildIdentifiers><LAchildID>C2</LAchildID><PersonBirthDate>2015-13-01</PersonBirthDate>
    <GenderCurrent>9</GenderCurrent></ChildIdentifiers>
   <CINdetails><CINreferralDate>2022-06-01</CINreferralDate><ReferralNFA>1</ReferralNFA>
   </CINdetails>
  </Child>
  <Child>
   <ChildIdentifiers><LAchildID>C1</LAchildID><GenderCurrent>1</GenderCurrent></ChildIdentifiers>
   <CINdetails><CINreferralDate>2022-06-01</CINreferralDate></CINdetails>
  </Child>
 </Children>
</Message>
"""


def test_cin_census_older_specification_with_gender_current(tmp_path):
    path = tmp_path / "cin_census_2023.xml"
    path.write_text(CIN_2023)
    logs, persons, events = read_cin_census(path, path.name)
    persons = persons.set_index("record_id")
    # a bad birth date does not lose the child: kept, the date null and flagged
    assert list(persons.index) == ["cin_census:2023:C1", "cin_census:2023:C2"]
    assert persons.loc["cin_census:2023:C1", ["sex", "upn"]].tolist() == ["F", "G850200115001"]
    assert pd.isna(persons.loc["cin_census:2023:C2", "dob"])
    child = next(log for log in logs if log.file.endswith("#Child"))
    assert (child.read, child.kept) == (3, 2)
    assert child.quarantined[["row", "line", "field", "reason"]].values.tolist() == [
        [3, 25, "LAchildID", "duplicate"]]
    assert child.flagged[["row", "line", "field", "reason"]].values.tolist() == [
        [2, 19, "PersonBirthDate", "unparseable date (set to null)"]]
    cin = next(log for log in logs if log.file.endswith("#CINdetails"))
    assert (cin.read, cin.kept) == (3, 2)
    assert cin.quarantined["reason"].tolist() == ["child record set aside (LAchildID: duplicate)"]
    ev = events[events["record_id"].eq("cin_census:2023:C1")].set_index("event_type")
    assert ev.loc["referral", ["referral_source", "primary_need", "reason"]].tolist() == [
        "1A", "N4", "RC7"]
    assert ev.loc["referral", "referral_nfa"] == False  # noqa: E712 (a nullable boolean)
    assert ev.loc["cin_plan", "end_date"] == pd.Timestamp("2022-09-01")


def test_cin_census_year_from_the_file_name_when_the_header_has_none(tmp_path):
    path = tmp_path / "cin_census_2024.xml"
    path.write_text(CIN_2023.replace("<Year>2023</Year>", "").replace(
        "<ReferenceDate>2023-03-31</ReferenceDate>", ""))
    _, persons, _ = read_cin_census(path, path.name)
    assert persons["record_id"].tolist() == ["cin_census:2024:C1", "cin_census:2024:C2"]


def test_windows_1252_found_only_late_in_a_big_file(tmp_path):
    path = tmp_path / "early_help_episodes.csv"
    rows = "".join(f"EH{i},EP{i},Amy,Smith,01/02/2012,F,,,,03/09/2021,,x,School,Ongoing\n"
                   for i in range(20_000))  # more than the part read to detect the encoding
    path.write_bytes((EH_HEADER + rows + EH_ROW.replace("EP1", "EP_last")).encode("cp1252"))
    df = read_table(path, EH_COLUMNS, ["Forename"])
    assert len(df) == 20_001 and df["Forename"].iloc[-1] == "Zoë"


@pytest.mark.parametrize("text, rows", [
    ("UPN,URN,UPN\nA,1,B\n", [("A", "1")]),           # a repeated header: the first is used
    ("UPN,URN,\nA,1,\n", [("A", "1")]),               # a trailing delimiter on every line
    ('"UPN";"URN"\r\n"A";"1"\r\n', [("A", "1")]),     # quoted headers, semicolons, CRLF
    ("\n\nUPN,URN\nA,1\n", [("A", "1")]),             # blank lines before the header
    ("UPN,URN\n", []),                                # a header and no rows: nothing to read
])
def test_csv_shapes_seen_in_exports(tmp_path, text, rows):
    path = tmp_path / "x.csv"
    path.write_text(text)
    df = read_table(path, ["UPN", "URN"])
    assert list(zip(df["UPN"], df["URN"])) == rows
