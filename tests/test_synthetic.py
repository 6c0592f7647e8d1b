"""The synthetic generator: identifiers, layout, determinism, identity noise, gold voice codes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hampshire_research.params import load_site
from hampshire_research.synthetic import generate_site
from hampshire_research.synthetic.ids import (
    make_nhs_numbers,
    make_upns,
    nhs_is_valid,
    upn_check_letter,
    upn_is_valid,
)
from hampshire_research.synthetic.settings import DEFAULTS

SSD_TABLES = ["ssd_person", "ssd_address", "ssd_contacts", "ssd_cin_episodes",
              "ssd_cin_assessments", "ssd_assessment_factors", "ssd_s47_enquiry",
              "ssd_initial_cp_conference", "ssd_cp_plans", "ssd_cin_plans", "ssd_cin_visits",
              "ssd_cla_episodes", "ssd_voice_of_child"]
FILES_903 = ["header", "episodes", "reviews", "uasc", "oc2", "oc3", "ad1", "placed_for_adoption",
             "previous_permanence", "missing", "sw_episodes"]
CODES = {"who": {"W.CYP", "W.SIB", "W.PAR", "W.FAM", "W.PRAC", "W.PROF"},
         "form": {"F.DQ", "F.RS", "F.WF", "F.NV", "F.MED"},
         "absence": {"A.NOTSEEN", "A.NOTALONE", "A.NOTSOUGHT", "A.TOOYOUNG", "A.DECLINED",
                     "A.BARRIER"}}


def test_upn_check_letter_matches_the_published_example():
    assert upn_check_letter("801200005001") == "B"
    assert upn_is_valid("B801200005001")
    assert not upn_is_valid("C801200005001")


def test_generated_upns_and_nhs_numbers_carry_valid_check_characters():
    rng = np.random.default_rng(1)
    n = 5000
    upns = make_upns(np.full(n, 850), rng.integers(2000, 2999, n), rng.integers(10, 25, n),
                     rng.integers(1, 999, n))
    assert all(upn_is_valid(u) for u in upns)
    nhs = make_nhs_numbers(rng, n)
    assert len(set(nhs)) == n
    assert all(x.startswith("999") and nhs_is_valid(x) for x in nhs)


def _digest(folder: Path) -> dict[str, str]:
    return {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sorted(folder.rglob("*")) if f.is_file()}


SAMPLE_SCALE = 0.01
# written by the transcripts generator (issue 9), which keeps its own tests
NOT_OURS = ("transcripts/", "truth/themes_gold.csv", "truth/transcript_identifiers.csv")


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("ny")
    summary = generate_site(load_site("north_yorkshire"), SAMPLE_SCALE, None, out)
    return out, summary


@pytest.fixture(scope="module")
def hampshire_sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("hampshire")
    generate_site(load_site("hampshire"), SAMPLE_SCALE, None, out)
    return out


@pytest.mark.parametrize("site", ["hampshire", "north_yorkshire"])
def test_committed_sample_is_what_the_generator_writes(site, small, hampshire_sample):
    fresh = hampshire_sample if site == "hampshire" else small[0]
    committed = load_site(site).data_path
    ours = {k: v for k, v in _digest(fresh).items() if not k.startswith(NOT_OURS)}
    assert all((committed / k).is_file() for k in ours), "regenerate the committed sample"
    stale = [k for k, v in ours.items()
             if hashlib.sha256((committed / k).read_bytes()).hexdigest() != v]
    assert stale == [], "regenerate the committed sample (hampshire-research generate)"


def test_same_site_scale_and_seed_give_byte_identical_files(small, tmp_path):
    out, _ = small
    again = tmp_path / "again"
    generate_site(load_site("north_yorkshire"), 0.01, None, again)
    assert _digest(out) == _digest(again)
    other = tmp_path / "other_seed"
    generate_site(load_site("north_yorkshire"), 0.01, 7, other)
    a, b = _digest(out), _digest(other)
    assert a["csc/ssd_person.csv"] != b["csc/ssd_person.csv"]


def test_layout_is_the_contract(small):
    out, summary = small
    p = load_site("north_yorkshire")
    marker = json.loads((out / "synthetic.json").read_text())
    assert marker["generator"] == "hampshire_research.synthetic" and marker["scale"] == 0.01
    for t in SSD_TABLES:
        assert (out / "csc" / f"{t}.csv").is_file(), t
    for y in p.study_window.collection_years:
        assert (out / "cin_census" / f"cin_census_{y}.xml").is_file()
        for f in FILES_903:
            assert (out / "ssda903" / str(y) / f"{f}.csv").is_file(), (y, f)
    for ay in p.study_window.academic_years:
        label = ay.replace("/", "-")
        for term in ("autumn", "spring", "summer"):
            pupils = pd.read_csv(out / "school_census" / label / term / "pupils.csv", dtype=str)
            assert list(pupils.columns) == [
                "UPN", "FormerUPN", "Surname", "Forename", "DOB", "Sex", "Ethnicity",
                "FSMeligible", "SENprovision", "PrimarySENtype", "NCyearActual", "URN", "LAESTAB",
                "Postcode", "EnrolStatus"]
            assert pupils["UPN"].map(upn_is_valid).all()
            assert pupils["UPN"].is_unique
        assert (out / "school_census" / label / "exclusions.csv").is_file()
    eh = pd.read_csv(out / "early_help" / "early_help_episodes.csv", dtype=str)
    assert list(eh.columns) == ["EHPersonID", "EpisodeID", "Forename", "Surname", "DOB", "Sex",
                                "Postcode", "UPN", "NHSNumber", "StartDate", "EndDate", "Reason",
                                "LeadPractitionerRole", "Outcome"]
    notes = pd.read_csv(out / "case_notes" / "case_notes.csv", dtype=str)
    assert list(notes.columns) == ["NoteID", "System", "PersonID", "NoteDate", "NoteType", "Stage",
                                   "AuthorRole", "NoteText"]
    assert summary["children"] > 1000


def test_linkage_key_covers_every_source_record(small):
    out, _ = small
    key = pd.read_csv(out / "truth" / "linkage_key.csv", dtype=str)
    assert key["record_id"].is_unique
    person = pd.read_csv(out / "csc" / "ssd_person.csv", dtype=str)
    assert set("csc:" + person["pers_person_id"]) == set(key.loc[key["source"] == "csc", "record_id"])
    eh = pd.read_csv(out / "early_help" / "early_help_episodes.csv", dtype=str)
    assert set("early_help:" + eh["EHPersonID"]) == set(key.loc[key["source"] == "early_help", "record_id"])
    pupils = pd.read_csv(out / "school_census" / "2024-25" / "autumn" / "pupils.csv", dtype=str)
    assert set("school_census:" + pupils["UPN"]) <= set(key["record_id"])
    for y in range(2020, 2026):
        h = pd.read_csv(out / "ssda903" / str(y) / "header.csv", dtype=str)
        assert set(f"ssda903:{y}:" + h["CHILD"]) <= set(key["record_id"])
    # the CSC holds duplicate person records: some children have two
    csc = key[key["source"] == "csc"]
    assert csc["child_id"].duplicated().any()


def test_gold_voice_codes_are_exact_sentences_with_codebook_ids(small):
    out, _ = small
    notes = pd.read_csv(out / "case_notes" / "case_notes.csv", dtype=str, keep_default_na=False)
    gold = pd.read_csv(out / "truth" / "voice_gold.csv", dtype=str, keep_default_na=False)
    text = dict(zip(notes["NoteID"], notes["NoteText"]))
    assert set(gold["note_id"]) <= set(text)
    assert gold["who"].isin(CODES["who"]).all()
    voice = gold["absence"] == ""
    assert gold.loc[voice & (gold["who"] != "W.PRAC"), "form"].isin(CODES["form"]).all()
    assert (gold.loc[gold["who"] == "W.PRAC", "form"] == "").all()
    assert gold.loc[~voice, "absence"].isin(CODES["absence"]).all()
    assert (gold.loc[~voice, "form"] == "").all()
    for row in gold.itertuples():
        s = text[row.note_id][int(row.start):int(row.end)]
        assert s and s == s.strip() and s[-1] in '.!"', (row.note_id, s)
    # every code of the codebook occurs, and wording varies
    for dim in ("who", "form", "absence"):
        assert CODES[dim] <= set(gold[dim]), dim
    sentences = [text[r.note_id][int(r.start):int(r.end)] for r in gold.itertuples()]
    assert len(set(sentences)) > 0.6 * len(sentences)


def test_identity_noise_rates_are_as_parameterised(hampshire_sample):
    out = hampshire_sample
    key = pd.read_csv(out / "truth" / "linkage_key.csv", dtype=str)
    child_of = dict(zip(key["record_id"], key["child_id"]))
    # truth identity from the school census (exact apart from tiny noise)
    truth = {}
    for f in sorted((out / "school_census").rglob("pupils.csv")):
        p = pd.read_csv(f, dtype=str, keep_default_na=False)
        for upn, dob in zip(p["UPN"], p["DOB"]):
            truth[child_of["school_census:" + upn]] = (upn, dob)
    eh = pd.read_csv(out / "early_help" / "early_help_episodes.csv", dtype=str,
                     keep_default_na=False).drop_duplicates("EHPersonID")
    noise = DEFAULTS.noise.early_help
    assert abs((eh["NHSNumber"] == "").mean() - noise.nhs_missing) < 0.04
    assert abs((eh["UPN"] == "").mean() - noise.upn_missing) < 0.05
    eh["child"] = ("early_help:" + eh["EHPersonID"]).map(child_of)
    known = eh[eh["child"].isin(truth)]
    same_dob = (known["DOB"] == known["child"].map(lambda c: truth[c][1])).mean()
    expected = 1 - noise.dob_day_month_swap * 0.35 - noise.dob_off_by_days
    assert abs(same_dob - expected) < 0.03
    person = pd.read_csv(out / "csc" / "ssd_person.csv", dtype=str, keep_default_na=False)
    csc = DEFAULTS.noise.csc
    assert abs((person["pers_common_child_id"] == "").mean() - csc.nhs_missing) < 0.04
    assert person["pers_common_child_id"].loc[lambda s: s != ""].map(nhs_is_valid).all()
    # a second person record is opened for duplicate_person of the children seen more than once
    contacts = pd.read_csv(out / "csc" / "ssd_contacts.csv", dtype=str)
    contacts["child"] = ("csc:" + contacts["cont_person_id"]).map(child_of)
    twice = contacts.groupby("child").size().loc[lambda s: s > 1].index
    kids = key[(key["source"] == "csc") & key["child_id"].isin(twice)]["child_id"]
    dup_share = kids.duplicated().sum() / kids.nunique()
    assert dup_share == pytest.approx(csc.duplicate_person, abs=0.015)
    links = pd.read_csv(out / "csc" / "ssd_linked_identifiers.csv", dtype=str)
    bad_upn = (~links["link_identifier_value"].map(upn_is_valid)).mean()
    assert abs(bad_upn - csc.upn_wrong / (1 - csc.upn_missing)) < 0.02
    assert (person["pers_upn_unknown"].isin(["", "UN1", "UN2", "UN4"])).all()
