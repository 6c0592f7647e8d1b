"""The one agreement engine: the same kappa and alpha as statsmodels and krippendorff, bootstrap
intervals that hold the estimate and repeat with the seed, undefined where nothing varies."""

import krippendorff
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from hampshire_research.qda import agreement_stats


def test_two_coders_match_the_libraries_and_the_interval_repeats():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 2, 300)
    b = np.where(rng.random(300) < 0.8, a, 1 - a)  # agree on about 80% of units
    values = pd.DataFrame({"a": a, "b": b})
    row = agreement_stats(values, 500, np.random.default_rng(0))
    table = pd.crosstab(a, b).to_numpy()
    assert row["units"] == 300 and row["agreement"] == pytest.approx((a == b).mean())
    assert row["cohen_kappa"] == pytest.approx(cohens_kappa(table).kappa)
    assert row["alpha"] == pytest.approx(krippendorff.alpha(reliability_data=values.T.to_numpy(),
                                                            level_of_measurement="nominal"))
    assert row["cohen_kappa_low"] < row["cohen_kappa"] < row["cohen_kappa_high"]
    assert row["alpha_low"] < row["alpha"] < row["alpha_high"]
    assert agreement_stats(values, 500, np.random.default_rng(0)) == row


def test_nothing_varies_so_kappa_is_undefined():
    row = agreement_stats(pd.DataFrame({"a": [0, 0, 0], "b": [0, 0, 0]}), 50,
                          np.random.default_rng(0))
    assert row["agreement"] == 1.0 and np.isnan(row["cohen_kappa"]) and np.isnan(row["alpha"])


def test_category_counts_are_statsmodels_aggregate_raters():
    from statsmodels.stats.inter_rater import aggregate_raters

    from hampshire_research.qda.agreement import _category_counts, _encode

    rng = np.random.default_rng(3)
    values = pd.DataFrame(rng.choice(["a", "b", "none"], size=(500, 3)))
    codes, k = _encode(values)
    assert k == 3 and codes[0, 0] == ["a", "b", "none"].index(values.iat[0, 0])
    np.testing.assert_array_equal(_category_counts(codes, k), aggregate_raters(codes, n_cat=k)[0])


@pytest.mark.parametrize("coders, k", [(2, 2), (2, 9), (3, 4), (5, 3)])
def test_rating_patterns_are_numpys_distinct_rows(coders, k):
    """The bootstrap's patterns and counts, read as base-k numbers, are np.unique's rows."""
    from hampshire_research.qda.agreement import _patterns

    codes = np.random.default_rng(coders * k).integers(0, k, (2000, coders))
    patterns, counts = _patterns(codes, k)
    expected, inverse = np.unique(codes, axis=0, return_inverse=True)
    assert (patterns == expected).all()
    assert (counts == np.bincount(inverse.ravel())).all() and counts.sum() == 2000
