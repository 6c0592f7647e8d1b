"""CIN census XML (one file per collection year) -> persons and events.

Reads the 2022-23 to 2026-27 specifications: GenderCurrent (1/2/0/9) before 2024-25 and Sex
(M/F/U) from then; the PreProceedingsandFGDM block new in 2026-27. Namespaces are ignored, as
councils' software writes the file with and without one. Each record type (Child, CINdetails,
Assessments, ...) is counted as its own "file" in the validation report, with the element's
line number. A record whose parent was set aside is set aside with it, saying why the parent
went. A bad date the record can do without (a birth date, an end date) is set to null and
flagged; only a record without its key or its start date is set aside.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pandas as pd
from lxml import etree

from ..errors import ProjectError
from .canon import events, identity
from .checks import FileLog, yes_no
from .tabular import TEXT, blank_markers

BLOCKS = ["Assessments", "CINPlanDates", "Section47", "ChildProtectionPlans",
          "PreProceedingsandFGDM"]


@lru_cache(maxsize=512)
def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _leaves(el) -> dict[str, str]:
    """Text of the element's leaf children, by local name."""
    return {_local(c.tag): (c.text or "").strip() for c in el if len(c) == 0}


def _root_name(path: Path) -> str:
    """Local name of the document element, from the start of the file."""
    with open(path, "rb") as f:
        head = f.read(65536)
    m = re.search(rb"<(?![?!])([^\s>/]+)", head)
    return m.group(1).decode("utf-8", "replace").split(":")[-1] if m else ""


def _parse(path: Path) -> tuple[dict[str, str], dict[str, list[dict]]]:
    root = _root_name(path)
    if root != "Message":
        raise ProjectError(f"not a CIN census file: root element is <{root}>, expected "
                           "<Message>", path=path)
    header: dict[str, str] = {}
    rows: dict[str, list[dict]] = {b: [] for b in ["Child", "CINdetails", *BLOCKS]}
    try:
        for _, el in etree.iterparse(str(path), events=("end",), huge_tree=True,
                                     tag=("{*}Child", "{*}CollectionDetails", "{*}Source"),
                                     resolve_entities=False, no_network=True):
            if _local(el.tag) == "Child":
                _child(el, rows)
                el.clear(keep_tail=False)
                while el.getprevious() is not None:
                    del el.getparent()[0]
            else:
                header.update(_leaves(el))
    except etree.XMLSyntaxError as e:
        line = e.lineno if getattr(e, "lineno", None) else None
        raise ProjectError(f"malformed or truncated XML: {e.msg}", path=path, row=line) from None
    return header, rows


def _child(el, rows: dict[str, list[dict]]) -> None:
    child_no = len(rows["Child"]) + 1
    rec = {"_row": child_no, "_line": el.sourceline, "Disabilities": []}
    for part in el:
        name = _local(part.tag)
        if name in ("ChildIdentifiers", "ChildCharacteristics"):
            rec.update(_leaves(part))
            rec["Disabilities"] += [(d.text or "").strip() for d in part.iter()
                                    if _local(d.tag) == "Disability"]
        elif name == "CINdetails":
            cin_no = len(rows["CINdetails"]) + 1
            cin = {"_row": cin_no, "_line": part.sourceline, "_child": child_no,
                   **_leaves(part)}
            rows["CINdetails"].append(cin)
            for block in part:
                bname = _local(block.tag)
                if bname not in BLOCKS:
                    continue
                b = {"_row": len(rows[bname]) + 1, "_line": block.sourceline, "_child": child_no,
                     "_cin": cin_no, **_leaves(block)}
                if bname == "Assessments":
                    b["factors"] = ",".join(
                        (f.text or "").strip() for f in block.iter()
                        if _local(f.tag) == "AssessmentFactors" and (f.text or "").strip())
                rows[bname].append(b)
    rec["Disabilities"] = ",".join(d for d in rec["Disabilities"] if d)
    rows["Child"].append(rec)


def _frame(records: list[dict], cols: list[str]) -> pd.DataFrame:
    """Records as a frame: the fields as Arrow text (blank when absent), the `_` keys as ints."""
    df = pd.DataFrame.from_records(records)
    if df.empty:
        df = pd.DataFrame(columns=["_row", "_line", "_child", "_cin"], dtype="int64")
    for c in df.columns:
        df[c] = df[c].astype("int64") if c.startswith("_") else blank_markers(df[c].fillna(""))
    for c in cols:
        if c not in df:
            df[c] = pd.Series("", index=df.index, dtype=TEXT)
    return df


def _check_start(path: Path) -> None:
    """An error for a file that is missing, empty or not XML at all."""
    if not path.is_file():
        raise ProjectError("file not found", path=path)
    with open(path, "rb") as f:
        raw_head = f.read(4096)
    if not raw_head.strip():
        raise ProjectError("file is empty", path=path)
    if not raw_head.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<"):
        raise ProjectError("not an XML file (it does not start with '<')", path=path)


def read_header(path: Path) -> dict[str, str]:
    """The fields of Header/CollectionDetails and Header/Source (Year, ReferenceDate, LEA,
    DateTime, ...), read from the start of the file only."""
    _check_start(path)
    header: dict[str, str] = {}
    try:
        for kind, el in etree.iterparse(str(path), events=("start", "end"), huge_tree=True,
                                        resolve_entities=False, no_network=True):
            name = _local(el.tag)
            if kind == "start" and name in ("Children", "Child"):
                break
            if kind == "end" and name in ("CollectionDetails", "Source"):
                header.update(_leaves(el))
    except etree.XMLSyntaxError as e:
        line = e.lineno if getattr(e, "lineno", None) else None
        raise ProjectError(f"malformed or truncated XML: {e.msg}", path=path, row=line) from None
    return header


def collection_year(header: dict[str, str], path: Path) -> str:
    """Header Year, else the year of ReferenceDate, else a year in the file name."""
    year = header.get("Year", "")
    if re.fullmatch(r"\d{4}", year):
        return year
    m = re.match(r"(\d{4})", header.get("ReferenceDate", "")) or re.search(r"(20\d{2})",
                                                                          path.stem)
    if not m:
        raise ProjectError("no collection year (Header/CollectionDetails/Year)", path=path,
                           field="Year")
    return m.group(1)


def read_cin_census(path: Path, rel: str) -> tuple[list[FileLog], pd.DataFrame, pd.DataFrame]:
    """(logs, persons, events) from one CIN census XML file."""
    _check_start(path)
    header, rows = _parse(path)
    year = collection_year(header, path)
    logs: list[FileLog] = []
    out_events: list[pd.DataFrame] = []

    child = _frame(rows["Child"], ["LAchildID", "UPN", "PersonBirthDate", "PersonDeathDate",
                                   "ExpectedPersonBirthDate", "Sex", "GenderCurrent"])
    log = FileLog("cin_census", f"{rel}#Child", child, path, key="_row")
    logs.append(log)
    child = log.missing(child, ["LAchildID"])
    child = log.duplicates(child, ["LAchildID"], "LAchildID")
    child = log.dates(child, ["PersonBirthDate", "ExpectedPersonBirthDate", "PersonDeathDate"])
    child["sex_raw"] = child["Sex"].where(child["Sex"].ne(""), child["GenderCurrent"])
    record_id = f"cin_census:{year}:" + child["LAchildID"]
    persons = identity(child, log, source="cin_census", record_id=record_id,
                       dob="PersonBirthDate", sex="sex_raw", upn="UPN")
    log.close(child)
    rid_by_child = pd.Series(record_id.to_numpy(), index=child["_row"].to_numpy(), dtype=TEXT)
    child_aside = log.set_aside()

    cin = _frame(rows["CINdetails"], ["CINreferralDate", "ReferralSource", "PrimaryNeedCode",
                                      "CINclosureDate", "ReasonForClosure", "DateOfInitialCPC",
                                      "ReferralNFA"])
    if len(cin):
        log = FileLog("cin_census", f"{rel}#CINdetails", cin, path, key="_row")
        logs.append(log)
        cin = log.without_parent(cin, cin["_child"], rid_by_child.index, child_aside, "LAchildID",
                                 "child record", "no child record")
        cin = log.missing(cin, ["CINreferralDate"])
        cin = log.key_dates(cin, ["CINreferralDate"])
        cin = log.dates(cin, ["CINclosureDate", "DateOfInitialCPC"])
        nfa, bad = yes_no(cin["ReferralNFA"])
        log.flag(cin, bad, "ReferralNFA", "not a yes/no value (set to null)")
        rid = cin["_child"].map(rid_by_child).astype(TEXT)
        n = cin.groupby("_child").cumcount() + 1
        episode = rid + ":" + n.astype(str).astype(TEXT)
        out_events.append(events(
            cin, source="cin_census", event_type="referral", event_id=episode + ":referral",
            record_id=rid, start_date=cin["CINreferralDate"], end_date=cin["CINclosureDate"],
            episode_id=episode, referral_source=cin["ReferralSource"], referral_nfa=nfa,
            primary_need=cin["PrimaryNeedCode"], reason=cin["ReasonForClosure"]))
        icpc = cin[cin["DateOfInitialCPC"].notna()]
        out_events.append(events(
            icpc, source="cin_census", event_type="icpc",
            event_id=episode[icpc.index] + ":icpc", record_id=rid[icpc.index],
            start_date=icpc["DateOfInitialCPC"], episode_id=episode[icpc.index]))
        log.close(cin)
        episode_by_cin = pd.Series(episode.to_numpy(), index=cin["_row"].to_numpy(), dtype=TEXT)
        cin_aside = log.set_aside()
    else:
        episode_by_cin, cin_aside = pd.Series(dtype=TEXT), {}

    specs = {
        "Assessments": ("assessment", "AssessmentActualStartDate",
                        ["AssessmentActualStartDate", "AssessmentInternalReviewDate",
                         "AssessmentAuthorisationDate"]),
        "CINPlanDates": ("cin_plan", "CINPlanStartDate", ["CINPlanStartDate", "CINPlanEndDate"]),
        "Section47": ("s47", "S47ActualStartDate",
                      ["S47ActualStartDate", "InitialCPCtarget", "DateOfInitialCPC"]),
        "ChildProtectionPlans": ("cp_plan", "CPPstartDate", ["CPPstartDate", "CPPendDate"]),
        "PreProceedingsandFGDM": ("pre_proceedings", "PPStartDate",
                                  ["PPStartDate", "LBPSentDate", "InitialPPMeetingDate",
                                   "StepDecisionDate", "CourtAppDate", "LetterInitCPDate"]),
    }
    for block, (etype, start, date_cols) in specs.items():
        df = _frame(rows[block], [*date_cols, "factors", "InitialCategoryOfAbuse",
                                  "AssessmentAuthorisationDate", "CINPlanEndDate", "CPPendDate",
                                  "PPOutcome", "ICPCnotRequired"])
        if not len(df):
            continue
        log = FileLog("cin_census", f"{rel}#{block}", df, path)
        logs.append(log)
        df = log.without_parent(df, df["_cin"], episode_by_cin.index, cin_aside, "CINdetails",
                                "CIN episode", "no CIN episode")
        df = log.missing(df, [start])
        df = log.key_dates(df, [start])
        df = log.dates(df, [c for c in date_cols if c != start])
        episode = df["_cin"].map(episode_by_cin).astype(TEXT)
        rid = df["_child"].map(rid_by_child).astype(TEXT)
        end = {"assessment": "AssessmentAuthorisationDate", "cin_plan": "CINPlanEndDate",
               "cp_plan": "CPPendDate"}.get(etype)
        out_events.append(events(
            df, source="cin_census", event_type=etype,
            event_id=episode + f":{etype}:" + df["_row"].astype(str).astype(TEXT), record_id=rid,
            start_date=df[start], end_date=df[end] if end else None, episode_id=episode,
            factors=df["factors"] if etype == "assessment" else None,
            category_of_abuse=df["InitialCategoryOfAbuse"] if etype == "cp_plan" else None,
            outcome=df["PPOutcome"] if etype == "pre_proceedings" else None))
        if etype == "s47":
            icpc = df[df["DateOfInitialCPC"].notna()]
            out_events.append(events(
                icpc, source="cin_census", event_type="icpc",
                event_id=episode[icpc.index] + ":icpc:" + icpc["_row"].astype(str).astype(TEXT),
                record_id=rid[icpc.index], start_date=icpc["DateOfInitialCPC"],
                episode_id=episode[icpc.index]))
        log.close(df)
    ev = pd.concat(out_events, ignore_index=True) if out_events else None
    if ev is not None:
        # an ICPC recorded on both the episode and its S47 is one conference
        again = ev["event_type"].eq("icpc") & ev.duplicated(["episode_id", "event_type",
                                                               "start_date"])
        ev = ev[~again]
    return logs, persons, ev
