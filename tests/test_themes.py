"""Thematic coding: codebook, first pass against gold, agreement figures, frequencies,
co-occurrence, exemplar quotes, and the REFI-QDA round trip (with the tools' quirks)."""

import re
import zipfile

import numpy as np
import pandas as pd
import pytest

from hampshire_research import themes
from hampshire_research.errors import ProjectError
from hampshire_research.params import load_site
from hampshire_research.sources.transcripts import read_transcripts
from hampshire_research.synthetic.transcripts import write_transcripts
from hampshire_research.themes.anonymise import build_anonymiser, leaked


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("tx")
    write_transcripts(out, load_site("hampshire"), seed=21)
    turns = read_transcripts(out / "transcripts")
    gold = themes.read_codes(out / "truth" / "themes_gold.csv")
    planted = pd.read_csv(out / "truth" / "transcript_identifiers.csv")
    return turns, gold, planted


def _turns(n=4, session="S1"):
    return pd.DataFrame({"session_id": session, "turn": range(1, n + 1),
                         "speaker": ["I"] + [f"P{i}" for i in range(1, n)],
                         "role": ["interviewer"] + ["parent_carer"] * (n - 1),
                         "text": ["Question?"] + [f"Answer number {i}." for i in range(1, n)],
                         "group": "parent_carer_consultation", "site": "hampshire",
                         "date": "2024-01-01"})


def test_codebook_has_the_deductive_themes_and_takes_inductive_codes():
    book = themes.load_theme_codebook()
    assert book.ids() == ["T.TRUST", "T.ASKED", "T.ACCURACY", "T.HEARD", "T.SHARING",
                          "T.PREDICTION", "T.EARLYHELP", "T.ACCESS", "T.LANGUAGE"]
    assert all(t.definition and t.lexicon for t in book.themes)
    more = themes.add_inductive_code(book, "I.SYSTEMS", "Recording systems",
                                     "Complaints about the case recording system.",
                                     [r"the system|mosaic|liquid ?logic"])
    assert more.ids()[-1] == "I.SYSTEMS" and more.themes[-1].inductive
    turns = _turns(3)
    turns.loc[1, "text"] = "The system logs me out every ten minutes."
    assert themes.first_pass(turns, more)["theme"].tolist() == ["I.SYSTEMS"]
    with pytest.raises(ProjectError, match="already"):
        themes.add_inductive_code(more, "I.SYSTEMS", "x", "y")


def test_bad_codebook_is_an_error(tmp_path):
    bad = tmp_path / "cb.yaml"
    bad.write_text("version: 1\nname: x\nthemes:\n  - {id: T.A, name: A, lexicon: ['(']}\n")
    with pytest.raises(ProjectError, match="bad lexicon pattern"):
        themes.load_theme_codebook(bad)


def test_first_pass_codes_only_participants_and_agrees_with_gold(corpus):
    turns, gold, _ = corpus
    proposed = themes.first_pass(turns)
    roles = turns.set_index(["session_id", "turn"]).loc[
        list(zip(proposed.session_id, proposed.turn, strict=True)), "role"]
    assert (roles != "interviewer").all()
    table = themes.agreement(proposed, gold, turns).set_index("theme")
    pooled = table.loc["all themes"]
    # measured on the synthetic corpus (seed 21); the lexicons were not fitted to it
    assert pooled["cohen_kappa"] > 0.8 and pooled["f1"] > 0.85
    assert (table.drop("all themes")["recall"] > 0.6).all()
    assert pooled["units"] == 9 * (turns["role"] != "interviewer").sum()


def test_agreement_figures_on_a_hand_example():
    turns = _turns(5)
    a = pd.DataFrame({"session_id": "S1", "turn": [2, 3], "theme": "T.TRUST"})
    b = pd.DataFrame({"session_id": "S1", "turn": [2, 4], "theme": "T.TRUST"})
    row = themes.agreement(a, b, turns).set_index("theme").loc["T.TRUST"]
    # 4 participant turns: both yes on 2, a only on 3, b only on 4, both no on 5
    assert row["units"] == 4 and row["both"] == 1
    assert row["agreement"] == 0.5
    assert row["cohen_kappa"] == pytest.approx(0.0)
    assert row["precision"] == 0.5 and row["recall"] == 0.5
    same = themes.agreement(a, a, turns).set_index("theme").loc["T.TRUST"]
    assert same["cohen_kappa"] == pytest.approx(1.0) and same["alpha"] == pytest.approx(1.0)


def test_frequencies_and_cooccurrence(corpus):
    turns, gold, _ = corpus
    freq = themes.theme_frequencies(turns, gold)
    assert len(freq) == 9 * turns.loc[turns.role != "interviewer", "role"].nunique()
    assert freq["turns"].sum() == len(gold)
    assert (freq["participants"] <= freq["group_participants"]).all()
    by_group = themes.theme_frequencies(turns, gold, by="group")
    assert by_group["turns"].sum() == len(gold)

    codes = pd.DataFrame({"session_id": "S1", "turn": [1, 1, 2, 2, 2, 3],
                          "theme": ["T.TRUST", "T.ASKED", "T.TRUST", "T.ASKED", "T.HEARD",
                                    "T.HEARD"]})
    m = themes.cooccurrence_matrix(codes)
    assert m.loc["T.TRUST", "T.ASKED"] == m.loc["T.ASKED", "T.TRUST"] == 2
    assert m.loc["T.HEARD", "T.TRUST"] == 1 and m.loc["T.HEARD", "T.HEARD"] == 2
    assert m.loc["T.ACCESS"].sum() == 0
    pairs = themes.cooccurrence(codes)
    assert len(pairs) == 36 and pairs["turns_both"].sum() == 4


def test_exemplar_quotes_pass_anonymisation_and_leak_nothing(corpus):
    turns, gold, planted = corpus
    anon = build_anonymiser(load_site("hampshire"), corpus=turns["text"])
    quotes = themes.exemplar_quotes(turns, gold, anon)
    assert set(quotes["theme"]) == set(themes.load_theme_codebook().ids())
    assert (quotes.groupby("theme").size() == 2).all()
    assert all(anon.passes(q) for q in quotes["quote"])
    assert leaked(quotes["quote"], planted["value"]) == []
    # quotes come from more than one kind of participant
    assert quotes["speaker"].nunique() >= 3
    assert "Managers" not in set(quotes["speaker"])
    again = themes.exemplar_quotes(turns, gold, anon)
    assert again.equals(quotes)


def _coded(corpus):
    turns, gold, _ = corpus
    return pd.concat([gold.assign(coder="researcher A"),
                      themes.first_pass(turns).assign(coder="first pass")],
                     ignore_index=True).sort_values([*themes.CODE_COLUMNS, "coder"],
                                                    ignore_index=True)


def test_refi_round_trip_keeps_every_segment_and_code(corpus, tmp_path):
    turns, _, _ = corpus
    coded = _coded(corpus)
    path = themes.to_refi(tmp_path / "p.qdpx", turns, coded)
    back, book = themes.from_refi(path)
    assert back.equals(coded[back.columns].astype(back.dtypes.to_dict()))
    assert book.ids() == themes.load_theme_codebook().ids()
    # the same input gives the same bytes
    again = themes.to_refi(tmp_path / "q.qdpx", turns, coded)
    assert path.read_bytes() == again.read_bytes()


def test_refi_round_trip_with_anonymised_sources(corpus, tmp_path):
    turns, gold, planted = corpus
    anon = build_anonymiser(load_site("hampshire"), corpus=turns["text"])
    path = themes.to_refi(tmp_path / "p.qdpx", turns, gold.assign(coder="gold"), anonymiser=anon)
    with zipfile.ZipFile(path) as z:
        texts = [z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("sources/")]
    assert leaked(texts, planted["value"]) == []
    back, _ = themes.from_refi(path)
    assert len(back) == len(gold)


def test_refi_import_tolerates_tools_and_takes_new_codes(corpus, tmp_path):
    """As a tool might send it back: project file renamed, CRLF texts with positions counting
    the CR, inclusive end positions, and a code the researcher created while coding."""
    turns, _, _ = corpus
    coded = _coded(corpus)
    path = themes.to_refi(tmp_path / "p.qdpx", turns, coded)
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    xml = files.pop("project.qde").decode("utf-8")
    texts = {n: b.decode("utf-8") for n, b in files.items()}
    by_guid = {n.split("/")[1][:-4]: t for n, t in texts.items()}

    out, source_guid = [], None
    for line in xml.split("\n"):
        g = re.search(r'<TextSource guid="([^"]+)"', line)
        if g:
            source_guid = g.group(1)
        s = re.search(r'startPosition="(\d+)" endPosition="(\d+)"', line)
        if s:
            text = by_guid[source_guid]
            a, b = int(s.group(1)), int(s.group(2))
            a2, b2 = a + text.count("\n", 0, a), b + text.count("\n", 0, b) - 1
            line = line.replace(s.group(0), f'startPosition="{a2}" endPosition="{b2}"')
        out.append(line)
    xml = "\n".join(out)
    # a new code under the inductive folder, applied to the first turn of one session
    first = sorted(by_guid)[0]
    end = by_guid[first].index("\n")
    xml = xml.replace('</Codes>', '<Code guid="11111111-2222-3333-4444-555555555555" '
                      'name="Recording burden" isCodable="true"><Description>Time spent '
                      'recording</Description></Code></Codes>')
    sel = (f'<PlainTextSelection guid="99999999-2222-3333-4444-555555555555" startPosition="0" '
           f'endPosition="{end - 1}"><Coding guid="88888888-2222-3333-4444-555555555555">'
           '<CodeRef targetGUID="11111111-2222-3333-4444-555555555555"/></Coding>'
           '</PlainTextSelection>')
    xml = re.sub(rf'(<TextSource guid="{first}"[^>]*>)', lambda m: m.group(1) + sel, xml)
    tool = tmp_path / "from_nvivo.qdpx"
    with zipfile.ZipFile(tool, "w") as z:
        z.writestr("Information use.qde", xml)
        for n, t in texts.items():
            z.writestr(n, t.replace("\n", "\r\n"))
    back, book = themes.from_refi(tool)
    assert "Recording burden" in book.ids() and book.themes[-1].inductive
    new = back[back.theme == "Recording burden"]
    assert len(new) == 1 and new["turn"].iloc[0] == 1
    kept = back[back.theme != "Recording burden"].reset_index(drop=True)
    assert kept[themes.CODE_COLUMNS].equals(
        coded[themes.CODE_COLUMNS].astype(kept[themes.CODE_COLUMNS].dtypes.to_dict()))
    assert np.array_equal(kept["coder"].unique(), np.array(sorted(coded["coder"].unique())))
    # the new code came without a creating user; agreement covers inductive codes too
    assert new["coder"].iloc[0] == "unknown"
    table = themes.agreement(back[back.coder == "unknown"], back[back.coder == "researcher A"],
                             turns, book)
    assert "Recording burden" in set(table["theme"])


def test_codes_on_a_turn_that_does_not_exist_are_an_error(tmp_path):
    with pytest.raises(ProjectError, match="not a turn"):
        themes.to_refi(tmp_path / "p.qdpx", _turns(3),
                       pd.DataFrame({"session_id": ["S1"], "turn": [7], "theme": ["T.TRUST"]}))


# Turns written by hand after the lexicons were last changed, in wording the first pass had not
# met. Measured when written: pooled precision 0.57, recall 0.24, F1 0.34, kappa 0.29 - the
# first pass proposes, people code. The asserts guard against it getting worse.
HELD_C = [
    ("Whatever I said ended up being quoted back at me in the conference.", {"T.TRUST"}),
    ("I never signed anything saying they could talk to my employer.", {"T.ASKED", "T.SHARING"}),
    ("The assessment had my ex down as a risk to the kids when he's never even met"
     " them.", {"T.ACCURACY"}),
    ("The chair went round the table and skipped me completely.", {"T.HEARD"}),
    ("Housing and social care clearly weren't talking, we got two letters saying"
     " opposite things.", {"T.SHARING"}),
    ("Data is fine for planning services but not for deciding which family gets a"
     " knock on the door.", {"T.PREDICTION"}),
    ("A family worker in the first year after he was born would have made all the"
     " difference.", {"T.EARLYHELP"}),
    ("It took a solicitor to get hold of my own case file.", {"T.ACCESS"}),
    ("Calling a mum 'chaotic' on paper follows her through every service she"
     " touches.", {"T.LANGUAGE", "T.PREDICTION"}),
    ("My foster carer reads my reports before I do, which isn't right.", {"T.ACCESS"}),
    ("I don't open up to people who write everything down while I'm talking.", {"T.TRUST"}),
    ("Can I just say, they got my surname wrong on the child protection plan.", {"T.ACCURACY"}),
    ("As a manager I want the child's words in the record, not our summary of them.", {"T.HEARD"}),
    ("Police notifications land in our inbox with hardly any context.", {"T.SHARING"}),
    ("I'm wary of dashboards that colour families red, amber or green.", {"T.PREDICTION"}),
    ("We only saw them once things had reached crisis point.", {"T.EARLYHELP"}),
    ("Young people should get their plan written to them, in a way they can"
     " read.", {"T.ACCESS", "T.LANGUAGE"}),
    ("Terms like 'failure to engage' put the blame on families for services that"
     " don't fit their lives.", {"T.LANGUAGE"}),
    ("My social worker keeps changing so I have to tell my whole story again every"
     " time.", {"T.SHARING"}),
    ("I wanted to speak at my review but they ran out of time.", {"T.HEARD"}),
    ("Nobody asked me before they told my dad where I was living.", {"T.ASKED", "T.SHARING"}),
    ("If they'd got me a counsellor in year seven I might not have been excluded.", {"T.EARLYHELP"}),
    ("Once you're in care everyone assumes you're trouble.", {"T.PREDICTION"}),
    ("I trust my key worker because she tells me what she's going to write first.", {"T.TRUST"}),
    ("The minutes said I agreed to the plan but I never did.", {"T.ACCURACY", "T.HEARD"}),
    ("We tell parents at the start that we'll share with the school unless there's"
     " a good reason not to.", {"T.ASKED", "T.SHARING"}),
    ("It's my information, I should get a say in who sees it.", {"T.ASKED"}),
    ("Do you want a cup of tea before we start?", set()),
    ("I've got to leave at half two for the school run.", set()),
    ("Mm, I see what you mean.", set()),
    ("It was about two years ago now.", set()),
    ("We've lived here since the twins were born.", set()),
]


def test_first_pass_on_unseen_wording_is_a_prompt_not_a_coder():
    turns = pd.DataFrame({"session_id": "C", "turn": range(1, len(HELD_C) + 1), "speaker": "P1",
                          "role": "parent_carer", "text": [t for t, _ in HELD_C]})
    gold = pd.DataFrame([("C", i, th) for i, (_, ths) in enumerate(HELD_C, 1) for th in ths],
                        columns=["session_id", "turn", "theme"])
    pooled = themes.agreement(themes.first_pass(turns), gold, turns).set_index("theme").loc[
        "all themes"]
    assert pooled["coded_b"] == 33
    assert pooled["precision"] >= 0.5 and pooled["recall"] >= 0.2
