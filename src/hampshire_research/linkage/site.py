"""Link a site's canonical tables: record map, single view, timeline, clerical review, quality.

`link_site` links one folder of canonical tables into another; the build step
(`hampshire_research.build`) decides when that is needed and is what commands and notebooks
call.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from ..errors import ProjectError
from ..params import SiteParams
from ..sources.schemas import EVENT_TYPES, read_parquet
from .model import BROAD_PAIR_CAP, DUCKDB_MEMORY, IDENTITY, quiet, score
from .quality import cluster, evaluate, tradeoff
from .review import (
    DECISIONS_FILE,
    apply_decisions,
    read_decisions,
    review_quality,
    write_dashboards,
    write_template,
)

# Pairs whose match weight is within this many bits of the threshold go to clerical review.
REVIEW_BAND_BITS = 4.0
SOURCES = ["school_census", "early_help", "csc", "cin_census", "ssda903"]
# Source preferred for a child's best identity when records disagree equally often: the school
# census holds legal names; the case-management system is checked at every contact.
IDENTITY_PRIORITY = {"school_census": 0, "csc": 1, "cin_census": 2, "ssda903": 3,
                     "early_help": 4}
# Social care events are counted from the case-management system only: CIN census and 903
# repeat them for the returns, so counting them too would double count.
RETURN_SOURCES = ("cin_census", "ssda903")
TABLES = ["record_map", "single_view", "timeline", "clerical_review", "pairs", "match_weights",
          "tradeoff", "linkage_rates", "comparison_levels", "blocking", "review_quality"]


def read_persons(canonical_dir: Path) -> pd.DataFrame:
    for name in ("persons", "events"):
        path = Path(canonical_dir) / f"{name}.parquet"
        if not path.is_file():
            raise ProjectError(f"no canonical {name} table (run `hampshire-research validate` "
                               "first)", path=path)
    persons = read_parquet(Path(canonical_dir) / "persons.parquet")
    missing = [c for c in ["record_id", "source", *IDENTITY] if c not in persons.columns]
    if missing:
        raise ProjectError(f"persons table lacks {', '.join(missing)}",
                           path=Path(canonical_dir) / "persons.parquet", field=missing[0])
    persons["dob"] = pd.to_datetime(persons["dob"])
    return persons


# Tables holding the postcodes a record has had over time, where the sources keep them (a
# pseudonymised export carries school terms only).
ADDRESS_HISTORY = ("csc_addresses", "school_terms")


def postcodes_held(canonical_dir: Path, record_ids: pd.Series) -> pd.Series:
    """Every postcode each record has held, in the order of `record_ids`: the case-management
    address history and the school census postcode each term. A child who moves between two
    sources' extracts keeps an old postcode in common, which the current one alone loses."""
    paths = [_quote(path) for name in ADDRESS_HISTORY
             if (path := Path(canonical_dir) / f"{name}.parquet").is_file()]
    if not paths:
        return pd.Series([None] * len(record_ids), dtype=object)
    held = duckdb.sql(
        "SELECT record_id, list(DISTINCT postcode ORDER BY postcode) AS postcodes FROM ("
        + " UNION ALL ".join(f"SELECT record_id, postcode FROM read_parquet('{p}')"
                             for p in paths)
        + ") WHERE postcode IS NOT NULL GROUP BY record_id").df()
    return pd.Series(held.set_index("record_id")["postcodes"].reindex(record_ids.to_numpy())
                     .to_numpy(), dtype=object)


def _read_truth(path: Path | None) -> pd.DataFrame | None:
    if path is None or not Path(path).is_file():
        return None
    truth = pd.read_csv(path, dtype=str)
    need = {"record_id", "child_id"}
    if not need <= set(truth.columns):
        raise ProjectError("truth key needs record_id and child_id columns", path=path)
    return truth


def link_site(params: SiteParams, canonical_dir: Path, out_dir: Path, backend: str = "duckdb",
              *, truth: Path | None = None, threshold: float | None = None,
              review: Path | None = None) -> dict:
    """Link a site's canonical persons and write the linked tables under `out_dir`.

    `review` is the clerical review folder (see `review`): its decisions file, when there is
    one, is applied to the clusters and measures the model; the dashboards and, when absent,
    the decisions template are written there. It lies outside `out_dir`, which a relink
    replaces, so the reviewer's work outlives it. Without it nothing is reviewed.

    `truth` (a synthetic data folder's truth/linkage_key.csv, when given) is read only to
    measure quality after the model is fitted; it is never an input to the model. It is not
    guessed from params: canonical tables built from other data would be measured against
    the wrong key. The threshold, unless given, is the model's (see `Scored.threshold`).
    """
    t0 = time.perf_counter()
    persons = read_persons(Path(canonical_dir))
    events = Path(canonical_dir) / "events.parquet"
    held = persons.assign(postcodes=postcodes_held(canonical_dir, persons["record_id"])
                          .to_numpy())
    scored = score(held, backend=backend, seed=params.seed)
    t1 = time.perf_counter()
    if threshold is None:
        threshold = scored.threshold
    model_map = cluster(persons["record_id"], scored.pairs, threshold)
    decisions = pd.DataFrame(columns=["record_id_l", "record_id_r", "decision", "row"])
    decisions_path = Path(review) / DECISIONS_FILE if review else None
    if decisions_path and decisions_path.is_file():
        decisions = read_decisions(decisions_path, persons["record_id"])
    clusters = (apply_decisions(persons["record_id"], scored.pairs, threshold, decisions,
                                decisions_path) if len(decisions) else model_map)
    record_map = persons[["source", "record_id"]].merge(clusters, on="record_id")
    record_map = record_map.sort_values("record_id", kind="stable").reset_index(drop=True)

    truth_path = Path(truth) if truth else None
    truth_df = _read_truth(truth_path)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_events, orphans = timeline(events, record_map, out_dir / "timeline.parquet")
    tables = {
        "record_map": record_map,
        "single_view": single_view(persons, events, record_map),
        "clerical_review": clerical_review(scored.pairs, record_map, scored.comparisons,
                                           threshold, persons),
        "pairs": scored.pairs[["record_id_l", "record_id_r", "source_l", "source_r",
                               "match_weight", "match_probability"]],
        "match_weights": scored.weight_histogram,
        "tradeoff": tradeoff(persons["record_id"], scored.pairs, truth_df),
        "linkage_rates": linkage_rates(record_map),
        "comparison_levels": pd.DataFrame(scored.comparisons),
        "blocking": scored.blocking,
        "review_quality": review_quality(decisions, model_map),
    }
    summary = {
        "site": params.site, "backend": backend, "threshold": threshold,
        "records": int(len(persons)),
        "records_by_source": record_map["source"].value_counts().sort_index().to_dict(),
        "candidate_pairs": scored.candidate_pairs,
        "pairs_kept": int(len(scored.pairs)),
        "links": int((scored.pairs["match_probability"] >= threshold).sum()),
        "children": int(record_map["child_id"].nunique()),
        "clerical_review_pairs": int(len(tables["clerical_review"])),
        "reviewer_decisions": int(len(decisions)),
        "events": n_events,
        "events_without_person": orphans,
        "quality": evaluate(record_map, truth_df) if truth_df is not None else None,
        "truth": str(truth_path) if truth_df is not None else None,
    }
    for name, df in tables.items():
        df.to_parquet(out_dir / f"{name}.parquet", index=False)
    tables["clerical_review"].to_csv(out_dir / "clerical_review.csv", index=False)
    if review:
        write_dashboards(held, scored.model, tables["clerical_review"], record_map, review)
        if not decisions_path.is_file():
            write_template(decisions_path, tables["clerical_review"])
    (out_dir / "model.json").write_text(json.dumps(scored.model, indent=1, sort_keys=True,
                                                   default=str))
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=1, sort_keys=True))
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    steps = {**scored.seconds, "clusters_and_tables": time.perf_counter() - t1}
    summary["seconds_by_step"] = {k: round(v, 1) for k, v in steps.items()}
    return summary


def format_summary(summary: dict) -> str:
    """A few lines for the CLI: counts, quality against truth when there is one."""
    lines = [
        f"{summary['site']}: {summary['records']:,} records -> {summary['children']:,} children "
        f"({summary['backend']}, threshold {summary['threshold']})",
        "records by source: " + ", ".join(f"{k} {v:,}"
                                          for k, v in summary["records_by_source"].items()),
        f"candidate pairs {summary['candidate_pairs']:,}; links {summary['links']:,}; "
        f"pairs for clerical review {summary['clerical_review_pairs']:,}",
    ]
    if summary.get("events_without_person"):
        lines.append(f"events whose record has no person row: "
                     f"{summary['events_without_person']:,} (kept, child_id empty)")
    q = summary.get("quality")
    if q:
        lines.append(f"against truth: pairwise precision {q['precision']:.4f} recall "
                     f"{q['recall']:.4f} F1 {q['f1']:.4f}; B-cubed precision "
                     f"{q['bcubed_precision']:.4f} recall {q['bcubed_recall']:.4f} F1 "
                     f"{q['bcubed_f1']:.4f}")
    else:
        lines.append("no truth key: quality not measured (see linkage rates and match weights)")
    if "seconds" in summary:
        lines.append(f"{summary['seconds']:.1f} s")
    return "\n".join(lines)


def format_blocking(blocking: pd.DataFrame) -> str:
    """Each blocking rule's cost and yield, so a reader sees what a broader rule would buy:
    the pairs it makes, those it found first, and the matches the model expects among them."""
    lines = ["blocking rule: pairs it makes; found first; matches expected among those"]
    for row in blocking.itertuples():
        if row.used:
            lines.append(f"  {row.rule}: {row.pairs:,}; {int(row.pairs_found_first):,}; "
                         f"{row.expected_matches:,.0f}")
        else:
            lines.append(f"  {row.rule}: {row.pairs:,}; not used (over the "
                         f"{BROAD_PAIR_CAP:,}-pair cap for broad rules)")
    return "\n".join(lines)


def linked_files(out_dir: Path) -> dict[str, Path]:
    """The files of the linked tables written by `link_site`, by name; one error naming any
    that are missing."""
    out_dir = Path(out_dir)
    missing = [t for t in TABLES if not (out_dir / f"{t}.parquet").is_file()]
    if missing:
        raise ProjectError(f"linked tables missing ({', '.join(missing)}): run "
                           "`hampshire-research link` first", path=out_dir)
    return {t: out_dir / f"{t}.parquet" for t in TABLES}


def load_linked(out_dir: Path) -> dict[str, pd.DataFrame]:
    """The linked tables written by `link_site`, by name."""
    return {t: read_parquet(path) for t, path in linked_files(out_dir).items()}


def _quote(path: Path) -> str:
    return str(path).replace("'", "''")


def _connect(persons: pd.DataFrame | None, events: pd.DataFrame | Path,
             record_map: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with persons, events (a frame or the canonical parquet file) and
    the record map: grouping and sorting millions of events is much quicker there."""
    con = duckdb.connect(config={"memory_limit": DUCKDB_MEMORY})
    quiet(con)

    def arrow(df: pd.DataFrame) -> pa.Table:  # DuckDB scans Arrow far faster than objects
        return pa.Table.from_pandas(df, preserve_index=False)

    con.register("record_map", arrow(record_map[["record_id", "child_id"]]))
    if persons is not None:
        con.register("persons", arrow(persons))
    if isinstance(events, pd.DataFrame):
        con.register("events", arrow(events))
    else:
        con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet('{_quote(events)}')")
    return con


def single_view(persons: pd.DataFrame, events: pd.DataFrame | Path,
                record_map: pd.DataFrame) -> pd.DataFrame:
    """One row per child: best identity, which sources hold them, dates and counts of events.

    Each identity field takes the value most of the child's records agree on; ties go to the
    preferred source (IDENTITY_PRIORITY), then the smaller value.
    """
    con = _connect(persons, events, record_map)
    rank = " ".join(f"WHEN '{s}' THEN {i}" for s, i in IDENTITY_PRIORITY.items())
    con.execute(f"""CREATE TEMP TABLE pm AS SELECT m.child_id, p.*,
                    CASE p.source {rank} ELSE 9 END AS priority
                    FROM persons p JOIN record_map m USING (record_id)""")
    ctes, cols = [], []
    for col in IDENTITY:
        keep = "AND sex IN ('M', 'F')" if col == "sex" else ""
        ctes.append(f"""best_{col} AS (
            SELECT child_id, v AS {col} FROM (
              SELECT child_id, v, row_number() OVER (PARTITION BY child_id
                                                    ORDER BY n DESC, p, v) AS r
              FROM (SELECT child_id, {col} AS v, count(*) AS n, min(priority) AS p FROM pm
                    WHERE {col} IS NOT NULL {keep} GROUP BY ALL))
            WHERE r = 1)""")
        cols.append(f"coalesce({col}, 'U') AS sex" if col == "sex" else col)
    cols += [f"coalesce(records_{s}, 0) > 0 AS in_{s}" for s in SOURCES]
    cols += [f"coalesce(records_{s}, 0) AS records_{s}" for s in SOURCES]
    cols.append(" + ".join(f"(coalesce(records_{s}, 0) > 0)::INT" for s in SOURCES)
                + " AS n_sources")
    cols += [f"{k}_{s}" for k in ("first", "latest") for s in SOURCES]
    cols += [f"coalesce(n_{k}, 0) AS n_{k}" for k in EVENT_TYPES]
    skip = ", ".join(f"'{s}'" for s in RETURN_SOURCES)
    src = ", ".join(f"count(*) FILTER (WHERE source = '{s}') AS records_{s}" for s in SOURCES)
    dates = ", ".join(
        f"min(start_date) FILTER (WHERE source = '{s}') AS first_{s}, "
        f"max(coalesce(end_date, start_date)) FILTER (WHERE source = '{s}') AS latest_{s}"
        for s in SOURCES)
    counts = ", ".join(f"count(*) FILTER (WHERE event_type = '{k}' AND source NOT IN ({skip}))"
                       f" AS n_{k}" for k in EVENT_TYPES)
    sql = f"""
        WITH {", ".join(ctes)},
        src AS (SELECT child_id, {src} FROM pm GROUP BY child_id),
        ev AS (SELECT m.child_id, e.* FROM events e JOIN record_map m USING (record_id)),
        dates AS (SELECT child_id, {dates}, {counts} FROM ev GROUP BY child_id)
        SELECT child_id, {", ".join(cols)}
        FROM src {" ".join(f"LEFT JOIN best_{c} USING (child_id)" for c in IDENTITY)}
        LEFT JOIN dates USING (child_id)
        ORDER BY child_id"""
    view = con.sql(sql).df()
    con.close()
    date_cols = {"dob"} | {f"{k}_{s}" for k in ("first", "latest") for s in SOURCES}
    for c in view.columns:
        if c in date_cols:
            view[c] = pd.to_datetime(view[c]).astype("datetime64[ns]")
        elif c.startswith(("records_", "n_")):
            view[c] = view[c].astype("int64")
        elif c.startswith("in_"):
            view[c] = view[c].astype(bool)
    return view


def timeline(events: pd.DataFrame | Path, record_map: pd.DataFrame,
             out: Path) -> tuple[int, int]:
    """Write every event with its child_id (empty when the event's record has no person row)
    to `out`, straight from DuckDB; return the counts of events and of events without one."""
    con = _connect(None, events, record_map)
    con.execute(f"""COPY (SELECT e.*, m.child_id FROM events e LEFT JOIN record_map m
                         USING (record_id)
                         ORDER BY m.child_id NULLS LAST, e.start_date, e.event_id)
                    TO '{_quote(out)}' (FORMAT parquet)""")
    n, orphans = con.sql(f"SELECT count(*), count(*) - count(child_id) "
                         f"FROM read_parquet('{_quote(out)}')").fetchall()[0]
    con.close()
    return int(n), int(orphans)


def _weight(p: float) -> float:
    return math.log2(p / (1 - p))


def clerical_review(pairs: pd.DataFrame, record_map: pd.DataFrame, levels: list[dict],
                    threshold: float, records: pd.DataFrame) -> pd.DataFrame:
    """Pairs near the threshold, closest first, with both records' values (as the sources hold
    them) and what each comparison found and weighed."""
    w = _weight(threshold)
    near = pairs[(pairs["match_weight"] - w).abs() <= REVIEW_BAND_BITS].copy()
    values = records.set_index("record_id")
    for side in ("l", "r"):
        got = values.reindex(near[f"record_id_{side}"].to_numpy())
        for col in values.columns.drop("source"):
            v = got[col]
            if pd.api.types.is_datetime64_any_dtype(v):
                v = v.dt.strftime("%Y-%m-%d")
            near[f"{col}_{side}"] = v.to_numpy()
    child = record_map.set_index("record_id")["child_id"]
    out = pd.DataFrame({
        "record_id_l": near["record_id_l"], "source_l": near["source_l"],
        "record_id_r": near["record_id_r"], "source_r": near["source_r"],
        "match_weight": near["match_weight"], "match_probability": near["match_probability"],
        "linked_directly": near["match_probability"] >= threshold,
        "same_child": near["record_id_l"].map(child).to_numpy()
        == near["record_id_r"].map(child).to_numpy(),
    })
    labels = {(lv["comparison"], lv["gamma"]): lv["level"] for lv in levels}
    for comp in dict.fromkeys(lv["comparison"] for lv in levels):
        for side in ("l", "r"):
            col = f"{comp}_{side}"
            if col in near:
                out[col] = near[col].astype(object).where(near[col].notna(), None)
        out[f"{comp}_level"] = [labels.get((comp, int(g)), "") for g in near[f"gamma_{comp}"]]
        tf = near.get(f"mw_tf_adj_{comp}", 0)  # how common the name is, for names
        out[f"{comp}_weight"] = (near[f"mw_{comp}"] + tf).round(6)
    out["distance_from_threshold"] = (out["match_weight"] - w).abs().round(6)
    out = out.sort_values(["distance_from_threshold", "record_id_l", "record_id_r"],
                          kind="stable")
    return out.reset_index(drop=True)


def linkage_rates(record_map: pd.DataFrame) -> pd.DataFrame:
    """Per source: records, and how many were linked to another record and to another source."""
    rm = record_map.copy()
    per_child = rm.groupby("child_id")["source"].agg(["size", "nunique"])
    rm["linked_any"] = rm["child_id"].map(per_child["size"]) > 1
    rm["linked_other_source"] = rm["child_id"].map(per_child["nunique"]) > 1
    out = rm.groupby("source").agg(records=("record_id", "size"),
                                   children=("child_id", "nunique"),
                                   linked_to_any_record=("linked_any", "sum"),
                                   linked_to_another_source=("linked_other_source", "sum"))
    out = out.reindex([s for s in SOURCES if s in out.index]
                      + sorted(set(out.index) - set(SOURCES)))
    return out.astype("int64").reset_index()
