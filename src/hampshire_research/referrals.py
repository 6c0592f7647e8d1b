"""Routes to referral across the primary-to-secondary transition (issue 6).

Descriptive and population-level: rates, timing, routes and associations with confidence
intervals for children in school Years 5-8. Nothing here scores, ranks or predicts for a
child; the regression gives rate ratios that are associations, not causes.

The functions take DataFrames (the linked ``timeline``, ``school_terms`` with ``child_id``
and the ``single_view``) so tests can pass small hand-built frames.

Follow-up. A child is in the cohort for every month of a school census term (autumn =
Sept-Dec, spring = Jan-Apr, summer = May-Aug) in which they were on roll in NCY 5-8 in the
study window. ``rel_month`` counts months from the September they start Year 7 (0), from
-24 (September of Year 5) to +23 (August of Year 8). Person-time is those months; children
who leave stop adding time and children who join start. Events dated outside a child's
follow-up months are not counted in rates and are reported in ``Cohort.set_aside``.

Decisions where the issue was silent:
- referral source 5D (early help) is grouped with LA services (an LA service; DfE's list
  does not place it); the code-level table shows it apart;
- ethnicity group: W* White, M* Mixed, A* and CHNE Asian (2021 Census grouping), B* Black,
  OOTH Other, REFU/NOBT/missing Unknown;
- a school move is a change of school between consecutive census terms other than the
  planned Year 6 -> Year 7 transfer; an SEN change is a change of SEN provision (E/K/N);
- persistent absence: >= 10% of possible sessions missed (authorised + unauthorised) in a
  term, dated to the term's last month;
- school holidays: a typical English school calendar as the share of each calendar month
  that is holiday (``HOLIDAY_SHARE``); the regression uses it as a covariate, so its rate
  ratio compares a month that is all holiday with one that is all term;
- the regression (``fit_rate_ratios``) counts at-risk time: months in which a child's case was
  open throughout are left out, as the child could not be newly referred. It adjusts for
  persistent absence in the term but not for early help or suspensions, which are described
  instead (early help often follows social care; both share unrecorded causes with referral);
- rates by month and source mix use all referrals in follow-up; KM, "what came before" and
  the first-referral school share use each child's first referral in follow-up.

Published tables (``reports/<site>/tables/<name>.csv``; the site is the folder):
- ``referrals_cohort``: subgroup, level, children, person_years
- ``referrals_rates_by_ncy``: measure, ncy, events, person_years, rate_per_10k, ci_lower,
  ci_upper (measure: referrals, contacts, early help starts)
- ``referrals_rates_by_month``: measure, rel_month, (same rate columns)
- ``referrals_rates_by_term``: measure, ncy, term, rel_term, (rates)
- ``referrals_rates_by_calendar_month``: measure, month, month_name, holiday_share, (rates)
- ``referrals_rates_by_subgroup``: measure, subgroup, level, (rates)
- ``referrals_source_mix``: period, source_group, referrals, pct
- ``referrals_source_codes``: period, referral_source, source_group, referrals
- ``referrals_source_by_school_month``: school_month, month_name, source_group, referrals, pct
- ``referrals_first_referral_schools``: term, first_referrals, from_schools, pct, ci_lower,
  ci_upper
- ``referrals_rate_ratios``: term, level, rate_ratio, ci_lower, ci_upper, p_value, events,
  person_years, model
- ``referrals_km_first_referral``: subgroup, level, months_since_year5, at_risk,
  first_referrals, cum_incidence_pct, ci_lower, ci_upper
- ``referrals_logrank``: subgroup, chi2, df, p_value, children, first_referrals
- ``referrals_before_referral``: marker, window_months, referred_children, with_marker,
  referred_pct, cohort_pct
- ``referrals_routes``: route, Before transfer (Years 5-6), After transfer (Years 7-8), Total
  (a two-way table of referrals with a Total row; secondary suppression checked against totals)
- ``referrals_route_flows``: source, target, referrals (the Sankey's bands)
- ``referrals_re_referrals``: measure, period, referrals, re_referrals, pct, ci_lower, ci_upper
- ``referrals_early_help_escalation``: measure, episodes, count, pct
- ``referrals_needs_profile``: age_band, district, factor, assessments_with_factor,
  assessments, pct
Rates are per 10,000 person-years with exact Poisson (Garwood) 95% intervals; percentages
have exact binomial (Clopper-Pearson) intervals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.duration.survfunc import SurvfuncRight, survdiff
from statsmodels.stats.proportion import proportion_confint

from .disclosure import numeric
from .errors import ProjectError
from .params import SiteParams
from .paths import derived_dir
from .publish import publish_table

SOURCE_GROUPS = {
    "1A": "Individual", "1B": "Individual", "1C": "Individual", "1D": "Individual",
    "2A": "Schools", "2B": "Other",
    "3A": "Health", "3B": "Health", "3C": "Health", "3D": "Health", "3E": "Health", "3F": "Health",
    "4": "Other",
    "5A": "LA services", "5B": "LA services", "5C": "LA services", "5D": "LA services",
    "6": "Police", "7": "Other", "8": "Other", "9": "Unknown", "10": "Unknown",
}
SOURCE_GROUP_ORDER = ["Police", "Schools", "Health", "LA services", "Individual", "Other",
                      "Unknown"]
ETHNICITY_GROUP_ORDER = ["White", "Mixed", "Asian", "Black", "Other", "Unknown"]
MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
# Share of each calendar month's weekdays that are school holiday in a typical English county
# calendar (terms 4 Sep-20 Dec, 5 Jan-31 Mar, 17 Apr-22 Jul; half terms in late October,
# mid-February and late May). A real run can swap in the LA's own term dates.
HOLIDAY_SHARE = {1: 0.13, 2: 0.25, 3: 0.0, 4: 0.53, 5: 0.16, 6: 0.07, 7: 0.29, 8: 1.0, 9: 0.1,
                 10: 0.23, 11: 0.0, 12: 0.35}
TERM_FIRST_MONTH = {"autumn": 9, "spring": 1, "summer": 5}  # calendar month a term starts
AGE_BANDS = [(0, 0, "0"), (1, 4, "1-4"), (5, 9, "5-9"), (10, 15, "10-15"), (16, 17, "16-17")]
FACTOR_THEMES = {
    "1": "Alcohol misuse", "2": "Drug misuse", "3": "Domestic abuse", "4": "Mental health",
    "5": "Learning disability", "6": "Physical disability or illness", "7": "Young carer",
    "8": "Privately fostered", "9": "Unaccompanied asylum seeker", "10": "Going missing",
    "11": "Child sexual exploitation", "12": "Trafficking", "13": "Gangs",
    "14": "Socially unacceptable behaviour", "15": "Self-harm", "16": "Neglect",
    "17": "Emotional abuse", "18": "Physical abuse", "19": "Sexual abuse", "20": "Other",
    "21": "No factors identified", "22": "Female genital mutilation",
    "23": "Abuse linked to faith or belief", "24": "Child criminal exploitation",
}
SUBGROUPS = ["sex", "fsm", "sen_provision", "ethnicity_group", "district"]
SEN_LABELS = {"E": "EHC plan", "K": "SEN support", "N": "No SEN"}
CSC_STAGES = ["assessment", "s47", "cin_plan", "cp_plan", "cla_episode"]
Z95 = stats.norm.ppf(0.975)


# --- small helpers -------------------------------------------------------------------------

def month_index(dates) -> pd.Series:
    """Months since year 0 (year * 12 + month - 1), so month arithmetic is integer arithmetic."""
    d = pd.to_datetime(pd.Series(dates), errors="coerce")
    return (d.dt.year * 12 + d.dt.month - 1).astype("Int64")


def ethnicity_group(code) -> str:
    """CIN/school census ethnicity code -> White, Mixed, Asian, Black, Other or Unknown."""
    if not isinstance(code, str) or not code.strip():
        return "Unknown"
    c = code.strip().upper()
    if c in {"REFU", "NOBT"}:
        return "Unknown"
    if c == "CHNE":
        return "Asian"
    return {"W": "White", "M": "Mixed", "A": "Asian", "B": "Black", "O": "Other"}.get(c[0],
                                                                                        "Unknown")


def _age(dob: pd.Series, on: pd.Series) -> pd.Series:
    """Age in whole years on a date (NaN where the date of birth is unknown)."""
    before = ((on.dt.month < dob.dt.month)
              | ((on.dt.month == dob.dt.month) & (on.dt.day < dob.dt.day)))
    return on.dt.year - dob.dt.year - before.astype(int)


def age_bands(age: pd.Series) -> np.ndarray:
    """Ages in whole years -> DfE age bands (0, 1-4, 5-9, 10-15, 16-17; 18+; Unknown)."""
    a = age.to_numpy(dtype=float)
    conds = [(a >= lo) & (a <= hi) for lo, hi, _ in AGE_BANDS] + [a > 17]
    return np.select(conds, [name for _, _, name in AGE_BANDS] + ["18+"], "Unknown")


def poisson_rate_ci(events, person_years, per: float = 10_000) -> pd.DataFrame:
    """Rate per ``per`` person-years with the exact (Garwood) 95% interval."""
    k = np.asarray(events, dtype=float)
    py = np.asarray(person_years, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.where(k > 0, stats.chi2.ppf(0.025, 2 * k) / 2, 0.0)
        hi = stats.chi2.ppf(0.975, 2 * k + 2) / 2
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


def _year_start(academic_year: pd.Series) -> pd.Series:
    return academic_year.astype(str).str[:4].astype(int)


def _persistent_absence(terms: pd.DataFrame) -> pd.Series:
    """True for terms with >= 10% of possible sessions missed (no attendance data: False)."""
    def col(name):
        if name not in terms:
            return pd.Series(np.nan, index=terms.index)
        return pd.to_numeric(terms[name], errors="coerce")
    possible = col("sessions_possible")
    missed = col("sessions_authorised").fillna(0) + col("sessions_unauthorised").fillna(0)
    return (possible > 0) & (missed >= 0.1 * possible)


def attach_child_id(school_terms: pd.DataFrame, record_map: pd.DataFrame) -> pd.DataFrame:
    """Give each school census term the child_id its record linked to (record_map)."""
    out = school_terms.merge(record_map[["record_id", "child_id"]], on="record_id", how="left")
    unlinked = int(out["child_id"].isna().sum())
    if unlinked:
        raise ProjectError(f"{unlinked} school census term rows have no child_id in record_map",
                           field="record_id")
    return out


# --- the cohort ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Cohort:
    """The transition cohort: one row per child-month of follow-up, one row per child."""

    months: pd.DataFrame
    children: pd.DataFrame
    set_aside: dict[str, int] = field(default_factory=dict)


def _terms_to_months(terms: pd.DataFrame) -> pd.DataFrame:
    """Expand one row per term to one row per calendar month of the term (4 months each)."""
    start_year = _year_start(terms["academic_year"]) + (terms["term"] != "autumn").astype(int)
    first = start_year * 12 + terms["term"].map(TERM_FIRST_MONTH) - 1
    rep = terms.iloc[np.repeat(np.arange(len(terms)), 4)].copy()
    rep["month"] = np.repeat(first.to_numpy(), 4) + np.tile(np.arange(4), len(terms))
    return rep.reset_index(drop=True)


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
    t = school_terms.copy()
    t["ncy"] = pd.to_numeric(t["ncy"], errors="coerce")
    in_window = t["academic_year"].isin(params.study_window.academic_years)
    in_ncy = t["ncy"].isin(coh.ncy)
    t = t[in_window & in_ncy].copy()
    set_aside["term rows outside the window or NCY"] = int((~(in_window & in_ncy)).sum())
    t = t.sort_values(["child_id", "academic_year", "term", "urn"], kind="stable")
    dup = t.duplicated(["child_id", "academic_year", "term"])
    set_aside["duplicate term rows for a child (dual registration; first kept)"] = int(dup.sum())
    t = t[~dup]
    # the September a child starts Year 7: their usual one, if a year was repeated or skipped
    t["transfer_year"] = _year_start(t["academic_year"]) + coh.transfer_ncy - t["ncy"].astype(int)
    votes = t.groupby(["child_id", "transfer_year"]).size().rename("n").reset_index()
    transfer = (votes.sort_values(["child_id", "n", "transfer_year"], ascending=[True, False, True])
                .drop_duplicates("child_id").set_index("child_id")["transfer_year"])
    t["transfer_year"] = t["child_id"].map(transfer)
    t["persistent_absence"] = _persistent_absence(t).astype(int)
    m = _terms_to_months(t)
    m["rel_month"] = m["month"] - (m["transfer_year"] * 12 + 8)
    in_follow = m["rel_month"].between(-coh.months_before, coh.months_after - 1)
    set_aside["term months outside -24..+23 (repeated or skipped years)"] = int((~in_follow).sum())
    m = m[in_follow].copy()
    m["calendar_month"] = m["month"] % 12 + 1
    m["school_month"] = (m["calendar_month"] - 9) % 12 + 1  # 1 = September
    m["holiday_share"] = m["calendar_month"].map(HOLIDAY_SHARE)
    m["fsm"] = m["fsm"].map({True: "FSM", False: "Not FSM"}).fillna("Unknown")
    m["sen_provision"] = m["sen_provision"].map(SEN_LABELS).fillna("Unknown")
    m["district"] = m["district"].fillna("Unknown")
    sv = single_view.set_index("child_id")
    m["sex"] = m["child_id"].map(sv["sex"]).fillna("U")
    eth = sv["ethnicity"] if "ethnicity" in sv else None
    if eth is None and "ethnicity" in m:
        eth = m.groupby("child_id")["ethnicity"].agg(lambda s: s.dropna().iloc[-1]
                                                     if s.notna().any() else None)
    m["ethnicity_group"] = (m["child_id"].map(eth).map(ethnicity_group) if eth is not None
                            else "Unknown")
    dob = pd.to_datetime(m["child_id"].map(sv["dob"]), errors="coerce")
    mid_month = pd.to_datetime({"year": m["month"] // 12, "month": m["month"] % 12 + 1, "day": 15})
    age = _age(dob, mid_month)
    m["age_band"] = age_bands(age)
    m["period"] = np.select(
        [m["rel_month"].between(0, 3), m["rel_month"].between(-4, -1)],
        ["Year 7 first term", "Year 6 summer term"], "Other months")
    cols = ["child_id", "month", "rel_month", "ncy", "academic_year", "term", "calendar_month",
            "school_month", "holiday_share", "period", "sex", "fsm", "sen_provision",
            "ethnicity_group", "district", "age_band", "persistent_absence", "urn", "transfer_year"]
    m = m[cols].sort_values(["child_id", "month"]).reset_index(drop=True)
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
        kids = cohort.children.groupby(s).size()
        py = cohort.months.groupby(s).size() / 12
        for level in sorted(set(kids.index) | set(py.index)):
            rows.append({"subgroup": s, "level": level, "children": int(kids.get(level, 0)),
                         "person_years": float(py.get(level, 0.0))})
    return pd.DataFrame(rows)


# --- events --------------------------------------------------------------------------------

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


def rates(cohort: Cohort, events: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Events per 10,000 person-years (exact Poisson 95% CI) by the given month attributes."""
    py = cohort.months.groupby(by).size().rename("person_months")
    k = events.groupby(by).size().rename("events")
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


def measure_events(cohort: Cohort, timeline: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Referrals, contacts (case-management system) and early help starts of cohort children."""
    specs = {"referrals": ("referral", "csc"), "contacts": ("contact", "csc"),
             "early help starts": ("early_help", "early_help")}
    return {name: cohort_events(cohort, select_events(timeline, et, src))[0]
            for name, (et, src) in specs.items()}


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
        {"autumn": 0, "spring": 1, "summer": 2}))
    return out


def seasonality(cohort: Cohort, measures: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Rates by calendar month (September first), with the share of the month on holiday."""
    out = rates_table(cohort, measures, ["calendar_month"]).rename(
        columns={"calendar_month": "month"})
    out.insert(2, "month_name", [MONTH_NAMES[m - 1] for m in out["month"]])
    out.insert(3, "holiday_share", out["month"].map(HOLIDAY_SHARE))
    first = {m: i for i, m in enumerate(dict.fromkeys(out["measure"]))}
    out = out.assign(m=out["measure"].map(first), o=(out["month"] - 9) % 12)
    return out.sort_values(["m", "o"]).drop(columns=["m", "o"]).reset_index(drop=True)


# --- where referrals come from ----------------------------------------------------------------

def source_group(codes: pd.Series) -> pd.Series:
    """CIN referral source code -> DfE publication group (5D with LA services; see module)."""
    c = codes.astype("string").str.strip().str.upper().str.lstrip("0")
    return c.map(SOURCE_GROUPS).fillna("Unknown")


PERIODS = ["Before transfer (Years 5-6)", "After transfer (Years 7-8)"]


def _transfer_period(rel_month: pd.Series) -> pd.Categorical:
    return pd.Categorical(np.where(rel_month < 0, PERIODS[0], PERIODS[1]), categories=PERIODS)


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
    r = referrals.assign(period=_transfer_period(referrals["rel_month"]))
    return source_mix(r, "period")


def source_codes_by_period(referrals: pd.DataFrame) -> pd.DataFrame:
    """Referral source codes one by one (so 5D early help can be read apart)."""
    r = referrals.assign(period=_transfer_period(referrals["rel_month"]),
                         referral_source=referrals["referral_source"].fillna("missing"))
    r["source_group"] = source_group(r["referral_source"])
    return (r.groupby(["period", "referral_source", "source_group"], observed=True).size()
            .rename("referrals").reset_index())


def source_mix_by_school_month(referrals: pd.DataFrame) -> pd.DataFrame:
    out = source_mix(referrals, "school_month")
    out.insert(1, "month_name", [MONTH_NAMES[(m + 7) % 12] for m in out["school_month"]])
    return out


def first_referral_school_share(referrals: pd.DataFrame) -> pd.DataFrame:
    """Of children whose first referral in follow-up falls in an autumn term, share from schools.

    Year 7's autumn term is the first term at the new secondary school; the other autumn
    terms set it in context.
    """
    first = referrals.sort_values(["child_id", "start_date", "event_id"]).groupby("child_id").head(1)
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


# --- what changes at transfer: Poisson / negative binomial regression ----------------------------

def open_case_months(referrals_all: pd.DataFrame, last_month: int) -> pd.DataFrame:
    """Child-months a social care case was open throughout (referred before the month, closed
    after it; unclosed cases to ``last_month``): a child is not at risk of a new referral then."""
    r = referrals_all.dropna(subset=["child_id"])
    start = r["month"].to_numpy() + 1
    end = month_index(r["end_date"]).fillna(last_month + 1).astype(int).to_numpy()
    end = np.minimum(end, last_month + 1)
    span = np.maximum(end - start, 0)
    out = pd.DataFrame({"child_id": np.repeat(r["child_id"].to_numpy(), span),
                        "month": np.concatenate([np.arange(a, a + n) for a, n in
                                                 zip(start, span, strict=True)] or [[]])})
    return out.astype({"month": int}).drop_duplicates().reset_index(drop=True)


def monthly_counts(cohort: Cohort, events: pd.DataFrame, open_cases: pd.DataFrame | None = None
                   ) -> pd.DataFrame:
    """Referral counts and person-months in cells of every model term (the regression's data).

    With ``open_cases`` (from ``open_case_months``) those child-months are left out.
    """
    m = cohort.months
    if open_cases is not None:
        shut = m.merge(open_cases.assign(shut=True), on=["child_id", "month"], how="left")["shut"]
        m = m[shut.isna().to_numpy()]
    keys = ["academic_year", "calendar_month", "holiday_share", "ncy", "period", *SUBGROUPS,
            "age_band", "persistent_absence"]
    k = events.groupby(["child_id", "month"]).size().rename("referrals")
    m = m.merge(k.reset_index(), on=["child_id", "month"], how="left")
    m["referrals"] = m["referrals"].fillna(0).astype(int)
    return (m.groupby(keys).agg(person_months=("month", "size"), referrals=("referrals", "sum"))
            .reset_index())


def _reference(levels: pd.Series, preferred: str) -> str:
    counts = levels.value_counts()
    return preferred if preferred in counts.index else counts.index[0]


def overdispersion_test(y: np.ndarray, mu: np.ndarray) -> tuple[float, float]:
    """Cameron-Trivedi test: regress ((y-mu)^2 - y)/mu on mu; returns (alpha, one-sided p)."""
    aux = ((y - mu) ** 2 - y) / mu
    fit = sm.OLS(aux, mu).fit()
    alpha, t = float(fit.params[0]), float(fit.tvalues[0])
    return alpha, float(stats.t.sf(t, fit.df_resid))


@dataclass(frozen=True)
class RateRatios:
    table: pd.DataFrame
    model: str  # "Poisson" or "negative binomial"
    alpha: float  # estimated overdispersion (Cameron-Trivedi)
    overdispersion_p: float
    pearson_dispersion: float  # Pearson chi2 / df of the Poisson fit
    referrals_left_out: int  # referrals in months a case was already open throughout


def fit_rate_ratios(cohort: Cohort, referrals: pd.DataFrame,
                    open_cases: pd.DataFrame | None = None, alpha_level: float = 0.05
                    ) -> RateRatios:
    """Rate ratios for referrals: transfer months, school holidays and subgroups.

    Monthly counts with log person-time offset. Terms: Year 7 first term and Year 6 summer
    term (against other months of the same school year, via NCY), academic year, the holiday
    share of the month, sex, FSM, SEN provision, ethnicity group, district, age band and
    persistent absence in the term. With ``open_cases``, months a case was open throughout
    are left out of the person-time: a child with an open case is not at risk of a new
    referral (referrals in them are counted in ``referrals_left_out``).

    Early help and suspensions are described (``before_referral``), not adjusted for: early
    help often follows social care (step-down) and both share causes with referral that the
    data do not hold, so as terms they would distort the other ratios.

    Poisson first; if the Cameron-Trivedi test finds overdispersion (p < alpha_level), a
    negative binomial GLM with that alpha. Associations, not causes.
    """
    cells = monthly_counts(cohort, referrals, open_cases)
    left_out = len(referrals) - int(cells["referrals"].sum())
    refs = {"period": "Other months", "sex": "F", "fsm": "Not FSM", "sen_provision": "No SEN",
            "ethnicity_group": "White", "district": None, "age_band": "10-15", "ncy": None,
            "academic_year": None}
    terms = []
    for col, pref in refs.items():
        levels = cells[col].astype(str)
        if levels.nunique() < 2:
            continue
        ref = _reference(levels, pref) if pref else sorted(levels.unique())[0]
        cells[col] = levels
        terms.append(f"C({col}, Treatment(reference={ref!r}))")
    pa = ["persistent_absence"] if cells["persistent_absence"].nunique() > 1 else []
    formula = "referrals ~ " + " + ".join(terms + ["holiday_share"] + pa)
    offset = np.log(cells["person_months"] / 12)
    pois = smf.glm(formula, cells, family=sm.families.Poisson(), offset=offset).fit()
    mu = pois.fittedvalues.to_numpy()
    alpha, p = overdispersion_test(cells["referrals"].to_numpy(float), mu)
    dispersion = float(pois.pearson_chi2 / pois.df_resid)
    fit, model = pois, "Poisson"
    if p < alpha_level and alpha > 0:
        fit = smf.glm(formula, cells, family=sm.families.NegativeBinomial(alpha=alpha),
                      offset=offset).fit()
        model = "negative binomial"
    ci = fit.conf_int()
    rows = []
    for name in fit.params.index:
        if name == "Intercept":
            continue
        if name == "holiday_share":
            term, level, mask = "school holidays", "month all holiday vs all term", None
        elif name == "persistent_absence":
            term, level = "persistent absence", "10% or more of sessions missed this term"
            mask = cells[name] == 1
        else:
            col = name.split("(", 1)[1].split(",", 1)[0]
            term, level = col, name.rsplit("[T.", 1)[1].rstrip("]")
            mask = cells[col] == level
        sub = cells if mask is None else cells[mask]
        rows.append({"term": term, "level": level, "rate_ratio": np.exp(fit.params[name]),
                     "ci_lower": np.exp(ci.loc[name, 0]), "ci_upper": np.exp(ci.loc[name, 1]),
                     "p_value": fit.pvalues[name], "events": int(sub["referrals"].sum()),
                     "person_years": sub["person_months"].sum() / 12, "model": model})
    return RateRatios(pd.DataFrame(rows), model, alpha, p, dispersion, left_out)


# --- time to first referral ---------------------------------------------------------------------

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
        for level, g in times_df.groupby(s):
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


# --- what came before ----------------------------------------------------------------------------

def _term_last_month(terms: pd.DataFrame) -> pd.Series:
    start_year = _year_start(terms["academic_year"]) + (terms["term"] != "autumn").astype(int)
    return start_year * 12 + terms["term"].map(TERM_FIRST_MONTH) + 2  # first month + 3 (0-based)


def marker_months(school_terms: pd.DataFrame, timeline: pd.DataFrame,
                  last_month: int) -> pd.DataFrame:
    """When each child had each marker: child_id, marker, month (one row per month it applies).

    early help: every month an episode is open (open episodes to ``last_month``);
    suspension: its month; persistent absence: the last month of the term (>= 10% missed);
    school move / SEN change: the first month of the term that shows the change.
    """
    parts = []
    eh = select_events(timeline, "early_help", "early_help")
    if len(eh):
        end = month_index(eh["end_date"]).fillna(last_month).astype(int).clip(upper=last_month)
        span = np.maximum(end.to_numpy() - eh["month"].to_numpy(), 0) + 1
        parts.append(pd.DataFrame({
            "child_id": np.repeat(eh["child_id"].to_numpy(), span),
            "month": np.concatenate([np.arange(a, a + n)
                                     for a, n in zip(eh["month"], span, strict=True)]),
            "marker": "early help"}))
    susp = select_events(timeline, "suspension")
    parts.append(susp[["child_id", "month"]].assign(marker="suspension"))
    t = school_terms.copy()
    t["last_month"] = _term_last_month(t)
    pa = t[_persistent_absence(t)]
    parts.append(pd.DataFrame({"child_id": pa["child_id"], "month": pa["last_month"],
                               "marker": "persistent absence"}))
    t = t.sort_values(["child_id", "last_month"]).drop_duplicates(["child_id", "last_month"])
    prev = t.groupby("child_id").shift(1)
    ncy = pd.to_numeric(t["ncy"], errors="coerce")
    prev_ncy = pd.to_numeric(prev["ncy"], errors="coerce")
    has_prev = prev["last_month"].notna()
    moved = has_prev & (t["urn"] != prev["urn"]) & ~((prev_ncy == 6) & (ncy == 7))
    sen = has_prev & (t["sen_provision"] != prev["sen_provision"])
    for flag, name in [(moved, "school move"), (sen, "SEN change")]:
        parts.append(pd.DataFrame({"child_id": t.loc[flag, "child_id"],
                                   "month": t.loc[flag, "last_month"] - 3, "marker": name}))
    out = pd.concat(parts, ignore_index=True)
    out["month"] = out["month"].astype(int)
    return out.drop_duplicates().reset_index(drop=True)


def _had_marker(child_months: pd.DataFrame, markers: pd.DataFrame, window: int) -> pd.DataFrame:
    """For each (child_id, month) row: 1 if each marker fell in the ``window`` months before."""
    if markers.empty:
        return child_months[["child_id", "month"]].copy()
    lags = np.arange(1, window + 1)
    spread = markers.iloc[np.repeat(np.arange(len(markers)), len(lags))].copy()
    spread["month"] = spread["month"].to_numpy() + np.tile(lags, len(markers))
    flags = (spread.drop_duplicates().assign(had=1)
             .pivot_table(index=["child_id", "month"], columns="marker", values="had",
                          aggfunc="max", fill_value=0))
    keyed = child_months[["child_id", "month"]].merge(flags.reset_index(), how="left",
                                                      on=["child_id", "month"])
    return keyed.fillna(0)


MARKERS = ["early help", "suspension", "persistent absence", "school move", "SEN change"]


def before_referral(cohort: Cohort, referrals: pd.DataFrame, markers: pd.DataFrame,
                    windows=(6, 12)) -> pd.DataFrame:
    """What came in the 6 and 12 months before a first referral after transfer, described.

    Referred: each child's first referral in follow-up after the September of Year 7.
    Cohort: all cohort child-months in the same calendar months, weighted by the number of
    referrals in each month, so both groups cover the same calendar time.
    """
    post = referrals[referrals["rel_month"] >= 0].sort_values(["child_id", "start_date",
                                                              "event_id"])
    first = post.groupby("child_id").head(1)[["child_id", "month"]]
    weights = first.groupby("month").size().rename("w")
    pool = cohort.months[cohort.months["month"].isin(weights.index)][["child_id", "month"]]
    rows = []
    for window in windows:
        ref = _had_marker(first, markers, window)
        base = _had_marker(pool, markers, window)
        for marker in MARKERS:
            if marker not in base:
                base[marker] = 0.0
                ref[marker] = 0.0
            by_month = base.groupby("month")[marker].mean()
            cohort_pct = (100 * float((by_month * weights).sum() / weights.sum())
                          if len(weights) else np.nan)
            k = int(ref[marker].sum())
            rows.append({"marker": marker, "window_months": window,
                         "referred_children": len(first), "with_marker": k,
                         "referred_pct": 100 * k / len(first) if len(first) else np.nan,
                         "cohort_pct": cohort_pct})
    return pd.DataFrame(rows)


# --- what came after --------------------------------------------------------------------------

ROUTE_ORDER = ["No further action at referral", "No assessment recorded", "Assessment, no plan",
               "CIN plan", "S47 enquiry, no CP plan", "CP plan", "Looked after"]


def referral_stages(referrals: pd.DataFrame, timeline: pd.DataFrame) -> pd.DataFrame:
    """For each referral: which later stages its episode reached (by episode_id)."""
    later = timeline[(timeline["source"] == "csc") & timeline["event_type"].isin(CSC_STAGES)]
    reached = (later.assign(v=1).pivot_table(index="episode_id", columns="event_type", values="v",
                                             aggfunc="max", fill_value=0)
               .reindex(columns=CSC_STAGES, fill_value=0))
    out = referrals.merge(reached, left_on="episode_id", right_index=True, how="left")
    out[CSC_STAGES] = out[CSC_STAGES].fillna(0).astype(int)
    nfa = out["referral_nfa"].astype("boolean").fillna(False).astype(bool)
    out["route"] = np.select(
        [nfa, out["cla_episode"] == 1, out["cp_plan"] == 1, out["s47"] == 1, out["cin_plan"] == 1,
         out["assessment"] == 1],
        [ROUTE_ORDER[0], "Looked after", "CP plan", "S47 enquiry, no CP plan", "CIN plan",
         "Assessment, no plan"], ROUTE_ORDER[1])
    return out


def routes_table(stages: pd.DataFrame) -> pd.DataFrame:
    """Referrals by the furthest point reached (rows) before and after transfer (columns).

    A two-way table of counts, published with totals and secondary suppression
    (``publish_table(crosstab=True)``) so no suppressed cell follows from the totals.
    """
    period = _transfer_period(stages["rel_month"])
    out = pd.crosstab(pd.Categorical(stages["route"], categories=ROUTE_ORDER), period,
                      dropna=False)
    out = out.reindex(index=ROUTE_ORDER, columns=PERIODS, fill_value=0)
    out.index, out.columns = pd.Index(ROUTE_ORDER, name="route"), pd.Index(PERIODS)
    return out


def route_flows(stages: pd.DataFrame) -> pd.DataFrame:
    """The Sankey's bands: referrals flowing from each stage to the next."""
    flows = []
    for r in stages.itertuples():
        if r.route == ROUTE_ORDER[0]:
            path = ["Referral", "No further action"]
        elif not r.assessment:
            path = ["Referral", "No assessment recorded"]
        else:
            path = ["Referral", "Assessment"]
            if r.s47:
                path += ["S47 enquiry", "CP plan" if r.cp_plan else "No CP plan"]
            else:
                path += ["CIN plan" if r.cin_plan else "No plan"]
        if r.cla_episode and r.route != ROUTE_ORDER[0]:
            path.append("Looked after")
        flows += list(zip(path[:-1], path[1:], range(len(path) - 1), strict=True))
    f = pd.DataFrame(flows, columns=["source", "target", "step"])
    out = f.groupby(["step", "source", "target"]).size().rename("referrals").reset_index()
    return (out.sort_values(["step", "referrals"], ascending=[True, False], kind="stable")
            .drop(columns="step").reset_index(drop=True))


def re_referrals(referrals: pd.DataFrame, referrals_all: pd.DataFrame) -> pd.DataFrame:
    """Share of referrals made within 12 months of the child's previous referral (DfE measure)."""
    allr = referrals_all.sort_values(["child_id", "start_date", "event_id"])
    allr = allr.assign(prev=allr.groupby("child_id")["start_date"].shift(1))
    r = referrals.merge(allr[["event_id", "prev"]], on="event_id", how="left")
    r["re"] = (r["start_date"] - r["prev"]).dt.days.le(365) & r["prev"].notna()
    r["period"] = _transfer_period(r["rel_month"])
    rows = [{"measure": "re-referral within 12 months", "period": p, "referrals": len(g),
             "re_referrals": int(g["re"].sum())}
            for p, g in [("All", r), *r.groupby("period", observed=True)]]
    out = pd.DataFrame(rows)
    return pd.concat([out, proportion_ci(out["re_referrals"], out["referrals"])], axis=1)


def early_help_escalation(early_help: pd.DataFrame, referrals_all: pd.DataFrame) -> pd.DataFrame:
    """Of early help episodes starting in follow-up: stepped up, or referred within 12 months."""
    eh = early_help.sort_values(["child_id", "start_date"])
    stepped = eh["outcome"].astype("string").str.contains("stepped up", case=False, na=False)
    ref = referrals_all[["child_id", "start_date"]].rename(columns={"start_date": "ref_date"})
    m = eh[["event_id", "child_id", "start_date"]].merge(ref, on="child_id", how="left")
    gap = (m["ref_date"] - m["start_date"]).dt.days
    referred = m[gap.between(0, 365)]["event_id"].unique()
    n = len(eh)
    rows = [{"measure": "Outcome recorded as stepped up to social care", "episodes": n,
             "count": int(stepped.sum())},
            {"measure": "Referral to children's social care within 12 months of the start",
             "episodes": n, "count": int(eh["event_id"].isin(referred).sum())}]
    out = pd.DataFrame(rows)
    out["pct"] = 100 * out["count"] / n if n else np.nan
    return out


# --- for commissioning -------------------------------------------------------------------------

def needs_profile(timeline: pd.DataFrame, single_view: pd.DataFrame,
                  school_terms: pd.DataFrame, params: SiteParams) -> pd.DataFrame:
    """Factors identified at assessment (grouped into themes) by age band and district.

    All assessments in the study window, not just the cohort's: age at the assessment from
    the single view's date of birth; district from the child's latest school census term
    on or before it ("Not known" before school age or out of school); "All districts" rows
    give each age band's profile.
    """
    a = select_events(timeline, "assessment", "csc")
    first, last = params.study_window.first_academic_year, params.study_window.last_academic_year
    a = a[(a["start_date"] >= f"{first}-09-01") & (a["start_date"] < f"{last + 1}-09-01")]
    dob = pd.to_datetime(a["child_id"].map(single_view.set_index("child_id")["dob"]),
                         errors="coerce")
    age = _age(dob, a["start_date"])
    a = a.assign(age_band=age_bands(age))
    t = school_terms[["child_id", "academic_year", "term", "district"]].copy()
    t["month"] = _term_last_month(t) - 3
    t = t.sort_values("month")
    a = pd.merge_asof(a.sort_values("month"), t[["child_id", "month", "district"]],
                      on="month", by="child_id", direction="backward")
    a["district"] = a["district"].fillna("Not known")
    a = pd.concat([a, a.assign(district="All districts")], ignore_index=True)
    codes = a[["event_id", "age_band", "district", "factors"]].assign(
        factor=a["factors"].fillna("").astype(str).str.split(",")).explode("factor")
    codes["factor"] = codes["factor"].str.strip().str.extract(r"^(\d+)", expand=False).map(
        FACTOR_THEMES)
    codes = codes.dropna(subset=["factor"]).drop_duplicates(["event_id", "district", "factor"])
    n = a.groupby(["age_band", "district"]).size().rename("assessments")
    k = codes.groupby(["age_band", "district", "factor"]).size().rename("assessments_with_factor")
    out = k.reset_index().merge(n.reset_index(), on=["age_band", "district"])
    out["pct"] = 100 * out["assessments_with_factor"] / out["assessments"]
    order = {b: i for i, (_, _, b) in enumerate(AGE_BANDS)}
    return (out.assign(o=out["age_band"].map(order).fillna(99))
            .sort_values(["o", "district", "factor"]).drop(columns="o").reset_index(drop=True))


# --- inputs and publishing ---------------------------------------------------------------------

def load_tables(params: SiteParams, data_dir: Path | str = "") -> dict[str, pd.DataFrame]:
    """The linked timeline, single view and school census terms (with child_id) of a site."""
    from . import linkage

    tables = linkage.prepare(params, data_dir or None)
    terms = tables.get("school_terms")
    if terms is None:
        path = derived_dir(params.site) / "canonical" / "school_terms.parquet"
        if not path.is_file():
            raise ProjectError("no canonical school_terms table", path=path)
        terms = pd.read_parquet(path)
    return {"timeline": tables["timeline"], "single_view": tables["single_view"],
            "school_terms": attach_child_id(terms, tables["record_map"])}


_RATE = {"counts": ["events"], "derived": {c: "events" for c in
                                            ("rate_per_10k", "ci_lower", "ci_upper")}}
# How each published table is protected: its count columns, what rests on them, and the
# groups whose totals are published (for secondary suppression).
TABLES = {
    "referrals_cohort": {"counts": ["children"], "within": ["subgroup"]},
    "referrals_rates_by_ncy": _RATE,
    "referrals_rates_by_month": _RATE,
    "referrals_rates_by_term": _RATE,
    "referrals_rates_by_calendar_month": _RATE,
    "referrals_rates_by_subgroup": {**_RATE, "within": ["measure", "subgroup"]},
    "referrals_source_mix": {"counts": ["referrals"], "derived": {"pct": "referrals"},
                             "within": ["period"]},
    "referrals_source_codes": {"counts": ["referrals"], "within": ["period", "source_group"]},
    "referrals_source_by_school_month": {"counts": ["referrals"], "derived": {"pct": "referrals"},
                                         "within": ["school_month"]},
    "referrals_first_referral_schools": {"counts": ["first_referrals", "from_schools"],
                                         "derived": {c: ["first_referrals", "from_schools"]
                                                     for c in ("pct", "ci_lower", "ci_upper")}},
    "referrals_rate_ratios": {"counts": ["events"], "derived": {
        c: "events" for c in ("rate_ratio", "ci_lower", "ci_upper", "p_value")}},
    "referrals_km_first_referral": {
        "counts": ["at_risk", "first_referrals"],
        "derived": {c: ["at_risk", "first_referrals"]
                    for c in ("cum_incidence_pct", "ci_lower", "ci_upper")},
        "within": ["subgroup", "months_since_year5"]},
    "referrals_logrank": {"counts": ["children", "first_referrals"]},
    "referrals_before_referral": {"counts": ["referred_children", "with_marker"],
                                  "derived": {"referred_pct": "with_marker"}},
    "referrals_routes": {"counts": [], "crosstab": True},
    "referrals_route_flows": {"counts": ["referrals"], "within": ["source"]},
    # the All row is the total of the others: the group is the whole table
    "referrals_re_referrals": {"counts": ["referrals", "re_referrals"], "derived": {
        c: ["referrals", "re_referrals"] for c in ("pct", "ci_lower", "ci_upper")},
        "within": ["measure"]},
    "referrals_early_help_escalation": {"counts": ["episodes", "count"],
                                        "derived": {"pct": "count"}},
    "referrals_needs_profile": {"counts": ["assessments_with_factor", "assessments"],
                                "derived": {"pct": "assessments_with_factor"},
                                "within": ["age_band", "factor"]},
}


DECIMALS = {"person_years": 1, "rate_per_10k": 1, "pct": 1, "referred_pct": 1, "cohort_pct": 1,
            "cum_incidence_pct": 1, "holiday_share": 2, "rate_ratio": 3, "chi2": 2}


def publish(df: pd.DataFrame, name: str, params: SiteParams, out_dir: Path | None = None
            ) -> pd.DataFrame:
    """Publish one of this module's tables (``TABLES``) through disclosure control.

    Figures are rounded as published: rates, person-years and percentages to 1 decimal place,
    rate ratios and their intervals to 3.
    """
    spec = TABLES[name]
    out = df.copy()
    for col in out.columns[out.dtypes == "category"]:
        out[col] = out[col].astype(str)
    for col, places in DECIMALS.items():
        if col in out:
            out[col] = out[col].astype(float).round(places)
    for col in ("ci_lower", "ci_upper"):
        if col in out:
            out[col] = out[col].astype(float).round(3 if "rate_ratio" in out else 1)
    if "p_value" in out:  # three significant figures, so small p-values are not shown as 0
        out["p_value"] = [float(f"{v:.3g}") for v in out["p_value"]]
    return publish_table(out, name, params, counts=spec["counts"], derived=spec.get("derived"),
                         within=spec.get("within"), crosstab=spec.get("crosstab", False),
                         out_dir=out_dir)


# --- figures: drawn only from published (protected) tables --------------------------------------

def _num(s: pd.Series) -> np.ndarray:
    return numeric(s.astype(object)).to_numpy(dtype=float)


def plot_rates(table: pd.DataFrame, x: str, title: str, xlabel: str):
    """Rate per 10,000 person-years with its 95% interval, one line per measure."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for measure, g in table.groupby("measure", sort=False):
        xs = g[x].to_numpy()
        rate, lo, hi = _num(g["rate_per_10k"]), _num(g["ci_lower"]), _num(g["ci_upper"])
        line, = ax.plot(xs, rate, marker="o", ms=3, label=measure)
        ax.fill_between(xs, lo, hi, alpha=0.2, color=line.get_color(), linewidth=0)
    ax.set(title=title, xlabel=xlabel, ylabel="Rate per 10,000 person-years")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def plot_source_mix(table: pd.DataFrame, by: str, title: str, xlabel: str):
    """Stacked bars: share of referrals from each source group (suppressed cells left blank)."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    levels = list(dict.fromkeys(table[by]))
    bottom = np.zeros(len(levels))
    for group in SOURCE_GROUP_ORDER:
        g = table[table["source_group"] == group].set_index(by).reindex(levels)
        pct = np.nan_to_num(_num(g["pct"]))
        ax.bar([str(v) for v in levels], pct, bottom=bottom, label=group)
        bottom += pct
    ax.set(title=title, xlabel=xlabel, ylabel="Share of referrals (%)", ylim=(0, 100))
    ax.legend(frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    return fig


def plot_km(table: pd.DataFrame, subgroup: str, title: str):
    """Cumulative share with a first referral since the start of Year 5, one step line per level."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for level, g in table[table["subgroup"] == subgroup].groupby("level", sort=False):
        ax.step(g["months_since_year5"], _num(g["cum_incidence_pct"]), where="post",
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


TERM_LABELS = {"period": "Transfer (vs rest of school year)", "sex": "Sex (vs F)",
               "fsm": "FSM (vs not FSM)", "sen_provision": "SEN (vs no SEN)",
               "ethnicity_group": "Ethnicity (vs White)", "district": "District",
               "age_band": "Age band (vs 10-15)", "ncy": "Year group (vs Year 5)",
               "academic_year": "Academic year", "school holidays": "School holidays",
               "persistent absence": "Persistent absence"}


def plot_rate_ratios(table: pd.DataFrame, title: str):
    """Forest plot of rate ratios with 95% intervals on a log scale."""
    t = table.copy()
    t["rr"], t["lo"], t["hi"] = _num(t["rate_ratio"]), _num(t["ci_lower"]), _num(t["ci_upper"])
    t = t.dropna(subset=["rr", "lo", "hi"]).reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(t) + 1.5))
    y = np.arange(len(t))[::-1]
    ax.errorbar(t["rr"], y, xerr=[t["rr"] - t["lo"], t["hi"] - t["rr"]], fmt="o", ms=4,
                capsize=2)
    ax.axvline(1, color="grey", linewidth=1)
    labels = [f"{TERM_LABELS.get(a, a)}: {b}" for a, b in zip(t["term"], t["level"], strict=True)]
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xscale("log")
    ticks = [v for v in (0.125, 0.25, 0.5, 1, 2, 4, 8, 16)
             if t["lo"].min() / 2 <= v <= t["hi"].max() * 2]
    ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set(title=title, xlabel="Rate ratio (log scale; 1 = no difference)")
    fig.tight_layout()
    return fig


def plot_sankey(flows: pd.DataFrame, title: str):
    """A Sankey of routes from referral, drawn with matplotlib (no web scripts).

    Nodes sit in columns by step; band widths are the published counts (suppressed bands are
    not drawn, so a node may look larger than its visible bands).
    """
    f = flows.assign(n=_num(flows["referrals"])).dropna(subset=["n"])
    f = f[f["n"] > 0]
    depth = {"Referral": 0}
    for r in f.itertuples():
        depth[r.target] = max(depth.get(r.target, 0), depth[r.source] + 1)
    size = {k: max(f.loc[f["target"] == k, "n"].sum(), f.loc[f["source"] == k, "n"].sum())
            for k in depth}
    total = size["Referral"] or 1.0
    gap, width = 0.04 * total, 0.12
    pos: dict[str, float] = {}
    for d in sorted(set(depth.values())):
        y = 0.0
        for k in [k for k in depth if depth[k] == d]:
            pos[k] = y
            y += size[k] + gap
    fig, ax = plt.subplots(figsize=(10, 5.5))
    colours = plt.get_cmap("tab10")
    out_off = {k: 0.0 for k in depth}
    in_off = {k: 0.0 for k in depth}
    for i, r in enumerate(f.itertuples()):
        x0, x1 = depth[r.source] + width, depth[r.target]
        y0 = pos[r.source] + out_off[r.source]
        y1 = pos[r.target] + in_off[r.target]
        out_off[r.source] += r.n
        in_off[r.target] += r.n
        xs = np.linspace(x0, x1, 50)
        w = (1 - np.cos(np.pi * (xs - x0) / (x1 - x0))) / 2
        ax.fill_between(xs, y0 + (y1 - y0) * w, y0 + r.n + (y1 - y0) * w,
                        color=colours(i % 10), alpha=0.45, linewidth=0)
    for k, d in depth.items():
        ax.add_patch(plt.Rectangle((d, pos[k]), width, size[k], color="0.3"))
        ax.text(d + width + 0.03, pos[k] + size[k] / 2, f"{k} ({int(size[k]):,})", va="center",
                fontsize=8, bbox={"facecolor": "white", "alpha": 0.7, "linewidth": 0})
    ax.set_xlim(-0.1, max(depth.values()) + 1.1)
    ax.set_ylim(max(pos[k] + size[k] for k in depth) + gap, -gap)
    ax.axis("off")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_needs(table: pd.DataFrame, title: str):
    """Heat map: share of assessments with each factor theme, by age band (all districts)."""
    t = table[table["district"] == "All districts"]
    t = t.assign(v=_num(t["pct"]), hidden=t["pct"].astype(str).isin(["c"]).astype(float))
    bands = [b for _, _, b in AGE_BANDS if b in set(t["age_band"])]
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


# --- sentences for the page, from published tables ---------------------------------------------

def describe_rate_ratio(table: pd.DataFrame, term: str, level: str, label: str) -> str:
    """One plain sentence for a published rate ratio (an association, not an effect)."""
    row = table[(table["term"] == term) & (table["level"] == level)]
    if row.empty:
        return f"{label}: not estimated (no such group in these data)."
    rr, lo, hi = (_num(row[c])[0] for c in ("rate_ratio", "ci_lower", "ci_upper"))
    if np.isnan(rr):
        return f"{label}: suppressed (too few referrals to publish)."
    return (f"{label}: the referral rate was {rr:.2f} times that of the comparison group "
            f"(95% CI {lo:.2f} to {hi:.2f}), the other terms held equal. An association in "
            "this population, not a cause.")
