"""Routes to referral across the primary-to-secondary transition (issue 6).

Descriptive and population-level: rates, timing, routes and associations with confidence
intervals for children in school Years 5-8. Nothing here scores, ranks or predicts for a
child; the regression gives rate ratios that are associations, not causes.

The functions take DataFrames (the linked ``timeline``, ``school_terms`` with ``child_id``
and the ``single_view``) so tests can pass small hand-built frames. One concern a module:

- ``cohort``: the inputs, the cohort followed month by month around transfer, its events;
- ``rates``: events per 10,000 person-years by school year, month, term, season, subgroup;
- ``sources``: where referrals come from (DfE source groups);
- ``regression``: rate ratios from a Poisson model of monthly counts, intervals clustered by
  child;
- ``survival``: time to first referral (Kaplan-Meier, log-rank);
- ``markers``: what came in the months before a referral;
- ``routes``: what came after (furthest stage reached, re-referrals, early help stepping up);
- ``needs``: factors identified at assessment, for commissioning;
- ``tables``: the published tables, their columns and their disclosure protection;
- ``intervals``: exact Poisson and binomial intervals (statsmodels).

Decisions where the issue was silent:
- referral source 5D (early help) is grouped with LA services (an LA service; DfE's list
  does not place it); the code-level table shows it apart;
- ethnicity group: 2021 Census grouping (``vocabulary.ethnicity_group``);
- a school move is a change of school between consecutive census terms other than the
  planned Year 6 -> Year 7 transfer; an SEN change is a change of SEN provision (E/K/N);
- persistent absence: >= 10% of possible sessions missed (authorised + unauthorised) in a
  term, dated to the term's last month;
- school holidays: the share of each calendar month that is holiday in the site's school
  calendar (``school_calendar``); the regression uses it as a covariate, so its rate ratio
  compares a month that is all holiday with one that is all term;
- person-years are every month of follow-up in the rates tables; the regression
  (``fit_rate_ratios``) counts at-risk time instead, published as ``person_years_at_risk``: months
  in which a child's case was open throughout are left out, as the child could not be newly
  referred. It adjusts for
  persistent absence in the previous term but not for early help or suspensions, which are described
  instead (early help often follows social care; both share unrecorded causes with referral);
- rates by month and source mix use all referrals in follow-up; "what came before" uses each
  child's first referral in follow-up; the Kaplan-Meier and the first-referral school share use
  each child's first referral in the data (children first referred before follow-up are left
  out of both);
- repeated referrals of one child are not independent: the regression's intervals are
  clustered by child (Poisson point estimates, sandwich covariance).
"""

from .cohort import (
    PERIODS,
    SUBGROUPS,
    Cohort,
    attach_child_id,
    build_cohort,
    cohort_events,
    cohort_profile,
    load_tables,
    measure_events,
    month_index,
    select_events,
)
from .intervals import poisson_rate_ci, proportion_ci
from .markers import MARKERS, before_referral, marker_months
from .needs import needs_profile, plot_needs
from .rates import plot_rates, rates, rates_by_subgroup, rates_by_term, rates_table, seasonality
from .regression import (
    KEYS,
    MODEL,
    RateRatios,
    child_clustered_cov,
    child_months,
    describe_rate_ratio,
    fit_rate_ratios,
    month_cells,
    open_case_months,
    plot_rate_ratios,
)
from .routes import (
    ROUTE_ORDER,
    early_help_escalation,
    plot_sankey,
    re_referrals,
    referral_stages,
    route_flows,
    routes_table,
)
from .sources import (
    first_referral_school_share,
    plot_source_mix,
    source_codes_by_period,
    source_group,
    source_mix,
    source_mix_by_period,
    source_mix_by_school_month,
)
from .survival import first_referral_times, km_first_referral, logrank_tests, plot_km
from .tables import TABLES, publish

__all__ = [
    "Cohort", "KEYS", "MARKERS", "MODEL", "PERIODS", "ROUTE_ORDER", "RateRatios", "SUBGROUPS",
    "TABLES", "attach_child_id", "before_referral", "build_cohort", "child_clustered_cov",
    "child_months", "cohort_events", "cohort_profile", "describe_rate_ratio",
    "early_help_escalation", "first_referral_school_share", "first_referral_times",
    "fit_rate_ratios", "km_first_referral", "load_tables", "logrank_tests", "marker_months",
    "measure_events", "month_cells", "month_index", "needs_profile", "open_case_months", "plot_km",
    "plot_needs", "plot_rate_ratios", "plot_rates", "plot_sankey", "plot_source_mix",
    "poisson_rate_ci", "proportion_ci", "publish", "rates", "rates_by_subgroup",
    "rates_by_term", "rates_table", "re_referrals", "referral_stages", "route_flows",
    "routes_table", "seasonality", "select_events", "source_codes_by_period", "source_group",
    "source_mix", "source_mix_by_period", "source_mix_by_school_month",
]
