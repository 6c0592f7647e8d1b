"""Coverage of voice in records: flags per record, shares with Wilson intervals, breakdowns,
the places to hear more, and publication through the disclosure gate."""

import pandas as pd
import pytest

from hampshire_research.params import load_site
from hampshire_research.vocabulary import age_band_on
from hampshire_research.voice.coverage import (
    collection_year,
    coverage,
    coverage_tables,
    opportunities,
    publish_coverage,
    record_flags,
    stage_group,
)


def texts_and_segments():
    # 40 records: 10 early help notes with the child's quote, 10 referrals with an absence
    # reason, 20 CP notes: 5 with the child's reported view + mum's view, 15 silent
    ids = [f"t{i:02d}" for i in range(40)]
    texts = pd.DataFrame({"text_id": ids, "record_id": [f"csc:{i % 8}" for i in range(40)],
                          "source": ["early_help"] * 10 + ["csc"] * 30,
                          "note_type": ["early_help"] * 10 + ["referral"] * 10 + ["visit"] * 20,
                          "stage": ["Early Help"] * 10 + ["Referral"] * 10 + ["CP"] * 20,
                          "date": pd.to_datetime(["2022-03-31"] * 20 + ["2022-04-01"] * 20),
                          "text": "x"})
    seg = pd.DataFrame(
        [(i, 0, 1, "W.CYP", "F.DQ", None) for i in ids[:10]]
        + [(i, 0, 1, "W.CYP", None, "A.NOTSEEN") for i in ids[10:20]]
        + [(i, 0, 1, "W.CYP", "F.RS", None) for i in ids[20:25]]
        + [(i, 0, 1, "W.PAR", "F.RS", None) for i in ids[20:25]],
        columns=["note_id", "start", "end", "who", "form", "absence"])
    dob = pd.DataFrame({"record_id": [f"csc:{i}" for i in range(8)],
                        "dob": pd.to_datetime(["2021-01-01", "2018-06-01", "2015-01-01",
                                               "2010-01-01", "2005-06-01", "2005-03-01",
                                               "2003-01-01", None])})
    return texts, seg, dob


def test_flags_per_record():
    texts, seg, dob = texts_and_segments()
    f = record_flags(texts, seg, dob)
    assert len(f) == 40
    assert f.cyp_voice.sum() == 15 and f.cyp_quote.sum() == 10
    assert f.cyp_absence.sum() == 10 and f.cyp_silent.sum() == 15
    assert f.par_voice.sum() == 5 and f.par_silent.sum() == 35
    assert list(f.stage.unique()) == ["Early help", "Referral", "CP plan"]
    assert f.year.value_counts().to_dict() == {"2021-22": 20, "2022-23": 20}


def test_shares_and_wilson_intervals():
    texts, seg, dob = texts_and_segments()
    c = coverage(record_flags(texts, seg, dob), "stage")
    row = c[(c.stage == "CP plan") & (c.measure == "child's voice (any form)")].iloc[0]
    assert (row.records, row.n, row.percent) == (20, 5, 25.0)
    assert (row.ci_low, row.ci_high) == (11.2, 46.9)  # Wilson 5/20
    assert list(c.stage.unique()) == ["Early help", "Referral", "CP plan"]  # journey order
    overall = coverage(record_flags(texts, seg, dob))
    assert overall.set_index("measure").loc["child's voice: silent (neither)", "n"] == 15


def test_age_bands_stage_words_and_years():
    dob = pd.Series(pd.to_datetime(["2020-05-02", "2020-05-01", "2005-01-01", None]))
    on = pd.Series(pd.to_datetime(["2023-05-01"] * 4))
    assert list(age_band_on(dob, on)) == ["1-4", "1-4", "18+", "Unknown"]
    stages = pd.Series(["Child in Need", "S47 enquiry", "Initial CP conference", "LAC review",
                        None, "Single assessment", "MASH contact", "something"])
    assert list(stage_group(stages, pd.Series(["visit"] * 7 + ["early_help"]))) == [
        "CIN plan", "S47 enquiry", "CP plan", "Looked after", "other", "Assessment", "Referral",
        "Early help"]
    assert list(collection_year(pd.Series(["2023-03-31", "2023-04-01", None]))) == [
        "2022-23", "2023-24", "Unknown"]


def test_opportunities_are_the_lowest_coverage_groups():
    texts, seg, dob = texts_and_segments()
    opp = opportunities(record_flags(texts, seg, dob), min_records=10)
    first = opp.iloc[0]
    assert (first.breakdown, first.group, first.percent) == ("stage", "Referral", 0.0)
    assert set(opp.group) >= {"Referral", "CP plan"}
    assert opp.percent.is_monotonic_increasing


def test_published_through_the_disclosure_gate(tmp_path):
    texts, seg, dob = texts_and_segments()
    tables = coverage_tables(record_flags(texts, seg, dob))
    assert set(tables) == {"voice_coverage_overall", "voice_coverage_by_source",
                           "voice_coverage_by_note_type", "voice_coverage_by_stage",
                           "voice_coverage_by_age_band", "voice_coverage_by_year",
                           "voice_opportunities"}
    shown = publish_coverage(tables, load_site("hampshire"), out_dir=tmp_path)
    st = shown["voice_coverage_by_stage"]
    cp = st[(st.stage == "CP plan") & (st.measure == "child's voice (any form)")].iloc[0]
    assert cp.n == "c" and cp.percent == "c"  # 5 records: suppressed with what rests on them
    written = pd.read_csv(tmp_path / "tables" / "voice_coverage_by_stage.csv", dtype=str)
    assert (written.stage == "CP plan").any() and "c" in set(written.n)


def test_bad_texts_are_an_error():
    texts, seg, _ = texts_and_segments()
    from hampshire_research.errors import ProjectError
    with pytest.raises(ProjectError, match="stage"):
        record_flags(texts.drop(columns="stage"), seg)
    with pytest.raises(ProjectError, match="repeats"):
        record_flags(pd.concat([texts, texts.head(1)]), seg)


def test_figure_draws_only_published_shares(tmp_path):
    texts, seg, dob = texts_and_segments()
    shown = publish_coverage({"voice_coverage_by_stage": coverage(record_flags(texts, seg, dob),
                                                                  "stage")},
                             load_site("hampshire"), out_dir=tmp_path)["voice_coverage_by_stage"]
    from hampshire_research.voice.coverage import plot_coverage
    fig = plot_coverage(shown, "stage", "t")
    ax = fig.axes[0]
    widths = sorted(round(p.get_width(), 1) for p in ax.patches)
    # CP voice (5 of 20) is suppressed: not drawn, marked "c"
    assert 25.0 not in widths and "c" in [t.get_text() for t in ax.texts]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Early help", "Referral", "CP plan"]


def test_codes_applied_counts_who_on_voice_only():
    from hampshire_research.voice.coverage import codes_applied
    _, seg, _ = texts_and_segments()
    got = codes_applied(seg).set_index("code")
    assert got.loc["W.CYP", "sentences"] == 15  # the 10 absence segments are not W.CYP voice
    assert got.loc["A.NOTSEEN", "records"] == 10 and got.loc["W.PAR", "records"] == 5
    assert list(got.index) == ["W.CYP", "W.PAR", "F.DQ", "F.RS", "A.NOTSEEN"]


def test_figure_keys_a_measure_whose_first_group_is_suppressed():
    from hampshire_research.voice.coverage import CHILD_MEASURES, plot_coverage
    rows = [{"age_band": g, "measure": m, "percent": p, "ci_low": "1", "ci_high": "90"}
            for m in CHILD_MEASURES for g, p in [("0", "c"), ("1-4", "40.0")]]
    fig = plot_coverage(pd.DataFrame(rows), "age_band", "t")
    assert fig.axes[0].get_legend_handles_labels()[1] == CHILD_MEASURES
    suppressed = pd.DataFrame([{**r, "percent": "c"} for r in rows])
    assert plot_coverage(suppressed, "age_band", "t").axes[0].get_legend() is None
