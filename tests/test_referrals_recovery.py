"""Parameter recovery: the rate ratios the generator embeds lie inside the analysis' 95% intervals.

Generated data is read through the real readers; children are joined through the generator's
truth key (tests may read truth, analyses never do) so linkage errors are kept out of this check.
"""

from __future__ import annotations

import pandas as pd
import pytest

from hampshire_research import referrals as rf
from hampshire_research.params import load_site

SCALE = 0.12


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    from hampshire_research.sources import build_canonical
    from hampshire_research.synthetic import generate_site

    params = load_site("hampshire")
    out = tmp_path_factory.mktemp("recovery") / params.site
    generate_site(params, SCALE, params.seed, out)
    tables, _ = build_canonical(params, out)
    key = pd.read_csv(out / "truth" / "linkage_key.csv", dtype=str)[["record_id", "child_id"]]
    timeline = tables["events"].merge(key, on="record_id", how="inner")
    persons = tables["persons"].merge(key, on="record_id", how="inner")
    single_view = (persons.sort_values(["child_id", "source"])
                   .drop_duplicates("child_id")[["child_id", "sex", "dob"]])
    terms = rf.attach_child_id(tables["school_terms"], key)
    cohort = rf.build_cohort(terms, single_view, params)
    referrals_all = rf.select_events(timeline, "referral", "csc")
    referrals, _ = rf.cohort_events(cohort, referrals_all)
    open_cases = rf.open_case_months(referrals_all, int(cohort.months["month"].max()))
    fit = rf.fit_rate_ratios(cohort, referrals, open_cases)
    return params, cohort, referrals, fit


@pytest.mark.slow
def test_transfer_and_fsm_rate_ratios_recovered(fitted):
    params, _, referrals, fit = fitted
    eff = params.calibration.effects
    t = fit.table.set_index(["term", "level"])
    y7 = t.loc[("period", "Year 7 first term")]
    fsm = t.loc[("fsm", "FSM")]
    print(f"\nreferrals {len(referrals)}, model {fit.model}, alpha {fit.alpha:.3f}")
    print(fit.table.to_string())
    assert y7["ci_lower"] < eff.year7_first_term_rr < y7["ci_upper"]
    assert fsm["ci_lower"] < eff.fsm_rr < fsm["ci_upper"]
    # informative: the intervals exclude no difference and are not wide
    assert y7["ci_lower"] > 1 and fsm["ci_lower"] > 1
    assert y7["ci_upper"] / y7["ci_lower"] < 1.8


@pytest.mark.slow
def test_cohort_rates_are_in_the_calibrated_range(fitted):
    params, cohort, referrals, _ = fitted
    rate = len(referrals) / (len(cohort.months) / 12) * 10_000
    bands = params.calibration.referrals_per_10k.by_age_band
    # Years 5-8 are ages 9-13: between the 5-9 and 10-15 band rates, raised by the effects
    assert 0.7 * bands["5-9"] < rate < 2.0 * bands["10-15"]
