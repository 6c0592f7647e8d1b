"""What came before a referral: early help, suspensions, persistent absence, school moves
and SEN changes in the months before, against the cohort at the same time (described, not
adjusted for)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from .cohort import ATTENDANCE, Cohort, month_index, persistent_absence, select_events, term_last_month

MARKERS = ["early help", "suspension", "persistent absence", "school move", "SEN change"]


def marker_months(school_terms: pd.DataFrame, timeline: pd.DataFrame,
                  last_month: int) -> pd.DataFrame:
    """When each child had each marker: child_id, marker, month (one row per month it applies).

    early help: every month an episode is open (open episodes to ``last_month``);
    suspension: its month; persistent absence: the last month of the term (>= 10% missed);
    school move / SEN change: the first month of the term that shows the change.
    """
    parts = []
    eh = select_events(timeline, "early_help", "early_help")
    if len(eh):
        end = month_index(eh["end_date"]).fillna(last_month).astype(int).clip(upper=last_month)
        span = np.maximum(end.to_numpy() - eh["month"].to_numpy(), 0) + 1
        parts.append(pd.DataFrame({
            "child_id": np.repeat(eh["child_id"].to_numpy(), span),
            "month": np.concatenate([np.arange(a, a + n)
                                     for a, n in zip(eh["month"], span, strict=True)]),
            "marker": "early help"}))
    susp = select_events(timeline, "suspension")
    parts.append(susp[["child_id", "month"]].assign(marker="suspension"))
    t = school_terms[[c for c in ["child_id", "academic_year", "term", "ncy", "urn",
                                  "sen_provision", *ATTENDANCE] if c in school_terms]].copy()
    t["last_month"] = term_last_month(t)
    pa = t[persistent_absence(t)]
    parts.append(pd.DataFrame({"child_id": pa["child_id"], "month": pa["last_month"],
                               "marker": "persistent absence"}))
    t = t.sort_values(["child_id", "last_month"]).drop_duplicates(["child_id", "last_month"])
    prev = t.groupby("child_id").shift(1)
    ncy = pd.to_numeric(t["ncy"], errors="coerce")
    prev_ncy = pd.to_numeric(prev["ncy"], errors="coerce")
    has_prev = prev["last_month"].notna()
    moved = has_prev & (t["urn"] != prev["urn"]) & ~((prev_ncy == 6) & (ncy == 7))
    sen = has_prev & (t["sen_provision"] != prev["sen_provision"])
    for flag, name in [(moved, "school move"), (sen, "SEN change")]:
        parts.append(pd.DataFrame({"child_id": t.loc[flag, "child_id"],
                                   "month": t.loc[flag, "last_month"] - 3, "marker": name}))
    out = pd.concat(parts, ignore_index=True)
    out["month"] = out["month"].astype(int)
    return out.drop_duplicates().reset_index(drop=True)


def _had_marker(child_months: pd.DataFrame, markers: pd.DataFrame, window: int) -> pd.DataFrame:
    """For each (child_id, month) row: 1 if each marker fell in the ``window`` months before.

    A range join in DuckDB: spreading each marker over its window in pandas made county-sized
    frames (a million markers times 12 months) to look up a few hundred thousand rows.
    """
    rows = child_months[["child_id", "month"]].reset_index(drop=True)
    if markers.empty:
        return rows
    con = duckdb.connect()
    con.register("cohort_rows", rows.assign(row=np.arange(len(rows))))
    con.register("markers", markers[["child_id", "month", "marker"]])
    hits = con.execute(
        "SELECT DISTINCT r.row, m.marker FROM cohort_rows r JOIN markers m "
        "ON m.child_id = r.child_id AND m.month BETWEEN r.month - ? AND r.month - 1",
        [window]).df()
    con.close()
    for marker in sorted(markers["marker"].unique()):
        flag = np.zeros(len(rows))
        flag[hits.loc[hits["marker"] == marker, "row"].to_numpy()] = 1.0
        rows[marker] = flag
    return rows


def before_referral(cohort: Cohort, referrals: pd.DataFrame, markers: pd.DataFrame,
                    windows=(6, 12)) -> pd.DataFrame:
    """What came in the 6 and 12 months before a first referral after transfer, described.

    Referred: each child's first referral in follow-up after the September of Year 7.
    Cohort: cohort child-months matched to them on calendar month and months from transfer
    (the same year group at the same time), weighted by the number of first referrals in each
    pair, so both groups cover the same calendar time and the same stage of school.
    """
    post = referrals[referrals["rel_month"] >= 0].sort_values(["child_id", "start_date",
                                                              "event_id"])
    first = post.groupby("child_id").head(1)[["child_id", "month", "rel_month"]]
    match = ["month", "rel_month"]
    weights = first.groupby(match).size().rename("w")
    pool = cohort.months[["child_id", *match]].merge(weights.reset_index()[match], on=match)
    rows = []
    for window in windows:
        ref = _had_marker(first, markers, window)
        base = _had_marker(pool, markers, window).assign(rel_month=pool["rel_month"].to_numpy())
        for marker in MARKERS:
            if marker not in base:
                base[marker] = 0.0
                ref[marker] = 0.0
            by_pair = base.groupby(match)[marker].mean()
            cohort_pct = (100 * float((by_pair * weights).sum() / weights.sum())
                          if len(weights) else np.nan)
            k = int(ref[marker].sum())
            rows.append({"marker": marker, "window_months": window,
                         "referred_children": len(first), "with_marker": k,
                         "referred_pct": 100 * k / len(first) if len(first) else np.nan,
                         "cohort_pct": cohort_pct})
    return pd.DataFrame(rows)
