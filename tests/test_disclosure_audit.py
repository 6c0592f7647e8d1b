"""The audit attacks published tables jointly, and joint protection defeats it."""

import pandas as pd
import pytest

from hampshire_research import disclosure
from hampshire_research.disclosure_audit import (
    Family,
    Solved,
    audit_family,
    crosstab_sums,
    feasible_ranges,
    protect_jointly,
    row_sums,
    same_sums,
)

MONTHS = pd.DataFrame({"term": ["autumn"] * 2 + ["spring"] * 2, "month": [9, 10, 1, 2],
                       "events": [3, 8, 9, 2]})
TERMS = pd.DataFrame({"term": ["autumn", "spring"], "events": [11, 11]})


def _months_in_terms(t):
    if "by_month" not in t or "by_term" not in t:
        return []
    return same_sums(("by_month", t["by_month"], "events"), ("by_term", t["by_term"], "events"),
                     ["term"])


FAMILY = Family("events", ("by_term", "by_month"), _months_in_terms)


def _published_alone():
    return {"by_term": disclosure.protect(TERMS, "dfe", counts=["events"]).astype(str),
            "by_month": disclosure.protect(MONTHS, "dfe", counts=["events"]).astype(str)}


def test_the_audit_fails_when_each_table_is_protected_on_its_own():
    findings = audit_family(_published_alone(), FAMILY, "dfe")
    # 11 - 8 = 3 and 11 - 9 = 2: both suppressed months recovered exactly
    assert [(f.row, f.low, f.high) for f in findings] == [(0, 3, 3), (3, 2, 2)]
    assert "by_month row 1 (term autumn, month 9) events is exactly 3" in findings[0].describe()


def test_joint_protection_widens_the_later_table_until_the_audit_passes():
    tables = _published_alone()
    months = disclosure.protect(MONTHS, "dfe", counts=["events"])
    tables["by_month"] = protect_jointly(months, "by_month", FAMILY,
                                         {"by_term": tables["by_term"]}, "dfe").astype(str)
    assert audit_family(tables, FAMILY, "dfe") == []
    assert tables["by_month"]["events"].tolist() == ["c"] * 4  # each term's pair hidden
    assert tables["by_term"]["events"].tolist() == ["11", "11"]  # the earlier table untouched


def test_ranges_are_whole_numbers_from_every_relation():
    crosstab = pd.DataFrame({"k": ["a", "b", "Total"], "x": ["c", "c", "10"], "y": ["c", "c", "7"],
                             "Total": ["9", "8", "17"]})
    ranges = feasible_ranges({"t": crosstab}, crosstab_sums("t", crosstab, "k"), "dfe")
    assert ranges[("t", 0, "x")] == (2, 9) and ranges[("t", 1, "y")] == (0, 7)


def test_a_program_solved_once_is_not_solved_again(monkeypatch):
    from hampshire_research import disclosure_audit

    crosstab = pd.DataFrame({"k": ["a", "b", "Total"], "x": ["c", "c", "10"], "y": ["c", "c", "7"],
                             "Total": ["9", "8", "17"]})
    eqs = crosstab_sums("t", crosstab, "k")
    solved = Solved()
    first = feasible_ranges({"t": crosstab}, eqs, "dfe", solved=solved)
    assert len(solved.ranges) == 4  # one program a hidden cell
    for solver in ("milp", "linprog"):
        monkeypatch.setattr(disclosure_audit, solver, lambda *a, **k: pytest.fail("solved again"))
    assert feasible_ranges({"t": crosstab}, eqs, "dfe", solved=solved) == first


def test_cells_settled_by_solutions_found_are_not_solved_and_the_findings_hold():
    """A crosstab of 8 x 6 counts, 1 to 12, each table on its own suppressed: the cells that
    earlier solutions already spread apart are not solved, and the narrow cells are the same."""
    import numpy as np

    rng = np.random.default_rng(4)
    body = pd.DataFrame(rng.integers(1, 13, (8, 6)), columns=list("uvwxyz"))
    body["k"] = [f"r{i}" for i in range(8)]
    full = pd.concat([body, body[list("uvwxyz")].sum().to_frame().T.assign(k="Total")],
                     ignore_index=True)[["k", *"uvwxyz"]]
    full["Total"] = full[list("uvwxyz")].sum(axis=1)
    shown = disclosure.protect(full, "dfe", counts=[*"uvwxyz"]).astype(str)
    eqs = crosstab_sums("t", shown, "k")
    every, settled = Solved(), Solved()
    ranges = feasible_ranges({"t": shown}, eqs, "dfe", solved=every)
    narrow = {c: r for c, r in ranges.items() if r[1] - r[0] < 4}
    kept = feasible_ranges({"t": shown}, eqs, "dfe", solved=settled, enough=4)
    assert len(ranges) > 10 and narrow
    assert {c: r for c, r in kept.items() if r[1] - r[0] < 4} == narrow
    assert len(settled.ranges) < len(every.ranges) / 2


def test_a_fractional_relaxation_is_solved_in_whole_numbers():
    """2x = z and z + y = 3: the relaxation lets x reach 1.5; in whole numbers z is 0 or 2, so
    x is at most 1."""
    tables = {"t": pd.DataFrame({"k": ["x", "y", "z", "Total"], "n": ["c", "c", "c", "3"]})}
    eqs = [{("t", 0, "n"): 2, ("t", 2, "n"): -1},
           {("t", 2, "n"): 1, ("t", 1, "n"): 1, ("t", 3, "n"): -1}]
    ranges = feasible_ranges(tables, eqs, "dfe")
    assert ranges[("t", 0, "n")] == (0, 1) and ranges[("t", 1, "n")] == (1, 3)


def test_a_wrong_declaration_is_caught_by_the_published_numbers():
    tables = {"by_term": TERMS.astype(str), "by_month": MONTHS.assign(events=[3, 8, 9, 9]).astype(str)}
    with pytest.raises(ValueError, match="contradict"):
        feasible_ranges(tables, _months_in_terms(tables), "dfe")


def test_a_rounded_count_is_a_range_not_a_number():
    # ONS: 20 published means 18..22, so a hidden cell beside it in a line of 30 is 8..12
    tables = {"t": pd.DataFrame({"k": ["a", "b", "Total"], "n": ["c", "20", "30"]})}
    eqs = [{("t", 0, "n"): 1, ("t", 1, "n"): 1, ("t", 2, "n"): -1}]
    assert feasible_ranges(tables, eqs, "ons")[("t", 0, "n")] == (6, 14)


def test_sums_match_groups_in_order_and_leave_out_missing_keys():
    months = MONTHS.assign(term=["autumn", None, "spring", "spring"]).set_index(pd.Index([5, 6, 7, 8]))
    assert same_sums(("m", months, "events"), ("t", TERMS, "events"), ["term"]) == [
        {("m", 5, "events"): 1, ("t", 0, "events"): -1},
        {("m", 7, "events"): 1, ("m", 8, "events"): 1, ("t", 1, "events"): -1}]
    # a total repeated on each row: one equation a row, in row order
    repeated = pd.DataFrame({"term": ["spring", "autumn", "summer"], "total": [11, 11, 0]})
    assert row_sums(("r", repeated, "total"), ("m", MONTHS, "events"), ["term"]) == [
        {("r", 0, "total"): 1, ("m", 2, "events"): -1, ("m", 3, "events"): -1},
        {("r", 1, "total"): 1, ("m", 0, "events"): -1, ("m", 1, "events"): -1}]
