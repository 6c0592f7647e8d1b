"""Dates as whole days since 1970-01-01 (int64 arrays), as the generator works in them.

Working in integer days keeps every step vectorised; dates become text only when a file is
written. Term dates and census days are the package's (``school_calendar``)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from ..school_calendar import EPOCH
from ..vocabulary import ACADEMIC_YEAR_FIRST_MONTH

YEAR = 365.25


def day(y: int, m: int, d: int) -> int:
    return (dt.date(y, m, d) - EPOCH).days


def to_date(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype="int64").astype("datetime64[D]")


def years_of(days: np.ndarray) -> np.ndarray:
    return to_date(days).astype("datetime64[Y]").astype(int) + 1970


def months_of(days: np.ndarray) -> np.ndarray:
    return to_date(days).astype("datetime64[M]").astype(int) % 12 + 1


def academic_year_of(days: np.ndarray) -> np.ndarray:
    """Calendar year in which the academic year holding each date starts (Sept-Aug)."""
    return years_of(days) - (months_of(days) < ACADEMIC_YEAR_FIRST_MONTH)


def add_years(days: np.ndarray, n: int) -> np.ndarray:
    """Same day and month n years later (29 Feb becomes 1 Mar)."""
    d = to_date(days)
    month = d.astype("datetime64[M]")
    offset = d - month.astype("datetime64[D]")
    return ((month + 12 * n).astype("datetime64[D]") + offset).astype("int64")
