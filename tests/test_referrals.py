"""Referrals across the transition, on small hand-built timelines where every figure is known.

The world: five children, Hampshire's study window (2019/20 to 2024/25).
- A: Year 5 in 2019/20 (starts Year 7 in Sept 2021), on roll Years 5-8 (48 months); FSM;
  moves primary school in Jan 2021; persistent absence in the summer term of Year 6; early
  help Jun-Aug 2021 (stepped up); referred 15 Sep 2021 (schools, assessed, CIN plan) and
  10 May 2022 (police, NFA: a re-referral within 12 months).
- B: Year 7 in 2019/20, on roll Year 7 and autumn of Year 8 (16 months); referred 1 Nov 2019
  (5D early help: assessment, S47, CP plan, looked after) and 1 Feb 2021 (after leaving).
- C: joins in spring of Year 6 (2022/23) and stays to the end of Year 7 (20 months), then a
  Year 9 term (outside the cohort); suspended 10 May 2023; referred 5 Oct 2023 (schools,
  assessed, no factors).
- E: on roll in Year 7 in 2021/22 only (12 months), nothing happens.
- D: Year 3, not in the cohort; referred and assessed (domestic abuse) in Jan 2020.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hampshire_research import referrals as rf
from hampshire_research.errors import ProjectError
from hampshire_research.params import load_site

TERMS = ["autumn", "spring", "summer"]


@pytest.fixture(scope="module")
def params():
    return load_site("hampshire")


def _terms(child, years_ncy, district, fsm=False, sen="N", urn="P1", drop=(), extra=None):
    rows = []
    for ay, ncy in years_ncy:
        for term in TERMS:
            if (ay, term) in drop:
                continue
            rows.append({"record_id": f"school_census:{child}", "child_id": child,
                         "academic_year": ay, "term": term, "ncy": str(ncy), "fsm": fsm,
                         "sen_provision": sen, "district": district,
                         "urn": urn if ncy < 7 else "S1", "sessions_possible": 100,
                         "sessions_authorised": 2, "sessions_unauthorised": 1})
    out = pd.DataFrame(rows)
    for (ay, term), values in (extra or {}).items():
        for col, v in values.items():
            out.loc[(out["academic_year"] == ay) & (out["term"] == term), col] = v
    return out


def _world():
    a = _terms("A", [("2019/20", 5), ("2020/21", 6), ("2021/22", 7), ("2022/23", 8)], "Hart",
               fsm=True,
               extra={("2020/21", "spring"): {"urn": "P2"}, ("2020/21", "summer"): {"urn": "P2",
                      "sessions_authorised": 5, "sessions_unauthorised": 6}})
    b = _terms("B", [("2019/20", 7), ("2020/21", 8)], "Havant", sen="K",
               drop={("2020/21", "spring"), ("2020/21", "summer")},
               extra={("2020/21", "autumn"): {"sen_provision": "N"}})
    c = _terms("C", [("2022/23", 6), ("2023/24", 7), ("2024/25", 9)], "Hart", sen="E",
               drop={("2022/23", "autumn"), ("2024/25", "spring"), ("2024/25", "summer")})
    e = _terms("E", [("2021/22", 7)], "Rushmoor")
    d = _terms("D", [("2019/20", 3)], "Rushmoor", drop={("2019/20", "spring"),
                                                        ("2019/20", "summer")})
    terms = pd.concat([a, b, c, e, d], ignore_index=True)
    single_view = pd.DataFrame({
        "child_id": ["A", "B", "C", "D", "E"], "sex": ["F", "M", "F", "M", "M"],
        "dob": pd.to_datetime(["2010-03-10", "2008-05-01", "2012-01-20", "2013-06-01",
                               "2010-04-04"]),
        "ethnicity": ["WBRI", "BAFR", None, "WBRI", "CHNE"]})
    ev = [
        # child, type, source, date, end, episode, referral_source, nfa, factors, outcome
        ("A", "early_help", "early_help", "2021-06-01", "2021-08-31", "EH1", None, None, None,
         "Stepped up to social care"),
        ("A", "contact", "csc", "2021-09-10", None, "C1", "2A", None, None, None),
        ("A", "referral", "csc", "2021-09-15", "2022-03-31", "E1", "2A", False, None, None),
        ("A", "assessment", "csc", "2021-09-20", None, "E1", None, None, "3B,4B", None),
        ("A", "cin_plan", "csc", "2021-11-01", None, "E1", None, None, None, None),
        ("A", "referral", "csc", "2022-05-10", "2022-05-10", "E2", "6", True, None, None),
        ("B", "referral", "csc", "2019-11-01", None, "E3", "5D", False, None, None),
        ("B", "assessment", "csc", "2019-11-05", None, "E3", None, None, "16A", None),
        ("B", "s47", "csc", "2019-11-06", None, "E3", None, None, None, None),
        ("B", "cp_plan", "csc", "2019-12-01", None, "E3", None, None, None, None),
        ("B", "cla_episode", "csc", "2020-02-01", None, "E3", None, None, None, None),
        ("B", "referral", "csc", "2021-02-01", None, "E5", "6", True, None, None),
        ("C", "suspension", "school_census", "2023-05-10", None, None, None, None, None, None),
        ("C", "referral", "csc", "2023-10-05", "2023-12-15", "E4", "2A", False, None, None),
        ("C", "assessment", "csc", "2023-10-10", None, "E4", None, None, "21", None),
        ("D", "referral", "csc", "2020-01-05", "2020-01-05", "E6", "1A", False, None, None),
        ("D", "assessment", "csc", "2020-01-10", None, "E6", None, None, "3A", None),
    ]
    timeline = pd.DataFrame(ev, columns=["child_id", "event_type", "source", "start_date",
                                         "end_date", "episode_id", "referral_source",
                                         "referral_nfa", "factors", "outcome"])
    timeline["start_date"] = pd.to_datetime(timeline["start_date"])
    timeline["end_date"] = pd.to_datetime(timeline["end_date"])
    timeline.insert(0, "event_id", [f"ev{i:02d}" for i in range(len(timeline))])
    return terms, single_view, timeline


@pytest.fixture(scope="module")
def world(params):
    terms, sv, tl = _world()
    cohort = rf.build_cohort(terms, sv, params)
    refs_all = rf.select_events(tl, "referral", "csc")
    refs, dropped = rf.cohort_events(cohort, refs_all)
    return {"terms": terms, "sv": sv, "tl": tl, "cohort": cohort, "refs": refs,
            "refs_all": refs_all, "dropped": dropped}


def test_cohort_months_and_set_aside(world):
    c = world["cohort"]
    assert c.months.groupby("child_id").size().to_dict() == {"A": 48, "B": 16, "C": 20, "E": 12}
    a = c.months[c.months["child_id"] == "A"]
    assert a["rel_month"].min() == -24 and a["rel_month"].max() == 23
    sept21 = a[a["rel_month"] == 0].iloc[0]
    assert (sept21["month"], sept21["calendar_month"], sept21["ncy"]) == (2021 * 12 + 8, 9, 7)
    assert sept21["period"] == "Year 7 first term" and sept21["age_band"] == "10-15"
    assert c.set_aside["term rows outside the window or NCY"] == 2  # D's and C's Year 9 terms
    kids = c.children.set_index("child_id")
    assert kids.loc["C", "entry_rel"] == -8 and kids.loc["C", "exit_rel"] == 12
    assert kids.loc["B", "ethnicity_group"] == "Black"
    assert kids.loc["C", "ethnicity_group"] == "Unknown"
    assert kids.loc["E", "ethnicity_group"] == "Asian"
    assert kids.loc["A", "fsm"] == "FSM" and kids.loc["C", "sen_provision"] == "EHC plan"
    # absence is the previous term's: A's term with 10% missed marks A's next term, and each
    # child's first term followed has no previous term to read
    last = c.months.groupby(["child_id", "absence_last_term"], observed=True).size().unstack(fill_value=0)
    assert last["Persistent"].to_dict() == {"A": 4, "B": 0, "C": 0, "E": 0}
    assert last["Not known (first term followed)"].to_dict() == {"A": 4, "B": 4, "C": 4, "E": 4}


def test_a_term_in_another_ncy_than_its_follow_up_year_is_set_aside(params):
    """A repeats Year 6 in 2021/22 but has more terms that put the move to Year 7 in 2021, so
    that year's months would count as Year 6 by NCY and Year 7 by month."""
    terms, sv, _ = _world()
    a = terms["child_id"].eq("A") & terms["academic_year"].eq("2021/22")
    terms.loc[a, "ncy"] = "6"
    c = rf.build_cohort(terms, sv, params)
    assert c.set_aside["term months in another NCY than their year of follow-up"] == 12
    months = c.months
    assert (months["ncy"] == months["rel_month"] // 12 + 7).all()
    assert len(months[months["child_id"] == "A"]) == 36


def test_events_outside_follow_up_are_counted_not_lost(world):
    assert len(world["refs"]) == 4
    assert world["dropped"] == {"of children not in the cohort": 1,
                                "of cohort children outside their follow-up months": 1}


def test_rates_by_ncy_with_garwood_intervals(world):
    r = rf.rates(world["cohort"], world["refs"], ["ncy"]).set_index("ncy")
    assert r["person_years"].to_dict() == pytest.approx({5: 1.0, 6: 20 / 12, 7: 4.0, 8: 4 / 3})
    assert r["events"].to_dict() == {5: 0, 6: 0, 7: 4, 8: 0}
    assert r.loc[7, "rate_per_10k"] == pytest.approx(10_000)
    assert r.loc[7, "ci_lower"] == pytest.approx(stats.chi2.ppf(0.025, 8) / 2 / 4 * 1e4)
    assert r.loc[7, "ci_lower"] == pytest.approx(2724.67, abs=0.01)  # 1.08987 / 4 py
    assert r.loc[7, "ci_upper"] == pytest.approx(25604.0, abs=1.0)  # 10.2416 / 4 py
    assert r.loc[5, "ci_lower"] == 0 and r.loc[5, "ci_upper"] == pytest.approx(36888.8, abs=0.1)


def test_rates_by_month_and_subgroup(world):
    m = rf.rates(world["cohort"], world["refs"], ["rel_month"]).set_index("rel_month")
    assert m.loc[0, "events"] == 1 and m.loc[0, "person_years"] == pytest.approx(4 / 12)
    assert m.loc[1, "events"] == 1 and m.loc[2, "events"] == 1 and m.loc[8, "events"] == 1
    assert m["person_years"].sum() == pytest.approx(8.0)
    s = rf.rates_by_subgroup(world["cohort"], {"referrals": world["refs"]})
    fsm = s[(s["subgroup"] == "fsm")].set_index("level")
    assert fsm.loc["FSM", "events"] == 2 and fsm.loc["FSM", "person_years"] == 4.0
    assert fsm.loc["Not FSM", "rate_per_10k"] == pytest.approx(2 / 4 * 1e4)


def test_measures_contacts_and_early_help(world):
    ms = rf.measure_events(world["cohort"], world["tl"])
    assert {k: len(v) for k, v in ms.items()} == {"referrals": 4, "contacts": 1,
                                                  "early help starts": 1}


def test_source_mix_and_5d_with_la_services(world):
    mix = rf.source_mix_by_period(world["refs"]).set_index(["period", "source_group"])
    after = mix.loc["After transfer (Years 7-8)"]
    assert after["referrals"].to_dict() == {"Police": 1, "Schools": 2, "Health": 0,
                                            "LA services": 1, "Individual": 0, "Other": 0,
                                            "Unknown": 0}
    assert after.loc["Schools", "pct"] == 50
    assert rf.source_group(pd.Series(["5D", "02A", "3E", "10", "x", None])).tolist() == [
        "LA services", "Schools", "Health", "Unknown", "Unknown", "Unknown"]
    codes = rf.source_codes_by_period(world["refs"])
    assert codes.set_index("referral_source").loc["5D", "referrals"] == 1


def test_first_referrals_from_schools_in_first_term(world):
    label = "Year 7 autumn term (first term of secondary school)"
    t = rf.first_referral_school_share(world["refs"], world["refs_all"]).set_index("term")
    y7 = t.loc[label]
    assert (y7["first_referrals"], y7["from_schools"]) == (3, 2)
    assert y7["pct"] == pytest.approx(200 / 3)
    lo, hi = stats.beta.ppf(0.025, 2, 2), stats.beta.ppf(0.975, 3, 1)
    assert (y7["ci_lower"], y7["ci_upper"]) == pytest.approx((100 * lo, 100 * hi))
    # C was referred once before follow-up began (in Year 4): its October 2023
    # referral is not its first, as in the Kaplan-Meier, so it leaves the table
    earlier = world["refs_all"][world["refs_all"]["child_id"] == "C"].assign(
        event_id="ev99", start_date=pd.Timestamp("2021-03-01"))
    t = rf.first_referral_school_share(world["refs"], pd.concat([world["refs_all"], earlier])
                                       ).set_index("term")
    assert (t.loc[label, "first_referrals"], t.loc[label, "from_schools"]) == (2, 1)


def test_kaplan_meier_with_delayed_entry(world):
    times, before = rf.first_referral_times(world["cohort"], world["refs_all"])
    assert before == 0
    t = times.set_index("child_id")
    assert t[["entry", "time", "status"]].to_dict("index") == {
        "A": {"entry": 0, "time": 25, "status": 1}, "B": {"entry": 24, "time": 27, "status": 1},
        "C": {"entry": 16, "time": 26, "status": 1}, "E": {"entry": 24, "time": 36, "status": 0}}
    km = rf.km_first_referral(times, times=[24, 25, 26, 28])
    allk = km[km["subgroup"] == "All"].set_index("months_since_year5")
    # at 25: 4 at risk, 1 event -> S = 3/4; at 26: 3 at risk -> 1/2; at 27: 2 at risk -> 1/4
    assert allk["cum_incidence_pct"].to_dict() == pytest.approx({24: 0, 25: 25, 26: 50, 28: 75})
    assert allk["at_risk"].to_dict() == {24: 4, 25: 3, 26: 2, 28: 1}
    assert allk.loc[28, "first_referrals"] == 3
    assert allk.loc[28, "ci_lower"] < 75 < allk.loc[28, "ci_upper"]
    lr = rf.logrank_tests(times).set_index("subgroup")
    assert lr.loc["sex", "df"] == 1 and 0 <= lr.loc["sex", "p_value"] <= 1


def test_what_came_before(world, params):
    markers = rf.marker_months(world["terms"], world["tl"], last_month=2025 * 12 + 7)
    got = set(map(tuple, markers[["child_id", "marker"]].drop_duplicates().to_numpy()))
    assert got == {("A", "early help"), ("A", "persistent absence"), ("A", "school move"),
                   ("B", "SEN change"), ("C", "suspension")}
    moves = markers[markers["marker"] == "school move"]["month"].tolist()
    assert moves == [2021 * 12]  # January 2021; the move to secondary school is not one
    b = rf.before_referral(world["cohort"], world["refs"], markers).set_index(
        ["window_months", "marker"])
    assert (b["referred_children"] == 3).all()
    assert b.loc[(6, "early help"), "with_marker"] == 1
    assert b.loc[(6, "school move"), "with_marker"] == 0
    assert b.loc[(12, "school move"), "with_marker"] == 1
    assert b.loc[(6, "suspension"), "with_marker"] == 1
    assert b.loc[(6, "persistent absence"), "with_marker"] == 1
    assert b.loc[(12, "SEN change"), "with_marker"] == 0
    # the cohort in Sep 2021 is A (had early help) and E (did not): (1/2 + 0 + 0) / 3
    assert b.loc[(6, "early help"), "cohort_pct"] == pytest.approx(100 / 6)
    assert b.loc[(6, "early help"), "referred_pct"] == pytest.approx(100 / 3)


def test_routes_flows_and_re_referrals(world):
    stages = rf.referral_stages(world["refs"], world["tl"])
    assert dict(zip(stages["episode_id"], stages["route"], strict=True)) == {
        "E1": "CIN plan", "E2": "No further action at referral", "E3": "Looked after",
        "E4": "Assessment, no plan"}
    routes = rf.routes_table(stages)
    assert routes.to_numpy().sum() == 4 and list(routes.index) == rf.ROUTE_ORDER
    assert routes.loc["CIN plan", "After transfer (Years 7-8)"] == 1
    assert (routes["Before transfer (Years 5-6)"] == 0).all()
    flows = rf.route_flows(stages).set_index(["source", "target"])["referrals"].to_dict()
    assert flows == {("Referral", "Assessment"): 3, ("Referral", "No further action"): 1,
                     ("Assessment", "CIN plan"): 1, ("Assessment", "No plan"): 1,
                     ("Assessment", "S47 enquiry"): 1, ("S47 enquiry", "CP plan"): 1,
                     ("CP plan", "Looked after"): 1}
    rr = rf.re_referrals(world["refs"], world["refs_all"]).set_index("period")
    assert (rr.loc["All", "referrals"], rr.loc["All", "re_referrals"]) == (4, 1)
    eh = rf.measure_events(world["cohort"], world["tl"])["early help starts"]
    esc = rf.early_help_escalation(eh, world["refs_all"])
    assert esc["count"].tolist() == [1, 1] and esc["pct"].tolist() == [100, 100]


def test_needs_profile(world, params):
    n = rf.needs_profile(world["tl"], world["sv"], world["terms"], params)
    n = n.set_index(["age_band", "district", "factor"])
    assert n.loc[("10-15", "Hart", "Domestic abuse"), "assessments"] == 2
    assert n.loc[("10-15", "Hart", "Domestic abuse"), "pct"] == 50
    assert n.loc[("10-15", "Hart", "No factors identified"), "assessments_with_factor"] == 1
    assert n.loc[("10-15", "Havant", "Neglect"), "pct"] == 100
    assert n.loc[("5-9", "Rushmoor", "Domestic abuse"), "assessments"] == 1
    assert n.loc[("10-15", "All districts", "Domestic abuse"), "assessments"] == 3
    assert n.loc[("10-15", "All districts", "Neglect"), "assessments_with_factor"] == 1


def test_open_case_months_leave_the_regression(world):
    oc = rf.open_case_months(world["refs_all"], last_month=2025 * 12 + 7)  # to Aug 2025
    months = oc.groupby("child_id")["month"].apply(list).to_dict()
    assert months["A"] == [2021 * 12 + 9 + i for i in range(5)]  # Oct 2021 - Feb 2022
    assert months["C"] == [2023 * 12 + 10]  # November 2023; closed in December
    assert months["B"][:2] == [2019 * 12 + 11, 2020 * 12] and months["B"][-1] == 2025 * 12 + 7
    assert "D" not in months  # closed the day it was made
    rows = rf.child_months(world["cohort"], world["refs"], oc)
    # B's case never closes: Dec 2019 to Dec 2020, 13 of B's months, leave too
    assert len(rows) == 96 - 5 - 13 - 1
    assert rows["referrals"].sum() == 4


def test_undated_event_is_an_error(world):
    tl = world["tl"].copy()
    tl.loc[2, "start_date"] = pd.NaT
    with pytest.raises(ProjectError, match="start date"):
        rf.select_events(tl, "referral", "csc")


def _simulated_months(params, quiet_district=None):
    """Poisson referral counts with known rate ratios (Year 7 first term 1.4, FSM 2.0,
    a month of holiday 0.6); with ``quiet_district``, a tenth of the children live there and
    none of them is referred."""
    rng = np.random.default_rng(params.seed)
    n = 6000
    kids = pd.DataFrame({"child_id": [f"k{i}" for i in range(n)],
                         "first_ay": rng.integers(2019, 2023, n),
                         "fsm": rng.random(n) < 0.3})
    rows = []
    for ncy in (5, 6, 7, 8):
        for term in TERMS:
            t = kids.assign(ncy=str(ncy), term=term)
            t["academic_year"] = [f"{y + ncy - 5}/{(y + ncy - 4) % 100:02d}" for y in t["first_ay"]]
            rows.append(t)
    terms = pd.concat(rows, ignore_index=True)
    terms = terms[terms["academic_year"].isin(params.study_window.academic_years)]
    terms = terms.assign(sen_provision="N", district="Hart", urn="U")
    if quiet_district:
        terms.loc[terms["child_id"].str[1:].astype(int) % 10 == 0, "district"] = quiet_district
    sv = pd.DataFrame({"child_id": kids["child_id"], "sex": "F",
                       "dob": pd.Timestamp("2000-01-01"), "ethnicity": "WBRI"})
    cohort = rf.build_cohort(terms, sv, params)
    m = cohort.months
    rate = (0.006 * np.where(m["period"] == "Year 7 first term", 1.4, 1.0)
            * np.where(m["fsm"] == "FSM", 2.0, 1.0) * 0.6 ** m["holiday_share"])
    k = rng.poisson(rate)
    ev = m.loc[m.index.repeat(k), ["child_id", "month"]].reset_index(drop=True)
    ev["start_date"] = pd.to_datetime({"year": ev["month"] // 12, "month": ev["month"] % 12 + 1,
                                       "day": 10})
    ev["event_id"] = range(len(ev))
    if quiet_district:
        ev = ev[~ev["child_id"].str[1:].astype(int).mod(10).eq(0)]
    refs, _ = rf.cohort_events(cohort, ev)
    return cohort, refs


def test_rate_ratio_recovery_on_simulated_months(params):
    """Poisson counts drawn with known rate ratios: the model's intervals cover them."""
    fit = rf.fit_rate_ratios(*_simulated_months(params))
    t = fit.table.set_index(["term", "level"])
    for key, truth in [(("period", "Year 7 first term"), 1.4), (("fsm", "FSM"), 2.0),
                       (("school holidays", "month all holiday vs all term"), 0.6)]:
        assert t.loc[key, "ci_lower"] < truth < t.loc[key, "ci_upper"], (key, t.loc[key])
    assert fit.model == rf.MODEL
    assert 0.8 < fit.pearson_dispersion < 1.25  # the counts are Poisson: no overdispersion
    # no closure effect was drawn: its ratio covers 1; 2021/22, the first school year open
    # throughout, is the reference, so it has no row of its own
    closed = t.loc[("school_closures", "Closed to most pupils")]
    assert closed["ci_lower"] < 1 < closed["ci_upper"] and closed["events"] > 0
    years = set(fit.table.loc[fit.table["term"] == "academic_year", "level"])
    assert "2021/22" not in years and {"2019/20", "2020/21"} <= years


def test_month_cells_match_grouping_on_the_terms(params):
    """Cells built on the terms' codes are the cells, in the order, that grouping on the terms
    themselves gives, with each child-month in its own cell; a missing term is an error."""
    cohort, refs = _simulated_months(params)
    rows = rf.child_months(cohort, refs)
    cells, row_cell = rf.month_cells(rows)
    grouped = rows.groupby(rf.KEYS, observed=True)
    plain = grouped.agg(person_months=("month", "size"), referrals=("referrals", "sum")
                        ).reset_index()
    plain = plain.astype({c: object for c in plain.select_dtypes("category")})  # cells' text
    assert len(cells) > 100 and cells["referrals"].sum() == rows["referrals"].sum() > 0
    pd.testing.assert_frame_equal(cells[plain.columns], plain, check_dtype=False)
    assert (row_cell == grouped.ngroup().to_numpy()).all()
    rows.loc[rows.index[0], "district"] = None
    with pytest.raises(ValueError, match="missing model term"):
        rf.month_cells(rows)


def _clustered_world(seed, n=400):
    """Child-months with a child-level covariate and a frailty per child (gamma, variance 1),
    so one child's referrals are related and a model-based interval is too narrow."""
    rng = np.random.default_rng(seed)
    child = np.repeat(np.arange(n), 24)
    x = rng.random(n)[child] < 0.4
    season = np.tile(np.arange(24) % 3, n)
    frailty = rng.gamma(1.0, 1.0, n)[child]
    y = rng.poisson(0.05 * frailty * np.where(x, 2.0, 1.0) * (1 + 0.3 * (season == 0)))
    return pd.DataFrame({"child": child, "x": x.astype(int), "season": season, "y": y})


def test_child_clustered_intervals_match_statsmodels_on_child_months():
    """The sandwich from cells equals statsmodels' cluster covariance on the child-month rows
    (whose small-sample factor is G/(G-1) x (N-1)/(N-K); ours keeps G/(G-1)), and under
    frailty it is wider than the Poisson model's own."""
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    rows = _clustered_world(3)
    grouped = rows.groupby(["x", "season"])
    cells = grouped.agg(n=("y", "size"), y=("y", "sum")).reset_index()
    fit = smf.glm("y ~ x + C(season)", cells, family=sm.families.Poisson(),
                  offset=np.log(cells["n"] / 12)).fit()
    ours = rf.child_clustered_cov(fit, grouped.ngroup().to_numpy(), rows["child"].to_numpy(),
                                  rows["y"].to_numpy())
    full = smf.glm("y ~ x + C(season)", rows, family=sm.families.Poisson(),
                   offset=np.full(len(rows), np.log(1 / 12))).fit(
        cov_type="cluster", cov_kwds={"groups": rows["child"]})
    n, k = len(rows), len(fit.params)
    assert np.allclose(fit.params, full.params, rtol=1e-8)
    assert np.allclose(ours, np.asarray(full.cov_params()) * (n - k) / (n - 1), rtol=1e-6)
    x = list(fit.params.index).index("x")
    assert np.sqrt(ours[x, x]) > 1.3 * fit.bse["x"]


def test_a_group_with_no_referrals_is_shown_as_not_estimated(params):
    """Its ratio would run off to 0 with an interval to infinity (an overflow in exp): its
    months are set aside from the fit, counted in its row, and the other ratios still hold."""
    cohort, refs = _simulated_months(params, quiet_district="Gosport")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = rf.fit_rate_ratios(cohort, refs)
    t = fit.table.set_index(["term", "level"])
    quiet = t.loc[("district", "Gosport")]
    assert quiet["events"] == 0 and quiet["model"].startswith("not estimated")
    assert np.isnan(quiet[["rate_ratio", "ci_lower", "ci_upper", "p_value"]].astype(float)).all()
    assert abs(quiet["person_years_at_risk"] - cohort.months["district"].eq("Gosport").sum() / 12) < 1e-9
    assert np.isfinite(t.drop(("district", "Gosport"))["ci_upper"].astype(float)).all()
    assert t.loc[("fsm", "FSM"), "ci_lower"] < 2.0 < t.loc[("fsm", "FSM"), "ci_upper"]


def test_publish_suppresses_small_counts_and_rounds(world, params, tmp_path):
    table = rf.rates(world["cohort"], world["refs"], ["ncy"]).assign(measure="referrals")
    out = rf.publish(table, "referrals_rates_by_ncy", params, out_dir=tmp_path)
    y7 = out[out["ncy"] == 7].iloc[0]
    assert (y7["events"], y7["rate_per_10k"], y7["ci_upper"]) == ("c", "c", "c")
    y5 = out[out["ncy"] == 5].iloc[0]
    assert y5["events"] == 0 and y5["person_years"] == 1.0 and y5["ci_upper"] == "u"
    written = pd.read_csv(tmp_path / "tables" / "referrals_rates_by_ncy.csv", dtype=str)
    assert written.loc[written["ncy"] == "7", "events"].item() == "c"
    assert set(rf.TABLES) >= {"referrals_rates_by_ncy", "referrals_rates_by_month",
                              "referrals_source_mix", "referrals_routes",
                              "referrals_km_first_referral", "referrals_rate_ratios"}


def test_describe_rate_ratio_reads_the_published_table():
    t = pd.DataFrame({"term": ["fsm", "period"], "level": ["FSM", "Year 7 first term"],
                      "rate_ratio": [2.013, "c"], "ci_lower": [1.84, "c"],
                      "ci_upper": [2.2, "c"]})
    text = rf.describe_rate_ratio(t, "fsm", "FSM", "FSM")
    assert "2.01 times" in text and "1.84 to 2.20" in text and "not a cause" in text
    assert "excludes 1" in text
    wide = t.assign(rate_ratio=[1.18, "c"], ci_lower=[0.62, "c"], ci_upper=[2.27, "c"])
    assert "no clear difference" in rf.describe_rate_ratio(wide, "fsm", "FSM", "FSM")
    assert "suppressed" in rf.describe_rate_ratio(t, "period", "Year 7 first term", "Year 7")
    assert "not estimated" in rf.describe_rate_ratio(t, "sex", "M", "Boys")


def test_totals_do_not_give_away_a_suppressed_cell(params, tmp_path):
    re = pd.DataFrame({"measure": "re-referral within 12 months",
                       "period": ["All", *rf.PERIODS], "referrals": [67, 23, 44],
                       "re_referrals": [16, 4, 12], "pct": [23.9, 17.4, 27.3],
                       "ci_lower": [1.0, 1.0, 1.0], "ci_upper": [2.0, 2.0, 2.0]})
    out = rf.publish(re, "referrals_re_referrals", params, out_dir=tmp_path)
    assert (out["re_referrals"] == "c").sum() >= 2  # All - After would reveal Before
    routes = pd.DataFrame({rf.PERIODS[0]: [29, 3, 40], rf.PERIODS[1]: [42, 8, 62]},
                          index=pd.Index(["NFA", "CP plan", "Other"], name="route"))
    out = rf.publish(routes, "referrals_routes", params, out_dir=tmp_path)
    assert out.loc["CP plan", rf.PERIODS[0]] == "c" and (out.loc["CP plan"] == "c").sum() >= 2
    written = pd.read_csv(tmp_path / "tables" / "referrals_routes.csv", dtype=str)
    assert written.columns[0] == "route" and written["route"].iloc[-1] == "Total"


def test_rates_by_term(world):
    t = rf.rates_by_term(world["cohort"], {"referrals": world["refs"]})
    first = t[(t["ncy"] == 7) & (t["term"] == "autumn")].iloc[0]
    # A, B, C and E each spend the four months of their first Year 7 term: 16/12 person-years
    assert first["rel_term"] == 0 and first["person_years"] == pytest.approx(16 / 12)
    assert first["events"] == 3  # A (Sep 2021), B (Nov 2019), C (Oct 2023)
    assert t["rel_term"].tolist() == sorted(t["rel_term"]) and t["rel_term"].min() == -6
    assert t["events"].sum() == 4


def test_what_came_before_is_matched_on_months_from_transfer():
    """The comparison for a Year 7 referral is Year 7 at the same time, not Year 5 that month:
    with a Year 5 child's suspension in the pool unmatched, the cohort share would be 50%."""
    sept = 2021 * 12 + 8
    months = pd.DataFrame({"child_id": ["Y7", "Y7b", "Y5"], "month": sept,
                           "rel_month": [0, 0, -24]})
    cohort = rf.Cohort(months=months, children=pd.DataFrame(), set_aside={})
    refs = pd.DataFrame({"child_id": ["Y7"], "month": [sept], "rel_month": [0],
                         "start_date": [pd.Timestamp("2021-09-15")], "event_id": ["r1"]})
    markers = pd.DataFrame({"child_id": ["Y5"], "month": [sept - 2], "marker": ["suspension"]})
    b = rf.before_referral(cohort, refs, markers).set_index(["window_months", "marker"])
    assert b.loc[(6, "suspension"), "cohort_pct"] == 0
    moved = markers.assign(child_id="Y7b")
    b = rf.before_referral(cohort, refs, moved).set_index(["window_months", "marker"])
    assert b.loc[(6, "suspension"), "cohort_pct"] == pytest.approx(50)
