"""Where referrals come from: DfE referral source groups before and after transfer, by
school month, and schools' share of first referrals."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..vocabulary import MONTH_NAMES, REFERRAL_SOURCE_GROUPS
from ..vocabulary import referral_source_group as source_group
from .cohort import transfer_period
from .intervals import proportion_ci
from .tables import numbers

SOURCE_GROUP_ORDER = list(REFERRAL_SOURCE_GROUPS.values())


def _levels(values: pd.Series) -> list:
    """Levels in their natural order: a categorical's own order, else sorted."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return [c for c in values.cat.categories if (values == c).any()]
    return sorted(values.unique())


def source_mix(referrals: pd.DataFrame, by: str) -> pd.DataFrame:
    """Referrals by source group within each level of ``by``, with the share of that level."""
    r = referrals.assign(source_group=source_group(referrals["referral_source"]))
    levels = _levels(r[by])
    grid = pd.MultiIndex.from_product([levels, SOURCE_GROUP_ORDER], names=[by, "source_group"])
    n = (r.assign(**{by: r[by].astype(object)}).groupby([by, "source_group"]).size()
         .reindex(grid, fill_value=0).rename("referrals"))
    out = n.reset_index()
    out["pct"] = 100 * out["referrals"] / out.groupby(by)["referrals"].transform("sum")
    return out


def source_mix_by_period(referrals: pd.DataFrame) -> pd.DataFrame:
    r = referrals.assign(period=transfer_period(referrals["rel_month"]))
    return source_mix(r, "period")


def source_codes_by_period(referrals: pd.DataFrame) -> pd.DataFrame:
    """Referral source codes one by one (so 5D early help can be read apart)."""
    r = referrals.assign(period=transfer_period(referrals["rel_month"]),
                         referral_source=referrals["referral_source"].fillna("missing"))
    r["source_group"] = source_group(r["referral_source"])
    return (r.groupby(["period", "referral_source", "source_group"], observed=True).size()
            .rename("referrals").reset_index())


def source_mix_by_school_month(referrals: pd.DataFrame) -> pd.DataFrame:
    out = source_mix(referrals, "school_month")
    out.insert(1, "month_name", [MONTH_NAMES[(m + 7) % 12] for m in out["school_month"]])
    return out


def first_referral_school_share(referrals: pd.DataFrame, referrals_all: pd.DataFrame
                                ) -> pd.DataFrame:
    """Of children whose first referral falls in an autumn term of follow-up, share from schools.

    First means the child's first referral in the data (``referrals_all``), as in the
    Kaplan-Meier: a child referred before follow-up began is not counted. Year 7's autumn term
    is the first term at the new secondary school; the other autumn terms set it in context.
    """
    order = ["child_id", "start_date", "event_id"]
    firsts = referrals_all.dropna(subset=["child_id"]).sort_values(order).groupby("child_id").head(1)
    first = referrals[referrals["event_id"].isin(firsts["event_id"])]
    first = first[first["term"] == "autumn"]
    labels = {5: "Year 5 autumn term", 6: "Year 6 autumn term",
              7: "Year 7 autumn term (first term of secondary school)", 8: "Year 8 autumn term"}
    rows = []
    for ncy, label in labels.items():
        f = first[first["ncy"] == ncy]
        rows.append({"term": label, "first_referrals": len(f),
                     "from_schools": int((source_group(f["referral_source"]) == "Schools").sum())})
    out = pd.DataFrame(rows)
    return pd.concat([out, proportion_ci(out["from_schools"], out["first_referrals"])], axis=1)


def plot_source_mix(table: pd.DataFrame, by: str, title: str, xlabel: str):
    """Stacked bars: share of referrals from each source group (suppressed cells left blank)."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    levels = list(dict.fromkeys(table[by]))
    bottom = np.zeros(len(levels))
    for group in SOURCE_GROUP_ORDER:
        g = table[table["source_group"] == group].set_index(by).reindex(levels)
        pct = np.nan_to_num(numbers(g["pct"]))
        ax.bar([str(v) for v in levels], pct, bottom=bottom, label=group)
        bottom += pct
    ax.set(title=title, xlabel=xlabel, ylabel="Share of referrals (%)", ylim=(0, 100))
    ax.legend(frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    return fig
