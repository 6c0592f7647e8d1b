"""Clerical review a reviewer can work in: Splink's dashboards and the reviewer's decisions.

Each run writes, under the linked folder's `review/` (derived data, never published: the
files hold names and dates of birth), Splink's comparison viewer and cluster studio for the
pairs and clusters nearest the threshold, and a decisions file to fill in. The next run
applies the decisions before the clusters are made and measures the model against them.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
from splink import DuckDBAPI, Linker
from statsmodels.stats.proportion import proportion_confint

from ..errors import ProjectError
from .model import clean_name, prepare_records, quiet, settings
from .quality import cluster

# Kept small so the dashboards open quickly: the closest pairs and the clusters they fall in.
REVIEW_PAIRS = 200
REVIEW_CLUSTERS = 50
MATCH, NOT_A_MATCH = "match", "not a match"
COLUMNS = ["record_id_l", "record_id_r", "decision", "reviewer", "date"]
DECISIONS_FILE = "review_decisions.csv"
# Splink's templates ask Google for a font; the page falls back to the browser's own, so the
# request is left out and the files open offline without reaching anywhere.
_FONT_LINK = re.compile(r'<link[^>]*fonts\.(googleapis|gstatic)\.com[^>]*>\n?')


def read_decisions(path: Path, record_ids: pd.Series) -> pd.DataFrame:
    """The decided rows of a reviewer's file, each pair with its smaller record_id on the left.

    Rows left blank (the template's undecided pairs) are not decisions. A decided row needs a
    known pair of records, `match` or `not a match`, a reviewer and an ISO date; a pair may be
    decided once. Anything else stops the run with the file, row and field.
    """
    path = Path(path)
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ProjectError(f"decisions file lacks column {missing[0]!r}", path=path,
                           field=missing[0])
    known = set(record_ids.astype(str))
    table = table[COLUMNS].apply(lambda c: c.str.strip())
    table["row"] = np.arange(2, len(table) + 2)  # the file's line: the header is line 1
    decided = table[table["decision"] != ""]
    seen: dict[tuple[str, str], int] = {}
    for r in decided.itertuples(index=False):
        for side in ("record_id_l", "record_id_r"):
            if getattr(r, side) not in known:
                raise ProjectError(f"unknown record {getattr(r, side)!r}", path=path,
                                   row=r.row, field=side)
        if r.record_id_l == r.record_id_r:
            raise ProjectError("a record is paired with itself", path=path, row=r.row,
                               field="record_id_r")
        if r.decision not in (MATCH, NOT_A_MATCH):
            raise ProjectError(f"decision {r.decision!r} is not 'match' or 'not a match'",
                               path=path, row=r.row, field="decision")
        if not r.reviewer:
            raise ProjectError("a decision needs the reviewer's name", path=path, row=r.row,
                               field="reviewer")
        if pd.to_datetime(r.date, format="%Y-%m-%d", errors="coerce") is pd.NaT:
            raise ProjectError(f"date {r.date!r} is not YYYY-MM-DD", path=path, row=r.row,
                               field="date")
        pair = tuple(sorted((r.record_id_l, r.record_id_r)))
        if pair in seen:
            raise ProjectError(f"pair already decided at row {seen[pair]}", path=path,
                               row=r.row, field="record_id_l")
        seen[pair] = r.row
    out = decided.copy()
    left, right = out["record_id_l"].to_numpy(), out["record_id_r"].to_numpy()
    swap = left > right
    out["record_id_l"], out["record_id_r"] = np.where(swap, right, left), np.where(swap, left,
                                                                                   right)
    return out.reset_index(drop=True)


def write_template(path: Path, review: pd.DataFrame) -> None:
    """The pairs to review, closest to the threshold first, with the decision left blank."""
    template = review.head(REVIEW_PAIRS)[["record_id_l", "record_id_r"]].copy()
    for c in ("decision", "reviewer", "date"):
        template[c] = ""
    template.to_csv(path, index=False)


def apply_decisions(record_ids: pd.Series, pairs: pd.DataFrame, threshold: float,
                    decisions: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Clusters as `cluster` makes them, with the reviewer's decisions obeyed.

    A pair decided `match` is a link whatever its score; one decided `not a match` is never
    a link. Records kept apart can still meet through other links; in a cluster where they do,
    links are taken again strongest first (the reviewer's matches before any), and a link is
    left out when it would join records the reviewer kept apart. A `match` that cannot be kept
    without joining such records is a contradiction in the file and stops the run.
    """
    key = ["record_id_l", "record_id_r"]
    links = pairs.loc[pairs["match_probability"] >= threshold,
                      [*key, "match_probability"]].copy()
    links["row"] = 0
    decided = decisions.set_index(key)
    links = links[~links.set_index(key).index.isin(
        decided.index[decided["decision"] == NOT_A_MATCH])]
    must = decisions.loc[decisions["decision"] == MATCH, [*key, "row"]].assign(
        match_probability=1.0)
    links = pd.concat([must, links]).drop_duplicates(key).reset_index(drop=True)
    clusters = cluster(record_ids, links, threshold)
    child = clusters.set_index("record_id")["child_id"]
    apart = decisions[decisions["decision"] == NOT_A_MATCH]
    joined = apart[child.reindex(apart["record_id_l"]).to_numpy()
                   == child.reindex(apart["record_id_r"]).to_numpy()]
    if joined.empty:
        return clusters
    # within the clusters that join records kept apart, strongest first with a union-find
    bad = set(child.reindex(joined["record_id_l"]))
    inside = links["record_id_l"].map(child).isin(bad).to_numpy()
    edges = links[inside].assign(reviewer=links["row"][inside] > 0).sort_values(
        ["reviewer", "match_probability", "record_id_l", "record_id_r"],
        ascending=[False, False, True, True], kind="stable")
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    pairs_apart = list(zip(joined["record_id_l"], joined["record_id_r"], strict=True))
    dropped = []
    for e in edges.itertuples():
        a, b = find(e.record_id_l), find(e.record_id_r)
        if a == b:
            continue
        if any({find(x), find(y)} == {a, b} for x, y in pairs_apart):
            if e.reviewer:
                raise ProjectError("this match would join records decided 'not a match' "
                                   "elsewhere in the file", path=path, row=int(e.row),
                                   field="decision")
            dropped.append(e.Index)
            continue
        parent[b] = a
    return cluster(record_ids, links.drop(index=dropped), threshold)


def review_quality(decisions: pd.DataFrame, model_map: pd.DataFrame) -> pd.DataFrame:
    """The model's links against the reviewer's decisions on the pairs near the threshold.

    The model's view of a pair is whether its clusters, before any decision is applied, put
    both records in one child. Precision is the share of reviewed pairs the model linked that
    the reviewer confirmed; recall the share of pairs the reviewer matched that the model
    linked; with 95% Wilson intervals. They hold for pairs near the threshold only, which are
    the hardest: the pairs far from it are almost all right.
    """
    child = model_map.set_index("record_id")["child_id"]
    linked = (child.reindex(decisions["record_id_l"]).to_numpy()
              == child.reindex(decisions["record_id_r"]).to_numpy())
    match = (decisions["decision"] == MATCH).to_numpy()
    counts = {
        "pairs_reviewed": len(decisions),
        "linked_and_confirmed": int((linked & match).sum()),
        "linked_but_not_a_match": int((linked & ~match).sum()),
        "not_linked_but_a_match": int((~linked & match).sum()),
        "not_linked_and_confirmed": int((~linked & ~match).sum()),
    }
    row: dict = dict(counts)
    for name, hit, of in (("precision", counts["linked_and_confirmed"], int(linked.sum())),
                          ("recall", counts["linked_and_confirmed"], int(match.sum()))):
        low, high = proportion_confint(hit, of, method="wilson") if of else (np.nan, np.nan)
        row[name] = round(hit / of, 6) if of else np.nan
        row[f"{name}_low"], row[f"{name}_high"] = round(float(low), 6), round(float(high), 6)
    return pd.DataFrame([row])


def _on_duckdb(model: dict) -> dict:
    """The fitted model in DuckDB's SQL, whichever engine fitted it: the same comparisons
    built afresh with the fitted m, u and prior, every pair of the records shown compared."""
    fields = {c["output_column_name"] for c in model["comparisons"]}
    if "family" in fields:  # surname and postcode as one comparison (no identifier)
        fields |= {"surname", "postcode"}
    if "postcode_history" in json.dumps(model["comparisons"]):  # movers' postcodes compared
        fields.add("postcode_history")
    fresh = settings(fields, model["link_type"] != "dedupe_only", ["1=1"]
                     ).create_settings_dict("duckdb")
    for comp, fitted in zip(fresh["comparisons"], model["comparisons"], strict=True):
        for level, lv in zip(comp["comparison_levels"], fitted["comparison_levels"],
                             strict=True):
            level.update({k: lv[k] for k in ("m_probability", "u_probability") if k in lv})
    return {**fresh, "linker_uid": "review",
            "probability_two_random_records_match": model[
                "probability_two_random_records_match"]}


def write_dashboards(persons: pd.DataFrame, model: dict, review: pd.DataFrame,
                     record_map: pd.DataFrame, out_dir: Path) -> list[Path]:
    """Splink's comparison viewer for the REVIEW_PAIRS closest pairs and its cluster studio for
    the REVIEW_CLUSTERS clusters they fall in, as self-contained HTML files (none when no pair
    is near the threshold).

    The fitted model scores again just the records shown, on a small DuckDB of their own (also
    after a Spark run), with name frequencies from every record so the weights are the run's.
    """
    out_dir = Path(out_dir)
    paths = [out_dir / "comparison_viewer.html", out_dir / "cluster_studio.html"]
    sample = review.head(REVIEW_PAIRS)
    if sample.empty:  # nothing near the threshold: no dashboards, none left from a past run
        for path in paths:
            path.unlink(missing_ok=True)
        return []
    child = record_map.set_index("record_id")["child_id"]
    near = pd.unique(np.ravel(np.column_stack([sample["record_id_l"].map(child),
                                               sample["record_id_r"].map(child)])))
    clusters = list(near[:REVIEW_CLUSTERS])
    members = record_map.loc[record_map["child_id"].isin(clusters), "record_id"]
    shown = set(sample["record_id_l"]) | set(sample["record_id_r"]) | set(members)
    frame = prepare_records(persons[persons["record_id"].astype(str).isin(shown)])
    con = duckdb.connect()
    quiet(con)
    # one thread and a seed for the examples Splink draws at random: same run, same bytes
    con.execute("SET threads = 1")
    con.execute("SELECT setseed(0.5)").fetchall()
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register(frame, dataset_display_name="persons"),
                    _on_duckdb(model), log_level=logging.WARNING)
    logging.getLogger("splink").setLevel(logging.ERROR)  # as in `score`
    for comp in model["comparisons"]:
        for col in {lv.get("tf_adjustment_column") for lv in comp["comparison_levels"]} - {None}:
            # the share of every record holding each cleaned name (the adjusted fields are
            # names), counted once per name as the sources hold it: quick on a county
            held = persons[col].value_counts()
            held = held.groupby(held.index.map(clean_name)).sum()
            tf = (held / held.sum()).rename(f"tf_{col}").rename_axis(col).reset_index()
            linker.table_management.register_term_frequency_lookup(
                db_api.register(tf, table_name=f"tf_{col}"), col)
    pred = linker.inference.predict().as_pandas_dataframe()
    pred["_pair"] = [tuple(sorted(p)) for p in zip(pred["unique_id_l"], pred["unique_id_r"],
                                                   strict=True)]
    pred = pred.sort_values("_pair", kind="stable").reset_index(drop=True)
    wanted = set(zip(sample["record_id_l"], sample["record_id_r"], strict=True))
    left, right = pred["unique_id_l"].map(child), pred["unique_id_r"].map(child)
    in_cluster = (left == right) & left.isin(clusters)

    def table(df: pd.DataFrame, name: str):  # a table, not a view: Splink reads its rowid
        con.register("frame", df)
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
        con.unregister("frame")
        return db_api.register(name)

    viewer = linker.table_management.register_table_predict(
        table(pred[pred["_pair"].isin(wanted)].drop(columns="_pair"), "review_pairs"))
    out_dir.mkdir(parents=True, exist_ok=True)
    linker.visualisations.comparison_viewer_dashboard(viewer, str(paths[0]), overwrite=True,
                                                      num_example_rows=5)
    nodes = frame[frame["unique_id"].isin(set(members))].assign(
        cluster_id=lambda f: f["unique_id"].map(child)).sort_values("unique_id")
    linker.visualisations.cluster_studio_dashboard(
        table(pred[in_cluster].drop(columns="_pair"), "review_edges"),
        table(nodes, "review_clusters"), str(paths[1]),
        cluster_ids=clusters, overwrite=True)
    con.close()
    for path in paths:
        path.write_text(_FONT_LINK.sub("", path.read_text(encoding="utf-8")), encoding="utf-8")
    return paths
