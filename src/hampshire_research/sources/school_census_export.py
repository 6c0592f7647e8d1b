"""A council's school-census export (relational tables, one set per term) -> the project layout.

Councils hold the school census as their systems export it (the shape the LIIA school-census
pipeline reads): per term, `<YYYY>_<term>_<table>.csv` for pupils on roll, their SEN needs,
addresses, FSM periods and exclusions, each row keyed by the pupil's row id
(`pupilonrolltableid`). `hampshire-research convert school-census IN OUT` joins them on that id
into `OUT/<2024-25>/<term>/pupils.csv` and `attendance.csv` and `OUT/<2024-25>/exclusions.csv`,
which the school census reader then checks like any other extract.

A conversion rather than a second reader: the joins happen once, the result can be opened and
checked by the analyst, and every check stays in one reader. Values are copied as the export
writes them (dates included: the reader parses them), except sessions written as `134.0`.
What is not converted is counted: rows whose pupil id is not on roll, and the tables for pupils
no longer on roll on census day (the project's census rows are the pupils on roll that day).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..errors import ProjectError
from ..vocabulary import TERMS
from .tabular import read_table

PUPIL = "pupilonrolltableid"
_NAME = re.compile(r"(\d{4})[_\- ](autumn|spring|summer)[_\- ](\w+)", re.IGNORECASE)
# the export's pupil columns -> pupils.csv (a column the export lacks is left blank, and said)
PUPIL_COLUMNS = {"upn": "UPN", "formerupn": "FormerUPN", "surname": "Surname",
                 "forename": "Forename", "dob": "DOB", "sex": "Sex", "ethnicity": "Ethnicity",
                 "senprovision": "SENprovision", "ncyearactual": "NCyearActual",
                 "enrolstatus": "EnrolStatus"}
SESSIONS = {"termlysessionspossible": "SessionsPossible",
            "termlysessionsauthorised": "SessionsAuthorised",
            "termlysessionsunauthorised": "SessionsUnauthorised"}
# tables joined on the pupil id: stem -> (columns it must have, optional columns)
JOINED = {"senneeds": (["sentype"], ["sentyperank"]),
          "addressesonroll": (["postcode"], ["addressesonrollorderseqcolumn"]),
          "fsmperiodsonroll": (["fsmstartdate"], ["fsmenddate"]),
          "termlyexclusionsonroll": (["category", "startdate"], ["sessions", "reason", "reason1"]),
          "termlysessiondetailsonroll": ([], [])}
FSM_STEMS = {"fsmperiod": "fsmperiodsonroll", "fsmperiods": "fsmperiodsonroll"}
OFF_ROLL = ("pupilnolongeronroll", "addressesoffroll", "termlyexclusionsoffroll",
            "termlysessiondetailsoffroll", "fsmperiodsoffroll", "senneedsoffroll")


def convert_school_census(src: Path, out: Path) -> pd.DataFrame:
    """Write the project layout under `out` from the export in `src`; return one row per input
    file: rows read, converted and not converted, with why."""
    src, out = Path(src), Path(out)
    terms: dict[tuple[str, str], dict[str, Path]] = {}
    summary = []
    for p in sorted(src.iterdir()) if src.is_dir() else []:
        m = _NAME.fullmatch(p.stem) if p.is_file() and p.suffix.lower() == ".csv" else None
        stem = FSM_STEMS.get(m.group(3).lower(), m.group(3).lower()) if m else ""
        if stem == "pupilonroll" or stem in JOINED:
            files = terms.setdefault((m.group(1), m.group(2).lower()), {})
            if stem in files:
                raise ProjectError(f"two {stem} tables for {m.group(1)} {m.group(2)}: "
                                   f"{files[stem].name} and {p.name}", path=p)
            files[stem] = p
        elif stem in OFF_ROLL:
            summary.append(_row(p, len(read_table(p, [])), 0,
                                "pupils no longer on roll on census day: not census rows"))
        elif p.is_file():
            summary.append(_row(p, 0, 0, "not converted: not a table of the school census "
                                         "export"))
    if not any("pupilonroll" in files for files in terms.values()):
        raise ProjectError("no pupil on roll table (expected <YYYY>_<term>_pupilonroll.csv)",
                           path=src)
    exclusions: dict[str, list[pd.DataFrame]] = {}
    for (year, term), files in sorted(terms.items(), key=lambda kv: _order(*kv[0])):
        if "pupilonroll" not in files:
            for p in files.values():
                summary.append(_row(p, len(read_table(p, [])), 0,
                                    "no pupilonroll table for this term"))
            continue
        academic_year = _academic_year(int(year), term)
        exclusions.setdefault(academic_year, []).append(
            _term(files, out / academic_year / term, summary))
    for academic_year, parts in exclusions.items():
        pd.concat([p for p in parts if len(p)] or parts[:1]).to_csv(
            out / academic_year / "exclusions.csv", index=False, lineterminator="\n")
    return pd.DataFrame(summary, columns=["file", "read", "converted", "not_converted", "note"])


def _term(files: dict[str, Path], out: Path, summary: list) -> pd.DataFrame:
    """Write one term's pupils.csv and attendance.csv; return its exclusions."""
    pupils = read_table(files["pupilonroll"], [PUPIL, "upn", "dob"],
                        ["NativeId", *PUPIL_COLUMNS.keys() - {"upn", "dob"}, "gender",
                         *SESSIONS])
    repeated = pupils.duplicated(PUPIL)
    ids = pupils[~repeated].set_index(PUPIL)
    layout = pd.DataFrame({new: ids[old] for old, new in PUPIL_COLUMNS.items()})
    layout["Sex"] = layout["Sex"].where(layout["Sex"].ne(""), ids["gender"])
    layout["URN"] = ids["NativeId"]  # the export's school key (it carries no URN)
    joined = {}
    for stem, (required, optional) in JOINED.items():
        if stem not in files:
            continue
        df = read_table(files[stem], [PUPIL, *required], optional)
        on_roll = df[PUPIL].isin(ids.index)
        if (~on_roll).sum() * 2 > len(df):
            raise ProjectError(f"{int((~on_roll).sum())} of {len(df)} rows name a pupil id not "
                               f"in {files['pupilonroll'].name}", path=files[stem], field=PUPIL)
        note = "" if on_roll.all() else f"pupil id not in pupilonroll ({int((~on_roll).sum())})"
        if stem == "termlysessiondetailsonroll":
            on_roll[:] = False
            note = "sessions by attendance code: the termly totals come from pupilonroll"
        summary.append(_row(files[stem], len(df), int(on_roll.sum()), note))
        joined[stem] = df[on_roll]
    if "senneeds" in joined:
        sen = joined["senneeds"].assign(rank=pd.to_numeric(joined["senneeds"]["sentyperank"],
                                                           errors="coerce"))
        first = sen.sort_values(["rank", "_row"], kind="stable").drop_duplicates(PUPIL)
        layout["PrimarySENtype"] = first.set_index(PUPIL)["sentype"]
    if "addressesonroll" in joined:
        first = joined["addressesonroll"].drop_duplicates(PUPIL)
        layout["Postcode"] = first.set_index(PUPIL)["postcode"]
    if "fsmperiodsonroll" in joined:
        # eligible on census day = an FSM period still open (no end date) in this census
        periods = joined["fsmperiodsonroll"]
        open_ids = set(periods.loc[periods["fsmenddate"].eq(""), PUPIL])
        layout["FSMeligible"] = ["true" if i in open_ids else "false" for i in layout.index]
    layout = layout.reindex(columns=[*PUPIL_COLUMNS.values(), "URN", "PrimarySENtype",
                                     "Postcode", "FSMeligible"]).fillna("")
    blank = [c for c in layout if layout[c].eq("").all()]
    notes = [f"{int(repeated.sum())} repeated {PUPIL} (first kept)"] if repeated.any() else []
    notes += [f"blank for every pupil: {', '.join(blank)}"] if blank else []
    summary.append(_row(files["pupilonroll"], len(pupils), len(layout), "; ".join(notes)))
    out.mkdir(parents=True, exist_ok=True)
    layout.to_csv(out / "pupils.csv", index=False, lineterminator="\n")
    attendance = pd.DataFrame({"UPN": layout["UPN"], "URN": layout["URN"],
                               **{new: ids[old].map(_whole) for old, new in SESSIONS.items()}})
    attendance.to_csv(out / "attendance.csv", index=False, lineterminator="\n")
    excl = joined.get("termlyexclusionsonroll", pd.DataFrame(
        columns=[PUPIL, "category", "startdate", "sessions", "reason", "reason1"]))
    return pd.DataFrame({"UPN": excl[PUPIL].map(layout["UPN"]),
                         "URN": excl[PUPIL].map(layout["URN"]),
                         "Category": excl["category"], "StartDate": excl["startdate"],
                         "Sessions": excl["sessions"].map(_whole),
                         "Reason": excl["reason"].where(excl["reason"].ne(""), excl["reason1"])})


def _whole(value: str) -> str:
    """Sessions as a whole number where the export wrote one as `134.0`."""
    m = re.fullmatch(r"(\d+)\.0*", value)
    return m.group(1) if m else value


def _academic_year(year: int, term: str) -> str:
    start = year if term == "autumn" else year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def _order(year: str, term: str) -> tuple[str, int]:
    return _academic_year(int(year), term), TERMS.index(term)


def _row(path: Path, read: int, converted: int, note: str) -> dict:
    return {"file": path.name, "read": read, "converted": converted,
            "not_converted": read - converted, "note": note}
