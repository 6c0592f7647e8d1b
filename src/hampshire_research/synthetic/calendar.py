"""Dates as whole days since 1970-01-01 (int64 arrays), the school year and its holidays.

Working in integer days keeps every step vectorised; dates become text only when a file is
written."""

from __future__ import annotations

import datetime as dt

import numpy as np

EPOCH = dt.date(1970, 1, 1)
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
    return years_of(days) - (months_of(days) < 9)


def add_years(days: np.ndarray, n: int) -> np.ndarray:
    """Same day and month n years later (29 Feb becomes 1 Mar)."""
    d = to_date(days)
    month = d.astype("datetime64[M]")
    offset = d - month.astype("datetime64[D]")
    return ((month + 12 * n).astype("datetime64[D]") + offset).astype("int64")


def nth_weekday(y: int, m: int, weekday: int, n: int) -> int:
    """The n-th given weekday (Mon=0) of a month: census days are Thursdays."""
    first = dt.date(y, m, 1)
    shift = (weekday - first.weekday()) % 7
    return (first + dt.timedelta(days=shift + 7 * (n - 1)) - EPOCH).days


def census_day(ay: int, term: str) -> int:
    """School census day: autumn 1st Thursday in October, spring 3rd Thursday in January,
    summer 3rd Thursday in May."""
    if term == "autumn":
        return nth_weekday(ay, 10, 3, 1)
    if term == "spring":
        return nth_weekday(ay + 1, 1, 3, 3)
    return nth_weekday(ay + 1, 5, 3, 3)


TERMS = ("autumn", "spring", "summer")


def term_bounds(ay: int) -> list[tuple[str, int, int]]:
    """Term start and end days of an academic year (a typical English county calendar)."""
    return [
        ("autumn", day(ay, 9, 4), day(ay, 12, 20)),
        ("spring", day(ay + 1, 1, 5), day(ay + 1, 3, 31)),
        ("summer", day(ay + 1, 4, 17), day(ay + 1, 7, 22)),
    ]


def school_day_mask(start: int, end: int, weekends: bool = False) -> np.ndarray:
    """True for each day in [start, end] in term time, not a half-term week (and not a weekend
    unless `weekends`). Holidays are where school referrals fall (school_holiday_rr)."""
    days = np.arange(start, end + 1)
    mask = np.zeros(days.size, dtype=bool)
    for ay in range(int(academic_year_of(np.array([start]))[0]) - 1,
                    int(academic_year_of(np.array([end]))[0]) + 1):
        for _, a, b in term_bounds(ay):
            mask |= (days >= a) & (days <= b)
        for hm in (day(ay, 10, 23), day(ay + 1, 2, 12), day(ay + 1, 5, 27)):  # half terms
            mask &= ~((days >= hm) & (days < hm + 7))
    if not weekends:
        mask &= (days + 3) % 7 < 5  # 1970-01-01 was a Thursday
    return mask
