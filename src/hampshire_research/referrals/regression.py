"""What changes at transfer: rate ratios from a Poisson (or negative binomial) regression of
monthly referral counts. Associations, not causes; nothing is predicted for a child."""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

from .cohort import SUBGROUPS, Cohort, month_index
from .tables import numbers


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
    keys = ["academic_year", "term", "calendar_month", "holiday_share", "schools_closed", "ncy",
            "period", *SUBGROUPS,
            "age_band", "absence_last_term"]
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
    term, with year group (NCY) and school term (autumn, spring, summer) as fixed effects, so
    the first term of Year 7 is set against the autumn terms of the other years and not
    against Year 7's spring and summer (autumn referral rates are higher in every year, so that
    contrast would measure the season); academic year, the holiday
    share of the month, sex, FSM, SEN provision, ethnicity group, district, age band and
    persistent absence in the previous term (this term's could follow a referral, or carry
    the move to secondary school itself); the months England's schools were closed
    (``SCHOOL_CLOSURE_MONTHS``), with the first school year open throughout as the reference
    year. With ``open_cases``, months a case was open throughout
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
            "term": "autumn", "absence_last_term": "Not persistent", "academic_year": None}
    # A group with no referrals has no finite rate ratio (the fit drives it to 0 with an
    # interval to infinity): its months are set aside from the fit and shown as not estimated.
    unestimated, empty = [], pd.Series(False, index=cells.index)
    for col in refs:
        levels = cells[col].astype(str)
        events = cells.groupby(levels)["referrals"].sum()
        for level in events.index[events == 0]:
            mask = levels == level
            empty |= mask
            unestimated.append({"term": col, "level": level, "events": 0,
                                "person_years_at_risk": cells.loc[mask, "person_months"].sum() / 12,
                                "model": "not estimated: no referrals in this group"})
    cells = cells[~empty]
    terms = []
    for col, pref in refs.items():
        levels = cells[col].astype(str)
        if levels.nunique() < 2:
            continue
        if col == "academic_year":  # the first year the schools were open throughout
            open_years = cells.groupby(levels)["schools_closed"].max().eq(0)
            ref = (open_years[open_years].index.min() if open_years.any()
                   else sorted(levels.unique())[0])
        else:
            ref = _reference(levels, pref) if pref else sorted(levels.unique())[0]
        cells[col] = levels
        terms.append(f"C({col}, Treatment(reference={ref!r}))")
    closures = ["schools_closed"] if cells["schools_closed"].nunique() > 1 else []
    formula = "referrals ~ " + " + ".join(terms + ["holiday_share"] + closures)
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
        elif name == "schools_closed":
            term, level = "school closures", "month schools were closed vs open"
            mask = cells[name] == 1
        else:
            col = name.split("(", 1)[1].split(",", 1)[0]
            term, level = col, name.rsplit("[T.", 1)[1].rstrip("]")
            mask = cells[col] == level
        sub = cells if mask is None else cells[mask]
        events = int(sub["referrals"].sum())
        # a level with no events has no estimate (its coefficient runs off to minus infinity)
        est = (np.exp([fit.params[name], ci.loc[name, 0], ci.loc[name, 1]]) if events
               else [np.nan] * 3)
        rows.append({"term": term, "level": level, "rate_ratio": est[0],
                     "ci_lower": est[1], "ci_upper": est[2],
                     "p_value": fit.pvalues[name] if events else np.nan, "events": events,
                     "person_years_at_risk": sub["person_months"].sum() / 12, "model": model})
    return RateRatios(pd.DataFrame(rows + unestimated), model, alpha, p, dispersion, left_out)


TERM_LABELS = {"period": "Transfer (vs rest of school year)", "sex": "Sex (vs F)",
               "fsm": "FSM (vs not FSM)", "sen_provision": "SEN (vs no SEN)",
               "ethnicity_group": "Ethnicity (vs White)", "district": "District",
               "age_band": "Age band (vs 10-15)", "ncy": "Year group (vs Year 5)",
               "term": "School term (vs autumn)", "school closures": "School closures (2020, 2021)",
               "academic_year": "Academic year", "school holidays": "School holidays",
               "absence_last_term": "Persistent absence last term (vs not)"}


def plot_rate_ratios(table: pd.DataFrame, title: str):
    """Forest plot of rate ratios with 95% intervals on a log scale."""
    t = table.copy()
    t["rr"], t["lo"], t["hi"] = numbers(t["rate_ratio"]), numbers(t["ci_lower"]), numbers(t["ci_upper"])
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


def describe_rate_ratio(table: pd.DataFrame, term: str, level: str, label: str) -> str:
    """One plain sentence for a published rate ratio (an association, not an effect)."""
    row = table[(table["term"] == term) & (table["level"] == level)]
    if row.empty:
        return f"{label}: not estimated (no such group in these data)."
    rr, lo, hi = (numbers(row[c])[0] for c in ("rate_ratio", "ci_lower", "ci_upper"))
    if str(row["rate_ratio"].iloc[0]) == "u":
        return f"{label}: not estimated (too few referrals or child-years for a reliable ratio)."
    if np.isnan(rr):
        return f"{label}: suppressed (too few referrals to publish)."
    reading = ("the interval includes 1, so these data show no clear difference" if lo <= 1 <= hi
               else "the interval excludes 1")
    return (f"{label}: the referral rate was {rr:.2f} times that of the comparison group "
            f"(95% CI {lo:.2f} to {hi:.2f}; {reading}), the other terms held equal. An "
            "association in this population, not a cause.")
