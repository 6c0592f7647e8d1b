"""REFI-QDA exchange: structure the tools need, byte-identical exports, round trips, and the
known differences between tools on the way back in."""

import os
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd
import pytest

from hampshire_research.errors import ProjectError
from hampshire_research.voice import (
    autocode,
    export_qdc,
    export_qdpx,
    export_voice_project,
    import_voice_coding,
    read_coding_csv,
    read_qdpx,
)

NS = "{urn:QDA-XML:project:1.0}"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
NOTES = pd.DataFrame({
    "note_id": ["N1", "N2", "N3"],
    "text": ["Home visit.\nEllie said “I want to stay with Nan.”\nMum was not seen.",
             "Leo (2) is too young to share his views. He smiled at his dad.",
             "Strategy discussion held."],
    "child_first_name": ["Ellie", "Leo", None],
    "stage": ["CIN", "CP", "S47"], "age_band": ["10-15", "0-2", "5-9"],
})


@pytest.fixture
def qdpx(tmp_path):
    return export_voice_project(tmp_path / "v.qdpx", NOTES, autocode(NOTES),
                                case_variables=["stage", "age_band"])


def test_same_input_same_bytes(tmp_path, qdpx):
    again = export_voice_project(tmp_path / "again.qdpx", NOTES, autocode(NOTES),
                                 case_variables=["stage", "age_band"])
    assert qdpx.read_bytes() == again.read_bytes()


def test_project_structure_the_tools_read(qdpx):
    with zipfile.ZipFile(qdpx) as z:
        names = z.namelist()
        root = ET.fromstring(z.read("project.qde"))
        assert names[0] == "project.qde"
        assert all(n.startswith("sources/") and n.endswith(".txt") for n in names[1:])
        assert len(names) == 4
        assert {z.getinfo(n).date_time for n in names} == {(1980, 1, 1, 0, 0, 0)}
    assert [c.tag.removeprefix(NS) for c in root] == ["Users", "CodeBook", "Variables", "Cases",
                                                      "Sources"]
    codes = list(root.iter(f"{NS}Code"))
    assert len(codes) == 24 and all(c.get("isCodable") in ("true", "false") for c in codes)
    assert all(GUID.match(el.get("guid")) for el in root.iter() if el.get("guid"))
    srcs = root.findall(f"{NS}Sources/{NS}TextSource")
    for s in srcs:  # ATLAS.ti rejects richTextPath to .txt: plain text path only
        assert s.get("plainTextPath") == f"internal://{s.get('guid')}.txt"
        assert s.get("richTextPath") is None and s.find(f"{NS}PlainTextContent") is None
    sel = root.find(f".//{NS}PlainTextSelection")
    assert [c.tag.removeprefix(NS) for c in sel] == ["Coding", "Coding"]
    cases = root.findall(f"{NS}Cases/{NS}Case")
    assert [c.get("name") for c in cases] == ["N1", "N2", "N3"]
    assert [v.text for v in cases[0].iter(f"{NS}TextValue")] == ["CIN", "10-15"]


def test_round_trip_gives_back_the_auto_coding(qdpx):
    back = import_voice_coding(qdpx)
    auto = autocode(NOTES)
    key = ["note_id", "start", "end", "who", "form", "absence"]
    assert set(back.coder) == {"auto-coder"}
    assert sorted(map(tuple, back[key].fillna("-").values)) == sorted(
        map(tuple, auto[key].fillna("-").values))
    project = read_qdpx(qdpx)
    assert project.positions == {"end": "exclusive", "line_endings": "no CRLF in texts",
                                 "count": "code points"}
    assert dict(zip(project.sources.source_id, project.sources.text)) == dict(
        zip(NOTES.note_id, NOTES.text))
    assert set(project.cases.columns) == {"case_id", "source_id", "stage", "age_band"}


def _rewrite(src, dst, *, rename=None, shift_end=0, crlf=False, inline=False):
    """A copy of a project as another tool might write it."""
    with zipfile.ZipFile(src) as z:
        files = {n: z.read(n) for n in z.namelist()}
    root = ET.fromstring(files.pop("project.qde"))
    for s in root.iter(f"{NS}TextSource"):
        name = f"sources/{s.get('guid')}.txt"
        text = files[name].decode()
        if crlf:
            raw = text.replace("\n", "\r\n")
            files[name] = raw.encode()
            for sel in s.iter(f"{NS}PlainTextSelection"):  # positions counting the \r
                for att in ("startPosition", "endPosition"):
                    p = int(sel.get(att))
                    sel.set(att, str(p + text.count("\n", 0, p)))
        if inline:
            del files[name]
            del s.attrib["plainTextPath"]
            ET.SubElement(s, f"{NS}PlainTextContent").text = text
        for sel in s.iter(f"{NS}PlainTextSelection"):
            sel.set("endPosition", str(int(sel.get("endPosition")) + shift_end))
    with zipfile.ZipFile(dst, "w") as z:
        z.writestr(rename or "project.qde", ET.tostring(root))
        for n, b in files.items():
            z.writestr(n, b)
    return dst


@pytest.mark.parametrize("variant", [
    {"rename": "My project.qde"}, {"shift_end": -1}, {"crlf": True},
    {"crlf": True, "shift_end": -1}, {"inline": True}])
def test_tolerates_what_other_tools_write(tmp_path, qdpx, variant):
    other = _rewrite(qdpx, tmp_path / "other.qdpx", **variant)
    back = import_voice_coding(other)
    key = ["note_id", "start", "end", "who", "form", "absence"]
    expected = import_voice_coding(qdpx)
    assert sorted(map(tuple, back[key].fillna("-").values)) == sorted(
        map(tuple, expected[key].fillna("-").values))
    project = read_qdpx(other)
    assert project.positions["end"] == ("inclusive" if variant.get("shift_end") else "exclusive")


def test_generic_codebook_and_several_coders(tmp_path):
    codes = pd.DataFrame({"id": ["T", "T.1", "T.2"], "name": ["Themes", "T.1 Trust", "T.2 Time"],
                          "parent": [None, "T", "T"], "codable": [False, True, True]})
    sources = pd.DataFrame({"source_id": ["s1"], "text": ["We trust them. No time to read."]})
    sel = pd.DataFrame({"source_id": ["s1", "s1", "s1"], "start": [0, 15, 15],
                        "end": [14, 31, 31], "code": ["T.1", "T.2", "T.2"],
                        "coder": ["Ann", "Ann", "Bo"]})
    path = export_qdpx(tmp_path / "t.qdpx", project_name="themes", codes=codes, sources=sources,
                       selections=sel)
    p = read_qdpx(path, codes=codes)
    assert p.selections.to_dict("records") == sel.sort_values(
        ["source_id", "start", "end", "coder", "code"]).to_dict("records")
    assert list(p.codes.id) == ["T", "T.1", "T.2"] and list(p.codes.codable) == [False, True, True]
    with pytest.raises(ProjectError, match="folder"):
        export_qdpx(tmp_path / "x.qdpx", project_name="x", codes=codes, sources=sources,
                    selections=sel.assign(code="T"))
    with pytest.raises(ProjectError, match="outside"):
        export_qdpx(tmp_path / "x.qdpx", project_name="x", codes=codes, sources=sources,
                    selections=sel.assign(end=99))


def test_csv_coding_by_offsets_or_quotes(tmp_path):
    path = tmp_path / "coding.csv"
    path.write_text("note_id,start,end,who,form,absence,coder,quote\n"
                    "N1,12,49,W.CYP,F.DQ,,Sam,\n"
                    "N1,,,W.PAR,,A.NOTSEEN,Sam,Mum was not seen.\n", encoding="utf-8")
    src = NOTES.rename(columns={"note_id": "source_id"})
    segs = import_voice_coding(path, sources=src)
    assert segs[["note_id", "start", "end", "who", "form", "absence", "coder"]].fillna("-").values \
        .tolist() == [["N1", 12, 49, "W.CYP", "F.DQ", "-", "Sam"],
                      ["N1", 50, 67, "W.PAR", "-", "A.NOTSEEN", "Sam"]]
    path.write_text("note_id,start,end,code\nN1,12,48,W.KID\n", encoding="utf-8")
    with pytest.raises(ProjectError, match="row 2.*'code'"):
        import_voice_coding(path, sources=src)
    path.write_text("note_id,start,end,code\nN1,40,400,W.CYP\n", encoding="utf-8")
    with pytest.raises(ProjectError, match="outside"):
        read_coding_csv(path, sources=src)


def test_not_a_project_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.qdpx"
    with zipfile.ZipFile(bad, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ProjectError, match="no .qde"):
        read_qdpx(bad)


def test_codebook_alone_as_qdc(tmp_path):
    from hampshire_research.voice import export_qdc, load_codebook

    path = export_qdc(tmp_path / "voice.qdc", codebook_name="voice", codes=load_codebook().refi_codes())
    root = ET.fromstring(path.read_bytes())
    ns = "{urn:QDA-XML:codebook:1.0}"
    assert root.tag == f"{ns}CodeBook" and [c.tag for c in root] == [f"{ns}Codes"]
    folders = root.findall(f"{ns}Codes/{ns}Code")
    assert [f.get("name") for f in folders] == ["WHO", "FORM", "ABSENCE", "FLAGS"]
    assert all(f.get("isCodable") == "false" for f in folders)
    assert len(list(root.iter(f"{ns}Code"))) == 24
    assert path.read_bytes() == export_qdc(tmp_path / "again.qdc", codebook_name="voice",
                                           codes=load_codebook().refi_codes()).read_bytes()


def test_people_code_in_a_tool_and_agreement_comes_back(tmp_path, qdpx):
    """A coder removes one of the auto-coder's codes and adds one of their own in a tool; what
    comes back is their coding, compared with the auto-coder sentence by sentence."""
    from hampshire_research.voice import agreement

    with zipfile.ZipFile(qdpx) as z:
        files = {n: z.read(n) for n in z.namelist()}
    root = ET.fromstring(files["project.qde"])
    coder = ET.SubElement(root.find(f"{NS}Users"), f"{NS}User", {
        "guid": "00000000-0000-4000-8000-000000000001", "name": "Coder A"})
    code_guid = {c.get("name").split()[0]: c.get("guid") for c in root.iter(f"{NS}Code")}
    for sel in root.iter(f"{NS}PlainTextSelection"):
        for co in sel.iter(f"{NS}Coding"):
            co.set("creatingUser", coder.get("guid"))
    # drop "Mum was not seen." and code the heading "Home visit." as the practitioner's view
    n1 = [s for s in root.iter(f"{NS}TextSource") if s.get("name") == "N1"][0]
    for sel in list(n1.findall(f"{NS}PlainTextSelection")):
        if sel.get("startPosition") == "50":
            n1.remove(sel)
    new = ET.Element(f"{NS}PlainTextSelection", {"guid": "00000000-0000-4000-8000-000000000002",
                                                  "startPosition": "0", "endPosition": "11"})
    co = ET.SubElement(new, f"{NS}Coding", {"guid": "00000000-0000-4000-8000-000000000003",
                                             "creatingUser": coder.get("guid")})
    ET.SubElement(co, f"{NS}CodeRef", {"targetGUID": code_guid["W.PRAC"]})
    n1.insert(0, new)
    files["project.qde"] = ET.tostring(root)
    human_path = tmp_path / "coded.qdpx"
    with zipfile.ZipFile(human_path, "w") as z:
        for n, b in files.items():
            z.writestr(n, b)
    human = import_voice_coding(human_path)
    assert set(human.coder) == {"Coder A"}
    res = agreement({"auto": autocode(NOTES), "Coder A": human.drop(columns="coder")}, NOTES,
                    n_boot=100).set_index(["level", "code"])
    assert res.loc[("code", "absence stated"), "agreement"] == pytest.approx(5 / 6)  # 6 sentences
    assert res.loc[("code", "W.PRAC"), "agreement"] == pytest.approx(5 / 6)
    assert res.loc[("code", "child's voice present"), "alpha"] == pytest.approx(1.0)


# --- issue 19: a round trip with a real client's quirks (QualCoder), checked by the standard ---
def _specs():
    """The REFI-QDA schemas (not copied into the project): the folder named by
    HAMPSHIRE_RESEARCH_REFI_XSD, as in test_qda_schemas; tests that need them skip otherwise."""
    folder = os.environ.get("HAMPSHIRE_RESEARCH_REFI_XSD")
    return Path(folder) if folder and (Path(folder) / "Project.xsd").is_file() else None


def _validate(xml: bytes, schema: str) -> None:
    folder = _specs()
    if folder is None:
        pytest.skip("set HAMPSHIRE_RESEARCH_REFI_XSD to a folder with the REFI-QDA schemas")
    xmlschema = pytest.importorskip("xmlschema")
    xmlschema.XMLSchema(folder / schema).validate(ET.fromstring(xml))


QUIRKY = pd.DataFrame({
    "source_id": ["A", "B", "C"],
    "text": ["Ellie said “I love Nan 😀😀” and smiled.\r\nMum was not seen.\r\n",
             "Sam typed \x0bon his tablet: “no 😀 today”.\nDad agreed.",
             "No emoji here.\rOld Mac line end."],
})
SPANS = [("A", "Ellie said “I love Nan 😀😀” and smiled.", "W.CYP"),
         ("A", "Mum was not seen.", "A.NOTSEEN"),
         ("B", "Sam typed \x0bon his tablet: “no 😀 today”.", "F.DQ"),
         ("B", "Dad agreed.", "W.PAR"),
         ("C", "Old Mac line end.", "W.PRAC")]


def _quirky(tmp_path, name="q.qdpx"):
    from hampshire_research.voice import load_codebook

    text = dict(zip(QUIRKY.source_id, QUIRKY.text))
    sel = pd.DataFrame([(s, text[s].index(q), text[s].index(q) + len(q), c, "Ann")
                        for s, q, c in SPANS], columns=["source_id", "start", "end", "code", "coder"])
    cases = pd.DataFrame({"case_id": ["case 1", "case 1", "case 2"], "source_id": ["A", "B", "C"],
                          "stage": ["CIN", "CIN", "CP\x0bplan"], "age": [7, 7, 12],
                          "seen_alone": [True, True, False],
                          "date": pd.to_datetime(["2024-01-05", "2024-01-05", "2023-11-30"])})
    codes = load_codebook().refi_codes()
    path = export_qdpx(tmp_path / name, project_name="quirks", codes=codes, sources=QUIRKY,
                       selections=sel, cases=cases, default_coder="Ann")
    return path, codes


def test_emoji_crlf_and_control_characters_survive_export_import_export(tmp_path):
    path, codes = _quirky(tmp_path)
    with zipfile.ZipFile(path) as z:
        xml = z.read("project.qde")
        texts = [z.read(n).decode() for n in z.namelist() if n.startswith("sources/")]
    ET.fromstring(xml)  # well-formed: the \x0b in a value and in a selection's text is not raw
    assert b"\x0b" not in xml and all("\r" not in t for t in texts)
    assert any("\x0b" in t for t in texts)  # the text itself keeps the character
    project = read_qdpx(path, codes=codes)
    assert project.set_aside == [] and project.positions["count"] == "code points"
    got = {(r.source_id, project.sources.set_index("source_id").text[r.source_id][r.start:r.end], r.code)
           for r in project.selections.itertuples()}
    assert got == {(s, q, c) for s, q, c in SPANS}
    assert project.cases.to_dict("list") == {
        "case_id": ["case 1", "case 1", "case 2"], "source_id": ["A", "B", "C"],
        "stage": ["CIN", "CIN", "CP plan"], "age": [7, 7, 12], "seen_alone": [True, True, False],
        "date": list(pd.to_datetime(["2024-01-05", "2024-01-05", "2023-11-30"]))}
    again = export_qdpx(tmp_path / "again.qdpx", project_name=project.name, codes=project.codes,
                        sources=project.sources, selections=project.selections,
                        cases=project.cases, default_coder="Ann")
    assert again.read_bytes() == path.read_bytes()


def test_export_is_valid_against_the_standard_schema(tmp_path):
    path, _ = _quirky(tmp_path)
    with zipfile.ZipFile(path) as z:
        _validate(z.read("project.qde"), "Project.xsd")


def test_case_variables_also_on_each_source_and_cases_keep_their_sources(tmp_path):
    """QualCoder reads a source's own VariableValues as file attributes and ignores a Case's
    SourceRef, so the values go on both; TextSourceType puts them after the selections."""
    path, codes = _quirky(tmp_path)
    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("project.qde"))
    for case in root.iter(f"{NS}Case"):
        assert case.findall(f"{NS}SourceRef")
    src = {s.get("name"): s for s in root.iter(f"{NS}TextSource")}
    tags = [c.tag.removeprefix(NS) for c in src["C"]]
    assert tags == ["PlainTextSelection"] + ["VariableValue"] * 4
    assert [v.text for v in src["C"].iter(f"{NS}TextValue")] == ["CP plan"]
    # a tool that kept them as file attributes only (no Cases) still gives the cases back
    root.remove(root.find(f"{NS}Cases"))
    bare = tmp_path / "no_cases.qdpx"
    _write_like(path, bare, root)
    back = read_qdpx(bare, codes=codes).cases
    assert back.set_index("source_id").loc["C", "age"] == 12 and list(back.case_id) == ["A", "B", "C"]


def _write_like(src, dst, root):
    with zipfile.ZipFile(src) as z:
        files = {n: z.read(n) for n in z.namelist()}
    files["project.qde"] = ET.tostring(root)
    with zipfile.ZipFile(dst, "w") as z:
        for n, b in files.items():
            z.writestr(n, b)


def test_utf16_positions_from_qualcoder_are_read_and_checked_against_the_selected_text(tmp_path):
    """QualCoder counts UTF-16 code units in texts with emoji; the standard counts characters.
    Each selection's stored text decides which reading it is in."""
    path, codes = _quirky(tmp_path)
    expected = read_qdpx(path, codes=codes).selections
    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("project.qde"))
        files = {n: z.read(n).decode() for n in z.namelist() if n.startswith("sources/")}
    for s in root.iter(f"{NS}TextSource"):
        text = files[f"sources/{s.get('guid')}.txt"]
        for sel in s.iter(f"{NS}PlainTextSelection"):
            for att in ("startPosition", "endPosition"):
                p = int(sel.get(att))
                sel.set(att, str(len(text[:p].encode("utf-16-le")) // 2))
    utf16 = tmp_path / "utf16.qdpx"
    _write_like(path, utf16, root)
    project = read_qdpx(utf16, codes=codes)
    assert project.set_aside == []
    pd.testing.assert_frame_equal(project.selections, expected)


def test_one_bad_selection_is_set_aside_with_its_reason(tmp_path):
    path, codes = _quirky(tmp_path)
    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("project.qde"))
    sels = list(root.iter(f"{NS}PlainTextSelection"))
    sels[0].set("endPosition", "9999")
    sels[1].set("name", "words that are not there")
    bad = tmp_path / "bad.qdpx"
    _write_like(path, bad, root)
    project = read_qdpx(bad, codes=codes)
    assert len(project.set_aside) == 2
    assert "outside its text" in project.set_aside[0] and "is not at" in project.set_aside[1]
    assert len(project.selections) == len(read_qdpx(path, codes=codes).selections) - 2


def test_a_qdc_codebook_is_read_back(tmp_path):
    from hampshire_research.qda.refi import read_qdc
    from hampshire_research.voice import load_codebook

    codes = load_codebook().refi_codes()
    path = export_qdc(tmp_path / "voice.qdc", codebook_name="voice", codes=codes)
    if _specs():
        _validate(path.read_bytes(), "Codebook.xsd")
    back = read_qdc(path, codes=codes)
    key = ["id", "parent", "codable"]
    assert sorted(map(tuple, back[key].fillna("-").values)) == sorted(
        map(tuple, codes[key].fillna("-").values))
    (tmp_path / "p.qde").write_text('<Project xmlns="urn:QDA-XML:project:1.0" name="p"/>')
    with pytest.raises(ProjectError, match="not CodeBook"):
        read_qdc(tmp_path / "p.qde")


def test_a_coders_file_back_gives_agreement_per_code_and_the_tools_misses(tmp_path):
    """A person codes the exported sample in a QDA tool: their file comes back onto the notes
    as the auto-coder read them (CRLF and all), with agreement per code and what the tool missed."""
    from hampshire_research.voice.agreement import review_against_coder

    notes = NOTES.assign(text=NOTES.text.str.replace("\n", "\r\n"))
    auto = autocode(notes)
    path = export_voice_project(tmp_path / "sample.qdpx", notes, auto)
    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("project.qde"))
    code_guid = {c.get("name").split()[0]: c.get("guid") for c in root.iter(f"{NS}Code")}
    n1 = [s for s in root.iter(f"{NS}TextSource") if s.get("name") == "N1"][0]
    for sel in list(n1.findall(f"{NS}PlainTextSelection")):
        if sel.get("name") == "Mum was not seen.":
            n1.remove(sel)  # the coder does not agree the absence
    new = ET.Element(f"{NS}PlainTextSelection", {"guid": "00000000-0000-4000-8000-000000000002",
                                                  "startPosition": "0", "endPosition": "11",
                                                  "name": "Home visit."})
    co = ET.SubElement(new, f"{NS}Coding", {"guid": "00000000-0000-4000-8000-000000000003"})
    ET.SubElement(co, f"{NS}CodeRef", {"targetGUID": code_guid["W.PRAC"]})
    n1.insert(0, new)
    coded = tmp_path / "coded.qdpx"
    _write_like(path, coded, root)
    human = import_voice_coding(coded, sources=notes.rename(columns={"note_id": "source_id"}))
    texts = notes.set_index("note_id").text
    assert {texts[r.note_id][r.start:r.end] for r in human.itertuples()} >= {
        "Home visit.", "Ellie said “I want to stay with Nan.”"}
    review = review_against_coder(auto, human.drop(columns="coder"), notes, n_boot=200)
    agree = review["agreement"].set_index(["level", "code"])
    assert agree.loc[("code", "child's voice present"), "alpha"] == pytest.approx(1.0)
    assert agree.loc[("code", "absence stated"), "agreement"] == pytest.approx(4 / 5)  # N1, N2
    assert agree.loc[("code", "absence stated"), ["alpha_low", "alpha_high"]].notna().all()
    misses = review["misses"].set_index(["label", "kind"])
    assert misses.loc[("W.PRAC", "missed by the tool"), "examples"] == "Home visit."
    assert misses.loc[("absence stated", "added by the tool"), "examples"] == "Mum was not seen."
    pr = review["precision_recall"].set_index("label")
    assert pr.loc["absence stated", "precision"] == pytest.approx(1 / 2)
