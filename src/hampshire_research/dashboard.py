"""The headline figures of the dashboards, read from a site's published tables only."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .compare import site_table
from .disclosure import SUPPRESSED, SYMBOLS, numeric
from .params import SiteParams
from .referrals.intervals import poisson_rate_ci


def _first(table: pd.DataFrame, column: str, **match) -> str:
    rows = table
    for key, value in match.items():
        rows = rows[rows[key] == value]
    return rows[column].iloc[0] if len(rows) else SUPPRESSED


def cohort_children(site: str, root: Path) -> str:
    """Children in the transition cohort (NCY 5-8 at any time in the study window)."""
    children = _first(site_table([site], "referrals_cohort", root), "children", subgroup="All")
    return children if children in SYMBOLS else f"{int(children):,}"


def study_period(params: SiteParams) -> str:
    """The period every headline figure covers, in the academic years a council reports by."""
    years = params.study_window.academic_years
    return f"academic years {years[0]} to {years[-1]}"


def referral_rate(site: str, root: Path, measure: str = "referrals") -> tuple[str, str]:
    """The cohort's rate per 10,000 child-years over Years 5-8, with its exact 95% interval.

    Summed from the published rates by school year; suppressed if any year's count is.
    """
    t = site_table([site], "referrals_rates_by_ncy", root)
    t = t[t.measure == measure]
    events, years = numeric(t["events"]), numeric(t["person_years"])
    if t.empty or events.isna().any():
        return SUPPRESSED, SUPPRESSED
    rate = poisson_rate_ci([events.sum()], [years.sum()]).iloc[0]
    return (f"{rate['rate_per_10k']:.0f}",
            f"95% CI {rate['ci_lower']:.0f} to {rate['ci_upper']:.0f}")


def share_linked(site: str, root: Path) -> str:
    """Share of children found in more than one source after linkage."""
    t = site_table([site], "linkage_overview", root)
    many = numeric(t.loc[t.measure == "children in more than one source", "count"])
    total = numeric(t.loc[t.measure == "children (after linkage)", "count"])
    if many.empty or total.empty or many.isna().any() or total.isna().any():
        return SUPPRESSED
    return f"{100 * many.iloc[0] / total.iloc[0]:.0f}%"


def share_with_child_voice(site: str, root: Path) -> tuple[str, str]:
    """Share of case-note records with the child's voice in any form, with its interval."""
    t = site_table([site], "voice_coverage_overall", root)
    row = t[t.measure == "child's voice (any form)"]
    if row.empty or row["percent"].iloc[0] == SUPPRESSED:
        return SUPPRESSED, SUPPRESSED
    r = row.iloc[0]
    return f"{float(r['percent']):.0f}%", f"95% CI {r['ci_low']} to {r['ci_high']}%"


def notice(sites: list[str], root: Path) -> str:
    """Which data the dashboard's figures come from (from the run manifests)."""
    from .run import read_manifests

    manifests = read_manifests(sites, root)
    names = ", ".join(m["display_name"] for m in manifests.values())
    if all(m["synthetic"] for m in manifests.values()):
        return (f"**Synthetic data** ({names}): every figure comes from generated records; no "
                "real child is described. All numbers have passed disclosure control "
                "(`c` = suppressed).")
    return (f"Data: {names} extracts. All numbers have passed disclosure control "
            "(`c` = suppressed).")
