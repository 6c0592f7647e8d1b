"""The layouts councils' systems export, read from small extracts we wrote in those shapes (from
the public column lists: Data to Insight's deployed SSD per system, the DfE 903 return and the
school census export), with every row accounted for and the identity fields arriving."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hampshire_research.errors import ProjectError
from hampshire_research.params import load_site
from hampshire_research.sources import build_canonical

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
TINY = FIXTURES / "tiny_site"


def _site_with(tmp_path: Path, folder: str, shape: Path) -> Path:
    """The tiny site with one source folder replaced by an extract in another shape."""
    site = tmp_path / "site"
    shutil.copytree(TINY, site)
    shutil.rmtree(site / folder)
    shutil.copytree(shape, site / folder)
    return site


def _log(logs, file: str):
    return next(log for log in logs if log.file == file)


@pytest.mark.parametrize("system", ["mosaic", "liquidlogic", "eclipse"])
def test_ssd_as_deployed(tmp_path, system):
    site = _site_with(tmp_path, "csc", FIXTURES / f"ssd_{system}" / "csc")
    tables, logs = build_canonical(load_site("hampshire"), site)
    people = tables["persons"].query("source == 'csc'").set_index("record_id")
    assert len(people) == 3 and _log(logs, "csc/ssd_person.csv").kept == 3
    # the NHS number is in pers_single_unique_id on every deployed system
    assert people["nhs_number"].fillna("").tolist() == ["9990000042", "9990000050", ""]
    assert people["upn"].fillna("").tolist() == ["A850120100001", "P850120100002", ""]
    assert people[["first_name", "surname"]].notna().all().all()
    assert people["dob"].tolist() == [pd.Timestamp(d) for d in
                                      ("2009-09-09", "2010-02-21", "2011-06-15")]
    assert people["postcode"].fillna("").tolist() == ["RG21 4AB", "RG21 4AA", ""]
    ev = tables["events"].query("source == 'csc'")
    assert ev["event_type"].value_counts().to_dict() == {
        "contact": 2, "referral": 2, "cin_plan": 2, "cin_visit": 2, "assessment": 1,
        "cla_episode": 1}
    # Mosaic's contacts carry the source's description only: the code is left null, not guessed
    contact_sources = ev.query("event_type == 'contact'")["referral_source"]
    assert contact_sources.isna().all() if system == "mosaic" else contact_sources.notna().all()
    # Mosaic's visits name their CIN plan, not the child: tied to the plan's child
    visits = ev.query("event_type == 'cin_visit'").set_index("event_id")["record_id"]
    assert visits.to_dict() == {"csc:cin_visit:V1": "csc:P001", "csc:cin_visit:V2": "csc:P002"}
    log = _log(logs, "csc/ssd_cin_visits.csv")
    assert (log.read, log.kept) == (3, 2)
    reason = "CIN plan not in ssd_cin_plans" if system == "mosaic" else "person not in ssd_person"
    assert log.quarantined["reason"].tolist() == [reason]
    assert all(log.read == log.kept for log in logs
               if log.source == "csc" and log.file != "csc/ssd_cin_visits.csv")


def test_ssda903_files_named_by_year_in_one_folder(tmp_path):
    site = _site_with(tmp_path, "ssda903", FIXTURES / "ssda903_named")
    tables, logs = build_canonical(load_site("hampshire"), site)
    people = tables["persons"].query("source == 'ssda903'").set_index("record_id")
    assert sorted(people.index) == ["ssda903:2021:C101", "ssda903:2021:C102",
                                    "ssda903:2022:C102", "ssda903:2022:C103"]
    # UN1 means no UPN; C103's "3412" is malformed, kept with the UPN null and flagged
    assert people["upn"].fillna("").tolist() == ["D850120100003", "", "T850120100004", ""]
    assert people["dob"].notna().all() and people["sex"].tolist() == ["M", "F", "F", "M"]
    header = _log(logs, "ssda903/2022-header.csv")
    assert (header.read, header.kept, header.flagged["reason"].tolist()) == (
        2, 2, ["UPN malformed"])
    episodes = _log(logs, "ssda903/SSDA903_2021_episodes.csv")
    assert (episodes.read, episodes.kept) == (3, 2)
    assert episodes.quarantined["reason"].tolist() == ["child not in header.csv"]
    assert len(tables["ssda903_reviews"]) == 2
    assert tables["ssda903_episodes"]["collection_year"].value_counts().to_dict() == {2021: 2,
                                                                                      2022: 2}


def test_ssda903_xml_return(tmp_path):
    site = _site_with(tmp_path, "ssda903", FIXTURES / "ssda903_xml")
    tables, logs = build_canonical(load_site("hampshire"), site)
    people = tables["persons"].query("source == 'ssda903'").set_index("record_id")
    assert people.index.tolist() == ["ssda903:2023:C201", "ssda903:2023:C202",
                                     "ssda903:2023:C203"]
    assert people["upn"].fillna("").tolist() == ["D850120100003", "", "T850120100004"]
    assert people["dob"].notna().all() and people["sex"].tolist() == ["M", "F", "F"]
    counts = {log.file.split("#")[1]: (log.read, log.kept) for log in logs
              if log.file.startswith("ssda903/SSDA903_2023.xml#")}
    assert counts == {"header": (3, 3), "episodes": (4, 3), "reviews": (2, 2), "uasc": (1, 1),
                      "oc2": (1, 1), "oc3": (1, 1), "ad1": (1, 1), "placed_for_adoption": (1, 1),
                      "previous_permanence": (3, 3), "missing": (1, 1)}
    dup = _log(logs, "ssda903/SSDA903_2023.xml#episodes").quarantined
    assert dup[["row", "field", "reason"]].values.tolist() == [[3, "DECOM", "duplicate"]]
    episodes = tables["events"].query("source == 'ssda903'")
    assert episodes["reason"].tolist() == ["S", "P", "L"]
    assert tables["ssda903_episodes"]["PLACE"].tolist() == ["U4", "U1", "A3"]


@pytest.mark.parametrize("files, message", [
    ({"fake_903.xml": "<EXPSSDA903/>"}, "no collection year for this 903 XML return"),
    ({"2020/header.csv": "CHILD,SEX,DOB\n", "SSDA903_2020_header.csv": "CHILD,SEX,DOB\n"},
     "two header files for 2020: header.csv and SSDA903_2020_header.csv"),
    ({"SSDA903_2020.xml": "<Message/>"}, "not a 903 XML return: root element is <Message>"),
])
def test_ssda903_files_refused_with_one_line(tmp_path, files, message):
    from hampshire_research.sources.ssda903_files import returns

    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    with pytest.raises(ProjectError, match=message):
        returns(tmp_path, ["header", "episodes"])


def test_school_census_export_converted(tmp_path):
    from hampshire_research.sources.readers import ATTENDANCE, PUPIL_OPTIONAL
    from hampshire_research.sources.school_census_export import convert_school_census
    from hampshire_research.sources.tabular import read_table

    out = tmp_path / "school_census"
    summary = convert_school_census(FIXTURES / "school_census_export", out).set_index("file")
    assert summary.loc["2024_autumn_pupilonroll.csv", ["read", "converted"]].tolist() == [4, 4]
    assert summary.loc["2024_autumn_addressesonroll.csv", "note"] == (
        "pupil id not in pupilonroll (1)")
    assert summary.loc["2024_autumn_pupilnolongeronroll.csv", "not_converted"] == 1
    assert summary.loc["2024_autumn_termlysessiondetailsonroll.csv", "not_converted"] == 2
    assert "Ethnicity" in summary.loc["2024_autumn_pupilonroll.csv", "note"]  # not exported
    # what the school census reader needs, under its names
    pupils = read_table(out / "2024-25" / "autumn" / "pupils.csv",
                        ["UPN", "DOB", "URN", "NCyearActual"], PUPIL_OPTIONAL)
    assert pupils["UPN"].tolist() == ["A850120100001", "P850120100002", "D850120100003",
                                      "T850120100004"]
    assert pupils[["Forename", "Surname", "DOB", "Sex"]].ne("").all().all()
    assert pupils["Postcode"].tolist() == ["SO23 8AA", "RG21 4AB", "SO23 8AB", ""]
    assert pupils["FSMeligible"].tolist() == ["true", "false", "false", "false"]
    assert pupils["PrimarySENtype"].tolist() == ["SEMH", "", "ASD", ""]
    assert pupils["URN"].tolist() == ["SCH1", "SCH1", "SCH2", "SCH2"]
    attendance = read_table(out / "2024-25" / "autumn" / "attendance.csv", ATTENDANCE)
    assert attendance.iloc[0][ATTENDANCE[2:]].tolist() == ["134", "8", "2"]
    assert len(read_table(out / "2024-25" / "spring" / "pupils.csv", ["UPN"])) == 2
    exclusions = read_table(out / "2024-25" / "exclusions.csv", ["UPN", "Category", "StartDate"],
                            ["URN", "Sessions", "Reason"])
    assert exclusions[["UPN", "Category", "Sessions", "Reason"]].values.tolist() == [
        ["P850120100002", "FIXD", "2", "PA"], ["T850120100004", "PERM", "", "PP"]]


def test_convert_command(tmp_path, capsys):
    from hampshire_research.cli import main

    src = tmp_path / "export"
    shutil.copytree(FIXTURES / "school_census_export", src)
    assert main(["convert", "school-census", str(src), str(tmp_path / "out")]) == 0
    assert "2024_autumn_pupilonroll.csv" in capsys.readouterr().out
    # most of a joined table naming pupils not on roll is refused, naming the file and field
    (src / "2024_autumn_senneeds.csv").write_text(
        "pupilonrolltableid,sentype\nzz1,MLD\nzz2,ASD\n")
    assert main(["convert", "school-census", str(src), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "2024_autumn_senneeds.csv" in err and "2 of 2 rows name a pupil id not in" in err
    (src / "2024_Autumn_SENneeds.csv").write_text("pupilonrolltableid,sentype\n")
    assert main(["convert", "school-census", str(src), str(tmp_path / "out")]) == 2
    assert "two senneeds tables for 2024 autumn" in capsys.readouterr().err


def test_mosaic_visits_without_plan_or_person_refused(tmp_path):
    site = _site_with(tmp_path, "csc", FIXTURES / "ssd_mosaic" / "csc")
    (site / "csc" / "ssd_cin_visits.csv").write_text("cinv_cin_visit_id,cinv_cin_visit_date\n")
    with pytest.raises(ProjectError, match="ssd_cin_visits.csv, field 'cinv_person_id': "
                                           "missing required column"):
        build_canonical(load_site("hampshire"), site)
