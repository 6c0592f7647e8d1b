"""The ``hampshire-research`` command: generate, convert, validate, link, build, run, compare,
audit-disclosure, render, preview, all.

Exit status: 0 success; 1 a notebook failed (its executed copy keeps the error) or the
disclosure audit found a cell too narrow; 2 a problem
with the input or set-up, printed as one line without a traceback (for example a bad params
file, a missing data folder, a file that kept less than the threshold share of its rows, a
source with no rows kept, or ``render`` without Quarto installed).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import subprocess
import sys
import time
from pathlib import Path

from . import paths
from .errors import ProjectError
from .params import load_site, site_ids
from .paths import params_dir, project_root

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


def _folder(value: str) -> Path:
    """A folder named on the command line: relative to where the command runs."""
    return Path(value).resolve()


def cmd_generate(args) -> int:
    from . import synthetic

    params = load_site(args.site)
    out = Path(args.out).resolve() if args.out else params.data_path
    summary = synthetic.generate_site(params, args.scale, args.seed, out)
    for key, value in summary.items():
        print(f"{key}: {value}")
    return 0


def cmd_convert(args) -> int:
    from .sources.school_census_export import convert_school_census

    summary = convert_school_census(args.src, args.out)
    print(summary.to_string(index=False))
    print(f"\nwritten to {args.out}: check it with `hampshire-research validate` "
          "(school_census/ of the data folder)")
    return 0


def _built(args, *, link: bool = True, backend: str | None = None):
    """The one build step (validate, then link unless told not to), cached."""
    from .build import build_tables

    params = load_site(args.site)
    return build_tables(params, args.data, backend=backend, derived_root=args.derived,
                        link=link, min_kept=args.min_kept, allow_empty=args.allow_empty,
                        log=log)


def _print_report(built, verbose: bool) -> None:
    from . import sources

    print(sources.format_report(sources.load_report(built.root), verbose=verbose))
    print(f"(every file: {built.root / 'validation_report.csv'})")


def _print_summary(built) -> None:
    import json

    from . import linkage
    from .sources.schemas import read_parquet

    linked = built.root / "linked"
    print(linkage.format_summary(json.loads((linked / "summary.json").read_text())))
    print(linkage.format_blocking(read_parquet(linked / "blocking.parquet")))


def cmd_validate(args) -> int:
    _print_report(_built(args, link=False), args.verbose)
    return 0


def cmd_link(args) -> int:
    """Link the records of --data (validating them first when their canonical tables are not
    fresh): never tables built from other data."""
    _print_summary(_built(args, backend=args.backend))
    return 0


def cmd_build(args) -> int:
    built = _built(args, backend=args.backend)
    _print_report(built, args.verbose)
    _print_summary(built)
    return 0


def _report_failures(result) -> int:
    for r in result.failed:
        print(f"notebook failed: {r.output}: {r.error}", file=sys.stderr)
    return 1 if result.failed else 0


def cmd_run(args) -> int:
    from .run import run_site

    params = load_site(args.site)
    result = run_site(params, args.notebooks, args.data, reports_root=args.reports,
                      derived_root=args.derived, min_kept=args.min_kept,
                      allow_empty=args.allow_empty, log=log)
    return _report_failures(result)


def cmd_compare(args) -> int:
    from .run import run_cross_site

    return _report_failures(run_cross_site(args.sites or site_ids(), args.reports, log=log))


def cmd_audit_disclosure(args) -> int:
    """Attack the site's published tables family by family; 1 if any cell is too narrow."""
    from .disclosure_audit import audit_site

    params = load_site(args.site)
    folder = paths.reports_dir(args.site, args.reports) / "tables"
    if not folder.is_dir():
        raise ProjectError("no published tables: run the notebooks first", path=folder)
    findings = audit_site(folder, params.disclosure_profile)
    for family, found in findings.items():
        print(f"{family}: {len(found)} suppressed cell(s) narrower than the profile allows")
        for f in found:
            print(f"  {f.describe()}")
    return 1 if any(findings.values()) else 0


def render(reports_root: str | Path | None = None) -> None:
    """Write the site's menus from params/, then render it with Quarto into _site/.

    Quarto publishes the project's reports/ folder (its render list), so a run written to
    another reports folder is refused here rather than published half-empty.
    """
    from .website import write_site_files

    quarto = shutil.which("quarto")
    if not quarto:
        raise ProjectError(QUARTO_HELP)
    root = paths.reports_root(reports_root).resolve()
    if root != project_root() / "reports":
        raise ProjectError("the site is rendered from the project's reports/ folder: run the "
                           "notebooks without --reports (or copy the run there) to render it",
                           path=root)
    write_site_files(project_root(), params_dir())
    done = subprocess.run([quarto, "render"], cwd=project_root())
    if done.returncode:
        raise ProjectError(f"quarto render failed with exit status {done.returncode}")


def cmd_render(args) -> int:
    render(args.reports)
    return 0


def site_server(folder: Path, port: int) -> http.server.ThreadingHTTPServer:
    """A web server for the rendered site on this machine only (127.0.0.1): the site's search
    fetches its index, which browsers refuse for pages opened from a disk or a shared drive."""
    if not (folder / "index.html").is_file():
        raise ProjectError("no rendered site: run 'hampshire-research render' first", path=folder)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)


def cmd_preview(args) -> int:
    with site_server(project_root() / "_site", args.port) as server:
        log(f"the site is at http://localhost:{server.server_port}/ (Ctrl+C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


def _timed(timings: list, name: str, action, *args, **kwargs):
    start = time.perf_counter()
    log(f"{name} ...")
    result = action(*args, **kwargs)
    timings.append((name, time.perf_counter() - start))
    return result


def cmd_all(args) -> int:
    """Every step for every site, then the comparison, then the site (if Quarto is here)."""
    from . import synthetic
    from .build import build_tables
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
        checks = {"min_kept": args.min_kept, "allow_empty": args.allow_empty}
        built = _timed(timings, f"[{site}] validate and link", build_tables, params, data_dir,
                       derived_root=args.derived, log=log, **checks)
        result = _timed(timings, f"[{site}] notebooks", run_site, params, "*.ipynb",
                        built.data_dir, reports_root=args.reports, derived_root=args.derived,
                        log=log, **checks)
        status |= _report_failures(result)
    status |= _report_failures(_timed(timings, "compare", run_cross_site, site_ids(),
                                      args.reports, log))
    if not shutil.which("quarto"):
        log("WARNING: site not rendered. " + QUARTO_HELP)
    elif paths.reports_root(args.reports).resolve() != project_root() / "reports":
        log("site not rendered: the run went to another reports folder than the project's")
    else:
        _timed(timings, "render", render)
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

    def data_and_derived(p):
        p.add_argument("--site", required=True)
        p.add_argument("--data", type=_folder, default=None,
                       help="data folder (default: the site's data_dir)")
        p.add_argument("--derived", type=_folder, default=None, metavar="DIR",
                       help="folder of derived tables (default: data/derived/)")

    p = sub.add_parser("convert", help="turn a school-census export (its relational tables) "
                                       "into the project's school census layout")
    p.add_argument("kind", choices=["school-census"])
    p.add_argument("src", type=_folder, help="folder of <YYYY>_<term>_<table>.csv files")
    p.add_argument("out", type=_folder, help="the data folder's school_census/ to write")
    p.set_defaults(func=cmd_convert)

    def checks(p):
        p.add_argument("--min-kept", type=float, default=None, metavar="SHARE",
                       help="fail when a file keeps less than this share of its rows "
                            "(default: the site's min_kept_share)")
        p.add_argument("--allow-empty", action="store_true",
                       help="go on when a source has no rows kept")

    def verbose(p):
        p.add_argument("--verbose", action="store_true",
                       help="print every file's counts and reasons, not only each source's")

    backends = ["duckdb", "spark"]
    p = sub.add_parser("validate", help="read a site's extracts into canonical tables and report")
    data_and_derived(p)
    checks(p)
    verbose(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("link", help="link the records of a site's data into a single view "
                                    "(validating them first if needed)")
    data_and_derived(p)
    checks(p)
    p.add_argument("--backend", choices=backends, default="duckdb")
    p.set_defaults(func=cmd_link)

    p = sub.add_parser("build", help="validate and link a site's data (what the notebooks use)")
    data_and_derived(p)
    checks(p)
    verbose(p)
    p.add_argument("--backend", choices=backends, default=None,
                   help="default: the backend of the last link (duckdb if none)")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("run", help="execute the notebooks for a site into REPORTS/SITE/")
    data_and_derived(p)
    checks(p)
    p.add_argument("--notebooks", default="*.ipynb", help="glob of notebooks to run")
    p.add_argument("--reports", type=_folder, default=None, metavar="DIR",
                   help="default: reports/")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("compare", help="run the cross-site comparison once the sites have run")
    p.add_argument("--sites", nargs="*", default=None)
    p.add_argument("--reports", type=_folder, default=None, metavar="DIR",
                   help="default: reports/")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("audit-disclosure", help="check that no suppressed cell of a site's "
                       "published tables can be narrowed from the other published numbers")
    p.add_argument("--site", required=True)
    p.add_argument("--reports", type=_folder, default=None, metavar="DIR",
                   help="default: reports/")
    p.set_defaults(func=cmd_audit_disclosure)

    p = sub.add_parser("render", help="render the Quarto site into _site/")
    p.add_argument("--reports", type=_folder, default=None, metavar="DIR",
                   help="default: reports/")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("preview", help="serve the rendered site (_site/) on this machine, so "
                                       "that its search works")
    p.add_argument("--port", type=int, default=8000, help="default: 8000")
    p.set_defaults(func=cmd_preview)

    p = sub.add_parser("all", help="validate, link and run every notebook for every site, "
                                   "compare, then render")
    p.add_argument("--scale", type=float, default=None,
                   help="regenerate synthetic data at this scale first (1 = whole county)")
    p.add_argument("--reports", type=_folder, default=None, metavar="DIR",
                   help="default: reports/")
    p.add_argument("--derived", type=_folder, default=None, metavar="DIR",
                   help="default: data/derived/")
    checks(p)
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
