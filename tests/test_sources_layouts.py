"""The layouts councils' systems export, read from small extracts we wrote in those shapes (from
the public column lists: Data to Insight's deployed SSD per system, the DfE 903 return and the
school census export), with every row accounted for and the identity fields arriving."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from hampshire_research.params import load_site
from hampshire_research.sources import build_canonical

FIXTURES = Path(__file__).parent / "fixtures" / "sources"
TINY = FIXTURES / "tiny_site"


def _site_with(tmp_path: Path, folder: str, shape: Path) -> Path:
    """The tiny site with one source folder replaced by an extract in another shape."""
    site = tmp_path / "site"
    shutil.copytree(TINY, site)
    shutil.rmtree(site / folder)
    shutil.copytree(shape, site / folder)
    return site


def _log(logs, file: str):
    return next(log for log in logs if log.file == file)


@pytest.mark.parametrize("system", ["mosaic", "liquidlogic", "eclipse"])
def test_ssd_as_deployed(tmp_path, system):
    site = _site_with(tmp_path, "csc", FIXTURES / f"ssd_{system}" / "csc")
    tables, logs = build_canonical(load_site("hampshire"), site)
    people = tables["persons"].query("source == 'csc'").set_index("record_id")
    assert len(people) == 3 and _log(logs, "csc/ssd_person.csv").kept == 3
    # the NHS number is in pers_single_unique_id on every deployed system
    assert people["nhs_number"].fillna("").tolist() == ["9990000042", "9990000050", ""]
    assert people["upn"].fillna("").tolist() == ["A850120100001", "P850120100002", ""]
    assert people[["first_name", "surname"]].notna().all().all()
    assert people["dob"].tolist() == [pd.Timestamp(d) for d in
                                      ("2009-09-09", "2010-02-21", "2011-06-15")]
    assert people["postcode"].fillna("").tolist() == ["RG21 4AB", "RG21 4AA", ""]
    ev = tables["events"].query("source == 'csc'")
    assert ev["event_type"].value_counts().to_dict() == {
        "contact": 2, "referral": 2, "cin_plan": 2, "cin_visit": 2, "assessment": 1,
        "cla_episode": 1}
    # Mosaic's contacts carry the source's description only: the code is left null, not guessed
    contact_sources = ev.query("event_type == 'contact'")["referral_source"]
    assert contact_sources.isna().all() if system == "mosaic" else contact_sources.notna().all()
    # Mosaic's visits name their CIN plan, not the child: tied to the plan's child
    visits = ev.query("event_type == 'cin_visit'").set_index("event_id")["record_id"]
    assert visits.to_dict() == {"csc:cin_visit:V1": "csc:P001", "csc:cin_visit:V2": "csc:P002"}
    log = _log(logs, "csc/ssd_cin_visits.csv")
    assert (log.read, log.kept) == (3, 2)
    reason = "CIN plan not in ssd_cin_plans" if system == "mosaic" else "person not in ssd_person"
    assert log.quarantined["reason"].tolist() == [reason]
    assert all(log.read == log.kept for log in logs
               if log.source == "csc" and log.file != "csc/ssd_cin_visits.csv")
