"""Each child's school year by year: on roll or not, FSM, SEN, absence and suspensions.

Held as child x academic-year arrays. FSM follows family poverty, SEN a child's own need,
absence both; suspensions follow absence, FSM and SEN. Shares are calibrated to
params.calibration (fsm, ehcp, sen_support, persistent_absence, suspensions_per_100,
permanent_exclusions_per_100) over pupils in the study window."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import SiteParams
from ..school_calendar import SchoolCalendar, is_weekday, term_bounds
from .calendar import academic_year_of, day
from .population import Population, Window

SEN_TYPES_E = (["ASD", "SLCN", "SEMH", "MLD", "SLD", "PMLD", "PD", "SPLD", "HI", "VI", "MSI", "OTH"],
               [0.33, 0.20, 0.15, 0.08, 0.06, 0.02, 0.04, 0.03, 0.02, 0.01, 0.005, 0.055])
SEN_TYPES_K = (["SLCN", "SEMH", "MLD", "SPLD", "ASD", "OTH", "PD", "HI", "VI", "NSA"],
               [0.25, 0.21, 0.16, 0.13, 0.10, 0.05, 0.03, 0.02, 0.01, 0.04])
EXCLUSION_REASONS = ["PP", "VA", "VP", "DA", "BU", "RA", "SM", "DM", "TH", "DD", "OW", "MT",
                     "PA", "OT"]
EXCLUSION_REASON_P = [0.38, 0.08, 0.12, 0.06, 0.02, 0.02, 0.01, 0.05, 0.01, 0.06, 0.02, 0.03,
                      0.09, 0.05]


@dataclass
class Schooling:
    ay0: int                 # academic year of column 0
    pupil: np.ndarray        # (N, Y) bool: on a state school roll in the county in that year
    ncy: np.ndarray          # (N, Y) int
    fsm: np.ndarray          # (N, Y) bool (defined for every child: the family's eligibility)
    sen: np.ndarray          # (N, Y) int8: 0 N, 1 K (SEN support), 2 E (EHC plan)
    sen_type_e: np.ndarray   # (N,) type if on an EHC plan
    sen_type_k: np.ndarray   # (N,) type if on SEN support
    absence: np.ndarray      # (N, Y) float: share of sessions missed that year
    pa: np.ndarray           # (N, Y) bool: persistent absence (>= 10% of sessions)
    susp_first: np.ndarray   # (N, Y) day of first suspension (large if none)
    susp_last: np.ndarray    # (N, Y) day of last suspension (small if none)
    exclusions: dict         # child, day, category, sessions, reason arrays

    def col(self, t: np.ndarray) -> np.ndarray:
        return np.clip(academic_year_of(t) - self.ay0, 0, self.pupil.shape[1] - 1)


BIG = np.iinfo(np.int64).max // 4


def build_schooling(params: SiteParams, pop: Population, win: Window,
                    rng: np.random.Generator) -> Schooling:
    cal = params.calibration
    ay0 = int(academic_year_of(np.array([win.sim_start]))[0])
    ays = np.arange(ay0, win.last_ay + 1)
    Y, N = ays.size, pop.n
    ay_start = np.array([day(int(a), 9, 1) for a in ays])
    ay_end = np.array([day(int(a) + 1, 8, 31) for a in ays])
    cohort = academic_year_of(pop.dob)
    ncy = ays[None, :] - cohort[:, None] - 5
    in_county = (pop.arrive[:, None] <= ay_end[None, :] - 60) & (pop.leave[:, None] >= ay_start[None, :] + 30)
    of_age = (ncy >= 0) & ((ncy <= 11) | ((ncy <= 13) & pop.sixth_form[:, None]))
    pupil = in_county & of_age & pop.state_school[:, None]
    in_window = (ays >= win.first_ay)[None, :] & pupil

    # FSM: family poverty drifting year to year (AR(1)), thresholded to the calibrated share.
    z = pop.fam_poverty[pop.family]
    drift = np.empty((N, Y))
    drift[:, 0] = rng.standard_normal(N)
    for k in range(1, Y):
        drift[:, k] = 0.8 * drift[:, k - 1] + 0.6 * rng.standard_normal(N)
    fsm_score = 0.85 * z[:, None] + 0.53 * drift
    fsm = fsm_score > np.quantile(fsm_score[in_window], 1 - cal.fsm)

    # SEN: a child's lasting need, a little poverty, a little change year to year.
    s = 0.3 * z + 0.95 * rng.standard_normal(N)
    sen_score = s[:, None] + 0.25 * rng.standard_normal((N, Y)) + 0.04 * np.clip(ncy, 0, 11)
    vals = sen_score[in_window]
    t_e = np.quantile(vals, 1 - cal.ehcp)
    t_k = np.quantile(vals, 1 - cal.ehcp - cal.sen_support)
    sen = np.where(sen_score > t_e, 2, np.where(sen_score > t_k, 1, 0)).astype(np.int8)
    sen = np.where(pupil, sen, 0).astype(np.int8)
    te = np.array(SEN_TYPES_E[0], dtype=object)[rng.choice(len(SEN_TYPES_E[0]), N, p=SEN_TYPES_E[1])]
    tk = np.array(SEN_TYPES_K[0], dtype=object)[rng.choice(len(SEN_TYPES_K[0]), N, p=SEN_TYPES_K[1])]

    # Absence: a child's own pattern plus poverty, SEN and secondary school; thresholded so the
    # calibrated share of pupils miss 10% or more of sessions.
    a = rng.standard_normal(N)
    x = (0.8 * a[:, None] + 0.45 * fsm + 0.35 * (sen > 0) + 0.3 * (ncy >= 7)
         + 0.4 * rng.standard_normal((N, Y)))
    q = np.quantile(x[in_window], 1 - cal.persistent_absence)
    absence = np.clip(0.1 * np.exp(0.9 * (x - q)), 0.002, 0.95)
    pa = pupil & (absence >= 0.1)

    # Suspensions and permanent exclusions: Poisson counts on a score, calibrated per 100 pupils.
    score = 0.8 * fsm + 0.6 * (sen > 0) + 0.9 * pa + 1.5 * (ncy >= 7) + 0.4 * a[:, None]
    w = np.exp(score)
    lam = w * (cal.suspensions_per_100 / 100) / w[in_window].mean()
    n_susp = np.where(pupil, rng.poisson(lam), 0)
    p_perm = np.clip(w * (cal.permanent_exclusions_per_100 / 100) / w[in_window].mean(), 0, 1)
    perm = pupil & (rng.random((N, Y)) < p_perm) & (ncy >= 1)

    ci, yi = np.nonzero(n_susp)
    reps = n_susp[ci, yi]
    ex_child = np.repeat(ci, reps)
    ex_col = np.repeat(yi, reps)
    pc, py = np.nonzero(perm)
    ex_child = np.concatenate([ex_child, pc])
    ex_col = np.concatenate([ex_col, py])
    category = np.concatenate([np.full(reps.sum(), "FIXD", dtype=object),
                               np.full(pc.size, "PERM", dtype=object)])
    # dates: a random school day of that year while on roll
    days = _term_day(rng, ays[ex_col], pop.arrive[ex_child], pop.leave[ex_child], win.calendar)
    sessions = np.where(category == "PERM", 0, np.minimum(rng.geometric(0.45, ex_child.size), 10))
    reason = np.array(EXCLUSION_REASONS, dtype=object)[rng.choice(len(EXCLUSION_REASONS),
                                                                   ex_child.size, p=EXCLUSION_REASON_P)]
    # one exclusion per pupil per day (a second draw on the same day is dropped)
    key = ex_child.astype(np.int64) * 100_000 + days
    first = np.zeros(key.size, dtype=bool)
    first[np.unique(key, return_index=True)[1]] = True
    ok = (days >= 0) & first
    ex = {"child": ex_child[ok], "day": days[ok], "category": category[ok],
          "sessions": sessions[ok], "reason": reason[ok], "col": ex_col[ok]}
    susp_first = np.full((N, Y), BIG, dtype=np.int64)
    susp_last = np.full((N, Y), -BIG, dtype=np.int64)
    fx = ex["category"] == "FIXD"
    np.minimum.at(susp_first, (ex["child"][fx], ex["col"][fx]), ex["day"][fx])
    np.maximum.at(susp_last, (ex["child"][fx], ex["col"][fx]), ex["day"][fx])
    return Schooling(ay0=ay0, pupil=pupil, ncy=ncy, fsm=fsm, sen=sen, sen_type_e=te, sen_type_k=tk,
                     absence=absence, pa=pa, susp_first=susp_first, susp_last=susp_last,
                     exclusions=ex)


def _term_day(rng: np.random.Generator, ay: np.ndarray, lo: np.ndarray, hi: np.ndarray,
              calendar: SchoolCalendar) -> np.ndarray:
    """A random term-time weekday in academic year ay, between lo and hi (-1 if none)."""
    out = np.full(ay.size, -1, dtype=np.int64)
    for a in np.unique(ay):
        sel = np.flatnonzero(ay == a)
        days = np.concatenate([np.arange(s, e + 1) for _, s, e in term_bounds(int(a), calendar)])
        days = days[is_weekday(days)]
        pick = days[rng.integers(0, days.size, sel.size)]
        okay = (pick >= lo[sel]) & (pick <= hi[sel])
        out[sel[okay]] = pick[okay]
    return out
