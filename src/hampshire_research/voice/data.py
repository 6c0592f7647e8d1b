"""The case notes the voice analysis reads, and (on synthetic data only) the gold codes that
measure the auto-coder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import ProjectError
from ..params import SiteParams, resolve_data_dir
from ..paths import derived_dir
from ..vocabulary import is_synthetic
from .agreement import agreement, precision_recall, units

# gold notes scored at most, so the check costs the same at any scale: for full-scale Hampshire
# (95,721 gold notes) 10,000 took 3.8 s instead of 43 s, and no precision, recall, kappa or
# alpha moved by more than 0.01 from the whole set's; the sample has 989
GOLD_NOTES = 10_000


def load_notes(params: SiteParams, data_dir: str | Path = "",
               derived_root: str | Path = "") -> pd.DataFrame:
    """Canonical case notes (texts) with the child's first name (as that system records it, so
    the coder can tell the child from others) and date of birth (the linked child's best one).

    Columns: note_id, record_id, source, note_type, stage, date, author_role, text,
    child_first_name, dob. Builds the canonical and linked tables first if needed.
    """
    from ..build import build_site
    from ..sources.schemas import read_parquet
    from .coded import child_first_names

    data = resolve_data_dir(params, data_dir)
    tables = build_site(params, data, derived_root=derived_root or None)
    path = derived_dir(params.site, derived_root) / "canonical" / "texts.parquet"
    if not path.is_file():
        raise ProjectError("no canonical texts table (case notes)", path=path)
    texts = read_parquet(path)
    persons = tables["persons"].drop_duplicates("record_id").set_index("record_id")
    child = tables["record_map"].drop_duplicates("record_id").set_index("record_id")["child_id"]
    best_dob = tables["single_view"].drop_duplicates("child_id").set_index("child_id")["dob"]
    dob = texts["record_id"].map(child).map(best_dob)
    dob = dob.fillna(texts["record_id"].map(persons["dob"]))
    out = texts.rename(columns={"text_id": "note_id"}).assign(
        child_first_name=child_first_names(texts, tables["persons"]), dob=pd.to_datetime(dob))
    return out.sort_values("note_id", ignore_index=True)


def gold_codes(params: SiteParams, data_dir: str | Path = "") -> pd.DataFrame | None:
    """The generator's gold sentence codes, or None when the data is not synthetic.

    Truth is never an input to an analysis: this is read only to measure the auto-coder.
    """
    data = resolve_data_dir(params, data_dir)
    if not is_synthetic(data):
        return None
    path = data / "truth" / "voice_gold.csv"
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype={"note_id": str})


def evaluate_against_gold(notes: pd.DataFrame, auto: pd.DataFrame, gold: pd.DataFrame, *,
                          n_boot: int = 500, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Precision/recall/F1 and agreement (kappa, alpha) of the auto-coder with the gold codes,
    on the notes that have gold codes (the generator codes a sample of its notes), at most
    ``GOLD_NOTES`` of them drawn at random."""
    scored = notes[notes.note_id.isin(gold.note_id)]
    counts = {"notes with gold codes": len(scored)}
    if len(scored) > GOLD_NOTES:
        scored = scored.sample(n=GOLD_NOTES, random_state=seed).sort_index()
        counts["notes scored (drawn at random)"] = GOLD_NOTES
    sentences = units(scored)  # split once: both measures score the same sentences
    pr = precision_recall(auto, gold, scored, sentences)
    agree = agreement({"auto-coder": auto[auto.note_id.isin(scored.note_id)],
                       "gold": gold[gold.note_id.isin(scored.note_id)]}, scored,
                      n_boot=n_boot, seed=seed, sentences=sentences)
    return {"notes": pd.DataFrame({"measure": [*counts, "sentences"],
                                   "value": [*counts.values(), pr.attrs["sentences"]]}),
            "precision_recall": pr, "agreement": agree}
