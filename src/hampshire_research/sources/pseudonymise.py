"""Keyed hashing of identifiers, for tables that leave the council's secure environment.

Each identifier is normalised (upper case, every space removed; dates as YYYY-MM-DD) and
replaced by HMAC-SHA256 under a key from the environment variable
HAMPSHIRE_RESEARCH_PSEUDO_KEY (never from the repository), cut to 32 hex characters. The same
value under the same key always gives the same token, so records can still be linked by
exact agreement (UPN, NHS number, names, postcode, date of birth) after pseudonymisation;
without the key a token cannot be reversed or recomputed from a guess.

What is exported: persons, events and school_terms. record_ids keep their source prefix
(`csc:<token>`) so joins still work. Dates of birth become the first of the month, with the
full date's token in `dob_token`. Case-note text and the supplementary tables are not exported:
free text cannot be made safe by hashing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path

import pandas as pd

from ..errors import ProjectError
from .schemas import read_parquet, write_parquet

KEY_ENV = "HAMPSHIRE_RESEARCH_PSEUDO_KEY"
MIN_KEY_LENGTH = 16
HASHED = {
    "persons": ["first_name", "surname", "postcode", "upn", "nhs_number"],
    "events": ["episode_id"],
    "school_terms": ["upn", "postcode"],
}
RECORD_KEYS = {"persons": ["record_id"], "events": ["record_id", "event_id"],
               "school_terms": ["record_id"]}


def pseudo_key() -> bytes:
    """The key from the environment; a clear error when it is missing or too short."""
    key = os.environ.get(KEY_ENV, "")
    if not key:
        raise ProjectError(f"set the environment variable {KEY_ENV} to a secret key (kept "
                           "outside the repository) before pseudonymising")
    if len(key) < MIN_KEY_LENGTH:
        raise ProjectError(f"{KEY_ENV} is too short: use at least {MIN_KEY_LENGTH} characters")
    return key.encode("utf-8")


def normalise(values: pd.Series) -> pd.Series:
    """The form that is hashed: upper case, no spaces; dates as YYYY-MM-DD."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.strftime("%Y-%m-%d")
    return values.astype("string").str.upper().str.replace(r"\s+", "", regex=True)


def tokens(values: pd.Series, key: bytes | None = None) -> pd.Series:
    """Keyed hash of each value (null stays null), computed once per distinct value."""
    key = key or pseudo_key()
    norm = normalise(values)
    uniq = pd.unique(norm.dropna())
    table = {v: hmac.new(key, v.encode("utf-8"), hashlib.sha256).hexdigest()[:32] for v in uniq}
    return norm.map(table).astype(object).where(norm.notna(), None)


def _prefixed(values: pd.Series, key: bytes) -> pd.Series:
    """`source:native id` -> `source:token`, so the source stays readable."""
    parts = values.astype(str).str.split(":", n=1, expand=True)
    return parts[0] + ":" + tokens(parts[1], key)


def pseudonymise_tables(tables: dict[str, pd.DataFrame], key: bytes | None = None
                        ) -> dict[str, pd.DataFrame]:
    """Persons, events and school_terms with every identifier replaced by its token."""
    key = key or pseudo_key()
    out = {}
    for name, cols in HASHED.items():
        df = tables[name].copy()
        for c in RECORD_KEYS[name]:
            df[c] = _prefixed(df[c], key)
        for c in cols:
            df[c] = tokens(df[c], key)
        if name == "persons":
            df["dob_token"] = tokens(df["dob"], key)
            df["dob"] = df["dob"].dt.to_period("M").dt.to_timestamp()
        out[name] = df
    return out


def pseudonymise_canonical(canonical_dir: Path, out_dir: Path) -> list[Path]:
    """Write pseudonymised copies of the exportable canonical tables to `out_dir`."""
    key = pseudo_key()
    tables = {n: read_parquet(Path(canonical_dir) / f"{n}.parquet") for n in HASHED}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in pseudonymise_tables(tables, key).items():
        path = out_dir / f"{name}.parquet"
        write_parquet(df, path)
        written.append(path)
    return written
