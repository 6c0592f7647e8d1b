"""Write what a notebook publishes: tables through disclosure control, figures with alt text.

Tables land tidy in ``<out_dir>/tables/<name>.csv`` (out_dir: the site's folder of the reports
root, default reports/<site>/) so the cross-site page and the
dashboards read only what has already passed the disclosure gate, never row-level data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from . import disclosure, disclosure_audit
from .params import SiteParams
from .paths import reports_dir
from .vocabulary import is_synthetic


def site_reports_dir(params: SiteParams, out_dir: Path | None = None) -> Path:
    """Where a site's outputs go: `out_dir`, or its folder of the default reports root."""
    return Path(out_dir) if out_dir else reports_dir(params.site)


def publish_table(
    df: pd.DataFrame,
    name: str,
    params: SiteParams,
    *,
    counts: Iterable[str],
    derived: dict[str, str | Sequence[str]] | None = None,
    within: Sequence[str] | None = None,
    crosstab: bool = False,
    estimates: dict | None = None,
    out_dir: Path | None = None,
) -> pd.DataFrame:
    """Protect a table with the site's disclosure profile, write it as CSV and return it.

    With ``crosstab=True`` the frame is a two-way table of counts (index x columns); row and
    column totals are added and secondary suppression applied. Otherwise it is tidy: see
    ``disclosure.protect`` for counts, derived, within and estimates. A table of a family (tables
    sharing counts, see ``disclosure_audit``) is then protected jointly with the members
    published before it.
    """
    if crosstab:
        table = disclosure.protect_crosstab(df, params.disclosure_profile)
        tidy = table.rename_axis(index=df.index.name or "row").reset_index()
    else:
        tidy = disclosure.protect(df, params.disclosure_profile, counts=counts, derived=derived,
                                  within=within, estimates=estimates)
        table = tidy
    folder = site_reports_dir(params, out_dir) / "tables"
    family = disclosure_audit.family_of(name)
    if family:  # protected against the family's members already published
        earlier = family.tables[:family.tables.index(name)]
        tidy = disclosure_audit.protect_jointly(
            tidy, name, family, disclosure_audit.read_published(folder, earlier),
            params.disclosure_profile, derived)
        if crosstab:
            table = tidy.set_index(tidy.columns[0]).rename_axis(table.index.name)
        else:
            table = tidy
    folder.mkdir(parents=True, exist_ok=True)
    tidy.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    return table


def save_figure(fig, name: str, params: SiteParams, alt: str, out_dir: Path | None = None) -> Path:
    """Save a figure (drawn only from published numbers) as PNG with its alt text beside it."""
    return write_png(fig, site_reports_dir(params, out_dir) / "figures", name, alt)


def write_png(fig, folder: Path, name: str, alt: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path, dpi=110, bbox_inches="tight", metadata={"Software": None})
    (folder / f"{name}.alt.txt").write_text(alt.strip() + "\n", encoding="utf-8")
    return path


def read_table(site: str, name: str, reports_root: Path | None = None) -> pd.DataFrame:
    """Read a published table back (symbols kept as strings)."""
    folder = reports_dir(site, reports_root)
    return pd.read_csv(folder / "tables" / f"{name}.csv", dtype=str, keep_default_na=False)


def data_notice(params: SiteParams, data_dir: Path) -> str:
    """The line every page opens with: whose data, and whether it is synthetic."""
    if is_synthetic(data_dir):
        return (f"**Synthetic data.** Every figure on this page comes from synthetic records "
                f"generated for {params.display_name} in the formats a council holds. No real "
                f"child is described; the numbers show how the analysis works, not what is "
                f"happening in {params.display_name}.")
    return (f"Data: {params.display_name} extracts, run inside the council's network. Every "
            f"published number has passed disclosure control ({params.disclosure_profile.upper()}).")


SYNTHETIC_EXAMPLE_TAG = "synthetic-row-level"


def identifier_strings(persons: pd.DataFrame) -> dict[str, set[str]]:
    """The identifiers of input records as they could appear in a page.

    Full names (forename and surname together; a single common first name or surname is also
    an ordinary word), UPNs, NHS numbers (with and without spaces), full dates of birth (ISO
    and dd/mm/yyyy) and full postcodes (with and without the space).
    """
    p = persons
    names = (p["first_name"].fillna("").str.strip() + " " + p["surname"].fillna("").str.strip())
    names = {n for n in names if len(n) > 4 and " " in n.strip()}
    upns = {u for u in p["upn"].dropna() if len(u) == 13}
    nhs = set()
    for n in p["nhs_number"].dropna().astype(str):
        nhs |= {n, f"{n[:3]} {n[3:6]} {n[6:]}"}
    dobs = set()
    for d in pd.to_datetime(p["dob"], errors="coerce").dropna():
        dobs |= {d.strftime("%Y-%m-%d"), d.strftime("%d/%m/%Y")}
    postcodes = set()
    for pc in p["postcode"].dropna().str.upper().str.strip():
        if len(pc) >= 5:
            postcodes |= {pc, pc.replace(" ", "")}
    return {"name": names, "upn": upns, "nhs_number": nhs, "dob": dobs, "postcode": postcodes}


def _notebook_texts(path: Path, allow_synthetic_examples: bool):
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if allow_synthetic_examples and SYNTHETIC_EXAMPLE_TAG in tags:
            continue
        if cell.cell_type == "markdown":
            yield f"{path}#cell{i}", cell.source
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            data = out.get("data", {})
            text += "".join(str(v) for k, v in data.items() if not k.startswith("image/"))
            yield f"{path}#cell{i}", text


def scan_for_identifiers(paths: list[Path], persons: pd.DataFrame,
                         allow_synthetic_examples: bool = False) -> list[tuple[str, str, str]]:
    """Find identifiers of input records in published files: (file, kind, value) per hit.

    Executed notebooks are scanned cell by cell (outputs and markdown); other files (CSV,
    HTML, alt text) as text. Cells tagged ``synthetic-row-level`` are skipped only when
    ``allow_synthetic_examples`` (the run was on synthetic data and the page says so).
    """
    import re

    ids = identifier_strings(persons)
    token = re.compile(r"[A-Za-z0-9/'\-]+")
    hits = []
    for path in paths:
        path = Path(path)
        if path.suffix == ".ipynb":
            texts = list(_notebook_texts(path, allow_synthetic_examples))
        else:
            texts = [(str(path), path.read_text(encoding="utf-8", errors="replace"))]
        for where, text in texts:
            parts = token.findall(text)
            words = {" ".join(parts[j:j + k]) for k in (1, 2, 3) for j in range(len(parts))}
            for kind, values in ids.items():
                for value in sorted(values & words):
                    hits.append((where, kind, value))
    return hits
