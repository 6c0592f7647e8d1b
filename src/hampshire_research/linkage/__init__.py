"""Single view of the child: probabilistic linkage of person records across the sources.

A Fellegi-Sunter model (Splink) over the canonical person records of every source at once,
linking across sources and deduplicating within each. Parameters are estimated without
labels (u by seeded random sampling, m by EM), because a council has no truth; the truth key
of synthetic data is used only to measure quality, never to fit.
"""

from __future__ import annotations

import pandas as pd

from .model import prepare_records, score
from .quality import cluster, evaluate, expected_f1_threshold, tradeoff
from .site import format_blocking, format_summary, link_site, load_linked

__all__ = ["cluster", "evaluate", "expected_f1_threshold", "format_blocking", "format_summary",
           "link_records", "link_site", "load_linked", "prepare_records", "score", "tradeoff"]


def link_records(records: pd.DataFrame, *, backend: str = "duckdb",
                 threshold: float | None = None, seed: int = 0) -> pd.DataFrame:
    """Link any canonical person records: record_id, child_id (and source when given).

    Records need record_id and any of first_name, surname, dob, sex, postcode, upn,
    nhs_number; fields with no values are left out of the model. The threshold, unless
    given, is the model's (see `Scored.threshold`).
    """
    scored = score(records, backend=backend, seed=seed)
    if threshold is None:
        threshold = scored.threshold
    clusters = cluster(records["record_id"], scored.pairs, threshold)
    cols = ["record_id", "child_id"]
    if "source" in records.columns:
        clusters = clusters.merge(records[["record_id", "source"]].astype({"record_id": str}),
                                  on="record_id")
        cols = ["source", *cols]
    return clusters[cols].sort_values("record_id", kind="stable").reset_index(drop=True)
