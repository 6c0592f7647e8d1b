"""Statistical disclosure control: the one gate every published table passes through.

Two profiles, chosen per site in params (``disclosure_profile``):

- ``dfe``: DfE children's social care practice for LA-level figures. Counts 1-5 are shown as
  ``c``; secondary suppression where a total would reveal them; LA counts unrounded.
- ``ons``: the ONS "10-5 rule". Counts 1-9 suppressed; the rest rounded to the nearest 5.
  A rate, percentage or interval computed from the unrounded count would give it back (rate x
  person-years), so under a rounding profile derived columns are published as ``x``.

Zero is a true zero and is published. Rates, percentages and intervals whose numerator (or
denominator) is suppressed are suppressed too. Symbols follow the DfE EES standard:
``c`` confidential, ``x`` unavailable, ``z`` not applicable, ``low`` rounds to 0 but is not 0,
``u`` low reliability: an estimate from fewer events or a smaller denominator than the
profile's minimum (no ratio from zero events, no rate from two person-years).

Secondary suppression works on *lines*: sets of cells whose sum is published (a row or column
of a table with totals, or a group of a tidy table whose total is published elsewhere). No line
may hold exactly one suppressed cell, and for tables with totals each suppressed cell is checked
by linear programming to lie in an interval of more than one value given everything published.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from .errors import ProjectError

SUPPRESSED = "c"
UNAVAILABLE = "x"
NOT_APPLICABLE = "z"
LOW_RELIABILITY = "u"
SYMBOLS = {
    "c": "confidential: suppressed to protect individuals",
    "x": "unavailable",
    "z": "not applicable",
    "low": "rounds to 0 but is not 0",
    "u": "low reliability",
}
TOTAL = "Total"


@dataclass(frozen=True)
class Profile:
    """A disclosure-control rule set."""

    name: str
    threshold: int  # counts 1..threshold are suppressed
    round_to: int | None  # published counts rounded to the nearest round_to
    # a suppressed cell's feasible range, from everything published, must span at least this
    # (max - min): as wide as the suppressed band 1..threshold itself
    protection_width: int
    # an estimate (rate, ratio, interval) rests on at least min_events events and a
    # denominator of at least min_denominator (person-years), or it is shown as 'u'
    min_events: int = 1
    min_denominator: float = 20

    def describe(self) -> str:
        text = f"counts from 1 to {self.threshold} are suppressed and shown as '{SUPPRESSED}'"
        if self.round_to:
            text += f"; other counts are rounded to the nearest {self.round_to}"
        return text + "; further cells are suppressed where a total would reveal a suppressed one"


PROFILES = {
    "dfe": Profile("dfe", threshold=5, round_to=None, protection_width=4),
    "ons": Profile("ons", threshold=9, round_to=5, protection_width=8),
}


def get_profile(profile: str | Profile) -> Profile:
    if isinstance(profile, Profile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        raise ProjectError(f"unknown disclosure profile {profile!r} (known: dfe, ons)") from None


def _is_small(values: np.ndarray, p: Profile) -> np.ndarray:
    return (values >= 1) & (values <= p.threshold)


def _publish_count(v: float, p: Profile):
    if pd.isna(v):
        return UNAVAILABLE
    v = int(v)
    if p.round_to and v > 0:
        return int(p.round_to * np.floor(v / p.round_to + 0.5))
    return v


def _secondary_in_line(values: np.ndarray, suppressed: np.ndarray, line: np.ndarray) -> bool:
    """If ``line`` holds exactly one suppressed cell, suppress the smallest other cell.

    Prefers a non-zero cell (suppressing a true zero protects little). Returns True if it
    changed anything.
    """
    if suppressed[line].sum() != 1:
        return False
    free = [i for i in line if not suppressed[i] and not np.isnan(values[i])]
    if not free:
        return False
    nonzero = [i for i in free if values[i] > 0]
    pick = min(nonzero or free, key=lambda i: (values[i], i))
    suppressed[pick] = True
    return True


def _suppress_lines(values: np.ndarray, suppressed: np.ndarray, lines: Sequence[np.ndarray]) -> None:
    changed = True
    while changed:
        changed = False
        for line in lines:
            changed |= _secondary_in_line(values, suppressed, line)


def protect(
    table: pd.DataFrame,
    profile: str | Profile,
    *,
    counts: Iterable[str],
    derived: dict[str, str | Sequence[str]] | None = None,
    within: Sequence[str] | None = None,
    estimates: dict | None = None,
) -> pd.DataFrame:
    """Return a publishable copy of a tidy table.

    counts: the count columns (small values suppressed, rounded per profile).
    derived: {column: count column(s)} for rates, percentages and intervals computed from
        counts; a derived cell is suppressed when any count it rests on is.
    within: columns whose groups each have a published total (for example the categories
        of a breakdown); secondary suppression keeps every group at zero or at least two
        suppressed cells on each count column.
    estimates: {"events": column, "denominator": column, "columns": [...]}: the estimate
        columns are shown as ``u`` where the events or the denominator are below the
        profile's minimum (and not already suppressed).
    """
    p = get_profile(profile)
    counts = list(counts)
    derived = dict(derived or {})
    missing = [c for c in counts + list(derived) if c not in table.columns]
    if missing:
        raise ProjectError(f"table has no column(s) {missing} to protect")
    out = table.copy().reset_index(drop=True)
    hidden: dict[str, np.ndarray] = {}
    for col in counts:
        values = pd.to_numeric(out[col], errors="raise").to_numpy(dtype=float)
        sup = _is_small(values, p)
        if within:
            groups = out.groupby(list(within), sort=False, dropna=False).indices.values()
            _suppress_lines(values, sup, [np.asarray(g) for g in groups])
        hidden[col] = sup
        out[col] = [SUPPRESSED if s else _publish_count(v, p) for v, s in zip(values, sup)]
    for col, bases in derived.items():
        bases = [bases] if isinstance(bases, str) else list(bases)
        unknown = [b for b in bases if b not in hidden]
        if unknown:
            raise ProjectError(f"derived column {col!r} rests on {unknown}, which are not counts")
        sup = np.zeros(len(out), dtype=bool)
        for b in bases:
            sup |= hidden[b]
        out[col] = out[col].astype(object).where(~sup, SUPPRESSED)
        if p.round_to:
            out[col] = out[col].where(sup, UNAVAILABLE)
    if estimates:
        events = pd.to_numeric(table[estimates["events"]]).to_numpy(dtype=float)
        base = pd.to_numeric(table[estimates["denominator"]]).to_numpy(dtype=float)
        weak = ((events < p.min_events) | (base < p.min_denominator)) & ~hidden[estimates["events"]]
        for col in estimates["columns"]:
            out[col] = out[col].astype(object).where(~weak, LOW_RELIABILITY)
    return out


def _line_indices(n_rows: int, n_cols: int) -> list[np.ndarray]:
    """Rows and columns of an (n_rows x n_cols) grid flattened row-major, totals included."""
    grid = np.arange(n_rows * n_cols).reshape(n_rows, n_cols)
    return [grid[i, :] for i in range(n_rows)] + [grid[:, j] for j in range(n_cols)]


def recoverable_cells(full: np.ndarray, suppressed: np.ndarray) -> list[tuple[int, int]]:
    """Suppressed cells of a table with totals whose value follows from what is published.

    ``full`` includes the totals row and column (last). For each suppressed cell, minimise and
    maximise it subject to every row and column adding up and all cells being non-negative,
    with published cells fixed: if min == max the cell is recoverable.
    """
    n_rows, n_cols = full.shape
    idx = np.flatnonzero(suppressed.ravel())
    if len(idx) == 0:
        return []
    pos = {cell: k for k, cell in enumerate(idx)}
    a_eq, b_eq = [], []
    flat = full.ravel().astype(float)
    for line in _line_indices(n_rows, n_cols):
        # interior cells of the line sum to its total cell (the line's last element)
        *inner, total = line
        row = np.zeros(len(idx))
        rhs = 0.0
        for cell, sign in [(c, 1.0) for c in inner] + [(total, -1.0)]:
            if cell in pos:
                row[pos[cell]] += sign
            else:
                rhs -= sign * flat[cell]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    recoverable = []
    for k, cell in enumerate(idx):
        c = np.zeros(len(idx))
        c[k] = 1.0
        lo = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        hi = linprog(-c, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        if hi.status == 3:  # unbounded above: certainly not recoverable
            continue
        if lo.status != 0 or hi.status != 0 or (-hi.fun - lo.fun) < 0.5:
            recoverable.append(divmod(int(cell), n_cols))
    return recoverable


def protect_crosstab(counts2d: pd.DataFrame, profile: str | Profile) -> pd.DataFrame:
    """Publish a two-way table of counts with row and column totals.

    Primary suppression of small cells (totals included), then secondary suppression until
    no line has exactly one suppressed cell and no suppressed cell can be recovered from the
    published cells and totals. Returns the table with a ``Total`` row and column.
    """
    p = get_profile(profile)
    body = counts2d.apply(pd.to_numeric, errors="raise").fillna(0).astype(int)
    if (body.to_numpy() < 0).any():
        raise ProjectError("a crosstab of counts holds a negative value")
    full = body.copy()
    full[TOTAL] = full.sum(axis=1)
    full.loc[TOTAL] = full.sum(axis=0)
    values = full.to_numpy(dtype=float)
    n_rows, n_cols = values.shape
    flat = values.ravel()
    sup = _is_small(flat, p)
    lines = _line_indices(n_rows, n_cols)
    while True:
        _suppress_lines(flat, sup, lines)
        bad = recoverable_cells(values, sup.reshape(n_rows, n_cols))
        if not bad:
            break
        # widen the pattern: suppress the smallest free non-zero cell sharing a line with one
        r, c = bad[0]
        candidates = [i for line in lines if (r * n_cols + c) in line for i in line
                      if not sup[i] and flat[i] > 0]
        if not candidates:
            candidates = [i for i in range(flat.size) if not sup[i]]
        if not candidates:
            break
        sup[min(candidates, key=lambda i: (flat[i], i))] = True
    published = [SUPPRESSED if s else _publish_count(v, p) for v, s in zip(flat, sup)]
    out = pd.DataFrame(np.array(published, dtype=object).reshape(n_rows, n_cols),
                       index=full.index, columns=full.columns)
    return out


def in_prose(value: int, profile: str | Profile) -> str:
    """A count written in a page's text, through the same rule as the tables: 1 to the
    threshold as "fewer than N", others rounded as the profile says."""
    p = get_profile(profile)
    if _is_small(np.asarray([value]), p)[0]:
        return f"fewer than {p.threshold + 1}"
    return f"{_publish_count(value, p):,}"


def is_suppressed(value) -> bool:
    return isinstance(value, str) and value == SUPPRESSED


def numeric(series: pd.Series) -> pd.Series:
    """Published values as numbers for plotting: symbols become NaN (so nothing is drawn)."""
    return pd.to_numeric(series.where(~series.isin(list(SYMBOLS))), errors="coerce")
