"""The Spark backend gives the same children as DuckDB (Spark in local mode; needs Java)."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from test_linkage import make_records

from hampshire_research.linkage import evaluate, score
from hampshire_research.linkage.quality import cluster

pytestmark = [pytest.mark.spark, pytest.mark.slow,
              pytest.mark.skipif(shutil.which("java") is None, reason="needs Java")]


def test_spark_and_duckdb_agree():
    persons, truth = make_records(80, seed=5)
    duck = score(persons, backend="duckdb", seed=3)
    spark = score(persons, backend="spark", seed=3)
    assert spark.candidate_pairs == duck.candidate_pairs
    both = duck.pairs.merge(spark.pairs, on=["record_id_l", "record_id_r"],
                            suffixes=("_duck", "_spark"))
    assert len(both) == len(duck.pairs) == len(spark.pairs)
    # same comparison levels for every pair; weights equal up to floating point in EM
    for comp in ("first_name", "surname", "dob", "sex", "postcode", "upn", "nhs_number"):
        assert (both[f"gamma_{comp}_duck"] == both[f"gamma_{comp}_spark"]).all(), comp
    assert (both["match_probability_duck"] - both["match_probability_spark"]).abs().max() < 1e-3
    c_duck = cluster(persons["record_id"], duck.pairs, 0.95)
    c_spark = cluster(persons["record_id"], spark.pairs, 0.95)
    pd.testing.assert_frame_equal(c_duck[["record_id", "child_id"]],
                                  c_spark[["record_id", "child_id"]])
    assert evaluate(c_spark, truth)["f1"] >= 0.95
