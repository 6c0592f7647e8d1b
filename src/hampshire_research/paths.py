"""Where things live, resolved from the project root so papermill, nbval and Quarto agree.

Outputs go to two roots, each holding one folder per site: the reports root (executed
notebooks, published tables and figures; default reports/) and the derived root (canonical
and linked tables; default data/derived/). Every command and function that writes takes
them as parameters; the defaults can be moved with HAMPSHIRE_RESEARCH_REPORTS and
HAMPSHIRE_RESEARCH_DERIVED, which is how the test suite keeps notebooks run by nbval (which
cannot pass parameters) out of the checkout.
"""

import os
from pathlib import Path

REPORTS_ENV = "HAMPSHIRE_RESEARCH_REPORTS"
DERIVED_ENV = "HAMPSHIRE_RESEARCH_DERIVED"


def project_root() -> Path:
    """The folder holding pyproject.toml and params/ (the source checkout)."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "params").is_dir() and (parent / "pyproject.toml").is_file():
            return parent
    return Path.cwd()


def params_dir() -> Path:
    return project_root() / "params"


def _root(path: str | Path | None, env: str, default: str) -> Path:
    chosen = str(path or "") or os.environ.get(env, "") or default
    p = Path(chosen)
    return p if p.is_absolute() else project_root() / p


def reports_root(path: str | Path | None = "") -> Path:
    """The reports folder: `path` when given (relative to the project), else the default."""
    return _root(path, REPORTS_ENV, "reports")


def derived_root(path: str | Path | None = "") -> Path:
    """The folder of derived tables: `path` when given (relative to the project), else the
    default."""
    return _root(path, DERIVED_ENV, "data/derived")


def reports_dir(site: str, root: str | Path | None = "") -> Path:
    """Executed notebooks, tables and the manifest of one site's run."""
    return reports_root(root) / site


def derived_dir(site: str, root: str | Path | None = "") -> Path:
    """Canonical and linked tables built from a site's data (never committed)."""
    return derived_root(root) / site
