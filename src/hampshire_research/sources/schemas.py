"""The canonical tables' schemas, declared once and checked on every write.

Dates are held as pandas datetimes in memory and written as parquet DATE columns, so DuckDB
sees dates and `load_canonical` gives back datetimes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pyarrow
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ..errors import ProjectError
from ..vocabulary import SOURCES, STAGES, TERMS
from .tabular import TEXT

EVENT_TYPES = [
    *STAGES, "suspension", "permanent_exclusion", "school_enrolment",
    # beyond the contract list, so no row read is lost: CIN visits (SSD) and the 2026-27 CIN
    # census pre-proceedings block
    "cin_visit", "pre_proceedings",
]


def _text(nullable: bool = True, **kw) -> pa.Column:
    return pa.Column(TEXT, nullable=nullable, **kw)


def _date(nullable: bool = True) -> pa.Column:
    return pa.Column("datetime64[ns]", nullable=nullable)


_BOOL = pa.Column(pd.BooleanDtype(), nullable=True)
_INT = pa.Column(pd.Int64Dtype(), nullable=True)

SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "persons": pa.DataFrameSchema({
        "record_id": _text(False, unique=True),
        "source": _text(False, checks=pa.Check.isin(SOURCES)),
        "first_name": _text(), "surname": _text(), "dob": _date(),
        "sex": _text(False, checks=pa.Check.isin(["M", "F", "U"])),
        "postcode": _text(), "upn": _text(), "nhs_number": _text(),
    }, strict=True, ordered=True),
    "events": pa.DataFrameSchema({
        "event_id": _text(False, unique=True),
        "record_id": _text(False),
        "source": _text(False, checks=pa.Check.isin(SOURCES)),
        "event_type": _text(False, checks=pa.Check.isin(EVENT_TYPES)),
        "start_date": _date(False), "end_date": _date(), "episode_id": _text(),
        "referral_source": _text(), "referral_nfa": _BOOL, "primary_need": _text(),
        "factors": _text(), "category_of_abuse": _text(), "outcome": _text(), "reason": _text(),
        "school_urn": _text(), "sessions": _INT,
    }, strict=True, ordered=True),
    "school_terms": pa.DataFrameSchema({
        "record_id": _text(False), "upn": _text(),
        "academic_year": _text(False, checks=pa.Check.str_matches(r"^\d{4}/\d{2}$")),
        "term": _text(False, checks=pa.Check.isin(TERMS)),
        "census_date": _date(False), "urn": _text(), "laestab": _text(), "ncy": _INT,
        "fsm": _BOOL,
        "sen_provision": _text(checks=pa.Check.isin(["E", "K", "N"])),
        "sen_type": _text(), "ethnicity": _text(), "postcode": _text(), "district": _text(),
        "sessions_possible": _INT, "sessions_authorised": _INT, "sessions_unauthorised": _INT,
    }, strict=True, ordered=True),
    "texts": pa.DataFrameSchema({
        "text_id": _text(False, unique=True), "record_id": _text(False),
        "source": _text(False, checks=pa.Check.isin(SOURCES)),
        "note_type": _text(), "stage": _text(), "date": _date(), "author_role": _text(),
        "text": _text(),
    }, strict=True, ordered=True),
}

# Supplementary tables (903 modules, SSD tables without a canonical home): a record_id each.
EXTRA_SCHEMA = pa.DataFrameSchema({"record_id": _text(False)}, strict=False)

REVIEW_CODES = [f"PN{i}" for i in range(8)]  # SSDA903 review participation codes
VOICE_OF_CHILD = ["voch_explained_worries", "voch_story_help_understand", "voch_agree_worker",
                  "voch_plan_safe", "voch_tablet_help_explain"]
TRANSCRIPT_TURNS = {"session_id": TEXT, "turn": "int64", "speaker": TEXT, "role": TEXT,
                    "text": TEXT, "group": TEXT, "site": TEXT, "date": TEXT, "file": TEXT,
                    "line": "int64"}
# The supplementary tables the analyses read, declared column by column.
SUPPLEMENTARY: dict[str, pa.DataFrameSchema] = {
    "csc_child_seen": pa.DataFrameSchema({
        "record_id": _text(False), "event_id": _text(False, unique=True),
        "event_type": _text(False, checks=pa.Check.isin(["cin_visit", "assessment"])),
        "date": _date(False), "child_seen": _BOOL, "seen_alone": _BOOL,
    }, strict=True, ordered=True),
    "csc_voice_of_child": pa.DataFrameSchema({
        "voch_person_id": _text(False), "voch_table_id": _text(),
        **{c: _text() for c in VOICE_OF_CHILD}, "voch_method": _text(), "record_id": _text(False),
    }, strict=True, ordered=True),
    "ssda903_reviews": pa.DataFrameSchema({
        "CHILD": _text(False), "DOB": _date(), "REVIEW": _date(),
        "REVIEW_CODE": _text(checks=pa.Check.isin(REVIEW_CODES)), "record_id": _text(False),
        "collection_year": pa.Column("int64"),
    }, strict=True, ordered=True),
    "transcript_turns": pa.DataFrameSchema(
        {c: pa.Column(t, nullable=False) for c, t in TRANSCRIPT_TURNS.items()}
        | {"session_id": _text(False)}, strict=True, ordered=True,
        unique=["session_id", "turn"]),
}

SORT_KEYS = {"persons": ["record_id"], "events": ["record_id", "start_date", "event_id"],
             "school_terms": ["record_id", "census_date", "urn"], "texts": ["text_id"],
             "csc_child_seen": ["event_id"], "transcript_turns": ["session_id", "turn"]}


def empty(name: str) -> pd.DataFrame:
    """An empty frame with the table's columns and dtypes."""
    cols = SCHEMAS[name].columns
    return typed(name, pd.DataFrame({c: pd.Series(dtype=object) for c in cols}))


def typed(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """The table's columns, in schema order, with the schema's dtypes (text nulls as None)."""
    cols = SCHEMAS[name].columns
    if list(df.columns) != list(cols):
        df = df.reindex(columns=list(cols))
    for c, col in cols.items():
        kind = "datetime64[ns]" if str(col.dtype).startswith("datetime64") else col.dtype.type
        if df[c].dtype == kind:
            continue
        if kind == "datetime64[ns]" and not pd.api.types.is_datetime64_any_dtype(df[c]):
            df[c] = pd.to_datetime(df[c], cache=False)
        df[c] = df[c].astype(kind)
    return df


def _sort(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Rows in key order (nulls last), by Arrow's multi-key sort, then one column at a time so
    a big table is never held twice."""
    if len(df) < 2:
        return df
    table = pyarrow.Table.from_pandas(df[keys], preserve_index=False)
    order = pc.sort_indices(table, sort_keys=[(k, "ascending", "at_end") for k in keys]
                            ).to_numpy()
    if (order == np.arange(len(df))).all():
        return df
    for c in df.columns:
        df[c] = df[c].array.take(order)
    return df


def conform(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """The table in schema order and dtypes, sorted for byte-identical reruns, and checked."""
    schema = SCHEMAS.get(name) or SUPPLEMENTARY.get(name, EXTRA_SCHEMA)
    df = typed(name, df) if name in SCHEMAS else df.reset_index(drop=True)
    df = _sort(df, SORT_KEYS.get(name, list(df.columns[:2])))
    try:
        return schema.validate(df, lazy=False, inplace=True)
    except (pa.errors.SchemaError, pa.errors.SchemaErrors) as e:
        raise ProjectError(f"canonical table {name!r} fails its schema: {e}") from None


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    """Write with datetimes as DATE columns (every canonical date is a calendar date)."""
    table = pyarrow.Table.from_pandas(df, preserve_index=False)
    for i, field in enumerate(table.schema):
        if pyarrow.types.is_timestamp(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pyarrow.date32()))
    pq.write_table(table, path)


def read_parquet(path: Path, columns: list[str] | None = None,
                 filters: list[tuple] | None = None) -> pd.DataFrame:
    """Read back with datetimes, nullable booleans, nullable integers and text as Python
    strings (None for null), the plainest form for the analyses. `columns`: only these;
    `filters`: only the rows that pass them (pyarrow's filters)."""
    mapping = {pyarrow.bool_(): pd.BooleanDtype(), pyarrow.int64(): pd.Int64Dtype()}
    df = pq.read_table(path, columns=columns, filters=filters).to_pandas(
        date_as_object=False, types_mapper=mapping.get, ignore_metadata=True)
    for c in df.columns:
        if str(df[c].dtype).startswith("datetime64"):
            df[c] = df[c].astype("datetime64[ns]")
    return df
