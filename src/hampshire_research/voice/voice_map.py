"""The voice map of the structured data: where a child's, a parent's or a practitioner's voice
is recorded in the council's systems, in what form, how often, and where it could be and is not.

The catalogue (voice_map.yaml) describes every source and field of the data model. Coverage
is computed from the raw files: SSDA903 review participation codes (PN0-PN7), children seen and
seen alone at CIN/CP visits and assessments, the SSD voice-of-the-child questionnaire, and
referrals made by the child or family — by stage, age band and collection year.

The files are read with the sources package's table reader (same encodings, delimiters,
aliases and errors). The canonical tables keep only part of what is needed here (visits keep
seen-alone but not seen; assessments do not keep child-seen), so the few columns are read
here, and every row set aside is counted with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .errors import ProjectError
from .sources.checks import parse_dates, yes_no
from .sources.tabular import find_file, read_table

AGE_BANDS = [(0, 0, "0"), (1, 4, "1-4"), (5, 9, "5-9"), (10, 15, "10-15"), (16, 17, "16-17"),
             (18, 200, "18+")]
PN_MEANING = {
    "PN0": "Child under 4 at the review",
    "PN1": "Attends and speaks for themself",
    "PN2": "Attends; an advocate speaks for them",
    "PN3": "Attends; conveys their view non-verbally",
    "PN4": "Attends; view not conveyed",
    "PN5": "Does not attend; briefs an advocate",
    "PN6": "Does not attend; view conveyed by a facilitative medium",
    "PN7": "Does not attend; view not conveyed",
}
PN_CONVEYED = {"PN1", "PN2", "PN3", "PN5", "PN6"}
SELF_OR_FAMILY = {"1A", "1C"}  # CIN referral source: family/relative/carer; the child themself
MEASURES = {
    "review_views_conveyed": ("CLA", "Looked-after reviews (child 4+) where the child's view "
                              "was conveyed (PN1, PN2, PN3, PN5, PN6)"),
    "review_spoke_for_self": ("CLA", "Looked-after reviews (child 4+) where the child attended "
                              "and spoke for themself (PN1)"),
    "visit_seen": ("CIN/CP", "CIN and CP visits where the child was seen"),
    "visit_seen_alone": ("CIN/CP", "CIN and CP visits where the child was seen alone"),
    "assessment_child_seen": ("assessment", "Assessments where the child was seen"),
    "voice_questionnaire": ("CIN/CP/CLA", "Children referred who have a voice-of-the-child "
                            "questionnaire answer"),
    "referral_by_child_or_family": ("contact/referral", "Referrals made by the child or their "
                                    "family (sources 1A, 1C)"),
}
COVERAGE_COLUMNS = ["measure", "stage", "year", "age_band", "records", "with_voice"]


def load_catalogue() -> pd.DataFrame:
    """The static catalogue: source, table, field, stage, carries_voice, whose, form, measure,
    note, opportunity."""
    data = yaml.safe_load(resources.files("hampshire_research").joinpath(
        "voice_map.yaml").read_text(encoding="utf-8"))
    cols = ["source", "table", "field", "stage", "carries_voice", "whose", "form", "measure",
            "note", "opportunity"]
    df = pd.DataFrame(data["fields"]).reindex(columns=cols).fillna("")
    bad = set(df["carries_voice"]) - {"yes", "partial", "no"}
    if bad:
        raise ProjectError(f"voice_map.yaml: carries_voice must be yes, partial or no, not {bad}")
    return df


@dataclass
class VoiceRecords:
    """The rows the coverage is computed from, and what was set aside on the way."""

    reviews: pd.DataFrame  # child, year_folder, review_date, dob, code
    visits: pd.DataFrame  # person, date, seen, alone, stage
    assessments: pd.DataFrame  # person, date, seen
    referrals: pd.DataFrame  # person, date, source
    questionnaire: set[str]  # persons with at least one answer
    persons: pd.Series  # dob by person id
    icpc: int = 0  # initial conferences (no attendance field to count)
    icpc_fields: list[str] = field(default_factory=list)
    files: list[dict] = field(default_factory=list)  # file, read, kept, set_aside, reasons
    methods: pd.Series = field(default_factory=lambda: pd.Series(dtype=int))  # answers by method

    @property
    def set_aside(self) -> pd.DataFrame:
        """Per file: rows read, kept and set aside, with the reasons (read = kept + set aside)."""
        return pd.DataFrame(self.files, columns=["file", "read", "kept", "set_aside", "reasons"])


class _Ledger:
    """Counts what a file gave and what was set aside, so no row goes missing unreported."""

    def __init__(self, records: list[dict], path: Path, root: Path, df: pd.DataFrame):
        self.records, self.df, self.reasons = records, df, {}
        self.name, self.read = str(path.relative_to(root)), len(df)

    def drop(self, mask: pd.Series, reason: str) -> None:
        n = int(mask.sum())
        if n:
            self.reasons[reason] = self.reasons.get(reason, 0) + n
            self.df = self.df[~mask]

    def close(self) -> pd.DataFrame:
        kept = len(self.df)
        if kept + sum(self.reasons.values()) != self.read:
            raise ProjectError("row accounting failed (a bug)", path=self.name)
        self.records.append({"file": self.name, "read": self.read, "kept": kept,
                             "set_aside": self.read - kept,
                             "reasons": "; ".join(f"{k} ({v})" for k, v in
                                                  sorted(self.reasons.items()))})
        return self.df


def read_voice_records(data_dir: Path | str) -> VoiceRecords:
    """Read the voice-bearing fields from a site's raw files (csc/ssd_*.csv, ssda903/*/reviews)."""
    root = Path(data_dir)
    csc = root / "csc"
    files: list[dict] = []

    def open_(folder: Path, stem: str, required: list[str], optional: list[str] = (),
              needed: bool = True):
        path = find_file(folder, stem)
        if path is None:
            if needed:
                raise ProjectError(f"{stem}.csv not found", path=folder)
            return None
        return _Ledger(files, path, root, read_table(path, required, list(optional)))

    led = open_(csc, "ssd_person", ["pers_person_id"], ["pers_dob"])
    led.drop(led.df["pers_person_id"].eq(""), "no pers_person_id")
    led.drop(led.df["pers_person_id"].duplicated(), "duplicate pers_person_id")
    people = led.close()
    dob, _ = parse_dates(people["pers_dob"])  # a bad DOB leaves the age band unknown
    persons = pd.Series(dob.to_numpy(), index=people["pers_person_id"].to_numpy())

    def dated(led: _Ledger, person: str, date: str) -> None:
        led.drop(led.df[person].eq(""), f"no {person}")
        led.drop(~led.df[person].isin(persons.index), "person not in ssd_person")
        parsed, bad = parse_dates(led.df[date])
        led.drop(bad | parsed.isna(), f"{date} missing or not a date")
        led.df = led.df.assign(date=parse_dates(led.df[date])[0])

    cp = open_(csc, "ssd_cp_plans", ["cppl_person_id", "cppl_cp_plan_start_date"],
               ["cppl_cp_plan_end_date"], needed=False)
    plans = pd.DataFrame(columns=["person", "start", "end"])
    if cp is not None:
        dated(cp, "cppl_person_id", "cppl_cp_plan_start_date")
        df = cp.close()
        plans = pd.DataFrame({"person": df["cppl_person_id"], "start": df["date"],
                              "end": parse_dates(df["cppl_cp_plan_end_date"])[0]})

    visits = pd.DataFrame(columns=["person", "date", "seen", "alone", "stage"])
    led = open_(csc, "ssd_cin_visits", ["cinv_person_id", "cinv_cin_visit_date"],
                ["cinv_cin_visit_seen", "cinv_cin_visit_seen_alone"], needed=False)
    if led is not None:
        dated(led, "cinv_person_id", "cinv_cin_visit_date")
        seen, bad_seen = yes_no(led.df["cinv_cin_visit_seen"])
        alone, bad_alone = yes_no(led.df["cinv_cin_visit_seen_alone"])
        led.drop(bad_seen | seen.isna(), "cinv_cin_visit_seen not Y/N")
        led.drop((bad_alone | alone.isna())[led.df.index], "cinv_cin_visit_seen_alone not Y/N")
        df = led.close()
        visits = pd.DataFrame({"person": df["cinv_person_id"], "date": df["date"],
                               "seen": yes_no(df["cinv_cin_visit_seen"])[0].astype(bool),
                               "alone": yes_no(df["cinv_cin_visit_seen_alone"])[0].astype(bool)})
        visits["stage"] = np.where(_on_plan(visits, plans), "CP", "CIN")

    assessments = pd.DataFrame(columns=["person", "date", "seen"])
    led = open_(csc, "ssd_cin_assessments", ["cina_person_id", "cina_assessment_start_date"],
                ["cina_assessment_child_seen"], needed=False)
    if led is not None:
        dated(led, "cina_person_id", "cina_assessment_start_date")
        seen, bad = yes_no(led.df["cina_assessment_child_seen"])
        led.drop(bad | seen.isna(), "cina_assessment_child_seen not Y/N")
        df = led.close()
        assessments = pd.DataFrame({"person": df["cina_person_id"], "date": df["date"],
                                    "seen": yes_no(df["cina_assessment_child_seen"])[0]
                                    .astype(bool)})

    referrals = pd.DataFrame(columns=["person", "date", "source"])
    led = open_(csc, "ssd_cin_episodes", ["cine_person_id", "cine_referral_date"],
                ["cine_referral_source_code"], needed=False)
    if led is not None:
        dated(led, "cine_person_id", "cine_referral_date")
        df = led.close()
        referrals = pd.DataFrame({"person": df["cine_person_id"], "date": df["date"],
                                  "source": df["cine_referral_source_code"].str.upper()})

    answered: set[str] = set()
    methods = pd.Series(dtype=int)
    flags = ["voch_explained_worries", "voch_story_help_understand", "voch_agree_worker",
             "voch_plan_safe", "voch_tablet_help_explain"]
    path = find_file(csc, "ssd_voice_of_child")
    # the SSD table has no method field; a local extract may add one (e.g. Mind of My Own)
    method = _method_column(path) if path is not None else None
    led = open_(csc, "ssd_voice_of_child", ["voch_person_id"],
                flags + ([method] if method else []), needed=False)
    if led is not None:
        led.drop(led.df["voch_person_id"].eq(""), "no voch_person_id")
        led.drop(~led.df["voch_person_id"].isin(persons.index), "person not in ssd_person")
        df = led.close()
        with_answer = df[df[flags].ne("").any(axis=1)]
        answered = set(with_answer["voch_person_id"])
        if method:
            methods = with_answer[method].replace("", "not recorded").value_counts().sort_index()

    icpc, icpc_fields = 0, []
    path = find_file(csc, "ssd_initial_cp_conference")
    if path is not None:
        table = read_table(path, ["icpc_person_id"], [])
        icpc = len(table)
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns \
            if path.suffix.lower() == ".csv" else []
        icpc_fields = [c for c in header if any(w in c.lower() for w in ("attend", "particip"))]

    reviews = []
    for ydir in sorted(p for p in (root / "ssda903").glob("[0-9][0-9][0-9][0-9]") if p.is_dir()):
        led = open_(ydir, "reviews", ["CHILD", "REVIEW", "REVIEW_CODE"], ["DOB"], needed=False)
        if led is None:
            continue
        led.drop(led.df["CHILD"].eq(""), "no CHILD")
        parsed, bad = parse_dates(led.df["REVIEW"])
        led.drop(bad | parsed.isna(), "REVIEW missing or not a date")
        code = led.df["REVIEW_CODE"].str.upper().str.replace(" ", "")
        led.drop(~code.isin(PN_MEANING), "REVIEW_CODE not PN0-PN7")
        df = led.close()
        reviews.append(pd.DataFrame({"child": ydir.name + ":" + df["CHILD"],
                                     "date": parse_dates(df["REVIEW"])[0],
                                     "dob": parse_dates(df["DOB"])[0],
                                     "code": df["REVIEW_CODE"].str.upper().str.replace(" ", "")}))
    reviews_df = pd.concat(reviews, ignore_index=True) if reviews else pd.DataFrame(
        columns=["child", "date", "dob", "code"])
    return VoiceRecords(reviews=reviews_df, visits=visits, assessments=assessments,
                        referrals=referrals, questionnaire=answered, persons=persons,
                        icpc=icpc, icpc_fields=icpc_fields, files=files, methods=methods)


def _method_column(path: Path) -> str | None:
    """A column saying how a voice-of-the-child answer was given, if the extract has one."""
    if path.suffix.lower() != ".csv":
        return None
    try:
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig").columns
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None  # read_table reports what is wrong with the file
    found = [c for c in header if any(w in c.lower() for w in ("method", "momo", "tool"))]
    return found[0] if found else None


def questionnaire_methods(records: VoiceRecords) -> pd.DataFrame:
    """Voice-of-the-child answers by how they were given (empty when no method is recorded)."""
    return pd.DataFrame({"method": records.methods.index.astype(str),
                         "answers": records.methods.to_numpy(dtype=int)})


def _on_plan(visits: pd.DataFrame, plans: pd.DataFrame) -> np.ndarray:
    """Whether each visit falls inside one of the child's CP plans."""
    if plans.empty or visits.empty:
        return np.zeros(len(visits), dtype=bool)
    m = visits.reset_index().merge(plans, on="person", how="inner")
    inside = (m["date"] >= m["start"]) & (m["end"].isna() | (m["date"] <= m["end"]))
    hit = set(m.loc[inside, "index"])
    return visits.reset_index()["index"].isin(hit).to_numpy()


def collection_year(dates: pd.Series) -> pd.Series:
    """The year the collection ends (31 March): 2023 for April 2022 to March 2023."""
    d = pd.to_datetime(dates)
    return (d.dt.year + (d.dt.month >= 4)).astype("Int64")


def age_band(dob: pd.Series, on: pd.Series) -> pd.Series:
    """Age band at a date (whole years); 'unknown' without a date of birth."""
    dob, on = pd.to_datetime(dob), pd.to_datetime(on)
    age = on.dt.year - dob.dt.year - ((on.dt.month < dob.dt.month) | (
        (on.dt.month == dob.dt.month) & (on.dt.day < dob.dt.day))).astype(int)
    out = pd.Series("unknown", index=dob.index, dtype=object)
    for lo, hi, name in AGE_BANDS:
        out[(age >= lo) & (age <= hi)] = name
    return out


def voice_coverage(records: VoiceRecords) -> pd.DataFrame:
    """Coverage by measure, stage, collection year and age band: records, with_voice."""
    parts = []

    def add(measure: str, frame: pd.DataFrame, dob: pd.Series, flag: pd.Series,
            stage: pd.Series | str | None = None):
        if frame.empty:
            return
        parts.append(pd.DataFrame({
            "measure": measure,
            "stage": stage if stage is not None else MEASURES[measure][0],
            "year": collection_year(frame["date"]).to_numpy(),
            "age_band": age_band(dob.reset_index(drop=True),
                                 frame["date"].reset_index(drop=True)).to_numpy(),
            "flag": np.asarray(flag, dtype=bool)}))

    r = records.reviews
    over4 = r[r["code"] != "PN0"]
    add("review_views_conveyed", over4, over4["dob"], over4["code"].isin(PN_CONVEYED))
    add("review_spoke_for_self", over4, over4["dob"], over4["code"].eq("PN1"))
    v = records.visits
    vdob = v["person"].map(records.persons)
    add("visit_seen", v, vdob, v["seen"], v["stage"].to_numpy())
    add("visit_seen_alone", v, vdob, v["alone"], v["stage"].to_numpy())
    a = records.assessments
    add("assessment_child_seen", a, a["person"].map(records.persons), a["seen"])
    f = records.referrals
    add("referral_by_child_or_family", f, f["person"].map(records.persons),
        f["source"].isin(SELF_OR_FAMILY))
    if not f.empty:  # one row per child referred, at their latest referral
        latest = f.sort_values("date").drop_duplicates("person", keep="last")
        add("voice_questionnaire", latest, latest["person"].map(records.persons),
            latest["person"].isin(records.questionnaire))
    if not parts:
        return pd.DataFrame(columns=COVERAGE_COLUMNS)
    df = pd.concat(parts, ignore_index=True)
    out = (df.groupby(["measure", "stage", "year", "age_band"], dropna=False)
           .agg(records=("flag", "size"), with_voice=("flag", "sum")).reset_index())
    order = {m: i for i, m in enumerate(MEASURES)}
    out = out.sort_values(["measure", "stage", "year", "age_band"],
                          key=lambda s: s.map(order) if s.name == "measure" else s.astype(str))
    return out.reset_index(drop=True)[COVERAGE_COLUMNS]


def coverage_summary(coverage: pd.DataFrame, by: tuple[str, ...] = ("stage",)) -> pd.DataFrame:
    """Coverage totals per measure (and ``by`` columns): records, with_voice, pct."""
    keys = ["measure", *by]
    out = coverage.groupby(keys, sort=False)[["records", "with_voice"]].sum().reset_index()
    out["description"] = out["measure"].map(lambda m: MEASURES[m][1])
    out["pct"] = (100 * out["with_voice"] / out["records"]).round(1)
    return out


def review_participation(records: VoiceRecords) -> pd.DataFrame:
    """Looked-after reviews by participation code and collection year."""
    r = records.reviews
    if r.empty:
        return pd.DataFrame(columns=["year", "code", "meaning", "reviews"])
    out = (r.assign(year=collection_year(r["date"])).groupby(["year", "code"]).size()
           .rename("reviews").reset_index())
    grid = pd.MultiIndex.from_product([sorted(out["year"].unique()), list(PN_MEANING)],
                                      names=["year", "code"])
    out = out.set_index(["year", "code"]).reindex(grid, fill_value=0).reset_index()
    out["meaning"] = out["code"].map(PN_MEANING)
    return out[["year", "code", "meaning", "reviews"]]


def recorded_and_missing(catalogue: pd.DataFrame, measure_pct: dict[str, object],
                         records: VoiceRecords, text_coverage: pd.DataFrame | None = None
                         ) -> pd.DataFrame:
    """Per stage: where voice is recorded (and how often), and where it could be and isn't.

    ``measure_pct``: the published share per measure (a number, or a suppression symbol).
    ``text_coverage`` (stage, pct: the share of case notes with the child's voice) is set
    beside the structured fields when given.
    """
    rows = []
    for stage, g in catalogue.groupby("stage", sort=False):
        recorded = []
        for r in g[g["carries_voice"] != "no"].itertuples():
            figure = f" ({measure_pct[r.measure]}%)" if r.measure in measure_pct else ""
            recorded.append(f"{r.table} {r.field}{figure}")
        missing = [r.opportunity for r in g.itertuples() if r.opportunity]
        if stage == "CP" and records.icpc and not records.icpc_fields:
            missing.append("initial conferences: no attendance field")
        rows.append({"stage": stage, "recorded": "; ".join(recorded) or "nothing",
                     "could_be_and_is_not": "; ".join(missing) or "",
                     "fields_with_voice": int((g["carries_voice"] == "yes").sum()),
                     "fields_partial": int((g["carries_voice"] == "partial").sum()),
                     "fields_without": int((g["carries_voice"] == "no").sum())})
    out = pd.DataFrame(rows)
    if text_coverage is not None and len(text_coverage):
        text = text_coverage.set_index("stage")["pct"]
        out["case_notes_with_child_voice_pct"] = out["stage"].map(text)
    return out


# The voice notebook's stages (voice.coverage.STAGES) that make up each stage of the map.
TEXT_STAGES = {"contact/referral": ["referral"], "assessment": ["assessment"], "S47": ["S47"],
               "CIN": ["CIN"], "CP": ["CP"], "CIN/CP": ["CIN", "CP"], "CLA": ["CLA"],
               "CIN/CP/CLA": ["CIN", "CP", "CLA"], "early help": ["early help"]}


def text_voice_coverage(data_dir: Path | str) -> pd.DataFrame:
    """Case notes with the child's voice (any form), per stage of the map, by the voice
    notebook's own coder and definitions (voice.autocode, voice.coverage): stage, notes,
    with_child_voice, pct."""
    from .voice import autocode
    from .voice.coverage import record_flags

    path = find_file(Path(data_dir) / "case_notes", "case_notes")
    if path is None:
        return pd.DataFrame(columns=["stage", "notes", "with_child_voice", "pct"])
    raw = read_table(path, ["NoteID", "NoteText"],
                     ["System", "PersonID", "NoteDate", "NoteType", "Stage"])
    texts = pd.DataFrame({"text_id": raw["NoteID"], "record_id": raw["System"] + ":" +
                          raw["PersonID"], "source": raw["System"], "note_type": raw["NoteType"],
                          "stage": raw["Stage"], "date": parse_dates(raw["NoteDate"])[0],
                          "text": raw["NoteText"]})
    flags = record_flags(texts, autocode(texts.rename(columns={"text_id": "note_id"})))
    rows = []
    for name, parts in TEXT_STAGES.items():
        mask = flags["stage"].isin(parts)
        n, k = int(mask.sum()), int(flags.loc[mask, "cyp_voice"].sum())
        rows.append({"stage": name, "notes": n, "with_child_voice": k,
                     "pct": round(100 * k / n, 1) if n else float("nan")})
    return pd.DataFrame(rows)
