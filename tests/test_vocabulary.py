"""The field's codes and bands and the school calendar, at their edges and against published
dates and tables (DfE school census dates, the CIN census guide, Garwood's Poisson limits)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from hampshire_research import compare, school_calendar, vocabulary
from hampshire_research.errors import ProjectError
from hampshire_research.params import load_site, params_path
from hampshire_research.referrals import build_cohort, poisson_rate_ci, seasonality


def test_age_bands_at_their_edges():
    ages = pd.Series([0, 1, 4, 5, 9, 10, 15, 16, 17, 18, 40, np.nan])
    assert vocabulary.age_band(ages).tolist() == [
        "0", "1-4", "1-4", "5-9", "5-9", "10-15", "10-15", "16-17", "16-17", "18+", "18+",
        "Unknown"]


def test_age_in_years_turns_on_the_birthday():
    dob = pd.Series(pd.to_datetime(["2010-03-10", "2010-03-10", "2008-02-29", None]))
    on = pd.Series(pd.to_datetime(["2021-03-09", "2021-03-10", "2009-02-28", "2021-01-01"]))
    age = vocabulary.age_in_years(dob, on)
    assert age.iloc[:3].tolist() == [10, 11, 0] and np.isnan(age.iloc[3])


def test_collection_year_ends_on_31_march():
    days = ["2023-03-31", "2023-04-01", "2022-04-01", None]
    assert vocabulary.collection_year(days).tolist() == [2023, 2024, 2023, pd.NA]
    labels = vocabulary.collection_year_label(pd.Series([2023, 2000, None]))
    assert labels.iloc[:2].tolist() == ["2022-23", "1999-00"] and pd.isna(labels.iloc[2])


def test_academic_year_starts_on_1_september():
    ay = vocabulary.academic_year(["2023-08-31", "2023-09-01", "2000-01-15", None])
    assert ay.iloc[:3].tolist() == ["2022/23", "2023/24", "1999/00"] and pd.isna(ay.iloc[3])
    assert vocabulary.academic_year_start(ay.iloc[:3]).tolist() == [2022, 2023, 1999]


def test_referral_sources_group_as_dfe_publishes_them():
    codes = pd.Series(["02A", "2a", "5D", "6", "3C", "2B", "10", "1C", None, "XX"])
    assert vocabulary.referral_source_group(codes).tolist() == [
        "Schools", "Schools", "LA services", "Police", "Health", "Other", "Unknown",
        "Individual", "Unknown", "Unknown"]
    # the CIN census guide's 22 codes (1A-1D, 2A-2B, 3A-3F, 4, 5A-5D, 6-10)
    assert len(vocabulary.REFERRAL_SOURCES) == 22
    groups = {g for _, g in vocabulary.REFERRAL_SOURCES.values()}
    assert groups == set(vocabulary.REFERRAL_SOURCE_GROUPS)


def test_stages_are_the_canonical_event_types():
    from hampshire_research.sources.schemas import EVENT_TYPES

    assert set(vocabulary.STAGES) <= set(EVENT_TYPES)
    assert vocabulary.STAGES["s47"] == "S47 enquiry" and vocabulary.STAGES["icpc"] == "ICPC"


def test_census_days_are_dfe_s_published_dates():
    # DfE school census guides: 2023 to 2024 and 2024 to 2025 census days
    published = {(2023, "autumn"): dt.date(2023, 10, 5), (2023, "spring"): dt.date(2024, 1, 18),
                 (2023, "summer"): dt.date(2024, 5, 16), (2024, "autumn"): dt.date(2024, 10, 3),
                 (2024, "spring"): dt.date(2025, 1, 16), (2024, "summer"): dt.date(2025, 5, 15)}
    for (ay, term), day in published.items():
        assert school_calendar.census_day(ay, term) == day


def test_default_calendar_holiday_shares():
    share = school_calendar.holiday_share(school_calendar.SchoolCalendar())
    # August all holiday; March and November all term; April mostly Easter holiday
    assert share[8] == 1.0 and share[3] == 0.0 and share[11] == 0.0 and share[4] == 0.53
    # the weekdays of 2023: 4-20 Sep term, so 1 Sep (a Friday) is the only holiday weekday
    days = np.arange((dt.date(2023, 9, 1) - school_calendar.EPOCH).days,
                     (dt.date(2023, 10, 1) - school_calendar.EPOCH).days)
    weekday = school_calendar.is_weekday(days)
    holiday = weekday & ~school_calendar.in_term(days, school_calendar.SchoolCalendar())
    assert holiday.sum() == 1 and weekday.sum() == 21


def _site_with(tmp_path, calendar):
    raw = yaml.safe_load(params_path("hampshire").read_text(encoding="utf-8"))
    raw["school_calendar"] = calendar
    path = tmp_path / "hampshire.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_school_calendar_from_params(tmp_path):
    assert load_site("hampshire").school_calendar == school_calendar.SchoolCalendar()
    # an LA whose summer term runs to 31 July and with no spring half term
    own = load_site(_site_with(tmp_path, {"summer": ["04-17", "07-31"],
                                          "half_terms": ["10-23", "05-27"]}))
    share = school_calendar.holiday_share(own.school_calendar)
    assert share[7] == 0.0 and share[2] == 0.0 and share[8] == 1.0
    # the cohort's months and the seasonality table take the site's calendar
    terms = pd.DataFrame({"record_id": "r", "child_id": "A", "academic_year": "2021/22",
                          "term": ["autumn", "spring", "summer"], "ncy": "7", "fsm": False,
                          "sen_provision": "N", "district": "Hart", "urn": "S1"})
    sv = pd.DataFrame({"child_id": ["A"], "sex": ["F"], "dob": pd.to_datetime(["2010-03-10"])})
    cohort = build_cohort(terms, sv, own)
    july = cohort.months[cohort.months["calendar_month"] == 7]
    assert (july["holiday_share"] == 0.0).all()
    none = pd.DataFrame(columns=["child_id", "month", "calendar_month"])
    table = seasonality(cohort, {"referrals": none}).set_index("month")
    assert table.loc[7, "holiday_share"] == 0.0 and table.loc[8, "holiday_share"] == 1.0


def test_bad_calendar_is_one_error_naming_the_key(tmp_path):
    with pytest.raises(ProjectError, match=r"school_calendar\.half_terms"):
        load_site(_site_with(tmp_path, {"half_terms": ["02-30"]}))
    with pytest.raises(ProjectError, match=r"school_calendar\.autumn"):
        load_site(_site_with(tmp_path, {"autumn": ["9-4", "12-20"]}))
    with pytest.raises(ProjectError, match=r"school_calendar\.winter.*unknown key"):
        load_site(_site_with(tmp_path, {"winter": ["01-01", "01-02"]}))


def test_garwood_intervals_match_the_published_table():
    # Garwood (1936) exact 95% limits for a Poisson count, as tabulated (e.g. Ulm 1990)
    table = {0: (0.0, 3.689), 1: (0.0253, 5.572), 2: (0.2422, 7.225), 5: (1.623, 11.668),
             10: (4.795, 18.390)}
    out = poisson_rate_ci(list(table), [1.0] * len(table), per=1)
    for (k, (lo, hi)), row in zip(table.items(), out.itertuples(), strict=True):
        assert row.ci_lower == pytest.approx(lo, abs=6e-4) and row.ci_upper == pytest.approx(
            hi, abs=6e-4)
        # and the chi-squared form, by hand
        assert row.ci_upper == pytest.approx(stats.chi2.ppf(0.975, 2 * k + 2) / 2, rel=1e-12)
    no_time = poisson_rate_ci([3], [0.0])
    assert no_time.isna().all(axis=None)


def test_cross_site_rate_ratio_has_the_exact_conditional_interval():
    table = pd.DataFrame({"site": ["a", "b"], "ncy": ["5", "5"], "events": ["30", "12"],
                          "person_years": ["1000", "800"]})
    out = compare.rate_ratio(table, ["ncy"], "a", "b").iloc[0]
    rr = (30 / 1000) / (12 / 800)
    # given 42 events in all, site a's share is binomial: scipy's exact interval for it
    share = stats.binomtest(30, 42).proportion_ci(method="exact")
    assert out["rate_ratio"] == round(rr, 2)
    assert (out["ci_lower"], out["ci_upper"]) == (
        round(share.low / (1 - share.low) * 800 / 1000, 2),
        round(share.high / (1 - share.high) * 800 / 1000, 2))
