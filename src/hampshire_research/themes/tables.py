"""How each table of the thematic analysis (notebook 06) is protected: its count columns and
what rests on them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..params import SiteParams

_FREQUENCIES = {"counts": ["turns", "participants", "sessions", "group_turns",
                           "group_participants"],
                "derived": {"pct_turns": ["turns", "group_turns"],
                            "pct_participants": ["participants", "group_participants"]}}
TABLES = {
    "themes_participants": {"counts": ["participants", "sessions", "turns"]},
    "themes_codebook": {"counts": []},
    "themes_agreement": {"counts": ["units", "coded_a", "coded_b", "both"],
                         "derived": {"precision": ["coded_a", "both"], "recall": ["coded_b", "both"],
                                     "f1": ["coded_a", "coded_b", "both"]}},
    "themes_by_role": _FREQUENCIES,
    "themes_by_session_group": _FREQUENCIES,
    "themes_cooccurrence": {"counts": ["turns_both", "turns_a", "turns_b"]},
    "themes_quotes": {"counts": []},
    "themes_anonymisation": {"counts": ["turns", "withheld"]},
}


FAMILIES: list = []  # declared below once the audit has run on this page


def publish(df: pd.DataFrame, name: str, params: SiteParams, out_dir: Path | None = None
            ) -> pd.DataFrame:
    """Publish one of this analysis's tables (``TABLES``) through disclosure control."""
    from ..publish import publish_table

    return publish_table(df, name, params, out_dir=out_dir, **TABLES[name])
