"""Clusters from scored pairs, and how good they are against a truth key when one exists."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def child_id_for(record_id: str) -> str:
    """A child's id is a hash of the smallest record_id in its cluster: stable across runs and
    engines, and carrying no UPN or name (school census record ids contain the UPN)."""
    return "C" + hashlib.sha256(record_id.encode()).hexdigest()[:15].upper()


def cluster(record_ids: pd.Series, pairs: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Connected components of the pairs at or above `threshold`.

    Returns record_id, child_id and match_probability: the strongest link that joined the
    record to its cluster (empty for a record linked to nothing).
    """
    ids = np.sort(record_ids.astype(str).unique())
    links = pairs[pairs["match_probability"] >= threshold]
    left = np.searchsorted(ids, links["record_id_l"].to_numpy(dtype=str))
    right = np.searchsorted(ids, links["record_id_r"].to_numpy(dtype=str))
    n = len(ids)
    graph = coo_matrix((np.ones(len(links)), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    # ids are sorted, so the first record of each label is the smallest record_id in it
    first = pd.Series(np.arange(n)).groupby(labels).transform("min").to_numpy()
    out = pd.DataFrame({"record_id": ids, "child_id": [child_id_for(i) for i in ids[first]]})
    best = pd.concat([
        links[["record_id_l", "match_probability"]].rename(columns={"record_id_l": "record_id"}),
        links[["record_id_r", "match_probability"]].rename(columns={"record_id_r": "record_id"}),
    ]).groupby("record_id")["match_probability"].max()
    out["match_probability"] = out["record_id"].map(best)
    return out


def _pairs_in(sizes: pd.Series) -> int:
    s = sizes.to_numpy(dtype=np.int64)
    return int((s * (s - 1) // 2).sum())


def evaluate(predicted: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Pairwise and B-cubed precision, recall and F1 of predicted child_ids against the truth.

    Both frames hold record_id and child_id; only records present in both are scored and the
    others are counted, never silently left out.
    """
    both = predicted[["record_id", "child_id"]].merge(
        truth[["record_id", "child_id"]], on="record_id", suffixes=("_pred", "_true"))
    cells = both.groupby(["child_id_pred", "child_id_true"]).size()
    pred_sizes = both.groupby("child_id_pred").size()
    true_sizes = both.groupby("child_id_true").size()
    tp = _pairs_in(cells)
    pp, tpairs = _pairs_in(pred_sizes), _pairs_in(true_sizes)
    precision = tp / pp if pp else 1.0
    recall = tp / tpairs if tpairs else 1.0
    # B-cubed: each record's share of its predicted cluster that is truly its child, and of its
    # true child that is in its predicted cluster, averaged over records.
    c = cells.rename("n").reset_index()
    c["pred_n"] = c["child_id_pred"].map(pred_sizes)
    c["true_n"] = c["child_id_true"].map(true_sizes)
    n = len(both)
    b_precision = float((c["n"] ** 2 / c["pred_n"]).sum() / n) if n else 1.0
    b_recall = float((c["n"] ** 2 / c["true_n"]).sum() / n) if n else 1.0
    return {
        "records_scored": n,
        "records_not_in_truth": int(len(predicted) - n),
        "truth_records_not_linked": int(len(truth) - n),
        "true_pairs": tpairs,
        "predicted_pairs": pp,
        "true_positive_pairs": tp,
        "precision": round(precision, 6),
        "recall": round(recall, 6),
        "f1": round(_f1(precision, recall), 6),
        "bcubed_precision": round(b_precision, 6),
        "bcubed_recall": round(b_recall, 6),
        "bcubed_f1": round(_f1(b_precision, b_recall), 6),
        "children_predicted": int(len(pred_sizes)),
        "children_true": int(len(true_sizes)),
    }


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999)


def tradeoff(record_ids: pd.Series, pairs: pd.DataFrame, truth: pd.DataFrame | None,
             thresholds=THRESHOLDS) -> pd.DataFrame:
    """Children, linked records and (with truth) quality at each match-probability threshold."""
    rows = []
    for t in thresholds:
        clusters = cluster(record_ids, pairs, t)
        row = {"threshold": t, "children": int(clusters["child_id"].nunique()),
               "links": int((pairs["match_probability"] >= t).sum())}
        if truth is not None:
            q = evaluate(clusters, truth)
            row |= {k: q[k] for k in ("precision", "recall", "f1", "bcubed_precision",
                                       "bcubed_recall", "bcubed_f1")}
        rows.append(row)
    return pd.DataFrame(rows)
