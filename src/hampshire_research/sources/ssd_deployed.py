"""SSD tables as Data to Insight's deployed SQL writes them, where that differs from the spec.

Most differences are only column names and live in `aliases.py`. One is a different shape:
Mosaic's ssd_cin_visits has no person id; each visit names its CIN plan (`cinv_cin_plan_id`),
and the person is the plan's. Such a visit is tied to its person through the CIN plans kept
from ssd_cin_plans, and set aside, with that reason, when its plan was not kept.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import ProjectError
from .checks import FileLog, among

VISIT_PERSON = "cinv_person_id"
VISIT_PLAN = "cinv_cin_plan_id"


def open_ssd(b, table: str, path: Path, required: list[str], optional: list[str], **kw
             ) -> tuple[pd.DataFrame, FileLog]:
    """`b.open` (its other arguments passed on) for an SSD table in the spec's layout or a
    system's deployed one."""
    try:
        return b.open("csc", path, required, optional, **kw)
    except ProjectError as e:
        if table != "ssd_cin_visits" or e.field != VISIT_PERSON:
            raise
        no_person = e
    try:
        df, log = b.open("csc", path, [VISIT_PLAN if c == VISIT_PERSON else c
                                       for c in required], optional, **kw)
    except ProjectError as e:
        raise (no_person if e.field == VISIT_PLAN else e) from None
    person = _plan_persons(b)
    df = log.missing(df, [VISIT_PLAN])
    df = log.quarantine(df, ~among(df[VISIT_PLAN], person.index), VISIT_PLAN,
                        "CIN plan not in ssd_cin_plans")
    df[VISIT_PERSON] = df[VISIT_PLAN].map(person).astype(df[VISIT_PLAN].dtype)
    return df, log


def _plan_persons(b) -> pd.Series:
    """Person id by CIN plan id, for the CIN plans kept so far."""
    plans = [e for e in b.events if len(e) and e["source"].iat[0] == "csc"
             and e["event_type"].iat[0] == "cin_plan"]
    if not plans:
        return pd.Series(dtype=object)
    plans = pd.concat(plans)
    return pd.Series(plans["record_id"].str.removeprefix("csc:").to_numpy(),
                     index=plans["event_id"].str.removeprefix("csc:cin_plan:").to_numpy())
