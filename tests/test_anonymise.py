"""Anonymisation: a planted set of identifiers never reaches an output, ordinary words survive."""

import pandas as pd
import pytest

from hampshire_research.params import load_site
from hampshire_research.sources.transcripts import read_transcripts
from hampshire_research.synthetic.transcripts import write_transcripts
from hampshire_research.themes.anonymise import (
    WITHHELD,
    anonymise_turns,
    build_anonymiser,
    leaked,
    pseudonymise_speakers,
)

# Identifiers written by hand, none of them in the generator's pools.
HELD_OUT = [
    ("My son Zbigniew was at Little Thatchings C of E Primary School until 14.02.2022.",
     ["Zbigniew", "Little Thatchings", "14.02.2022"]),
    ("Mrs Adeyemi-Clarke rang from (01962) 846 000 about the move to so23 9ab.",
     ["Adeyemi-Clarke", "01962", "846 000", "so23 9ab"]),
    ("Email me on OLU.ADEYEMI@Example.co.uk or text +44 (0)7911 123456.",
     ["OLU.ADEYEMI@Example.co.uk", "7911", "123456"]),
    ("It happened on the 3rd of March 2023 when we lived in Basingstoke.",
     ["3rd of March 2023", "Basingstoke"]),
    ("Grandad said Oakleigh Estate is where Tomasz Wiśniewski grew up.",
     ["Oakleigh", "Tomasz"]),
    ("Hiya, I'm Keziah. Delphine said the worker from Test Valley never came back.",
     ["Keziah", "Delphine", "Test Valley"]),
    ("We were on 5 May at Brambleside Academy and Ms Okonjo was lovely.",
     ["5 May", "Brambleside", "Okonjo"]),
]
ORDINARY = [
    "I think the school should have asked me first.",
    "Will they actually listen this time?",
    "Nobody told me I could read my own records, to be honest.",
    "The social worker said it would go to the conference in March.",
    "Year six was when it all started going wrong.",
]


@pytest.fixture(scope="module")
def anonymiser():
    corpus = [t for t, _ in HELD_OUT] + ORDINARY
    return build_anonymiser(load_site("hampshire"), corpus=corpus)


@pytest.mark.parametrize("text,identifiers", HELD_OUT)
def test_held_out_identifiers_are_redacted(anonymiser, text, identifiers):
    out = anonymiser.redact(text)
    assert leaked([out], identifiers) == [], out
    assert anonymiser.passes(out), anonymiser.risks(out)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_sentences_are_left_alone(anonymiser, text):
    assert anonymiser.redact(text) == text


def test_schools_list_and_known_names():
    a = build_anonymiser(load_site("north_yorkshire"), schools=["The Fernhill", ""],
                         known_names=["Will Brook"], corpus=["will you brook no argument"])
    out = a.redact("She moved to The Fernhill in Selby, and Will Brook said so.")
    assert out == "She moved to [school] in [place], and [name] said so."
    assert a.redact("i told will brook") == "i told [name]"


def test_risks_catch_what_redaction_missed(anonymiser):
    assert anonymiser.risks("call 555 0199 after tea")
    assert anonymiser.risks("write to me at someone at host dot com @ home")
    assert not anonymiser.risks("[name] said in 2021 it was fine")


def test_planted_identifiers_never_reach_anonymised_transcripts(tmp_path):
    """Every identifier the generator planted (names, places, schools, dates, phones, emails,
    postcodes, speaker names) is gone from the transcripts that may be released."""
    params = load_site("hampshire")
    write_transcripts(tmp_path, params, seed=5)
    turns = read_transcripts(tmp_path / "transcripts")
    planted = pd.read_csv(tmp_path / "truth" / "transcript_identifiers.csv")
    assert len(planted) > 150
    a = build_anonymiser(params, corpus=turns["text"])  # no participant list: the harder case
    out = anonymise_turns(turns, a)
    assert leaked(out["text"], planted["value"]) == []
    assert leaked(out["speaker"], planted["value"]) == []
    assert "file" not in out.columns and "line" not in out.columns
    # and the text is still worth reading: most words survive, few turns are withheld
    assert (out["text"] == WITHHELD).mean() < 0.05
    kept = sum(len(t.split()) for t in out["text"]) / sum(len(t.split()) for t in turns["text"])
    assert kept > 0.9


def test_a_turn_with_a_remaining_risk_is_withheld():
    a = build_anonymiser(corpus=["ordinary words here"])
    turns = pd.DataFrame({"session_id": ["S1", "S1"], "turn": [1, 2], "speaker": ["A", "B"],
                          "role": ["interviewer", "parent_carer"],
                          "text": ["ordinary words here", "ref 12 34 56 78 on the form"]})
    out = anonymise_turns(turns, a)
    assert out["passed"].tolist() == [True, False]
    assert out["text"].iloc[1] == WITHHELD


def test_pseudonymised_speakers_number_by_role_within_session():
    turns = pd.DataFrame({"session_id": ["S1"] * 4 + ["S2"],
                          "speaker": ["Ann Lee", "Bo", "Ann Lee", "Cy", "Bo"],
                          "role": ["interviewer", "parent_carer", "interviewer", "parent_carer",
                                   "parent_carer"]})
    assert pseudonymise_speakers(turns) == ["Interviewer 1", "Parent/carer 1", "Interviewer 1",
                                            "Parent/carer 2", "Parent/carer 1"]
