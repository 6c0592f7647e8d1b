"""One reader per source in the raw layout, each turning files into canonical rows.

Every reader opens its files with `read_table` (CSV or .xlsx, any of the usual encodings and
delimiters, headers matched through the alias table), sets rows aside through the file's
`FileLog` and closes the log against what it kept. The order matters where a file refers to
another: persons before the events and notes that point at them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow
import pyarrow.compute as pc

from ..errors import ProjectError
from ..params import SiteParams
from ..school_calendar import census_day
from ..vocabulary import TERMS
from .canon import IDENTITY, events, identity
from .checks import (
    FileLog,
    among,
    blank_to_na,
    by_value,
    int_array,
    lookup,
    normalise_id,
    whole_number,
    yes_no,
)
from .cin_xml import collection_year, read_cin_census, read_header
from .districts import district_of
from .schemas import REVIEW_CODES, TRANSCRIPT_TURNS, VOICE_OF_CHILD, typed
from .ssd_deployed import open_ssd
from .ssda903_files import returns as ssda903_returns
from .tabular import TEXT, find_file, read_table
from .transcripts import read_sessions, read_transcripts


@dataclass
class Build:
    """What the readers have produced so far."""

    data_dir: Path
    params: SiteParams
    logs: list[FileLog] = field(default_factory=list)
    persons: list[pd.DataFrame] = field(default_factory=list)
    events: list[pd.DataFrame] = field(default_factory=list)
    school_terms: list[pd.DataFrame] = field(default_factory=list)
    texts: list[pd.DataFrame] = field(default_factory=list)
    extras: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    aside: dict[str, str] = field(default_factory=dict)  # record_id set aside -> why
    notes: dict[str, str] = field(default_factory=dict)  # file -> what the report says of it

    def open(self, source: str, path: Path, required: list[str], optional: list[str] = (),
             key: str | None = None) -> tuple[pd.DataFrame, FileLog]:
        df = read_table(path, required, optional)
        log = FileLog(source, self.rel(path), df, path, key=key)
        log.missing_columns = df.attrs.get("missing_columns", [])
        self.logs.append(log)
        return df, log

    def set_aside(self, log: FileLog, prefix: str) -> None:
        """Remember the records of a person file that were set aside (record_id = prefix + key),
        so the rows that point at them say why they go too."""
        self.aside.update({prefix + k: f"{log.file}, {why}" for k, why in log.set_aside().items()})

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.data_dir).as_posix()
        except ValueError:
            return str(path)

    def extra(self, name: str, df: pd.DataFrame) -> None:
        self.extras.setdefault(name, []).append(df)

    def known(self, *sources: str) -> pd.Series:
        """record_ids of the persons read so far from these sources."""
        return pd.concat([p["record_id"] for p in self.persons
                          if len(p) and p["source"].iat[0] in sources] or [pd.Series(dtype=TEXT)])


def _need(path: Path | None, folder: Path, stem: str) -> Path:
    if path is None:
        raise ProjectError(f"file not found (expected {stem}.csv or {stem}.xlsx)",
                           path=folder / f"{stem}.csv")
    return path


def _subdir(folder: Path, name: str) -> Path | None:
    for p in sorted(folder.iterdir()) if folder.is_dir() else []:
        if p.is_dir() and p.name.lower() == name.lower():
            return p
    return None


# ---------------------------------------------------------------- school census

_NCY = {**{str(i): i for i in range(1, 15)}, **{f"{i:02d}": i for i in range(1, 15)},
        "R": 0, "N1": -2, "N2": -1, "E1": None, "E2": None, "X": None}


def _academic_year(name: str) -> str | None:
    m = re.fullmatch(r"(\d{4})\D?(\d{2}|\d{4})", name)
    if not m or int(m.group(2)[-2:]) != (int(m.group(1)) + 1) % 100:
        return None
    return f"{m.group(1)}/{m.group(2)[-2:]}"


PUPIL_OPTIONAL = ["FormerUPN", "Surname", "Forename", "Sex", "Ethnicity", "FSMeligible",
                  "SENprovision", "PrimarySENtype", "LAESTAB", "Postcode", "EnrolStatus"]
ATTENDANCE = ["UPN", "URN", "SessionsPossible", "SessionsAuthorised", "SessionsUnauthorised"]


def read_school_census(b: Build) -> None:
    root = b.data_dir / "school_census"
    schools = find_file(root, "schools")
    if schools is not None:
        df, log = b.open("school_census", schools, ["URN"],
                         ["LAESTAB", "SchoolName", "Phase", "District"])
        df = log.missing(df, ["URN"])
        df = log.duplicates(df, ["URN"], "URN")
        log.close(df)
        b.extra("schools", df.drop(columns="_row").rename(columns=str.lower)
                .assign(record_id="school:" + df["URN"]))
    years = sorted((ay, p) for p in (root.iterdir() if root.is_dir() else [])
                   if p.is_dir() and (ay := _academic_year(p.name)))
    latest = None
    spells = None
    n_files = 0
    for ay, ydir in years:
        for term in TERMS:
            tdir = _subdir(ydir, term)
            pupils = find_file(tdir, "pupils") if tdir else None
            if pupils is None:
                continue
            n_files += 1
            terms, ident, aside = _pupils(b, pupils, ay, term)
            attendance = find_file(tdir, "attendance")
            if attendance is not None:
                terms = _attendance(b, attendance, terms, aside)
            terms["district"] = by_value(terms["postcode"], lambda u: district_of(u, b.params))
            b.school_terms.append(typed("school_terms", terms))
            latest = ident if latest is None else (
                pd.concat([latest, ident]).drop_duplicates("record_id", keep="last"))
            spells = _enrolments(spells, terms)
            pyarrow.default_memory_pool().release_unused()
        exclusions = find_file(ydir, "exclusions")
        if exclusions is not None:
            b.events.append(_exclusions(b, exclusions, ay, latest))
    if n_files == 0:
        raise ProjectError("no school census pupil files (expected <2021-22>/<term>/pupils.csv)",
                           path=root)
    b.persons.append(latest)
    b.events.append(events(
        spells, source="school_census", event_type="school_enrolment",
        event_id=spells["record_id"] + ":enrolment:" + spells["urn"],
        record_id=spells["record_id"], start_date=spells["start"], end_date=spells["end"],
        school_urn=spells["urn"]))


def _enrolments(spells: pd.DataFrame | None, terms: pd.DataFrame) -> pd.DataFrame:
    """First and last census day seen at each school, per pupil, updated term by term."""
    seen = terms[["record_id", "urn", "census_date"]].dropna(subset=["urn"])
    seen = seen.assign(start=seen["census_date"], end=seen["census_date"])
    both = seen if spells is None else pd.concat([spells, seen], ignore_index=True)
    return both.groupby(["record_id", "urn"], sort=False, as_index=False).agg(
        start=("start", "min"), end=("end", "max"))


def _pupils(b: Build, path: Path, ay: str, term: str
            ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """(the term's rows, the pupils' identity, why the UPNs set aside were)."""
    df, log = b.open("school_census", path, ["UPN", "DOB", "URN", "NCyearActual"],
                     PUPIL_OPTIONAL, key="UPN")
    df["UPN"] = normalise_id(df["UPN"])
    df = log.missing(df, ["UPN", "URN"])
    df = log.duplicates(df, ["UPN", "URN"], "UPN")
    df = log.dates(df, ["DOB"])
    ident = identity(df, log, source="school_census", record_id="school_census:" + df["UPN"],
                     first_name="Forename", surname="Surname", dob="DOB", sex="Sex",
                     post="Postcode", upn="UPN")
    ncy_key = normalise_id(df["NCyearActual"])
    ncy = int_array(lookup(ncy_key, _NCY).to_numpy(dtype=float, na_value=np.nan))
    log.flag(df, ~among(ncy_key, list(_NCY)) & ncy_key.ne(""), "NCyearActual",
             "NC year not recognised (set to null)")
    fsm, bad = yes_no(df["FSMeligible"])
    log.flag(df, bad, "FSMeligible", "not a yes/no value (set to null)")
    sen = df["SENprovision"].str.upper()
    log.flag(df, ~sen.isin(["E", "K", "N", ""]), "SENprovision",
             "SEN provision not E/K/N (set to null)")
    terms = pd.DataFrame({
        "record_id": ident["record_id"], "upn": ident["upn"],
        "academic_year": pd.Series(ay, index=df.index, dtype=TEXT),
        "term": pd.Series(term, index=df.index, dtype=TEXT),
        "census_date": pd.Timestamp(census_day(int(ay[:4]), term)),
        "urn": df["URN"], "laestab": blank_to_na(df["LAESTAB"]), "ncy": ncy, "fsm": fsm,
        "sen_provision": sen.where(sen.isin(["E", "K", "N"]), None),
        "sen_type": blank_to_na(df["PrimarySENtype"].str.upper()),
        "ethnicity": blank_to_na(df["Ethnicity"].str.upper()),
        "postcode": ident["postcode"], "_row": df["_row"],
        "_upn_key": df["UPN"]})
    log.close(df)
    b.set_aside(log, "school_census:")
    return terms, ident, log.set_aside()


def _attendance(b: Build, path: Path, terms: pd.DataFrame, aside: dict[str, str]
                ) -> pd.DataFrame:
    df, log = b.open("school_census", path, ATTENDANCE)
    df = log.missing(df, ["UPN", "URN"])
    df["UPN"] = normalise_id(df["UPN"])
    for c in ATTENDANCE[2:]:
        df[c], bad = whole_number(df[c])
        df = log.quarantine(df, bad, c, "not a whole number of sessions")
    df = log.duplicates(df, ["UPN", "URN"], "UPN")
    # each attendance row belongs to the pupil's census row at the same school, this term
    df = log.without_parent(df, df["UPN"], terms["_upn_key"], aside, "UPN", "pupil",
                            "no census row for this pupil at this school this term")
    pos = pc.index_in(pyarrow.array(df["UPN"] + "|" + df["URN"]),
                      value_set=pyarrow.array(terms["_upn_key"] + "|" + terms["urn"]))
    pos = pd.Series(pos.to_numpy(zero_copy_only=False), index=df.index)
    df = log.quarantine(df, pos.isna(), "UPN",
                        "no census row for this pupil at this school this term")
    log.close(df)
    at = pos[df.index].astype(np.int64).to_numpy()
    for col, name in (("SessionsPossible", "sessions_possible"),
                      ("SessionsAuthorised", "sessions_authorised"),
                      ("SessionsUnauthorised", "sessions_unauthorised")):
        values = np.full(len(terms), np.nan)
        values[at] = df[col].to_numpy(dtype=float, na_value=np.nan)
        terms[name] = int_array(values)
    return terms


_EXCLUSION = {"FIXD": "suspension", "FIX": "suspension", "SUSPENSION": "suspension",
              "LNCH": "suspension", "PERM": "permanent_exclusion",
              "PERMANENT": "permanent_exclusion"}


def _exclusions(b: Build, path: Path, ay: str, pupils: pd.DataFrame | None) -> pd.DataFrame:
    df, log = b.open("school_census", path, ["UPN", "Category", "StartDate"],
                     ["URN", "Sessions", "Reason"])
    df = log.missing(df, ["UPN", "Category", "StartDate"])
    df["UPN"] = normalise_id(df["UPN"])
    kind = lookup(normalise_id(df["Category"]), _EXCLUSION)
    df = log.quarantine(df, kind.isna(), "Category", "exclusion category not FIXD/PERM/LNCH")
    df = log.key_dates(df, ["StartDate"])
    known = pupils["record_id"] if pupils is not None else []
    df = log.without_parent(df, "school_census:" + df["UPN"], known, b.aside, "UPN", "pupil",
                            "pupil not in any school census so far")
    df = log.duplicates(df, ["UPN", "URN", "StartDate", "Category"], "UPN")
    sessions, bad = whole_number(df["Sessions"])
    log.flag(df, bad, "Sessions", "not a whole number of sessions (set to null)")
    log.close(df)
    kind = kind[df.index]
    return events(df, source="school_census", event_type=kind,
                  event_id=f"school_census:{ay}:exclusion:" + df["_row"].astype(str),
                  record_id="school_census:" + df["UPN"], start_date=df["StartDate"],
                  school_urn=df["URN"], sessions=sessions, reason=df["Reason"],
                  outcome=lookup(normalise_id(df["Category"]), {"LNCH": "lunchtime"}))


# ---------------------------------------------------------------- early help

def read_early_help(b: Build) -> None:
    folder = b.data_dir / "early_help"
    path = _need(find_file(folder, "early_help_episodes"), folder, "early_help_episodes")
    df, log = b.open("early_help", path, ["EHPersonID", "EpisodeID", "StartDate"],
                     ["Forename", "Surname", "DOB", "Sex", "Postcode", "UPN", "NHSNumber",
                      "EndDate", "Reason", "LeadPractitionerRole", "Outcome"], key="EHPersonID")
    df = log.missing(df, ["EHPersonID", "EpisodeID", "StartDate"])
    df = log.duplicates(df, ["EpisodeID"], "EpisodeID")
    df = log.key_dates(df, ["StartDate"])
    df = log.dates(df, ["EndDate", "DOB"])
    rid = "early_help:" + df["EHPersonID"]
    ident = identity(df, log, source="early_help", record_id=rid, first_name="Forename",
                     surname="Surname", dob="DOB", sex="Sex", post="Postcode", upn="UPN",
                     nhs="NHSNumber")
    log.close(df)
    b.set_aside(log, "early_help:")
    order = df.sort_values(["StartDate", "_row"], kind="stable").index
    b.persons.append(ident.loc[order].drop_duplicates("record_id", keep="last"))
    b.events.append(events(df, source="early_help", event_type="early_help",
                           event_id="early_help:" + df["EpisodeID"], record_id=rid,
                           start_date=df["StartDate"], end_date=df["EndDate"],
                           episode_id=df["EpisodeID"], reason=df["Reason"],
                           outcome=df["Outcome"]))


# ---------------------------------------------------------------- SSD (case management)

# table: (event type, id, person, start, end, {events column: SSD column})
SSD_EVENTS = {
    "ssd_contacts": ("contact", "cont_contact_id", "cont_person_id", "cont_contact_date", None,
                     {"referral_source": "cont_contact_source_code",
                      "outcome": "cont_contact_outcome_json"}),
    "ssd_cin_episodes": ("referral", "cine_referral_id", "cine_person_id", "cine_referral_date",
                         "cine_close_date",
                         {"episode_id": "cine_referral_id",
                          "referral_source": "cine_referral_source_code",
                          "referral_nfa": "cine_referral_nfa",
                          "primary_need": "cine_cin_primary_need_code",
                          "reason": "cine_close_reason",
                          "outcome": "cine_referral_outcome_json"}),
    "ssd_cin_assessments": ("assessment", "cina_assessment_id", "cina_person_id",
                            "cina_assessment_start_date", "cina_assessment_auth_date",
                            {"episode_id": "cina_referral_id",
                             "outcome": "cina_assessment_outcome_json"}),
    "ssd_s47_enquiry": ("s47", "s47e_s47_enquiry_id", "s47e_person_id", "s47e_s47_start_date",
                        "s47e_s47_end_date", {"episode_id": "s47e_referral_id",
                                              "outcome": "s47e_s47_outcome_json"}),
    "ssd_initial_cp_conference": ("icpc", "icpc_icpc_id", "icpc_person_id", "icpc_icpc_date",
                                  None, {"episode_id": "icpc_referral_id",
                                         "outcome": "icpc_icpc_outcome_json"}),
    "ssd_cp_plans": ("cp_plan", "cppl_cp_plan_id", "cppl_person_id", "cppl_cp_plan_start_date",
                     "cppl_cp_plan_end_date", {"episode_id": "cppl_referral_id",
                                               "category_of_abuse":
                                                   "cppl_cp_plan_initial_category"}),
    "ssd_cin_plans": ("cin_plan", "cinp_cin_plan_id", "cinp_person_id",
                      "cinp_cin_plan_start_date", "cinp_cin_plan_end_date",
                      {"episode_id": "cinp_referral_id"}),
    "ssd_cin_visits": ("cin_visit", "cinv_cin_visit_id", "cinv_person_id", "cinv_cin_visit_date",
                       None, {"outcome": "cinv_cin_visit_seen_alone"}),
    "ssd_cla_episodes": ("cla_episode", "clae_cla_episode_id", "clae_person_id",
                         "clae_cla_episode_start_date", "clae_cla_episode_ceased_date",
                         {"episode_id": "clae_referral_id",
                          "reason": "clae_cla_episode_start_reason",
                          "outcome": "clae_cla_episode_ceased_reason",
                          "primary_need": "clae_cla_primary_need_code"}),
    "ssd_early_help_episodes": ("early_help", "earl_episode_id", "earl_person_id",
                                "earl_episode_start_date", "earl_episode_end_date",
                                {"reason": "earl_episode_reason",
                                 "outcome": "earl_episode_end_reason"}),
}


# table: (child seen, seen alone) -- the flags the voice map counts (csc_child_seen)
SSD_SEEN = {"ssd_cin_visits": ("cinv_cin_visit_seen", "cinv_cin_visit_seen_alone"),
            "ssd_cin_assessments": ("cina_assessment_child_seen", None)}


def read_ssd(b: Build) -> None:
    folder = b.data_dir / "csc"
    path = _need(find_file(folder, "ssd_person"), folder, "ssd_person")
    df, log = b.open("csc", path, ["pers_person_id"],
                     ["pers_forename", "pers_surname", "pers_dob", "pers_sex",
                      "pers_common_child_id", "pers_upn", "pers_expected_dob",
                      "pers_death_date", "pers_ethnicity"], key="pers_person_id")
    df = log.missing(df, ["pers_person_id"])
    df = log.duplicates(df, ["pers_person_id"], "pers_person_id")
    df = log.dates(df, ["pers_dob", "pers_expected_dob", "pers_death_date"])
    linked = _linked(b, df)
    for col, kind in (("pers_upn", "UPN"), ("pers_common_child_id", "NHS")):
        if kind in linked:
            df[col] = df[col].where(df[col].ne(""), linked[kind]).astype(TEXT)
    people = identity(df, log, source="csc", record_id="csc:" + df["pers_person_id"],
                      first_name="pers_forename", surname="pers_surname", dob="pers_dob",
                      sex="pers_sex", upn="pers_upn", nhs="pers_common_child_id")
    log.close(df)
    b.set_aside(log, "csc:")
    known = people["record_id"]
    people["postcode"] = people["record_id"].map(_addresses(b, folder, known))
    log.note_identity(people, IDENTITY)
    b.persons.append(people)
    for table, (etype, id_col, person, start, end, cols) in SSD_EVENTS.items():
        path = find_file(folder, table)
        if path is None:
            continue
        seen_cols = [c for c in SSD_SEEN.get(table, ()) if c]
        wanted = [c for c in {end, *cols.values(), *seen_cols}
                  if c and c not in (id_col, person, start)]
        df, log = open_ssd(b, table, path, [id_col, person, start], wanted, key=id_col)
        df = log.missing(df, [id_col, person, start])
        df = log.duplicates(df, [id_col], id_col)
        df = log.without_parent(df, "csc:" + df[person], known, b.aside, person, "person",
                                "person not in ssd_person")
        df = log.key_dates(df, [start])
        df = log.dates(df, [end] if end else [])
        extra = {k: df[v] for k, v in cols.items()}
        if "referral_nfa" in extra:
            extra["referral_nfa"], bad = yes_no(extra["referral_nfa"])
            log.flag(df, bad, cols["referral_nfa"], "not a yes/no value (set to null)")
        if etype == "cin_visit":
            seen, _ = yes_no(df["cinv_cin_visit_seen_alone"])
            extra["outcome"] = seen.map({True: "seen alone", False: "not seen alone"})
        if etype == "assessment":
            extra["factors"] = df[id_col].map(_factors(b, folder, df[id_col], log.set_aside()))
        seen_flags = {}
        for col, name in zip(SSD_SEEN.get(table, ()), ("child_seen", "seen_alone")):
            seen_flags[name] = pd.Series(pd.NA, index=df.index, dtype="boolean")  # no field
            if col:
                seen_flags[name], bad = yes_no(df[col])
                log.flag(df, bad, col, "not a yes/no value (set to null)")
        log.close(df)
        if seen_flags:
            b.extra("csc_child_seen", pd.DataFrame({
                "record_id": "csc:" + df[person], "event_id": f"csc:{etype}:" + df[id_col],
                "event_type": pd.Series(etype, index=df.index, dtype=TEXT),
                "date": df[start], **seen_flags}))
        b.events.append(events(df, source="csc", event_type=etype,
                               event_id=f"csc:{etype}:" + df[id_col], record_id="csc:" + df[person],
                               start_date=df[start], end_date=df[end] if end else None,
                               **extra))
    voice = find_file(folder, "ssd_voice_of_child")
    if voice is not None:
        df, log = b.open("csc", voice, ["voch_person_id"],
                         ["voch_table_id", *VOICE_OF_CHILD, "voch_method"])
        df = log.missing(df, ["voch_person_id"])
        rid = "csc:" + df["voch_person_id"]
        df = log.without_parent(df, rid, known, b.aside, "voch_person_id", "person",
                                "person not in ssd_person")
        log.close(df)
        b.extra("csc_voice_of_child", df.drop(columns="_row").assign(record_id=rid[df.index]))


_LINKED_TYPES = {"UPN": "UPN", "UNIQUEPUPILNUMBER": "UPN", "NHS": "NHS", "NHSNUMBER": "NHS",
                 "NHSNO": "NHS"}


def _linked(b: Build, people: pd.DataFrame) -> dict[str, pd.Series]:
    """UPNs and NHS numbers held in ssd_linked_identifiers (where the SSD keeps them), by person
    (the latest one listed where there are several)."""
    path = find_file(b.data_dir / "csc", "ssd_linked_identifiers")
    if path is None:
        return {}
    df, log = b.open("csc", path, ["link_person_id", "link_identifier_type",
                                   "link_identifier_value"])
    df = log.missing(df, ["link_person_id", "link_identifier_value"])
    df = log.without_parent(df, "csc:" + df["link_person_id"],
                            "csc:" + people["pers_person_id"], b.aside, "link_person_id",
                            "person", "person not in ssd_person")
    log.close(df)
    kind = lookup(normalise_id(df["link_identifier_type"]), _LINKED_TYPES)
    out = {}
    for k in ("UPN", "NHS"):
        ids = df[kind.eq(k).to_numpy()].drop_duplicates("link_person_id", keep="last")
        out[k] = people["pers_person_id"].map(
            ids.set_index("link_person_id")["link_identifier_value"]).fillna("")
    return out


def _addresses(b: Build, folder: Path, known: pd.Series) -> pd.Series:
    """Current postcode by record_id: the open address, else the latest one."""
    path = find_file(folder, "ssd_address")
    if path is None:
        return pd.Series(dtype=object)
    df, log = b.open("csc", path, ["addr_person_id", "addr_address_postcode"],
                     ["addr_address_start_date", "addr_address_end_date", "addr_address_type"])
    df = log.missing(df, ["addr_person_id"])
    df = log.without_parent(df, "csc:" + df["addr_person_id"], known, b.aside, "addr_person_id",
                            "person", "person not in ssd_person")
    df = log.dates(df, ["addr_address_start_date", "addr_address_end_date"])
    ident = identity(df, log, source="csc", record_id="csc:" + df["addr_person_id"],
                     post="addr_address_postcode")
    log.close(df)
    addr = pd.DataFrame({"record_id": ident["record_id"], "postcode": ident["postcode"],
                         "start_date": df["addr_address_start_date"],
                         "end_date": df["addr_address_end_date"],
                         "address_type": blank_to_na(df["addr_address_type"]),
                         "open": df["addr_address_end_date"].isna()})
    b.extra("csc_addresses", addr.drop(columns="open"))
    current = addr.dropna(subset=["postcode"]).sort_values(
        ["record_id", "open", "start_date"], na_position="first", kind="stable")
    return current.drop_duplicates("record_id", keep="last").set_index("record_id")["postcode"]


def _factor_codes(value: str) -> str | None:
    """Factor codes from the SSD's factors JSON (a list, or a dict of code -> flag) or a list."""
    try:
        parsed = json.loads(value)
    except (ValueError, TypeError):
        parsed = re.split(r"[,;\s]+", value or "")
    if isinstance(parsed, dict):
        parsed = [k for k, v in parsed.items() if str(v).strip().upper() not in
                  ("", "N", "NO", "FALSE", "0", "NONE")]
    if not isinstance(parsed, list):
        parsed = [parsed]
    codes = [str(c).strip().upper() for c in parsed if str(c).strip()]
    return ",".join(codes) or None


def _factors(b: Build, folder: Path, assessments: pd.Series, aside: dict[str, str]
             ) -> pd.Series:
    """Factor codes by assessment id, for the assessments kept (ssd_assessment_factors);
    `aside`: why the assessments set aside were."""
    path = find_file(folder, "ssd_assessment_factors")
    if path is None:
        return pd.Series(dtype=object)
    df, log = b.open("csc", path, ["cinf_assessment_id", "cinf_assessment_factors_json"],
                     ["cinf_table_id"])
    df = log.missing(df, ["cinf_assessment_id"])
    df = log.without_parent(df, df["cinf_assessment_id"], assessments, aside,
                            "cinf_assessment_id", "assessment",
                            "assessment not in ssd_cin_assessments")
    log.close(df)
    codes = by_value(df["cinf_assessment_factors_json"], lambda u: u.map(_factor_codes))
    joined = codes.dropna().groupby(df.loc[codes.notna(), "cinf_assessment_id"]).agg(",".join)
    return joined.map(lambda s: ",".join(dict.fromkeys(s.split(","))))


# ---------------------------------------------------------------- CIN census

def read_cin(b: Build) -> None:
    """Every CIN census file, one per collection year: of two files for the same Year (a
    resubmission), the one made last (Header/Source/DateTime; the last by file name where the
    times are equal or absent) is read and the other is listed as not read, saying why."""
    folder = b.data_dir / "cin_census"
    files = sorted(p for p in (folder.iterdir() if folder.is_dir() else [])
                   if p.is_file() and p.suffix.lower() == ".xml")
    if not files:
        raise ProjectError("no CIN census files (expected cin_census_<YYYY>.xml)", path=folder)
    headers = {p: read_header(p) for p in files}
    by_year: dict[str, list[Path]] = {}
    for p in files:
        by_year.setdefault(collection_year(headers[p], p), []).append(p)
    for year, paths in sorted(by_year.items()):
        path = max(paths, key=lambda p: (_made(headers[p]), p.name))
        notes = _cin_header_notes(b, headers[path], year)
        if len(paths) > 1:
            notes.insert(0, f"chosen of {len(paths)} files for Year {year}: made last "
                            f"(Header/Source/DateTime {headers[path].get('DateTime') or 'none'})")
        for other in paths:
            if other != path:
                b.notes[b.rel(other)] = (
                    f"not read: a resubmission of Year {year}; {b.rel(path)} was read instead "
                    f"(made later, or the last by name: DateTime "
                    f"{headers[other].get('DateTime') or 'none'})")
        logs, persons, ev = read_cin_census(path, b.rel(path))
        if notes:
            b.notes[logs[0].file] = "; ".join(notes)
        b.logs += logs
        b.persons.append(persons)
        if ev is not None:
            b.events.append(ev)


def _made(header: dict[str, str]) -> str:
    """When the file was made (Header/Source/DateTime) as UTC ISO text; "" when unknown."""
    made = pd.to_datetime(header.get("DateTime", ""), utc=True, errors="coerce")
    return "" if pd.isna(made) else made.isoformat()


def _cin_header_notes(b: Build, header: dict[str, str], year: str) -> list[str]:
    """What the report says of a CIN file's header: a ReferenceDate in another year than Year,
    an LEA other than the site's LA number."""
    notes = []
    ref = header.get("ReferenceDate", "")
    if ref and not ref.startswith(year):
        notes.append(f"Year {year} but ReferenceDate {ref} (record ids use Year)")
    lea = header.get("LEA", "")
    if lea and lea != str(b.params.la_number):
        notes.append(f"LEA {lea} is not this site's LA number {b.params.la_number}")
    return notes


# ---------------------------------------------------------------- SSDA903

# file stem: (columns besides CHILD, date columns) -- the 903 CSV modules
SSDA903_MODULES = {
    "reviews": (["DOB", "REVIEW", "REVIEW_CODE"], ["DOB", "REVIEW"]),
    "uasc": (["SEX", "DOB", "DUC"], ["DOB", "DUC"]),
    "oc2": (["DOB", "SDQ_SCORE", "SDQ_REASON", "CONVICTED", "HEALTH_CHECK", "IMMUNISATIONS",
             "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE", "INTERVENTION_RECEIVED",
             "INTERVENTION_OFFERED"], ["DOB"]),
    "oc3": (["DOB", "IN_TOUCH", "ACTIV", "ACCOM"], ["DOB"]),
    "ad1": (["DOB", "DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR",
             "LS_ADOPTR"], ["DOB", "DATE_INT", "DATE_MATCH"]),
    "placed_for_adoption": (["DOB", "DATE_PLACED", "DATE_PLACED_CEASED",
                             "REASON_PLACED_CEASED"], ["DOB", "DATE_PLACED",
                                                       "DATE_PLACED_CEASED"]),
    # DATE_PERM may be partly unknown ("zz/zz/2019"), so it stays text
    "previous_permanence": (["DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"], ["DOB"]),
    "missing": (["DOB", "MISSING", "MIS_START", "MIS_END"], ["DOB", "MIS_START", "MIS_END"]),
    "sw_episodes": (["DOB", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"],
                    ["DOB", "SW_DECOM", "SW_DEC"]),
}
EPISODE_COLUMNS = ["RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                   "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"]


def read_ssda903(b: Build) -> None:
    for ret in ssda903_returns(b.data_dir / "ssda903", ["header", "episodes",
                                                         *SSDA903_MODULES]):
        year = ret.year
        df, log = ret.open(b, "header", ["CHILD", "SEX", "DOB"], ["ETHNIC", "UPN"], key="CHILD")
        df = log.missing(df, ["CHILD"])
        df = log.duplicates(df, ["CHILD"], "CHILD")
        df = log.dates(df, ["DOB"])
        people = identity(df, log, source="ssda903", record_id=f"ssda903:{year}:" + df["CHILD"],
                          dob="DOB", sex="SEX", upn="UPN")
        log.close(df)
        b.set_aside(log, f"ssda903:{year}:")
        b.persons.append(people)
        known = people["record_id"]

        df, log = ret.open(b, "episodes", ["CHILD", "DECOM"], EPISODE_COLUMNS)
        df = log.missing(df, ["CHILD", "DECOM"])
        df = log.without_parent(df, f"ssda903:{year}:" + df["CHILD"], known, b.aside, "CHILD",
                                "child", "child not in header.csv")
        df = log.key_dates(df, ["DECOM"])
        df = log.dates(df, ["DEC"])
        df = log.duplicates(df, ["CHILD", "DECOM"], "DECOM")
        log.close(df)
        b.events.append(events(
            df, source="ssda903", event_type="cla_episode",
            event_id=f"ssda903:{year}:episode:" + df["_row"].astype(str),
            record_id=f"ssda903:{year}:" + df["CHILD"], start_date=df["DECOM"],
            end_date=df["DEC"], reason=df["RNE"], outcome=df["REC"], primary_need=df["CIN"],
            school_urn=df["URN"]))
        b.extra("ssda903_episodes", df.drop(columns="_row").assign(
            record_id=f"ssda903:{year}:" + df["CHILD"], collection_year=int(year)))
        for stem, (cols, dates) in SSDA903_MODULES.items():
            if stem not in ret.files:
                continue
            df, log = ret.open(b, stem, ["CHILD"], cols)
            df = log.missing(df, ["CHILD"])
            df = log.without_parent(df, f"ssda903:{year}:" + df["CHILD"], known, b.aside,
                                    "CHILD", "child", "child not in header.csv")
            df = log.dates(df, dates)
            if stem == "reviews":
                code = normalise_id(df["REVIEW_CODE"])
                log.flag(df, ~code.isin(REVIEW_CODES) & code.ne(""), "REVIEW_CODE",
                         "not a participation code PN0-PN7 (set to null)")
                df["REVIEW_CODE"] = code.where(code.isin(REVIEW_CODES), None)
            log.close(df)
            b.extra(f"ssda903_{stem}", df.drop(columns="_row").assign(
                record_id=f"ssda903:{year}:" + df["CHILD"], collection_year=int(year)))


# ---------------------------------------------------------------- case notes

_SYSTEMS = {"CSC": "csc", "SOCIALCARE": "csc", "CHILDRENSSOCIALCARE": "csc",
            "EARLYHELP": "early_help", "EH": "early_help"}


def read_case_notes(b: Build) -> None:
    folder = b.data_dir / "case_notes"
    path = _need(find_file(folder, "case_notes"), folder, "case_notes")
    df, log = b.open("case_notes", path, ["NoteID", "System", "PersonID", "NoteText"],
                     ["NoteDate", "NoteType", "Stage", "AuthorRole"])
    df = log.missing(df, ["NoteID", "System", "PersonID"])
    df = log.duplicates(df, ["NoteID"], "NoteID")
    system = lookup(normalise_id(df["System"]).str.replace(r"[_'\-]+", "", regex=True), _SYSTEMS)
    df = log.quarantine(df, system.isna(), "System", "system not csc or early_help")
    system = system[df.index].astype(TEXT)
    rid = system + ":" + df["PersonID"]
    df = log.without_parent(df, rid, b.known("csc", "early_help"), b.aside, "PersonID", "person",
                            "person not in that system's records")
    df = log.dates(df, ["NoteDate"])
    log.close(df)
    b.texts.append(pd.DataFrame({
        "text_id": df["NoteID"], "record_id": rid[df.index], "source": system[df.index],
        "note_type": blank_to_na(df["NoteType"].str.lower()), "stage": blank_to_na(df["Stage"]),
        "date": df["NoteDate"], "author_role": blank_to_na(df["AuthorRole"]),
        "text": df["NoteText"]}))


# ---------------------------------------------------------------- research transcripts

def read_research_transcripts(b: Build) -> None:
    """Interview and focus-group transcripts (transcripts/, optional): one row per speaker turn.

    The transcript reader stops at the first bad file with its line, so every turn of every file
    is kept; the report lists each file with its turns (and sessions.csv with its sessions).
    """
    folder = b.data_dir / "transcripts"
    if not folder.is_dir():
        return
    turns = read_transcripts(folder)
    sheet = folder / "sessions.csv"
    counted = [(sheet, read_sessions(sheet))] if sheet.is_file() else []
    counted += [(folder / name, g) for name, g in turns.groupby("file", sort=True)]
    for path, rows in counted:
        frame = pd.DataFrame({"_row": np.arange(1, len(rows) + 1)})
        log = FileLog("transcripts", b.rel(path), frame, path)
        log.close(frame)
        b.logs.append(log)
    b.extra("transcript_turns", turns.astype(TRANSCRIPT_TURNS))
