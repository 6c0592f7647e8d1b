"""The site at a glance: its children by age and district, the study window, and the data
sources a run expects to find."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .disclosure_audit import Family
from .params import SiteParams
from .paths import derived_dir
from .vocabulary import AGE_BANDS, SOURCE_DESCRIPTIONS


def population_by_age(params: SiteParams) -> pd.DataFrame:
    ages = params.population.by_age
    return pd.DataFrame({"age": list(ages), "children": list(ages.values())})


def population_by_band(params: SiteParams) -> pd.DataFrame:
    ages = params.population.by_age
    rows = [{"age_band": label, "children": sum(ages[a] for a in range(lo, hi + 1))}
            for lo, hi, label in AGE_BANDS]
    out = pd.DataFrame(rows)
    out["percent"] = (100 * out["children"] / out["children"].sum()).round(1)
    return out


def districts(params: SiteParams) -> pd.DataFrame:
    return pd.DataFrame([{"district": d.name, "ons_code": d.ons_code,
                          "postcode_districts": ", ".join(d.outcodes) or "all in the district"}
                         for d in params.districts])


def study_window(params: SiteParams) -> pd.DataFrame:
    w, c = params.study_window, params.cohort
    return pd.DataFrame([
        {"item": "Academic years", "value": f"{w.academic_years[0]} to {w.academic_years[-1]}"},
        {"item": "Collection years (ending 31 March)",
         "value": f"{w.collection_years[0]} to {w.collection_years[-1]}"},
        {"item": "Transition cohort", "value": f"National curriculum years {c.ncy[0]}-{c.ncy[-1]}"},
        {"item": "Followed", "value": f"{c.months_before} months before to {c.months_after} "
                                       f"months after the September of Year {c.transfer_ncy}"},
        {"item": "Disclosure control", "value": params.disclosure_profile.upper()},
    ])


def sources_present(data_dir: Path) -> pd.DataFrame:
    rows = []
    for folder, label in SOURCE_DESCRIPTIONS.items():  # what a run reads, by folder
        path = Path(data_dir) / folder
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
        rows.append({"source": label, "folder": f"{folder}/", "files": len(files),
                     "megabytes": round(sum(p.stat().st_size for p in files) / 1e6, 1)})
    return pd.DataFrame(rows)


def rows_by_source(report: pd.DataFrame) -> pd.DataFrame:
    """Rows read, kept, flagged and quarantined per source (from the validate report)."""
    counts = ["read", "kept", "flagged", "quarantined"]
    out = report.groupby("source", sort=True)[counts].sum().reset_index()
    if (out["read"] != out["kept"] + out["quarantined"]).any():
        raise ValueError("validate report does not reconcile: read != kept + quarantined")
    return out


def set_aside_reasons(flags: pd.DataFrame, quarantine: pd.DataFrame) -> pd.DataFrame:
    """Why rows were flagged or quarantined, by source and field (the values are not shown)."""
    parts = []
    for outcome, df in [("kept with a flag", flags), ("quarantined", quarantine)]:
        if len(df):
            g = df.assign(source=df["file"].str.split("/").str[0]).groupby(
                ["source", "field", "reason"], sort=True).size().rename("rows").reset_index()
            parts.append(g.assign(outcome=outcome))
    if not parts:
        return pd.DataFrame(columns=["outcome", "source", "field", "reason", "rows"])
    return pd.concat(parts, ignore_index=True)[["outcome", "source", "field", "reason", "rows"]]


def data_quality(params: SiteParams, derived_root: Path | str | None = "") -> tuple[
        pd.DataFrame, pd.DataFrame]:
    """Rows by source and the reasons rows were set aside, from the build's validation (run
    `build.build_site` first, as notebook 01 does)."""
    derived = derived_dir(params.site, derived_root)
    report = pd.read_csv(derived / "validation_report.csv", keep_default_na=False)
    reasons = set_aside_reasons(pd.read_parquet(derived / "flags.parquet"),
                                pd.read_parquet(derived / "quarantine.parquet"))
    return rows_by_source(report), reasons


# How each table of the site profile is protected. A row of a file is often one child (a
# row of ssd_person, of a CIN census return), so row counts are counts like any other.
TABLES = {
    "profile_population_by_age_band": {"counts": ["children"], "derived": {"percent": "children"}},
    "profile_population_by_age": {"counts": ["children"]},
    "profile_rows_by_source": {"counts": ["read", "kept", "flagged", "quarantined"]},
    "profile_set_aside_reasons": {"counts": ["rows"]},
}


def _rows(t: dict[str, pd.DataFrame]) -> list:
    """A source's rows read are its rows kept and quarantined."""
    rows = t.get("profile_rows_by_source")
    if rows is None:
        return []
    name = "profile_rows_by_source"
    return [{(name, int(i), "kept"): 1, (name, int(i), "quarantined"): 1, (name, int(i), "read"): -1}
            for i in rows.index]


FAMILIES = [Family("rows read", ("profile_rows_by_source",), _rows)]


def publish(df: pd.DataFrame, name: str, params: SiteParams, out_dir: Path | None = None
            ) -> pd.DataFrame:
    """Publish one of this page's tables (``TABLES``) through disclosure control."""
    from .publish import publish_table

    return publish_table(df, name, params, out_dir=out_dir, **TABLES[name])
