"""The explore tool: built from published tables only, deterministic, and checked in headless
Chromium with the network blocked and with axe-core (WCAG 2.2 AA: 0 serious or critical)."""

import pandas as pd
import pytest
from browser import chromium, findings, open_page, require_browser

from hampshire_research import explore
from hampshire_research.disclosure import SYMBOLS
from hampshire_research.params import load_site
from hampshire_research.referrals.cohort import PERIODS
from hampshire_research.referrals.tables import publish

BEFORE, AFTER = PERIODS


@pytest.fixture
def site(tmp_path):
    """A site folder with three published tables: small counts become 'c' on the way out."""
    params = load_site("hampshire")
    publish(pd.DataFrame({
        "subgroup": ["All", "sex", "sex"], "level": ["All", "F", "M"],
        "children": [1387, 674, 713], "person_years": [3654.34, 1780.31, 1874.03]}),
        "referrals_cohort", params, tmp_path)
    publish(pd.DataFrame({
        "period": [BEFORE] * 3 + [AFTER] * 3,
        "source_group": ["Police", "Schools", "Health"] * 2,
        "referrals": [29, 34, 3, 40, 38, 2], "pct": [44.0, 51.5, 4.5, 50.0, 47.5, 2.5]}),
        "referrals_source_mix", params, tmp_path)
    publish(pd.DataFrame({
        "measure": ["referrals"] * 3 + ["contacts"] * 3, "ncy": [5, 6, 7] * 2,
        "events": [52, 45, 3, 120, 131, 140], "person_years": [887.7, 910.0, 933.3] * 2,
        "rate_per_10k": [585.8, 494.5, 32.1, 1351.8, 1439.6, 1500.0],
        "ci_lower": [437.5, 360.7, 6.6, 1100.0, 1200.0, 1250.0],
        "ci_upper": [768.2, 661.7, 93.9, 1600.0, 1700.0, 1750.0]}),
        "referrals_rates_by_ncy", params, tmp_path)
    return params, tmp_path


def _measure(found, label):
    return next(m for m in found if m["label"] == label)


def test_measures_keep_the_published_symbols_and_show_separators(site):
    params, out = site
    found, missing = explore.measures(out / "tables")
    assert "What happened after referral" in missing and len(missing) == 3
    mix = _measure(found, "Referrals")
    assert mix["periods"] == PERIODS and mix["table"] == "tables/referrals_source_mix.csv"
    grid = mix["breakdowns"][0]
    assert grid["rows"] == ["Police", "Schools", "Health"]
    # Health's 3 and 2 are suppressed, and so is the smallest other count of each period
    assert grid["cells"] == [["c", "34", "c"], ["40", "c", "c"]]
    assert _measure(found, "Share of referrals (%)")["breakdowns"][0]["cells"][0] == ["c", "51.5", "c"]
    years = _measure(found, "Child-years in Years 5 to 8")
    assert [b["label"] for b in years["breakdowns"]] == ["All children", "Sex"]
    assert years["breakdowns"][0]["cells"] == [["3,654.3"]]
    assert years["breakdowns"][1]["rows"] == ["Girls", "Boys"]
    rates = _measure(found, "Contacts: rate per 10,000 child-years")["breakdowns"][0]
    assert rates["rows"] == ["Year 5", "Year 6", "Year 7"]
    assert rates["cells"] == [["1,351.8", "1,439.6", "1,500.0"]]
    assert rates["intervals"][0][0] == "1,100.0 to 1,600.0"
    # Year 7's 3 referrals: the rate and its interval are suppressed together
    referrals = _measure(found, "Referrals: rate per 10,000 child-years")["breakdowns"][0]
    assert referrals["cells"] == [["585.8", "494.5", "c"]] and referrals["intervals"][0][2] == "c"
    assert _measure(found, "Referrals: number")["breakdowns"][0]["intervals"] == []


def test_the_page_is_self_contained_and_deterministic(site):
    params, out = site
    page = explore.write_page(params, out, params.data_path).read_bytes()
    assert explore.write_page(params, out, params.data_path).read_bytes() == page
    text = page.decode()
    assert "http://" not in text and "https://" not in text and "@@" not in text
    assert "<strong>Synthetic data.</strong>" in text and "Not in this run" in text
    assert all(f"<dt>{s}</dt>" in text for s in SYMBOLS)


def _choose(driver, control, text):
    from selenium.webdriver.support.select import Select

    Select(driver.find_element("id", control)).select_by_visible_text(text)


def _table(driver):
    rows = driver.find_elements("css selector", "#result tr")
    return [[c.text for c in r.find_elements("css selector", "th, td")] for r in rows]


@pytest.mark.parametrize("screen", ["1280x720", "390x844"])
def test_explore_in_chromium_offline(site, screen, tmp_path):
    require_browser()  # first: where the browser is missing selenium may be too
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    params, out = site
    page = explore.write_page(params, out, params.data_path)
    with chromium() as driver:
        open_page(driver, page.as_uri(), screen)
        assert driver.find_element("id", "caption").text == (
            "Children by all children: Whole study window")
        assert _table(driver) == [["All children", "Whole study window"], ["All children", "1,387"]]
        # keyboard alone: tab to the measure, change it with the arrow keys, focus is visible
        ActionChains(driver).send_keys(Keys.TAB, Keys.TAB).perform()
        focused = driver.switch_to.active_element
        assert focused.get_attribute("id") == "measure"
        assert focused.value_of_css_property("outline-style") == "solid"
        focused.send_keys(Keys.ARROW_DOWN)
        assert driver.find_element("id", "caption").text.startswith("Child-years in Years 5 to 8")
        _choose(driver, "measure", "Referrals")
        assert _table(driver) == [["Referral source", BEFORE, AFTER], ["Police", "c", "40"],
                                  ["Schools", "34", "c"], ["Health", "c", "c"]]
        _choose(driver, "period", AFTER)
        assert _table(driver)[1] == ["Police", "40"]
        _choose(driver, "measure", "Share of referrals (%)")
        assert _table(driver)[3] == ["Health", "c"] and "after transfer" in _table(driver)[0][1].lower()
        _choose(driver, "measure", "Referrals: rate per 10,000 child-years")
        assert _table(driver)[0] == ["School year", "Whole study window", "95% confidence interval"]
        assert _table(driver)[1:] == [["Year 5", "585.8", "437.5 to 768.2"],
                                      ["Year 6", "494.5", "360.7 to 661.7"], ["Year 7", "c", "c"]]
        legend = [t.text for t in driver.find_elements("css selector", "dt")]
        driver.save_screenshot(str(tmp_path / f"explore-{screen}.png"))
        seen = findings(driver, screen)
    print(seen.summary())
    assert seen.console_errors == [] and seen.outside_requests == []
    assert seen.serious() == [], seen.violations
    assert seen.problems["broken"] == [] and seen.problems["raw"] == []
    assert legend == list(SYMBOLS)


def test_the_browser_checks_see_what_they_look_for(tmp_path):
    """A page with an outside image, a console error and no alt text fails every check."""
    require_browser()
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><img src="https://example.org/a.png">'
                    '<p>PosixPath(\'/x\')</p><script>console.error("boom")</script></body></html>')
    with chromium() as driver:
        open_page(driver, page.as_uri(), "1280x720")
        seen = findings(driver, "1280x720")
    assert seen.outside_requests == ["https://example.org/a.png"]
    assert any("boom" in e for e in seen.console_errors)
    assert {"image-alt", "html-has-lang", "document-title"} <= {v["id"] for v in seen.serious()}
    assert seen.problems["broken"] == ["https://example.org/a.png"]
    assert seen.problems["raw"] == ["PosixPath("]
