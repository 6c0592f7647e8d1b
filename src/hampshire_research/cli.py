"""The ``hampshire-research`` command: generate, validate, link, run, compare, render, all.

Exit status: 0 success; 1 a notebook failed (its executed copy keeps the error); 2 a problem
with the input or set-up, printed as one line without a traceback (for example a bad params
file, a missing data folder, or ``render`` without Quarto installed).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .errors import ProjectError
from .params import load_site, site_ids
from .paths import derived_dir, project_root

QUARTO_HELP = (
    "Quarto is not installed (no 'quarto' on PATH). Install it with the conda environment "
    "('conda env create -f environment.yml', which takes quarto from conda-forge), or "
    "'pip install quarto-cli' where GitHub is reachable, or Quarto's own installer from "
    "quarto.org; then run 'hampshire-research render'."
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_sites(args) -> int:
    for site in site_ids():
        p = load_site(site)
        print(f"{p.site:<18} {p.display_name:<18} LA {p.la_number}  {p.ons_code}  "
              f"children 0-17: {p.population.total:,} ({p.population.year})  "
              f"academic years {p.study_window.academic_years[0]}-"
              f"{p.study_window.academic_years[-1]}  disclosure: {p.disclosure_profile}  "
              f"seed {p.seed}")
    return 0


def _data_dir(params, data: str | None) -> Path:
    return Path(data).resolve() if data else params.data_path


def cmd_generate(args) -> int:
    from . import synthetic

    params = load_site(args.site)
    out = Path(args.out).resolve() if args.out else params.data_path
    summary = synthetic.generate_site(params, args.scale, args.seed, out)
    for key, value in summary.items():
        print(f"{key}: {value}")
    return 0


def validate(params, data_dir: Path) -> None:
    from . import sources

    report = sources.validate_site(params, data_dir, derived_dir(params.site))
    print(sources.format_report(report))


def link(params, backend: str, data_dir: Path) -> None:
    from . import linkage

    out = derived_dir(params.site)
    # the truth key (synthetic data only) sits beside the data the canonical tables came from
    summary = linkage.link_site(params, out / "canonical", out / "linked", backend=backend,
                                truth=data_dir / "truth" / "linkage_key.csv")
    print(linkage.format_summary(summary))


def prepare(params, data_dir: Path) -> None:
    """Validate and link in one cached step (what the notebooks then reuse), printing both
    reports."""
    import json

    import pandas as pd

    from . import linkage, sources

    linkage.prepare(params, data_dir)
    out = derived_dir(params.site)
    print(sources.format_report(pd.read_csv(out / "validation_report.csv", keep_default_na=False)))
    print(linkage.format_summary(json.loads((out / "linked" / "summary.json").read_text())))


def cmd_validate(args) -> int:
    params = load_site(args.site)
    validate(params, _data_dir(params, args.data))
    return 0


def cmd_link(args) -> int:
    params = load_site(args.site)
    if not (derived_dir(params.site) / "canonical").is_dir():
        raise ProjectError(f"no canonical tables yet: run 'hampshire-research validate --site "
                           f"{params.site}' first", path=derived_dir(params.site))
    link(params, args.backend, _data_dir(params, args.data))
    return 0


def _report_failures(result) -> int:
    for r in result.failed:
        print(f"notebook failed: {r.output}: {r.error}", file=sys.stderr)
    return 1 if result.failed else 0


def cmd_run(args) -> int:
    from .run import run_site

    params = load_site(args.site)
    result = run_site(params, args.notebooks, _data_dir(params, args.data), log=log)
    return _report_failures(result)


def cmd_compare(args) -> int:
    from .run import run_cross_site

    return _report_failures(run_cross_site(args.sites or site_ids(), log=log))


def render() -> None:
    quarto = shutil.which("quarto")
    if not quarto:
        raise ProjectError(QUARTO_HELP)
    done = subprocess.run([quarto, "render"], cwd=project_root())
    if done.returncode:
        raise ProjectError(f"quarto render failed with exit status {done.returncode}")


def cmd_render(args) -> int:
    render()
    return 0


def _timed(timings: list, name: str, action, *args):
    start = time.perf_counter()
    log(f"{name} ...")
    result = action(*args)
    timings.append((name, time.perf_counter() - start))
    return result


def cmd_all(args) -> int:
    """Every step for every site, then the comparison, then the site (if Quarto is here)."""
    from . import synthetic
    from .run import run_cross_site, run_site

    status = 0
    timings: list[tuple[str, float]] = []
    for site in site_ids():
        params = load_site(site)
        data_dir = params.data_path
        if args.scale is not None:
            data_dir = project_root() / "data" / "generated" / f"{site}-scale-{args.scale:g}"
            _timed(timings, f"[{site}] generate", synthetic.generate_site, params, args.scale,
                   None, data_dir)
        _timed(timings, f"[{site}] validate and link", prepare, params, data_dir)
        result = _timed(timings, f"[{site}] notebooks", run_site, params, "*.ipynb", data_dir,
                        None, log)
        status |= _report_failures(result)
    status |= _report_failures(_timed(timings, "compare", run_cross_site, site_ids(), None, log))
    if shutil.which("quarto"):
        _timed(timings, "render", render)
    else:
        log("WARNING: site not rendered. " + QUARTO_HELP)
    for name, seconds in timings:
        log(f"{name:<28} {seconds:8.1f} s")
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hampshire-research", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("sites", help="list the sites and their key parameters").set_defaults(func=cmd_sites)

    p = sub.add_parser("generate", help="write synthetic data in the formats a council holds")
    p.add_argument("--site", required=True)
    p.add_argument("--scale", type=float, default=1.0, help="share of the site's children (1 = all)")
    p.add_argument("--seed", type=int, default=None, help="default: the site's seed")
    p.add_argument("--out", default=None, help="default: the site's data_dir")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("validate", help="read a site's extracts into canonical tables and report")
    p.add_argument("--site", required=True)
    p.add_argument("--data", default=None, help="data folder (default: the site's data_dir)")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("link", help="link the canonical person records into a single view")
    p.add_argument("--site", required=True)
    p.add_argument("--backend", choices=["duckdb", "spark"], default="duckdb")
    p.add_argument("--data", default=None,
                   help="the data folder validated (for its truth key when synthetic)")
    p.set_defaults(func=cmd_link)

    p = sub.add_parser("run", help="execute the notebooks for a site into reports/SITE/")
    p.add_argument("--site", required=True)
    p.add_argument("--notebooks", default="*.ipynb", help="glob of notebooks to run")
    p.add_argument("--data", default=None, help="data folder (default: the site's data_dir)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("compare", help="run the cross-site comparison once the sites have run")
    p.add_argument("--sites", nargs="*", default=None)
    p.set_defaults(func=cmd_compare)

    sub.add_parser("render", help="render the Quarto site into _site/").set_defaults(func=cmd_render)

    p = sub.add_parser("all", help="validate, link and run every notebook for every site, "
                                   "compare, then render")
    p.add_argument("--scale", type=float, default=None,
                   help="regenerate synthetic data at this scale first (1 = whole county)")
    p.set_defaults(func=cmd_all)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ProjectError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
