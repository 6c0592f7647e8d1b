"""Spells in care broken into SSDA903 episodes (legal status and placement changes), with
reviews, missing episodes and social worker episodes. Shared by the SSD extract and the 903."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .calendar import YEAR, add_years
from .casework import Referrals
from .population import Population, Window
from .schooling import BIG

PLACES = (["U1", "U3", "U4", "U6", "K2", "R1", "P1", "R3", "K1", "S1", "R2"],
          [0.07, 0.08, 0.30, 0.32, 0.12, 0.01, 0.04, 0.02, 0.005, 0.015, 0.02])
PROVIDER = {"U1": "PR1", "U3": "PR1", "U4": "PR1", "U6": "PR4", "K2": "PR4", "R1": "PR3",
            "P1": "PR0", "R3": "PR4", "K1": "PR1", "S1": "PR4", "R2": "PR3", "A3": "PR1",
            "A5": "PR1", "A4": "PR1", "A6": "PR1", "K3": "PR4", "H5": "PR4"}


@dataclass
class Care:
    spells: pd.DataFrame     # one row per spell: spell, ref, child, start, end, rec, ls0
    episodes: pd.DataFrame   # 903 episodes: spell, child, DECOM, DEC, RNE, LS, CIN, PLACE, ...
    reviews: pd.DataFrame    # spell, child, day, code
    missing: pd.DataFrame    # spell, child, kind, start, end
    workers: pd.DataFrame    # spell, child, sw_id, start, end, reason


def build_care(ref: Referrals, pop: Population, win: Window, rng: np.random.Generator,
               primary_need: np.ndarray) -> Care:
    has = np.flatnonzero(ref.care_start < BIG)
    child = ref.child[has]
    start, end = ref.care_start[has], ref.care_end[has]
    at18 = add_years(pop.dob[child], 18)
    # a spell that reaches the 18th birthday ends on it (care ceases at 18)
    end = np.where(end >= at18 - 1, at18, end)
    # a spell ending 26-31 March ends on 1 April instead (see _late_march)
    late_march = _late_march(end)
    shifted = _late_march_start(end) + 6  # 1 April
    order = np.lexsort((start, child))
    next_start = np.full(has.size, BIG)
    same = child[order][1:] == child[order][:-1]
    next_start[order[:-1]] = np.where(same, start[order][1:], BIG)
    end = np.where(late_march & (shifted < next_start), shifted, end)
    open_ = end >= win.end
    age_end = (end - pop.dob[child]) / YEAR
    u = rng.random(has.size)
    rec = np.select(
        [end >= at18,
         (age_end < 5) & (u < 0.45),
         u < 0.12, u < 0.20, u < 0.24, u < 0.27],
        ["E17", "E11", "E45", "E41", "E4B", "E13"], "E4A").astype(object)
    rec = np.where((end >= at18) & (rng.random(has.size) < 0.5), "E5", rec)
    rec = np.where(ref.close_reason[has] == "RC5", "E3", rec)
    # an adoption happens only after a placement for adoption
    spells = pd.DataFrame({"spell": np.arange(has.size), "ref": has, "child": child,
                           "start": start, "end": np.where(open_, BIG, end),
                           "rec": np.where(open_, "", rec), "need": primary_need[has],
                           "from_cp": ref.cp_start[has] < BIG})
    eps, revs, miss, sws = [], [], [], []
    places, pp = np.array(PLACES[0], dtype=object), np.array(PLACES[1])
    pp = pp / pp.sum()
    for_s = spells.to_dict("list")
    r = rng.random((has.size, 12))
    ri = rng.integers(0, 10_000, (has.size, 12))
    last_sw_end: dict[int, int] = {}
    for k in np.lexsort((start, child)).tolist():  # each child's spells in time order
        s, e = for_s["start"][k], for_s["end"][k]
        stop = min(e, win.end)
        c = for_s["child"][k]
        age0 = (s - pop.dob[c]) / YEAR
        # legal status: care order route via interim order, or s20 accommodation
        if for_s["from_cp"][k] or r[k, 0] < 0.55:
            ls = ["C1", "C2"] if r[k, 1] < 0.7 else ["C2"]
        else:
            ls = ["V2"] if r[k, 1] < 0.85 else ["L2", "C1"]
        adopted = for_s["rec"][k] == "E11"
        if adopted:
            ls = ["C1", "C2"]
        changes = [(s, "S", ls[0])]
        if len(ls) > 1:
            # an emergency protection order lasts at most 8 days before an interim order
            t = s + (1 + ri[k, 2] % 8 if ls[0] == "L2" else 60 + ri[k, 2] % 200)
            if t < stop:
                changes.append((t, "L", ls[1]))
        n_moves = min(int(-np.log(max(r[k, 4], 1e-9)) * (stop - s) / 500), 4)
        for j in range(n_moves):
            t = s + 20 + (ri[k, 5 + j] * 7919 + j * 131) % max(1, stop - s - 20)
            if s < t < stop:
                changes.append((t, "P", None))
        if adopted:
            # placed for adoption (with others, under a placement order) some months before
            t = max(s + 1, stop - 120 - ri[k, 9] % 120)
            changes = [x for x in changes if x[0] < t] + [(t, "A", "E1")]
        changes.sort(key=lambda x: (x[0], x[1]))
        place = places[min(int(np.searchsorted(np.cumsum(pp), r[k, 6])), len(pp) - 1)]
        if age0 >= 16 and r[k, 7] < 0.3:
            place = "K2"
        if place == "P1" and ls[0] in ("V2", "L2"):
            place = "U4"
        cur_ls = ls[0]
        rows = []
        last_t = None
        for t, kind, code in changes:
            if last_t is not None and t <= last_t:
                continue
            if kind == "L":
                cur_ls = code
            elif kind == "P":
                place = places[int((ri[k, 10] + t) % len(places))]
                if place == "P1" and cur_ls in ("V2", "L2"):
                    place = "U4"
            elif kind == "A":
                cur_ls = code
                place = "A4" if r[k, 8] < 0.5 else "A6"
            if place in ("S1", "K1") and (t - pop.dob[c]) / YEAR < 8:
                place = "U4"  # residential schools and secure homes are for older children
            if adopted and kind != "A" and not place.startswith("U"):
                place = "U4"  # children placed for adoption come from foster care
            rows.append([t, kind, cur_ls, place])
            last_t = t
        # a special guardianship order ends a foster placement (rule 516): else returned home
        if for_s["rec"][k] in ("E45", "E46") and rows[-1][3] not in ("U1", "U2", "U3", "U4", "U5", "U6"):
            for_s["rec"][k] = "E4A"
        for j, (t, kind, lsj, pl) in enumerate(rows):
            dec = rows[j + 1][0] if j + 1 < len(rows) else e
            nxt = rows[j + 1][1] if j + 1 < len(rows) else None
            rne = {"S": "S", "L": "L", "P": "P", "A": "B"}[kind]
            rec_j = "X1" if nxt is not None else for_s["rec"][k]
            reason_change = ""
            if nxt == "P":
                reason_change = ["CARPL", "CHILD", "LAREQ", "PLACE", "CREQO", "OTHER",
                                 "ALLEG", "STAND", "APPRR"][(t + k) % 9]
            elif nxt == "A":
                reason_change = "CARPL"  # the care plan (adoption) carried out
            eps.append((k, c, t, dec if dec < BIG else BIG, rne, lsj, pl, rec_j if dec < BIG else "",
                        reason_change))
        # reviews: 20 working days, 3 months, then every 6 months
        t = s + 26
        j = 0
        while t < stop:
            revs.append((k, c, t))
            t += 91 if j == 0 else 182
            j += 1
        if age0 >= 11 and r[k, 11] < 0.15:
            starts = sorted({s + 15 + (ri[k, j] * 37) % max(1, stop - s - 15)
                             for j in range(1 + ri[k, 11] % 3)})
            last_end = -BIG
            for j, m0 in enumerate(starts):  # one missing period at a time
                m1 = m0 + 1 + ri[k, j] % 4
                if m0 > last_end and m1 + 1 < stop:
                    miss.append((k, c, "M" if (ri[k, j] % 3) else "A", m0, m1))
                    last_end = m1
        # social worker episodes; a child back in care within a week keeps the worker allocated
        # since the last spell (the 903 expects each episode to follow the previous within 7
        # days); after a longer time out of care the episodes begin again with the care, as the
        # 903 wants every worker of a child starting care in the year to start with it (SW12)
        t = last_sw_end[c] if s - last_sw_end.get(c, -BIG) <= 7 else s
        first_t = t
        sw = 1000 + (ri[k, 0] % 8000)
        while t < stop:
            nxt_t = t + 120 + (ri[k, 1] + t) % 400
            # a change of worker due in 26-31 March happens on 25 March (see _late_march)
            t_rec = _late_march_start(t) - 1 if t != first_t and _late_march(t) else t
            nxt_rec = _late_march_start(nxt_t) - 1 if _late_march(nxt_t) else nxt_t
            # the reason is for the change of worker that started this episode
            sws.append((k, c, f"SW{sw:05d}", t_rec, nxt_rec if nxt_t < stop else (e if e < BIG else BIG),
                        "OTHERS" if t == first_t else
                        ["MANAGE", "FCONTA", "LEFTRL", "ORGRST", "CHCHAN"][(t // 7) % 5]))
            t = nxt_t
            sw += 1 + (t % 5)
        if e < BIG:
            last_sw_end[c] = e
    ints = {"spell": np.int64, "child": np.int64}
    episodes = pd.DataFrame(eps, columns=["spell", "child", "DECOM", "DEC", "RNE", "LS", "PLACE",
                                          "REC", "REASON_PLACE_CHANGE"])
    episodes = episodes.astype({**ints, "DECOM": np.int64, "DEC": np.int64})
    episodes["PLACE_PROVIDER"] = episodes["PLACE"].map(PROVIDER).fillna("PR1")
    # a placement number: a legal-status-only change (L) keeps the same placement
    episodes["placement"] = (episodes["RNE"] != "L").groupby(episodes["spell"]).cumsum()
    reviews = pd.DataFrame(revs, columns=["spell", "child", "day"]).astype({**ints, "day": np.int64})
    missing = pd.DataFrame(miss, columns=["spell", "child", "kind", "start", "end"]).astype(
        {**ints, "start": np.int64, "end": np.int64})
    workers = pd.DataFrame(sws, columns=["spell", "child", "sw_id", "start", "end", "reason"]).astype(
        {**ints, "start": np.int64, "end": np.int64})
    return Care(spells=spells, episodes=episodes, reviews=reviews, missing=missing, workers=workers)


def _late_march_start(days):
    """26 March of the day's year (days since 1970)."""
    d = np.asarray(days).astype("datetime64[D]")
    return (d.astype("datetime64[Y]").astype("datetime64[M]") + 2).astype("datetime64[D]").astype(
        np.int64) + 25


def _late_march(days):
    """Days in 26-31 March. The 903 (rule SW11bSTG2) reads a social worker episode ending in the
    last five days of the collection year as one with no successor even when another follows, so
    synthetic spells and changes of worker avoid those days."""
    days = np.asarray(days)
    start = _late_march_start(days)
    return (days >= start) & (days <= start + 5) & (days < BIG)
