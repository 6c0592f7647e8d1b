"""Agreement statistics on sentence units, checked against hand counts and the libraries."""

import krippendorff
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from hampshire_research.errors import ProjectError
from hampshire_research.qda.agreement import _stats_from_patterns
from hampshire_research.voice import agreement, precision_recall, unit_labels, units

# ten one-sentence notes
NOTES = pd.DataFrame({"note_id": [f"n{i}" for i in range(10)],
                      "text": [f"Sentence number {i} of the record." for i in range(10)]})
L = len(NOTES.text[0])


def seg(note_ids, who="W.CYP", form="F.RS", absence=None, start=0, end=L):
    return pd.DataFrame({"note_id": note_ids, "start": start, "end": end, "who": who,
                         "form": form, "absence": absence})


def test_units_and_labels_count_half_overlaps():
    u = units(NOTES)
    assert len(u) == 10 and (u.end - u.start == L).all()
    lab = unit_labels(pd.concat([seg(["n0"], start=0, end=L // 2 + 1),   # covers half: counts
                                 seg(["n1"], start=0, end=L // 4),       # inside: half of itself
                                 seg(["n2"], who="W.CYP", form=None, absence="A.NOTSEEN")]), u)
    assert sorted(lab[lab.note_id == "n0"].label) == ["F.RS", "W.CYP", "child's voice present"]
    assert (lab.note_id == "n1").sum() == 3
    assert sorted(lab[lab.note_id == "n2"].label) == ["A.NOTSEEN", "absence stated"]


def test_precision_recall_by_hand():
    gold = seg(["n0", "n1", "n2", "n3"])
    auto = pd.concat([seg(["n0", "n1", "n2"]), seg(["n5"]), seg(["n3"], who="W.PAR")])
    pr = precision_recall(auto, gold, NOTES).set_index("label")
    row = pr.loc["child's voice present"]
    assert (row.true_positive, row.gold_sentences, row.auto_sentences) == (3, 4, 4)
    assert row.precision == 0.75 and row.recall == 0.75 and row.f1 == 0.75
    assert pr.loc["F.RS", "precision"] == 4 / 5 and pr.loc["F.RS", "recall"] == 1.0


def test_kappa_and_alpha_match_the_libraries():
    a = seg(["n0", "n1", "n2", "n3"])
    b = seg(["n0", "n1", "n2", "n4", "n5"])
    res = agreement({"A": a, "B": b}, NOTES, n_boot=200)
    row = res[(res.level == "code") & (res.code == "child's voice present")].iloc[0]
    ra = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    rb = np.array([1, 1, 1, 0, 1, 1, 0, 0, 0, 0])
    table = pd.crosstab(ra, rb).to_numpy()
    assert row.cohen_kappa == pytest.approx(cohens_kappa(table).kappa)
    assert row.cohen_kappa == pytest.approx((0.7 - 0.5) / 0.5)  # po 7/10, pe .4*.5+.6*.5
    assert row.alpha == pytest.approx(krippendorff.alpha(reliability_data=np.vstack([ra, rb]),
                                                         level_of_measurement="nominal"))
    assert row.agreement == 0.7 and row.prevalence == pytest.approx(9 / 20)
    assert row.cohen_kappa_low < row.cohen_kappa < row.cohen_kappa_high
    assert row.alpha_low < row.alpha < row.alpha_high


def test_bootstrap_formulas_equal_the_libraries_on_the_sample():
    rng = np.random.default_rng(1)
    codes = rng.integers(0, 3, size=(200, 3))
    patterns, inv = np.unique(codes, axis=0, return_inverse=True)
    counts = np.bincount(inv.ravel(), minlength=len(patterns))[None, :]
    s = _stats_from_patterns(patterns, counts, 3)
    assert s["alpha"][0] == pytest.approx(krippendorff.alpha(reliability_data=codes.T,
                                                             level_of_measurement="nominal"))
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa
    assert s["fleiss"][0] == pytest.approx(fleiss_kappa(aggregate_raters(codes)[0]))
    assert s["cohen"][0] == pytest.approx(cohens_kappa(
        pd.crosstab(codes[:, 0], codes[:, 1]).to_numpy()).kappa)


def test_three_coders_and_dimensions():
    a = pd.concat([seg(["n0", "n1"]), seg(["n2"], form=None, absence="A.NOTSEEN")])
    res = agreement({"A": a, "B": a, "C": a.iloc[:2]}, NOTES, n_boot=50)
    assert set(res.comparison) == {"A vs B", "A vs C", "B vs C", "all 3 coders"}
    ab = res[(res.comparison == "A vs B")]
    assert (ab.agreement == 1).all() and (ab.alpha.dropna() == 1).all()
    dim = res[(res.comparison == "all 3 coders") & (res.code == "ABSENCE")].iloc[0]
    assert dim.agreement == 0.9 and dim.fleiss_kappa < 1
    with pytest.raises(ProjectError):
        agreement({"A": a}, NOTES)


def test_evaluation_splits_the_notes_into_sentences_once(monkeypatch):
    """Precision/recall and agreement score the same sentences: the evaluation splits the
    notes once and hands both the units, with the figures each gives on its own."""
    import importlib

    from hampshire_research.voice import data

    agreement_module = importlib.import_module("hampshire_research.voice.agreement")

    gold = seg(["n0", "n1", "n2", "n3"])
    auto = pd.concat([seg(["n0", "n1", "n2"]), seg(["n5"])])
    scored = NOTES[NOTES.note_id.isin(gold.note_id)]  # the notes with gold codes
    alone_pr = precision_recall(auto, gold, scored)
    alone_agree = agreement({"auto-coder": auto[auto.note_id.isin(scored.note_id)], "gold": gold},
                            scored, n_boot=50)
    calls = []
    monkeypatch.setattr(data, "units", lambda notes: calls.append(1) or units(notes))
    monkeypatch.setattr(agreement_module, "units", lambda notes: pytest.fail("split again"))
    out = data.evaluate_against_gold(NOTES, auto, gold, n_boot=50)
    assert calls == [1]
    pd.testing.assert_frame_equal(out["precision_recall"], alone_pr)
    pd.testing.assert_frame_equal(out["agreement"], alone_agree)


def test_the_gold_check_scores_at_most_a_fixed_number_of_notes(monkeypatch):
    """Past GOLD_NOTES notes with gold codes, a random draw of that many is scored, and the
    table says so; below it every one is scored, as before."""
    from hampshire_research.voice import data

    gold = seg([f"n{i}" for i in range(8)])
    everyone = data.evaluate_against_gold(NOTES, gold, gold, n_boot=20)["notes"]
    assert everyone.to_dict("list") == {"measure": ["notes with gold codes", "sentences"],
                                        "value": [8, 8]}
    monkeypatch.setattr(data, "GOLD_NOTES", 3)
    drawn = data.evaluate_against_gold(NOTES, gold, gold, n_boot=20)["notes"]
    assert drawn.to_dict("list") == {
        "measure": ["notes with gold codes", "notes scored (drawn at random)", "sentences"],
        "value": [8, 3, 3]}
