"""Early help and children's social care as processes in time.

A referral hazard per child: a base rate by age band times the rate ratios of
params.calibration.effects for FSM, SEN support, EHC plan, persistent absence, a recent
suspension, early help (during and for a while after an episode), the first term of Year 7,
and a family event; for pupils, the autumn term, the months schools were closed in 2020 and
2021 and the first months back (autumn_term_rr, school_closure_rr, school_reopening_rr);
school referrals (2A) fall in holidays by school_holiday_rr. The base rate
per age band is solved so the population rate matches params.calibration.referrals_per_10k.
Events are drawn by thinning a Poisson process bounded per child, so the whole population is
handled as arrays; only referred children are walked one by one (a child cannot be referred
while a case is open, and a closed case can be re-referred)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import SiteParams
from ..school_calendar import in_term
from ..vocabulary import (
    AGE_BANDS,
    REFERRAL_SOURCE_GROUPS,
    REFERRAL_SOURCES,
    SCHOOL_CLOSURE_MONTHS,
    SCHOOL_REOPENING_MONTHS,
    month_numbers,
)
from .calendar import YEAR, add_years, months_of, years_of
from .population import Population, Window
from .schooling import BIG, Schooling

# Within each referral source group, the share of each of its codes (in code order).
CODE_SHARES = {
    "police": [1.0],
    "schools": [1.0],
    "health": [0.25, 0.2, 0.1, 0.15, 0.2, 0.1],
    "la_services": [0.4, 0.2, 0.15, 0.25],
    "individual": [0.6, 0.15, 0.1, 0.15],
    "other": [0.25, 0.25, 0.2, 0.3],
    "unknown": [0.3, 0.7],
}
SUBCODES = {g: ([c for c, (_, group) in REFERRAL_SOURCES.items() if group == g], p)
            for g, p in CODE_SHARES.items()}
HEADROOM = 1.6
CHAIN = 6  # a referral and up to five re-referrals it leads to
TRIES = 8  # candidate days a re-referral's day is drawn from, weighted by the school calendar


def age_years(pop: Population, child: np.ndarray, t: np.ndarray) -> np.ndarray:
    return ((t - pop.dob[child]) / YEAR).astype(np.int64)


def band_of(age: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.array([lo for lo, _, _ in AGE_BANDS[1:]]), age, side="right")


@dataclass
class EarlyHelp:
    child: np.ndarray
    start: np.ndarray
    end: np.ndarray      # planned end (may be cut by a step-up)
    reason: np.ndarray


def _candidates(rng, pop: Population, win: Window, rate: np.ndarray):
    """Poisson candidate times per child over its time in the county, at rate (per year)."""
    t0 = np.maximum(pop.arrive, win.sim_start)
    span = np.maximum(pop.leave - t0, 0)
    k = rng.poisson(rate * span / YEAR)
    child = np.repeat(np.arange(pop.n), k)
    off = (rng.random(child.size) * span[child]).astype(np.int64)
    t = t0[child] + off
    # by child, then day: as one integer key (sorting it is many times faster than lexsort)
    order = np.argsort(child * (int(span.max()) + 1) + off, kind="stable")
    return child[order], t[order]


def _school_season(win: Window, holiday_rr: float):
    """Per day: relative school-referral intensity (1 in term time, holiday_rr in the school
    holidays and half terms), mean 1."""
    mask = in_term(np.arange(win.sim_start, win.end + 1), win.calendar)
    season = np.where(mask, 1.0, holiday_rr)
    return season / season.mean()


def _pupil_period_rr(t: np.ndarray, eff) -> tuple[np.ndarray, np.ndarray]:
    """Per day: the pupils' rate ratio for its school period (autumn term, schools closed,
    first months back) and whether schools were closed that month."""
    month = years_of(t) * 12 + months_of(t) - 1
    closed = np.isin(month, month_numbers(SCHOOL_CLOSURE_MONTHS))
    rr = (np.where(months_of(t) >= 9, eff.autumn_term_rr, 1.0)
          * np.where(closed, eff.school_closure_rr, 1.0)
          * np.where(np.isin(month, month_numbers(SCHOOL_REOPENING_MONTHS)), eff.school_reopening_rr, 1.0))
    return rr, closed


def _fam_event_active(pop: Population, child: np.ndarray, t: np.ndarray, days: int = 183):
    """Did a family event of each (child, t) happen in the `days` before? One event column at a
    time, so no rows x events arrays (16.8M rows at county scale)."""
    fam = pop.family[child]
    active = np.zeros(child.size, dtype=bool)
    for ev in pop.fam_events.T:
        e = ev[fam]
        active |= (e <= t) & (t < e + days)
    return active


def build_early_help(params: SiteParams, pop: Population, sch: Schooling, win: Window,
                     rng: np.random.Generator, routes) -> EarlyHelp:
    """Early help episodes: a rate per child-year (early_help_per_10k) raised by poverty, SEN,
    absence and family events."""
    base = params.calibration.early_help_per_10k / 10_000
    bound = base * 1.8 * 1.5 * 1.5 * routes.family_event_eh_rr * 1.2
    child, t = _candidates(rng, pop, win, np.full(pop.n, bound))
    col = sch.col(t)
    m = (np.where(sch.fsm[child, col], 1.8, 1.0) * np.where(sch.sen[child, col] > 0, 1.5, 1.0)
         * np.where(sch.pa[child, col], 1.5, 1.0)
         * np.where(_fam_event_active(pop, child, t), routes.family_event_eh_rr, 1.0))
    norm_m = m.mean()
    keep = rng.random(child.size) < base * m / norm_m / bound
    child, t = child[keep], t[keep]
    dur = np.maximum(rng.exponential(routes.early_help_days_mean, child.size), 42).astype(np.int64)
    end = t + dur
    # one episode at a time: drop an episode that starts before the child's previous one ends
    prev_end = np.full(child.size, -BIG)
    same = np.r_[False, child[1:] == child[:-1]]
    prev_end[1:] = np.where(same[1:], end[:-1], -BIG)
    ok = t > prev_end
    child, t, end = child[ok], t[ok], end[ok]
    reasons = np.array(["Parenting support", "Behaviour", "School attendance", "Domestic abuse",
                        "Emotional wellbeing", "Parental mental health", "Housing",
                        "Financial difficulties", "Substance misuse (parent)",
                        "Child development"], dtype=object)
    reason = reasons[rng.integers(0, reasons.size, child.size)]
    return EarlyHelp(child=child, start=t, end=np.minimum(end, pop.leave[child]), reason=reason)


@dataclass
class Referrals:
    """Kept referrals (one per CIN episode) with their route; days as ints, BIG when absent."""

    child: np.ndarray
    date: np.ndarray
    source: np.ndarray
    spawned: np.ndarray
    nfa: np.ndarray
    assess_start: np.ndarray
    assess_auth: np.ndarray
    outcome: np.ndarray        # close_nfa, close_eh, cin, s47, care, nfa
    s47_start: np.ndarray
    s47_end: np.ndarray
    icpc: np.ndarray
    icpc_day: np.ndarray
    cp_start: np.ndarray
    cp_end: np.ndarray
    cin_start: np.ndarray
    cin_end: np.ndarray
    care_start: np.ndarray
    care_end: np.ndarray
    close: np.ndarray
    close_reason: np.ndarray
    in_early_help: np.ndarray  # the referral came during (or soon after) an early help episode
    contacts_child: np.ndarray
    contacts_date: np.ndarray


def _eh_active(eh: EarlyHelp, n: int, child: np.ndarray, t: np.ndarray, after: int):
    """Is each (child, t) within an early help episode or `after` days after it?"""
    order = np.lexsort((eh.start, eh.child))
    c, s, e = eh.child[order], eh.start[order], eh.end[order]
    first = np.searchsorted(c, np.arange(n))
    count = np.bincount(c, minlength=n)
    active = np.zeros(child.size, dtype=bool)
    n_eh, first_eh = count[child], first[child]  # looked up once, not once per episode
    for k in range(int(count.max()) if count.size else 0):
        has = n_eh > k
        idx, t_has = first_eh[has] + k, t[has]
        active[has] |= (s[idx] <= t_has) & (t_has <= e[idx] + after)
    return active


def durations(params: SiteParams, routes) -> dict:
    """Mean lengths (days) of CIN plans, CP plans and care that make the stocks at 31 March
    match cin_per_10k, cp_per_10k and cla_per_10k given the referral rate and the routes."""
    cal = params.calibration
    by_age = params.population.by_age
    rate = sum(cal.referrals_per_10k.by_age_band[b] * sum(by_age[a] for a in range(lo, hi + 1))
               for lo, hi, b in AGE_BANDS) / sum(by_age.values())
    r = routes
    assessed = rate * (1 - cal.referral_nfa_share)
    cp_in = assessed * r.assessed_to_s47 * r.s47_to_icpc * r.icpc_to_cp_plan
    care_in = cp_in * r.cp_end_to_care + assessed * r.assessed_to_care
    cin_in = (assessed * (r.assessed_to_cin_plan
                          + r.assessed_to_s47 * (1 - r.s47_to_icpc) * r.s47_no_icpc_to_cin_plan
                          + r.assessed_to_s47 * r.s47_to_icpc * (1 - r.icpc_to_cp_plan))
              + cp_in * r.cp_end_to_cin_plan)
    assess_stock = assessed * (r.assessment_days_mean + 10) / 365
    # truncation at 18 and the burn-in shorten realised stays: measured factors (see tests)
    cp_days = cal.cp_per_10k / cp_in * 365 * 1.1
    care_days = cal.cla_per_10k / care_in * 365 * 1.5
    cin_days = max(60.0, (cal.cin_per_10k - assess_stock - cal.cp_per_10k - cal.cla_per_10k)
                   / cin_in * 365 * 1.15)
    return {"cin_plan": cin_days, "cp_plan": cp_days, "care": care_days, "referral_rate": rate}


def build_referrals(params: SiteParams, pop: Population, sch: Schooling, eh: EarlyHelp,
                    win: Window, rng: np.random.Generator, routes) -> Referrals:
    cal = params.calibration
    eff = cal.effects
    season = _school_season(win, eff.school_holiday_rr)
    rates = np.array([cal.referrals_per_10k.by_age_band[b] for _, _, b in AGE_BANDS]) / 10_000
    # Per-child bound on the hazard multiplier: every factor the child ever has.
    ever_fsm = sch.fsm.any(axis=1)
    max_sen = np.where(sch.sen.max(axis=1) == 2, max(eff.ehcp_rr, eff.sen_support_rr),
                       np.where(sch.sen.max(axis=1) == 1, eff.sen_support_rr, 1.0))
    ever_eh = np.zeros(pop.n, dtype=bool)
    ever_eh[eh.child] = True
    ever_fe = (pop.fam_events[pop.family] < BIG).any(axis=1)
    ever_susp = (sch.susp_first < BIG).any(axis=1)
    bound_m = (np.where(ever_fsm, eff.fsm_rr, 1.0) * max_sen
               * np.where(sch.pa.any(axis=1), eff.persistent_absence_rr, 1.0)
               * np.where(ever_susp, eff.suspension_rr, 1.0)
               * np.where(ever_eh, eff.early_help_rr, 1.0)
               * np.where(ever_fe, routes.family_event_rr, 1.0)
               * max(eff.year7_first_term_rr, 1.0) * season.max()
               * max(eff.autumn_term_rr, 1.0) * max(eff.school_reopening_rr, 1.0))
    bound = rates.max() * bound_m * HEADROOM
    child, t = _candidates(rng, pop, win, bound)
    lam = bound[child]
    # Per day of the simulation: the school year's column and the school period's rate ratio,
    # looked up for each candidate day rather than worked out from its date every time. Every
    # day asked about is on or after sim_start; one after win.end is taken as win.end (as the
    # hazard does, and its school year column is the last one either way).
    days = np.arange(win.sim_start, win.end + 1)
    col_of, autumn_of = sch.col(days), months_of(days) >= 9
    period_rr_of = _pupil_period_rr(days, eff)[0]

    def on(tt: np.ndarray) -> np.ndarray:
        return np.clip(tt - win.sim_start, 0, days.size - 1)

    def circumstances(ch: np.ndarray, tt: np.ndarray) -> np.ndarray:
        """The hazard's rate ratios for the circumstances of children ch on days tt."""
        tt = np.minimum(tt, win.end)
        col = col_of[on(tt)]
        pupil = sch.pupil[ch, col]
        sen = sch.sen[ch, col]
        susp = (sch.susp_first[ch, col] <= tt) | (
            sch.susp_last[ch, np.maximum(col - 1, 0)] >= tt - routes.suspension_after_days)
        return (np.where(sch.fsm[ch, col], eff.fsm_rr, 1.0)
                * np.where(sen == 2, eff.ehcp_rr, np.where(sen == 1, eff.sen_support_rr, 1.0))
                * np.where(sch.pa[ch, col], eff.persistent_absence_rr, 1.0)
                * np.where(susp & pupil, eff.suspension_rr, 1.0)
                * np.where(_eh_active(eh, pop.n, ch, tt, routes.early_help_after_days),
                           eff.early_help_rr, 1.0)
                * np.where(_fam_event_active(pop, ch, tt), routes.family_event_rr, 1.0))

    def school_period(ch: np.ndarray, tt: np.ndarray) -> np.ndarray:
        """The hazard's rate ratios for the school calendar: Year 7's first term, the autumn
        term, the closures and the months back (the school holidays are applied apart)."""
        i = on(tt)
        col = col_of[i]
        pupil = sch.pupil[ch, col]
        y7 = pupil & (sch.ncy[ch, col] == params.cohort.transfer_ncy) & autumn_of[i]
        return (np.where(y7, eff.year7_first_term_rr, 1.0)
                * np.where(pupil, period_rr_of[i], 1.0))

    age = age_years(pop, child, t)
    band = band_of(age)
    pupil = sch.pupil[child, col_of[on(t)]]
    in_eh = _eh_active(eh, pop.n, child, t, routes.early_help_after_days)
    m_now = circumstances(child, t)
    m = m_now * school_period(child, t)
    # Solve the base rate per band from importance weights (candidates arrive at rate lam).
    w_pt = 1.0 / lam
    base = np.empty(len(AGE_BANDS))
    for b in range(len(AGE_BANDS)):
        sel = band == b
        base[b] = rates[b] * w_pt[sel].sum() / max((m[sel] * w_pt[sel]).sum(), 1e-12)
    # Schools refer pupils in term time: share sigma of a pupil's hazard follows the season.
    h = base[band] * m
    p_pupil = (h * w_pt * pupil).sum() / (h * w_pt).sum()
    sigma = min(0.9, cal.referral_sources.shares["schools"] / max(p_pupil, 1e-9))
    s_t = season[np.clip(t - win.sim_start, 0, season.size - 1)]
    mix = np.where(pupil, 1 - sigma + sigma * s_t, 1.0)
    h = h * mix
    u = rng.random(child.size)

    # Routes are drawn for every candidate (and spares for the re-referrals it leads to), then
    # the walk keeps referrals that arrive while no case is open.
    dur = durations(params, routes)
    p0 = h / lam
    # one value per candidate each (16.8M at county scale): 0.8 GB freed before the routes
    del lam, m, w_pt, h, s_t, mix
    # Only candidates that could be accepted (even after the correction below) get a route;
    # each gets spare routes for a chain of re-referrals (index + n_pre, + 2 n_pre, ...).
    pre = np.flatnonzero(u < np.minimum(p0 * 1.6, 1.0))
    pos = np.full(child.size, -1, dtype=np.int64)
    pos[pre] = np.arange(pre.size)
    R = _draw_routes(rng, pre.size * CHAIN, cal.referral_nfa_share, routes, dur)
    length, gap_u = R["length"], R["gap_u"]

    def by_calendar(ch, days, u):
        """One day per row of candidate days, drawn in proportion to the calendar's ratio."""
        w = school_period(np.repeat(ch, TRIES), days.ravel()).reshape(days.shape)
        w = w.cumsum(axis=1)
        return days[np.arange(days.shape[0]), (w < u[:, None] * w[:, -1:]).sum(axis=1)]

    def next_days(slot, ch, day):
        """The re-referral days chain slots `slot` (referrals of ch on day) may lead to, within
        12 months and later, and the rate ratio of the child's circumstances on each."""
        gap, length_s, u = gap_u[slot], length[slot][:, None], R["pick_u"][slot]
        end = day[:, None] + length_s
        soon = by_calendar(ch, end + 7 + (gap * (358 - length_s)).astype(np.int64), u)
        later = by_calendar(ch, np.maximum(end + 7, day[:, None] + 366)
                            + (-np.log1p(-gap) * routes.re_referral_later_days).astype(np.int64),
                            u)
        return soon, later, circumstances(ch, soon), circumstances(ch, later)

    # the chains' first step is the same in every walk: worked out once
    first_step = next_days(np.arange(pre.size), child[pre], t[pre])

    def chains(q_spawn: float, q_later: float) -> np.ndarray:
        """Day of the re-referral each referral leads to (BIG: none), for every slot of every
        chain: within 12 months (chance q_spawn) or later (q_later of the rest). The school
        calendar picks the day (one of TRIES draws, weighted by its rate ratio on each); the
        child's circumstances scale the chance (their rate ratio on that day against the
        referral's). So re-referrals follow the school periods, Year 7, FSM and the rest as
        first referrals do, and the chance is capped at 1 only where circumstances worsen."""
        n = pre.size
        out = np.full(n * CHAIN, BIG, dtype=np.int64)
        slot, ch, day, m_day = np.arange(n), child[pre], t[pre], m_now[pre]
        for k in range(CHAIN - 1):  # each step keeps only the chains still going
            soon, later, m_soon, m_later = first_step if k == 0 else next_days(slot, ch, day)
            take_soon = (length[slot] < 330) & (R["spawn_u"][slot] < q_spawn * m_soon / m_day)
            take_later = ~take_soon & (R["later_u"][slot] < q_later * m_later / m_day)
            nxt = np.where(take_soon, np.where(soon - day < 365, soon, BIG),
                           np.where(take_later, later, BIG))
            nxt = np.where(nxt <= pop.leave[ch], nxt, BIG)
            out[slot] = nxt
            going = nxt < BIG
            slot, ch, day = slot[going] + n, ch[going], nxt[going]
            m_day = np.where(take_soon, m_soon, m_later)[going]
        return out

    def walk(p_accept: np.ndarray, q_spawn: float, q_later: float):
        acc = np.flatnonzero(u < p_accept)
        c_acc, t_acc, r_acc = child[acc], t[acc], pos[acc]
        next_day = chains(q_spawn, q_later).tolist()
        kept, spawned_t, spawned_src = [], [], []
        n_cand = pre.size

        def refer(r, tt, i):
            """Keep referral r on day tt; return its case's end and the re-referral it leads to."""
            kept.append(r)
            spawned_t.append(tt)
            spawned_src.append(i)
            t2 = next_day[r]
            return tt + length[r], ((r + n_cand, t2, i) if t2 < BIG else None)

        def flush(pend, end):
            """The pending re-referral, unless a case is still open on its day."""
            if pend[1] > end:
                return refer(*pend)
            return end, None

        last_child, last_end, pending = -1, -BIG, None
        for i, c, tt, ri in zip(acc.tolist(), c_acc.tolist(), t_acc.tolist(), r_acc.tolist()):
            if c != last_child:
                while pending is not None:
                    last_end, pending = flush(pending, last_end)
                last_child, last_end = c, -BIG
            while pending is not None and pending[1] <= tt:
                last_end, pending = flush(pending, last_end)
            if tt <= last_end:
                continue
            last_end, nxt = refer(ri, tt, i)
            pending = nxt or pending
        while pending is not None:
            last_end, pending = flush(pending, last_end)
        return np.array(kept), np.array(spawned_t, dtype=np.int64), np.array(spawned_src)

    # Pass 1: natural re-referral share and the loss from cases already open.
    k1, t1, s1 = walk(p0, 0.0, 0.0)
    c1 = child[s1]
    in_win = t1 >= win.start
    rr1 = _re_referral_share(c1, t1, in_win)
    target_rr = cal.re_referral_12m
    # only referrals whose case closes within the year can be re-referred inside 12 months
    feasible = max(float((R["length"][k1[k1 < pre.size]] < 300).mean()) if k1.size else 1.0, 0.2)
    q = max(0.0, (target_rr - rr1) / max(1 - target_rr, 1e-9)) / feasible
    expected = p0[t >= win.start].sum()
    got = in_win.sum()
    corr = expected / max(got, 1) / (1 + q * 0.85)
    corr = min(corr, 1.6)
    k2, t2, s2 = walk(np.minimum(p0 * corr, 1.0), min(q, 1.0), routes.re_referral_later)
    # Three more steps: match each age band's rate and the re-referral share now that
    # re-referrals are in (chains of them make the counts far from proportional to corr and q).
    in_w = t >= win.start
    expected_b = np.array([p0[in_w & (band == b)].sum() for b in range(len(AGE_BANDS))])
    corr = np.full(child.size, corr)
    for _ in range(3):
        kept_band = band_of(((t2 - pop.dob[child[s2]]) / YEAR).astype(np.int64))
        got_b = np.bincount(kept_band[t2 >= win.start], minlength=len(AGE_BANDS))
        corr = np.minimum(corr * (expected_b / np.maximum(got_b, 1))[band], 1.6)
        rr = _re_referral_share(child[s2], t2, t2 >= win.start)
        q = max(0.0, q + (target_rr - rr) / max(1 - target_rr, 1e-9) / feasible)
        k2, t2, s2 = walk(np.minimum(p0 * corr, 1.0), min(q, 1.0), routes.re_referral_later)

    src_child = child[s2]
    spawned = k2 >= pre.size
    # Source: school (2A) with the term-time share for pupils, else the other groups' shares.
    cand = s2
    s_ref = season[np.clip(t2 - win.sim_start, 0, season.size - 1)]  # on the referral's own day
    pupil_then = sch.pupil[src_child, sch.col(t2)]  # on the referral's own day (re-referrals come later)
    p_school = np.where(pupil_then, sigma * s_ref / (1 - sigma + sigma * s_ref), 0.0)
    p_school = np.where(_pupil_period_rr(t2, eff)[1], p_school * eff.school_closure_rr,
                        p_school)  # fewer from schools while they were closed
    shares = cal.referral_sources.shares
    other_groups = [g for g in REFERRAL_SOURCE_GROUPS if g != "schools"]
    other_p = np.array([shares[g] for g in other_groups])
    other_p = other_p / other_p.sum()
    grp = np.array(other_groups, dtype=object)[rng.choice(len(other_groups), cand.size, p=other_p)]
    grp = np.where(rng.random(cand.size) < p_school, "schools", grp)
    sub = np.empty(cand.size, dtype=object)
    for g in REFERRAL_SOURCE_GROUPS:
        sel = grp == g
        codes, p = SUBCODES[g]
        sub[sel] = np.array(codes, dtype=object)[rng.choice(len(codes), sel.sum(), p=p)]
    # Under-fives are not referred by school nurses; infants' health referrals are health visitors
    young = age[cand] < 5
    sub = np.where(young & (sub == "3C"), "3B", sub)
    # LA services referring a child in early help are the early help team stepping up (5D)
    eh_now = in_eh[cand]
    sub = np.where(eh_now & (grp == "la_services"), "5D", sub)
    return _materialise(R, k2, src_child, t2, sub, spawned, eh_now, pop, win, rng, child, t,
                        u, p0)


def _re_referral_share(c: np.ndarray, t: np.ndarray, in_win: np.ndarray) -> float:
    order = np.lexsort((t, c))
    c, t, w = c[order], t[order], in_win[order]
    prev_same = np.r_[False, c[1:] == c[:-1]]
    gap = np.r_[BIG, t[1:] - t[:-1]]
    re = prev_same & (gap <= 365)
    return float(re[w].mean()) if w.any() else 0.0


def _draw_routes(rng, n: int, nfa_share: float, r, dur: dict) -> dict:
    """Per referral: NFA or assessed, then the route and its timing, as day offsets."""
    nfa = rng.random(n) < nfa_share
    a_start = rng.integers(0, 6, n)
    a_len = np.clip(rng.gamma(3.0, r.assessment_days_mean / 3.0, n), 4, 120).astype(np.int64)
    u = rng.random(n)
    cuts = np.cumsum([r.assessed_to_s47, r.assessed_to_cin_plan, r.assessed_to_care,
                      r.assessed_to_close_early_help])
    names = np.array(["s47", "cin", "care", "close_eh", "close_nfa", "nfa"], dtype=object)
    code = np.searchsorted(cuts, u, side="right")
    code[nfa] = 5
    outcome = names[code]
    s47_off = a_start + rng.integers(0, 4, n)
    s47_len = rng.integers(3, 15, n)
    icpc = (outcome == "s47") & (rng.random(n) < r.s47_to_icpc)
    icpc_off = s47_off + rng.integers(8, 21, n)  # weekday fixed once dates are known
    cp = icpc & (rng.random(n) < r.icpc_to_cp_plan)
    cp_len = np.maximum(rng.exponential(dur["cp_plan"] - 60, n) + 60, 60).astype(np.int64)
    v = rng.random(n)
    cp_next = np.array(["care", "cin", "close"], dtype=object)[
        np.searchsorted([r.cp_end_to_care, r.cp_end_to_care + r.cp_end_to_cin_plan], v, side="right")]
    cin_after = ((outcome == "cin")
                 | ((outcome == "s47") & ~icpc & (rng.random(n) < r.s47_no_icpc_to_cin_plan))
                 | (icpc & ~cp) | (cp & (cp_next == "cin")))
    cin_len = np.maximum(rng.exponential(dur["cin_plan"] - 30, n) + 30, 30).astype(np.int64)
    care = (outcome == "care") | (cp & (cp_next == "care"))
    short = rng.random(n) < 0.25
    long_mean = (dur["care"] - 0.25 * 45) / 0.75
    care_len = np.where(short, rng.exponential(45, n) + 3, rng.exponential(long_mean, n) + 30)
    care_len = care_len.astype(np.int64)
    # offsets from the referral day
    a_auth = a_start + a_len
    cp_start = np.where(cp, icpc_off, BIG)
    cp_end = np.where(cp, icpc_off + cp_len, BIG)
    cin_start = np.select([outcome == "cin", (outcome == "s47") & ~icpc, icpc & ~cp,
                           cp & (cp_next == "cin")],
                          [a_auth, s47_off + s47_len, icpc_off, cp_end], BIG)
    cin_start = np.where(cin_after, cin_start, BIG)
    cin_end = np.where(cin_after, cin_start + cin_len, BIG)
    care_start = np.where(outcome == "care", a_start + rng.integers(0, 8, n),
                          np.where(cp & (cp_next == "care"), cp_end, BIG))
    care_start = np.where(care, care_start, BIG)
    care_end = np.where(care, care_start + care_len, BIG)
    last = np.maximum.reduce([np.where(nfa, 0, a_auth),
                              np.where(outcome == "s47", s47_off + s47_len, 0),
                              np.where(icpc, icpc_off, 0),
                              np.where(cp, cp_end, 0), np.where(cin_after, cin_end, 0),
                              np.where(care, care_end, 0)])
    close_off = np.where(nfa, rng.integers(0, 3, n), last + rng.integers(1, 15, n))
    # an enquiry that leads to a conference ends by it: the census reads a S47 open after its
    # conference as one with no conference outcome (rule 8868)
    s47_end = np.where(icpc, np.minimum(s47_off + s47_len, icpc_off), s47_off + s47_len)
    return {"nfa": nfa, "a_start": a_start, "a_auth": a_auth, "outcome": outcome,
            "s47_off": s47_off, "s47_end": s47_end, "icpc": icpc, "icpc_off": icpc_off,
            "cp": cp, "cp_start": cp_start, "cp_end": cp_end, "cp_next": cp_next,
            "cin_start": cin_start, "cin_end": cin_end, "care_start": care_start,
            "care_end": care_end, "close_off": close_off, "length": close_off,
            "spawn_u": rng.random(n), "gap_u": rng.random((n, TRIES)), "later_u": rng.random(n),
            "pick_u": rng.random(n)}


def _materialise(R, k, c, t, source, spawned, eh_now, pop, win, rng, cand_child, cand_t, u, p):
    """Turn offsets into dates; close cases when a child turns 18 or leaves the county."""
    def at(key):
        off = R[key][k]
        d = t + off
        if key in ("icpc_off", "cp_start"):  # conferences are held on weekdays
            wd = (d + 3) % 7
            d = d + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))
        return np.where(off >= BIG, BIG, d)

    close = t + R["close_off"][k]
    leave = pop.leave[c]
    at18 = add_years(pop.dob[c], 18) - 1
    moved = leave < np.minimum(at18, win.end)
    cut = close > leave
    outcome = R["outcome"][k]
    reason = np.select(
        [outcome == "nfa", outcome == "close_nfa", outcome == "close_eh"], ["RC7", "RC8", "RC9"],
        "RC7").astype(object)
    care_end = at("care_end")
    care = at("care_start") < BIG
    # what ended a spell in care decides the closure reason
    u2 = rng.random(k.size)
    young = (care_end - pop.dob[c]) < 5 * YEAR
    care_reason = np.select([young & (u2 < 0.35), u2 < 0.2, u2 < 0.3, u2 < 0.35],
                            ["RC1", "RC4", "RC3", "RC1"], "RC7")
    care_reason = np.where(care_reason == "RC1", np.where(young, "RC1", "RC4"), care_reason)
    reason = np.where(care & (care_end <= close), care_reason, reason)
    reason = np.where(cut & moved, "RC5", reason)
    reason = np.where(cut & ~moved & (at18 <= win.end), "RC7", reason)
    close = np.minimum(close, leave)
    open_at_end = close >= win.end
    close = np.where(open_at_end & ~(cut & moved), BIG, close)

    def clip(x):
        return np.where(x > close, np.where(x >= BIG, BIG, close), x)

    def clip_start(x):
        return np.where(x > close, BIG, x)

    # a plan that would start and end on the same day (a case cut short) is not made
    cp_s, cp_e = clip_start(at("cp_start")), clip(at("cp_end"))
    no_cp = (cp_s < BIG) & (cp_e <= cp_s)
    cin_s, cin_e = clip_start(at("cin_start")), clip(at("cin_end"))
    no_cin = (cin_s < BIG) & (cin_e <= cin_s)
    care_s = clip_start(at("care_start"))
    no_care = (care_s < BIG) & (clip(care_end) <= care_s)
    # extra contacts that did not become referrals: candidates never accepted (corr <= 1.6), in
    # proportion to the base hazard p so they stay about 1.9 per referral however the
    # re-referrals thin the first referrals
    extra = (u >= p * 1.6) & (u < np.minimum(p * 3.5, 1.0)) & (cand_t >= win.sim_start)
    return Referrals(
        child=c, date=t, source=source, spawned=spawned, nfa=R["nfa"][k],
        assess_start=clip_start(np.where(R["nfa"][k], BIG, at("a_start"))),
        assess_auth=clip(np.where(R["nfa"][k], BIG, at("a_auth"))),
        outcome=outcome,
        s47_start=clip_start(np.where(outcome == "s47", at("s47_off"), BIG)),
        s47_end=clip(np.where(outcome == "s47", at("s47_end"), BIG)),
        icpc=R["icpc"][k] & (at("icpc_off") <= close),
        icpc_day=np.where(R["icpc"][k] & (at("icpc_off") <= close), at("icpc_off"), BIG),
        cp_start=np.where(no_cp, BIG, cp_s), cp_end=np.where(no_cp, BIG, cp_e),
        cin_start=np.where(no_cin, BIG, cin_s), cin_end=np.where(no_cin, BIG, cin_e),
        care_start=np.where(no_care, BIG, care_s), care_end=np.where(no_care, BIG, clip(care_end)),
        close=close, close_reason=reason, in_early_help=eh_now,
        contacts_child=cand_child[extra], contacts_date=cand_t[extra])


def subset(ref: Referrals, keep: np.ndarray, keep_contacts: np.ndarray) -> Referrals:
    """The referrals (and extra contacts) an extract holds."""
    out = {}
    for name, value in ref.__dict__.items():
        if name.startswith("contacts_"):
            out[name] = value[keep_contacts]
        else:
            out[name] = value[keep]
    return Referrals(**out)
