"""Disclosure control: no published count lies in 1..threshold, and no suppressed cell can be
worked out from the totals."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

from hampshire_research import disclosure
from hampshire_research.disclosure import PROFILES, SUPPRESSED, TOTAL, protect, protect_crosstab
from hampshire_research.errors import ProjectError

small_counts = st.integers(min_value=0, max_value=40)


@st.composite
def crosstabs(draw):
    n_rows = draw(st.integers(1, 5))
    n_cols = draw(st.integers(1, 5))
    values = draw(st.lists(st.lists(small_counts, min_size=n_cols, max_size=n_cols),
                           min_size=n_rows, max_size=n_rows))
    return pd.DataFrame(values, index=[f"r{i}" for i in range(n_rows)],
                        columns=[f"c{j}" for j in range(n_cols)])


def _published_numbers(table: pd.DataFrame) -> list[int]:
    return [v for v in table.to_numpy().ravel() if not isinstance(v, str)]


@pytest.mark.parametrize("profile", ["dfe", "ons"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=crosstabs())
def test_no_published_cell_is_a_small_count(profile, table):
    out = protect_crosstab(table, profile)
    threshold = PROFILES[profile].threshold
    assert not [v for v in _published_numbers(out) if 1 <= v <= threshold]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=crosstabs())
def test_no_suppressed_cell_is_recoverable_from_the_totals(table):
    out = protect_crosstab(table, "dfe")
    full = table.copy()
    full[TOTAL] = full.sum(axis=1)
    full.loc[TOTAL] = full.sum(axis=0)
    suppressed = out.map(lambda v: v == SUPPRESSED).to_numpy()
    assert disclosure.recoverable_cells(full.to_numpy(), suppressed) == []
    # and the published cells are the true values (the DfE profile does not round LA figures)
    published = ~suppressed
    assert (out.to_numpy()[published].astype(int) == full.to_numpy()[published]).all()


def test_a_lone_suppressed_cell_in_a_row_is_not_left_recoverable():
    table = pd.DataFrame({"a": [3, 20], "b": [12, 30]}, index=["x", "y"])
    out = protect_crosstab(table, "dfe")
    assert out.loc["x", "a"] == SUPPRESSED
    # row x total is 15: with only (x, a) hidden it would be 15 - 12 = 3
    assert (out.loc["x"] == SUPPRESSED).sum() >= 2
    assert (out["a"] == SUPPRESSED).sum() >= 2


def test_recoverable_cells_finds_a_single_hidden_cell():
    full = np.array([[3, 12, 15], [20, 30, 50], [23, 42, 65]])
    hidden = np.zeros_like(full, dtype=bool)
    hidden[0, 0] = True
    assert disclosure.recoverable_cells(full, hidden) == [(0, 0)]


tidy_tables = data_frames(
    [column("group", elements=st.sampled_from(["A", "B", "C"])),
     column("n", elements=small_counts),
     column("population", elements=st.integers(0, 5000))],
    index=range_indexes(min_size=1, max_size=12),
)


@settings(max_examples=150, deadline=None)
@given(table=tidy_tables)
def test_tidy_tables_suppress_small_counts_and_their_rates(table):
    table = table.assign(rate=table["n"] / table["population"].clip(lower=1) * 10_000)
    out = protect(table, "dfe", counts=["n"], derived={"rate": "n"}, within=["group"])
    assert not [v for v in out["n"] if not isinstance(v, str) and 1 <= v <= 5]
    assert (out.loc[out["n"] == SUPPRESSED, "rate"] == SUPPRESSED).all()
    # each group with any suppression has at least two suppressed cells (or all its cells)
    for _, g in out.groupby("group"):
        k = (g["n"] == SUPPRESSED).sum()
        assert k == 0 or k >= 2 or k == len(g)


def test_ons_profile_rounds_to_five_and_hides_below_ten():
    table = pd.DataFrame({"n": [0, 4, 9, 10, 12, 13, 101]})
    out = protect(table, "ons", counts=["n"])
    assert out["n"].tolist() == [0, "c", "c", 10, 10, 15, 100]


def test_ons_profile_publishes_no_rate_that_gives_back_the_unrounded_count():
    table = pd.DataFrame({"events": [12, 4, 101], "person_years": [3466.8, 900.0, 5000.0]})
    table["rate_per_10k"] = (table["events"] / table["person_years"] * 10_000).round(1)
    out = protect(table, "ons", counts=["events"], derived={"rate_per_10k": "events"})
    assert out["events"].tolist() == [10, "c", 100]
    assert out["rate_per_10k"].tolist() == ["x", "c", "x"]
    # with the rate published, rate x person-years would give 12 and 101 back exactly
    assert round(34.6 * 3466.8 / 10_000) == 12


def test_missing_values_are_shown_as_unavailable_not_as_zero():
    out = protect(pd.DataFrame({"n": [10, None]}), "dfe", counts=["n"])
    assert out["n"].tolist() == [10, "x"]


def test_unknown_profile_and_column_are_clear_errors():
    with pytest.raises(ProjectError, match="unknown disclosure profile"):
        protect(pd.DataFrame({"n": [1]}), "nhs", counts=["n"])
    with pytest.raises(ProjectError, match="no column"):
        protect(pd.DataFrame({"n": [1]}), "dfe", counts=["m"])


def test_numeric_turns_symbols_into_gaps_for_plots():
    s = pd.Series([10, "c", 7.5, "x"], dtype=object)
    assert disclosure.numeric(s).isna().tolist() == [False, True, False, True]


def test_an_estimate_below_the_profiles_minimum_is_low_reliability_not_a_number():
    # zero events, 2 person-years, 7 events over 300: the first two are 'u', the third shown
    t = pd.DataFrame({"events": [0, 7, 7], "person_years": [60.0, 2.0, 300.0],
                      "rate": [0.0, 35000.0, 233.3], "ci_upper": [614.8, 72114.0, 480.7]})
    out = disclosure.protect(t, "dfe", counts=["events"], derived={"rate": "events",
                             "ci_upper": "events"},
                             estimates={"events": "events", "denominator": "person_years",
                                        "columns": ["rate", "ci_upper"]})
    assert out["rate"].tolist() == ["u", "u", 233.3]
    assert out["ci_upper"].tolist() == ["u", "u", 480.7]
    assert out["events"].tolist() == [0, 7, 7]  # the counts themselves are published as usual


def test_a_count_in_prose_passes_the_same_gate():
    assert [disclosure.in_prose(n, "dfe") for n in (0, 3, 6, 12345)] == [
        "0", "fewer than 6", "6", "12,345"]
    assert [disclosure.in_prose(n, "ons") for n in (9, 12, 1234)] == ["fewer than 10", "10", "1,235"]
