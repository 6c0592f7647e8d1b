"""The build step rebuilds exactly what its key says is stale, and says why."""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hampshire_research import build
from hampshire_research.params import load_site

TINY = Path(__file__).parent / "fixtures" / "sources" / "tiny_site"


class Log(list):
    def __call__(self, message):
        self.append(message)

    def text(self):
        return "\n".join(self)


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A copy of the package whose code the build key reads (the running code is unchanged)."""
    copy = tmp_path / "pkg" / "hampshire_research"
    shutil.copytree(build.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(build, "PACKAGE", copy)
    return copy


def _build(tmp_path, params=None, data=TINY, **kw):
    log = Log()
    built = build.build_tables(params or load_site("hampshire"), data,
                               derived_root=tmp_path / "derived", log=log, **kw)
    return built, log.text()


def test_plotting_code_is_not_part_of_the_key():
    linked = {p.relative_to(build.PACKAGE).as_posix() for p in build.code_files(build.LINKED_CODE)}
    canonical = {p.relative_to(build.PACKAGE).as_posix()
                 for p in build.code_files(build.CANONICAL_CODE)}
    assert {"sources/readers.py", "params.py"} <= canonical
    assert {"linkage/model.py", "linkage/site.py", "sources/readers.py"} <= linked
    assert "linkage/report.py" not in linked and "linkage/model.py" not in canonical


def test_comments_and_docstrings_do_not_change_the_digest_code_does(tmp_path):
    path = tmp_path / "m.py"
    path.write_text('"""Doc."""\n\ndef f(x):\n    return x + 1\n')
    before = build.code_digest(path)
    path.write_text('"""Another doc."""\n# a comment\n\ndef f(x):\n    """Why."""\n\n'
                    '    return x + 1  # still one\n')
    assert build.code_digest(path) == before
    path.write_text('"""Doc."""\n\ndef f(x):\n    return x + 2\n')
    assert build.code_digest(path) != before


def test_a_reader_edit_rebuilds_a_plotting_comment_does_not(tmp_path, package):
    built, log = _build(tmp_path)
    assert "validating: none built yet" in log and "linking (duckdb): none built yet" in log
    persons = built.root / "canonical" / "persons.parquet"
    first = persons.stat().st_mtime_ns

    with open(package / "linkage" / "report.py", "a") as f:
        f.write("\n# a comment on the plots\n")
    _, log = _build(tmp_path)
    assert "reused canonical tables (inputs, params and code unchanged)" in log
    assert "reused linked tables" in log and "validating" not in log
    assert persons.stat().st_mtime_ns == first

    with open(package / "sources" / "readers.py", "a") as f:
        f.write("\nREADER_VERSION = 2\n")
    _, log = _build(tmp_path)
    assert "validating: code changed (sources/readers.py)" in log
    assert "linking (duckdb): canonical tables rebuilt; code changed (sources/readers.py)" in log
    assert persons.stat().st_mtime_ns != first


def test_a_params_change_rebuilds_the_canonical_tables(tmp_path):
    params = load_site("hampshire")
    _build(tmp_path, params)
    built, log = _build(tmp_path, params.model_copy(update={"seed": params.seed + 1}))
    assert "validating: params changed" in log and "linking (duckdb)" in log
    _, log = _build(tmp_path, params.model_copy(update={"seed": params.seed + 1}))
    assert "reused canonical tables" in log


def test_other_data_is_validated_and_linked_never_scored_against_old_tables(tmp_path):
    built, _ = _build(tmp_path)
    other = tmp_path / "other"
    shutil.copytree(TINY, other)
    persons = pd.read_csv(other / "csc" / "ssd_person.csv", dtype=str)
    persons.iloc[:-1].to_csv(other / "csc" / "ssd_person.csv", index=False)
    before = pd.read_parquet(built.root / "canonical" / "persons.parquet")
    # the person dropped leaves 2 of ssd_contacts' 3 rows without a parent: under the threshold
    built, log = _build(tmp_path, data=other, min_kept=0.0)
    assert f"validating: built from other data ({TINY.resolve()})" in log
    after = pd.read_parquet(built.root / "canonical" / "persons.parquet")
    assert len(after) == len(before) - 1
    assert built.data_dir == other.resolve()


def test_inputs_are_hashed_once_then_only_when_a_file_changes(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(TINY, data)
    hashed = []
    real = build._sha256
    monkeypatch.setattr(build, "_sha256", lambda p: hashed.append(p) or real(p))
    built, _ = _build(tmp_path, data=data)
    n_files = sum(1 for p in data.rglob("*") if p.is_file())
    assert len(hashed) == n_files and len(built.inputs) == n_files
    hashed.clear()
    _, log = _build(tmp_path, data=data)
    assert hashed == [] and "reused canonical tables" in log
    notes = data / "case_notes" / "case_notes.csv"
    notes.write_text(notes.read_text() + "\n")
    _, log = _build(tmp_path, data=data)
    assert hashed == [notes] and "validating: inputs changed" in log


def test_the_last_backend_is_reused_unless_another_is_asked_for(tmp_path, monkeypatch):
    from hampshire_research.linkage import site

    linked_with = []

    def fake_link_site(params, canonical, out, backend="duckdb", *, truth=None, review=None):
        linked_with.append(backend)
        Path(out).mkdir(parents=True)
        return {}

    monkeypatch.setattr(site, "link_site", fake_link_site)
    _, log = _build(tmp_path, backend="spark")
    _, log = _build(tmp_path)  # what a notebook does
    assert "reused linked tables (spark;" in log
    _, log = _build(tmp_path, backend="duckdb")
    assert "linking (duckdb): backend changed (spark -> duckdb)" in log
    assert linked_with == ["spark", "duckdb"]


def test_build_site_returns_the_tables_the_notebooks_use(tmp_path):
    tables = build.build_site(load_site("hampshire"), TINY, derived_root=tmp_path, log=Log())
    assert {"record_map", "single_view", "timeline", "persons", "events", "school_terms",
            "summary"} <= set(tables)
    summary = dict(zip(tables["summary"]["measure"], tables["summary"]["value"]))
    assert summary["records"] == len(tables["persons"]) == len(tables["record_map"])
    assert summary["children"] == tables["single_view"]["child_id"].nunique()
    # one child's rows, read alone, are that child's rows of the whole table
    timeline = tables["timeline"]
    child = timeline["child_id"].value_counts().index[0]
    alone = tables.child("timeline", child)
    assert len(alone) > 1
    pd.testing.assert_frame_equal(alone, timeline[timeline["child_id"] == child]
                                  .reset_index(drop=True))


def test_a_missing_data_folder_is_one_error(tmp_path):
    with pytest.raises(build.ProjectError, match="data folder not found"):
        _build(tmp_path, data=tmp_path / "nowhere")


def test_case_notes_are_coded_once_then_only_when_the_coder_changes(tmp_path, package):
    from hampshire_research.voice.autocode import autocode
    from hampshire_research.voice.coded import SEGMENTS, coding_input, read_segments

    built, log = _build(tmp_path)
    assert "coding case notes: none built yet" in log
    segments = read_segments(built.root)
    assert len(segments) > 0
    pd.testing.assert_frame_equal(segments, autocode(coding_input(built.root / "canonical")))
    first = (built.root / SEGMENTS).stat().st_mtime_ns

    with open(package / "linkage" / "model.py", "a") as f:
        f.write("\nLINKAGE_VERSION = 2\n")
    _, log = _build(tmp_path)
    assert "linking (duckdb)" in log and "reused coded case notes" in log
    assert (built.root / SEGMENTS).stat().st_mtime_ns == first

    with open(package / "voice" / "autocode.py", "a") as f:
        f.write("\nCODER_VERSION = 2\n")
    _, log = _build(tmp_path)
    assert "reused linked tables" in log
    assert "coding case notes: code changed (voice/autocode.py)" in log
