"""Small builders for canonical rows, shared by the readers."""

from __future__ import annotations

import pandas as pd

from .checks import FileLog, blank_to_na, nhs_check, postcode, sex_code, upn_check
from .schemas import SCHEMAS, typed


def events(df: pd.DataFrame, *, source: str, event_type, event_id: pd.Series,
           record_id: pd.Series, start_date: pd.Series, **cols) -> pd.DataFrame:
    """Events rows from a reader's frame; columns not given are null."""
    out = pd.DataFrame(index=df.index)
    out["event_id"] = event_id
    out["record_id"] = record_id
    out["source"] = source
    out["event_type"] = event_type
    out["start_date"] = start_date
    for c in SCHEMAS["events"].columns:
        if c in out:
            continue
        v = cols.get(c)
        if v is None:
            kind = SCHEMAS["events"].columns[c].dtype.type
            out[c] = pd.Series(None if c == "end_date" else pd.NA, index=df.index,
                               dtype="datetime64[ns]" if c == "end_date" else kind)
        elif c in _TEXT_FIELDS:
            out[c] = blank_to_na(v)
        else:
            out[c] = v
    return typed("events", out)


IDENTITY = ["first_name", "surname", "dob", "postcode", "upn", "nhs_number"]  # what links people

_TEXT_FIELDS = {"episode_id", "referral_source", "primary_need", "factors", "category_of_abuse",
                "outcome", "reason", "school_urn"}


def identity(df: pd.DataFrame, log: FileLog, *, source: str, record_id: pd.Series,
             first_name=None, surname=None, dob=None, sex=None, post=None, upn=None,
             nhs=None) -> pd.DataFrame:
    """Persons rows with identifiers checked: a failing UPN/NHS number/postcode is set to null
    and flagged in the file's log (the row is kept)."""
    out = pd.DataFrame(index=df.index)
    out["record_id"] = record_id
    out["source"] = source
    out["first_name"] = blank_to_na(df[first_name]) if first_name else None
    out["surname"] = blank_to_na(df[surname]) if surname else None
    out["dob"] = df[dob] if dob else pd.NaT
    if sex:
        out["sex"], bad = sex_code(df[sex])
        log.flag(df, bad, sex, "sex code not recognised (set to U)")
    else:
        out["sex"] = "U"
    if post:
        out["postcode"], bad = postcode(df[post])
        log.flag(df, bad, post, "postcode malformed")
    else:
        out["postcode"] = None
    # an identifier failing its check character is kept as null, with the reason flagged
    for column, field, check in [("upn", upn, upn_check), ("nhs_number", nhs, nhs_check)]:
        if not field:
            out[column] = None
            continue
        norm, reason = check(df[field])
        out[column] = norm.where(reason.isna() & norm.ne(""), None)
        for r in reason.dropna().unique():
            log.flag(df, reason.eq(r), field, r)
    given = dict(zip(IDENTITY, [first_name, surname, dob, post, upn, nhs]))
    log.note_identity(out, [c for c in IDENTITY if given[c]])
    return typed("persons", out)
