"""Writing files the same way every time: fixed row order, "\\n" line ends, no timestamps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .calendar import to_date

MISSING_AFTER = np.iinfo(np.int64).max // 8


def iso(days: np.ndarray, upto: int | None = None) -> np.ndarray:
    """ISO dates; empty where the day is absent (BIG) or after `upto` (not yet happened)."""
    return _format(days, upto, dayfirst=False)


def dmy(days: np.ndarray, upto: int | None = None) -> np.ndarray:
    """dd/mm/YYYY dates (school census, early help, SSDA903)."""
    return _format(days, upto, dayfirst=True)


def _format(days, upto, dayfirst: bool) -> np.ndarray:
    days = np.asarray(days, dtype=np.int64)
    bad = days >= MISSING_AFTER
    if upto is not None:
        bad |= days > upto
    # few distinct days: format each day of the range once, then look up
    good = np.where(bad, 0, days)
    if good.size == 0:
        return np.empty(0, dtype=object)
    lo = int(good[~bad].min()) if (~bad).any() else 0
    hi = int(good[~bad].max()) if (~bad).any() else 0
    text = to_date(np.arange(lo, hi + 1)).astype(str)
    if dayfirst:
        text = np.array([f"{x[8:10]}/{x[5:7]}/{x[:4]}" for x in text])
    out = text.astype(object)[np.clip(good - lo, 0, hi - lo)]
    out[bad] = ""
    return out


def _int_text(v: np.ndarray) -> np.ndarray:
    """Integers as text, through a lookup table when their range is small."""
    if v.size and v.dtype.kind in "iu":
        lo, hi = int(v.min()), int(v.max())
        if hi - lo < 2_000_000:
            return np.arange(lo, hi + 1).astype(str).astype(object)[v - lo]
    return v.astype("U").astype(object)


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    """Plain CSV. Fields with no comma, quote or line break are joined directly (fast for the
    school census); otherwise pandas quotes as needed. Same bytes either way. The joined body
    shows whether any field had one: it then holds more commas or line breaks than the
    separators, or a quote."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = [v if v.dtype == object else _int_text(v) for v in (df[c].to_numpy() for c in df.columns)]
    try:
        body = "\n".join(map(",".join, zip(*cols)))
    except TypeError:  # a field that is not text
        body = None
    plain = (body is not None and not any(ch in name for name in df.columns for ch in ',"')
             and body.count(",") == len(df) * (len(cols) - 1)
             and body.count("\n") == max(len(df) - 1, 0) and '"' not in body and "\r" not in body)
    if not plain:
        df.to_csv(path, index=False, lineterminator="\n")
        return path
    path.write_text(",".join(df.columns) + "\n" + body + ("\n" if len(df) else ""), encoding="utf-8")
    return path
