"""The referral routes notebook runs for both sites and publishes what the package returns."""

from __future__ import annotations

import pytest

from hampshire_research import referrals as rf
from hampshire_research.params import load_site
from hampshire_research.paths import project_root
from hampshire_research.run import execute

NOTEBOOK = project_root() / "notebooks" / "03_referral_routes.ipynb"


@pytest.mark.slow
@pytest.mark.parametrize("site", ["hampshire", "north_yorkshire"])
def test_notebook_tables_equal_package_results(site, tmp_path):
    params = load_site(site)
    outputs = {"reports_root": str(tmp_path / "reports")}  # the notebook's, not ours
    published = tmp_path / "reports" / site
    run = execute(NOTEBOOK, tmp_path / NOTEBOOK.name, {"site": site, "data_dir": "", **outputs})
    assert run.status == "ok", run.error
    tables = rf.load_tables(params, "")
    cohort = rf.build_cohort(tables["school_terms"], tables["single_view"], params)
    measures = rf.measure_events(cohort, tables["timeline"])
    refs = measures["referrals"]
    refs_all = rf.select_events(tables["timeline"], "referral", "csc")
    open_cases = rf.open_case_months(refs_all, int(cohort.months["month"].max()))
    times, _ = rf.first_referral_times(cohort, refs_all)
    expected = {
        "referrals_rates_by_ncy": rf.rates_table(cohort, measures, ["ncy"]),
        "referrals_rates_by_month": rf.rates_table(cohort, measures, ["rel_month"]),
        "referrals_rates_by_term": rf.rates_by_term(cohort, measures),
        "referrals_source_mix": rf.source_mix_by_period(refs),
        "referrals_routes": rf.routes_table(rf.referral_stages(refs, tables["timeline"])),
        "referrals_km_first_referral": rf.km_first_referral(times),
        "referrals_rate_ratios": rf.fit_rate_ratios(cohort, refs, open_cases).table,
    }
    for name, table in expected.items():
        rf.publish(table, name, params, out_dir=tmp_path)
        ours = (tmp_path / "tables" / f"{name}.csv").read_text()
        notebook = (published / "tables" / f"{name}.csv").read_text()
        assert ours == notebook, name
    by_ncy = rf.rates_table(cohort, measures, ["ncy"])
    assert by_ncy["events"].sum() == sum(len(v) for v in measures.values())
    assert by_ncy.groupby("measure")["person_years"].sum().round(6).nunique() == 1
    figures = published / "figures"
    for fig in ("referrals_rates_by_month", "referrals_route_flows", "referrals_rate_ratios",
                "referrals_needs_profile"):
        assert (figures / f"{fig}.png").is_file()
        assert (figures / f"{fig}.alt.txt").read_text().strip()
