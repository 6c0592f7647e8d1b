"""The voice map of the structured data: where a child's, a parent's or a practitioner's voice
is recorded in the council's systems, in what form, how often, and where it could be and is not.

The catalogue (voice_map.yaml) describes every source and field of the data model. Coverage
is computed from the canonical tables (sources/): SSDA903 review participation codes (PN0-PN7),
children seen and seen alone at CIN/CP visits and assessments (csc_child_seen), the SSD
voice-of-the-child questionnaire, and referrals made by the child or family, by stage, age
band and collection year. What the readers set aside is in the validation report; what a
measure cannot count (a visit with no seen flag, a review with no date or code) is counted here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd
import yaml

from .. import vocabulary
from ..disclosure_audit import Family, same_sums
from ..errors import ProjectError
from ..sources.schemas import REVIEW_CODES, VOICE_OF_CHILD

S = vocabulary.STAGES
# The map's stages: the vocabulary's, alone or together where one field serves several.
CIN_CP = f"{S['cin_plan']} / {S['cp_plan']}"
CIN_CP_CLA = f"{CIN_CP} / {S['cla_episode']}"
CONTACT_REFERRAL = f"{S['contact']} / {S['referral']}"
PN_MEANING = dict(zip(REVIEW_CODES, [
    "Child under 4 at the review",
    "Attends and speaks for themself",
    "Attends; an advocate speaks for them",
    "Attends; conveys their view non-verbally",
    "Attends; view not conveyed",
    "Does not attend; briefs an advocate",
    "Does not attend; view conveyed by a facilitative medium",
    "Does not attend; view not conveyed",
], strict=True))
PN_CONVEYED = {"PN1", "PN2", "PN3", "PN5", "PN6"}
SELF_OR_FAMILY = {"1A", "1C"}  # CIN referral source: family/relative/carer; the child themself
MEASURES = {
    "review_views_conveyed": (S["cla_episode"], "Looked-after reviews (child 4+) where the child's view "
                              "was conveyed (PN1, PN2, PN3, PN5, PN6)"),
    "review_spoke_for_self": (S["cla_episode"], "Looked-after reviews (child 4+) where the child attended "
                              "and spoke for themself (PN1)"),
    "visit_seen": (CIN_CP, "CIN and CP visits where the child was seen"),
    "visit_seen_alone": (CIN_CP, "CIN and CP visits where the child was seen alone"),
    "assessment_child_seen": (S["assessment"], "Assessments where the child was seen"),
    "voice_questionnaire": (CIN_CP_CLA, "Children referred who have a voice-of-the-child "
                            "questionnaire answer"),
    "referral_by_child_or_family": (CONTACT_REFERRAL, "Referrals made by the child or their "
                                    "family (sources 1A, 1C)"),
}
COVERAGE_COLUMNS = ["measure", "stage", "year", "age_band", "records", "with_voice"]


def load_catalogue() -> pd.DataFrame:
    """The static catalogue: source, table, field, stage, carries_voice, whose, form, measure,
    note, opportunity."""
    data = yaml.safe_load(resources.files("hampshire_research.voice").joinpath(
        "voice_map.yaml").read_text(encoding="utf-8"))
    cols = ["source", "table", "field", "stage", "carries_voice", "whose", "form", "measure",
            "note", "opportunity"]
    df = pd.DataFrame(data["fields"]).reindex(columns=cols).fillna("")
    bad = set(df["carries_voice"]) - {"yes", "partial", "no"}
    if bad:
        raise ProjectError(f"voice_map.yaml: carries_voice must be yes, partial or no, not {bad}")
    return df


# The raw files each measure rests on (their rows in the validation report).
VOICE_FILES = r"^(csc/ssd_(person|cp_plans|cin_visits|cin_assessments|cin_episodes|" \
    r"voice_of_child|initial_cp_conference)|ssda903/\d{4}/reviews)\.(csv|xlsx|xlsm)$"
ROWS_READ_COLUMNS = ["file", "read", "kept", "quarantined", "reasons", "not_counted"]


@dataclass
class VoiceRecords:
    """The rows the coverage is computed from (keyed by canonical record_id), and their ledger."""

    reviews: pd.DataFrame  # child, date, dob, code
    visits: pd.DataFrame  # person, date, seen, alone, stage
    assessments: pd.DataFrame  # person, date, seen
    referrals: pd.DataFrame  # person, date, source
    questionnaire: set[str]  # persons with at least one answer
    persons: pd.Series  # dob by person id
    icpc: int = 0  # initial conferences (no attendance field to count)
    rows_read: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=ROWS_READ_COLUMNS))
    methods: pd.Series = field(default_factory=lambda: pd.Series(dtype=int))  # answers by method


def read_voice_records(tables: dict[str, pd.DataFrame], report: pd.DataFrame) -> VoiceRecords:
    """The voice-bearing rows of a site's canonical tables (sources.load_canonical), with the
    validation report's rows for the files they came from and what each measure leaves out."""
    for name in ("persons", "events"):
        if name not in tables:
            raise ProjectError(f"no canonical {name!r} table: run `hampshire-research validate`")
    people = tables["persons"]
    people = people[people["source"] == "csc"]
    persons = pd.Series(people["dob"].to_numpy(), index=people["record_id"].to_numpy())
    events = tables["events"]
    csc = events[events["source"] == "csc"]

    def of(kind: str) -> pd.DataFrame:
        return csc[csc["event_type"] == kind]

    not_counted: dict[str, dict[str, int]] = {}

    def leave_out(df: pd.DataFrame, mask: pd.Series, file: str | pd.Series, why: str
                  ) -> pd.DataFrame:
        files = pd.Series(file, index=df.index)[mask.to_numpy(dtype=bool)]
        for f, n in files.value_counts().items():
            reasons = not_counted.setdefault(f, {})
            reasons[why] = reasons.get(why, 0) + int(n)
        return df[~mask.to_numpy(dtype=bool)]

    plans = of("cp_plan").rename(columns={"record_id": "person", "start_date": "start",
                                          "end_date": "end"})[["person", "start", "end"]]
    seen = tables.get("csc_child_seen", pd.DataFrame(columns=[
        "record_id", "event_type", "date", "child_seen", "seen_alone"]))
    v = seen[seen["event_type"] == "cin_visit"]
    visits = pd.DataFrame({"person": v["record_id"], "date": v["date"], "seen": v["child_seen"],
                           "alone": v["seen_alone"]}).reset_index(drop=True)
    visits["stage"] = np.where(_on_plan(visits, plans), S["cp_plan"], S["cin_plan"])
    for col, label in (("seen", "cinv_cin_visit_seen"), ("alone", "cinv_cin_visit_seen_alone")):
        leave_out(visits, visits[col].isna(), "csc/ssd_cin_visits", f"{label} not Y/N")
    a = seen[seen["event_type"] == "assessment"]
    assessments = pd.DataFrame({"person": a["record_id"], "date": a["date"],
                                "seen": a["child_seen"]})
    assessments = leave_out(assessments, assessments["seen"].isna(), "csc/ssd_cin_assessments",
                            "cina_assessment_child_seen not Y/N")
    assessments = assessments.assign(seen=assessments["seen"].astype(bool))
    r = of("referral")
    referrals = pd.DataFrame({"person": r["record_id"], "date": r["start_date"],
                              "source": r["referral_source"].fillna("").str.upper()})

    answered: set[str] = set()
    methods = pd.Series(dtype=int)
    voch = tables.get("csc_voice_of_child")
    if voch is not None:
        with_answer = voch[voch[VOICE_OF_CHILD].fillna("").ne("").any(axis=1)]
        answered = set(with_answer["record_id"])
        method = with_answer["voch_method"].fillna("")
        if method.ne("").any():  # the SSD table has no method field; a local extract may add one
            methods = method.replace("", "not recorded").value_counts().sort_index()

    rev = tables.get("ssda903_reviews", pd.DataFrame(columns=[
        "record_id", "REVIEW", "DOB", "REVIEW_CODE", "collection_year"]))
    reviews = pd.DataFrame({"child": rev["record_id"], "date": rev["REVIEW"], "dob": rev["DOB"],
                            "code": rev["REVIEW_CODE"],
                            "file": "ssda903/" + rev["collection_year"].astype(str) + "/reviews"})
    reviews = leave_out(reviews, reviews["date"].isna(), reviews["file"], "no REVIEW date")
    reviews = leave_out(reviews, reviews["code"].isna(), reviews["file"],
                        "REVIEW_CODE not PN0-PN7").drop(columns="file")
    return VoiceRecords(reviews=reviews.reset_index(drop=True), visits=visits,
                        assessments=assessments.reset_index(drop=True),
                        referrals=referrals.reset_index(drop=True), questionnaire=answered,
                        persons=persons, icpc=len(of("icpc")),
                        rows_read=_rows_read(report, not_counted), methods=methods)


def _rows_read(report: pd.DataFrame, not_counted: dict[str, dict[str, int]]) -> pd.DataFrame:
    """The validation report's rows for the voice map's files, with what the map leaves out."""
    rows = report[report["file"].str.match(VOICE_FILES)].copy()
    rows["reasons"] = ["; ".join(filter(None, (q, f))) for q, f in
                       zip(rows["quarantine_reasons"], rows["flag_reasons"], strict=True)]
    stem = rows["file"].str.replace(r"\.\w+$", "", regex=True)
    rows["not_counted"] = stem.map(lambda k: "; ".join(
        f"{why} ({n})" for why, n in sorted(not_counted.get(k, {}).items()))).fillna("")
    return rows[ROWS_READ_COLUMNS].reset_index(drop=True)


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
            "year": vocabulary.collection_year(frame["date"]).to_numpy(),
            "age_band": vocabulary.age_band_on(dob.reset_index(drop=True),
                                 frame["date"].reset_index(drop=True)).to_numpy(),
            "flag": np.asarray(flag, dtype=bool)}))

    r = records.reviews
    over4 = r[r["code"] != "PN0"]
    add("review_views_conveyed", over4, over4["dob"], over4["code"].isin(PN_CONVEYED))
    add("review_spoke_for_self", over4, over4["dob"], over4["code"].eq("PN1"))
    for measure, col in (("visit_seen", "seen"), ("visit_seen_alone", "alone")):
        v = records.visits[records.visits[col].notna()]
        add(measure, v, v["person"].map(records.persons), v[col], v["stage"].to_numpy())
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
    out = (r.assign(year=vocabulary.collection_year(r["date"])).groupby(["year", "code"]).size()
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
        if stage == S["cp_plan"] and records.icpc:
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


# The voice notebook's stages (voice.coverage.STAGES) that make up each stage of the map: a
# combined stage ("CIN plan / CP plan") is its parts.
TEXT_STAGES = {stage: stage.split(" / ") for stage in [
    CONTACT_REFERRAL, S["assessment"], S["s47"], S["cin_plan"], S["cp_plan"], CIN_CP,
    S["cla_episode"], CIN_CP_CLA, S["early_help"]]}


def text_voice_coverage(texts: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """Case notes (the canonical texts table) with the child's voice (any form), per stage of
    the map, by the voice notebook's own codes (the build's, voice.coded) and definitions
    (voice.coverage): stage, notes, with_child_voice, pct."""
    from .coverage import record_flags

    flags = record_flags(texts, segments)
    rows = []
    for name, parts in TEXT_STAGES.items():
        mask = flags["stage"].isin(parts)
        n, k = int(mask.sum()), int(flags.loc[mask, "cyp_voice"].sum())
        rows.append({"stage": name, "notes": n, "with_child_voice": k,
                     "pct": round(100 * k / n, 1) if n else float("nan")})
    return pd.DataFrame(rows)


_COVERAGE = {"counts": ["records", "with_voice"], "derived": {"pct": ["records", "with_voice"]}}
# How each table of the voice map (notebook 06) is protected.
TABLES = {
    "voicemap_catalogue": {"counts": []},
    "voicemap_rows_read": {"counts": ["read", "kept", "quarantined"]},
    "voicemap_coverage": _COVERAGE,
    "voicemap_coverage_by_year": _COVERAGE,
    "voicemap_coverage_by_age": _COVERAGE,
    "voicemap_coverage_overall": _COVERAGE,
    "voicemap_review_codes": {"counts": ["reviews"]},
    "voicemap_questionnaire_methods": {"counts": ["answers"]},
    "voicemap_case_notes": {"counts": ["notes", "with_child_voice"],
                            "derived": {"pct": ["notes", "with_child_voice"]}},
    "voicemap_recorded_and_missing": {"counts": []},
}




def _voice_map(t: dict[str, pd.DataFrame]) -> list:
    """Each measure's records and records with voice, by year and by age band, add up to its
    stages', which add up to its overall figure; each year's reviews are its participation
    codes (PN0 too: a reviews file's rows), the reviews of children of 4 and over PN1-PN7;
    a file's rows read are its rows kept and quarantined."""
    read = t.get("voicemap_rows_read")
    eqs = [] if read is None else [
        {("voicemap_rows_read", int(i), "kept"): 1, ("voicemap_rows_read", int(i), "quarantined"): 1,
         ("voicemap_rows_read", int(i), "read"): -1} for i in read.index]
    stages = t.get("voicemap_coverage")
    for col in ("records", "with_voice"):
        if stages is not None:
            for name in ("voicemap_coverage_by_year", "voicemap_coverage_by_age"):
                if name in t:
                    eqs += same_sums((name, t[name], col), ("voicemap_coverage", stages, col),
                                     ["measure", "stage"])
            if "voicemap_coverage_overall" in t:
                eqs += same_sums(("voicemap_coverage", stages, col),
                                 ("voicemap_coverage_overall", t["voicemap_coverage_overall"],
                                  col), ["measure"])
    codes, by_year = t.get("voicemap_review_codes"), t.get("voicemap_coverage_by_year")
    if codes is None:
        return eqs
    if read is not None:
        files = read.assign(year=read["file"].str.extract(r"ssda903/(\d{4})/reviews\.csv")[0])
        eqs += same_sums(("voicemap_review_codes", codes, "reviews"),
                         ("voicemap_rows_read", files.dropna(subset=["year"]), "read"), ["year"])
    for measure, col, pick in (("review_views_conveyed", "records", codes["code"] != "PN0"),
                               ("review_views_conveyed", "with_voice",
                                codes["code"].isin(PN_CONVEYED)),
                               ("review_spoke_for_self", "records", codes["code"] != "PN0"),
                               ("review_spoke_for_self", "with_voice", codes["code"] == "PN1")):
        if by_year is not None:
            eqs += same_sums(("voicemap_review_codes", codes[pick], "reviews"),
                             ("voicemap_coverage_by_year", by_year[by_year["measure"] == measure],
                              col), ["year"])
        # and over all years, the stage's total: this holds whether or not the years are out,
        # so the codes are protected against the totals before the years are published
        if stages is not None:
            eqs += same_sums(("voicemap_review_codes", codes[pick], "reviews"),
                             ("voicemap_coverage", stages[stages["measure"] == measure], col))
    return eqs


# Tables that share counts, in the order notebook 06 publishes them (see disclosure_audit).
# The review codes go before the coverage by year: a year's reviews of under-4s (PN0) are its
# rows read less its reviews of children of 4 and over, so the coarser table must be widened
# against the finer one, not the other way round (which cannot be done once both are out).
FAMILIES = [Family("voice map", ("voicemap_rows_read", "voicemap_coverage",
                                 "voicemap_review_codes", "voicemap_coverage_by_year",
                                 "voicemap_coverage_by_age", "voicemap_coverage_overall"),
                   _voice_map)]


def publish(df: pd.DataFrame, name: str, params, out_dir=None) -> pd.DataFrame:
    """Publish one of the voice map's tables (``TABLES``) through disclosure control."""
    from ..publish import publish_table

    return publish_table(df, name, params, out_dir=out_dir, **TABLES[name])
