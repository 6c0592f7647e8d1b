"""School census (pupil level, each term), attendance per term and exclusions per year."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..school_calendar import EPOCH, census_day, term_bounds
from ..vocabulary import TERMS
from .identity import noisy_identity
from .population import Population, Window
from .schooling import Schooling
from .writing import dmy, write_csv

TERM_SESSIONS = {"autumn": (0, 140), "spring": (1, 118), "summer": (2, 124)}
TERM_ABSENCE = {"autumn": 0.9, "spring": 1.12, "summer": 0.98}


def ncy_label(ncy: np.ndarray) -> np.ndarray:
    return np.where(ncy == 0, "R", ncy.astype(str)).astype(object)


def write_school_census(out: Path, pop: Population, sch: Schooling, win: Window, noise,
                        rng: np.random.Generator, files: list, linkage: list) -> dict:
    base = out / "school_census"
    schools = pop.schools[["URN", "LAESTAB", "SchoolName", "Phase", "District"]]
    files.append(write_csv(schools, base / "schools.csv"))
    urn = pop.schools["URN"].to_numpy()
    laestab = pop.schools["LAESTAB"].to_numpy()
    # a child whose surname changes does so once, on a day of their own
    change_day = np.where(rng.random(pop.n) < noise.surname_change,
                          rng.integers(win.start, win.end, pop.n), np.iinfo(np.int64).max // 4)
    new_surname = pop.surname.copy()
    k = change_day < win.end
    new_surname[k] = noisy_identity(pop, np.flatnonzero(k), np.full(k.sum(), win.end),
                                    _only_surname_change(noise), rng)["surname"]
    # rows go in UPN order: each child's place in it, found once (not a text sort per file)
    upn_rank = np.empty(pop.n, dtype=np.int64)
    upn_rank[np.argsort(pop.upn.astype(str), kind="stable")] = np.arange(pop.n)
    counts = {"pupil_rows": 0, "attendance_rows": 0, "exclusions": 0}
    seen_upn = set()
    for ay in range(win.first_ay, win.last_ay + 1):
        label = f"{ay}-{str(ay + 1)[2:]}"
        col = ay - sch.ay0
        for term in TERMS:
            cd = (census_day(ay, term) - EPOCH).days
            on_roll = np.flatnonzero(sch.pupil[:, col] & (pop.arrive <= cd) & (pop.leave >= cd))
            when = np.full(on_roll.size, cd)
            school = pop.school_at(on_roll, when)
            on_roll, when, school = on_roll[school >= 0], when[school >= 0], school[school >= 0]
            ident = noisy_identity(pop, on_roll, when, _school_identity_noise(noise), rng)
            sen = sch.sen[on_roll, col]
            sen_code = np.array(["N", "K", "E"], dtype=object)[sen]
            sen_type = np.where(sen == 2, sch.sen_type_e[on_roll],
                                np.where(sen == 1, sch.sen_type_k[on_roll], ""))
            surname = np.where(change_day[on_roll] <= cd, new_surname[on_roll], ident["surname"])
            enrol = np.where(rng.random(on_roll.size) < 0.004, "M", "C").astype(object)
            by_upn = np.argsort(upn_rank[on_roll], kind="stable")
            pupils = pd.DataFrame({
                "UPN": pop.upn[on_roll], "FormerUPN": pop.former_upn[on_roll],
                "Surname": surname, "Forename": ident["forename"], "DOB": dmy(pop.dob[on_roll]),
                "Sex": pop.sex[on_roll], "Ethnicity": pop.ethnicity[on_roll],
                "FSMeligible": np.where(sch.fsm[on_roll, col], "true", "false"),
                "SENprovision": sen_code, "PrimarySENtype": sen_type,
                "NCyearActual": ncy_label(sch.ncy[on_roll, col]),
                "URN": urn[school], "LAESTAB": laestab[school], "Postcode": ident["postcode"],
                "EnrolStatus": enrol,
            }).take(by_upn)
            files.append(write_csv(pupils, base / label / term / "pupils.csv"))
            counts["pupil_rows"] += len(pupils)
            seen_upn.update(pupils["UPN"].tolist())
            # attendance for the term just ended or under way (sessions to the census day)
            ti, possible = TERM_SESSIONS[term]
            _, t0, t1 = term_bounds(ay, win.calendar)[ti]
            joined = np.clip((pop.arrive[on_roll] - t0) / max(1, t1 - t0), 0, 1)
            poss = np.maximum((possible * (1 - joined)).astype(np.int64) // 2 * 2, 2)
            rate = np.clip(sch.absence[on_roll, col] * TERM_ABSENCE[term], 0, 0.98)
            absent = rng.binomial(poss, rate)
            auth_share = np.where(rate >= 0.1, 0.55, 0.75)
            auth = rng.binomial(absent, auth_share)
            att = pd.DataFrame({"UPN": pop.upn[on_roll], "URN": urn[school],
                                "SessionsPossible": poss, "SessionsAuthorised": auth,
                                "SessionsUnauthorised": absent - auth}).take(by_upn)
            files.append(write_csv(att, base / label / term / "attendance.csv"))
            counts["attendance_rows"] += len(att)
        ex = sch.exclusions
        sel = np.flatnonzero(ex["col"] == col)
        c, d = ex["child"][sel], ex["day"][sel]
        school = pop.school_at(c, d)
        keep = school >= 0
        sel, c, d, school = sel[keep], c[keep], d[keep], school[keep]
        exc = pd.DataFrame({"UPN": pop.upn[c], "URN": urn[school], "Category": ex["category"][sel],
                            "StartDate": dmy(d), "Sessions": ex["sessions"][sel],
                            "Reason": ex["reason"][sel], "_d": d})
        exc = exc.sort_values(["_d", "UPN", "Category"], kind="stable").drop(columns="_d")
        files.append(write_csv(exc, base / label / "exclusions.csv"))
        counts["exclusions"] += len(exc)
    upn_to_child = dict(zip(pop.upn.tolist(), pop.child_id.tolist()))
    for u in sorted(seen_upn):
        linkage.append(("school_census", f"school_census:{u}", upn_to_child[u]))
    counts["pupils"] = len(seen_upn)
    return counts


def _school_identity_noise(noise):
    from dataclasses import replace
    return replace(noise, surname_change=0.0)


def _only_surname_change(noise):
    from .settings import SourceNoise
    return SourceNoise(surname_change=1.0)
