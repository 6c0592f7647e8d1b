"""Confidence intervals for published rates and shares (statsmodels' exact methods)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import confint_poisson


def poisson_rate_ci(events, person_years, per: float = 10_000) -> pd.DataFrame:
    """Rate per ``per`` person-years with the exact (Garwood) 95% interval; NaN without
    person-time."""
    k = np.asarray(events, dtype=float)
    py = np.asarray(person_years, dtype=float)
    lo, hi = confint_poisson(k, 1.0, method="exact-c", alpha=0.05)  # of the count
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(py > 0, per / py, np.nan)
    return pd.DataFrame({"rate_per_10k": k * scale, "ci_lower": lo * scale, "ci_upper": hi * scale})


def proportion_ci(k, n) -> pd.DataFrame:
    """Percentage with the exact (Clopper-Pearson) 95% interval; NaN where n is 0."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    safe = np.where(n > 0, n, 1)
    lo, hi = proportion_confint(k, safe, alpha=0.05, method="beta")
    ok = n > 0
    return pd.DataFrame({"pct": np.where(ok, 100 * k / safe, np.nan),
                         "ci_lower": np.where(ok, 100 * np.nan_to_num(lo), np.nan),
                         "ci_upper": np.where(ok, 100 * np.nan_to_num(hi, nan=1.0), np.nan)})
