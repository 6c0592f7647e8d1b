"""The one date parser: the forms councils' systems write, blanks, and two reasons for a bad
date (unparseable, out of range)."""

from __future__ import annotations

import pandas as pd

from hampshire_research.sources.dates import OUT_OF_RANGE, UNPARSEABLE, parse_dates
from hampshire_research.sources.tabular import TEXT

OCT6 = pd.Timestamp("2022-10-06")


def test_the_forms_systems_write():
    # ISO, SSMS/Excel text, the relational school-census export, the en-US date-time (month
    # first with a 12-hour clock), ISO date-times with a zone, an xs:date with an offset
    # (XML Schema part 2, 3.2.9)
    forms = ["2022-10-06", "06-Oct-2022", "2022-Oct-06 00:00:00", "10/06/2022 12:00:00 AM",
             "2022-10-06T00:00:00Z", "2022-10-06+01:00", "2022-10-06-05:00", "06/10/2022",
             "6/10/2022", "06-10-2022", "06.10.2022", "2022/10/06", "6 October 2022",
             "2022-10-06T10:15:30.123+01:00", "06OCT2022"]
    dates, reasons = parse_dates(pd.Series(forms, dtype=TEXT))
    assert dates.tolist() == [OCT6] * len(forms)
    assert reasons.isna().all()
    assert parse_dates(pd.Series(["2020-Apr-25 00:00:00"]))[0].iat[0] == pd.Timestamp("2020-04-25")


def test_numbers_are_day_first_and_two_digit_years_follow_posix():
    dates, _ = parse_dates(pd.Series(["10/06/2022", "10/06/2022 00:00:00", "06/10/22",
                                      "06-Oct-68", "06/10/69", "01/01/00"]))
    june10 = pd.Timestamp("2022-06-10")
    assert dates.tolist() == [june10, june10, OCT6, pd.Timestamp("2068-10-06"),
                              pd.Timestamp("1969-10-06"), pd.Timestamp("2000-01-01")]


def test_a_twelve_hour_clock_means_the_us_order_unless_it_cannot_be():
    dates, _ = parse_dates(pd.Series(["10/06/2022 12:00:00 AM", "6/10/2022 1:05 PM",
                                      "25/06/2022 12:00:00 AM"]))
    assert dates.tolist() == [OCT6, pd.Timestamp("2022-06-10"), pd.Timestamp("2022-06-25")]


def test_blanks_are_missing_not_bad():
    dates, reasons = parse_dates(pd.Series(["", "  ", "NULL", "null", None], dtype=TEXT))
    assert dates.isna().all() and reasons.isna().all()


def test_bad_dates_say_why():
    values = ["1066-04-13", "2222-01-01", "31/02/2011", "05/13/2022", "soon", "2022-13-45",
              "N/A", "12:00:00"]
    dates, reasons = parse_dates(pd.Series(values))
    assert dates.isna().all()
    assert reasons.tolist() == [OUT_OF_RANGE, OUT_OF_RANGE] + [UNPARSEABLE] * 6


def test_a_column_is_parsed_by_its_distinct_values_in_order():
    s = pd.Series(["06/10/2022", "bad", "06/10/2022", "", "1066-04-13"] * 1000, dtype=TEXT)
    dates, reasons = parse_dates(s)
    assert (dates.iloc[::5] == OCT6).all() and dates.iloc[3::5].isna().all()
    assert reasons.value_counts().to_dict() == {UNPARSEABLE: 1000, OUT_OF_RANGE: 1000}
