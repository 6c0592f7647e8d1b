"""Bad input: one ProjectError naming the file (and line/field where there is one), and the
output folder left exactly as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hampshire_research.errors import ProjectError
from hampshire_research.params import load_site
from hampshire_research.sources import validate_site
from hampshire_research.sources.tabular import read_table

TINY = Path(__file__).parent / "fixtures" / "sources" / "tiny_site"
PUPILS = "school_census/2021-22/autumn/pupils.csv"
CIN = "cin_census/cin_census_2022.xml"


@pytest.fixture
def site(tmp_path):
    dest = tmp_path / "site"
    shutil.copytree(TINY, dest)
    return dest


def _fails(site: Path, tmp_path: Path) -> ProjectError:
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    (out / "keep.txt").write_text("earlier output")
    with pytest.raises(ProjectError) as err:
        validate_site(load_site("hampshire"), site, out)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"], "half-written output"
    return err.value


def test_missing_file(site, tmp_path):
    (site / "early_help/early_help_episodes.csv").unlink()
    e = _fails(site, tmp_path)
    assert "file not found" in str(e) and "early_help_episodes" in str(e)


def test_missing_data_folder(tmp_path):
    with pytest.raises(ProjectError, match="data folder not found"):
        validate_site(load_site("hampshire"), tmp_path / "nowhere", tmp_path / "out")


def test_empty_file(site, tmp_path):
    (site / PUPILS).write_bytes(b"")
    e = _fails(site, tmp_path)
    assert "file is empty" in str(e) and e.path == site / PUPILS


def test_truncated_xml(site, tmp_path):
    text = (site / CIN).read_text()
    (site / CIN).write_text(text[: len(text) // 2])
    e = _fails(site, tmp_path)
    assert "malformed or truncated XML" in str(e) and e.path == site / CIN
    assert e.row is not None and e.row > 1


def test_malformed_xml(site, tmp_path):
    text = (site / CIN).read_text().replace("</LAchildID>", "</LAchild>", 1)
    (site / CIN).write_text(text)
    e = _fails(site, tmp_path)
    assert "malformed or truncated XML" in str(e)
    assert e.row == 9  # the line of the mismatched tag


def test_xml_of_another_kind(site, tmp_path):
    (site / CIN).write_text("<?xml version='1.0'?>\n<EXPSSDA903><CHILD/></EXPSSDA903>\n")
    e = _fails(site, tmp_path)
    assert "root element is <EXPSSDA903>" in str(e)


def test_missing_required_column(site, tmp_path):
    path = site / "school_census/2021-22/exclusions.csv"
    path.write_text(path.read_text().replace("StartDate", "Begun"))
    e = _fails(site, tmp_path)
    assert "missing required column" in str(e)
    assert (e.path, e.field) == (path, "StartDate")


def test_binary_file_with_a_data_name(site, tmp_path):
    (site / PUPILS).write_bytes(bytes(range(256)) * 8)
    e = _fails(site, tmp_path)
    assert "binary file" in str(e) and e.path == site / PUPILS


def test_excel_workbook_saved_as_csv(site, tmp_path):
    (site / PUPILS).write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    e = _fails(site, tmp_path)
    assert "binary file (a zip archive or Excel workbook)" in str(e)


def test_ragged_csv_names_the_line(site, tmp_path):
    path = site / "csc/ssd_contacts.csv"
    path.write_text(path.read_text() + "C9,P001,2022-04-01,6,Police,,,extra,fields\n")
    e = _fails(site, tmp_path)
    assert "rows do not split into the header's 6 columns" in str(e)
    assert (e.path, e.row) == (path, 5) and "line 5 has 9" in str(e)


def test_semicolon_delimiter_is_detected(tmp_path):
    path = tmp_path / "attendance.csv"
    path.write_text("UPN;URN;SessionsPossible;SessionsAuthorised;SessionsUnauthorised\n"
                    "G850200115001;116001;120;4;0\n")
    df = read_table(path, ["UPN", "URN", "SessionsPossible", "SessionsAuthorised",
                           "SessionsUnauthorised"])
    assert df.iloc[0].to_dict() == {"UPN": "G850200115001", "URN": "116001",
                                    "SessionsPossible": "120", "SessionsAuthorised": "4",
                                    "SessionsUnauthorised": "0", "_row": 1}


def test_tab_delimiter_is_detected(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("NoteID\tSystem\tPersonID\tNoteText\nN1\tcsc\tP1\tHello, world\n")
    df = read_table(path, ["NoteID", "System", "PersonID", "NoteText"])
    assert df.loc[0, "NoteText"] == "Hello, world"


def test_mixed_delimiters_are_an_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("UPN,URN\nG850200115001;116001\n")
    with pytest.raises(ProjectError, match="rows do not split into the header's 2 columns") as e:
        read_table(path, ["UPN", "URN"])
    assert (e.value.path, e.value.row) == (path, 2)


def test_one_column_file_needs_no_delimiter(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("UPN\nG850200115001\n")
    assert read_table(path, ["UPN"])["UPN"].tolist() == ["G850200115001"]


def test_binary_file_with_a_cin_census_name(site, tmp_path):
    (site / CIN).write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    e = _fails(site, tmp_path)
    assert "not an XML file" in str(e) and e.path == site / CIN


def test_empty_cin_census_file(site, tmp_path):
    (site / CIN).write_bytes(b"")
    e = _fails(site, tmp_path)
    assert "file is empty" in str(e) and e.path == site / CIN
