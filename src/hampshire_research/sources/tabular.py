"""Read one council export (CSV or Excel) into a frame of strings, or fail with one clear error.

Councils export from different systems: UTF-8 with or without a byte-order mark, Windows-1252
from Excel "Save as CSV", commas or semicolons or tabs, or an .xlsx workbook. Everything is
read as text (so leading zeros and codes survive) and typed later, where each bad value can be
counted. The `_row` column numbers the data rows: 1 is the first row after the header.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pyarrow
import pyarrow.csv as pacsv

from ..errors import ProjectError
from .aliases import resolve_columns

TEXT = pd.StringDtype("pyarrow")  # Arrow-backed text: vectorised string work, a tenth the memory
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
DELIMITERS = (",", ";", "\t", "|")
_MAGIC = {
    b"PK\x03\x04": "a zip archive or Excel workbook",
    b"\xd0\xcf\x11\xe0": "an old-format Excel or Word file",
    b"%PDF": "a PDF",
    b"\x89PNG": "a PNG image",
    b"\x1f\x8b": "a gzip archive",
    b"PAR1": "a parquet file",
}


def find_file(folder: Path, stem: str) -> Path | None:
    """The export called `stem` in `folder`, as .csv or .xlsx (case-insensitive), if any."""
    if not folder.is_dir():
        return None
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.stem.lower() == stem.lower() and (
            p.suffix.lower() == ".csv" or p.suffix.lower() in EXCEL_SUFFIXES
        ):
            return p
    return None


def read_table(path: Path, required: list[str], optional: list[str] = ()) -> pd.DataFrame:
    """Columns `required` + `optional` (contract names; absent optional ones are blank), `_row`."""
    path = Path(path)
    if not path.is_file():
        raise ProjectError("file not found", path=path)
    raw = path.read_bytes()
    if not raw.strip():
        raise ProjectError("file is empty", path=path)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        headers, frame = _read_excel(path, raw)
        cols = resolve_columns(headers, [*required, *optional])
    else:
        text = _decode(path, raw)
        sep, cols = _choose_delimiter(path, text, required, optional)
        frame = _parse_csv(path, text, sep)
        headers = list(frame.columns)
    missing = [c for c in required if c not in cols]
    if missing:
        shown = ", ".join(map(str, headers[:20]))
        raise ProjectError(f"missing required column (found: {shown})", path=path,
                           field=missing[0])
    out = pd.DataFrame({c: frame[cols[c]].astype(TEXT).str.strip() if c in cols else
                        pd.Series("", index=frame.index, dtype=TEXT)
                        for c in [*required, *optional]}).reset_index(drop=True)
    out["_row"] = range(1, len(out) + 1)
    return out


def _read_excel(path: Path, raw: bytes) -> tuple[list[str], pd.DataFrame]:
    if not raw.startswith(b"PK\x03\x04"):
        raise ProjectError("not an Excel workbook (an .xlsx file is a zip archive)", path=path)
    try:
        frame = pd.read_excel(path, sheet_name=0, dtype=str, engine="openpyxl")
    except Exception as e:  # openpyxl raises many kinds for a damaged workbook
        raise ProjectError(f"cannot read the Excel workbook: {e}", path=path) from None
    if frame.columns.empty:
        raise ProjectError("file is empty (the first sheet has no header row)", path=path)
    frame = frame.fillna("")
    headers = [str(h) for h in frame.columns]
    frame.columns = headers
    return headers, frame


def _decode(path: Path, raw: bytes) -> str:
    for magic, what in _MAGIC.items():
        if raw.startswith(magic):
            raise ProjectError(f"binary file ({what}), not a CSV text export", path=path)
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError:
                raise ProjectError("binary file: not UTF-8 or Windows-1252 text",
                                   path=path) from None
    head = text[:8192]
    control = sum(1 for ch in head if ord(ch) < 32 and ch not in "\t\r\n")
    if "\x00" in head or control > max(2, len(head) // 100):
        raise ProjectError("binary file (control characters), not a CSV text export", path=path)
    return text


def _choose_delimiter(path: Path, text: str, required: list[str], optional: list[str]
                      ) -> tuple[str, dict[str, str]]:
    """The delimiter under which the header carries the required columns and the first rows
    split into as many fields as the header; an error when no delimiter (or more than one)
    does."""
    lines = text.lstrip("\r\n").splitlines()
    tried = {}
    for sep in DELIMITERS:
        fields = next(csv.reader([lines[0]], delimiter=sep))
        tried[sep] = (fields, resolve_columns(fields, [*required, *optional]))
    fits = [s for s, (f, cols) in tried.items() if all(c in cols for c in required)]
    if not fits:
        # No delimiter gives the required columns: report against the likeliest one.
        fields, cols = max(tried.values(), key=lambda t: len(t[0]))
        missing = [c for c in required if c not in cols]
        raise ProjectError(f"missing required column (header line: {', '.join(fields[:20])})",
                           path=path, field=missing[0])
    most = max(len(tried[s][0]) for s in fits)
    fits = [s for s in fits if len(tried[s][0]) == most] if most > 1 else [","]
    sample = "\n".join(lines[:200])
    consistent = []
    for sep in fits:
        counts = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=sep) if r]
        bad = next((i for i, n in enumerate(counts) if n != most), None)
        if bad is None or bad == len(counts) - 1 and len(lines) > 200:  # last may be cut short
            consistent.append(sep)
        elif len(fits) == 1:
            raise ProjectError(
                f"rows do not split into the header's {most} columns with the delimiter "
                f"{sep!r}: line {bad + 1} has {counts[bad]} (mixed or stray delimiters?)",
                path=path, row=bad + 1)
    if len(consistent) != 1:
        names = " or ".join(repr(s) for s in fits)
        raise ProjectError(f"cannot tell the delimiter ({names})", path=path, row=1)
    return consistent[0], tried[consistent[0]][1]


def _parse_csv(path: Path, text: str, sep: str) -> pd.DataFrame:
    """Every column as text; a row with the wrong number of fields is an error naming its line."""
    text = text.lstrip("\r\n")
    header = next(csv.reader([text.split("\n", 1)[0].rstrip("\r")], delimiter=sep))
    bad: list[str] = []

    def on_bad_row(row) -> str:
        bad.append(row.text)
        return "skip"

    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True,
                                             invalid_row_handler=on_bad_row),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pyarrow.string() for h in header}, strings_can_be_null=False,
                quoted_strings_can_be_null=False))
    except (pyarrow.ArrowInvalid, ValueError) as e:
        raise ProjectError(f"malformed CSV: {e}", path=path) from None
    if bad:
        line = text[: text.find(bad[0])].count("\n") + 1 if bad[0] in text else None
        fields = len(next(csv.reader([bad[0]], delimiter=sep)))
        where = f"line {line} has" if line else f"a row ({bad[0][:60]!r}) has"
        raise ProjectError(f"malformed CSV: {where} {fields} fields, the header {len(header)}",
                           path=path, row=line)
    return table.to_pandas(types_mapper={pyarrow.string(): TEXT}.get)
