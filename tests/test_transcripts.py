"""Transcript import: the same conversation gives the same turns from .txt, .docx and .vtt;
session attributes and roles come from headers or sessions.csv; bad input names file and line."""

import hashlib
from pathlib import Path

import docx
import pandas as pd
import pytest

from hampshire_research.errors import ProjectError
from hampshire_research.params import load_site
from hampshire_research.sources.transcripts import (
    read_sessions,
    read_transcript,
    read_transcripts,
    role_of,
)
from hampshire_research.synthetic import transcripts as synth

CONVERSATION = [
    ("Interviewer", "interviewer", "Thanks for joining. How do you feel about what is written "
     "down about your family?"),
    ("P1", "parent_carer", "Honestly, I never got asked before they shared it with the school. "
     "Then they got the date wrong as well."),
    ("P2", "parent_carer", "Same for me."),
    ("Interviewer", "interviewer", "Did anyone see their own file?"),
    ("P1", "parent_carer", "I asked & waited six months. It was half blacked out."),
]

TXT = """Session: S9
Group: parent_carer_consultation
Site: hampshire
Date: 12/03/2024
---

[00:00:01] Interviewer: Thanks for joining. How do you feel about what is written
down about your family?

[00:00:09] P1 (parent): Honestly, I never got asked before they shared it with the school.
[00:00:14] P1 (parent): Then they got the date wrong as well.
[00:00:20] P2 (foster carer): Same for me.
[00:00:22] Interviewer: Did anyone see their own file?
[00:00:25] P1 (parent): I asked & waited six months.
It was half blacked out.
"""

VTT_TEAMS = """WEBVTT

NOTE
Session: S9
Group: parent_carer_consultation
Site: hampshire
Date: 2024-03-12

a1b2/1-0
00:00:01.000 --> 00:00:05.000
<v Interviewer>Thanks for joining.</v>

a1b2/2-0
00:00:05.000 --> 00:00:09.000
<v Interviewer>How do you feel about what is written down about your family?</v>

00:00:09.000 --> 00:00:14.000
<v P1>Honestly, I never got asked before they shared it with the school.</v>

00:00:14.000 --> 00:00:18.000
<v P1>Then they got the date wrong as well.</v>

00:00:20.000 --> 00:00:21.000
<v P2>Same for me.</v>

00:00:22.000 --> 00:00:24.000
<v Interviewer>Did anyone see their own file?</v>

00:00:25.000 --> 00:00:27.000
<v P1>I asked &amp; waited six months.</v>

00:00:27.000 --> 00:00:29.000
It was half blacked out.
"""

VTT_ZOOM = """WEBVTT

1
00:00:01.000 --> 00:00:05.000
Interviewer: Thanks for joining. How do you feel about what is written down about your family?

2
00:00:09.000 --> 00:00:14.000
P1: Honestly, I never got asked before they shared it with the school.

3
00:00:14.000 --> 00:00:18.000
P1: Then they got the date wrong as well.

4
00:00:20.000 --> 00:00:21.000
P2: Same for me.

5
00:00:22.000 --> 00:00:24.000
Interviewer: Did anyone see their own file?

6
00:00:25.000 --> 00:00:29.000
P1: I asked &amp; waited six months. It was half blacked out.
"""


def _docx(path: Path, teams: bool = False) -> Path:
    d = docx.Document()
    for line in ["Session: S9", "Group: parent_carer_consultation", "Site: hampshire",
                 "Date: 2024-03-12", "---"]:
        d.add_paragraph(line)
    for label, _, text in CONVERSATION:
        if teams:
            d.add_paragraph(f"{label}   0:04")
            d.add_paragraph(text)
        else:
            p = d.add_paragraph()
            p.add_run(f"{label}:").bold = True
            p.add_run(f" {text}")
    d.save(path)
    return path


def _turns(df: pd.DataFrame) -> list[tuple]:
    return list(df[["session_id", "turn", "speaker", "text", "group", "site", "date"]]
                .itertuples(index=False, name=None))


def test_same_conversation_same_turns_from_txt_docx_and_vtt(tmp_path):
    (tmp_path / "a.txt").write_text(TXT, encoding="utf-8")
    (tmp_path / "b.vtt").write_text(VTT_TEAMS, encoding="utf-8")
    zoom = tmp_path / "c.vtt"
    zoom.write_text(VTT_ZOOM, encoding="utf-8")
    session = {"session_id": "S9", "group": "parent_carer_consultation", "site": "hampshire",
               "date": "2024-03-12", "speakers": "P1 = parent_carer; P2 = parent_carer"}
    expected = [("S9", i, label, text, "parent_carer_consultation", "hampshire", "2024-03-12")
                for i, (label, _, text) in enumerate(CONVERSATION, start=1)]
    results = [read_transcript(tmp_path / "a.txt"),
               read_transcript(tmp_path / "b.vtt", session),
               read_transcript(zoom, session),
               read_transcript(_docx(tmp_path / "d.docx"), session),
               read_transcript(_docx(tmp_path / "e.docx", teams=True), session)]
    for df in results:
        assert _turns(df) == expected
        assert df["role"].tolist() == [role for _, role, _ in CONVERSATION]


def test_generator_writers_give_identical_turns_in_every_format(tmp_path):
    """One synthetic session rendered in all six styles reads back identically."""
    world = synth._World(synth.np.random.default_rng(3), load_site("hampshire"), tmp_path)
    session = synth._compose_session(world, "X01", "parent_carer_consultation",
                                     ["parent_carer"], (3, 4))
    texts = [t["text"] for t in session["turns"]]
    for style in synth.STYLES:
        session.update(style=style, header=True)
        folder = tmp_path / style
        folder.mkdir()
        name = synth.write_session(folder, session)
        speakers = synth._speakers_value(session)
        df = read_transcript(folder / name, {"speakers": speakers})
        assert df["text"].tolist() == texts, style
        assert df["role"].iloc[0] == "interviewer"
        assert set(df["role"].iloc[1:]) <= {"parent_carer", "interviewer"}
        assert df["session_id"].unique().tolist() == ["X01"]


def test_roles_from_labels_and_hints():
    assert role_of("P3", "young person") == "young_person"
    assert role_of("Facilitator") == "interviewer"
    assert role_of("SW2") == "practitioner"
    assert role_of("Team Manager") == "manager"
    assert role_of("Mum") == "parent_carer"
    assert role_of("Speaker 2") == "unknown"


def test_sessions_sheet_fills_attributes_and_roles(tmp_path):
    (tmp_path / "s1.txt").write_text("Speaker 1: Hello.\nSpeaker 2: Hi there.\n", encoding="utf-8")
    (tmp_path / "sessions.csv").write_text(
        "session_id,file,group,site,date,speakers\n"
        "S1,s1.txt,discovery_interview,north_yorkshire,03/05/2024,"
        "Speaker 1 = interviewer; Speaker 2 = team manager\n", encoding="utf-8")
    df = read_transcripts(tmp_path)
    assert df["role"].tolist() == ["interviewer", "manager"]
    assert df["date"].unique().tolist() == ["2024-05-03"]
    assert df["session_id"].unique().tolist() == ["S1"]


@pytest.mark.parametrize("name,content,where", [
    ("x.txt", "Just some words with no speaker\nP1: hi\n", "line 1"),
    ("x.txt", "Session: S1\nGroup: g\nP1: hello\n", "line 3"),
    ("x.txt", "Session: S1\nDate: 31/31/2024\n---\nP1: hello\n", "line 2"),
    ("x.vtt", "WEBVTT\n\n00:00:01.000 -> 00:00:02.000\n<v A>hi</v>\n", "line 3"),
    ("x.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nno speaker here\n", "line 4"),
    ("x.vtt", "Not a caption file\n", "line 1"),
    ("x.txt", "P1:\nP2: hello\n", "line 1"),
])
def test_bad_input_names_file_and_line(tmp_path, name, content, where):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ProjectError) as e:
        read_transcript(path)
    assert name in str(e.value) and where in str(e.value)


def test_bad_docx_and_disagreeing_sheet(tmp_path):
    (tmp_path / "x.docx").write_bytes(b"not a zip at all")
    with pytest.raises(ProjectError, match="x.docx"):
        read_transcript(tmp_path / "x.docx")
    (tmp_path / "a.txt").write_text(TXT, encoding="utf-8")
    with pytest.raises(ProjectError, match="disagrees"):
        read_transcript(tmp_path / "a.txt", {"site": "north_yorkshire"})
    bad = tmp_path / "sessions.csv"
    bad.write_text("session_id,speakers\nS1,P1 = astronaut\n", encoding="utf-8")
    with pytest.raises(ProjectError, match="line 2.*astronaut"):
        read_sessions(bad)


def test_listed_session_without_its_file_is_an_error(tmp_path):
    (tmp_path / "a.txt").write_text("P1: hi\n", encoding="utf-8")
    (tmp_path / "sessions.csv").write_text("session_id,file\nS1,a.txt\nS2,missing.vtt\n",
                                           encoding="utf-8")
    with pytest.raises(ProjectError, match="missing.vtt"):
        read_transcripts(tmp_path)


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_write_transcripts_is_deterministic_and_aligned_with_gold(tmp_path):
    params = load_site("hampshire")
    a = synth.write_transcripts(tmp_path / "a", params, seed=11)
    b = synth.write_transcripts(tmp_path / "b", params, seed=11)
    synth.write_transcripts(tmp_path / "c", params, seed=12)
    assert a == b
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")
    assert set(a["files"]) == {"txt", "docx", "vtt"} and a["sessions"] >= 15

    turns = read_transcripts(tmp_path / "a" / "transcripts")
    assert len(turns) == a["turns"]
    assert set(turns["role"]) == {"interviewer", "parent_carer", "young_person", "practitioner",
                                  "manager"}
    assert set(turns["group"]) == {"discovery_interview", "parent_carer_consultation",
                                   "young_people_group"}
    indexed = turns.set_index(["session_id", "turn"])
    gold = pd.read_csv(tmp_path / "a" / "truth" / "themes_gold.csv")
    assert gold["theme"].nunique() == 9
    assert (indexed.loc[list(zip(gold.session_id, gold.turn, strict=True)), "role"]
            != "interviewer").all()
    planted = pd.read_csv(tmp_path / "a" / "truth" / "transcript_identifiers.csv")
    assert set(planted["kind"]) == {"name", "place", "school", "date", "phone", "email",
                                    "postcode", "speaker"}
    for row in planted[planted.turn > 0].itertuples():
        assert row.value in indexed.loc[(row.session_id, row.turn), "text"]


def test_write_transcripts_uses_the_sites_schools_when_present(tmp_path):
    (tmp_path / "school_census").mkdir()
    (tmp_path / "school_census" / "schools.csv").write_text(
        "URN,LAESTAB,SchoolName,Phase,District\n1,8502000,Quillfeather Primary School,PS,Hart\n",
        encoding="utf-8")
    synth.write_transcripts(tmp_path, load_site("hampshire"), seed=1)
    planted = pd.read_csv(tmp_path / "truth" / "transcript_identifiers.csv")
    assert set(planted.loc[planted.kind == "school", "value"]) == {"Quillfeather Primary School"}


def test_listed_session_that_no_file_holds_is_an_error(tmp_path):
    (tmp_path / "a.txt").write_text("P1: hi\n", encoding="utf-8")
    (tmp_path / "sessions.csv").write_text("session_id\na\nS7\n", encoding="utf-8")
    with pytest.raises(ProjectError, match="'S7' is listed"):
        read_transcripts(tmp_path)


def test_encodings_councils_save_in(tmp_path):
    text = "Interviewer: Café on Tuesday?\nP1 (parent): Yes – fine.\n"
    for enc in ("utf-8", "utf-8-sig", "utf-16", "cp1252"):
        path = tmp_path / f"{enc}.txt"
        path.write_bytes(text.encode(enc))
        df = read_transcript(path)
        assert df["text"].tolist() == ["Café on Tuesday?", "Yes – fine."], enc
    (tmp_path / "bad.txt").write_bytes(b"P1: \x81\x8d\x8f\x90\x9d")
    with pytest.raises(ProjectError, match="not UTF-8"):
        read_transcript(tmp_path / "bad.txt")
    with pytest.raises(ProjectError, match="not found"):
        read_transcript(tmp_path / "missing.txt")
