"""Our REFI-QDA exports against the standard's own schemas (Project.xsd, Codebook.xsd from
qdasoftware.org). The schemas are not copied into the project: point
HAMPSHIRE_RESEARCH_REFI_XSD at a folder holding them, or the test skips."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from hampshire_research import themes
from hampshire_research.params import load_site
from hampshire_research.qda import export_qdc
from hampshire_research.sources.transcripts import read_transcripts
from hampshire_research.synthetic.transcripts import write_transcripts
from hampshire_research.voice import autocode, export_voice_project, load_codebook

etree = pytest.importorskip("lxml.etree")
FOLDER = os.environ.get("HAMPSHIRE_RESEARCH_REFI_XSD")


def _schema(name: str):
    if not FOLDER or not (Path(FOLDER) / name).is_file():
        pytest.skip(f"set HAMPSHIRE_RESEARCH_REFI_XSD to a folder with the REFI-QDA {name}")
    return etree.XMLSchema(etree.parse(str(Path(FOLDER) / name)))


def _valid(schema, doc) -> None:
    assert schema.validate(doc), schema.error_log.last_error


def test_voice_project_and_codebook_follow_the_standard(tmp_path):
    project = _schema("Project.xsd")
    notes = pd.DataFrame({"note_id": ["N1", "N2"], "source": "csc", "stage": ["CIN", "CP"],
                          "text": ['Ellie said, "I like my new school."',
                                   "Ellie was at school so was not seen."]})
    path = export_voice_project(tmp_path / "voice.qdpx", notes, autocode(notes),
                                case_variables=["source", "stage"])
    with zipfile.ZipFile(path) as z:
        _valid(project, etree.fromstring(z.read("project.qde")))
    qdc = export_qdc(tmp_path / "voice.qdc", codebook_name="voice",
                     codes=load_codebook().refi_codes())
    _valid(_schema("Codebook.xsd"), etree.parse(str(qdc)))


def test_themes_project_follows_the_standard(tmp_path):
    project = _schema("Project.xsd")
    params = load_site("hampshire")
    write_transcripts(tmp_path, params, seed=5)
    turns = read_transcripts(tmp_path / "transcripts")
    anonymiser = themes.build_anonymiser(params, corpus=turns["text"])
    path = themes.to_refi(tmp_path / "themes.qdpx", turns, themes.first_pass(turns),
                          anonymiser=anonymiser)
    with zipfile.ZipFile(path) as z:
        _valid(project, etree.fromstring(z.read("project.qde")))
