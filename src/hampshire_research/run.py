"""Run the notebooks for a site through papermill and record what was run (the manifest).

Executed notebooks land in ``<reports root>/<site>/NN_name.ipynb`` (default reports/); Quarto
publishes them as they are and never re-executes them. A run first builds (or reuses) the
site's canonical and linked tables, so every notebook finds them fresh. A failing notebook
keeps its executed copy (papermill writes it with the error), the others still run, and the
failures are reported together.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import nbformat
import papermill as pm

from . import explore, paths
from .build import Built, build_tables
from .errors import ProjectError
from .params import SiteParams
from .paths import project_root
from .vocabulary import is_synthetic
from .website import name_site_in_title

NOTEBOOKS_DIR = "notebooks"
KEY_PACKAGES = ["hampshire-research", "pandas", "numpy", "duckdb", "splink", "statsmodels",
                "papermill", "pandera", "matplotlib", "pyarrow"]
HIDDEN = "#| include: false\n"


@dataclass
class NotebookRun:
    notebook: str
    output: str
    status: str = "ok"
    seconds: float = 0.0
    error: str | None = None


@dataclass
class RunResult:
    site: str
    runs: list[NotebookRun] = field(default_factory=list)

    @property
    def failed(self) -> list[NotebookRun]:
        return [r for r in self.runs if r.status != "ok"]


def notebooks_dir() -> Path:
    return project_root() / NOTEBOOKS_DIR


def notebook_parameters(path: Path) -> dict:
    """papermill's view of a notebook's parameters cell.

    Committed notebooks have their kernelspec stripped, which papermill needs to infer the
    language, so it inspects a copy that names the python3 kernel.
    """
    nb = nbformat.read(path, as_version=4)
    nb.metadata.setdefault("kernelspec", {"name": "python3", "language": "python",
                                          "display_name": "Python 3"})
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        nbformat.write(nb, copy)
        return pm.inspect_notebook(str(copy))


def site_notebooks(pattern: str = "*.ipynb") -> list[Path]:
    """Per-site notebooks (those with a ``site`` parameter), in file-name order."""
    found = sorted(notebooks_dir().glob(pattern))
    return [p for p in found if "site" in notebook_parameters(p)]


def cross_site_notebooks() -> list[Path]:
    """Notebooks that compare sites (those with a ``sites`` parameter)."""
    return [p for p in sorted(notebooks_dir().glob("*.ipynb")) if "sites" in notebook_parameters(p)]


def check_parameters(path: Path, parameters: dict) -> None:
    """Fail before running when we would pass a parameter the notebook does not declare."""
    declared = notebook_parameters(path)
    unknown = sorted(set(parameters) - set(declared))
    if unknown:
        raise ProjectError(f"notebook has no parameter(s) {unknown}; it declares "
                           f"{sorted(declared)}", path=path)


def _prepare_page(output: Path, site_name: str | None) -> None:
    """Hide the parameters and injected-parameters cells from the published page; a site's
    page has the site's name in its title."""
    nb = nbformat.read(output, as_version=4)
    if site_name:
        name_site_in_title(nb, site_name)
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type == "code" and ({"parameters", "injected-parameters"} & set(tags)):
            if not cell.source.startswith(HIDDEN):
                cell.source = HIDDEN + cell.source
    nbformat.write(nb, output)


def execute(path: Path, output: Path, parameters: dict, site_name: str | None = None
            ) -> NotebookRun:
    """Execute one notebook (a site's if site_name is given); a cell error is recorded, not
    raised."""
    check_parameters(path, parameters)
    output.parent.mkdir(parents=True, exist_ok=True)
    run = NotebookRun(notebook=path.name, output=_shown(output))
    start = time.perf_counter()
    try:
        pm.execute_notebook(str(path), str(output), parameters=parameters,
                            kernel_name="python3", language="python", cwd=str(path.parent),
                            progress_bar=False, log_output=False)
    except pm.PapermillExecutionError as e:
        run.status = "failed"
        first_line = (e.source or "").strip().splitlines()[0][:60] if e.source else ""
        run.error = f"cell In [{e.exec_count}] `{first_line}`: {e.ename}: {e.evalue}"
    run.seconds = round(time.perf_counter() - start, 2)
    if output.exists():
        _prepare_page(output, site_name)
    return run


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project_root(), text=True,
                             capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=project_root(), text=True, capture_output=True).stdout.strip()
        return out + ("+uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def package_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def quarto_version() -> str | None:
    """The Quarto on this machine, which renders the pages a run writes (None if absent)."""
    quarto = shutil.which("quarto")
    if not quarto:
        return None
    done = subprocess.run([quarto, "--version"], capture_output=True, text=True)
    return done.stdout.strip() or None


def _shown(path: Path) -> str:
    """A path as it should appear in outputs: relative to the project when inside it."""
    path = Path(path).resolve()
    return str(path.relative_to(project_root())) if path.is_relative_to(project_root()) else str(path)


def write_manifest(params: SiteParams, result: RunResult, built: Built, out_dir: Path) -> Path:
    """What was run, with the input file hashes the build took (not hashed again)."""
    manifest = {
        "site": params.site,
        "display_name": params.display_name,
        "git_commit": git_commit(),
        "params_file": f"params/{params.site}.yaml",
        "params_hash": params.digest(),
        "data_dir": _shown(built.data_dir),
        "synthetic": is_synthetic(built.data_dir),
        "package_versions": package_versions(),
        "input_files": built.inputs,
        "notebooks": [r.__dict__ for r in result.runs],
        "seconds": round(sum(r.seconds for r in result.runs), 2),
    }
    path = out_dir / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path


def run_site(params: SiteParams, pattern: str = "*.ipynb", data_dir: Path | None = None, *,
             reports_root: Path | str | None = None, derived_root: Path | str | None = None,
             min_kept: float | None = None, allow_empty: bool = False,
             log=print) -> RunResult:
    """Build (or reuse) the site's tables, then execute its notebooks in order into
    <reports root>/<site>/, write the explore page over what they published, and the manifest."""
    notebooks = site_notebooks(pattern)
    if not notebooks:
        raise ProjectError(f"no per-site notebook matches {pattern!r}", path=notebooks_dir())
    built = build_tables(params, data_dir, derived_root=derived_root, min_kept=min_kept,
                         allow_empty=allow_empty, log=log)
    out_dir = paths.reports_dir(params.site, reports_root)
    parameters = {"site": params.site, "data_dir": _shown(built.data_dir),
                  "reports_root": _shown(paths.reports_root(reports_root)),
                  "derived_root": _shown(paths.derived_root(derived_root))}
    result = RunResult(site=params.site)
    for i, nb in enumerate(notebooks, 1):
        log(f"[{params.site}] {i}/{len(notebooks)} {nb.name} ...")
        run = execute(nb, out_dir / nb.name, parameters, params.display_name)
        log(f"[{params.site}] {nb.name}: {run.status} in {run.seconds:.1f} s"
            + (f" ({run.error})" if run.error else ""))
        result.runs.append(run)
    explore.write_page(params, out_dir, built.data_dir)
    write_manifest(params, result, built, out_dir)
    return result


def run_cross_site(sites: list[str], reports_root: Path | str | None = None,
                   log=print) -> RunResult:
    """Execute the cross-site notebooks into <reports root>/compare/ once every site has run."""
    root = paths.reports_root(reports_root)
    missing = [s for s in sites if not (root / s / "manifest.json").is_file()]
    if missing:
        raise ProjectError(f"run these sites first: {', '.join(missing)}", path=root)
    result = RunResult(site="compare")
    manifest = {"site": "compare", "sites": list(sites), "git_commit": git_commit(),
                "quarto_version": quarto_version(), "notebooks": []}
    for nb in cross_site_notebooks():
        log(f"[compare] {nb.name} ...")
        run = execute(nb, root / "compare" / nb.name,
                      {"sites": list(sites), "reports_root": _shown(root)})
        log(f"[compare] {nb.name}: {run.status} in {run.seconds:.1f} s"
            + (f" ({run.error})" if run.error else ""))
        result.runs.append(run)
        # written after each notebook, so the reproducibility page (the last) lists those before it
        manifest["notebooks"] = [r.__dict__ for r in result.runs]
        (root / "compare" / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n",
                                                       encoding="utf-8")
    return result


def read_manifests(sites: list[str], reports_root: Path | None = None) -> dict[str, dict]:
    """The run manifests of the given sites (or of "compare", the cross-site run), for the
    reproducibility page."""
    root = paths.reports_root(reports_root)
    out = {}
    for site in sites:
        path = root / site / "manifest.json"
        if not path.is_file():
            raise ProjectError("no manifest: run the site first", path=path)
        out[site] = json.loads(path.read_text(encoding="utf-8"))
    return out


def input_digest(manifest: dict) -> str:
    """One hash over all input file hashes: equal digests mean identical inputs."""
    text = json.dumps(manifest.get("input_files", {}), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
