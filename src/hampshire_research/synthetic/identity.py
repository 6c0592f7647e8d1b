"""Identity fields as a source holds them: the truth with that source's noise (settings.Noise)."""

from __future__ import annotations

import numpy as np

from . import names as nm
from .calendar import to_date
from .population import Population

ALT_SURNAMES = np.array(nm.SURNAMES, dtype=object)


def noisy_identity(pop: Population, child: np.ndarray, when: np.ndarray, noise,
                   rng: np.random.Generator) -> dict:
    """Forename, surname, DOB (days), postcode, UPN, NHS number for records of `child` made on
    day `when`, with the source's rates of typos, nicknames, surname changes, DOB errors,
    missing/wrong identifiers and stale postcodes. Also returns which noise was applied."""
    n = child.size
    fore = pop.forename[child].astype(object).copy()
    sur = pop.surname[child].astype(object).copy()
    flags = {}

    k = rng.random(n) < noise.nickname
    fore[k] = nm.apply_nicknames(fore[k], rng.random(k.sum()))
    flags["nickname"] = k & (fore != pop.forename[child])
    k = rng.random(n) < noise.typo_forename
    fore[k] = nm.apply_typos(fore[k], rng.random(k.sum()), rng.random(k.sum()))
    flags["typo_forename"] = k
    k = rng.random(n) < noise.surname_change
    alt = ALT_SURNAMES[rng.integers(0, ALT_SURNAMES.size, n)]
    double = rng.random(n) < 0.4
    sur[k] = np.where(double[k], sur[k] + "-" + alt[k], alt[k])
    flags["surname_change"] = k
    k = rng.random(n) < noise.typo_surname
    sur[k] = nm.apply_typos(sur[k], rng.random(k.sum()), rng.random(k.sum()))
    flags["typo_surname"] = k

    dob = pop.dob[child].copy()
    d = to_date(dob)
    dd = (d - d.astype("datetime64[M]")).astype(int) + 1
    mm = d.astype("datetime64[M]").astype(int) % 12 + 1
    yy = d.astype("datetime64[Y]").astype(int) + 1970
    swap = (rng.random(n) < noise.dob_day_month_swap) & (dd <= 12) & (dd != mm)
    if swap.any():
        swapped = np.array([f"{y:04d}-{a:02d}-{b:02d}" for y, a, b in
                            zip(yy[swap], dd[swap], mm[swap])], dtype="datetime64[D]")
        dob[swap] = swapped.astype(np.int64)
    flags["dob_swap"] = swap
    off = (rng.random(n) < noise.dob_off_by_days) & ~swap
    dob[off] += rng.choice([-2, -1, 1, 2, 10, -10], off.sum())
    flags["dob_off"] = off

    lag = np.where(rng.random(n) < noise.stale_postcode, 365, 0)
    pc_idx = pop.postcode_at(child, np.maximum(when - lag, pop.arrive[child]))
    postcode = pop.postcodes["pcd"].to_numpy()[pc_idx].astype(object)
    flags["stale_postcode"] = lag > 0
    k = rng.random(n) < noise.postcode_missing
    postcode[k] = ""

    upn = pop.upn[child].astype(object).copy()
    wrong = rng.random(n) < noise.upn_wrong
    # a wrong UPN: a keying error in one digit, so the check letter fails
    if wrong.any():
        upn[wrong] = [u[:5] + str((int(u[5]) + 1) % 10) + u[6:] for u in upn[wrong]]
    missing = rng.random(n) < noise.upn_missing
    upn[missing] = ""
    flags["upn_wrong"] = wrong & ~missing
    flags["upn_missing"] = missing
    nhs = pop.nhs[child].astype(object).copy()
    k = rng.random(n) < noise.nhs_missing
    nhs[k] = ""
    flags["nhs_missing"] = k
    return {"forename": fore, "surname": sur, "dob": dob, "postcode": postcode, "upn": upn,
            "nhs": nhs, "flags": flags}
