"""The disclosure audit on runs the committed samples do not cover: each site at several scales
and seeds, generated, run through every per-site notebook, then attacked with
`hampshire-research audit-disclosure` (an integer program per suppressed cell over every family
of published tables). Prints, per run, the suppressed cells that could be narrowed below the
profile's width (0 is a pass) and the seconds taken.

    python benchmarks/disclosure_seeds.py [--sites hampshire north_yorkshire]
        [--scales 0.01 0.03] [--seeds 1 2 3]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hampshire_research", *args],
                          capture_output=True, text=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sites", nargs="+", default=["hampshire", "north_yorkshire"])
    ap.add_argument("--scales", nargs="+", default=["0.01", "0.03"])
    ap.add_argument("--seeds", nargs="+", default=["1", "2", "3"])
    a = ap.parse_args()
    print(f"{'site':<16}{'scale':>6}{'seed':>6}{'narrow cells':>14}{'s':>8}", flush=True)
    failed = 0
    for site in a.sites:
        for scale in a.scales:
            for seed in a.seeds:
                with tempfile.TemporaryDirectory() as tmp:
                    tmp = Path(tmp)
                    t = time.perf_counter()
                    data, derived, reports = tmp / "data", tmp / "derived", tmp / "reports"
                    steps = [("generate", "--site", site, "--scale", scale, "--seed", seed,
                              "--out", str(data)),
                             ("run", "--site", site, "--data", str(data), "--derived",
                              str(derived), "--reports", str(reports)),
                             ("audit-disclosure", "--site", site, "--reports", str(reports))]
                    for step in steps:
                        done = _cli(*step)
                        if done.returncode != 0 and step[0] != "audit-disclosure":
                            print(f"{site:<16}{scale:>6}{seed:>6}  {step[0]} failed: "
                                  f"{(done.stderr or done.stdout).strip().splitlines()[-1]}")
                            failed += 1
                            break
                    else:
                        narrow = sum(int(n) for n in re.findall(r": (\d+) suppressed cell",
                                                                done.stdout))
                        failed += narrow > 0 or done.returncode != 0
                        print(f"{site:<16}{scale:>6}{seed:>6}{narrow:>14}"
                              f"{time.perf_counter() - t:>8.0f}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
