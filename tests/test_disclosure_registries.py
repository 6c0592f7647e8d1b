"""Each analysis's registry of published tables: every spec names columns of the frame the
package builds for it, every such frame has a spec, and under the DfE profile a count of 1-5
comes out as "c" together with what rests on it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hampshire_research import disclosure, site_profile, themes
from hampshire_research.params import load_site
from hampshire_research.sources import load_canonical, load_report, validate_site
from hampshire_research.sources.transcripts import read_transcripts
from hampshire_research.synthetic.transcripts import write_transcripts
from hampshire_research.themes import tables as theme_tables
from hampshire_research.voice import autocode
from hampshire_research.voice import coverage as cov
from hampshire_research.voice import tables as voice_tables
from hampshire_research.voice import voice_map as vm
from hampshire_research.voice.data import evaluate_against_gold

TINY = Path(__file__).parent / "fixtures" / "sources" / "tiny_site"


@pytest.fixture(scope="module")
def params():
    return load_site("hampshire")


@pytest.fixture(scope="module")
def built(params, tmp_path_factory):
    """The hand-made tiny site (with looked-after reviews added), through the sources readers."""
    site, out = tmp_path_factory.mktemp("site") / "tiny", tmp_path_factory.mktemp("derived")
    shutil.copytree(TINY, site)
    year = sorted((site / "ssda903").iterdir())[0]
    child = pd.read_csv(year / "header.csv", dtype=str)["CHILD"].iloc[0]
    (year / "reviews.csv").write_text(f"CHILD,DOB,REVIEW,REVIEW_CODE\n{child},,01/06/2022,PN1\n")
    validate_site(params, site, out)
    return out, load_canonical(out / "canonical"), load_report(out)


def check(registry: dict, frames: dict[str, pd.DataFrame]) -> None:
    assert set(frames) == set(registry)
    for name, frame in frames.items():
        spec = registry[name]
        named = [*spec["counts"], *spec.get("derived", {}), *(spec.get("within") or [])]
        for rests_on in spec.get("derived", {}).values():
            named += [rests_on] if isinstance(rests_on, str) else list(rests_on)
        assert set(named) <= set(frame.columns), (name, set(named) - set(frame.columns))
        if not spec["counts"]:
            shown = disclosure.protect(frame, "dfe", counts=[])
            pd.testing.assert_frame_equal(shown, frame.reset_index(drop=True))
            continue
        assert len(frame), f"{name}: build a frame with rows to test its protection"
        for col in spec["counts"]:
            small = frame.reset_index(drop=True).copy()
            small[col] = small[col].astype(object)
            small.loc[0, col] = 3
            shown = disclosure.protect(small, "dfe", **spec)
            assert shown.loc[0, col] == "c", (name, col)
            for d, rests_on in spec.get("derived", {}).items():
                if col in ([rests_on] if isinstance(rests_on, str) else rests_on):
                    assert shown.loc[0, d] == "c", (name, d)


def test_site_profile_registry(params, built):
    out, _, report = built
    check(site_profile.TABLES, {
        "profile_population_by_age_band": site_profile.population_by_band(params),
        "profile_population_by_age": site_profile.population_by_age(params),
        "profile_rows_by_source": site_profile.rows_by_source(report),
        "profile_set_aside_reasons": site_profile.set_aside_reasons(
            pd.read_parquet(out / "flags.parquet"), pd.read_parquet(out / "quarantine.parquet")),
    })


def test_voice_registry(built):
    _, tables, _ = built
    notes = tables["texts"].rename(columns={"text_id": "note_id"})
    segments = autocode(notes)
    gold = evaluate_against_gold(notes, segments, segments, n_boot=20)
    flags = cov.record_flags(tables["texts"], segments)
    frames = {"voice_codes_applied": cov.codes_applied(segments),
              "voice_autocoder_accuracy": gold["precision_recall"],
              "voice_agreement_auto_gold": gold["agreement"],
              **cov.coverage_tables(flags)}
    # the tiny site has too few notes for any group to count as an opportunity
    frames["voice_opportunities"] = pd.DataFrame(
        [{c: 1 for c in frames["voice_opportunities"].columns}])
    check(voice_tables.TABLES, frames)


def test_themes_registry(params, tmp_path):
    write_transcripts(tmp_path, params, seed=5)
    (tmp_path / "synthetic.json").write_text("{}")
    turns = read_transcripts(tmp_path / "transcripts")
    coding = themes.load_coding(tmp_path, turns)
    anonymiser = themes.build_anonymiser(params, corpus=turns["text"])
    check(theme_tables.TABLES, {
        "themes_participants": themes.participants(turns),
        "themes_codebook": coding.codebook.table(),
        "themes_agreement": themes.agreement_table(coding, turns, seed=1),
        "themes_by_role": themes.theme_frequencies(turns, coding.codes, coding.codebook),
        "themes_by_session_group": themes.theme_frequencies(turns, coding.codes, coding.codebook,
                                                            by="group"),
        "themes_cooccurrence": themes.named_cooccurrence(coding.codes, coding.codebook),
        "themes_quotes": themes.exemplar_quotes(turns, coding.codes, anonymiser, coding.codebook),
        "themes_anonymisation": themes.anonymisation_check(turns, anonymiser),
    })


def test_voice_map_registry(built):
    _, tables, report = built
    records = vm.read_voice_records(tables, report)
    coverage = vm.voice_coverage(records)
    overall = vm.coverage_summary(coverage, by=())
    text = vm.text_voice_coverage(tables["texts"], autocode(
        tables["texts"].rename(columns={"text_id": "note_id"})))
    check(vm.TABLES, {
        "voicemap_catalogue": vm.load_catalogue(),
        "voicemap_rows_read": records.rows_read,
        "voicemap_coverage": vm.coverage_summary(coverage),
        "voicemap_coverage_by_year": vm.coverage_summary(coverage, by=("stage", "year")),
        "voicemap_coverage_by_age": vm.coverage_summary(coverage, by=("stage", "age_band")),
        "voicemap_coverage_overall": overall,
        "voicemap_review_codes": vm.review_participation(records),
        "voicemap_questionnaire_methods": pd.DataFrame({"method": ["worker"], "answers": [9]}),
        "voicemap_case_notes": text,
        "voicemap_recorded_and_missing": vm.recorded_and_missing(
            vm.load_catalogue(), dict(zip(overall["measure"], overall["pct"])), records, text),
    })
