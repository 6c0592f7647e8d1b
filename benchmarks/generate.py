"""Benchmark: generate each site at full scale (scale 1.0) and print seconds and peak memory.

Target: full Hampshire (about 290,000 children aged 0-17, about 380,000 over the window) in
90 s or less and 3 GB or less on a 2-core machine. CPU seconds are printed too, since wall
time on a shared machine includes waiting for a core. Each site runs in its own process so peak
memory is that site's alone. Output goes to a temporary folder, removed afterwards.

    python benchmarks/generate.py [--sites hampshire north_yorkshire] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = """
import json, resource, sys, time
from pathlib import Path
from hampshire_research.params import load_site
from hampshire_research.synthetic import generate_site
site, scale, out = sys.argv[1], float(sys.argv[2]), Path(sys.argv[3])
t = time.perf_counter()
s = generate_site(load_site(site), scale, None, out)
secs = time.perf_counter() - t
usage = resource.getrusage(resource.RUSAGE_SELF)
peak_mb = usage.ru_maxrss / 1024
cpu = usage.ru_utime + usage.ru_stime
size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 2**20
print(json.dumps({"site": site, "scale": scale, "seconds": round(secs, 1), "cpu_seconds": round(cpu, 1),
                  "peak_memory_mb": round(peak_mb), "children": s["children"],
                  "files": len(s["files"]), "output_mb": round(size),
                  "records": s["records"]}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", nargs="+", default=["hampshire", "north_yorkshire"])
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    env = dict(os.environ, TQDM_DISABLE="1")
    for site in args.sites:
        with tempfile.TemporaryDirectory() as tmp:
            res = subprocess.run([sys.executable, "-c", CHILD, site, str(args.scale), tmp],
                                 capture_output=True, text=True, env=env)
            if res.returncode != 0:
                print(res.stderr[-2000:], file=sys.stderr)
                return 1
            row = json.loads(res.stdout.strip().splitlines()[-1])
            print(f"{row['site']}: scale {row['scale']}, {row['children']:,} children, "
                  f"{row['seconds']} s ({row['cpu_seconds']} s CPU), "
                  f"peak memory {row['peak_memory_mb']:,} MB, "
                  f"{row['files']} files, {row['output_mb']} MB written")
            print(f"  records: {json.dumps(row['records'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
