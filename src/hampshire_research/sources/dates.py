"""The one date parser every reader uses: dates as councils' systems write them.

Each distinct value is matched against a few shapes (a time and a time zone are dropped
first), its day, month and year are taken out as numbers and the date is built from them, so a
column of 700,000 rows costs a parse of its few thousand distinct values. Numbers are UK
order: `10/06/2022` is 10 June, except with a 12-hour clock: `10/06/2022 12:00:00 AM` is the
US form that SQL Server, Excel and .NET write under en-US settings (`M/d/yyyy h:mm:ss tt`; the
UK form has a 24-hour clock), so it is 6 October, unless its first number cannot be a month.
A two-digit year follows the POSIX `%y` rule that C, Python
and pandas use: 00-68 are 2000-2068, 69-99 are 1969-1999. A date is one of:

- a date: the value
- blank (empty, spaces, `NULL`): missing, no reason
- "unparseable date": not a date in any shape below, or no such day (30/02/2022)
- "date out of range": a date whose year is before 1900 or after 2100 (`1066-04-13`)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

UNPARSEABLE = "unparseable date"
OUT_OF_RANGE = "date out of range"
FIRST_YEAR, LAST_YEAR = 1900, 2100

_MONTHS = {m: i for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"], 1)}
_MONTHS |= {name: _MONTHS[name[:3]] for name in (
    "JANUARY", "FEBRUARY", "MARCH", "APRIL", "JUNE", "JULY", "AUGUST", "SEPT", "SEPTEMBER",
    "OCTOBER", "NOVEMBER", "DECEMBER")}
# a time of day (10:15, 00:00:00.000, 12:00:00 AM) and a time zone (Z, +01:00): dropped
_TIME = (r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?: ?[AP]M)?(?:Z|[+-]\d{2}:?\d{2})?"
         r"|(?<=^\d{4}-\d{2}-\d{2})(?:Z|[+-]\d{2}:\d{2}))$")  # xs:date may carry a zone
# (shape, order of its parts): d = day, m = month number, b = month name, y = year
_SHAPES = [
    (r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", "ymd"),           # 2022-10-06, 2022/10/06
    (r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4}|\d{2})", "dmy"),     # 06/10/2022, 6.10.22
    (r"^(\d{1,2})[- /]?([A-Z]{3,9})[- /,]*(\d{4}|\d{2})", "dby"),  # 06-Oct-2022, 6 Oct 22
    (r"^(\d{4})[- /]([A-Z]{3,9})[- /](\d{1,2})", "ybd"),         # 2022-Oct-06
]


def parse_dates(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """(dates as datetime64[ns], reason per value: None, UNPARSEABLE or OUT_OF_RANGE)."""
    codes, uniques = pd.factorize(s.fillna(""))
    dates, reasons = _parse_distinct(pd.Series(uniques, dtype=object))
    return (pd.Series(dates.to_numpy()[codes], index=s.index, dtype="datetime64[ns]"),
            pd.Series(reasons.to_numpy()[codes], index=s.index, dtype=object))


def _parse_distinct(u: pd.Series) -> tuple[pd.Series, pd.Series]:
    text = u.str.strip().str.upper()
    blank = text.eq("") | text.eq("NULL")
    core = text.str.replace(_TIME, "", regex=True)
    us_clock = text.str.contains(r"^\d{1,2}/\d{1,2}/\d{2,4} \d{1,2}:\d{2}(?::\d{2})? ?[AP]M$")
    day = pd.Series(np.nan, index=u.index)
    month, year = day.copy(), day.copy()
    for pattern, order in _SHAPES:
        parts = core.str.extract(pattern + "$")
        hit = parts[0].notna() & day.isna()
        if not hit.any():
            continue
        for i, part in enumerate(order):
            col = parts.loc[hit, i]
            if part == "b":
                month[hit] = col.map(_MONTHS)
                continue
            values = pd.to_numeric(col)
            if part == "y":
                short = col.str.len() == 2
                values = values.where(~short, values + np.where(values <= 68, 2000, 1900))
            {"d": day, "m": month, "y": year}[part][hit] = values
    swap = us_clock & day.le(12)
    day[swap], month[swap] = month[swap], day[swap]
    shaped = day.notna() & month.notna() & year.notna()
    in_range = shaped & year.between(FIRST_YEAR, LAST_YEAR)
    dates = pd.Series(pd.NaT, index=u.index, dtype="datetime64[ns]")
    if in_range.any():
        dates[in_range] = pd.to_datetime(pd.DataFrame(
            {"year": year[in_range], "month": month[in_range], "day": day[in_range]}),
            errors="coerce")
    reasons = np.full(len(u), None, dtype=object)
    reasons[(~blank & dates.isna()).to_numpy()] = UNPARSEABLE
    reasons[(~blank & shaped & ~in_range & month.between(1, 12) & day.between(1, 31)
             ).to_numpy()] = OUT_OF_RANGE
    return dates, pd.Series(reasons, index=u.index)
