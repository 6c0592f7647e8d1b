"""How each table of the thematic analysis (notebook 06) is protected: its count columns and
what rests on them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..disclosure_audit import Family, row_sums, same_sums
from ..params import SiteParams

_FREQUENCIES = {"counts": ["turns", "participants", "sessions", "group_turns",
                           "group_participants"],
                "derived": {"pct_turns": ["turns", "group_turns"],
                            "pct_participants": ["participants", "group_participants"]}}
TABLES = {
    "themes_participants": {"counts": ["participants", "sessions", "turns"]},
    "themes_codebook": {"counts": []},
    "themes_agreement": {"counts": ["units", "coded_a", "coded_b", "both"],
                         "derived": {"precision": ["coded_a", "both"], "recall": ["coded_b", "both"],
                                     "f1": ["coded_a", "coded_b", "both"]}},
    "themes_by_role": _FREQUENCIES,
    "themes_by_session_group": _FREQUENCIES,
    "themes_cooccurrence": {"counts": ["turns_both", "turns_a", "turns_b"]},
    "themes_quotes": {"counts": []},
    "themes_anonymisation": {"counts": ["turns", "withheld"]},
}




def _themes(t: dict[str, pd.DataFrame]) -> list:
    """A group's participants and turns are its roles'; a role's theme counts, over the roles
    of a group, are the group's; every row's group columns repeat its role's or group's total."""
    people = t.get("themes_participants")
    if people is None:
        return []
    eqs = []
    group_of = dict(zip(people["role"], people["group"]))
    for name, key in (("themes_by_role", "role"), ("themes_by_session_group", "group")):
        if name in t:
            for col in ("turns", "participants"):  # the total, repeated on each row
                eqs += row_sums((name, t[name], f"group_{col}"),
                                ("themes_participants", people, col), [key])
    if "themes_by_role" in t and "themes_by_session_group" in t:
        by_role = t["themes_by_role"].assign(group=t["themes_by_role"]["role"].map(group_of))
        for col in ("turns", "participants"):
            eqs += same_sums(("themes_by_role", by_role, col),
                             ("themes_by_session_group", t["themes_by_session_group"], col),
                             ["group", "theme"])
    return eqs


# Tables that share counts, in the order notebook 06 publishes them (see disclosure_audit).
FAMILIES = [Family("themes", ("themes_participants", "themes_by_role", "themes_by_session_group"),
                   _themes)]


def publish(df: pd.DataFrame, name: str, params: SiteParams, out_dir: Path | None = None
            ) -> pd.DataFrame:
    """Publish one of this analysis's tables (``TABLES``) through disclosure control."""
    from ..publish import publish_table

    return publish_table(df, name, params, out_dir=out_dir, **TABLES[name])
