"""The auto-coder on notes it has never seen: hand-written held-out notes in real-world styles,
plus its contract (ids, offsets, one form per voice segment, no form on W.PRAC or absences)."""

import hashlib
import importlib
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from hampshire_research.errors import ProjectError
from hampshire_research.voice import autocode, load_codebook, precision_recall, sentence_units

FIXTURES = Path(__file__).parent / "fixtures" / "voice"


def load_heldout(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The notes and their expected codes as gold segments on the sentence holding each quote."""
    raw = yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))["notes"]
    notes = pd.DataFrame([{k: n[k] for k in ("note_id", "text", "child_first_name")} for n in raw])
    gold = []
    for n in raw:
        units = sentence_units(n["text"], n["child_first_name"])
        for quote, codes in n["expect"]:
            pos = n["text"].index(quote)
            (u,) = [u for u in units if u.start <= pos < u.end]
            for code in codes.split(";"):
                who, *rest = code.split()
                other = rest[0] if rest else None
                gold.append((n["note_id"], u.start, u.end, who,
                             other if other and other.startswith("F.") else None,
                             other if other and other.startswith("A.") else None))
    return notes, pd.DataFrame(gold, columns=["note_id", "start", "end", "who", "form", "absence"])


@pytest.mark.parametrize("name", ["heldout_notes.yaml", "heldout_notes_2.yaml",
                                  "heldout_notes_3.yaml"])
def test_heldout_targets(name):
    notes, gold = load_heldout(name)
    pr = precision_recall(autocode(notes), gold, notes).set_index("label")
    assert pr.loc["child's voice present", "f1"] >= 0.9
    assert pr.loc["absence stated", "f1"] >= 0.9
    assert pr.loc["parent or carer's voice present", "f1"] >= 0.9
    assert pr.loc["child's voice present", "gold_sentences"] >= 14
    assert pr.loc["child's voice present", "precision"] >= 0.9


def test_heldout_every_expected_code_exactly():
    """The first two sets, code by code: this pins the rules so a change that breaks one style
    shows. (Set 3 keeps one known miss, a description under a "Zac's voice:" heading.)"""
    for name in ("heldout_notes.yaml", "heldout_notes_2.yaml"):
        notes, gold = load_heldout(name)
        auto = autocode(notes)
        key = ["note_id", "start", "end", "who", "form", "absence"]
        a = set(map(tuple, auto[key].fillna("-").itertuples(index=False)))
        g = set(map(tuple, gold[key].fillna("-").itertuples(index=False)))
        assert a == g, (name, sorted(a - g), sorted(g - a))


def test_contract_of_rows():
    notes, _ = load_heldout("heldout_notes.yaml")
    auto = autocode(notes)
    cb = load_codebook()
    assert list(auto.columns) == ["note_id", "start", "end", "who", "form", "absence"]
    assert set(auto.who) <= set(cb.ids("WHO"))
    assert set(auto.form.dropna()) <= set(cb.ids("FORM"))
    assert set(auto.absence.dropna()) <= set(cb.ids("ABSENCE"))
    voice = auto[auto.absence.isna()]
    assert voice[voice.who != "W.PRAC"].form.notna().all()
    assert voice[voice.who == "W.PRAC"].form.isna().all()
    assert auto[auto.absence.notna()].form.isna().all()
    texts = notes.set_index("note_id").text
    for r in auto.itertuples():
        seg = texts[r.note_id][r.start:r.end]
        assert seg == seg.strip() and len(seg) > 3  # end exclusive, no stray spaces


def test_one_note_coded_by_hand():
    text = ("Visit to Mum's.\nMia said “I like my new school” and smiled.\n"
            "Dad was not seen as he was at work.\nIn my view Mia is settled.")
    auto = autocode([{"note_id": 1, "text": text, "child_first_name": "Mia"}])
    got = [(text[r.start:r.end], r.who, r.form, r.absence) for r in auto.itertuples()]
    assert got == [
        ("Mia said “I like my new school” and smiled.", "W.CYP", "F.DQ", None),
        ("Dad was not seen as he was at work.", "W.PAR", None, "A.NOTSEEN"),
        ("In my view Mia is settled.", "W.PRAC", None, None),
    ]


def test_pronoun_follows_the_last_subject_and_quotes_do_not_make_the_author_speak():
    text = "Ellie told me she feels safe at Nan's. She said “I think Nan is kind.”"
    auto = autocode([{"note_id": "a", "text": text, "child_first_name": "Ellie"}])
    assert list(zip(auto.who, auto.form)) == [("W.CYP", "F.RS"), ("W.CYP", "F.DQ")]


def test_without_a_first_name_a_named_speaker_is_the_child():
    auto = autocode(pd.DataFrame({"note_id": ["x"], "text": ["Kacper said he wants to stay."]}))
    assert list(zip(auto.who, auto.form)) == [("W.CYP", "F.RS")]


def test_notes_without_text_give_no_rows_and_bad_input_is_an_error():
    auto = autocode(pd.DataFrame({"note_id": ["a", "b"], "text": [None, ""]}))
    assert auto.empty and list(auto.columns)[:3] == ["note_id", "start", "end"]
    with pytest.raises(ProjectError, match="'text'"):
        autocode(pd.DataFrame({"note_id": [1]}))


def test_same_input_same_output():
    notes, _ = load_heldout("heldout_notes_2.yaml")
    pd.testing.assert_frame_equal(autocode(notes), autocode(notes.copy()))


def test_the_word_gate_never_changes_a_code(monkeypatch):
    """The fast skip (a pattern runs only when the sentence has one of its words) is exact."""
    ac = importlib.import_module("hampshire_research.voice.autocode")
    notes = pd.concat([load_heldout(n)[0] for n in ("heldout_notes.yaml", "heldout_notes_2.yaml")]
                      + [pd.DataFrame({"note_id": ["hyphen"], "child_first_name": ["Ellie"], "text": [
                          "Ellie is Pre-Verbal. Ellie did not attend, so I saw Mum only."]})])
    gated = autocode(notes)
    assert set(gated[gated.note_id == "hyphen"].absence) == {"A.TOOYOUNG", "A.NOTSEEN"}
    monkeypatch.setattr(ac, "_GATE_ON", False)
    pd.testing.assert_frame_equal(gated, autocode(notes))


def test_lower_casing_never_changes_a_code(monkeypatch):
    """The patterns run case-sensitively on lower-cased text (faster): the same codes as the
    case-insensitive patterns on the text, over every hand-written set."""
    ac = importlib.import_module("hampshire_research.voice.autocode")
    notes = pd.concat([load_marked(n)[0] for n in ("independent_eval.yaml", "independent_tuning.yaml")]
                      + [load_heldout(n)[0] for n in ("heldout_notes.yaml", "heldout_notes_2.yaml",
                                                      "heldout_notes_3.yaml")], ignore_index=True)
    fast = autocode(notes)
    assert ac._FAST[id(ac._RS)] is not ac._RS and len(fast) > 1000
    monkeypatch.setattr(ac, "_LOWER_ON", False)
    pd.testing.assert_frame_equal(fast, autocode(notes))


def test_triggers_read_from_the_pattern():
    from hampshire_research.voice.triggers import triggers

    assert triggers(r"(?i:\b(?:said|told me|was clear that)\b)") == {"said", "told", "clear"}
    assert triggers(r"\bnot (?:seen|visited)\b") == {"seen", "visited"}  # "not" is common
    assert triggers(r"(?:is|was) (?:happy|sad)") == {"happy", "sad"}  # rarer words preferred
    assert triggers(r"\b(?:preverbal|pre-verbal)\b") == {"preverbal", "pre"}  # "-" ends a word
    assert triggers(r"\battend\b(?! school)") == {"attend"}  # a lookahead needs nothing
    assert triggers(r"\b(?:answered(?! the door)|said)\b") == {"answered", "said"}  # nor ends a word
    assert triggers(r"pre-?verbal|\d+ out") is None  # a branch without a whole word: always run


def test_a_pattern_is_lowered_only_when_it_is_wholly_case_insensitive():
    import re as regex

    from hampshire_research.voice.triggers import lowered

    assert lowered(regex.compile(r"(?i:\b(?:Said|[A-Z]\w+ \S)\b)")).pattern == r"(?:\b(?:said|[a-z]\w+ \S)\b)"
    tail = regex.compile(r"(?i:said)|Mum")  # "Mum" is case-sensitive: left as it is
    assert lowered(tail) is tail


@pytest.mark.parametrize("text, expected", [
    ("Ellie wasn't seen as she was at her friend's house.", [("W.CYP", None, "A.NOTSEEN")]),
    ("Ellie was too upset to talk today.", [("W.CYP", None, "A.DECLINED")]),
    ("Ellie did not say anything about home.", []),
    ("Mum was told by police that the case would be closed.", []),
    ("I told Ellie that I would visit again next week.", []),
    ("Ms Jones (mother) stated that she will engage.", [("W.PAR", "F.RS", None)]),
    ("Ellie's mum reports Ellie has been wetting the bed.", [("W.PAR", "F.RS", None)]),
    ("It was not possible to see Ellie alone as Mum refused.", [("W.CYP", None, "A.NOTALONE")]),
    # issue 19's second round: active "see" is not the worker's, a trap, a place, a trailing speaker
    ("Ellie has not seen her dad since June.", []),
    ("Mum could not see why the referral was made.", []),
    ("I have not seen Ellie since the incident.", [("W.CYP", None, "A.NOTSEEN")]),
    ("Ellie was at school when police came, so she did not see the arrest.", []),
    ("Ellie took the money without asking.", []),
    ("Ellie (16) answered the door and let me in.", []),
    ("Mum was too tired to cook, she explained.", [("W.PAR", "F.RS", None)]),
    ("According to mum, Ellie says she hates school.", [("W.CYP", "F.MED", None),
                                                        ("W.PAR", "F.RS", None)]),
    ("Worker's analysis: the home is not safe for Ellie.", [("W.PRAC", None, None)]),
    ("Mum raised her voice and left the room.", [("W.PAR", "F.NV", None)]),
])
def test_negation_passive_and_contractions(text, expected):
    auto = autocode([{"note_id": 1, "text": text, "child_first_name": "Ellie"}])
    got = [(w, f if isinstance(f, str) else None, a if isinstance(a, str) else None)
           for w, f, a in zip(auto.who, auto.form, auto.absence)]
    assert got == expected


def test_crlf_line_ends_keep_offsets_on_the_text_given():
    text = "Home visit.\r\nEllie said she likes school.\r\n\r\nMum was not seen.\r\n"
    auto = autocode([{"note_id": 1, "text": text, "child_first_name": "Ellie"}])
    assert [text[s:e] for s, e in zip(auto.start, auto.end)] == [
        "Ellie said she likes school.", "Mum was not seen."]


# --- the independent sets of issue 19: written and labelled by the codebook before the tool ran --
FROZEN_SHA256 = "75158e295f651b01cc35ed2fe1934c02c5c45f3483795e51b1b5ce15f6130fb3"
_MARK = re.compile(r"[ \t]*\{([^}]*)\}")


def load_marked(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Notes whose labels are markers ending the sentence they code: "... {W.CYP F.RS; W.PRAC}"."""
    raw = yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))["notes"]
    notes, gold = [], []
    for n in raw:
        text, pos, marks = "", 0, []
        for m in _MARK.finditer(n["text"]):
            text += n["text"][pos:m.start()]
            pos = m.end()
            marks.append((len(text) - 1, m.group(1)))
        text += n["text"][pos:]
        notes.append({"note_id": n["id"], "text": text, "child_first_name": n["child"]})
        units = sentence_units(text, n["child"])
        for p, codes in marks:
            (u,) = [u for u in units if u.start <= p < u.end]
            for code in codes.split(";"):
                who, *rest = code.split()
                other = rest[0] if rest else None
                gold.append((n["id"], u.start, u.end, who,
                             other if other and other.startswith("F.") else None,
                             other if other and other.startswith("A.") else None))
    return pd.DataFrame(notes), pd.DataFrame(gold, columns=["note_id", "start", "end", "who", "form",
                                                            "absence"])


def test_frozen_set_is_unchanged():
    data = (FIXTURES / "independent_eval.yaml").read_bytes()
    assert hashlib.sha256(data).hexdigest() == FROZEN_SHA256
    notes, gold = load_marked("independent_eval.yaml")
    assert len(notes) == 206 and gold.note_id.nunique() == 206


# What the coder scores on the frozen set. First run, before any change: F1 child 0.835, parent
# 0.818, practitioner 0.790, other professional 0.519, absence 0.760. After the first round of
# changes (made on the tuning set only): 0.892, 0.904, 0.968, 0.865, 0.878, absence precision
# 0.847. After the second (tuning notes V001-V061): 0.905, 0.925, 0.979, 0.884, 0.871, lowest
# precision 0.853 (absence). The floors are issue 19's targets: F1 0.90 for the child's voice and
# 0.85 for every other label, precision 0.85 for each.
FROZEN_FLOORS = {"child's voice present": 0.90, "parent or carer's voice present": 0.85,
                 "W.PRAC": 0.85, "W.PROF": 0.85, "absence stated": 0.85}


def test_frozen_set_scores():
    notes, gold = load_marked("independent_eval.yaml")
    pr = precision_recall(autocode(notes), gold, notes).set_index("label")
    for label, floor in FROZEN_FLOORS.items():
        assert pr.loc[label, "f1"] >= floor, label
        assert pr.loc[label, "precision"] >= 0.85, label


def test_tuning_set_targets():
    notes, gold = load_marked("independent_tuning.yaml")
    pr = precision_recall(autocode(notes), gold, notes).set_index("label")
    for label in FROZEN_FLOORS:
        assert pr.loc[label, "f1"] >= (0.9 if label == "W.PROF" or "parent" in label else 0.95), label
