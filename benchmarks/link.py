"""Linkage at full county scale: records, candidate pairs, seconds and peak memory, printed.

    python benchmarks/link.py [--site hampshire] [--scale 1.0] [--backend duckdb|spark]

Generates the site's synthetic data at the given scale (all sources, all years) under
data/generated/<site>-scale-<scale>/, as benchmarks/all.py does (inside the committed sample's
folder it would become an input of the main job, which hashes every file there), and reads it
into canonical tables, unless they are already there; then links in a child process, so the
peak memory printed is the linkage's own.
Targets (issue 17): full Hampshire in <= 60 s and <= 3 GB on a 2-core machine, with pairwise
F1 >= 0.995 and recall >= 0.993 against the generator's key.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from hampshire_research import linkage, sources, synthetic
from hampshire_research.params import load_site
from hampshire_research.paths import project_root


def _prepare_inputs(site: str, scale: float) -> tuple[Path, Path]:
    params = load_site(site)
    data = project_root() / "data" / "generated" / f"{site}-scale-{scale:g}"
    work = project_root() / "data" / "derived" / site / "benchmark" / f"scale_{scale:g}"
    if not (data / "synthetic.json").is_file():
        t = time.perf_counter()
        synthetic.generate_site(params, scale, params.seed, data)
        print(f"generated {data} in {time.perf_counter() - t:.0f} s", flush=True)
    if not (work / "canonical" / "persons.parquet").is_file():
        t = time.perf_counter()
        sources.validate_site(params, data, work)
        print(f"canonical tables in {time.perf_counter() - t:.0f} s", flush=True)
    return data, work


def _link(site: str, data: Path, work: Path, backend: str) -> None:
    """The measured step: runs in its own process."""
    params = load_site(site)
    summary = linkage.link_site(params, work / "canonical", work / f"linked_{backend}", backend,
                                truth=data / "truth" / "linkage_key.csv")
    print(json.dumps(summary, default=str))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", default="hampshire")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--backend", default="duckdb", choices=["duckdb", "spark"])
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _link(args.site, Path(args.child[0]), Path(args.child[1]), args.backend)
        return
    data, work = _prepare_inputs(args.site, args.scale)
    t = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--site", args.site, "--backend",
                           args.backend, "--child", str(data), str(work)],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t
    if done.returncode:
        sys.exit(done.stderr[-3000:])
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    print(linkage.format_summary(summary))
    print(f"steps (s): {summary['seconds_by_step']}")
    print(f"records {summary['records']:,} | candidate pairs {summary['candidate_pairs']:,} | "
          f"link {summary['seconds']:.1f} s (process {wall:.1f} s incl. start-up) | "
          f"peak memory {peak_gb:.2f} GB")
    q = summary["quality"]
    print("target <= 60 s and <= 3 GB:", "met" if wall <= 60 and peak_gb <= 3 else "NOT met")
    if q:
        print(f"target F1 >= 0.995 and recall >= 0.993 (F1 {q['f1']:.4f}, recall "
              f"{q['recall']:.4f}):", "met" if q["f1"] >= 0.995 and q["recall"] >= 0.993
              else "NOT met")


if __name__ == "__main__":
    main()
