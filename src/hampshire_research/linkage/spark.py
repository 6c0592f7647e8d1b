"""A small local Spark session for the Spark backend (modest memory, Splink's similarity jar)."""

from __future__ import annotations

import shutil
from functools import lru_cache

from ..errors import ProjectError


@lru_cache(maxsize=1)
def spark_session():
    """Local mode on two cores; the jar gives Spark the Jaro-Winkler and Damerau-Levenshtein
    functions that DuckDB has built in."""
    if shutil.which("java") is None:
        raise ProjectError("the spark backend needs Java (install a JRE, e.g. openjdk-17-jre)")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ProjectError("the spark backend needs pyspark: pip install '.[spark]'") from None
    from splink.backends.spark import similarity_jar_location

    spark = (SparkSession.builder.master("local[2]").appName("hampshire-research-linkage")
             .config("spark.jars", similarity_jar_location())
             .config("spark.driver.memory", "1g")
             .config("spark.sql.shuffle.partitions", "4")
             .config("spark.default.parallelism", "4")
             .config("spark.ui.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir("/tmp/hampshire_research_spark_checkpoints")
    return spark
