"""Clerical review: the dashboards are written offline under derived data, and a reviewer's
decisions change the next run's links and measure the model."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from test_build import _build
from test_linkage import _events, make_records

from hampshire_research.errors import ProjectError
from hampshire_research.linkage import link_site, load_linked
from hampshire_research.linkage.quality import child_id_for
from hampshire_research.linkage.review import (
    DECISIONS_FILE,
    REVIEW_PAIRS,
    apply_decisions,
    read_decisions,
    write_dashboards,
)
from hampshire_research.linkage.site import read_persons
from hampshire_research.params import load_site


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    persons, _ = make_records()
    root = tmp_path_factory.mktemp("review")
    canonical = root / "canonical"
    canonical.mkdir()
    persons.assign(dob=pd.to_datetime(persons["dob"])).to_parquet(canonical / "persons.parquet")
    _events(persons).to_parquet(canonical / "events.parquet")
    summary = link_site(load_site("hampshire"), canonical, root / "linked",
                        review=root / "review")
    return root, summary


def _child(root: Path, linked: str = "linked") -> pd.Series:
    return load_linked(root / linked)["record_map"].set_index("record_id")["child_id"]


def test_the_template_lists_the_pairs_nearest_the_threshold_undecided(first_run):
    root, summary = first_run
    template = pd.read_csv(root / "review" / DECISIONS_FILE, dtype=str, keep_default_na=False)
    review = load_linked(root / "linked")["clerical_review"]
    assert list(template.columns) == ["record_id_l", "record_id_r", "decision", "reviewer",
                                      "date"]
    n = min(REVIEW_PAIRS, summary["clerical_review_pairs"])
    assert len(template) == n > 0
    assert (template["record_id_l"] == review["record_id_l"].head(n).to_numpy()).all()
    assert (template[["decision", "reviewer", "date"]] == "").all().all()
    assert summary["reviewer_decisions"] == 0
    assert load_linked(root / "linked")["review_quality"]["pairs_reviewed"].tolist() == [0]


def test_dashboards_are_self_contained(first_run):
    root, _ = first_run
    for name in ("comparison_viewer.html", "cluster_studio.html"):
        html = (root / "review" / name).read_text(encoding="utf-8")
        assert "vega" in html and "<script" in html  # Splink's JS, inlined
        assert not re.search(r'<script[^>]*\bsrc=', html)
        assert not re.search(r'<link[^>]*href="https?:', html)


def test_the_comparison_viewer_shows_the_runs_weights(first_run):
    """The dashboards score their records again: the weights they show are the run's."""
    _viewer_shows_the_runs_weights(first_run[0], least=20)


def test_the_viewer_shows_the_runs_weights_without_an_identifier(tmp_path):
    """Without an identifier the model compares surname and postcode together and corrects
    for twins; the dashboards rebuild that model too."""
    persons, _ = make_records()
    persons = persons[persons["source"].isin(["school_census", "early_help"])].assign(
        upn=None, nhs_number=None, dob=lambda f: pd.to_datetime(f["dob"]))
    canonical = tmp_path / "canonical"
    canonical.mkdir()
    persons.to_parquet(canonical / "persons.parquet")
    _events(persons).to_parquet(canonical / "events.parquet")
    link_site(load_site("hampshire"), canonical, tmp_path / "linked", review=tmp_path / "review")
    model = json.loads((tmp_path / "linked" / "model.json").read_text())
    assert {"family", "twins"} <= {c["output_column_name"] for c in model["comparisons"]}
    _viewer_shows_the_runs_weights(tmp_path, least=3)


def _viewer_shows_the_runs_weights(root: Path, least: int) -> None:
    review = load_linked(root / "linked")["clerical_review"]
    run = {tuple(sorted(p)): w for *p, w in
           review[["record_id_l", "record_id_r", "match_weight"]].itertuples(index=False)}
    html = (root / "review" / "comparison_viewer.html").read_text(encoding="utf-8")
    shown = re.findall(r'\{"match_weight": ([-0-9.e]+), "match_probability"[^{}]*?'
                       r'"unique_id_l": "([^"]+)"[^{}]*?"unique_id_r": "([^"]+)"', html)
    assert len(shown) >= least
    for w, left, right in shown:
        assert float(w) == pytest.approx(run[tuple(sorted((left, right)))], abs=1e-4)


def test_same_run_same_dashboard_bytes(first_run, tmp_path):
    root, _ = first_run
    tables = load_linked(root / "linked")
    model = json.loads((root / "linked" / "model.json").read_text())
    write_dashboards(read_persons(root / "canonical"), model, tables["clerical_review"],
                     tables["record_map"], tmp_path)
    for name in ("comparison_viewer.html", "cluster_studio.html"):
        assert (tmp_path / name).read_bytes() == (root / "review" / name).read_bytes(), name


def test_no_pair_near_the_threshold_leaves_no_dashboards(first_run, tmp_path):
    root, _ = first_run
    tables = load_linked(root / "linked")
    (tmp_path / "cluster_studio.html").write_text("from an earlier run")
    assert write_dashboards(read_persons(root / "canonical"), {}, tables["clerical_review"].head(0),
                            tables["record_map"], tmp_path) == []
    assert list(tmp_path.iterdir()) == []


def test_dashboards_open_offline_in_a_browser(first_run):
    """Headless Chromium with no outside host resolvable: each page draws its charts with no
    request leaving the file and no console error."""
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("needs chromium and chromium-driver (apt-get install chromium "
                    "chromium-driver)")
    from browser import LOCAL, chromium, open_page
    from selenium.webdriver.support.ui import WebDriverWait

    root, _ = first_run
    with chromium() as driver:
        for name in ("comparison_viewer.html", "cluster_studio.html"):
            open_page(driver, (root / "review" / name).as_uri(), "1440x900")
            WebDriverWait(driver, 30).until(
                lambda d: d.execute_script("return document.querySelectorAll('svg').length"))
            assert [e for e in driver.get_log("browser") if e["level"] == "SEVERE"] == []
            requests = [json.loads(e["message"])["message"] for e in
                        driver.get_log("performance")]
            outside = [m["params"]["request"]["url"] for m in requests
                       if m["method"] == "Network.requestWillBeSent"
                       and not m["params"]["request"]["url"].startswith(LOCAL)]
            assert outside == []
            assert driver.execute_script("return document.body.innerText").startswith(
                "Splink " + name.split(".")[0].replace("_", " "))


def test_decisions_change_the_next_run_and_measure_the_model(first_run, tmp_path):
    root, _ = first_run
    child = _child(root)
    review = load_linked(root / "linked")["clerical_review"]
    linked = review[review["same_child"]]
    split, keep = linked.iloc[0], linked.iloc[1]
    # two records the model left apart, in different clusters: the reviewer joins them
    singles = child[~child.duplicated(keep=False)].index
    join = (singles[0], singles[1])
    decisions = pd.DataFrame([
        [split["record_id_l"], split["record_id_r"], "not a match", "A Reviewer", "2026-11-30"],
        [keep["record_id_l"], keep["record_id_r"], "match", "A Reviewer", "2026-11-30"],
        [*join, "match", "A Reviewer", "2026-12-01"],
    ], columns=["record_id_l", "record_id_r", "decision", "reviewer", "date"])
    review_dir = tmp_path / "review"
    review_dir.mkdir()
    decisions.to_csv(review_dir / DECISIONS_FILE, index=False)
    canonical = root / "canonical"
    summary = link_site(load_site("hampshire"), canonical, tmp_path / "linked",
                        review=review_dir)
    after = _child(tmp_path)
    assert after[split["record_id_l"]] != after[split["record_id_r"]]
    assert child[join[0]] != child[join[1]] and after[join[0]] == after[join[1]]
    assert after[keep["record_id_l"]] == after[keep["record_id_r"]]
    assert summary["reviewer_decisions"] == 3
    # the file the reviewer filled is kept, not overwritten by a new template
    assert len(pd.read_csv(review_dir / DECISIONS_FILE)) == 3
    q = load_linked(tmp_path / "linked")["review_quality"].iloc[0]
    assert (q["pairs_reviewed"], q["linked_and_confirmed"], q["linked_but_not_a_match"],
            q["not_linked_but_a_match"], q["not_linked_and_confirmed"]) == (3, 1, 1, 1, 0)
    assert q["precision"] == q["recall"] == 0.5
    assert 0 < q["precision_low"] < 0.5 < q["precision_high"] < 1


def test_a_kept_apart_pair_is_split_at_its_weakest_link(tmp_path):
    ids = pd.Series(["a", "b", "c", "d", "e"])
    pairs = pd.DataFrame({"record_id_l": ["a", "b"], "record_id_r": ["b", "c"],
                          "match_probability": [0.99, 0.96]})
    decisions = pd.DataFrame({"record_id_l": ["a", "d"], "record_id_r": ["c", "e"],
                              "decision": ["not a match", "match"], "row": [2, 3]})
    out = apply_decisions(ids, pairs, 0.95, decisions, tmp_path / DECISIONS_FILE)
    child = out.set_index("record_id")["child_id"]
    assert child["a"] == child["b"] == child_id_for("a")  # a-b is stronger than b-c
    assert child["c"] == child_id_for("c")
    assert child["d"] == child["e"] == child_id_for("d")  # joined though never scored
    contradiction = pd.DataFrame({"record_id_l": ["a", "b", "a"], "record_id_r": ["b", "c", "c"],
                                  "decision": ["match", "match", "not a match"],
                                  "row": [2, 3, 4]})
    with pytest.raises(ProjectError, match=r"review_decisions.csv, row 3, field 'decision'"):
        apply_decisions(ids, pairs, 0.95, contradiction, tmp_path / DECISIONS_FILE)


@pytest.mark.parametrize("row, field, message", [
    (["a", "zz", "match", "R", "2026-11-30"], "record_id_r", "unknown record 'zz'"),
    (["a", "b", "yes", "R", "2026-11-30"], "decision", "is not 'match' or 'not a match'"),
    (["a", "b", "match", "", "2026-11-30"], "reviewer", "reviewer's name"),
    (["a", "b", "match", "R", "30/11/2026"], "date", "not YYYY-MM-DD"),
    (["b", "a", "not a match", "R", "2026-11-30"], "record_id_l", "already decided at row 2"),
])
def test_a_bad_decision_names_file_row_and_field(tmp_path, row, field, message):
    path = tmp_path / DECISIONS_FILE
    pd.DataFrame([["a", "b", "match", "R", "2026-11-29"], ["c", "d", "", "", ""], row],
                 columns=["record_id_l", "record_id_r", "decision", "reviewer", "date"]
                 ).to_csv(path, index=False)
    with pytest.raises(ProjectError) as err:
        read_decisions(path, pd.Series(list("abcd")))
    text = str(err.value)
    assert "\n" not in text and message in text
    assert text.startswith(f"{path}, row 4, field '{field}': ")


def test_the_build_keeps_the_review_beside_the_linked_tables_and_relinks_on_decisions(tmp_path):
    built, log = _build(tmp_path)
    review = built.root / "review"
    assert review == tmp_path / "derived" / "hampshire" / "review"
    assert {p.name for p in review.iterdir()} == {"comparison_viewer.html",
                                                  "cluster_studio.html", DECISIONS_FILE}
    _, log = _build(tmp_path)  # the blank template decides nothing: no relink
    assert "reused linked tables" in log
    template = pd.read_csv(review / DECISIONS_FILE, dtype=str, keep_default_na=False)
    template.loc[0, ["decision", "reviewer", "date"]] = ["not a match", "R", "2026-11-30"]
    template.to_csv(review / DECISIONS_FILE, index=False)
    _, log = _build(tmp_path)
    assert "reviewer's decisions changed" in log
    assert (review / DECISIONS_FILE).is_file()  # a relink replaces linked/, not review/
    assert load_linked(built.root / "linked")["review_quality"]["pairs_reviewed"].tolist() == [1]
