"""What changes at transfer: rate ratios from a Poisson regression of monthly referral counts,
with intervals clustered by child. Associations, not causes; nothing is predicted for a child."""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import sparse, stats

from ..codes import distinct_rows
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


KEYS = ["academic_year", "term", "calendar_month", "holiday_share", "school_closures", "ncy",
        "period", *SUBGROUPS, "age_band", "absence_last_term"]
MODEL = "Poisson, 95% intervals clustered by child"


def child_months(cohort: Cohort, events: pd.DataFrame, open_cases: pd.DataFrame | None = None
                 ) -> pd.DataFrame:
    """One row per child-month at risk: every model term (``KEYS``) and its referral count.

    With ``open_cases`` (from ``open_case_months``) those child-months are left out. Grouped
    by ``KEYS`` these are the regression's cells; kept per child they give the clustering.
    """
    m, children = cohort.months, pd.Index(cohort.children["child_id"])
    key = _month_key(m, children)
    if open_cases is not None:
        at_risk = ~np.isin(key, _month_key(open_cases, children))
        m, key = m[at_risk], key[at_risk]
    counts = pd.Series(_month_key(events, children)).value_counts().reindex(key, fill_value=0)
    m = m.reindex(columns=["child_id", "month", *KEYS])  # a new frame, not a slice of one
    m.index = pd.RangeIndex(len(m))
    m["referrals"] = counts.to_numpy()
    return m


def _month_key(rows: pd.DataFrame, children: pd.Index) -> np.ndarray:
    """One whole number for each row's (child_id, month), -1 for a child not in ``children``:
    matching a county's child-months on numbers, not on text and month, took a tenth of the
    time and memory."""
    child = children.get_indexer(rows["child_id"])
    return np.where(child < 0, -1, child.astype(np.int64) * 1_000_000
                    + rows["month"].to_numpy(np.int64))


def child_clustered_cov(fit, cell: np.ndarray, child: np.ndarray, referrals: np.ndarray
                        ) -> np.ndarray:
    """Covariance of a Poisson fit on cells, robust to referrals of one child being related.

    The fit is on cells of child-months; ``cell``, ``child`` and ``referrals`` give each
    child-month's cell (row of the fit), child (codes) and count. A child's score is the sum of
    its months' scores; the Liang-Zeger sandwich of those scores, with the small-sample factor
    G/(G-1) for G children, is what statsmodels' ``cov_type="cluster"`` gives on the
    child-month rows themselves, without building that N-row design.
    """
    x = np.asarray(fit.model.exog)
    rate = np.asarray(fit.fittedvalues) / np.exp(np.asarray(fit.model.offset)) / 12
    resid = referrals - rate[cell]  # per child-month: count minus its cell's monthly rate
    child_code, groups = pd.factorize(child, sort=True)  # np.unique's, by hashing
    per_child = sparse.coo_matrix((resid, (child_code, cell)),
                                  shape=(len(groups), len(x))).tocsr()
    scores = np.asarray(per_child @ x)
    bread = np.asarray(fit.normalized_cov_params)
    g = len(groups)
    return bread @ (scores.T @ scores) @ bread * g / (g - 1)


def _reference(levels: pd.Series, preferred: str) -> str:
    counts = levels.value_counts()
    return preferred if preferred in counts.index else counts.index[0]


@dataclass(frozen=True)
class RateRatios:
    table: pd.DataFrame
    model: str  # MODEL
    pearson_dispersion: float  # Pearson chi2 / df of the Poisson fit on cells
    children_referred_again: int  # children with two or more referrals in the model's months
    referrals_left_out: int  # referrals in months a case was already open throughout


def month_cells(rows: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Child-months summed into cells of the model's terms (KEYS: person_months, referrals),
    in the order grouping on the terms gives, and each child-month's cell.

    Each term is coded in sorted order and the cells are the distinct rows of codes
    (``codes.distinct_rows``): at county scale, grouping millions of rows on 16 text columns
    took 18 s and 2 GB, and 16 terms' codes as 64-bit numbers another 0.5 GB.
    """
    codes = {}
    for k in KEYS:  # each term's codes in the smallest whole-number type that holds them
        c, levels = pd.factorize(rows[k], sort=True)
        codes[k] = c.astype(np.min_scalar_type(-len(levels))), levels
    if any((c < 0).any() for c, _ in codes.values()):  # the cohort fills every term
        raise ValueError("child-months with a missing model term")
    digits, row_cell = distinct_rows([c for c, _ in codes.values()],
                                     [len(levels) for _, levels in codes.values()])
    cells = pd.DataFrame({k: np.asarray(levels)[d]
                          for (k, (_, levels)), d in zip(codes.items(), digits, strict=True)})
    cells["person_months"] = np.bincount(row_cell, minlength=len(cells))
    cells["referrals"] = np.bincount(row_cell, weights=rows["referrals"].to_numpy(),
                                     minlength=len(cells)).astype(int)
    return cells, row_cell


def fit_rate_ratios(cohort: Cohort, referrals: pd.DataFrame,
                    open_cases: pd.DataFrame | None = None) -> RateRatios:
    """Rate ratios for referrals: transfer months, school holidays and subgroups.

    Monthly counts with log person-time offset. Terms: Year 7 first term and Year 6 summer
    term, with year group (NCY) and school term (autumn, spring, summer) as fixed effects, so
    the first term of Year 7 is set against the autumn terms of the other years and not
    against Year 7's spring and summer (autumn referral rates are higher in every year, so that
    contrast would measure the season); academic year, the holiday
    share of the month, sex, FSM, SEN provision, ethnicity group, district, age band and
    persistent absence in the previous term (this term's could follow a referral, or carry
    the move to secondary school itself); the months England's schools were closed
    (``SCHOOL_CLOSURE_MONTHS``) and the first two months back (``SCHOOL_REOPENING_MONTHS``)
    against months open as usual, with the first school year open throughout as the reference
    year. With ``open_cases``, months a case was open throughout
    are left out of the person-time: a child with an open case is not at risk of a new
    referral (referrals in them are counted in ``referrals_left_out``).

    Early help and suspensions are described (``before_referral``), not adjusted for: early
    help often follows social care (step-down) and both share causes with referral that the
    data do not hold, so as terms they would distort the other ratios.

    Point estimates from the Poisson model; intervals and p-values from the sandwich clustered
    by child (``child_clustered_cov``), as one child's referrals are not independent. That
    holds the intervals honest under overdispersion from children's differing rates without
    choosing a negative binomial's form for it. Associations, not causes.
    """
    rows = child_months(cohort, referrals, open_cases)
    cells, row_cell = month_cells(rows)
    child, counts = rows["child_id"].to_numpy(), rows["referrals"].to_numpy()
    del rows  # a county's child-months take 0.6 GB; the fit needs only these two of them
    left_out = len(referrals) - int(cells["referrals"].sum())
    refs = {"period": "Other months", "sex": "F", "fsm": "Not FSM", "sen_provision": "No SEN",
            "ethnicity_group": "White", "district": None, "age_band": "10-15", "ncy": None,
            "term": "autumn", "absence_last_term": "Not persistent", "academic_year": None,
            "school_closures": "Open"}
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
    position = np.cumsum(~empty.to_numpy()) - 1  # a kept cell's row in the fit
    kept = ~empty.to_numpy()[row_cell]
    cells = cells[~empty].reset_index(drop=True)
    terms = []
    for col, pref in refs.items():
        levels = cells[col].astype(str)
        if levels.nunique() < 2:
            continue
        if col == "academic_year":  # the first year the schools were open throughout
            open_years = cells.groupby(levels)["school_closures"].agg(lambda v: v.eq("Open").all())
            ref = (open_years[open_years].index.min() if open_years.any()
                   else sorted(levels.unique())[0])
        else:
            ref = _reference(levels, pref) if pref else sorted(levels.unique())[0]
        # the reference level first, then the others in sorted order: patsy's treatment
        # coding of it is the design C(col, Treatment(ref)) gives on the text, read from the
        # codes (inside C(), patsy tests each of half a million cells for a missing value)
        cells[col] = pd.Categorical(levels, categories=[ref, *sorted(set(levels.unique()) - {ref})])
        terms.append(col)
    formula = "referrals ~ " + " + ".join(terms + ["holiday_share"])
    offset = np.log(cells["person_months"] / 12)
    fit = smf.glm(formula, cells, family=sm.families.Poisson(), offset=offset).fit()
    dispersion = float(fit.pearson_chi2 / fit.df_resid)
    counts, child = counts[kept], child[kept]
    cov = child_clustered_cov(fit, position[row_cell[kept]], child, counts)
    se = pd.Series(np.sqrt(np.diag(cov)), index=fit.params.index)
    z = stats.norm.ppf(0.975)
    again = int((pd.Series(counts).groupby(child).sum() >= 2).sum())
    out = []
    for name in fit.params.index:
        if name == "Intercept":
            continue
        if name == "holiday_share":
            term, level, mask = "school holidays", "month all holiday vs all term", None
        else:
            term, level = name.removesuffix("]").split("[T.", 1)
            mask = cells[term] == level
        sub = cells if mask is None else cells[mask]
        events = int(sub["referrals"].sum())
        b, s = fit.params[name], se[name]
        # a level with no events has no estimate (its coefficient runs off to minus infinity)
        est = np.exp([b, b - z * s, b + z * s]) if events else [np.nan] * 3
        out.append({"term": term, "level": level, "rate_ratio": est[0],
                    "ci_lower": est[1], "ci_upper": est[2],
                    "p_value": 2 * stats.norm.sf(abs(b / s)) if events else np.nan,
                    "events": events, "person_years_at_risk": sub["person_months"].sum() / 12,
                    "model": MODEL})
    return RateRatios(pd.DataFrame(out + unestimated), MODEL, dispersion, again, left_out)


TERM_LABELS = {"period": "Transfer (vs the same term in other years)", "sex": "Sex (vs F)",
               "fsm": "FSM (vs not FSM)", "sen_provision": "SEN (vs no SEN)",
               "ethnicity_group": "Ethnicity (vs White)", "district": "District",
               "age_band": "Age band (vs 10-15)", "ncy": "Year group (vs Year 5)",
               "term": "School term (vs autumn)",
               "school_closures": "Schools closed in 2020 and 2021, and reopening (vs open)",
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
