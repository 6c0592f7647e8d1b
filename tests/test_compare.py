"""Cross-site comparison from published tables: known answers, suppression carried through."""

import pandas as pd
import pytest
from scipy.stats import binomtest

from hampshire_research import compare
from hampshire_research.errors import ProjectError


def _rates():
    return pd.DataFrame({
        "site": ["a", "a", "b", "b"], "ncy": ["5", "6", "5", "6"],
        "events": ["40", "c", "20", "30"], "person_years": ["1000", "1000", "1000", "500"],
    })


def test_rate_ratio_with_an_exact_conditional_interval():
    out = compare.rate_ratio(_rates(), ["ncy"], "a", "b").set_index("ncy")
    assert out.loc["5", "rate_ratio"] == 2.0
    # equal person-time: the ratio is the odds of site a's share of the 60 events (scipy's exact
    # binomial interval, a second library)
    share = binomtest(40, 60).proportion_ci(method="exact")
    assert out.loc["5", "ci_lower"] == round(share.low / (1 - share.low), 2)
    assert out.loc["5", "ci_upper"] == round(share.high / (1 - share.high), 2)
    # a suppressed count makes the comparison suppressed, never a guess
    assert out.loc["6", ["rate_ratio", "ci_lower", "ci_upper"]].tolist() == ["c", "c", "c"]


def test_share_difference_uses_the_true_total_behind_suppressed_rows():
    table = pd.DataFrame({
        "site": ["a"] * 3 + ["b"] * 3, "source": ["police", "schools", "other"] * 2,
        "referrals": ["50", "47", "c", "30", "60", "10"],
        "pct": ["50.0", "47.0", "c", "30.0", "60.0", "10.0"],
    })
    out = compare.share_difference(table, "source", "referrals", "a", "b").set_index("source")
    assert out.loc["police", "pct_a"] == 50.0 and out.loc["police", "difference_pp"] == 20.0
    assert out.loc["police", "ci_lower"] < 20 < out.loc["police", "ci_upper"]
    assert out.loc["other", "difference_pp"] == "c"


def test_with_interval_shows_only_the_symbol_when_suppressed():
    t = pd.DataFrame({"pct": ["12.5", "c"], "ci_lower": ["10.0", "c"], "ci_upper": ["15.0", "c"]})
    assert compare.with_interval(t, "pct", unit="%").tolist() == ["12.5% (10.0 to 15.0)", "c"]


def test_with_interval_gives_the_decimals_a_page_table_would():
    rr = pd.DataFrame({"rate_ratio": ["1.226", "0.8"], "ci_lower": ["0.642", "0.55"],
                       "ci_upper": ["2.339", "1.2"]})
    assert compare.with_interval(rr, "rate_ratio").tolist() == ["1.23 (0.64 to 2.34)",
                                                                "0.80 (0.55 to 1.20)"]
    rates = pd.DataFrame({"rate": ["1512.3"], "ci_lower": ["1400.2"], "ci_upper": ["1630.9"]})
    assert compare.with_interval(rates, "rate").tolist() == ["1,512 (1,400 to 1,631)"]


def test_a_site_that_has_not_run_is_a_clear_error(tmp_path):
    with pytest.raises(ProjectError, match="run the site first"):
        compare.site_table(["hampshire"], "referrals_rates_by_ncy", tmp_path)


def test_england_figures_carry_their_sources():
    eng = compare.england()
    assert eng["cla_per_10k"]["value"] == 67
    assert all("source" in v for v in eng.values())


def test_crosstab_shares_reads_a_two_way_table_with_totals():
    t = pd.DataFrame({"route": ["NFA", "CIN plan", "CP plan", "Total"],
                      "Before": ["30", "10", "c", "43"], "Total": ["60", "30", "c", "100"]})
    out = compare.crosstab_shares(t, "route")
    assert out["pct"].tolist() == [60.0, 30.0, "c"]
    assert out["count"].tolist() == ["60", "30", "c"]


def test_proportion_difference_has_a_newcombe_interval_and_keeps_suppression():
    t = pd.DataFrame({"site": ["a", "b", "a", "b"], "stage": ["CIN", "CIN", "CP", "CP"],
                      "n": ["80", "60", "c", "40"], "records": ["100", "100", "50", "50"]})
    out = compare.proportion_difference(t, "stage", "n", "records", "a", "b").set_index("stage")
    assert out.loc["CIN", "difference_pp"] == 20.0
    assert 0 < out.loc["CIN", "ci_lower"] < 20 < out.loc["CIN", "ci_upper"] < 40
    assert out.loc["CP", "difference_pp"] == "c"
