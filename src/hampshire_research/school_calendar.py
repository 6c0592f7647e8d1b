"""The school year: census days, term dates and half terms, and the share of each month that
is holiday.

Census days are the DfE's. Term dates differ by LA: the default is a typical English county
calendar, and a site sets its own under ``school_calendar`` in params/<site>.yaml. The
generator draws term-time events from the same calendar the analyses use as a covariate.

Days are whole days since 1970-01-01 (numpy's datetime64[D] as integers), so masks over
long spans stay vectorised.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import numpy as np
from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator

from .vocabulary import ACADEMIC_YEAR_FIRST_MONTH, TERMS

EPOCH = dt.date(1970, 1, 1)
MonthDay = Annotated[str, StringConstraints(pattern=r"^\d\d-\d\d$")]  # "MM-DD"


class SchoolCalendar(BaseModel):
    """Term dates ("MM-DD"; September to December fall in the academic year's first calendar
    year, January to August in its second) and the first day of each week-long half term.

    Default: terms 4 Sep-20 Dec, 5 Jan-31 Mar, 17 Apr-22 Jul; half terms from 23 Oct,
    12 Feb and 27 May."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    autumn: tuple[MonthDay, MonthDay] = ("09-04", "12-20")
    spring: tuple[MonthDay, MonthDay] = ("01-05", "03-31")
    summer: tuple[MonthDay, MonthDay] = ("04-17", "07-22")
    half_terms: list[MonthDay] = ["10-23", "02-12", "05-27"]

    @field_validator(*TERMS, "half_terms")
    @classmethod
    def _dates(cls, v):
        for md in v:
            _day_in(2001, md)
        return v


def _day_in(academic_year: int, month_day: MonthDay) -> int:
    """A "MM-DD" of an academic year (starting in academic_year) as a day number."""
    m, d = (int(x) for x in month_day.split("-"))
    try:
        date = dt.date(academic_year + (m < ACADEMIC_YEAR_FIRST_MONTH), m, d)
    except ValueError:
        raise ValueError(f"{month_day!r} is not a date every year has") from None
    return (date - EPOCH).days


def term_bounds(academic_year: int, calendar: SchoolCalendar) -> list[tuple[str, int, int]]:
    """(term, first day, last day) of each term of the academic year starting in that year."""
    return [(t, *(_day_in(academic_year, md) for md in getattr(calendar, t))) for t in TERMS]


def in_term(days: np.ndarray, calendar: SchoolCalendar) -> np.ndarray:
    """True for each day in term time and not in a half-term week (weekends included)."""
    days = np.asarray(days, dtype=np.int64)
    mask = np.zeros(days.size, dtype=bool)
    if days.size == 0:
        return mask
    years = days.astype("datetime64[D]").astype("datetime64[Y]").astype(int) + 1970
    for ay in range(int(years.min()) - 1, int(years.max()) + 1):
        for _, a, b in term_bounds(ay, calendar):
            mask |= (days >= a) & (days <= b)
        for md in calendar.half_terms:
            first = _day_in(ay, md)
            mask &= ~((days >= first) & (days < first + 7))
    return mask


def is_weekday(days: np.ndarray) -> np.ndarray:
    return (np.asarray(days) + 3) % 7 < 5  # 1970-01-01 was a Thursday


def holiday_share(calendar: SchoolCalendar) -> dict[int, float]:
    """Share of each calendar month's weekdays that are school holiday in a typical year: the
    mean over the 28 years (2001-2028) in which weekdays and leap years go through every
    combination, to 2 decimal places."""
    days = np.arange(_day_in(2000, "01-01"), _day_in(2028, "01-01"))  # 1 Jan 2001 - 31 Dec 2028
    weekday = is_weekday(days)
    holiday = weekday & ~in_term(days, calendar)
    month = days.astype("datetime64[D]").astype("datetime64[M]").astype(int)
    per_month = np.bincount(month - month[0], holiday) / np.bincount(month - month[0], weekday)
    shares = per_month.reshape(28, 12).mean(axis=0)
    return {m: round(float(s), 2) for m, s in enumerate(shares, start=1)}


def census_day(academic_year: int, term: str) -> dt.date:
    """School census day (DfE): autumn the 1st Thursday of October, spring the 3rd Thursday
    of January, summer the 3rd Thursday of May."""
    year, month, nth = {"autumn": (academic_year, 10, 1), "spring": (academic_year + 1, 1, 3),
                        "summer": (academic_year + 1, 5, 3)}[term]
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(3 - first.weekday()) % 7, weeks=nth - 1)
