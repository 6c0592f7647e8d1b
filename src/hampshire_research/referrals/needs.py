"""For commissioning: factors identified at assessment, grouped into themes, by age band and
district."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..params import SiteParams
from ..vocabulary import AGE_BAND_NAMES, ASSESSMENT_FACTORS, age_band, age_in_years
from .cohort import select_events, term_first_month
from .tables import numbers


def needs_profile(timeline: pd.DataFrame, single_view: pd.DataFrame,
                  school_terms: pd.DataFrame, params: SiteParams) -> pd.DataFrame:
    """Factors identified at assessment (grouped into themes) by age band and district.

    All assessments in the study window, not just the cohort's: age at the assessment from
    the single view's date of birth; district from the child's latest school census term
    on or before it ("Not known" before school age or out of school); "All districts" rows
    give each age band's profile. Every factor has a row for every age band and district.
    """
    a = select_events(timeline, "assessment", "csc")
    first, last = params.study_window.first_academic_year, params.study_window.last_academic_year
    a = a[(a["start_date"] >= f"{first}-09-01") & (a["start_date"] < f"{last + 1}-09-01")]
    dob = pd.to_datetime(a["child_id"].map(single_view.set_index("child_id")["dob"]),
                         errors="coerce")
    age = age_in_years(dob, a["start_date"])
    a = a.assign(age_band=age_band(age))
    t = school_terms[["child_id", "academic_year", "term", "district"]].copy()
    t["month"] = term_first_month(t)
    t = t.sort_values("month")
    a = pd.merge_asof(a.sort_values("month"), t[["child_id", "month", "district"]],
                      on="month", by="child_id", direction="backward")
    a["district"] = a["district"].fillna("Not known")
    a = pd.concat([a, a.assign(district="All districts")], ignore_index=True)
    codes = a[["event_id", "age_band", "district", "factors"]].assign(
        factor=a["factors"].fillna("").astype(str).str.split(",")).explode("factor")
    codes["factor"] = codes["factor"].str.strip().str.extract(r"^(\d+)", expand=False).map(
        ASSESSMENT_FACTORS)
    codes = codes.dropna(subset=["factor"]).drop_duplicates(["event_id", "district", "factor"])
    n = a.groupby(["age_band", "district"]).size().rename("assessments")
    # every factor for every age band and district, zeros written: a row's existence says
    # nothing about whether a child has that factor
    grid = pd.MultiIndex.from_tuples([(b, d, f) for b, d in n.index
                                      for f in sorted(set(ASSESSMENT_FACTORS.values()))],
                                     names=["age_band", "district", "factor"])
    k = (codes.groupby(["age_band", "district", "factor"]).size()
         .reindex(grid, fill_value=0).rename("assessments_with_factor"))
    out = k.reset_index().merge(n.reset_index(), on=["age_band", "district"])
    out["pct"] = 100 * out["assessments_with_factor"] / out["assessments"]
    order = {b: i for i, b in enumerate(AGE_BAND_NAMES)}
    return (out.assign(o=out["age_band"].map(order).fillna(99))
            .sort_values(["o", "district", "factor"]).drop(columns="o").reset_index(drop=True))


def plot_needs(table: pd.DataFrame, title: str):
    """Heat map: share of assessments with each factor theme, by age band (all districts)."""
    t = table[table["district"] == "All districts"]
    t = t.assign(v=numbers(t["pct"]), hidden=t["pct"].astype(str).isin(["c"]).astype(float))
    bands = [b for b in AGE_BAND_NAMES if b in set(t["age_band"])]
    grid = t.pivot(index="factor", columns="age_band", values="v").reindex(columns=bands)
    hidden = (t.pivot(index="factor", columns="age_band", values="hidden")
              .reindex(index=grid.index, columns=bands).fillna(0).to_numpy() > 0)
    values = grid.to_numpy(dtype=float)
    values[np.isnan(values) & ~hidden] = 0.0  # no assessment with that factor
    order = np.argsort(-np.nan_to_num(values).mean(axis=1), kind="stable")
    values, hidden, factors = values[order], hidden[order], grid.index[order]
    fig, ax = plt.subplots(figsize=(7, 0.32 * len(factors) + 1.5))
    ax.imshow(np.nan_to_num(values), aspect="auto", cmap="Blues", vmin=0)
    for (i, j), v in np.ndenumerate(values):
        ax.text(j, i, "c" if hidden[i, j] else f"{v:.0f}", ha="center", va="center", fontsize=7)
    ax.set_xticks(range(len(bands)), bands)
    ax.set_yticks(range(len(factors)), factors, fontsize=8)
    ax.set(title=title, xlabel="Age band (years)")
    fig.tight_layout()
    return fig
