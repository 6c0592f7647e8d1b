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


def _edges(ids: pd.Index, pairs: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    return (ids.get_indexer(pairs["record_id_l"]), ids.get_indexer(pairs["record_id_r"]))


def _labels(n: int, left: np.ndarray, right: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Connected-component label of each record, using the kept edges."""
    graph = coo_matrix((np.ones(int(keep.sum())), (left[keep], right[keep])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def cluster(record_ids: pd.Series, pairs: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Connected components of the pairs at or above `threshold`.

    Returns record_id, child_id and match_probability: the strongest link that joined the
    record to its cluster (empty for a record linked to nothing).
    """
    ids = pd.Index(np.sort(record_ids.astype(str).unique()))
    left, right = _edges(ids, pairs)
    keep = pairs["match_probability"].to_numpy() >= threshold
    labels = _labels(len(ids), left, right, keep)
    # ids are sorted, so the first record of each label is the smallest record_id in it
    first = pd.Series(np.arange(len(ids))).groupby(labels).transform("min").to_numpy()
    names = ids.to_numpy(dtype=object)
    roots = {i: child_id_for(names[i]) for i in np.unique(first)}
    out = pd.DataFrame({"record_id": names, "child_id": [roots[i] for i in first]})
    prob = pairs["match_probability"].to_numpy()[keep]
    best = np.full(len(ids), np.nan)
    np.fmax.at(best, left[keep], prob)
    np.fmax.at(best, right[keep], prob)
    out["match_probability"] = best
    return out


def _pairs_in(sizes: np.ndarray) -> int:
    s = sizes.astype(np.int64)
    return int((s * (s - 1) // 2).sum())


def _scores(pred: np.ndarray, true: np.ndarray) -> dict:
    """Pairwise and B-cubed measures from two integer labellings of the same records."""
    _, pred = np.unique(pred, return_inverse=True)
    _, true = np.unique(true, return_inverse=True)
    cell = pred.astype(np.int64) * (true.max() + 1 if len(true) else 1) + true
    _, cell_idx, cell_n = np.unique(cell, return_index=True, return_counts=True)
    pred_n, true_n = np.bincount(pred), np.bincount(true)
    tp, pp, tpairs = _pairs_in(cell_n), _pairs_in(pred_n), _pairs_in(true_n)
    precision = tp / pp if pp else 1.0
    recall = tp / tpairs if tpairs else 1.0
    # B-cubed: each record's share of its predicted cluster that is truly its child, and of its
    # true child that is in its predicted cluster, averaged over records.
    n = len(pred)
    b_precision = float((cell_n ** 2 / pred_n[pred[cell_idx]]).sum() / n) if n else 1.0
    b_recall = float((cell_n ** 2 / true_n[true[cell_idx]]).sum() / n) if n else 1.0
    return {
        "records_scored": n, "true_pairs": tpairs, "predicted_pairs": pp,
        "true_positive_pairs": tp,
        "precision": round(precision, 6), "recall": round(recall, 6),
        "f1": round(_f1(precision, recall), 6),
        "bcubed_precision": round(b_precision, 6), "bcubed_recall": round(b_recall, 6),
        "bcubed_f1": round(_f1(b_precision, b_recall), 6),
        "children_predicted": int(len(pred_n)), "children_true": int(len(true_n)),
    }


def evaluate(predicted: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """Pairwise and B-cubed precision, recall and F1 of predicted child_ids against the truth.

    Both frames hold record_id and child_id; only records present in both are scored and the
    others are counted, never silently left out.
    """
    both = predicted[["record_id", "child_id"]].merge(
        truth[["record_id", "child_id"]], on="record_id", suffixes=("_pred", "_true"))
    q = _scores(pd.factorize(both["child_id_pred"])[0], pd.factorize(both["child_id_true"])[0])
    q["records_not_in_truth"] = int(len(predicted) - len(both))
    q["truth_records_not_linked"] = int(len(truth) - len(both))
    return q


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


THRESHOLDS = (0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 0.9999)


def expected_f1_threshold(pairs: pd.DataFrame, thresholds=THRESHOLDS) -> float:
    """The threshold with the best F1 expected from the model's own match probabilities (a
    pair at p is a match with probability p), so no labels are needed. It moves as the prior
    falls with a larger county, where a fixed threshold would lose recall."""
    p = pairs["match_probability"].to_numpy()
    expected_true = p.sum()
    return max(thresholds, key=lambda t: 2 * p[p >= t].sum() / ((p >= t).sum() + expected_true))


def tradeoff(record_ids: pd.Series, pairs: pd.DataFrame, truth: pd.DataFrame | None,
             thresholds=THRESHOLDS) -> pd.DataFrame:
    """Children, links and (with truth) quality at each match-probability threshold."""
    ids = pd.Index(np.sort(record_ids.astype(str).unique()))
    left, right = _edges(ids, pairs)
    prob = pairs["match_probability"].to_numpy()
    if truth is not None:
        true = pd.Series(pd.factorize(truth["child_id"])[0], index=truth["record_id"].to_numpy())
        true = true.reindex(ids).to_numpy()
        scored = ~np.isnan(true)
    rows = []
    for t in thresholds:
        labels = _labels(len(ids), left, right, prob >= t)
        row = {"threshold": t, "children": int(len(np.unique(labels))),
               "links": int((prob >= t).sum())}
        if truth is not None:
            q = _scores(labels[scored], true[scored].astype(np.int64))
            row |= {k: q[k] for k in ("precision", "recall", "f1", "bcubed_precision",
                                       "bcubed_recall", "bcubed_f1")}
        rows.append(row)
    return pd.DataFrame(rows)
