"""The Splink model: cleaned identity fields, comparisons, blocking and unsupervised training.

One settings object serves both engines: dates of birth are compared as ISO strings with
string functions only, so no engine-specific date format enters the settings.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import ColumnExpression, Linker, SettingsCreator, block_on

from ..errors import ProjectError
from .quality import expected_f1_threshold

IDENTITY = ["first_name", "surname", "dob", "sex", "postcode", "upn", "nhs_number"]
# The CIN census LAchildID and the SSDA903 CHILD are, in most councils, the case-management
# system's person id; record_ids carry them last (csc:<id>, cin_census:<YYYY>:<id>).
LOCAL_ID_SOURCES = ("csc", "cin_census", "ssda903")
COMPARED = [*IDENTITY, "la_child_id"]

# u from seeded random pairs. Up to SMALL records every pair is used in one chunk, so DuckDB
# and Spark see the same pairs; above it Splink stops once each level has been seen 100 times.
U_MAX_PAIRS = 5e6
U_PAIRS_PER_RECORD = 200
SMALL = 3000
EM_MAX_PAIRS = 1e6
# Prior: a share of true links that the deterministic rules below are assumed to find.
PRIOR_RECALL = 0.8
# Pairs scored below this probability are not kept (they never join a cluster); the
# match-weight histogram still counts every candidate pair.
KEEP_PAIRS_FROM = 0.001
DUCKDB_MEMORY = "800MB"
DOB_M_SAME_YEAR = 0.002
DOB_M_ELSE = 0.001
IDENTIFIERS = ("upn", "nhs_number", "la_child_id")
# With an identifier the model keeps its measured setup (no broad blocking, this threshold);
# without one it adapts: broad blocking rules and the threshold by expected F1.
IDENTIFIED_THRESHOLD = 0.95
# Blocking keys made from a field: the year of birth, and the postcode district (outward
# code), which a move within the district keeps.
YEAR, DISTRICT = "year_of_birth", "postcode_district"
KEYS = {YEAR: ("dob", ColumnExpression("dob").substr(1, 4), r"^(\d{4})"),
        DISTRICT: ("postcode", ColumnExpression("postcode").regex_extract(
            cl.PostcodeComparison.DISTRICT_REGEX), f"({cl.PostcodeComparison.DISTRICT_REGEX})")}
# Broad blocking rules are added, narrowest first (by the pairs each makes on the data), while
# the pairs they make together stay within the cap. They catch the pairs the rules above miss
# (a missing date of birth, both names changed, a move with a new surname); on a file of
# thousands even date of birth alone is cheap, on a county it would pair every child born that
# day.
BROAD_RULES = [("first_name", "surname"), ("dob", DISTRICT), ("first_name", DISTRICT),
               ("postcode", "surname"), ("dob",), ("postcode",)]
BROAD_PAIR_CAP = 1_000_000


@lru_cache(maxsize=1)
def _name_variants() -> dict[str, tuple[str, ...]]:
    """Each name's nicknames and formal forms (one step in the `nicknames` data, both ways)."""
    from nicknames import NickNamer

    nn = NickNamer()
    out: dict[str, set[str]] = {}
    for formal, nicks in nn.nickname_lookup.items():
        for nick in nicks:
            out.setdefault(formal, set()).add(nick)
            out.setdefault(nick, set()).add(formal)
    return {k: tuple(sorted(v - {k})) for k, v in out.items()}


def clean_name(value: object) -> str | None:
    """Lower case ASCII letters, hyphens and apostrophes dropped to spaces, single spaced."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z ]+", " ", text.lower().replace("'", ""))
    text = " ".join(text.split())
    return text or None


def _clean_postcode(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = re.sub(r"[^A-Z0-9]", "", str(value).upper())
    if len(text) < 5:
        return text or None
    return f"{text[:-3]} {text[-3:]}"


def _clean_code(value: object) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    return str(value).strip().upper().replace(" ", "") or None


def _clean_sex(value: object) -> str | None:
    text = str(value).strip().upper() if isinstance(value, str) else None
    return text if text in ("M", "F") else None


def _per_value(values: pd.Series, func) -> np.ndarray:
    """func applied once per distinct value (a county has far fewer names than records)."""
    if not pd.api.types.is_datetime64_any_dtype(values):  # dates stay dates: no Timestamp each
        values = values.astype(object)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[:-1] = [func(u) for u in uniques]
    mapped[-1] = func(None)
    return mapped[codes]  # code -1 (missing) takes the last slot


def _first_name_variants(name: str | None) -> list[str] | None:
    if name is None:
        return None
    variants = _name_variants()
    first = name.split()[0]
    found = set(variants.get(name, ())) | {first} | set(variants.get(first, ()))
    return sorted(found - {name})


def prepare_records(records: pd.DataFrame) -> pd.DataFrame:
    """Canonical person records -> the columns the model compares, one row per record.

    Adds `first_name_variants` (nicknames and formal forms), `surname_parts` (the parts of
    a double-barrelled surname) and `postcode_history` (the postcode with every one in the
    record's optional `postcodes`, the addresses it has held); dob becomes an ISO string (and
    `dob_date` a date); sex U becomes unknown; `la_child_id` is the case-management id
    carried by CSC, CIN census and 903 record ids.
    """
    if "record_id" not in records.columns:
        raise ProjectError("records need a record_id column", field="record_id")
    ids = records["record_id"]
    if ids.isna().any():
        raise ProjectError("record_id is missing", row=int(ids.isna().to_numpy().argmax()),
                           field="record_id")
    dup = ids.duplicated()
    if dup.any():
        raise ProjectError(f"record_id {ids[dup].iloc[0]!r} appears more than once",
                           row=int(dup.to_numpy().argmax()), field="record_id")
    empty = pd.Series([None] * len(records), dtype=object)

    def column(name: str) -> pd.Series:
        return records[name].reset_index(drop=True) if name in records else empty

    out = pd.DataFrame({"unique_id": ids.astype(str).to_numpy()})
    out["source"] = column("source").astype(str).to_numpy() if "source" in records else "records"
    out["first_name"] = _per_value(column("first_name"), clean_name)
    out["surname"] = _per_value(column("surname"), clean_name)
    out["first_name_variants"] = _per_value(out["first_name"], _first_name_variants)
    out["surname_parts"] = _per_value(out["surname"],
                                      lambda n: sorted(set(n.split())) if n else None)
    dob = pd.to_datetime(column("dob"), errors="coerce")
    out["dob"] = _per_value(dob, lambda d: None if d is None or pd.isna(d)
                            else d.strftime("%Y-%m-%d"))
    out["dob_date"] = _per_value(dob, lambda d: None if d is None or pd.isna(d) else d.date())
    out["sex"] = _per_value(column("sex"), _clean_sex)
    out["postcode"] = _per_value(column("postcode"), _clean_postcode)
    out["postcode_history"] = _postcode_history(records, out["postcode"])
    out["upn"] = _per_value(column("upn"), _clean_code)
    out["nhs_number"] = _per_value(column("nhs_number"), _clean_code)
    local = out["source"].isin(LOCAL_ID_SOURCES).to_numpy()
    out["la_child_id"] = np.where(local, [i.rpartition(":")[2] for i in out["unique_id"]],
                                  None)
    return out.sort_values("unique_id", kind="stable").reset_index(drop=True)


def _postcode_history(records: pd.DataFrame, current: pd.Series) -> list:
    """Each record's postcodes over time, sorted, its current one included (None without any)."""
    held = [current.rename("postcode")]
    if "postcodes" in records:
        earlier = records["postcodes"].reset_index(drop=True).explode().dropna()
        held.append(pd.Series(_per_value(earlier, _clean_postcode), index=earlier.index,
                              name="postcode"))
    long = (pd.concat(held).dropna().rename_axis("row").reset_index().drop_duplicates()
            .sort_values(["row", "postcode"]))
    offsets = np.concatenate([[0], np.bincount(long["row"], minlength=len(current)).cumsum()])
    lists = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()),
                                     pa.array(long["postcode"].to_numpy(), pa.string()))
    return [postcodes or None for postcodes in lists.to_pylist()]


def _edits(col: str, n: int, label: str) -> cll.ComparisonLevelCreator:
    """Damerau-Levenshtein distance at most n, tried only where Levenshtein is at most 2n: the
    same pairs (a transposition is two Levenshtein edits), but DuckDB's Damerau-Levenshtein is
    several times slower and every random pair for u reaches this level."""
    return cll.And(cll.LevenshteinLevel(col, 2 * n),
                   cll.DamerauLevenshteinLevel(col, n)).configure(label_for_charts=label)


def _first_name_close(tf: bool) -> list[cll.ComparisonLevelCreator]:
    """The first-name levels that are not 'different', strongest first."""
    exact = cll.ExactMatchLevel("first_name")
    return [
        exact.configure(tf_adjustment_column="first_name") if tf else exact,
        cll.CustomLevel(
            "array_contains(first_name_variants_l, first_name_r) "
            "OR array_contains(first_name_variants_r, first_name_l)",
            label_for_charts="nickname, formal form or first part"),
        cll.JaroWinklerLevel("first_name", 0.92),
        _edits("first_name", 2, "two edits or fewer"),
    ]


def _first_name() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="first_name",
        comparison_description="first name: exact, nickname or formal form, typo, else",
        comparison_levels=[cll.NullLevel("first_name"), *_first_name_close(tf=True),
                           cll.ElseLevel()],
    )


TWINS_LABEL = "born the same day to the same family, another first name"
TWINS_BLOCK = ("dob", "surname", "postcode")


def _twins() -> cl.CustomComparison:
    """Twins: a correction, not a field. The model multiplies a shared date of birth and a
    shared family (surname, postcode) as if independent, but twins share both, so among
    different children that agreement is far commoner than the product says. Its weight is
    set in `score` from the twins EM finds among pairs born the same day to the same surname
    and postcode; it is 0 (m = u = 1) until then and never trained. Only where sex is held:
    half of twins differ in it and one child hardly ever does, so EM can tell twins from one
    child whose first name was recorded wholly differently; without it EM takes such records
    of one child for twins (on FEBRL, which has no twins and no sex, F1 fell 0.94 -> 0.90)."""
    district = KEYS[DISTRICT][1]
    fixed = {"m_probability": 1.0, "u_probability": 1.0, "fix_m_probability": True,
             "fix_u_probability": True}
    return cl.CustomComparison(
        output_column_name="twins",
        comparison_description="a correction for twins: same birth and family, another name",
        comparison_levels=[
            cll.NullLevel("dob"),
            # a missing first name makes the Not(...) NULL: such pairs fall to the else level
            cll.And(cll.ExactMatchLevel("dob"), cll.Not(cll.Or(*_first_name_close(tf=False))),
                    cll.Or(cll.ExactMatchLevel("postcode"),
                           cll.And(cll.ExactMatchLevel("surname"),
                                   cll.ExactMatchLevel(district)))).configure(
                label_for_charts=TWINS_LABEL, **fixed),
            cll.ElseLevel().configure(**fixed),
        ],
    )


def _surname() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="surname",
        comparison_description="surname: exact, typo, part of a double-barrelled name, else",
        comparison_levels=[
            cll.NullLevel("surname"),
            cll.ExactMatchLevel("surname").configure(tf_adjustment_column="surname"),
            cll.JaroWinklerLevel("surname", 0.92),
            cll.ArrayIntersectLevel("surname_parts", 1).configure(
                label_for_charts="shares a part of a double-barrelled surname"),
            _edits("surname", 2, "two edits or fewer"),
            cll.ElseLevel(),
        ],
    )


HISTORY_LABEL = "a postcode in common at another time"


def _postcode(history: bool):
    """Splink's postcode comparison; with address histories, a mover's old postcode matching
    another record's is a level of its own, below the same postcode now."""
    out = cl.PostcodeComparison("postcode")
    if not history:
        return out
    levels = out.create_comparison_levels()
    levels.insert(2, cll.ArrayIntersectLevel("postcode_history", 1).configure(
        label_for_charts=HISTORY_LABEL))
    return cl.CustomComparison(
        output_column_name="postcode", comparison_levels=levels,
        comparison_description="postcode: exact, in common at another time, sector, "
                               "district, area, else")


def _family(history: bool) -> cl.CustomComparison:
    """Surname and postcode as one comparison, so u is how often two different children share
    both: siblings do, far more often than the two fields' separate rates multiplied suggest,
    and counted apart those two agreements would outweigh a different first name and DOB."""
    surname_close = cll.Or(cll.JaroWinklerLevel("surname", 0.92),
                           cll.ArrayIntersectLevel("surname_parts", 1),
                           _edits("surname", 2, "two edits or fewer"))
    # the same sector is the same district
    district = cll.ExactMatchLevel(KEYS[DISTRICT][1])

    def level(label: str, *parts) -> cll.ComparisonLevelCreator:
        return cll.And(*parts).configure(label_for_charts=label)

    moved = ([level(f"same surname, {HISTORY_LABEL}", cll.ExactMatchLevel("surname"),
                    cll.ArrayIntersectLevel("postcode_history", 1))] if history else [])
    return cl.CustomComparison(
        output_column_name="family",
        comparison_description="surname and postcode together",
        comparison_levels=[
            level("surname and postcode missing", cll.NullLevel("surname"),
                  cll.NullLevel("postcode")),
            level("same surname, same postcode", cll.ExactMatchLevel("surname"),
                  cll.ExactMatchLevel("postcode")),
            *moved,
            level("same surname, same district", cll.ExactMatchLevel("surname"), district),
            level("same surname", cll.ExactMatchLevel("surname")),
            level("similar surname, same postcode", cll.ExactMatchLevel("postcode"),
                  surname_close),
            level("similar surname", surname_close),
            level("same postcode", cll.ExactMatchLevel("postcode")),
            level("same district", district),
            # apart from different values, so that a missing one is not counted as a wrong one
            cll.CustomLevel(" OR ".join(f"{c}_{side} IS NULL" for c in ("surname", "postcode")
                                        for side in "lr")).configure(
                label_for_charts="surname or postcode missing, the other different"),
            cll.ElseLevel(),
        ],
    )


def _dob() -> cl.CustomComparison:
    swap = ("substr(dob_l, 1, 4) = substr(dob_r, 1, 4) AND "
            "substr(dob_l, 6, 2) = substr(dob_r, 9, 2) AND "
            "substr(dob_l, 9, 2) = substr(dob_r, 6, 2)")
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_description="date of birth: exact, day/month swapped, one digit, within "
                               "10 days, same year, else",
        comparison_levels=[
            cll.NullLevel("dob"),
            cll.ExactMatchLevel("dob"),
            cll.CustomLevel(swap, label_for_charts="day and month swapped"),
            _edits("dob", 1, "one digit wrong or two swapped"),
            # on a DATE column, so no engine-specific date format is needed
            cll.AbsoluteDateDifferenceLevel("dob_date", threshold=10, metric="day",
                                            input_is_string=False).configure(
                label_for_charts="within 10 days"),
            # Without labels EM cannot tell a sibling (same surname, address, often a similar
            # name) from a true match whose DOB is wrong, so how rare a wholly different DOB
            # is among true matches is set, not learnt: 2 and 1 in 1,000.
            cll.CustomLevel("substr(dob_l, 1, 4) = substr(dob_r, 1, 4)",
                            label_for_charts="same year").configure(
                m_probability=DOB_M_SAME_YEAR, fix_m_probability=True),
            cll.ElseLevel().configure(m_probability=DOB_M_ELSE, fix_m_probability=True),
        ],
    )


def _identifier(col: str, label: str) -> cl.CustomComparison:
    """An identifier is evidence weighed by m and u like any field, never a key on its own."""
    return cl.CustomComparison(
        output_column_name=col,
        comparison_description=f"{label}: exact, different",
        comparison_levels=[cll.NullLevel(col), cll.ExactMatchLevel(col), cll.ElseLevel()],
    )


def comparisons(present: set[str]) -> list:
    """The comparisons for the identity fields that hold at least one value."""
    out = []
    if "first_name" in present:
        out.append(_first_name())
    family = not present & set(IDENTIFIERS) and {"surname", "postcode"} <= present
    if "surname" in present and not family:
        out.append(_surname())
    if "dob" in present:
        out.append(_dob())
    if "sex" in present:
        out.append(cl.ExactMatch("sex"))
    history = "postcode_history" in present
    if family:
        out.append(_family(history))
        if {"first_name", "dob", "sex"} <= present:
            out.append(_twins())
    elif "postcode" in present:
        out.append(_postcode(history))
    if "upn" in present:
        out.append(_identifier("upn", "UPN"))
    if "nhs_number" in present:
        out.append(_identifier("nhs_number", "NHS number"))
    if "la_child_id" in present:
        out.append(_identifier("la_child_id", "case-management person id (LAchildID, CHILD)"))
    return out


def _key(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in KEYS:
        return frame[column]
    field, _, pattern = KEYS[column]
    return frame[field].str.extract(pattern, expand=False)


def _block_on(rule: tuple[str, ...]):
    return block_on(*[KEYS[c][1] if c in KEYS else c for c in rule])


def _pairs_made(frame: pd.DataFrame, rule: tuple[str, ...]) -> int:
    """Candidate pairs a rule makes: records sharing every one of its values."""
    keys = pd.concat([_key(frame, c) for c in rule], axis=1, keys=range(len(rule))).dropna()
    n = keys.groupby(list(keys.columns)).size().to_numpy(dtype=np.int64)
    return int((n * (n - 1) // 2).sum())


def blocking_rules(frame: pd.DataFrame, present: set[str]) -> pd.DataFrame:
    """Candidate pairs: any one rule is enough, so each kind of error is caught by another rule.

    Names alone would pair every namesake in the county; with the year of birth they stay few.
    Without identifiers the broad rules join, narrowest first, while their pairs fit
    BROAD_PAIR_CAP. Returns each rule with the pairs it makes on its own and whether it is used.
    """
    def held(rule: tuple[str, ...]) -> bool:
        return {KEYS[c][0] if c in KEYS else c for c in rule} <= present

    rows = [{"columns": rule, "pairs": _pairs_made(frame, rule), "used": True} for rule in
            [("upn",), ("nhs_number",), ("la_child_id",), ("first_name", "surname", YEAR),
             ("surname", "dob"), ("first_name", "dob"), ("dob", "postcode"),
             ("first_name", "postcode")] if held(rule)]
    # not with an identifier: not needed, and counting their pairs raised full Hampshire's
    # peak from 2.5 GB to 3.3 GB
    broad = sorted(({"columns": rule, "pairs": _pairs_made(frame, rule)} for rule in BROAD_RULES
                    if held(rule) and not present & set(IDENTIFIERS)), key=lambda r: r["pairs"])
    total = 0
    for row in broad:
        row["used"] = total + row["pairs"] <= BROAD_PAIR_CAP
        total += row["pairs"] if row["used"] else 0
    out = pd.DataFrame(rows + broad)
    out.insert(0, "rule", [" & ".join(c) for c in out["columns"]])
    return out


def em_sessions(present: set[str]) -> list[tuple[str, ...]]:
    """The blocks m is learnt on by EM, each estimating the fields it does not block on.

    With an identifier: date of birth is learnt on pairs sharing the identifier, not a name,
    since a name block is full of siblings (same surname and address) who would teach the
    model that DOBs often disagree. Without one, each field is learnt where the pairs that
    are not matches differ from matches in that field: first name and sex on pairs born the
    same day to the same surname and home (twins, besides the same child), surname and home
    on pairs sharing first name and DOB, and DOB on pairs sharing both names. A first name
    learnt on a date-of-birth block alone takes twins for one child with a changed name.
    """
    if present & set(IDENTIFIERS):
        shared = [p for p in [("upn",), ("nhs_number",), ("la_child_id",)] if set(p) <= present]
        blocks = [("dob",), *shared[:1]]
    else:
        blocks = [TWINS_BLOCK, ("first_name", "dob"), ("first_name", "surname")]
    return [p for p in blocks if set(p) <= present]


def _weigh_twins(linker, frame: pd.DataFrame, in_block_match: float) -> None:
    """Set the twins correction: how much commoner two different children born the same day to
    the same surname and postcode are than u for date of birth times u for family says.

    Different children in that block are EM's share of non-matches times its pairs; the
    correction applies only where first names wholly differ, the twins' signature.
    """
    levels = {(c.output_column_name, lv.label_for_charts): lv
              for c in linker._settings_obj.comparisons for lv in c.comparison_levels}
    if ("twins", TWINS_LABEL) not in levels:  # no sex held: see _twins
        return
    n = len(frame)
    different = (1 - in_block_match) * _pairs_made(frame, TWINS_BLOCK)
    expected = (levels[("dob", "Exact match on dob")].u_probability
                * levels[("family", "same surname, same postcode")].u_probability
                * n * (n - 1) / 2)
    if different >= 1:
        levels[("twins", TWINS_LABEL)].m_probability = min(1.0, expected / different)


def settings(present: set[str], multi_source: bool, rules: list) -> SettingsCreator:
    return SettingsCreator(
        link_type="link_and_dedupe" if multi_source else "dedupe_only",
        unique_id_column_name="unique_id",
        source_dataset_column_name="source",
        comparisons=comparisons(present),
        blocking_rules_to_generate_predictions=rules,
        retain_matching_columns=True,  # needed for the gamma (level) columns
        retain_intermediate_calculation_columns=True,
        additional_columns_to_retain=[],
        em_convergence=1e-4,
        max_iterations=25,
    )


def quiet(con) -> None:
    """No DuckDB progress bars on the terminal. Inside Jupyter DuckDB refuses to change the
    setting without ipywidgets, and prints no bar there anyway."""
    import duckdb

    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.InvalidInputException:
        pass


@dataclass
class Scored:
    """What one model run gives back: the kept pairs, counts and where the time went."""

    pairs: pd.DataFrame
    weight_histogram: pd.DataFrame
    candidate_pairs: int
    comparisons: list[dict]
    blocking: pd.DataFrame
    threshold: float
    seconds: dict[str, float] = field(default_factory=dict)
    model: dict = field(default_factory=dict)


def _db_api(backend: str):
    if backend == "duckdb":
        import tempfile

        import duckdb
        from splink import DuckDBAPI

        # a cap, so a county fits a modest machine: DuckDB spills to disk beyond it
        con = duckdb.connect(config={"memory_limit": DUCKDB_MEMORY,
                                     "temp_directory": tempfile.gettempdir()})
        quiet(con)
        return DuckDBAPI(connection=con)
    if backend == "spark":
        from splink.backends.spark import SparkAPI

        from .spark import spark_session

        return SparkAPI(spark_session=spark_session(), num_partitions_on_repartition=4)
    raise ProjectError(f"unknown backend {backend!r} (use duckdb or spark)", field="backend")


def _register(db_api, backend: str, frame: pd.DataFrame):
    if backend == "spark":
        from pyspark.sql import types as T

        from .spark import spark_session

        strings = T.ArrayType(T.StringType())
        kinds = {"first_name_variants": strings, "surname_parts": strings,
                 "postcode_history": strings, "dob_date": T.DateType()}
        schema = T.StructType([T.StructField(c, kinds.get(c, T.StringType()))
                               for c in frame.columns])
        rows = [tuple(r) for r in frame.itertuples(index=False, name=None)]
        return db_api.register(spark_session().createDataFrame(rows, schema),
                               dataset_display_name="persons")
    return db_api.register(frame, dataset_display_name="persons")


def score(records: pd.DataFrame, *, backend: str = "duckdb", seed: int = 0) -> Scored:
    """Fit the model without labels (u by seeded random sampling, m by EM) and score pairs."""
    t0 = time.perf_counter()
    frame = prepare_records(records)
    # a field is compared where records carry it; an identifier only where two records share
    # a value (ids that never repeat give EM and blocking no pairs to learn from)
    present = {c for c in COMPARED if frame[c].notna().any()
               and (c not in IDENTIFIERS or frame[c].dropna().duplicated().any())}
    if frame["postcode_history"].str.len().gt(1).any():  # someone has moved
        present.add("postcode_history")
    if not present & {"first_name", "surname", "dob"}:
        raise ProjectError("records need at least one of first_name, surname or dob")
    multi = frame["source"].nunique() > 1
    db_api = _db_api(backend)
    sdf = _register(db_api, backend, frame)
    blocking = blocking_rules(frame, present)
    used = blocking[blocking["used"]]
    linker = Linker(sdf, settings(present, multi, [_block_on(c) for c in used["columns"]]),
                    log_level=logging.WARNING)
    for name in ("splink", "py4j"):
        logging.getLogger(name).setLevel(logging.ERROR)
    seconds = {"prepare": time.perf_counter() - t0}

    t = time.perf_counter()
    prior_rules = [block_on(*p) for p in [("first_name", "surname", "dob"), ("upn",)]
                   if set(p) <= present]
    if prior_rules:  # otherwise Splink's default prior
        linker.training.estimate_probability_two_random_records_match(prior_rules,
                                                                      recall=PRIOR_RECALL)
    small = len(frame) <= SMALL
    linker.training.estimate_u_using_random_sampling(
        max_pairs=min(U_MAX_PAIRS, U_PAIRS_PER_RECORD * len(frame)), seed=seed,
        min_count_per_level=None if small else 100, num_chunks=1 if small else 10)
    seconds["u"] = time.perf_counter() - t
    t = time.perf_counter()
    for p in em_sessions(present):
        session = linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*p), max_pairs=EM_MAX_PAIRS)
        if p == TWINS_BLOCK:
            _weigh_twins(linker, frame, session.core_model_settings
                         .probability_two_random_records_match)
    seconds["em"] = time.perf_counter() - t

    t = time.perf_counter()
    pred = linker.inference.predict()
    seconds["predict"] = time.perf_counter() - t
    t = time.perf_counter()
    pairs, hist, n_pairs, found = _collect(db_api, backend, pred,
                                           frame.set_index("unique_id")["source"])
    blocking = blocking.drop(columns="columns").merge(
        found.assign(rule=used["rule"].to_numpy()[found.pop("match_key")]), on="rule",
        how="left").fillna({"pairs_found_first": 0, "expected_matches": 0.0})
    seconds["collect"] = time.perf_counter() - t
    comps = _describe(linker)
    model = linker.misc.save_model_to_json(overwrite=True)
    if backend == "spark":
        pred.drop_table_from_database_and_remove_from_cache()
    else:
        db_api.duckdb_con.close()  # frees the pairs and caches before the tables are built
    return Scored(pairs=pairs, weight_histogram=hist, candidate_pairs=n_pairs,
                  comparisons=comps, blocking=blocking, seconds=seconds, model=model,
                  threshold=IDENTIFIED_THRESHOLD if present & set(IDENTIFIERS)
                  else expected_f1_threshold(pairs))


def _collect(db_api, backend: str, pred, source: pd.Series
             ) -> tuple[pd.DataFrame, pd.DataFrame, int, pd.DataFrame]:
    """The kept pairs as pandas (rounded, so both engines give the same bytes), a histogram
    of the match weights of every candidate pair, and per blocking rule the pairs it found
    first with their summed match probability (the matches it is expected to hold)."""
    name = pred.physical_name
    wanted = [c for c in pred.columns_escaped if c.strip('"`').startswith(("gamma_", "mw_"))]
    hist_sql = (f"SELECT CAST(floor(match_weight) AS INTEGER) AS match_weight_bin, "
                f"COUNT(*) AS pairs FROM {name} GROUP BY 1 ORDER BY 1")
    found_sql = (f"SELECT CAST(match_key AS INTEGER) AS match_key, COUNT(*) AS "
                 f"pairs_found_first, round(SUM(match_probability), 1) AS expected_matches "
                 f"FROM {name} GROUP BY 1 ORDER BY 1")
    # a dedupe of one source has no source columns: they are added from the records after
    sides = [c for c in ("source_l", "source_r") if c in {x.strip('"`') for x in
                                                          pred.columns_escaped}]
    cols = ["unique_id_l AS record_id_l", "unique_id_r AS record_id_r", *sides,
            "match_weight", "match_probability", *wanted]
    keep_sql = (f"SELECT {', '.join(cols)} FROM {name} "
                f"WHERE match_probability >= {KEEP_PAIRS_FROM}")
    if backend == "spark":
        spark = db_api.spark
        hist = spark.sql(hist_sql).toPandas()
        found = spark.sql(found_sql).toPandas()
        pairs = spark.sql(keep_sql).toPandas()
    else:
        con = db_api.duckdb_con
        hist = con.sql(hist_sql).df()
        found = con.sql(found_sql).df()
        pairs = con.sql(keep_sql).df()
    for side in ("l", "r"):
        if f"source_{side}" not in pairs:
            pairs[f"source_{side}"] = pairs[f"record_id_{side}"].map(source)
    hist["match_weight_bin"] = hist["match_weight_bin"].astype("int64")
    hist["pairs"] = hist["pairs"].astype("int64")
    n_pairs = int(hist["pairs"].sum())
    # the comparisons are symmetric, so only the ids and sources change sides
    swap = (pairs["record_id_l"] > pairs["record_id_r"]).to_numpy()
    for a, b in (("record_id_l", "record_id_r"), ("source_l", "source_r")):
        left, right = pairs[a].to_numpy(), pairs[b].to_numpy()
        pairs[a], pairs[b] = np.where(swap, right, left), np.where(swap, left, right)
    for c in pairs.columns:
        if c.startswith("gamma_"):
            pairs[c] = pairs[c].astype("int64")
        elif c.startswith("mw_") or c == "match_weight":
            pairs[c] = pairs[c].astype(float).round(6)
    pairs["match_probability"] = pairs["match_probability"].astype(float).round(9)
    pairs = pairs.sort_values(["record_id_l", "record_id_r"], kind="stable")
    found = found.astype({"match_key": "int64", "pairs_found_first": "int64",
                          "expected_matches": float})
    return pairs.reset_index(drop=True), hist, n_pairs, found


def _describe(linker) -> list[dict]:
    """Each comparison's levels with m, u and match weight, for the clerical file and the page."""
    out = []
    for comp in linker._settings_obj.comparisons:
        for lvl in comp.comparison_levels:
            out.append({
                "comparison": comp.output_column_name,
                "gamma": int(lvl.comparison_vector_value),
                "level": lvl.label_for_charts,
                "m_probability": None if lvl.is_null_level else _r(lvl.m_probability),
                "u_probability": None if lvl.is_null_level else _r(lvl.u_probability),
                "match_weight": None if lvl.is_null_level else _r(lvl._match_weight),
            })
    return out


def _r(x):
    return None if x is None else round(float(x), 6)
