"""Writing files the same way every time: fixed row order, "\\n" line ends, no timestamps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .calendar import to_date

MISSING_AFTER = np.iinfo(np.int64).max // 8


def iso(days: np.ndarray, upto: int | None = None) -> np.ndarray:
    """ISO dates; empty where the day is absent (BIG) or after `upto` (not yet happened)."""
    days = np.asarray(days, dtype=np.int64)
    bad = days >= MISSING_AFTER
    if upto is not None:
        bad |= days > upto
    s = to_date(np.where(bad, 0, days)).astype(str).astype(object)
    s[bad] = ""
    return s


def dmy(days: np.ndarray, upto: int | None = None) -> np.ndarray:
    """dd/mm/YYYY dates (school census, early help, SSDA903)."""
    s = iso(days, upto)
    out = np.array([f"{x[8:10]}/{x[5:7]}/{x[:4]}" if x else "" for x in s], dtype=object)
    return out


def write_csv(df: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False, lineterminator="\n")
    return path
