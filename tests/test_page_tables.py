"""Tables for readers: labels, headers in words, number formats, symbols kept, CSV link; and
the Markdown is a pipe table that a Markdown parser nobody here wrote (mistune, nbconvert's)
reads as one table with numbers right-aligned."""

import re

import mistune
import pandas as pd
import pytest

from hampshire_research.page_tables import header, p_value, page_table, reader_frame


def _html(md) -> str:
    return mistune.create_markdown(plugins=["table"])(md.data)


def test_headers_are_words():
    assert header("rate_per_10k") == "Rate per 10,000"
    assert header("sen_provision") == "SEN provision"
    assert header("pct_linked_to_another_source") == "% linked to another source"
    assert header("North Yorkshire") == "North Yorkshire"  # a site's name stays as it is
    assert header("children") == "Children"


@pytest.mark.parametrize("p, shown", [(1.39e-01, "0.14"), (0.0004, "<0.001"), (0.0042, "0.004"),
                                      (0.05, "0.05"), (1.0, "1.00")])
def test_p_values(p, shown):
    assert p_value(p) == shown


def test_numbers_are_formatted_and_symbols_kept():
    df = pd.DataFrame({"ncy": [5, 6, 7], "events": [1234, "c", 56],
                       "person_years": [10234.567, 9876.5, 10001.2],
                       "rate_per_10k": [12.3456, "c", 55.91], "ci_lower": [10.1, "c", 50.0],
                       "p_value": [1.39e-01, 2e-5, "x"], "academic_year": [2021, 2022, 2023]})
    frame, numeric = reader_frame(df)
    assert frame["events"].tolist() == ["1,234", "c", "56"]
    assert frame["person_years"].tolist() == ["10,235", "9,876", "10,001"]
    assert frame["rate_per_10k"].tolist() == ["12.3", "c", "55.9"]
    assert frame["ci_lower"].tolist() == ["10.1", "c", "50.0"]  # its estimate's decimals
    assert frame["p_value"].tolist() == ["0.14", "<0.001", "x"]
    assert frame["academic_year"].tolist() == ["2021", "2022", "2023"]  # no "2,021"
    assert frame["ncy"].tolist() == ["5", "6", "7"]
    assert all(numeric)


def test_a_suppressed_cell_in_a_column_of_text_keeps_its_symbol():
    # the cross-site page shows "1.23 (0.64 to 2.34)" beside a suppressed site's "c" or "u"
    frame, numeric = reader_frame(pd.DataFrame({"shown": ["1.23 (0.64 to 2.34)", "c", "u"],
                                                "level": ["sen_support", "c", "x"]}))
    assert frame["shown"].tolist() == ["1.23 (0.64 to 2.34)", "c", "u"]
    assert frame["level"].tolist() == ["SEN support", "c", "x"] and numeric == [False, False]


def test_numbers_read_back_as_text_are_formatted_too():
    df = pd.DataFrame({"measure": ["a", "b"], "count": ["7017", "c"], "pct": ["63.8", "1.25"]})
    frame, numeric = reader_frame(df)
    assert frame["count"].tolist() == ["7,017", "c"] and numeric == [False, True, True]


def test_codes_become_labels_and_age_bands_keep_their_order():
    df = pd.DataFrame({"measure": ["voice seen"] * 4 + ["voice heard"] * 2,
                       "age_band": ["10-15", "1-4", "5-9", "0", "5-9", "1-4"],
                       "stage": ["cp_plan", "s47", "referral", "cla_episode", "cin_plan", "x"],
                       "n": [1, 2, 3, 4, 5, 6]})
    frame, _ = reader_frame(df)
    assert frame["age_band"].tolist() == ["0", "1-4", "5-9", "10-15", "1-4", "5-9"]
    assert frame["measure"].tolist() == ["voice seen"] * 4 + ["voice heard"] * 2
    assert frame["stage"].tolist()[:4] == ["Looked after", "S47 enquiry", "Referral", "CP plan"]
    frame, _ = reader_frame(pd.DataFrame({"source": ["csc", "2A"], "source_code": ["5D", "2A"]}))
    assert frame["source"].tolist() == ["Social care (CSC)", "2A"]
    assert frame["source_code"].tolist() == ["LA services: early help", "Schools"]
    frame, _ = reader_frame(pd.DataFrame({"id": ["W.CYP"]}), labels={"id": {"W.CYP": "Child"}})
    assert frame["id"].tolist() == ["Child"]
    frame, _ = reader_frame(pd.DataFrame({"subgroup": ["sen_provision", "fsm", "All"],
                                          "field": ["pers_upn", "UPN", "dob"]}))
    assert frame["subgroup"].tolist() == ["SEN provision", "FSM", "All"]
    assert frame["field"].tolist() == ["pers_upn", "UPN", "dob"]  # a raw file's own names


def test_hashes_and_package_names_are_shown_as_they_are():
    md = page_table(pd.DataFrame({"package": ["numpy"], "params_hash": ["ee9811e1d53a7de8"],
                                  "status": ["ok"]})).data
    assert "| numpy | ee9811e1d53a7de8 | Ok |" in md  # an ordinary code is still worded


def test_row_numbers_left_by_filtering_are_not_a_column():
    df = pd.DataFrame({"route": ["Total", "CIN plan", "CP plan"], "referrals": [30, 20, 10]})
    md = page_table(df[df.route != "Total"]).data
    assert md.splitlines()[0] == "| Route | Referrals |"
    assert "| CIN plan | 20 |" in md and "Index" not in md


def test_a_pipe_table_a_markdown_parser_reads_with_numbers_right_aligned():
    df = pd.DataFrame({"source_group": ["Police", "Schools|other"], "referrals": [1500, "c"],
                       "pct": [60.0, "c"]}).set_index("source_group")
    md = page_table(df, "referrals_source_mix")
    html = _html(md)
    assert html.count("<table>") == 1 and '<th style="text-align:left">Source group</th>' in html
    assert re.search(r'<th style="text-align:right">Referrals</th>', html)
    assert '<td style="text-align:right">1,500</td>' in html
    assert '<td style="text-align:left">Schools|other</td>' in html  # a pipe in a cell stays in its cell
    assert html.count("<tr>") == 3  # header and two rows: the index became a column
    assert '<a href="tables/referrals_source_mix.csv">referrals_source_mix.csv</a>' in html
    assert "<script" not in html and "<style" not in html


def test_wide_tables_are_split_with_their_labels_repeated():
    df = pd.DataFrame({"measure": ["a", "b"], **{f"year_{i}": [i, i + 1] for i in range(10)}})
    html = _html(page_table(df, max_columns=5))
    assert html.count("<table>") == 3 and html.count(">Measure</th>") == 3
    assert html.count("<th ") == 3 + 10  # each part: Measure and at most four years


def test_a_link_to_another_page_folder_is_kept():
    md = page_table(pd.DataFrame({"a": [1]}), ["../hampshire/tables/x.csv", "y"]).data
    assert "[x.csv](../hampshire/tables/x.csv), [y.csv](tables/y.csv)" in md
