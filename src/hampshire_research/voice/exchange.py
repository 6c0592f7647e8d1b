"""Voice coding in and out of QDA tools: auto-coder rows <-> REFI selections, one project per run."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..qda.refi import export_qdpx, read_coding_csv, read_qdpx
from .autocode import COLUMNS
from .codebook import load_codebook

AUTO_CODER = "auto-coder"


def segments_to_selections(segments: pd.DataFrame, coder: str | None = None) -> pd.DataFrame:
    """One row per code applied to a span: source_id, start, end, code, coder."""
    parts = []
    for col in ("who", "form", "absence"):
        part = segments[segments[col].notna()]
        parts.append(pd.DataFrame({"source_id": part["note_id"], "start": part["start"],
                                   "end": part["end"], "code": part[col],
                                   "coder": part["coder"] if "coder" in part else
                                   (coder or AUTO_CODER)}))
    out = pd.concat(parts, ignore_index=True).drop_duplicates()
    return out.sort_values(["source_id", "start", "end", "coder", "code"], ignore_index=True)


def selections_to_segments(selections: pd.DataFrame) -> pd.DataFrame:
    """Back to auto-coder rows (plus coder). A span coded with a WHO and a FORM is a voice
    segment; with an ABSENCE, an absence segment (WHO = whose voice, W.CYP if none given);
    flags (C.*, I.*) are not segments and are left out."""
    rows = []
    for (sid, start, end, coder), g in selections.groupby(
            ["source_id", "start", "end", "coder"], sort=True):
        codes = set(g["code"])
        whos = sorted(c for c in codes if c.startswith("W."))
        forms = sorted(c for c in codes if c.startswith("F."))
        absences = sorted(c for c in codes if c.startswith("A."))
        for a in absences:
            rows.append((sid, start, end, whos[0] if whos else "W.CYP", None, a, coder))
        if forms or not absences:
            for w in whos or [None]:
                rows.append((sid, start, end, w, None if w == "W.PRAC" or not forms else
                             min(forms, key=["F.MED", "F.DQ", "F.RS", "F.WF", "F.NV"].index),
                             None, coder))
    out = pd.DataFrame(rows, columns=COLUMNS + ["coder"])
    return out.dropna(subset=["who", "form", "absence"], how="all").reset_index(drop=True)


def export_voice_project(path: str | Path, notes: pd.DataFrame, segments: pd.DataFrame, *,
                         project_name: str = "voice", case_variables: list[str] | None = None
                         ) -> Path:
    """A .qdpx of the notes with the voice codebook and the given coding (auto-coder by default).

    Each note is a case, with `case_variables` (columns of notes, e.g. source, stage,
    age_band, year) as its variables, so coders can filter by them in their tool.
    """
    cb = load_codebook()
    sources = pd.DataFrame({"source_id": notes["note_id"].astype(str), "text": notes["text"]})
    sources = sources[sources["text"].notna()]
    seg = segments.assign(note_id=segments["note_id"].astype(str))
    cases = None
    if case_variables:
        cases = notes[["note_id"] + case_variables].rename(columns={"note_id": "case_id"})
        cases = cases.assign(case_id=cases["case_id"].astype(str),
                             source_id=cases["case_id"].astype(str))
        cases = cases[cases.source_id.isin(sources.source_id)]
    return export_qdpx(path, project_name=f"{project_name} (codebook {cb.version})",
                       codes=cb.refi_codes(), sources=sources,
                       selections=segments_to_selections(seg), cases=cases,
                       default_coder=AUTO_CODER)


def import_voice_coding(path: str | Path, *, sources: pd.DataFrame | None = None,
                        end: str = "auto", line_endings: str = "auto") -> pd.DataFrame:
    """People's coding from a .qdpx or a .csv, as auto-coder rows with a coder column.

    With `sources` (source_id, text: the notes as the auto-coder read them), positions in a
    .qdpx, which holds the texts with "\\n" line ends, are moved back onto those texts."""
    cb = load_codebook()
    path = Path(path)
    if path.suffix.lower() == ".csv":
        sel = read_coding_csv(path, sources=sources, code_ids=cb.ids())
    else:
        codes = cb.refi_codes()
        sel = read_qdpx(path, codes=codes, end=end, line_endings=line_endings).selections
        sel = sel[sel["code"].isin(cb.ids())]
        if sources is not None and len(sel):
            raw = dict(zip(sources["source_id"].astype(str), sources["text"]))
            sel = sel.assign(start=[_raw_offset(raw.get(s), p) for s, p in zip(sel.source_id, sel.start)],
                             end=[_raw_offset(raw.get(s), p) for s, p in zip(sel.source_id, sel.end)])
    return selections_to_segments(sel)


def _raw_offset(raw: str | None, pos: int) -> int:
    """A position on the "\\n" text as a position on the original text with "\\r\\n" line ends."""
    if not isinstance(raw, str):
        return pos
    out = pos
    for k, m in enumerate(re.finditer("\r\n", raw)):
        if m.start() - k >= pos:
            break
        out += 1
    return out
