"""The explore tool: a site's published tables as one self-contained page, like the table tool
of Explore Education Statistics (choose a measure, a breakdown and a period).

It reads only the disclosure-controlled CSVs a run published (``<out_dir>/tables/``), so a
suppressed cell stays its EES symbol. The page embeds its data as JSON and its own small
script and style, with nothing loaded from elsewhere, so it works opened from a shared drive.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd

from .disclosure import SYMBOLS
from .params import SiteParams
from .publish import data_notice

PAGE = "explore.html"
WHOLE_WINDOW = "Whole study window"


@dataclass(frozen=True)
class DataSet:
    """How one published table is explored: which columns are figures, which give the rows.

    measure: a column naming what is counted (referrals, contacts, ...), one measure each.
    rows: the column whose values are the table's rows; within `breakdown` (a column such as
        subgroup) when the rows are levels of several breakdowns.
    period: the column whose values are the periods; None when the table has one.
    intervals: {figure: (lower, upper)} for figures published with a 95% confidence interval.
    crosstab: the published table is wide (rows x periods with totals), as crosstabs are.
    """

    table: str
    title: str
    figures: dict[str, str]
    rows: str
    rows_label: str = ""
    measure: str | None = None
    breakdown: str | None = None
    period: str | None = None
    crosstab: bool = False
    intervals: dict[str, tuple[str, str]] = field(default_factory=dict)


RATE = {"rate_per_10k": "rate per 10,000 child-years", "events": "number"}
CI = {"rate_per_10k": ("ci_lower", "ci_upper")}
DATA_SETS = [
    DataSet("referrals_cohort", "Children in the transition cohort",
            {"children": "children", "person_years": "child-years in Years 5 to 8"},
            rows="level", breakdown="subgroup"),
    DataSet("referrals_rates_by_subgroup", "Rates by group of children", RATE, rows="level",
            measure="measure", breakdown="subgroup", intervals=CI),
    DataSet("referrals_rates_by_ncy", "Rates by school year", RATE, rows="ncy",
            rows_label="School year", measure="measure", intervals=CI),
    DataSet("referrals_source_mix", "Who referred",
            {"referrals": "referrals", "pct": "share of referrals (%)"}, rows="source_group",
            rows_label="Referral source", period="period"),
    DataSet("referrals_routes", "What happened after referral", {"referrals": "referrals"},
            rows="route", rows_label="Route after referral", period="period", crosstab=True),
    DataSet("referrals_re_referrals", "Re-referrals within 12 months",
            {"re_referrals": "re-referrals", "pct": "share of referrals re-referred (%)"},
            rows="measure", rows_label="Measure", period="period",
            intervals={"pct": ("ci_lower", "ci_upper")}),
]
# The field's words for the codes in the published tables' breakdown columns.
LABELS = {"All": "All children", "sex": "Sex", "F": "Girls", "M": "Boys",
          "fsm": "Free school meals", "sen_provision": "Special educational needs",
          "ethnicity_group": "Ethnic group", "district": "District"}


def _label(value: str) -> str:
    return LABELS.get(value, value)


def _shown(value: str) -> str:
    """A published cell as a reader sees it: symbols as they are, numbers with separators."""
    if value in SYMBOLS or value == "":
        return value
    try:
        number = float(value)
    except ValueError:
        return value
    places = len(value.split(".")[1]) if "." in value and "e" not in value.lower() else 0
    return f"{number:,.{places}f}"


def _read(folder: Path, ds: DataSet) -> pd.DataFrame:
    table = pd.read_csv(folder / f"{ds.table}.csv", dtype=str, keep_default_na=False)
    if ds.crosstab:
        table = table[table[ds.rows] != "Total"].melt(id_vars=ds.rows, var_name=ds.period,
                                                      value_name=next(iter(ds.figures)))
    return table


def _interval(lower: str, upper: str) -> str:
    """An interval as a reader sees it; a suppressed bound hides the whole interval."""
    for bound in (lower, upper):
        if bound in SYMBOLS:
            return bound
    return f"{_shown(lower)} to {_shown(upper)}"


def _grid(rows: pd.DataFrame, ds: DataSet, figure: str, periods: list[str]) -> dict:
    """One breakdown of one measure: its row labels, and per period a column of cells (and of
    intervals, where the figure has them). A row missing from a period is shown as x."""
    names = list(dict.fromkeys(rows[ds.rows]))
    cells, intervals = [], []
    bounds = ds.intervals.get(figure)
    for period in periods:
        part = rows if ds.period is None else rows[rows[ds.period] == period]
        by_row = part.set_index(ds.rows)
        cells.append([_shown(by_row[figure].get(name, "x")) for name in names])
        if bounds:
            intervals.append([_interval(by_row[bounds[0]].get(name, "x"),
                                        by_row[bounds[1]].get(name, "x")) for name in names])
    label = ds.rows_label
    if ds.breakdown:
        label = _label(rows[ds.breakdown].iloc[0])
    if ds.rows == "ncy":
        names = [f"Year {n}" for n in names]
    return {"label": label, "rows": [_label(n) for n in names], "cells": cells,
            "intervals": intervals}


def measures(folder: Path) -> tuple[list[dict], list[str]]:
    """Every measure of the published tables in `folder`, and the data sets whose table is not
    there (named on the page, so a reader knows what this run left out)."""
    out, missing = [], []
    for ds in DATA_SETS:
        if not (folder / f"{ds.table}.csv").is_file():
            missing.append(ds.title)
            continue
        table = _read(folder, ds)
        periods = list(dict.fromkeys(table[ds.period])) if ds.period else [WHOLE_WINDOW]
        kinds = list(dict.fromkeys(table[ds.measure])) if ds.measure else [None]
        for kind in kinds:
            of_kind = table if kind is None else table[table[ds.measure] == kind]
            for figure, figure_label in ds.figures.items():
                groups = ([g for _, g in of_kind.groupby(ds.breakdown, sort=False)]
                          if ds.breakdown else [of_kind])
                label = figure_label if kind is None else f"{kind}: {figure_label}"
                out.append({"group": ds.title, "label": label[0].upper() + label[1:],
                            "table": f"tables/{ds.table}.csv", "periods": periods,
                            "breakdowns": [_grid(g, ds, figure, periods) for g in groups]})
    return out, missing


def _notice_html(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html.escape(text))


def render(params: SiteParams, folder: Path, data_dir: Path) -> str:
    """The page for one site's published tables (folder: the site's tables/ folder)."""
    found, missing = measures(folder)
    data = json.dumps(found, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    symbols = "\n".join(f"<dt>{html.escape(s)}</dt><dd>{html.escape(m)}</dd>"
                        for s, m in SYMBOLS.items())
    missing_note = (f"<p>Not in this run (the notebook that publishes it did not run): "
                    f"{html.escape(', '.join(missing))}.</p>" if missing else "")
    page = resources.files(__package__).joinpath("explore_template.html").read_text("utf-8")
    for key, value in {"SITE": html.escape(params.display_name),
                       "NOTICE": _notice_html(data_notice(params, data_dir)),
                       "MISSING": missing_note, "SYMBOLS": symbols, "DATA": data}.items():
        page = page.replace(f"@@{key}@@", value)
    return page


def write_page(params: SiteParams, out_dir: Path, data_dir: Path) -> Path:
    """Write the site's explore page next to its reports (``<out_dir>/explore.html``)."""
    path = Path(out_dir) / PAGE
    path.write_text(render(params, Path(out_dir) / "tables", data_dir), encoding="utf-8",
                    newline="\n")
    return path
