"""How fast the voice auto-coder runs: notes per second on a full-scale batch of case notes.

Usage: python benchmarks/voice.py [--notes N] [--site hampshire]
The batch is the site's synthetic case notes, repeated (with new note ids) up to N notes -
by default the number of case notes a Hampshire-sized site writes in the study window. Prints
wall-clock and CPU rates (the machine is shared, so CPU time is the steadier figure).
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from hampshire_research.params import load_site
from hampshire_research.voice import autocode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", default="hampshire")
    ap.add_argument("--notes", type=int, default=0, help="batch size (default: full scale)")
    args = ap.parse_args()
    params = load_site(args.site)
    folder = params.data_path
    sample = pd.read_csv(folder / "case_notes" / "case_notes.csv", dtype=str,
                         keep_default_na=False)
    scale = float(pd.read_json(folder / "synthetic.json", typ="series").get("scale", 1) or 1)
    n = args.notes or int(round(len(sample) / scale))
    reps = -(-n // len(sample))
    notes = pd.concat([pd.DataFrame({"note_id": f"{r}-" + sample.NoteID, "text": sample.NoteText})
                       for r in range(reps)], ignore_index=True).head(n)
    wall, cpu = time.perf_counter(), time.process_time()
    coded = autocode(notes)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    chars = notes.text.str.len().sum()
    print(f"site {params.site}: {len(notes):,} notes ({chars / len(notes):.0f} characters on "
          f"average, sample scale {scale}), {len(coded):,} coded segments")
    print(f"wall {wall:.1f} s = {len(notes) / wall:,.0f} notes/s; "
          f"CPU {cpu:.1f} s = {len(notes) / cpu:,.0f} notes per CPU-second (target 2,000)")


if __name__ == "__main__":
    main()
