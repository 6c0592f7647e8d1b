"""Tables as a council reader sees them on the site: labels instead of codes, headers in
words, numbers right-aligned with thousands separators and sensible decimals, p-values as
0.14 or <0.001, disclosure symbols kept, no index, and a link to the tidy CSV behind them.

A table is emitted as a Markdown pipe table: for an HTML table output of a notebook Quarto
injects require.js and jQuery from a CDN, which breaks the site offline.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import pandas as pd
from IPython.display import Markdown

from .disclosure import SYMBOLS
from .vocabulary import AGE_BAND_NAMES, REFERRAL_SOURCES, SOURCE_NAMES, STAGES

MAX_COLUMNS = 7  # wider tables are split, the label columns repeated in each part

# Words for the parts of the published tables' column names (snake_case), in the field's terms.
WORDS = {
    "pct": "%", "percent": "%", "ci": "95% CI", "10k": "10,000", "n": "number", "ncy": "school year",
    "fsm": "FSM", "sen": "SEN", "cyp": "child", "la": "LA", "s47": "S47", "cin": "CIN", "cp": "CP",
    "id": "code", "ons": "ONS", "upn": "UPN", "nhs": "NHS", "f1": "F1", "cum": "cumulative",
    "a": "A", "b": "B", "bcubed": "B-cubed", "cohen": "Cohen's", "fleiss": "Fleiss'",
    "lo": "95% CI from", "low": "95% CI from", "lower": "95% CI from",
    "hi": "95% CI to", "high": "95% CI to", "upper": "95% CI to",
}
# Whole column names whose words need more than a word-by-word reading.
HEADERS = {
    "rate_per_10k": "Rate per 10,000", "ci_lower": "95% CI from", "ci_upper": "95% CI to",
    "ci_low": "95% CI from", "ci_high": "95% CI to", "p_value": "p", "ncy": "School year (NCY)",
    "rel_month": "Months from the start of Year 7", "rel_term": "Terms from the start of Year 7",
    "months_since_year5": "Months since the start of Year 5", "month_name": "Month",
    "school_month": "Month of the school year", "person_years": "Person-years",
    "person_years_at_risk": "Person-years at risk",
    "re_referrals": "Re-referrals", "n_sources": "Sources", "silent_n": "Silent",
    "chi2": "Chi-squared", "df": "Degrees of freedom", "of": "Share of",
    "m_probability": "m (share of true matches)", "u_probability": "u (share of random pairs)",
    "n": "Number", "pct": "%", "percent": "%",
}
# Columns whose values are codes, with the labels a reader knows them by.
LABELS: dict[str, Mapping[str, str]] = {
    "stage": STAGES,
    "event_type": STAGES,
    "source": SOURCE_NAMES,
    "source_code": {code: name for code, (name, _) in REFERRAL_SOURCES.items()},
    "referral_source": {code: name for code, (name, _) in REFERRAL_SOURCES.items()},
}
# A value that is an identifier (sen_provision, discovery_interview) is shown in words, except
# in columns naming a raw file's own fields and tables, packages, or hashes, which an analyst
# looks up or compares.
IDENTIFIER = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
RAW_NAMES = {"field", "table", "file", "package", "commit", "params_hash", "input_digest"}
# Numbers that name something (a year, a month, an age) rather than count it: no separators.
ORDINAL = re.compile(r"(^|_)(year|ncy|month|term|age|code|level)$|^months_since")
P_VALUE = re.compile(r"(^|_)p(_value)?$")
INTERVAL = re.compile(r"(^|_)(ci_)?(lo|hi|low|high|lower|upper)$")


def header(column: str) -> str:
    """A column name of a published table in words: rate_per_10k -> Rate per 10,000."""
    if column in HEADERS:
        return HEADERS[column]
    if "_" not in column and column.lower() != column:
        return column  # already words (a site's display name, a header given by the caller)
    words = " ".join(WORDS.get(part, part) for part in str(column).split("_"))
    return words[:1].upper() + words[1:]


def p_value(p: float) -> str:
    """A p-value as a reader expects it: <0.001, 0.004, 0.14."""
    if p < 0.001:
        return "<0.001"
    return f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def _numbers(values: pd.Series) -> pd.Series | None:
    """The column as floats (symbols and blanks as NaN), or None if it is not numeric."""
    text = values.astype("string").str.strip().str.replace(",", "", regex=False)
    kept = values.notna() & ~text.isin([*SYMBOLS, ""]).fillna(True)
    parsed = pd.to_numeric(text.where(kept), errors="coerce")
    if not kept.any() or parsed[kept].isna().any():
        return None
    return parsed.astype(float)


def decimals(numbers: pd.Series) -> int:
    """Whole numbers as they are; otherwise fewer decimals the larger the numbers."""
    finite = numbers.dropna()
    finite = finite[finite.map(math.isfinite)]
    if finite.empty or (finite == finite.round()).all():
        return 0
    size = finite.abs().median()
    return 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 1 else 3


def _format(column: str, values: pd.Series, numbers: pd.Series, decimals: int) -> pd.Series:
    def one(raw, x):
        if pd.isna(x):
            return "" if pd.isna(raw) else str(raw).strip()  # a symbol (c, x, z, ...) or blank
        if P_VALUE.search(column):
            return p_value(x)
        if not math.isfinite(x):
            return "∞" if x > 0 else "−∞"
        separator = "" if ORDINAL.search(column) else ","
        return f"{x:{separator}.{decimals}f}"
    return pd.Series([one(r, x) for r, x in zip(values, numbers)], index=values.index)


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def reader_frame(df: pd.DataFrame, labels: Mapping[str, Mapping[str, str]] | None = None
                 ) -> tuple[pd.DataFrame, list[bool]]:
    """The table's cells as text a reader sees, and which columns are numbers."""
    # a named index (a pivot's keys) is data; row numbers left by filtering are not
    df = df.reset_index(drop=all(name is None for name in df.index.names))
    maps = {**LABELS, **(labels or {})}
    out, numeric, places = {}, [], 0
    for column in df.columns:
        values = df[column]
        if column in maps:
            values = values.map(lambda v, m=maps[column]: m.get(v, v))
        if values.map(lambda v: isinstance(v, bool) or v in ("True", "False")).all():
            values = values.map(lambda v: "yes" if v in (True, "True") else "no")
        numbers = _numbers(values)
        if numbers is None:
            if column not in RAW_NAMES:
                values = values.map(lambda v: header(v) if isinstance(v, str)
                                    and IDENTIFIER.match(v) and v not in SYMBOLS else v)
            out[column] = values.map(_text)
            numeric.append(False)
            continue
        if not INTERVAL.search(str(column)):  # an interval takes its estimate's decimals
            places = decimals(numbers)
        out[column] = _format(str(column), values, numbers, places)
        numeric.append(True)
    frame = pd.DataFrame(out, index=range(len(df)))
    if "age_band" in frame.columns:  # the DfE bands in their order, not text order
        order = {band: i for i, band in enumerate([*AGE_BAND_NAMES, "18+", "Unknown"])}
        keys = [c for c in frame.columns[:list(frame.columns).index("age_band")]
                if not numeric[list(frame.columns).index(c)]]
        first = {c: {v: i for i, v in enumerate(dict.fromkeys(frame[c]))} for c in keys}
        rank = pd.DataFrame({**{c: frame[c].map(first[c]) for c in keys},
                             "age_band": frame["age_band"].map(order).fillna(len(order))})
        frame = frame.loc[rank.sort_values([*keys, "age_band"], kind="stable").index]
    return frame.reset_index(drop=True), numeric


def _pipe(frame: pd.DataFrame, numeric: list[bool], headers: Sequence[str]) -> str:
    rows = [headers, ["---:" if n else ":---" for n in numeric]]
    rows += frame.to_numpy().tolist()
    cells = [[str(v).replace("|", r"\|").replace("\n", " ") for v in row] for row in rows]
    return "\n".join("| " + " | ".join(row) + " |" for row in cells)


def _parts(columns: list, numeric: list[bool], max_columns: int) -> list[list[int]]:
    """Column positions of each part: the leading label columns, then at most max_columns."""
    keys = 0
    while keys < len(columns) and not numeric[keys]:
        keys += 1
    keys = max(1, min(keys, max_columns - 1))
    rest = list(range(keys, len(columns)))
    step = max_columns - keys
    return [list(range(keys)) + rest[i:i + step] for i in range(0, len(rest), step)] or [
        list(range(keys))]


def page_table(df: pd.DataFrame, csv: str | Sequence[str] | None = None, *,
               labels: Mapping[str, Mapping[str, str]] | None = None,
               headers: Mapping[str, str] | None = None, caption: str | None = None,
               max_columns: int = MAX_COLUMNS) -> Markdown:
    """A published table for the page, as Markdown.

    ``csv`` names the tidy CSV behind it: a published table's name (linked as
    ``tables/<name>.csv``, beside the page) or a relative link ending in .csv, or several.
    ``labels`` adds code -> label maps for columns beyond the vocabulary's; ``headers``
    replaces the worded header of a column. A table wider than ``max_columns`` is split into
    parts that each repeat its label columns.
    """
    frame, numeric = reader_frame(df, labels)
    names = [(headers or {}).get(c, header(str(c))) for c in frame.columns]
    if frame.empty:
        text = "No rows to show."
    else:
        text = "\n\n".join(
            _pipe(frame.iloc[:, part], [numeric[i] for i in part], [names[i] for i in part])
            for part in _parts(list(frame.columns), numeric, max_columns))
    if caption:
        text = f"{caption}\n\n{text}"
    links = [csv] if isinstance(csv, str) else list(csv or [])
    if links:
        hrefs = [c if c.endswith(".csv") else f"tables/{c}.csv" for c in links]
        text += "\n\nData behind this table (tidy CSV): " + ", ".join(
            f"[{h.rsplit('/', 1)[-1]}]({h})" for h in hrefs)
    return Markdown(text + "\n")
