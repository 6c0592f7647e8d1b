"""Where things live, resolved from the project root so papermill, nbval and Quarto agree."""

from pathlib import Path


def project_root() -> Path:
    """The folder holding pyproject.toml and params/ (the source checkout)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "params").is_dir() and (parent / "pyproject.toml").is_file():
            return parent
    return Path.cwd()


def params_dir() -> Path:
    return project_root() / "params"


def reports_dir(site: str) -> Path:
    """Executed notebooks, tables and the manifest of one site's run."""
    return project_root() / "reports" / site


def derived_dir(site: str) -> Path:
    """Canonical and linked tables built from a site's data (never committed)."""
    return project_root() / "data" / "derived" / site
