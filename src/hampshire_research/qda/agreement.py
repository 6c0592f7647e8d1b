"""One agreement engine for every kind of qualitative coding (case-note sentences, transcript
turns): a units x coders table of codes in, kappa and alpha with bootstrap intervals out.

Cohen's and Fleiss' kappa come from statsmodels and Krippendorff's alpha from krippendorff; the
bootstrap resamples units, drawing how often each pattern of ratings recurs from a multinomial,
so every replicate is one matrix product rather than a new table.
"""

from __future__ import annotations

import warnings

import krippendorff
import numpy as np
import pandas as pd
from statsmodels.stats.inter_rater import cohens_kappa, fleiss_kappa

from ..codes import distinct_rows


def _encode(values: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Each code as its position among the sorted codes."""
    raw = values.to_numpy()
    cats = sorted(set(raw.ravel()))
    codes = pd.Categorical(raw.ravel(), categories=cats).codes.astype(np.int64)
    return codes.reshape(raw.shape), len(cats)


def _category_counts(codes: np.ndarray, k: int) -> np.ndarray:
    """Units x categories: how many coders gave each code (statsmodels' aggregate_raters,
    which loops over the units in Python, as one array comparison)."""
    return (codes[:, :, None] == np.arange(k)).sum(axis=1)


def _stats_from_patterns(patterns: np.ndarray, counts: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Cohen's kappa (first two coders), Fleiss' kappa and nominal alpha for weighted rating
    patterns; counts is (replicates x patterns), so a bootstrap is one matrix product."""
    m = patterns.shape[1]
    onehot = _category_counts(patterns, k)  # patterns x k
    n = counts.sum(axis=1, keepdims=True).astype(float)
    # Cohen's kappa between the first two coders
    conf = np.zeros((patterns.shape[0], k, k))
    conf[np.arange(len(patterns)), patterns[:, 0], patterns[:, 1]] = 1
    c = np.einsum("bp,pij->bij", counts, conf) / n[:, :, None]
    po = np.trace(c, axis1=1, axis2=2)
    pe = (c.sum(axis=2) * c.sum(axis=1)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cohen = (po - pe) / (1 - pe)
        # Fleiss
        p_i = ((onehot ** 2).sum(axis=1) - m) / (m * (m - 1))
        pbar = counts @ p_i / n[:, 0]
        pj = counts @ onehot / (n * m)
        pej = (pj ** 2).sum(axis=1)
        fleiss = (pbar - pej) / (1 - pej)
        # Krippendorff's alpha, nominal: coincidences within each unit
        coinc = (onehot[:, :, None] * onehot[:, None, :] - np.eye(k) * onehot[:, :, None]) / (m - 1)
        o = np.einsum("bp,pij->bij", counts, coinc)
        nc = o.sum(axis=2)
        ntot = nc.sum(axis=1)
        do = o.sum(axis=(1, 2)) - np.trace(o, axis1=1, axis2=2)
        de = (ntot ** 2 - (nc ** 2).sum(axis=1)) / (ntot - 1)
        alpha = 1 - do / de
    return {"cohen": cohen, "fleiss": fleiss, "alpha": alpha}


def _patterns(codes: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of codes in sorted order (np.unique's, axis 0) and how often each
    occurs, by ``codes.distinct_rows``: np.unique over rows is slow on a county's sentences."""
    digits, inverse = distinct_rows(list(codes.T), [k] * codes.shape[1])
    return np.column_stack(digits), np.bincount(inverse, minlength=len(digits[0]))


def agreement_stats(values: pd.DataFrame, n_boot: int, rng: np.random.Generator) -> dict:
    """How far the coders (columns) agree on the units (rows): units, agreement (share of units
    where all agree), Cohen's kappa (two coders), Fleiss' kappa and Krippendorff's alpha, each
    with a bootstrap 95% interval (``<name>_low``, ``<name>_high``) over units. NaN where a
    statistic is undefined (everyone gave one value on every unit)."""
    codes, k = _encode(values)
    patterns, counts = _patterns(codes, k)
    n = len(codes)
    row = {"units": n, "agreement": float((codes == codes[:, :1]).all(axis=1).mean())}
    if k < 2:  # everyone said the same thing on every unit: agreement is perfect, kappa undefined
        return row | {"cohen_kappa": np.nan, "fleiss_kappa": np.nan, "alpha": np.nan}
    if codes.shape[1] == 2:
        table = pd.crosstab(codes[:, 0], codes[:, 1]).reindex(index=range(k), columns=range(k),
                                                              fill_value=0)
        with warnings.catch_warnings():  # its asymptotic variance is nan at kappa 1; unused
            warnings.simplefilter("ignore", RuntimeWarning)
            row["cohen_kappa"] = float(cohens_kappa(table.to_numpy()).kappa)
    row["fleiss_kappa"] = float(fleiss_kappa(_category_counts(codes, k), method="fleiss"))
    row["alpha"] = float(krippendorff.alpha(reliability_data=codes.T,
                                             level_of_measurement="nominal"))
    boot = _stats_from_patterns(patterns, rng.multinomial(n, counts / n, size=n_boot), k)
    for name, col in (("cohen", "cohen_kappa"), ("fleiss", "fleiss_kappa"), ("alpha", "alpha")):
        if col in row:
            lo, hi = np.nanpercentile(boot[name], [2.5, 97.5])
            row[f"{col}_low"], row[f"{col}_high"] = float(lo), float(hi)
    return row
