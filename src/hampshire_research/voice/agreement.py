"""How far coders agree, and how well the auto-coder finds what people (or gold codes) found.

Everything is compared on the same units: the sentences of each note (voice.sentences), so two
coders who highlight slightly different spans of one sentence still agree. A segment counts in
a sentence when at least half of the shorter of the two overlaps.
Statistics (qda.agreement): Cohen's and Fleiss' kappa, Krippendorff's alpha,
each with a bootstrap 95% interval over sentences; precision, recall and F1 for the auto-coder.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from ..errors import ProjectError
from ..qda.agreement import agreement_stats
from .codebook import load_codebook
from .sentences import sentence_units

VOICE_CYP = "child's voice present"
ABSENCE_ANY = "absence stated"
VOICE_PAR = "parent or carer's voice present"
_WHO_RANK = ["W.CYP", "W.SIB", "W.PAR", "W.FAM", "W.PROF", "W.PRAC"]
_FORM_RANK = ["F.MED", "F.DQ", "F.RS", "F.WF", "F.NV"]
_ABS_RANK = ["A.NOTSEEN", "A.NOTALONE", "A.TOOYOUNG", "A.BARRIER", "A.DECLINED", "A.NOTSOUGHT"]


def units(notes: pd.DataFrame) -> pd.DataFrame:
    """Sentence units of every note: note_id, unit (0..), start, end."""
    names = notes["child_first_name"] if "child_first_name" in notes else [None] * len(notes)
    rows = [(nid, i, u.start, u.end)
            for nid, text, name in zip(notes["note_id"], notes["text"], names)
            if isinstance(text, str)
            for i, u in enumerate(sentence_units(text, name if isinstance(name, str) else None))]
    return pd.DataFrame(rows, columns=["note_id", "unit", "start", "end"])


def unit_labels(segments: pd.DataFrame, unit_frame: pd.DataFrame) -> pd.DataFrame:
    """Which labels each sentence carries: note_id, unit, label.

    Labels are the codes themselves (a WHO counts only on voice segments, not on absence ones)
    plus the summary labels "child's voice present", "parent or carer's voice present" and
    "absence stated".
    """
    if segments.empty:
        return pd.DataFrame(columns=["note_id", "unit", "label"])
    seg = segments.reset_index(drop=True).assign(seg=lambda d: np.arange(len(d)))
    m = seg.merge(unit_frame, on="note_id", suffixes=("", "_u"))
    overlap = np.minimum(m["end"], m["end_u"]) - np.maximum(m["start"], m["start_u"])
    shorter = np.minimum(m["end"] - m["start"], m["end_u"] - m["start_u"]).clip(lower=1)
    m = m[overlap >= 0.5 * shorter]
    voice = m["absence"].isna()
    parts = [
        m.loc[voice, ["note_id", "unit", "who"]].rename(columns={"who": "label"}),
        m.loc[m["form"].notna(), ["note_id", "unit", "form"]].rename(columns={"form": "label"}),
        m.loc[~voice, ["note_id", "unit", "absence"]].rename(columns={"absence": "label"}),
        m.loc[voice & (m["who"] == "W.CYP"), ["note_id", "unit"]].assign(label=VOICE_CYP),
        m.loc[voice & (m["who"] == "W.PAR"), ["note_id", "unit"]].assign(label=VOICE_PAR),
        m.loc[~voice, ["note_id", "unit"]].assign(label=ABSENCE_ANY),
    ]
    return pd.concat(parts).drop_duplicates().sort_values(["note_id", "unit", "label"],
                                                          ignore_index=True)


def _label_order() -> list[str]:
    cb = load_codebook()
    return [VOICE_CYP, ABSENCE_ANY, VOICE_PAR] + [c for c in cb.ids() if c[:2] in ("W.", "F.", "A.")]


def precision_recall(auto: pd.DataFrame, gold: pd.DataFrame, notes: pd.DataFrame,
                     sentences: pd.DataFrame | None = None) -> pd.DataFrame:
    """Sentence-level precision, recall and F1 of `auto` against `gold`, per label.

    Only notes in `notes` are scored; a sentence no one coded is a true negative for every label.
    sentences: ``units(notes)``, from a caller that has it (a county's notes take seconds to
    split into sentences).
    """
    u = units(notes) if sentences is None else sentences
    a = unit_labels(auto[auto.note_id.isin(notes.note_id)], u).assign(auto=True)
    g = unit_labels(gold[gold.note_id.isin(notes.note_id)], u).assign(gold=True)
    both = a.merge(g, on=["note_id", "unit", "label"], how="outer")
    both["auto"] = both["auto"].eq(True)
    both["gold"] = both["gold"].eq(True)
    rows = []
    for label in _label_order():
        b = both[both.label == label]
        tp = int((b.auto & b.gold).sum())
        fp = int((b.auto & ~b.gold).sum())
        fn = int((~b.auto & b.gold).sum())
        p = tp / (tp + fp) if tp + fp else np.nan
        r = tp / (tp + fn) if tp + fn else np.nan
        f1 = 2 * p * r / (p + r) if tp else (0.0 if fp + fn else np.nan)
        rows.append({"label": label, "gold_sentences": tp + fn, "auto_sentences": tp + fp,
                     "true_positive": tp, "precision": p, "recall": r, "f1": f1})
    out = pd.DataFrame(rows)
    out.attrs["sentences"] = len(u)
    return out


# --- agreement between coders -------------------------------------------------------------------

def ratings(segments_by_coder: dict[str, pd.DataFrame], notes: pd.DataFrame,
            sentences: pd.DataFrame | None = None
            ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Per coder, a sentences x labels table of True/False, and per dimension the one code each
    coder gave each sentence ("none" if none; the highest-ranked code if several).
    sentences: ``units(notes)``, as in ``precision_recall``."""
    u = units(notes) if sentences is None else sentences
    key = u[["note_id", "unit"]]
    binary = {}
    dims: dict[str, dict[str, pd.Series]] = {"WHO": {}, "FORM": {}, "ABSENCE": {}}
    for coder, seg in segments_by_coder.items():
        lab = unit_labels(seg[seg.note_id.isin(notes.note_id)], u)
        wide = (lab.assign(v=True).pivot_table(index=["note_id", "unit"], columns="label",
                                               values="v", aggfunc="any")
                .reindex(pd.MultiIndex.from_frame(key)).eq(True))
        binary[coder] = wide
        for dim, rank in (("WHO", _WHO_RANK), ("FORM", _FORM_RANK), ("ABSENCE", _ABS_RANK)):
            val = pd.Series("none", index=wide.index)
            for code in reversed(rank):
                if code in wide:
                    val[wide[code].to_numpy()] = code
            dims[dim][coder] = val
    labels = [lab for lab in _label_order() if any(lab in b for b in binary.values())]
    table = pd.concat({c: b.reindex(columns=labels, fill_value=False) for c, b in binary.items()},
                      axis=1)
    return table, {d: pd.DataFrame(v) for d, v in dims.items()}


def agreement(segments_by_coder: dict[str, pd.DataFrame], notes: pd.DataFrame, *,
              n_boot: int = 1000, seed: int = 0, sentences: pd.DataFrame | None = None
              ) -> pd.DataFrame:
    """Agreement per code and per dimension, for each pair of coders and (with three or more)
    for all of them together: units, prevalence, % agreement, Cohen's kappa (pairs), Fleiss'
    kappa, Krippendorff's alpha, with bootstrap 95% intervals (resampling sentences).
    sentences: ``units(notes)``, as in ``precision_recall``."""
    if len(segments_by_coder) < 2:
        raise ProjectError("agreement needs at least two coders")
    binary, dims = ratings(segments_by_coder, notes, sentences)
    coders = list(segments_by_coder)
    groups = [list(p) for p in combinations(coders, 2)]
    if len(coders) > 2:
        groups.append(coders)
    rng = np.random.default_rng(seed)
    rows = []
    for group in groups:
        name = " vs ".join(group) if len(group) == 2 else f"all {len(group)} coders"
        for label in binary.columns.get_level_values(1).unique():
            vals = pd.DataFrame({c: binary[(c, label)] for c in group})
            r = agreement_stats(vals, n_boot, rng)
            rows.append({"comparison": name, "level": "code", "code": label,
                         "prevalence": float(vals.to_numpy().mean())} | r)
        for dim, vals in dims.items():
            v = vals[group]
            r = agreement_stats(v, n_boot, rng)
            rows.append({"comparison": name, "level": "dimension", "code": dim,
                         "prevalence": float((v != "none").to_numpy().mean())} | r)
    cols = ["comparison", "level", "code", "units", "prevalence", "agreement", "cohen_kappa",
            "cohen_kappa_low", "cohen_kappa_high", "fleiss_kappa", "fleiss_kappa_low",
            "fleiss_kappa_high", "alpha", "alpha_low", "alpha_high"]
    return pd.DataFrame(rows).reindex(columns=cols)


def review_against_coder(auto: pd.DataFrame, human: pd.DataFrame, notes: pd.DataFrame, *,
                         n_boot: int = 1000, seed: int = 0) -> dict[str, pd.DataFrame]:
    """How the auto-coder compares with one person's coding (e.g. a REFI-QDA file coded in a
    QDA tool and read back with import_voice_coding): per code, agreement with bootstrap 95%
    intervals and the tool's precision and recall taking the person as right; and the tool's
    misses by label with example sentences, most frequent first, for the codebook's owners.

    Only notes the person coded are compared (a sample sent out for coding)."""
    coded = notes[notes.note_id.isin(human.note_id)]
    auto = auto[auto.note_id.isin(coded.note_id)]
    human = human[human.note_id.isin(coded.note_id)]
    u = units(coded)
    agree = agreement({"auto-coder": auto, "coder": human}, coded, n_boot=n_boot, seed=seed,
                      sentences=u)
    pr = precision_recall(auto, human, coded, u)
    a = unit_labels(auto, u).assign(auto=True)
    h = unit_labels(human, u).assign(coder=True)
    both = a.merge(h, on=["note_id", "unit", "label"], how="outer").merge(u, on=["note_id", "unit"])
    both["kind"] = np.where(both["auto"].eq(True) & both["coder"].eq(True), "agreed",
                            np.where(both["coder"].eq(True), "missed by the tool",
                                     "added by the tool"))
    texts = coded.set_index("note_id")["text"]
    rows = []
    for (label, kind), g in both[both.kind != "agreed"].groupby(["label", "kind"], sort=True):
        coder_n = int((both.label.eq(label) & both["coder"].eq(True)).sum())
        examples = [" ".join(texts[r.note_id][r.start:r.end].split()) for r in g.head(3).itertuples()]
        rows.append({"label": label, "kind": kind, "sentences": len(g),
                     "coder_sentences": coder_n, "examples": " | ".join(examples)})
    misses = pd.DataFrame(rows, columns=["label", "kind", "sentences", "coder_sentences", "examples"])
    order = {lab: i for i, lab in enumerate(_label_order())}
    misses = misses.sort_values(["sentences", "label"], ascending=[False, True],
                                key=lambda s: s.map(order) if s.name == "label" else s,
                                ignore_index=True)
    return {"agreement": agree, "precision_recall": pr, "misses": misses}
