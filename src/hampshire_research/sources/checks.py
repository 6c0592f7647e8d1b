"""Field checks (UPN, NHS number, codes; dates in `dates.py`) and the ledger that makes every
row count.

Checks run on the distinct values of a column and are mapped back, so a column of millions of
rows with a few thousand distinct dates costs a few thousand parses. Every row that leaves a
frame leaves through `FileLog.quarantine` with a reason; `FileLog.close` proves that
rows read = rows kept + rows quarantined, row by row.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute as pc

from ..errors import ProjectError
from .dates import parse_dates
from .tabular import TEXT

UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"  # I, O and S are not used in check letters


def by_value(s: pd.Series, func) -> pd.Series:
    """Apply `func` (a Series -> Series function) to the distinct values of `s` only
    (nulls are treated as blank)."""
    codes, uniques = pd.factorize(s.fillna(""))
    out = func(pd.Series(uniques, dtype=TEXT if s.dtype == TEXT else object))
    return pd.Series(np.asarray(out, dtype=object).take(codes) if out.dtype == TEXT
                     else out.to_numpy().take(codes), index=s.index)


def int_array(values) -> pd.arrays.IntegerArray:
    """Nullable integers from floats with NaN for missing (built directly: no per-value work)."""
    values = np.asarray(values, dtype=float)
    missing = np.isnan(values)
    return pd.arrays.IntegerArray(np.where(missing, 0, values).astype(np.int64), missing)


def lookup(key: pd.Series, mapping: dict) -> pd.Series:
    """mapping[value] for each value (None where absent), as one Arrow hash lookup."""
    keys = list(mapping)
    pos = pc.index_in(pyarrow.array(pd.Series(key, dtype=TEXT)),
                      value_set=pyarrow.array(keys, type=pyarrow.string()))
    pos = pc.fill_null(pos, len(keys)).to_numpy(zero_copy_only=False)
    values = np.array([*mapping.values(), None], dtype=object)
    return pd.Series(values[pos], index=key.index)


def _ascii_grid(s: pd.Series, width: int) -> np.ndarray:
    """Character codes of equal-width ASCII strings as an (n, width) array, without copying
    each string into Python."""
    arr = pyarrow.array(pd.Series(s, dtype=TEXT))
    if isinstance(arr, pyarrow.ChunkedArray):
        arr = arr.combine_chunks()
    kind = np.int64 if pyarrow.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=kind, count=len(arr) + 1, offset=arr.offset *
                            np.dtype(kind).itemsize)
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
    return data.reshape(-1, width)


def normalise_id(s: pd.Series) -> pd.Series:
    """Upper case with every space removed: the form identifiers are compared and hashed in."""
    return s.fillna("").astype(TEXT).str.strip().str.upper().str.replace(" ", "", regex=False)


def upn_check(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(UPN normalised, reason it is unusable or None). A blank UPN has no reason: it is absent.

    Check letter = sum(value(char i) * i, i = 2..13) mod 23 into ABCDEFGHJKLMNPQRTUVWXYZ, where
    a final letter (temporary UPN) is valued by its place in that alphabet.
    """
    norm = normalise_id(s)
    norm = norm.where(~norm.str.fullmatch(r"UN[1-7]"), "")  # UPNunknown codes: no UPN
    reason = pd.Series(None, index=norm.index, dtype=object)
    shaped = norm.str.fullmatch(r"[A-Z]\d{11}[0-9A-Z]").astype(bool)
    reason[norm.ne("").astype(bool) & ~shaped] = "UPN malformed"
    if shaped.any():
        codes = _ascii_grid(norm[shaped], 13)
        values = codes.astype(np.int64) - ord("0")
        letter_value = np.full(128, -1)
        for i, ch in enumerate(UPN_ALPHABET):
            letter_value[ord(ch)] = i
        last = codes[:, 12]
        values[:, 12] = np.where(last >= ord("A"), letter_value[last], values[:, 12])
        total = (values[:, 1:] * np.arange(2, 14)).sum(axis=1)
        expect = np.array([ord(ch) for ch in UPN_ALPHABET])[total % 23]
        bad = (expect != codes[:, 0]) | (values[:, 12] < 0)
        reason[shaped.to_numpy()] = np.where(bad, "UPN check letter fails", None)
    return norm, reason.where(reason.notna(), None)


def nhs_check(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(NHS number as 10 digits, reason it is unusable or None). Modulus 11 on digits 1-9."""
    norm = s.fillna("").astype(TEXT).str.replace(r"[\s\-]+", "", regex=True)
    reason = pd.Series(None, index=norm.index, dtype=object)
    shaped = norm.str.fullmatch(r"\d{10}").astype(bool)
    reason[norm.ne("").astype(bool) & ~shaped] = "NHS number malformed"
    if shaped.any():
        d = _ascii_grid(norm[shaped], 10).astype(np.int64) - ord("0")
        check_digit = 11 - (d[:, :9] * np.arange(10, 1, -1)).sum(axis=1) % 11
        check_digit = np.where(check_digit == 11, 0, check_digit)
        bad = (check_digit == 10) | (check_digit != d[:, 9])
        reason[shaped.to_numpy()] = np.where(bad, "NHS number fails modulus 11", None)
    return norm, reason.where(reason.notna(), None)


SEX_CODES = {"M": "M", "MALE": "M", "BOY": "M", "1": "M", "01": "M",
             "F": "F", "FEMALE": "F", "GIRL": "F", "2": "F", "02": "F",
             "U": "U", "UNKNOWN": "U", "NOTKNOWN": "U", "0": "U", "00": "U", "9": "U", "09": "U",
             "I": "U", "INDETERMINATE": "U", "X": "U"}


def sex_code(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """M/F/U from M/F/U, 1/2 (903, CIN GenderCurrent), words; unknown codes become U, flagged."""
    key = normalise_id(s)
    out = lookup(key, SEX_CODES)
    bad = out.isna() & key.ne("").astype(bool)
    return out.fillna("U"), bad


_TRUE = {"TRUE", "T", "1", "Y", "YES"}
_FALSE = {"FALSE", "F", "0", "N", "NO"}


def yes_no(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Nullable booleans from true/false, 1/0, Y/N, yes/no; anything else is null, flagged."""
    key = normalise_id(s)
    values = lookup(key, {**dict.fromkeys(_TRUE, 1.0), **dict.fromkeys(_FALSE, 0.0)})
    values = values.to_numpy(dtype=float, na_value=np.nan)
    missing = np.isnan(values)
    out = pd.Series(pd.arrays.BooleanArray(values == 1.0, missing), index=s.index)
    return out, pd.Series(missing, index=s.index) & key.ne("").astype(bool)


_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")


def postcode(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Postcodes as 'SO23 8UJ'; a malformed one becomes null, flagged."""
    key = normalise_id(s)
    ok = key.str.match(_POSTCODE.pattern).astype(bool)
    out = (key.str[:-3] + " " + key.str[-3:]).where(ok)
    return out, ~ok & key.ne("").astype(bool)


def whole_number(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Non-negative whole numbers (nullable); blank is null, anything else is bad."""
    arr = pyarrow.array(pd.Series(s, dtype=TEXT).fillna("").str.strip())
    digits = pc.and_(pc.fill_null(pc.utf8_is_digit(arr), False),  # false for blank
                     pc.less_equal(pc.utf8_length(arr), 15))
    num = pc.cast(pc.if_else(digits, arr, None), pyarrow.float64())
    out = pd.Series(int_array(num.to_numpy(zero_copy_only=False)), index=s.index)
    blank = pc.equal(arr, "").to_numpy(zero_copy_only=False)
    return out, pd.Series(~blank & out.isna().to_numpy(), index=s.index)


def among(values: pd.Series, pool) -> pd.Series:
    """values.isin(pool) for text, done in Arrow (pandas' isin on Arrow text is slow for a big
    pool). Null is never among."""
    arr = pyarrow.array(pd.Series(values, dtype=TEXT))
    pool = pyarrow.array(pd.Series(list(pool) if isinstance(pool, (set, frozenset)) else pool,
                                   dtype=TEXT))
    hit = pc.fill_null(pc.is_in(arr, value_set=pool), False)
    return pd.Series(hit.to_numpy(zero_copy_only=False), index=values.index)


def _as_text(s: pd.Series) -> pd.Series:
    """Keys as text, so ids read as text and row numbers compare alike."""
    return s if s.dtype == TEXT else s.astype(str).astype(TEXT)


def blank_to_na(s: pd.Series) -> pd.Series:
    """Text with blanks as nulls (so 'missing' means one thing in the canonical tables)."""
    s = s.astype(TEXT)
    return s.where(s.str.strip().ne(""))


class FileLog:
    """Everything that happened to the rows of one file (or one record type of an XML file)."""

    def __init__(self, source: str, file: str, frame: pd.DataFrame, path=None,
                 key: str | None = None):
        self.source, self.file, self.path, self.key = source, file, path, key
        self.read = len(frame)
        self.kept: int | None = None
        self.kept_keys = pd.Series(dtype=TEXT)  # the `key` column of the rows kept
        self.missing_columns: list[str] = []  # optional columns the file does not have
        self.completeness: dict[str, float] = {}  # identity field -> share of records with it
        self._quarantined: list[pd.DataFrame] = []
        self._flagged: list[pd.DataFrame] = []
        self._aside: list[pd.DataFrame] = []  # key value, reason: for the rows pointing at it

    def _rows(self, df: pd.DataFrame, mask: pd.Series, field: str, reason: str) -> pd.DataFrame:
        rows = df.loc[mask]
        value = rows[field].astype(object).astype(str) if field in rows else \
            pd.Series("", index=rows.index)
        return pd.DataFrame({
            "file": self.file, "row": rows["_row"].astype("int64").to_numpy(),
            "line": rows["_line"].to_numpy() if "_line" in rows else None,
            "field": field, "reason": reason, "value": value.to_numpy()})

    def quarantine(self, df: pd.DataFrame, mask, field: str, reason: str) -> pd.DataFrame:
        """Set the rows under `mask` aside with a reason; return the rest."""
        mask = pd.Series(mask, index=df.index).fillna(False).astype(bool)
        if not mask.any():
            return df
        self._quarantined.append(self._rows(df, mask, field, reason))
        if self.key:
            self._aside.append(pd.DataFrame({"key": _as_text(df.loc[mask, self.key]),
                                             "reason": f"{field}: {reason}"}))
        return df.loc[~mask].copy()

    def set_aside(self) -> dict[str, str]:
        """Why each key value not kept was set aside (its first reason)."""
        if not self._aside:
            return {}
        aside = pd.concat(self._aside).drop_duplicates("key")
        aside = aside[~among(aside["key"], self.kept_keys)]
        return dict(zip(aside["key"], aside["reason"]))

    def without_parent(self, df: pd.DataFrame, ids: pd.Series, kept, aside: dict[str, str],
                       field: str, parent: str, not_found: str) -> pd.DataFrame:
        """Set aside the rows whose `ids` are not among `kept`: "<parent> set aside (<why>)"
        where the parent row was read and set aside, else `not_found`."""
        ids = _as_text(ids)
        # a Series of text is used as it is: through numpy it would cost a Python string a row
        kept = kept if isinstance(kept, pd.Series) else pd.Series(np.asarray(kept))
        orphan = ~among(ids, _as_text(kept))
        why = lookup(ids.where(orphan), aside) if aside else \
            pd.Series(None, index=ids.index, dtype=object)
        for reason in sorted(why.dropna().unique()):
            df = self.quarantine(df, why.eq(reason), field, f"{parent} set aside ({reason})")
        return self.quarantine(df, orphan & why.isna(), field, not_found)

    def flag(self, df: pd.DataFrame, mask, field: str, reason: str) -> None:
        """Keep the rows under `mask` but record why a field of theirs was set to null."""
        mask = pd.Series(mask, index=df.index).fillna(False).astype(bool)
        if mask.any():
            self._flagged.append(self._rows(df, mask, field, reason))

    def duplicates(self, df: pd.DataFrame, keys: list[str], field: str) -> pd.DataFrame:
        """Quarantine second and later rows with the same key (the first one is kept)."""
        return self.quarantine(df, df.duplicated(keys, keep="first"), field, "duplicate")

    def missing(self, df: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
        """Quarantine rows where a key field is blank."""
        for f in fields:
            df = self.quarantine(df, df[f].fillna("").str.strip().eq(""), f,
                                 "missing key field")
        return df

    def dates(self, df: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
        """Parse date fields in place (as datetimes); a bad date is set to null and flagged with
        its reason (unparseable, out of range): a record is never lost for a date it can do
        without."""
        for f in fields:
            parsed, reason = parse_dates(df[f])
            for r in sorted(reason.dropna().unique()):
                self.flag(df, reason.eq(r), f, f"{r} (set to null)")
            df[f] = parsed.to_numpy()
        return df

    def key_dates(self, df: pd.DataFrame, fields: list[str]) -> pd.DataFrame:
        """Parse dates a row cannot be without (an event's start); a row whose date is bad is
        set aside with the reason."""
        for f in fields:
            parsed, reason = parse_dates(df[f])
            for r in sorted(reason.dropna().unique()):
                df = self.quarantine(df, reason.eq(r), f, r)
            df[f] = parsed[df.index].to_numpy()
        return df

    def note_identity(self, persons: pd.DataFrame, columns: list[str]) -> None:
        """Share of the kept records with each identity field (the report lists them)."""
        self.completeness = {c: float(persons[c].notna().mean()) if len(persons) else 0.0
                             for c in columns}

    @property
    def quarantined(self) -> pd.DataFrame:
        return issues_frame(self._quarantined)

    @property
    def flagged(self) -> pd.DataFrame:
        return issues_frame(self._flagged)

    def close(self, kept: pd.DataFrame) -> None:
        """Prove every row read was either kept or quarantined, exactly once."""
        q = self.quarantined
        rows = np.concatenate([kept["_row"].to_numpy(dtype="int64"), q["row"].to_numpy("int64")])
        counts = np.bincount(rows, minlength=self.read + 1) if len(rows) else np.zeros(1, int)
        if len(counts) != self.read + 1 or counts[0] or (counts[1:] != 1).any():
            raise ProjectError(
                f"row accounting failed: read {self.read}, kept {len(kept)}, quarantined "
                f"{len(q)} (a row was lost or counted twice; this is a bug)", path=self.path)
        self.kept = len(kept)
        if self.key:
            self.kept_keys = _as_text(kept[self.key])


def issues_frame(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Quarantined or flagged rows of several files as one frame (file, row, line, field,
    reason, value)."""
    cols = ["file", "row", "line", "field", "reason", "value"]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "row" else object) for c in cols})
    return pd.concat(frames, ignore_index=True)[cols]
