"""The whole main job for both sites: seconds and peak memory per step, at one or more scales.

    python benchmarks/all.py [--scale 1.0 [0.5 ...]] [--out data/generated/benchmark_all]

Each step runs as its own process so its peak memory can be read: ru_maxrss of the
children, which is the largest single process of the step (a notebook's kernel included,
as it is reaped by its parent). Target (issue 18): the whole job for both sites in 300 s and
3 GB or less on a 2-core machine. With several scales (issue 18 asks for 0.1 0.25 0.5 1.0) it
prints, per step, the slope of log time and log memory on log scale (1 is linear growth, above
1 faster than linear) and what ten times the size would need, and writes the figures (all.csv)
and a chart of them (scaling.png) under --out. Full-scale data goes to data/generated/
(ignored by git); the site's derived tables and reports are overwritten, so rerun
`hampshire-research all` afterwards to return to the committed sample.
"""

import argparse
import csv
import shutil
import subprocess
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter

from hampshire_research.params import load_site, site_ids
from hampshire_research.paths import derived_dir, project_root

TARGET_SECONDS, TARGET_MB = 300, 3 * 1024


def measure(name: str, args: list[str]) -> tuple[float, float]:
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
    print(f"{name:<44} {seconds:8.1f} s {peak_mb:9.0f} MB peak", flush=True)
    return seconds, peak_mb


def job(scale: float) -> list[dict]:
    """The main job at one scale: generate, validate and link (and code the case notes),
    the notebooks, for each site; then compare. One row a step."""
    cli = [sys.executable, "-m", "hampshire_research"]
    rows = []

    def step(site: str, name: str, args: list[str]) -> None:
        seconds, mb = measure(f"{site}: {name} (scale {scale:g})", args)
        rows.append({"scale": scale, "site": site, "step": name, "seconds": round(seconds, 1),
                     "peak_mb": round(mb)})

    for site in site_ids():
        data = Path("data/generated") / f"{site}-scale-{scale:g}"
        step(site, "generate", [*cli, "generate", "--site", site, "--scale", str(scale),
                                "--out", str(data)])
        # as `all` does it: one cached build the notebooks then reuse (cleared first, so the
        # step is measured, not found done)
        shutil.rmtree(derived_dir(site), ignore_errors=True)
        step(site, "validate, link, code notes", [*cli, "build", "--site", site,
                                                  "--data", str(data)])
        step(site, "notebooks", [*cli, "run", "--site", site, "--data", str(data)])
        print(f"  ({load_site(site).population.total * scale:,.0f} children)")
    step("both", "compare", [*cli, "compare"])
    total = sum(r["seconds"] for r in rows)
    peak = max(r["peak_mb"] for r in rows)
    print(f"{'total':<44} {total:8.1f} s {peak:9.0f} MB peak (target: {TARGET_SECONDS} s, "
          f"{TARGET_MB} MB)")
    rows.append({"scale": scale, "site": "both", "step": "total", "seconds": round(total, 1),
                 "peak_mb": peak})
    return rows


def slopes(rows: list[dict]) -> list[dict]:
    """Per step, the slope of log seconds and log peak memory against log scale."""
    out = []
    for key in dict.fromkeys((r["site"], r["step"]) for r in rows):
        pts = [r for r in rows if (r["site"], r["step"]) == key]
        x = np.log([r["scale"] for r in pts])
        out.append({"site": key[0], "step": key[1],
                    "time_slope": float(np.polyfit(x, np.log([r["seconds"] for r in pts]), 1)[0]),
                    "memory_slope": float(np.polyfit(x, np.log([r["peak_mb"] for r in pts]),
                                                     1)[0])})
    return out


def _totals(rows: list[dict]) -> list[dict]:
    """The whole job's row at each scale, smallest scale first."""
    return sorted((r for r in rows if r["step"] == "total"), key=lambda r: r["scale"])


def project(rows: list[dict], scale: float) -> tuple[float, float]:
    """The whole job's seconds and peak MB at `scale`, carrying on the straight line through
    the two largest scales measured: the small scales' fixed costs (kernels, imports, the
    disclosure audit) flatten a fitted slope, and a larger council would not enjoy them."""
    (s0, t0, m0), (s1, t1, m1) = [(r["scale"], r["seconds"], r["peak_mb"])
                                  for r in _totals(rows)[-2:]]
    return (t1 + (t1 - t0) / (s1 - s0) * (scale - s1), m1 + (m1 - m0) / (s1 - s0) * (scale - s1))


def chart(rows: list[dict], path: Path) -> None:
    """Seconds and peak memory of the whole job against scale, on log axes, with the line
    that linear growth from the smallest scale would follow."""
    total = _totals(rows)
    scale = np.array([r["scale"] for r in total])
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, col, label in ((axes[0], "seconds", "Seconds, both sites"),
                           (axes[1], "peak_mb", "Peak memory (MB)")):
        y = np.array([r[col] for r in total], dtype=float)
        ax.loglog(scale, y, marker="o", label="measured")
        ax.loglog(scale, y[0] * scale / scale[0], linestyle="--", color="grey",
                  label="linear growth")
        ax.set_xticks(scale, [f"{v:g}" for v in scale], minor=False)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yticks(y, [f"{v:,.0f}" for v in y], minor=False)  # the measured figures
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set(xlabel="Scale (1 = Hampshire's and North Yorkshire's size)", ylabel=label)
        ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120, metadata={"Software": None})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, nargs="+", default=[1.0])
    parser.add_argument("--out", type=Path, default=Path("data/generated/benchmark_all"))
    args = parser.parse_args()
    rows = [r for scale in args.scale for r in job(scale)]
    out = project_root() / args.out
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "all.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    if len(args.scale) > 1:
        print("\nslope of log time / log memory on log scale (1 = linear):")
        for s in slopes(rows):
            print(f"  {s['site'] + ': ' + s['step']:<44} time {s['time_slope']:5.2f}   "
                  f"memory {s['memory_slope']:5.2f}")
        chart(rows, out / "scaling.png")
        seconds, mb = project(rows, 10)
        print(f"a council ten times the size, on this machine: about {seconds:,.0f} s and "
              f"{mb / 1024:,.0f} GB peak (growing from the two largest scales as they grew)")
    print(f"figures: {out / 'all.csv'}")


if __name__ == "__main__":
    main()
