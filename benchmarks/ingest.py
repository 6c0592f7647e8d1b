"""Ingest at full Hampshire scale: seconds and peak memory of `validate_site`.

Target: <= 60 s and <= 3 GB. Generates the full-scale synthetic site into a temporary folder
first (in a child process, not timed or counted), unless --data points at an existing site
folder (e.g. data/generated/hampshire-scale-1).

    python benchmarks/ingest.py [--site hampshire] [--scale 1.0] [--data DIR] [--profile]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hampshire_research.params import load_site
from hampshire_research.sources import format_report, validate_site

GENERATE = """
import sys
from pathlib import Path
from hampshire_research.params import load_site
from hampshire_research.synthetic import generate_site
generate_site(load_site(sys.argv[1]), float(sys.argv[2]), None, Path(sys.argv[3]))
"""


def peak_memory() -> int:
    """Peak resident memory of this process so far, in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", default="hampshire")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--data", type=Path, help="an existing site folder (skips generation)")
    ap.add_argument("--profile", action="store_true", help="print the slowest functions")
    args = ap.parse_args(argv)
    params = load_site(args.site)
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        data = args.data
        if data is None:
            # in a child process, so the generator's memory is not counted as the ingest's
            data = Path(tmp) / "data"
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", GENERATE, args.site, str(args.scale), str(data)],
                           check=True)
            print(f"generated {args.site} at scale {args.scale} in "
                  f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
        size = sum(p.stat().st_size for p in data.rglob("*") if p.is_file())
        out = Path(tmp) / "derived"
        profiler = None
        if args.profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        t0, c0 = time.perf_counter(), time.process_time()
        report = validate_site(params, data, out)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        if profiler:
            import pstats

            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    print(format_report(report).split("\n\n")[0])
    print(f"\ninput: {size / 1e6:,.0f} MB in {len(report)} files/record types; "
          f"rows read {report['read'].sum():,}")
    # CPU time is the fairer figure on a shared machine: wall time includes waiting for a core
    print(f"validate_site: {seconds:.1f} s wall, {cpu:.1f} s CPU (target <= 60 s), "
          f"peak memory {peak_memory() / 1e9:.2f} GB (target <= 3 GB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
