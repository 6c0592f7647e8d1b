"""Rates of referral, contact and early help per 10,000 person-years, by school year,
month, term, calendar month and subgroup."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ..vocabulary import MONTH_NAMES
from .cohort import SUBGROUPS, Cohort
from .intervals import poisson_rate_ci
from .tables import numbers


def rates(cohort: Cohort, events: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Events per 10,000 person-years (exact Poisson 95% CI) by the given month attributes."""
    py = cohort.months.groupby(by, observed=True).size().rename("person_months")
    k = events.groupby(by, observed=True).size().rename("events")
    out = pd.concat([py, k], axis=1).fillna(0).reset_index()
    out["events"] = out["events"].astype(int)
    out["person_years"] = out.pop("person_months") / 12
    return pd.concat([out, poisson_rate_ci(out["events"], out["person_years"])], axis=1)


def rates_by_subgroup(cohort: Cohort, measures: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rates for each level of sex, FSM, SEN provision, ethnicity group and district."""
    parts = [rates(cohort, ev, [s]).rename(columns={s: "level"}).assign(subgroup=s, measure=name)
             for name, ev in measures.items() for s in SUBGROUPS]
    out = pd.concat(parts, ignore_index=True)
    return out[["measure", "subgroup", "level", "events", "person_years", "rate_per_10k",
                "ci_lower", "ci_upper"]]


def rates_table(cohort: Cohort, measures: dict[str, pd.DataFrame], by: list[str]) -> pd.DataFrame:
    """One rates table for several measures, tidy (a ``measure`` column first)."""
    parts = [rates(cohort, ev, by).assign(measure=name) for name, ev in measures.items()]
    out = pd.concat(parts, ignore_index=True)
    return out[["measure", *[c for c in out.columns if c != "measure"]]]


def rates_by_term(cohort: Cohort, measures: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rates for each school term from Year 5 autumn to Year 8 summer; ``rel_term`` 0 is the
    first term of Year 7. Steadier than single months where numbers are small."""
    out = rates_table(cohort, measures, ["ncy", "term"])
    out.insert(3, "rel_term", (out["ncy"] - 7) * 3 + out["term"].map(
        {"autumn": 0, "spring": 1, "summer": 2}).astype(int))
    return out


def seasonality(cohort: Cohort, measures: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rates by calendar month (September first), with the share of the month on holiday."""
    out = rates_table(cohort, measures, ["calendar_month"]).rename(
        columns={"calendar_month": "month"})
    out.insert(2, "month_name", [MONTH_NAMES[m - 1] for m in out["month"]])
    holiday = cohort.months.groupby("calendar_month")["holiday_share"].first()
    out.insert(3, "holiday_share", out["month"].map(holiday))
    first = {m: i for i, m in enumerate(dict.fromkeys(out["measure"]))}
    out = out.assign(m=out["measure"].map(first), o=(out["month"] - 9) % 12)
    return out.sort_values(["m", "o"]).drop(columns=["m", "o"]).reset_index(drop=True)


def plot_rates(table: pd.DataFrame, x: str, title: str, xlabel: str):
    """Rate per 10,000 person-years with its 95% interval, one line per measure."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for measure, g in table.groupby("measure", sort=False):
        xs = g[x].to_numpy()
        rate, lo, hi = numbers(g["rate_per_10k"]), numbers(g["ci_lower"]), numbers(g["ci_upper"])
        line, = ax.plot(xs, rate, marker="o", ms=3, label=measure)
        ax.fill_between(xs, lo, hi, alpha=0.2, color=line.get_color(), linewidth=0)
    ax.set(title=title, xlabel=xlabel, ylabel="Rate per 10,000 person-years")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig
