"""Time to first referral from the start of Year 5: Kaplan-Meier curves with delayed entry
for joiners, and log-rank tests across subgroups."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from .cohort import SUBGROUPS, Cohort
from .tables import numbers

Z95 = stats.norm.ppf(0.975)


def first_referral_times(cohort: Cohort, referrals_all: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Months from the start of Year 5 to first referral, with delayed entry for joiners.

    Time is months since September of Year 5 (0 = start); a referral in month t counts at
    t + 1. Follow-up ends after the child's last follow-up month. Children with a referral
    before their follow-up starts are not at risk of a first referral and are left out
    (returned count).
    """
    ch = cohort.children.set_index("child_id")
    start = (ch["transfer_year"] * 12 + 8 - 24)  # month index of September of Year 5
    r = referrals_all[referrals_all["child_id"].isin(ch.index)][["child_id", "month"]]
    r = r.assign(t=r["month"] - r["child_id"].map(start))
    entry = ch["entry_rel"] + 24
    exit_ = ch["exit_rel"] + 24
    before = r[r["t"] < r["child_id"].map(entry)]["child_id"].unique()
    within = r[(r["t"] >= r["child_id"].map(entry)) & (r["t"] < r["child_id"].map(exit_))]
    first = within.groupby("child_id")["t"].min() + 1
    out = ch.assign(entry=entry, time=exit_, status=0)
    out.loc[first.index, "time"] = first
    out.loc[first.index, "status"] = 1
    out = out.drop(index=before).reset_index()
    return out, len(before)


def _km_at(time, status, entry, times) -> pd.DataFrame:
    sf = SurvfuncRight(np.asarray(time, float), np.asarray(status, float),
                       entry=np.asarray(entry, float))
    rows = []
    for t in times:
        i = np.searchsorted(sf.surv_times, t, side="right") - 1
        s = sf.surv_prob[i] if i >= 0 else 1.0
        se = sf.surv_prob_se[i] if i >= 0 else 0.0
        if 0 < s < 1 and se > 0:  # interval on log(-log S), kept inside (0, 1)
            half = Z95 * se / (s * abs(np.log(s)))
            lo_s, hi_s = s ** np.exp(half), s ** np.exp(-half)
        else:
            lo_s = hi_s = s
        rows.append({"months_since_year5": t,
                     "at_risk": int(((entry <= t) & (time > t)).sum()),
                     "first_referrals": int(((time <= t) & (status == 1)).sum()),
                     "cum_incidence_pct": 100 * (1 - s), "ci_lower": 100 * (1 - hi_s),
                     "ci_upper": 100 * (1 - lo_s)})
    return pd.DataFrame(rows)


def km_first_referral(times_df: pd.DataFrame, times=range(0, 49, 4)) -> pd.DataFrame:
    """Kaplan-Meier cumulative incidence of first referral, overall and by subgroup."""
    parts = [_km_at(times_df["time"], times_df["status"], times_df["entry"], times)
             .assign(subgroup="All", level="All")]
    for s in SUBGROUPS:
        for level, g in times_df.groupby(s, observed=True):
            parts.append(_km_at(g["time"], g["status"], g["entry"], times)
                         .assign(subgroup=s, level=level))
    out = pd.concat(parts, ignore_index=True)
    return out[["subgroup", "level", *[c for c in out.columns if c not in ("subgroup", "level")]]]


def logrank_tests(times_df: pd.DataFrame) -> pd.DataFrame:
    """Log-rank test (with delayed entry) of first-referral curves across each subgroup."""
    rows = []
    for s in SUBGROUPS:
        k = times_df[s].nunique()
        if k < 2:
            continue
        chi2, p = survdiff(times_df["time"].to_numpy(float), times_df["status"].to_numpy(float),
                           times_df[s].astype(str).to_numpy(),
                           entry=times_df["entry"].to_numpy(float))
        rows.append({"subgroup": s, "chi2": float(chi2), "df": k - 1, "p_value": float(p),
                     "children": len(times_df), "first_referrals": int(times_df["status"].sum())})
    return pd.DataFrame(rows)


def plot_km(table: pd.DataFrame, subgroup: str, title: str):
    """Cumulative share with a first referral since the start of Year 5, one step line per level."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for level, g in table[table["subgroup"] == subgroup].groupby("level", sort=False):
        ax.step(g["months_since_year5"], numbers(g["cum_incidence_pct"]), where="post",
                label=str(level))
    ax.axvline(24, color="grey", linestyle=":", linewidth=1)
    ax.annotate("start of Year 7", (24, 0), xytext=(3, 3), textcoords="offset points",
                color="grey", fontsize=8)
    ax.set(title=title, xlabel="Months since the start of Year 5",
           ylabel="Children with a first referral (%)")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig
