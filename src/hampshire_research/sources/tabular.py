"""Read one council export (CSV or Excel) into a frame of strings, or fail with one clear error.

Councils export from different systems: UTF-8 with or without a byte-order mark, Windows-1252
from Excel "Save as CSV", commas or semicolons or tabs, or an .xlsx workbook. Everything is
read as text (so leading zeros and codes survive) and typed later, where each bad value can be
counted. A blank cell is "": empty, spaces only, or the text NULL in any case (what SQL Server
Management Studio writes for a missing value). The `_row` column numbers the data rows: 1 is
the first row after the header.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..errors import ProjectError
from .aliases import resolve_columns

TEXT = pd.StringDtype("pyarrow")  # Arrow-backed text: vectorised string work, a tenth the memory
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
BLANK_MARKERS = ("NULL",)  # compared in any case, after stripping spaces
_BLANK_PATTERN = "^(?:" + "|".join(BLANK_MARKERS) + ")$"
HEAD_BYTES = 1 << 20  # the part of a file read to detect its encoding and delimiter
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
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    if not head.strip() and size <= len(head):
        raise ProjectError("file is empty", path=path)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        headers, frame = _read_excel(path, head)
        cols = resolve_columns(headers, [*required, *optional])
    else:
        encoding, text = _decode_head(path, head, complete=size <= len(head))
        sep, cols = _choose_delimiter(path, text, required, optional,
                                      complete=size <= len(head))
        frame = _parse_csv(path, text, sep, encoding)
        headers = list(frame.columns)
    missing = [c for c in required if c not in cols]
    if missing:
        shown = ", ".join(map(str, headers[:20]))
        raise ProjectError(f"missing required column (found: {shown})", path=path,
                           field=missing[0])
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for c in [*required, *optional]:  # one column at a time: a big file is not held twice
        out[c] = (blank_markers(frame.pop(cols[c])).array if c in cols else
                  pd.Series("", index=out.index, dtype=TEXT).array)
    out["_row"] = np.arange(1, len(out) + 1)
    out.attrs["missing_columns"] = [c for c in optional if c not in cols]
    return out


def blank_markers(s: pd.Series) -> pd.Series:
    """Text stripped of spaces, with the blank markers (NULL) as "". Arrow kernels on the whole
    column (this runs on every column of every file): the marker test is one case-blind match,
    not an upper-cased copy of the column."""
    text = pc.utf8_trim_whitespace(pyarrow.array(s.astype(TEXT)))
    blank = pc.match_substring_regex(text, _BLANK_PATTERN, ignore_case=True)
    return pd.Series(pd.arrays.ArrowStringArray(pc.if_else(blank, "", text)), index=s.index)


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


def _decode_head(path: Path, head: bytes, complete: bool) -> tuple[str, str]:
    """(encoding for the reader, the first part of the file as text); binary is an error."""
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise ProjectError(f"binary file ({what}), not a CSV text export", path=path)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding, text = "utf-16", head.decode("utf-16", errors="ignore")
    else:
        try:
            encoding, text = "utf8", head.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            if not complete and e.start >= len(head) - 3:  # a character cut by the sample
                encoding, text = "utf8", head[: e.start].decode("utf-8-sig")
            else:
                encoding, text = "cp1252", _cp1252(path, head)
    sample = text[:8192]
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    if "\x00" in sample or control > max(2, len(sample) // 100):
        raise ProjectError("binary file (control characters), not a CSV text export", path=path)
    return encoding, text


def _cp1252(path: Path, data: bytes) -> str:
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise ProjectError("binary file: not UTF-8 or Windows-1252 text", path=path) from None


def _choose_delimiter(path: Path, text: str, required: list[str], optional: list[str],
                      complete: bool) -> tuple[str, dict[str, str]]:
    """The delimiter under which the header carries the required columns and the first rows
    split into as many fields as the header; an error when no delimiter (or more than one)
    does. `text` is the start of the file (all of it when `complete`)."""
    lines = text.lstrip("\r\n").splitlines()
    if not complete and len(lines) > 1:
        lines = lines[:-1]  # the sample may end inside a row
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
        cut = not complete or len(lines) > 200
        if bad is None or bad == len(counts) - 1 and cut:  # the last one may be cut short
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


def _unique(names: list[str]) -> list[str]:
    """Header names made unique the way pandas does (UPN, UPN.1): the first one is used."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        n = seen.get(name, 0)
        seen[name] = n + 1
        out.append(name if n == 0 else f"{name}.{n}")
    return out


def _parse_csv(path: Path, head: str, sep: str, encoding: str) -> pd.DataFrame:
    """Every column as text, read by pyarrow straight from the file; a row with the wrong
    number of fields is an error naming its line."""
    lines = head.splitlines()
    blank = next(i for i, line in enumerate(lines) if line.strip())
    header = _unique(next(csv.reader([lines[blank]], delimiter=sep)))
    bad: list[str] = []

    def on_bad_row(row) -> str:
        bad.append(row.text)
        return "skip"

    def read(enc: str) -> pyarrow.Table:
        return pacsv.read_csv(
            path, read_options=pacsv.ReadOptions(encoding=enc, skip_rows=blank + 1,
                                                 column_names=header, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True,
                                             invalid_row_handler=on_bad_row),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pyarrow.string() for h in header}, strings_can_be_null=False,
                quoted_strings_can_be_null=False))

    try:
        try:
            table = read(encoding)
        except pyarrow.ArrowInvalid as e:
            if encoding != "utf8" or "invalid UTF8" not in str(e):
                raise
            _cp1252(path, path.read_bytes())  # Windows-1252 after all, or binary
            bad.clear()
            table = read("cp1252")
    except (pyarrow.ArrowInvalid, ValueError) as e:
        raise ProjectError(f"malformed CSV: {e}", path=path) from None
    if bad:
        text = path.read_bytes().decode(encoding if encoding != "utf8" else "utf-8-sig",
                                        errors="replace")
        at = text.find(bad[0])
        line = text[:at].count("\n") + 1 if at >= 0 else None
        fields = len(next(csv.reader([bad[0]], delimiter=sep)))
        where = f"line {line} has" if line else f"a row ({bad[0][:60]!r}) has"
        raise ProjectError(f"malformed CSV: {where} {fields} fields, the header {len(header)}",
                           path=path, row=line)
    return table.to_pandas(types_mapper={pyarrow.string(): TEXT}.get)
