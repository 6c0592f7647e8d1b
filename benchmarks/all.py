"""The whole main job at full county scale for both sites: seconds and peak memory per step.

    python benchmarks/all.py [--scale 1.0]

Each step runs as its own process so its peak memory can be read: ru_maxrss of the
children, which is the largest single process of the step (a notebook's kernel included,
as it is reaped by its parent). Target (issue 8): the whole job in 15 minutes or less on a
2-core machine. Full-scale data goes to data/generated/ (ignored by git); the site's
derived tables and reports are overwritten, so rerun `hampshire-research all` afterwards
to return to the committed sample.
"""

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

from hampshire_research.params import load_site, site_ids
from hampshire_research.paths import derived_dir, project_root


def measure(name: str, args: list[str]) -> tuple[str, float, float]:
    code = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
            "sys.exit(r.returncode)")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=project_root(),
                          stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{name} failed:\n{done.stderr[-2000:]}")
    peak_mb = int(done.stderr.strip().splitlines()[-1]) / 1024
    print(f"{name:<34} {seconds:8.1f} s {peak_mb:9.0f} MB peak", flush=True)
    return name, seconds, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    scale = parser.parse_args().scale
    cli = [sys.executable, "-m", "hampshire_research"]
    steps = []
    for site in site_ids():
        data = Path("data/generated") / f"{site}-scale-{scale:g}"
        steps.append(measure(f"{site}: generate (scale {scale:g})",
                             [*cli, "generate", "--site", site, "--scale", str(scale), "--out", str(data)]))
        # validate and link as `all` does it: one cached step the notebooks then reuse (the
        # cache is cleared first so the step is measured, not found done)
        shutil.rmtree(derived_dir(site), ignore_errors=True)
        steps.append(measure(f"{site}: validate and link",
                             [*cli, "build", "--site", site, "--data", str(data)]))
        steps.append(measure(f"{site}: notebooks", [*cli, "run", "--site", site, "--data", str(data)]))
        print(f"  ({load_site(site).population.total * scale:,.0f} children)")
    steps.append(measure("compare", [*cli, "compare"]))
    total = sum(s for _, s, _ in steps)
    print(f"{'total':<34} {total:8.1f} s {max(m for _, _, m in steps):9.0f} MB peak "
          f"(target: 900 s)")


if __name__ == "__main__":
    main()
