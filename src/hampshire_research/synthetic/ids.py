"""Identifiers with valid check characters: UPN check letters, NHS numbers from the test range,
school URNs and LAESTABs. Vectorised, because full scale is hundreds of thousands of children."""

from __future__ import annotations

import numpy as np

UPN_LETTERS = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"))


def upn_check_letter(body: str) -> str:
    """Check letter for a 12-character UPN body (digits, or a temporary UPN ending in a letter)."""
    total = 0
    for i, ch in enumerate(body, start=2):
        v = int(ch) if ch.isdigit() else int(np.flatnonzero(UPN_LETTERS == ch)[0])
        total += v * i
    return str(UPN_LETTERS[total % 23])


def upn_is_valid(upn: str) -> bool:
    return len(upn) == 13 and upn[1:13].isdigit() and upn_check_letter(upn[1:]) == upn[0]


def make_upns(la: np.ndarray, estab: np.ndarray, year2: np.ndarray, serial: np.ndarray) -> np.ndarray:
    """Permanent UPNs: check letter + LA(3) + establishment(4) + allocation year(2) + serial(3)."""
    digits = np.stack([
        la // 100, la // 10 % 10, la % 10,
        estab // 1000, estab // 100 % 10, estab // 10 % 10, estab % 10,
        year2 // 10 % 10, year2 % 10,
        serial // 100 % 10, serial // 10 % 10, serial % 10,
    ], axis=1).astype(np.int64)
    weights = np.arange(2, 14)
    letters = UPN_LETTERS[(digits * weights).sum(axis=1) % 23]
    body = (la.astype(np.int64) * 10**9 + estab.astype(np.int64) * 10**5
            + (year2 % 100).astype(np.int64) * 10**3 + serial.astype(np.int64))
    return np.char.add(letters.astype("U1"), np.char.zfill(body.astype("U12"), 12))


def nhs_is_valid(nhs: str) -> bool:
    if len(nhs) != 10 or not nhs.isdigit():
        return False
    check = 11 - sum(int(d) * w for d, w in zip(nhs[:9], range(10, 1, -1))) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(nhs[9])


def make_nhs_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """Distinct NHS numbers in the 999 test range (valid check digit, never issued)."""
    stems = 999_000_000 + rng.choice(1_000_000, size=min(1_000_000, int(n * 1.2) + 50),
                                     replace=False).astype(np.int64)
    digits = np.stack([stems // 10 ** (8 - k) % 10 for k in range(9)], axis=1)
    check = 11 - (digits * np.arange(10, 1, -1)).sum(axis=1) % 11
    check = np.where(check == 11, 0, check)
    ok = check != 10  # a stem whose check digit would be 10 is never issued
    out = (stems[ok] * 10 + check[ok])[:n]
    return out.astype("U10")
