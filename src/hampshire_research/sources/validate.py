"""Build a site's canonical tables from its raw files, with a report of every row's fate.

`validate_site` is what `hampshire-research validate` runs. Nothing is written until every
file has been read: the tables go to a temporary folder beside the output and are moved into
place at the end, so a failed run leaves the previous output as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from ..errors import ProjectError
from ..params import SiteParams
from ..vocabulary import SOURCES, TEXT_SOURCES
from . import readers
from .checks import FileLog, issues_frame
from .schemas import SCHEMAS, conform, empty, read_parquet, write_parquet

REPORT_COLUMNS = ["source", "file", "read", "kept", "flagged", "quarantined", "flag_reasons",
                  "quarantine_reasons", "missing_columns", "identity", "note"]
SOURCE_FOLDERS = [*SOURCES, *TEXT_SOURCES]  # the folders these readers read
DATA_SUFFIXES = {".csv", ".xlsx", ".xlsm", ".xml", ".txt", ".docx", ".vtt"}


def _read_all(params: SiteParams, data_dir: Path) -> readers.Build:
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise ProjectError("data folder not found", path=data_dir)
    b = readers.Build(data_dir=data_dir, params=params)
    readers.read_school_census(b)
    readers.read_early_help(b)
    readers.read_ssd(b)
    readers.read_cin(b)
    readers.read_ssda903(b)
    readers.read_case_notes(b)
    readers.read_research_transcripts(b)
    return b


def _tables(b: readers.Build) -> Iterator[tuple[str, pd.DataFrame]]:
    """Each canonical table in turn, checked; the readers' pieces are released as they go."""
    for name in SCHEMAS:
        parts = [p for p in getattr(b, name) if len(p)]
        setattr(b, name, [])
        df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else (
            parts[0] if parts else empty(name))
        del parts
        yield name, conform(name, df)
    for name in sorted(b.extras):
        yield name, conform(name, pd.concat(b.extras.pop(name), ignore_index=True))


def build_canonical(params: SiteParams, data_dir: Path) -> tuple[dict[str, pd.DataFrame],
                                                               list[FileLog]]:
    """Read every source under `data_dir` into checked canonical tables (nothing written)."""
    b = _read_all(params, data_dir)
    return dict(_tables(b)), b.logs


def report(logs: list[FileLog], data_dir: Path | None = None,
           notes: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per file (per record type for XML): read, kept, flagged and quarantined, the
    optional columns the file lacks and how complete each identity field is; and a row for
    each data file in a source folder that no reader takes (so it is seen, not lost).
    `notes`: what the readers said of a file (a resubmission not read, a header mismatch)."""
    notes = notes or {}
    rows = []
    for log in logs:
        q, f = log.quarantined, log.flagged
        rows.append({
            "source": log.source, "file": log.file, "read": log.read, "kept": log.kept,
            "flagged": f["row"].nunique(), "quarantined": len(q),
            "flag_reasons": _reasons(f), "quarantine_reasons": _reasons(q),
            "missing_columns": ", ".join(log.missing_columns),
            "identity": ", ".join(f"{k} {v:.0%}" for k, v in log.completeness.items()),
            "note": notes.get(log.file, "")})
    if data_dir is not None:
        read = {log.file.split("#")[0] for log in logs}
        for folder in SOURCE_FOLDERS:
            for p in sorted((Path(data_dir) / folder).rglob("*")):
                rel = p.relative_to(data_dir).as_posix()
                if p.is_file() and p.suffix.lower() in DATA_SUFFIXES and rel not in read:
                    rows.append({"source": folder, "file": rel, "read": 0, "kept": 0,
                                 "flagged": 0, "quarantined": 0, "flag_reasons": "",
                                 "quarantine_reasons": "", "missing_columns": "",
                                 "identity": "",
                                 "note": notes.get(rel, "not read: no reader for this file")})
    df = pd.DataFrame(rows, columns=REPORT_COLUMNS)
    if (df["read"] != df["kept"] + df["quarantined"]).any():
        raise ProjectError("row accounting failed: read != kept + quarantined (a bug)")
    return df.sort_values(["source", "file"], kind="stable").reset_index(drop=True)


def _reasons(df: pd.DataFrame) -> str:
    """'field: reason (count)' joined by '; ', the commonest first."""
    if df.empty:
        return ""
    counts = df.groupby(["field", "reason"]).size().reset_index(name="n")
    counts = counts.sort_values(["n", "field", "reason"], ascending=[False, True, True])
    return "; ".join(f"{r.field}: {r.reason} ({r.n})" for r in counts.itertuples())


def check_kept(report_df: pd.DataFrame, min_kept: float, allow_empty: bool = False) -> None:
    """Stop (one error naming the file and its top reason) when a file kept less than
    `min_kept` of the rows it read, or, unless `allow_empty`, when a source kept nothing: both
    look like a layout the readers misread, and must not pass as a quiet success."""
    read = report_df[report_df["read"] > 0]
    low = read[read["kept"] < min_kept * read["read"]]
    if len(low):  # name a file that lost its rows for a reason of its own, if there is one
        top = low["quarantine_reasons"].str.split("; ").str[0]
        order = pd.DataFrame({"cascade": top.str.contains(" set aside (", regex=False),
                              "share": low["kept"] / low["read"]}).sort_values(
            ["cascade", "share"], kind="stable")
        r, top = low.loc[order.index[0]], top[order.index[0]]
        raise ProjectError(f"kept {r['kept']:,} of {r['read']:,} rows, under the threshold "
                           f"{min_kept:.0%} (top reason {top}); fix the file or lower the "
                           "threshold with --min-kept", path=r["file"])
    if allow_empty:
        return
    kept = report_df.groupby("source")["kept"].sum()
    for source in kept.index[kept == 0]:
        files = report_df.loc[report_df["source"].eq(source) & report_df["note"].eq(""), "file"]
        raise ProjectError(f"source {source} is empty: no rows kept from "
                           f"{', '.join(files) or 'any file'}; pass --allow-empty to go on "
                           "without it")


def validate_site(params: SiteParams, data_dir: Path, out_dir: Path) -> pd.DataFrame:
    """Build out_dir/canonical/*.parquet, validation_report.csv, quarantine.parquet and
    flags.parquet from a site's raw files; return the report."""
    out_dir = Path(out_dir)
    b = _read_all(params, data_dir)
    rep = report(b.logs, Path(data_dir), b.notes)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".validate-", dir=out_dir))
    try:
        (tmp / "canonical").mkdir()
        for name, df in _tables(b):  # one table in memory at a time
            write_parquet(df, tmp / "canonical" / f"{name}.parquet")
            del df
        rep.to_csv(tmp / "validation_report.csv", index=False, lineterminator="\n")
        for name, parts in (("quarantine", [log.quarantined for log in b.logs]),
                            ("flags", [log.flagged for log in b.logs])):
            df = issues_frame([p for p in parts if len(p)])
            df["line"] = pd.array(df["line"], dtype="Int64")
            df = df.sort_values(["file", "row", "field"], kind="stable").reset_index(drop=True)
            write_parquet(df, tmp / f"{name}.parquet")
        _move_into_place(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rep


def _move_into_place(tmp: Path, out_dir: Path) -> None:
    """Swap the new outputs in, each with a rename (the old canonical folder goes last)."""
    old = out_dir / "canonical"
    if old.exists():
        os.replace(old, tmp / "canonical.old")
    os.replace(tmp / "canonical", old)
    for name in ("validation_report.csv", "quarantine.parquet", "flags.parquet"):
        os.replace(tmp / name, out_dir / name)


def load_canonical(canonical_dir: Path) -> dict[str, pd.DataFrame]:
    """The canonical tables (persons, events, school_terms, texts and the supplementary ones)."""
    canonical_dir = Path(canonical_dir)
    files = sorted(canonical_dir.glob("*.parquet"))
    missing = [n for n in SCHEMAS if not (canonical_dir / f"{n}.parquet").is_file()]
    if missing:
        raise ProjectError(f"no canonical {missing[0]!r} table: run `hampshire-research "
                           "validate` first", path=canonical_dir)
    return {p.stem: read_parquet(p) for p in files}


def load_report(out_dir: Path) -> pd.DataFrame:
    """The validation report `validate_site` wrote under `out_dir` (blank reasons as "")."""
    path = Path(out_dir) / "validation_report.csv"
    if not path.is_file():
        raise ProjectError("no validation report: run `hampshire-research validate` first",
                           path=path)
    return pd.read_csv(path, keep_default_na=False)


def format_report(report_df: pd.DataFrame, verbose: bool = False) -> str:
    """The validation report for the terminal: per source, rows read, kept, flagged and set
    aside with the top reasons, and the files' notes; with `verbose`, the table of every file
    and its reasons too (the report file always has them)."""
    lines = []
    for source, g in report_df.groupby("source", sort=True):
        n = g[["read", "kept", "flagged", "quarantined"]].sum()
        lines.append(f"{source}: read {n['read']:,}, kept {n['kept']:,} ({n['flagged']:,} "
                     f"flagged), set aside {n['quarantined']:,} ({len(g)} files)")
        for col, label in (("quarantine_reasons", "set aside"), ("flag_reasons", "flagged")):
            top = _top(g, col)
            if top:
                lines.append(f"  top reasons {label}: {top}")
        for _, r in g[g["note"].ne("")].iterrows():
            lines.append(f"  {r['file']}: {r['note']}")
    total = report_df[["read", "kept", "flagged", "quarantined"]].sum()
    lines.append(f"all files: read {total['read']:,}, kept {total['kept']:,} "
                 f"({total['flagged']:,} with a flag), quarantined {total['quarantined']:,}")
    if verbose:
        lines.append("\n" + report_df[["source", "file", "read", "kept", "flagged",
                                       "quarantined"]].to_string(index=False))
        for _, r in report_df.iterrows():
            if r["flag_reasons"] or r["quarantine_reasons"] or r["missing_columns"]:
                lines.append(f"\n{r['file']}")
                for col, label in (("flag_reasons", "flagged"),
                                   ("quarantine_reasons", "quarantined"),
                                   ("missing_columns", "optional columns not found"),
                                   ("identity", "identity fields present")):
                    if r[col]:
                        lines.append(f"  {label}: {r[col]}")
    return "\n".join(lines)


def _top(files: pd.DataFrame, col: str, n: int = 3) -> str:
    """The `n` commonest reasons over several files' 'field: reason (count)' lists."""
    counts: dict[str, int] = {}
    for text in files[col]:
        for item in filter(None, text.split("; ")):
            what, _, count = item.rpartition(" (")
            counts[what] = counts.get(what, 0) + int(count.rstrip(")"))
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return "; ".join(f"{what} ({count:,})" for what, count in top)
