"""The build's coded case notes: the auto-coder's own output, the same file however the notes
are split over the cores, and how far it has got."""

from __future__ import annotations

import pandas as pd

from hampshire_research.build import build_site
from hampshire_research.params import load_site
from hampshire_research.paths import derived_dir
from hampshire_research.voice import autocode, coded
from hampshire_research.voice.data import load_notes


def test_the_build_codes_every_note_as_the_coder_does_with_the_childs_name():
    params = load_site("hampshire")
    build_site(params)
    notes = load_notes(params)
    segments = coded.read_segments(derived_dir(params.site))
    assert segments.note_id.nunique() > 0.9 * len(notes)
    pd.testing.assert_frame_equal(segments, autocode(notes))


def test_chunks_coded_in_worker_processes_write_the_same_file(tmp_path, monkeypatch):
    params = load_site("hampshire")
    build_site(params)
    canonical = derived_dir(params.site) / "canonical"
    one, many = tmp_path / "one", tmp_path / "many"
    monkeypatch.setattr(coded, "CHUNK", len(load_notes(params)) // 5)  # 6 chunks
    with monkeypatch.context() as m:
        m.setattr(coded, "_cores", lambda: 1)
        n = coded.code_case_notes(canonical, one)  # in this process
    heard = []
    monkeypatch.setattr(coded, "_cores", lambda: 2)  # as CI's machine, whatever this one is
    assert coded.code_case_notes(canonical, many, log=heard.append) == n  # in two workers
    assert len(heard) == 4 and heard[-1] == f"coded {n:,} of {n:,} case notes"  # each quarter
    assert (one / coded.SEGMENTS).read_bytes() == (many / coded.SEGMENTS).read_bytes()
    pd.testing.assert_frame_equal(coded.read_segments(many), autocode(load_notes(params)))


def test_cores_are_counted_where_the_os_cannot_say_which_are_ours(monkeypatch):
    monkeypatch.delattr(coded.os, "sched_getaffinity")  # macOS and Windows
    monkeypatch.setattr(coded.os, "cpu_count", lambda: 4)
    assert coded._cores() == 4
