"""The published tables of the referrals analysis, in one place: each table's columns (in
order), its count columns, what rests on them and the groups whose totals are published
(for secondary suppression). ``publish`` holds every table to its entry here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..disclosure import get_profile, numeric
from ..disclosure_audit import Family, crosstab_sums, row_sums, same_sums
from ..errors import ProjectError
from ..params import SiteParams
from ..publish import publish_table
from ..vocabulary import STAGES as S
from .cohort import PERIODS

RATES = ["events", "person_years", "rate_per_10k", "ci_lower", "ci_upper"]
_RATE = {"counts": ["events"], "derived": {c: "events" for c in RATES[2:]},
         "estimates": {"events": "events", "denominator": "person_years", "columns": RATES[2:]}}
CI = ("pct", "ci_lower", "ci_upper")
# name (reports/<site>/tables/<name>.csv): its columns in order, count columns, what is derived
# from which counts, and the groups whose totals are published (secondary suppression).
# Rates are per 10,000 person-years with exact Poisson (Garwood) 95% intervals; percentages
# have exact binomial (Clopper-Pearson) intervals.
TABLES = {
    "referrals_cohort": {"columns": ["subgroup", "level", "children", "person_years"],
                         "counts": ["children"], "within": ["subgroup"]},
    # measure: referrals, contacts, early help starts
    "referrals_rates_by_ncy": {"columns": ["measure", "ncy", *RATES], **_RATE},
    "referrals_rates_by_month": {"columns": ["measure", "rel_month", *RATES], **_RATE},
    "referrals_rates_by_term": {"columns": ["measure", "ncy", "term", "rel_term", *RATES], **_RATE},
    "referrals_rates_by_calendar_month": {
        "columns": ["measure", "month", "month_name", "holiday_share", *RATES], **_RATE},
    "referrals_rates_by_subgroup": {"columns": ["measure", "subgroup", "level", *RATES], **_RATE,
                                    "within": ["measure", "subgroup"]},
    "referrals_source_mix": {"columns": ["period", "source_group", "referrals", "pct"],
                             "counts": ["referrals"], "derived": {"pct": "referrals"},
                             "within": ["period"]},
    "referrals_source_codes": {"columns": ["period", "referral_source", "source_group", "referrals"],
                               "counts": ["referrals"], "within": ["period", "source_group"]},
    "referrals_source_by_school_month": {
        "columns": ["school_month", "month_name", "source_group", "referrals", "pct"],
        "counts": ["referrals"], "derived": {"pct": "referrals"}, "within": ["school_month"]},
    "referrals_first_referral_schools": {
        "columns": ["term", "first_referrals", "from_schools", *CI],
        "counts": ["first_referrals", "from_schools"],
        "derived": {c: ["first_referrals", "from_schools"] for c in CI}},
    "referrals_rate_ratios": {
        "columns": ["term", "level", "rate_ratio", "ci_lower", "ci_upper", "p_value", "events",
                    "person_years_at_risk", "model"],
        "counts": ["events"],
        "derived": {c: "events" for c in ("rate_ratio", "ci_lower", "ci_upper", "p_value")},
        "estimates": {"events": "events", "denominator": "person_years_at_risk",
                      "columns": ["rate_ratio", "ci_lower", "ci_upper", "p_value"]}},
    "referrals_km_first_referral": {
        "columns": ["subgroup", "level", "months_since_year5", "at_risk", "first_referrals",
                    "cum_incidence_pct", "ci_lower", "ci_upper"],
        "counts": ["at_risk", "first_referrals"],
        "derived": {c: ["at_risk", "first_referrals"]
                    for c in ("cum_incidence_pct", "ci_lower", "ci_upper")},
        "within": ["subgroup", "months_since_year5"], "cumulative": "first_referrals"},
    "referrals_logrank": {"columns": ["subgroup", "chi2", "df", "p_value", "children",
                                      "first_referrals"],
                          "counts": ["children", "first_referrals"]},
    "referrals_before_referral": {
        "columns": ["marker", "window_months", "referred_children", "with_marker", "referred_pct",
                    "cohort_pct"],
        "counts": ["referred_children", "with_marker"], "derived": {"referred_pct": "with_marker"}},
    # a two-way table of referrals (route by period) with totals; secondary suppression checked
    # against the totals
    "referrals_routes": {"columns": ["route", *PERIODS, "Total"], "counts": [], "crosstab": True},
    # the Sankey's bands
    "referrals_route_flows": {"columns": ["source", "target", "referrals"],
                              "counts": ["referrals"], "within": ["source"]},
    # the All row is the total of the others: the group is the whole table
    "referrals_re_referrals": {
        "columns": ["measure", "period", "referrals", "re_referrals", *CI],
        "counts": ["referrals", "re_referrals"],
        "derived": {c: ["referrals", "re_referrals"] for c in CI}, "within": ["measure"]},
    "referrals_early_help_escalation": {"columns": ["measure", "episodes", "count", "pct"],
                                        "counts": ["episodes", "count"],
                                        "derived": {"pct": "count"}},
    "referrals_needs_profile": {
        "columns": ["age_band", "district", "factor", "assessments_with_factor", "assessments",
                    "pct"],
        "counts": ["assessments_with_factor", "assessments"],
        "derived": {"pct": ["assessments_with_factor", "assessments"]},
        "within": ["age_band", "factor"]},
}


def _rates(t: dict[str, pd.DataFrame]) -> list:
    """Each measure's events by month add up to its events by term, by NCY and by calendar
    month; by term to by NCY; each subgroup's levels to the measure's total."""
    eqs = []
    have = {k.removeprefix("referrals_rates_by_"): v for k, v in t.items()}
    if "month" in have:
        rel = have["month"]["rel_month"].astype(int)
        month = have["month"].assign(ncy=(rel // 12 + 7).astype(str), rel_term=(rel // 4).astype(str),
                                     month=((rel + 8) % 12 + 1).astype(str))
        for other, key in (("ncy", "ncy"), ("term", "rel_term"), ("calendar_month", "month")):
            if other in have:
                eqs += same_sums(("referrals_rates_by_month", month, "events"),
                                 (f"referrals_rates_by_{other}", have[other], "events"),
                                 ["measure", key])
    if "term" in have and "ncy" in have:
        eqs += same_sums(("referrals_rates_by_term", have["term"], "events"),
                         ("referrals_rates_by_ncy", have["ncy"], "events"), ["measure", "ncy"])
    if "subgroup" in have and "ncy" in have:
        for _, levels in have["subgroup"].groupby("subgroup", sort=False):
            eqs += same_sums(("referrals_rates_by_subgroup", levels, "events"),
                             ("referrals_rates_by_ncy", have["ncy"], "events"), ["measure"])
    return eqs


def _routes(t: dict[str, pd.DataFrame]) -> list:
    """The routes crosstab adds up across and down; the Sankey's bands into care add up to
    the route ending in care, those out of referral to all referrals, and what flows into an
    assessment or a section 47 enquiry flows on."""
    if "referrals_routes" not in t:
        return []
    routes = t["referrals_routes"]
    eqs = crosstab_sums("referrals_routes", routes, "route")
    flows = t.get("referrals_route_flows")
    if flows is None:
        return eqs
    total = routes[routes["route"] == "Total"]
    for label, rows in (("Total", flows[flows["source"] == S["referral"]]),
                        (S["cla_episode"], flows[flows["target"] == S["cla_episode"]]),
                        ("No further action at referral",
                         flows[(flows["source"] == S["referral"])
                               & (flows["target"] == "No further action")])):
        eqs += same_sums(("referrals_route_flows", rows, "referrals"),
                         ("referrals_routes", routes[routes["route"] == label] if label != "Total"
                          else total, "Total"))
    for node in (S["assessment"], S["s47"]):
        eqs += same_sums(("referrals_route_flows", flows[flows["target"] == node], "referrals"),
                         ("referrals_route_flows", flows[flows["source"] == node], "referrals"))
    return eqs


def _needs(t: dict[str, pd.DataFrame]) -> list:
    """The districts' counts add up to All districts', and an age band and district's
    assessments are repeated on each of its factor rows."""
    needs = t.get("referrals_needs_profile")
    if needs is None:
        return []
    name = "referrals_needs_profile"
    parts, total = needs[needs["district"] != "All districts"], needs[needs["district"] == "All districts"]
    eqs = same_sums((name, parts, "assessments_with_factor"), (name, total, "assessments_with_factor"),
                    ["age_band", "factor"])
    first = needs.drop_duplicates(["age_band", "district"])
    eqs += same_sums((name, first[first["district"] != "All districts"], "assessments"),
                     (name, first[first["district"] == "All districts"], "assessments"), ["age_band"])
    eqs += row_sums((name, needs.loc[needs.index.difference(first.index)], "assessments"),
                    (name, first, "assessments"), ["age_band", "district"])
    return eqs


# Tables that share counts, each in the order the notebook publishes them: a table is
# protected against the members published before it, and the audit attacks them together.
FAMILIES = [
    Family("referral rates", ("referrals_rates_by_ncy", "referrals_rates_by_month",
                              "referrals_rates_by_term", "referrals_rates_by_calendar_month",
                              "referrals_rates_by_subgroup"), _rates),
    Family("referral routes", ("referrals_routes", "referrals_route_flows"), _routes),
    Family("needs profile", ("referrals_needs_profile",), _needs),
]
DECIMALS = {"person_years": 1, "person_years_at_risk": 1, "rate_per_10k": 1, "pct": 1,
            "referred_pct": 1, "cohort_pct": 1, "cum_incidence_pct": 1, "holiday_share": 2,
            "rate_ratio": 3, "chi2": 2}


def publish(df: pd.DataFrame, name: str, params: SiteParams, out_dir: Path | None = None
            ) -> pd.DataFrame:
    """Publish one of the tables in ``TABLES`` through disclosure control, its columns in the
    registry's order (a missing or extra column is an error).

    Figures are rounded as published: rates, person-years and percentages to 1 decimal place,
    rate ratios and their intervals to 3. A cumulative table keeps only the time points
    ``coarsen_steps`` allows.
    """
    spec = TABLES[name]
    have = [df.index.name, *df.columns, "Total"] if spec.get("crosstab") else list(df.columns)
    if set(have) != set(spec["columns"]):
        raise ProjectError(f"table {name} has columns {have}, not {spec['columns']}")
    out = df.copy() if spec.get("crosstab") else df[spec["columns"]].copy()
    for col in out.columns[out.dtypes == "category"]:
        out[col] = out[col].astype(str)
    for col, places in DECIMALS.items():
        if col in out:
            out[col] = out[col].astype(float).round(places)
    for col in ("ci_lower", "ci_upper"):
        if col in out:
            out[col] = out[col].astype(float).round(3 if "rate_ratio" in out else 1)
    if spec.get("cumulative"):
        out = coarsen_steps(out, spec["cumulative"], get_profile(params.disclosure_profile).threshold)
    if "p_value" in out:  # three significant figures, so small p-values are not shown as 0
        out["p_value"] = [float(f"{v:.3g}") for v in out["p_value"]]
    return publish_table(out, name, params, counts=spec["counts"], derived=spec.get("derived"),
                         within=spec.get("within"), crosstab=spec.get("crosstab", False),
                         estimates=spec.get("estimates"),
                         out_dir=out_dir)


def coarsen_steps(table: pd.DataFrame, count: str, threshold: int,
                  time: str = "months_since_year5") -> pd.DataFrame:
    """Keep only the time points of a cumulative table at which every curve of a subgroup,
    and the All curve, has risen by none or by more than ``threshold`` since the last point
    kept: a step of 1 to ``threshold`` children is neither shown nor found by differencing."""
    overall = table[table["subgroup"] == "All"]
    kept = []
    for subgroup, rows in table.groupby("subgroup", sort=False):
        curves = rows if subgroup == "All" else pd.concat([overall, rows])
        wide = curves.pivot_table(index=time, columns="level", values=count, aggfunc="first")
        last, times = wide.iloc[0], [wide.index[0]]
        for t, now in wide.iloc[1:].iterrows():
            step = now - last
            if ((step == 0) | (step > threshold)).all():
                last, times = now, [*times, t]
        kept.append(rows[rows[time].isin(times)])
    return pd.concat(kept).reset_index(drop=True)


def numbers(s: pd.Series) -> np.ndarray:
    """A published column as floats (suppressed cells NaN), for figures drawn from it."""
    return numeric(s.astype(object)).to_numpy(dtype=float)
