"""Plain Splink 5 on DuckDB, set up as its documentation does: the yardstick for our model.

Names with term-frequency adjustment, date of birth, postcode, and sex, UPN and NHS number as
exact matches where the records carry them; the documentation's blocking on name and date
pairs; prior, u by random sampling and m by EM; connected components at the threshold.
"""

from __future__ import annotations

import logging

import duckdb
import pandas as pd
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from hampshire_research.linkage.quality import cluster


def link(records: pd.DataFrame, threshold: float = 0.9, seed: int = 0) -> pd.DataFrame:
    """Canonical person records -> record_id, child_id."""
    df = pd.DataFrame({"unique_id": records["record_id"].astype(str)})
    df["source_dataset"] = records["source"].astype(str) if "source" in records else "records"
    for c in ("first_name", "surname", "postcode", "sex", "upn", "nhs_number"):
        if c in records and records[c].notna().any():
            df[c] = records[c].astype(object).where(records[c].notna(), None)
    df["dob"] = pd.to_datetime(records["dob"], errors="coerce").dt.strftime("%Y-%m-%d")
    df["dob"] = df["dob"].astype(object).where(df["dob"].notna(), None)
    df["first_name"] = df["first_name"].str.lower()
    df["surname"] = df["surname"].str.lower()

    comparisons = [
        cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison("dob", input_is_string=True),
        cl.PostcodeComparison("postcode"),
    ]
    comparisons += [cl.ExactMatch(c) for c in ("sex", "upn", "nhs_number") if c in df]
    rules = [block_on("first_name", "surname"), block_on("surname", "dob"),
             block_on("first_name", "dob"), block_on("postcode", "first_name")]
    rules += [block_on(c) for c in ("upn", "nhs_number") if c in df]
    sources = df["source_dataset"].nunique()
    settings = SettingsCreator(
        link_type="link_only" if sources == 2 else
        "link_and_dedupe" if sources > 2 else "dedupe_only",
        comparisons=comparisons, blocking_rules_to_generate_predictions=rules)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register(df), settings, log_level=logging.WARNING)
    logging.getLogger("splink").setLevel(logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "surname"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    pred = linker.inference.predict(threshold_match_probability=0.01)
    pairs = con.sql(f"SELECT unique_id_l AS record_id_l, unique_id_r AS record_id_r, "
                    f"match_probability FROM {pred.physical_name}").df()
    con.close()
    return cluster(df["unique_id"], pairs, threshold)[["record_id", "child_id"]]
