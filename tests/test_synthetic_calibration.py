"""Generated rates against the site's calibration parameters, within stated tolerances.

One Hampshire run at scale 0.1 (about 38,000 children) is read back from its files; the
denominators are truth/population.csv. Tolerances allow for sampling noise at that size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hampshire_research.params import load_site
from hampshire_research.synthetic import generate_site

pytestmark = pytest.mark.slow

BANDS = {"0": (0, 1), "1-4": (1, 5), "5-9": (5, 10), "10-15": (10, 16), "16-17": (16, 18)}
WINDOW = ("2019-04-01", "2025-03-31")


def _group(code: str) -> str:
    if code == "6":
        return "police"
    if code == "2A":
        return "schools"
    if code in ("9", "10"):
        return "unknown"
    return {"3": "health", "5": "la_services", "1": "individual"}.get(code[0], "other")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    params = load_site("hampshire")
    out = tmp_path_factory.mktemp("calibration")
    generate_site(params, 0.1, None, out)
    key = pd.read_csv(out / "truth" / "linkage_key.csv", dtype=str)
    child_of = dict(zip(key["record_id"], key["child_id"]))
    ref = pd.read_csv(out / "csc" / "ssd_cin_episodes.csv", dtype=str)
    ref["child"] = ("csc:" + ref["cine_person_id"]).map(child_of)
    ref["date"] = pd.to_datetime(ref["cine_referral_date"])
    ref["close"] = pd.to_datetime(ref["cine_close_date"])
    return {"params": params, "out": out, "child_of": child_of, "ref": ref,
            "pop": pd.read_csv(out / "truth" / "population.csv")}


def _in_window(ref: pd.DataFrame) -> pd.DataFrame:
    return ref[(ref["date"] >= WINDOW[0]) & (ref["date"] <= WINDOW[1])]


def _true_dob(run) -> dict:
    dob = {}
    for f in sorted((run["out"] / "school_census").rglob("pupils.csv")):
        p = pd.read_csv(f, dtype=str, usecols=["UPN", "DOB"])
        for upn, d in zip(p["UPN"], p["DOB"]):
            dob[run["child_of"]["school_census:" + upn]] = d
    return dob


def test_referral_rate_by_age_band_within_12_percent(run):
    ref = _in_window(run["ref"])
    person = pd.read_csv(run["out"] / "csc" / "ssd_person.csv", dtype=str)
    dob = dict(zip(person["pers_person_id"], pd.to_datetime(person["pers_dob"])))
    age = (ref["date"] - ref["cine_person_id"].map(dob)).dt.days / 365.25
    pop = run["pop"]
    for band, (lo, hi) in BANDS.items():
        n = ((age >= lo) & (age < hi)).sum()
        years = pop.loc[(pop["age"] >= lo) & (pop["age"] < hi), "person_years"].sum()
        target = run["params"].calibration.referrals_per_10k.by_age_band[band]
        assert n / years * 1e4 == pytest.approx(target, rel=0.12), band


def test_re_referrals_nfa_and_sources(run):
    cal = run["params"].calibration
    ref = run["ref"].sort_values(["child", "date"])
    prev = ref.groupby("child")["date"].shift(1)
    w = (ref["date"] >= WINDOW[0]) & (ref["date"] <= WINDOW[1])
    re = ((ref["date"] - prev).dt.days <= 365)[w].mean()
    assert re == pytest.approx(cal.re_referral_12m, abs=0.03)
    assert (ref.loc[w, "cine_referral_nfa"] == "Y").mean() == pytest.approx(cal.referral_nfa_share, abs=0.03)
    shares = ref.loc[w, "cine_referral_source_code"].map(_group).value_counts(normalize=True)
    for group, target in cal.referral_sources.shares.items():
        assert shares.get(group, 0) == pytest.approx(target, abs=0.025), group


def test_children_in_need_cp_and_looked_after_at_31_march(run):
    cal = run["params"].calibration
    ref, pop = run["ref"], run["pop"]
    cp = pd.read_csv(run["out"] / "csc" / "ssd_cp_plans.csv", dtype=str)
    cp["child"] = ("csc:" + cp["cppl_person_id"]).map(run["child_of"])
    rates = {"cin": [], "cp": [], "cla": []}
    for y in range(2020, 2026):
        day = pd.Timestamp(f"{y}-03-31")
        den = pop.loc[pop["collection_year"] == y, "children_31_march"].sum()
        open_ = (ref["date"] <= day) & (ref["close"].isna() | (ref["close"] > day))
        rates["cin"].append(ref.loc[open_, "child"].nunique() / den * 1e4)
        s, e = pd.to_datetime(cp["cppl_cp_plan_start_date"]), pd.to_datetime(cp["cppl_cp_plan_end_date"])
        rates["cp"].append(cp.loc[(s <= day) & (e.isna() | (e > day)), "child"].nunique() / den * 1e4)
        ep = pd.read_csv(run["out"] / "ssda903" / str(y) / "episodes.csv", dtype=str)
        s = pd.to_datetime(ep["DECOM"], format="%d/%m/%Y")
        e = pd.to_datetime(ep["DEC"], format="%d/%m/%Y")
        rates["cla"].append(ep.loc[(s <= day) & (e.isna() | (e > day)), "CHILD"].nunique() / den * 1e4)
    assert np.mean(rates["cin"]) == pytest.approx(cal.cin_per_10k, rel=0.10)
    assert np.mean(rates["cp"]) == pytest.approx(cal.cp_per_10k, rel=0.15)
    assert np.mean(rates["cla"]) == pytest.approx(cal.cla_per_10k, rel=0.15)


def test_school_measures_and_early_help(run):
    cal = run["params"].calibration
    out = run["out"]
    terms = [pd.read_csv(out / "school_census" / "2023-24" / t / "pupils.csv", dtype=str)
             for t in ("autumn", "spring", "summer")]
    autumn = terms[0]
    assert (autumn["FSMeligible"] == "true").mean() == pytest.approx(cal.fsm, abs=0.015)
    assert (autumn["SENprovision"] == "E").mean() == pytest.approx(cal.ehcp, abs=0.008)
    assert (autumn["SENprovision"] == "K").mean() == pytest.approx(cal.sen_support, abs=0.012)
    att = pd.concat([pd.read_csv(out / "school_census" / "2023-24" / t / "attendance.csv",
                                 dtype={"UPN": str}) for t in ("autumn", "spring", "summer")])
    att = att.groupby("UPN")[["SessionsPossible", "SessionsAuthorised", "SessionsUnauthorised"]].sum()
    missed = (att["SessionsAuthorised"] + att["SessionsUnauthorised"]) / att["SessionsPossible"]
    assert (missed >= 0.1).mean() == pytest.approx(cal.persistent_absence, abs=0.025)
    ex = pd.read_csv(out / "school_census" / "2023-24" / "exclusions.csv", dtype=str)
    assert (ex["Category"] == "FIXD").sum() / len(autumn) * 100 == pytest.approx(
        cal.suspensions_per_100, rel=0.1)
    eh = pd.read_csv(out / "early_help" / "early_help_episodes.csv", dtype=str)
    start = pd.to_datetime(eh["StartDate"], format="%d/%m/%Y")
    n = ((start >= WINDOW[0]) & (start <= WINDOW[1]) & (eh["Reason"] != "Step down from social care")).sum()
    assert n / run["pop"]["person_years"].sum() * 1e4 == pytest.approx(cal.early_help_per_10k, rel=0.1)


def _pupil_years(run) -> pd.DataFrame:
    """One row per pupil and academic year (autumn census) with the year's referrals."""
    out, child_of = run["out"], run["child_of"]
    rows = []
    for ay in range(2019, 2025):
        label = f"{ay}-{str(ay + 1)[2:]}"
        p = pd.read_csv(out / "school_census" / label / "autumn" / "pupils.csv", dtype=str)
        att = pd.concat([pd.read_csv(out / "school_census" / label / t / "attendance.csv",
                                     dtype={"UPN": str}) for t in ("autumn", "spring", "summer")])
        att = att.groupby("UPN").sum(numeric_only=True)
        missed = (att["SessionsAuthorised"] + att["SessionsUnauthorised"]) / att["SessionsPossible"]
        ex = pd.read_csv(out / "school_census" / label / "exclusions.csv", dtype=str)
        p["ay"] = ay
        p["child"] = ("school_census:" + p["UPN"]).map(child_of)
        p["pa"] = p["UPN"].map(missed).fillna(0) >= 0.1
        p["suspended"] = p["UPN"].isin(ex["UPN"])
        rows.append(p)
    py = pd.concat(rows, ignore_index=True)
    eh = pd.read_csv(out / "early_help" / "early_help_episodes.csv", dtype=str)
    eh["child"] = ("early_help:" + eh["EHPersonID"]).map(child_of)
    eh_start = pd.to_datetime(eh["StartDate"], format="%d/%m/%Y")
    eh_ay = np.where(eh_start.dt.month >= 9, eh_start.dt.year, eh_start.dt.year - 1)
    eh_keys = set(zip(eh["child"], eh_ay)) | set(zip(eh["child"], eh_ay + 1))
    py["early_help"] = [(c, a) in eh_keys for c, a in zip(py["child"], py["ay"])]
    return py


def test_year7_first_term_and_fsm_rate_ratios_are_recoverable(run):
    eff = run["params"].calibration.effects
    py = _pupil_years(run)
    ref = run["ref"]
    ref = ref[ref["child"].notna()].copy()
    ref["ay"] = np.where(ref["date"].dt.month >= 9, ref["date"].dt.year, ref["date"].dt.year - 1)
    ref["term"] = np.where(ref["date"].dt.month >= 9, "sep_dec", "jan_aug")
    counts = ref.groupby(["child", "ay", "term"]).size().unstack(fill_value=0)
    py = py.join(counts, on=["child", "ay"]).fillna({"sep_dec": 0, "jan_aug": 0})
    # Year 7's first term against the rest of the year, relative to Years 6 and 8 (the
    # seasons cancel): a difference in differences of rates.
    def ratio(sel):
        return (py.loc[sel, "sep_dec"].sum() / 4) / (py.loc[sel, "jan_aug"].sum() / 8)
    y7 = ratio(py["NCyearActual"] == "7")
    y68 = ratio(py["NCyearActual"].isin(["6", "8"]))
    print(f"year 7 first term RR {y7 / y68:.2f}")
    assert 1.05 < y7 / y68 < 1.9 and y7 / y68 == pytest.approx(eff.year7_first_term_rr, rel=0.3)
    # FSM among pupils with no other raised factor (no SEN, absence, suspension, early help)
    clean = (py["SENprovision"] == "N") & ~py["pa"] & ~py["suspended"] & ~py["early_help"]
    n = py["sep_dec"] + py["jan_aug"]
    fsm = py["FSMeligible"] == "true"
    rr = n[clean & fsm].mean() / n[clean & ~fsm].mean()
    print(f"FSM RR {rr:.2f}")
    assert rr == pytest.approx(eff.fsm_rr, rel=0.25)


def test_school_referrals_fall_in_the_summer_holiday(run):
    ref = _in_window(run["ref"])
    school = ref["cine_referral_source_code"] == "2A"
    month = ref["date"].dt.month
    share_aug = school[month == 8].mean()
    share_term = school[month.isin([9, 10, 11, 1, 2, 3, 5, 6])].mean()
    assert share_aug < share_term * 0.9
