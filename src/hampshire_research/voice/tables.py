"""How each table of the voice analysis (notebook 04) is protected: its count columns, what
rests on them, and the groups whose totals are published (for secondary suppression)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..params import SiteParams
from .coverage import BREAKDOWNS

_COVERAGE = {"counts": ["records", "n"],
             "derived": {"percent": ["n", "records"], "ci_low": ["n", "records"],
                         "ci_high": ["n", "records"]}}
TABLES = {
    "voice_codes_applied": {"counts": ["sentences", "records"]},
    "voice_autocoder_accuracy": {
        "counts": ["gold_sentences", "auto_sentences", "true_positive"],
        "derived": {"precision": ["auto_sentences", "true_positive"],
                    "recall": ["gold_sentences", "true_positive"],
                    "f1": ["gold_sentences", "auto_sentences", "true_positive"]}},
    "voice_agreement_auto_gold": {"counts": ["units"]},
    "voice_coverage_overall": _COVERAGE,
    **{name: {**_COVERAGE, "within": ["measure"]} for name in BREAKDOWNS.values()},
    "voice_opportunities": {
        "counts": ["records", "n", "silent_n"],
        "derived": {**_COVERAGE["derived"], "silent_percent": ["silent_n", "records"]}},
}


def publish(df: pd.DataFrame, name: str, params: SiteParams, out_dir: Path | None = None
            ) -> pd.DataFrame:
    """Publish one of this analysis's tables (``TABLES``) through disclosure control."""
    from ..publish import publish_table

    return publish_table(df, name, params, out_dir=out_dir, **TABLES[name])
