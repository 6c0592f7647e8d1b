"""The website's menus, generated from params/: every site with a params file gets its menu
in the navbar and a line on the home page, with no other edit.

`hampshire-research render` writes two git-ignored files beside _quarto.yml before Quarto
runs: _navbar.yml (merged into the project through `metadata-files`) and _sites.md (included
by index.qmd).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import yaml

from .params import load_site

NAVBAR_FILE = "_navbar.yml"
SITES_FILE = "_sites.md"
REPORTS = "reports"  # the folder Quarto publishes (its render list in _quarto.yml)
METHODS = ["data_dictionary.qmd", "methods_linkage.qmd", "codebook.qmd", "disclosure_control.qmd"]
REPRODUCIBILITY = "09_reproducibility.ipynb"


def _front_matter(cell) -> dict | None:
    """The YAML front matter of a notebook's raw first cell, if it has one."""
    if cell.cell_type != "raw" or not cell.source.startswith("---"):
        return None
    return yaml.safe_load(cell.source.split("---")[1])


def page_title(nb: nbformat.NotebookNode) -> str:
    """A notebook page's title as Quarto takes it: the front matter's, else the first # heading."""
    first = nb.cells[0]
    front = _front_matter(first)
    if front is not None:
        return front["title"]
    return first.source.splitlines()[0].removeprefix("# ")


def name_site_in_title(nb: nbformat.NotebookNode, site_name: str) -> None:
    """Title a site's page "<Page> — <Site name>": both sites' pages would otherwise share
    titles in the browser's tabs and history and in the search results."""
    first = nb.cells[0]
    title = f"{page_title(nb)} — {site_name}"
    front = _front_matter(first)
    if front is not None:
        front["title"] = title
        first.source = "---\n" + yaml.safe_dump(front, sort_keys=False, allow_unicode=True) + "---"
    else:
        first.source = "\n".join([f"# {title}", *first.source.splitlines()[1:]])


def _is_dashboard(path: Path) -> bool:
    first = nbformat.read(path, as_version=4).cells[0]
    return first.cell_type == "raw" and "format: dashboard" in first.source


def _menu(folder: str, notebooks: list[Path]) -> list:
    """Dashboards first, then the other notebooks, each under its title without the site's
    name (the menu names it)."""
    ordered = [p for p in notebooks if _is_dashboard(p)] + [
        p for p in notebooks if not _is_dashboard(p)]
    return [{"text": page_title(nbformat.read(p, as_version=4)), "href": f"{folder}/{p.name}"}
            for p in ordered]


def sites(params_folder: Path) -> list:
    """Every site with a params file, validated, in file-name order."""
    return [load_site(p) for p in sorted(Path(params_folder).glob("*.yaml"))]


def navbar(params_folder: Path, site_notebooks: list[Path],
           cross_site_notebooks: list[Path]) -> dict:
    """The website's navbar: home, one menu per site, comparison, methods, reproducibility."""
    compare = [p for p in cross_site_notebooks if p.name != REPRODUCIBILITY]
    left = [{"text": "Home", "href": "index.qmd"}]
    left += [{"text": s.display_name, "menu": _menu(f"{REPORTS}/{s.site}", site_notebooks)}
             for s in sites(params_folder)]
    left += [{"text": "Comparison", "menu": _menu(f"{REPORTS}/compare", compare)},
             {"text": "Methods", "menu": [f"{REPORTS}/{page}" for page in METHODS]}]
    if any(p.name == REPRODUCIBILITY for p in cross_site_notebooks):
        left.append({"text": "Reproducibility", "href": f"{REPORTS}/compare/{REPRODUCIBILITY}"})
    left.append({"text": "Run it on your data", "href": f"{REPORTS}/run_on_your_data.qmd"})
    return {"website": {"navbar": {"left": left}}}


def sites_list(params_folder: Path, site_notebooks: list[Path]) -> str:
    """The home page's list of sites (markdown), each linking to its first page."""
    first = next((p for p in site_notebooks if _is_dashboard(p)), site_notebooks[0])
    return "".join(f"- **[{s.display_name}]({REPORTS}/{s.site}/{first.name})** (LA "
                   f"{s.la_number}): the site's dashboard and its notebooks.\n"
                   for s in sites(params_folder))


def write_site_files(out: Path, params_folder: Path) -> list[Path]:
    """Write _navbar.yml and _sites.md into `out` (the Quarto project folder)."""
    from .run import cross_site_notebooks, site_notebooks

    per_site, cross = site_notebooks(), cross_site_notebooks()
    nav = Path(out) / NAVBAR_FILE
    nav.write_text("# Generated from params/ by `hampshire-research render`: do not edit.\n"
                   + yaml.safe_dump(navbar(params_folder, per_site, cross), sort_keys=False),
                   encoding="utf-8")
    listing = Path(out) / SITES_FILE
    listing.write_text(sites_list(params_folder, per_site), encoding="utf-8")
    return [nav, listing]
