"""The transition cohort and its events: who is followed, for which months, with what.

A child is in the cohort for every month of a school census term (autumn = Sept-Dec,
spring = Jan-Apr, summer = May-Aug) in which they were on roll in NCY 5-8 in the study
window. ``rel_month`` counts months from the September they start Year 7 (0), from -24
(September of Year 5) to +23 (August of Year 8). Events dated outside a child's follow-up
months are not counted and are reported as set aside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ProjectError
from ..params import SiteParams
from ..school_calendar import holiday_share
from ..vocabulary import (
    SCHOOL_CLOSURE_MONTHS,
    SCHOOL_REOPENING_MONTHS,
    SEN_PROVISION,
    TERM_FIRST_MONTH,
    academic_year_start,
    age_band,
    age_in_years,
    ethnicity_group,
    labels,
    month_numbers,
)

SUBGROUPS = ["sex", "fsm", "sen_provision", "ethnicity_group", "district"]
PERIODS = ["Before transfer (Years 5-6)", "After transfer (Years 7-8)"]


CLOSURE_LEVELS = ["Open", "Closed to most pupils", "First two months back"]


def month_index(dates) -> pd.Series:
    """Months since year 0 (year * 12 + month - 1), so month arithmetic is integer arithmetic."""
    d = pd.to_datetime(pd.Series(dates), errors="coerce")
    return (d.dt.year * 12 + d.dt.month - 1).astype("Int64")


def categories(values) -> pd.Categorical:
    """Text as a categorical in sorted order, so it groups and sorts as the text did: a
    county's child-months repeat a few labels millions of times, and as Python strings each
    label column took 34 MB and every copy of the months touched each string."""
    values = pd.Series(values)
    return pd.Categorical(values, categories=sorted(values.dropna().unique()))


def transfer_period(rel_month: pd.Series) -> pd.Categorical:
    return pd.Categorical(np.where(rel_month < 0, PERIODS[0], PERIODS[1]), categories=PERIODS)


def term_first_month(terms: pd.DataFrame) -> pd.Series:
    """The month index (``month_index``) of each census term's first month."""
    year = academic_year_start(terms["academic_year"]) + (terms["term"] != "autumn").astype(int)
    return year * 12 + terms["term"].map(TERM_FIRST_MONTH) - 1


def term_last_month(terms: pd.DataFrame) -> pd.Series:
    return term_first_month(terms) + 3


ATTENDANCE = ["sessions_possible", "sessions_authorised", "sessions_unauthorised"]


def persistent_absence(terms: pd.DataFrame) -> pd.Series:
    """True for terms with >= 10% of possible sessions missed (no attendance data: False)."""
    def col(name):
        if name not in terms:
            return pd.Series(np.nan, index=terms.index)
        return pd.to_numeric(terms[name], errors="coerce")
    possible = col("sessions_possible")
    missed = col("sessions_authorised").fillna(0) + col("sessions_unauthorised").fillna(0)
    return (possible > 0) & (missed >= 0.1 * possible)


# the census columns the cohort, the markers and the needs profile read
TERM_COLUMNS = ["academic_year", "term", "ncy", "fsm", "sen_provision", "ethnicity", "district",
                "urn", *ATTENDANCE]


def load_tables(params: SiteParams, data_dir: Path | str = "",
                derived_root: Path | str = "") -> dict[str, pd.DataFrame]:
    """The linked timeline, single view and school census terms (with child_id; the
    columns in TERM_COLUMNS) of a site."""
    from ..build import build_site

    tables = build_site(params, data_dir or None, derived_root=derived_root or None)
    terms = tables.columns("school_terms", ["record_id", *TERM_COLUMNS])
    return {"timeline": tables["timeline"], "single_view": tables["single_view"],
            "school_terms": attach_child_id(terms, tables["record_map"]).drop(columns="record_id")}


def attach_child_id(school_terms: pd.DataFrame, record_map: pd.DataFrame) -> pd.DataFrame:
    """Give each school census term the child_id its record linked to (record_map).

    A lookup into a shallow copy: a merge would copy every column of a county's census."""
    out = school_terms.copy(deep=False)
    out["child_id"] = school_terms["record_id"].map(record_map.set_index("record_id")["child_id"])
    unlinked = int(out["child_id"].isna().sum())
    if unlinked:
        raise ProjectError(f"{unlinked} school census term rows have no child_id in record_map",
                           field="record_id")
    return out


@dataclass(frozen=True)
class Cohort:
    """The transition cohort: one row per child-month of follow-up, one row per child."""

    months: pd.DataFrame
    children: pd.DataFrame
    set_aside: dict[str, int] = field(default_factory=dict)


def _term_months(terms: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each term's 4 calendar months, as (row of the term, month index), term by term."""
    first = term_first_month(terms).to_numpy()
    return (np.repeat(np.arange(len(terms)), 4),
            np.repeat(first, 4) + np.tile(np.arange(4), len(terms)))


def build_cohort(school_terms: pd.DataFrame, single_view: pd.DataFrame,
                 params: SiteParams) -> Cohort:
    """Children on roll in NCY 5-8 in the study window, followed month by month around transfer.

    school_terms needs child_id, academic_year, term, ncy, fsm, sen_provision, district, urn;
    single_view needs child_id, sex, dob and, if known, ethnicity (else school_terms').
    """
    need = ["child_id", "academic_year", "term", "ncy", "fsm", "sen_provision", "district", "urn"]
    missing = [c for c in need if c not in school_terms.columns]
    if missing:
        raise ProjectError(f"school_terms lacks column(s) {missing}")
    coh = params.cohort
    set_aside: dict[str, int] = {}
    # only the columns followed: the census carries many more, each copied at every step
    t = school_terms[[c for c in [*need, "ethnicity", *ATTENDANCE] if c in school_terms]].copy()
    t["ncy"] = pd.to_numeric(t["ncy"], errors="coerce")
    in_window = t["academic_year"].isin(params.study_window.academic_years)
    in_ncy = t["ncy"].isin(coh.ncy)
    t = t[in_window & in_ncy].copy()
    set_aside["term rows outside the window or NCY"] = int((~(in_window & in_ncy)).sum())
    t = t.sort_values(["child_id", "academic_year", "term", "urn"], kind="stable")
    dup = t.duplicated(["child_id", "academic_year", "term"])
    set_aside["duplicate term rows for a child (dual registration; first kept)"] = int(dup.sum())
    t = t[~dup].copy()
    # the labels each child-month carries, set once a term
    t["fsm"] = t["fsm"].map({True: "FSM", False: "Not FSM"}).fillna("Unknown")
    t["sen_provision"] = t["sen_provision"].map(SEN_PROVISION).fillna("Unknown")
    t["district"] = t["district"].fillna("Unknown")
    # the September a child starts Year 7: their usual one, if a year was repeated or skipped
    t["transfer_year"] = (academic_year_start(t["academic_year"]) + coh.transfer_ncy
                          - t["ncy"].astype(int))
    votes = t.groupby(["child_id", "transfer_year"]).size().rename("n").reset_index()
    transfer = (votes.sort_values(["child_id", "n", "transfer_year"], ascending=[True, False, True])
                .drop_duplicates("child_id").set_index("child_id")["transfer_year"])
    t["transfer_year"] = t["child_id"].map(transfer)
    # absence in the child's previous term on roll: measured
    # before any referral in this term, so it neither counts absence that follows a referral nor
    # carries the move to secondary school (the first term of Year 7's own absence could)
    pa = persistent_absence(t)
    prev = t.groupby("child_id")["academic_year"].shift(1).notna()
    t["absence_last_term"] = categories(labels(
        [~prev, pa.groupby(t["child_id"]).shift(1, fill_value=False)],
        ["Not known (first term followed)", "Persistent"], "Not persistent"))
    # months are chosen on arrays and the kept rows copied once: a county's cohort is
    # millions of child-months, and each copy of it several hundred MB
    row, month = _term_months(t)
    rel_month = month - (np.repeat(t["transfer_year"].to_numpy(), 4) * 12 + 8)
    in_follow = (rel_month >= -coh.months_before) & (rel_month <= coh.months_after - 1)
    set_aside["term months outside -24..+23 (repeated or skipped years)"] = int((~in_follow).sum())
    # a term whose NCY is not the year of follow-up its month falls in (a year repeated or
    # skipped, or an NCY misrecorded) would count in one year by NCY and another by month, so
    # the published tables by NCY, term and month could not add up to each other
    off_year = in_follow & (np.repeat(t["ncy"].to_numpy(), 4)
                            != rel_month // 12 + coh.transfer_ncy)
    set_aside["term months in another NCY than their year of follow-up"] = int(off_year.sum())
    keep = in_follow & ~off_year
    for c in ["academic_year", "term", "fsm", "sen_provision", "district", "urn", "ethnicity"]:
        if c in t:  # as categories before the terms become months
            t[c] = categories(t[c])
    m = t.drop(columns=[c for c in ATTENDANCE if c in t]).iloc[row[keep]]
    m.index = pd.RangeIndex(len(m))  # in place: reset_index would copy
    del t
    m["month"], m["rel_month"] = month[keep], rel_month[keep]
    m["calendar_month"] = m["month"] % 12 + 1
    m["school_month"] = (m["calendar_month"] - 9) % 12 + 1  # 1 = September
    m["holiday_share"] = m["calendar_month"].map(holiday_share(params.school_calendar))
    m["school_closures"] = categories(labels(
        [m["month"].isin(month_numbers(SCHOOL_CLOSURE_MONTHS)),
         m["month"].isin(month_numbers(SCHOOL_REOPENING_MONTHS))], CLOSURE_LEVELS[1:], CLOSURE_LEVELS[0]))
    sv = single_view.set_index("child_id")
    m["sex"] = categories(m["child_id"].map(sv["sex"]).fillna("U"))
    eth = sv["ethnicity"] if "ethnicity" in sv else None
    if eth is None and "ethnicity" in m:  # the child's last recorded one, in term order
        eth = m.groupby("child_id")["ethnicity"].last().astype(object)
    # grouped once a child, not once a child-month
    m["ethnicity_group"] = (categories(m["child_id"].map(eth.map(ethnicity_group)).fillna("Unknown"))
                            if eth is not None else categories(["Unknown"] * len(m)))
    dob = pd.to_datetime(m["child_id"].map(sv["dob"]), errors="coerce")
    mid_month = pd.to_datetime({"year": m["month"] // 12, "month": m["month"] % 12 + 1, "day": 15})
    age = age_in_years(dob, mid_month)
    m["age_band"] = categories(age_band(age))
    m["period"] = categories(labels(
        [m["rel_month"].between(0, 3), m["rel_month"].between(-4, -1)],
        ["Year 7 first term", "Year 6 summer term"], "Other months"))
    cols = ["child_id", "month", "rel_month", "ncy", "academic_year", "term", "calendar_month",
            "school_month", "holiday_share", "school_closures", "period", "sex", "fsm", "sen_provision",
            "ethnicity_group", "district", "age_band", "absence_last_term", "urn", "transfer_year"]
    m = m[cols]  # in (child_id, month) order: t's order, 4 months a term
    m["ncy"] = m["ncy"].astype(int)
    first = m.groupby("child_id").first()
    children = pd.DataFrame({
        "transfer_year": first["transfer_year"],
        "entry_rel": first["rel_month"],
        "exit_rel": m.groupby("child_id")["rel_month"].max() + 1,
        **{s: first[s] for s in SUBGROUPS},
    }).reset_index()
    return Cohort(months=m, children=children, set_aside=set_aside)


def cohort_profile(cohort: Cohort) -> pd.DataFrame:
    """Children (by their first follow-up term) and person-years in each subgroup."""
    rows = [{"subgroup": "All", "level": "All", "children": len(cohort.children),
             "person_years": len(cohort.months) / 12}]
    for s in SUBGROUPS:
        kids = cohort.children.groupby(s, observed=True).size()
        py = cohort.months.groupby(s, observed=True).size() / 12
        for level in sorted(set(kids.index) | set(py.index)):
            rows.append({"subgroup": s, "level": level, "children": int(kids.get(level, 0)),
                         "person_years": float(py.get(level, 0.0))})
    return pd.DataFrame(rows)


def select_events(timeline: pd.DataFrame, event_type: str, source: str | None = None
                  ) -> pd.DataFrame:
    """Events of one type (from one source), with their month; undated rows are an error."""
    ev = timeline[timeline["event_type"] == event_type]
    if source is not None:
        ev = ev[ev["source"] == source]
    ev = ev.copy()
    ev["start_date"] = pd.to_datetime(ev["start_date"], errors="coerce")
    if ev["start_date"].isna().any():
        row = ev.index[ev["start_date"].isna()][0]
        raise ProjectError(f"{int(ev['start_date'].isna().sum())} {event_type} events have no "
                           "start date", row=int(row), field="start_date")
    ev["month"] = month_index(ev["start_date"]).astype(int).to_numpy()
    return ev


def cohort_events(cohort: Cohort, events: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Events of cohort children in their follow-up months, with that month's attributes.

    Returns the events and the counts set aside (children outside the cohort; months
    outside a child's follow-up), so nothing is dropped unseen.
    """
    in_cohort = events["child_id"].isin(cohort.children["child_id"])
    ev = events[in_cohort].drop(columns=[c for c in cohort.months.columns
                                         if c in events.columns and c not in ("child_id", "month")])
    out = ev.merge(cohort.months, on=["child_id", "month"], how="inner")
    counts = {"of children not in the cohort": int((~in_cohort).sum()),
              "of cohort children outside their follow-up months": int(in_cohort.sum() - len(out))}
    return out.sort_values(["child_id", "start_date", "event_id"]).reset_index(drop=True), counts


def measure_events(cohort: Cohort, timeline: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Referrals, contacts (case-management system) and early help starts of cohort children."""
    specs = {"referrals": ("referral", "csc"), "contacts": ("contact", "csc"),
             "early help starts": ("early_help", "early_help")}
    return {name: cohort_events(cohort, select_events(timeline, et, src))[0]
            for name, (et, src) in specs.items()}
