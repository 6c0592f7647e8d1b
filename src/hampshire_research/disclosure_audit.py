"""Attack a site's publication as a disclosure reviewer would, from its published tables only.

Tables that share counts (the same events at different breakdowns, a table and its totals
elsewhere, a crosstab and its flows) form a *family*, declared next to the tables' registry
entries as a function that turns the published tables into linear equations between their
cells. For every suppressed cell of a family, an integer program (``scipy.optimize.milp``)
finds the smallest and largest whole number it can take given everything published; a cell
whose range is narrower than the profile's ``protection_width`` and reaches into the
suppressed band is a finding. ``publish`` uses
the same check to widen a table's suppression against the family members already published.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from .disclosure import SUPPRESSED, TOTAL, Profile, get_profile
from .errors import ProjectError

Cell = tuple[str, int, str]  # (table, row, column)
Equation = dict[Cell, int]  # sum of coefficient x cell = 0
UPPER = 10**7  # no published count is larger; keeps every program bounded
SECONDS = 5.0  # time cap for one integer program


@dataclass(frozen=True)
class Family:
    """Published tables whose counts are tied together, in the order they are published."""

    name: str
    tables: tuple[str, ...]
    relations: Callable[[dict[str, pd.DataFrame]], list[Equation]]


@dataclass(frozen=True)
class Finding:
    family: str
    table: str
    row: int
    column: str
    low: int
    high: int
    label: str

    def describe(self) -> str:
        value = f"exactly {self.low}" if self.low == self.high else f"{self.low} to {self.high}"
        return f"{self.family}: {self.table} row {self.row + 1} ({self.label}) {self.column} is {value}"


def same_sums(a: tuple[str, pd.DataFrame, str], b: tuple[str, pd.DataFrame, str],
              on: Sequence[str] = ()) -> list[Equation]:
    """Each group of ``a`` adds up to the matching group of ``b``.

    a, b: (table name, the rows of it that take part, count column), the rows carrying the
    key columns ``on`` (a family adds them where two tables spell a key differently). Groups
    present on one side only are skipped: a missing row is the family's to declare.
    """
    (name_a, rows_a, col_a), (name_b, rows_b, col_b) = a, b
    groups_b = _groups(rows_b, list(on))
    equations = []
    for key, ia in _groups(rows_a, list(on)).items():
        ib = groups_b.get(key)
        if ib is None:
            continue
        eq: Equation = {}
        for i in ia:
            eq[(name_a, i, col_a)] = eq.get((name_a, i, col_a), 0) + 1
        for i in ib:
            eq[(name_b, i, col_b)] = eq.get((name_b, i, col_b), 0) - 1
        equations.append({c: k for c, k in eq.items() if k})
    return equations


def row_sums(a: tuple[str, pd.DataFrame, str], b: tuple[str, pd.DataFrame, str],
             on: Sequence[str]) -> list[Equation]:
    """Each row of ``a`` (a total repeated on every row) adds up to the matching group of
    ``b``; one equation a row, in row order. Arguments as ``same_sums``'."""
    (name_a, rows_a, col_a), (name_b, rows_b, col_b) = a, b
    groups_b = _groups(rows_b, list(on))
    equations = []
    for i, key in _keys(rows_a, list(on)):
        if key in groups_b:
            eq: Equation = {(name_a, i, col_a): 1}
            for j in groups_b[key]:
                eq[(name_b, j, col_b)] = eq.get((name_b, j, col_b), 0) - 1
            equations.append({c: k for c, k in eq.items() if k})
    return equations


def _keys(rows: pd.DataFrame, on: list[str]) -> list[tuple[int, tuple]]:
    """Each row's label and key, in row order, rows with a missing key left out (as a pandas
    groupby would). In plain Python: the published tables are small, and a family's
    equations are rebuilt every round of ``protect_jointly``, where pandas' groupby cost most
    of the audit's time."""
    keys = zip(*(rows[c].tolist() for c in on)) if on else [()] * len(rows)
    return [(int(i), key) for i, key in zip(rows.index.tolist(), keys)
            if not any(pd.isna(k) for k in key)]


def _groups(rows: pd.DataFrame, on: list[str]) -> dict[tuple, list[int]]:
    """The row labels of each group of ``on``, groups in order of first appearance."""
    groups: dict[tuple, list[int]] = {}
    for i, key in _keys(rows, on):
        groups.setdefault(key, []).append(i)
    return groups


def crosstab_sums(name: str, table: pd.DataFrame, key: str) -> list[Equation]:
    """A published crosstab's rows add up to its Total column and its columns to its Total row."""
    cols = [c for c in table.columns if c != key]
    body = table.index[table[key] != TOTAL]
    total = table.index[table[key] == TOTAL]
    eqs = [{**{(name, int(i), c): 1 for c in cols[:-1]}, (name, int(i), cols[-1]): -1}
           for i in table.index]
    for c in cols:
        eqs += [{**{(name, int(i), c): 1 for i in body}, (name, int(j), c): -1} for j in total]
    return eqs


def _bounds(value: str, p: Profile) -> tuple[float, float] | None:
    """What a reader knows of a published cell: its range, or None if it is a number exactly."""
    if value == SUPPRESSED:
        return (0, UPPER)
    try:
        v = float(value)
    except ValueError:  # another symbol (x, z): unknown, not a suppressed count
        return (0, UPPER)
    if p.round_to and v > 0:
        half = (p.round_to - 1) // 2
        return (max(v - half, 1), v + half)
    return None


@dataclass
class Solved:
    """Integer programs already solved: a caller that ranges the same family round after round
    keeps one, so a part of the tables its new suppressions did not touch is not solved again."""

    ranges: dict = field(default_factory=dict)  # by (program of a part of the tables, target)
    # by program: the smallest and largest value each unknown took in the solutions found
    seen: dict = field(default_factory=dict)


def feasible_ranges(tables: dict[str, pd.DataFrame], equations: Iterable[Equation],
                    profile: str | Profile, check: Iterable[Cell] | None = None,
                    solved: Solved | None = None, enough: int | None = None
                    ) -> dict[Cell, tuple[int, int]]:
    """Smallest and largest whole value of each suppressed cell given every equation.

    check: the cells to range (default every suppressed cell the equations touch). enough: a
    width that settles a cell (``narrow_cells`` passes the profile's protection width): a cell
    that two whole-number solutions already found put at least that far apart is left out,
    unsolved, as its range is at least that wide; most cells of a part are settled by the
    solutions for the first few. Raises ValueError if the published numbers contradict the
    equations (a wrong declaration).
    """
    solved = Solved() if solved is None else solved
    p = get_profile(profile)
    equations = list(equations)
    unknown: dict[Cell, int] = {}
    lows, highs = [], []
    rows, rhs = [], []
    for eq in equations:
        row, const = {}, 0.0
        for cell, coef in eq.items():
            table, i, col = cell
            value = str(tables[table].at[i, col])
            bound = _bounds(value, p)
            if bound is None:
                const -= coef * float(value)
                continue
            if cell not in unknown:
                unknown[cell] = len(unknown)
                lows.append(bound[0])
                highs.append(bound[1])
            row[unknown[cell]] = row.get(unknown[cell], 0) + coef
        if row:
            rows.append(row)
            rhs.append(const)
        elif abs(const) > 1e-9:
            raise ValueError(f"published cells contradict a declared relation: {sorted(eq)}")
    targets = [c for c in (check if check is not None else unknown)
               if c in unknown and str(tables[c[0]].at[c[1], c[2]]) == SUPPRESSED]
    if not targets:
        return {}
    a = np.zeros((len(rows), len(unknown)))
    for r, row in enumerate(rows):
        for j, coef in row.items():
            a[r, j] = coef
    rhs = np.asarray(rhs)
    lows, highs = np.asarray(lows, dtype=float), np.asarray(highs, dtype=float)
    # cells tied by no chain of equations cannot narrow each other: one small program per part
    links = csr_matrix((np.abs(a).T @ np.abs(a)) > 0)
    _, part = connected_components(links, directed=False)
    ranges = {}
    for cell in targets:
        cols = np.flatnonzero(part == part[unknown[cell]])
        used = np.flatnonzero(np.abs(a[:, cols]).sum(axis=1) > 0)
        sub = a[np.ix_(used, cols)]
        target = int(np.flatnonzero(cols == unknown[cell])[0])
        program = (sub.shape, sub.tobytes(), rhs[used].tobytes(), lows[cols].tobytes(),
                   highs[cols].tobytes())
        if (program, target) not in solved.ranges:
            low, high = solved.seen.get(program, (None, None))
            if enough and low is not None and high[target] - low[target] >= enough:
                continue
            solved.ranges[program, target], found = _range(sub, rhs[used], lows[cols],
                                                           highs[cols], target, cell)
            for x in found:
                low = x if low is None else np.minimum(low, x)
                high = x if high is None else np.maximum(high, x)
            solved.seen[program] = (low, high)
        ranges[cell] = solved.ranges[program, target]
    return ranges


def _range(a: np.ndarray, rhs: np.ndarray, lows: np.ndarray, highs: np.ndarray, target: int,
           cell: Cell) -> tuple[tuple[int, int], list[np.ndarray]]:
    """The smallest and largest whole value of unknown `target` with a x = rhs in bounds, and
    the whole-number solutions found on the way.

    The relaxation is solved first: a whole-number corner of it is the integer program's
    answer too, and the published sums give such corners almost always, in half the time."""
    constraint = LinearConstraint(a, rhs, rhs)
    bounds = Bounds(lows, highs)
    c = (np.arange(a.shape[1]) == target).astype(float)
    ends, found = [], []
    for sign in (1.0, -1.0):
        res = linprog(sign * c, A_eq=a, b_eq=rhs, bounds=np.column_stack([lows, highs]),
                      method="highs-ds")
        if res.status != 0 or np.abs(res.x - np.round(res.x)).max() > 1e-6:
            res = milp(sign * c, constraints=constraint, integrality=np.ones(a.shape[1]),
                       bounds=bounds, options={"time_limit": SECONDS})
        if res.status == 2:
            raise ValueError(f"published cells contradict the relations around {cell}")
        if res.x is None:  # out of time: take the bound, the reader learns nothing
            ends.append(lows[target] if sign > 0 else highs[target])
        else:
            ends.append(round(sign * res.fun))
            found.append(np.round(res.x))
    return (int(ends[0]), int(ends[1])), found


def narrow_cells(tables: dict[str, pd.DataFrame], family: Family, profile: str | Profile,
                 solved: Solved | None = None) -> dict[Cell, tuple[int, int]]:
    """The suppressed cells of a family whose range is narrower than the profile allows and
    reaches into the suppressed band: a cell pinned to 39, or to 0, tells no one about a
    child; one narrowed to 2-4 does."""
    p = get_profile(profile)
    ranges = feasible_ranges(tables, family.relations(tables), p, solved=solved,
                             enough=p.protection_width)
    return {c: (lo, hi) for c, (lo, hi) in ranges.items()
            if hi - lo < p.protection_width and lo <= p.threshold and hi >= 1}


def protect_jointly(table: pd.DataFrame, name: str, family: Family,
                    earlier: dict[str, pd.DataFrame], profile: str | Profile,
                    derived: dict[str, str | Sequence[str]] | None = None) -> pd.DataFrame:
    """Widen the suppression of a table about to be published until no suppressed cell of its
    family (with the ``earlier`` members already published) is narrower than the profile
    allows: each narrow cell gets one more suppressed cell of this table beside it in a
    relation, the smallest non-zero first, and what is derived from it goes too."""
    out = table.copy()
    tables = {**earlier, name: out.astype(str)}
    solved = Solved()  # the programs of the parts each round leaves as they were
    while narrow := narrow_cells(tables, family, profile, solved):
        equations = family.relations(tables)
        mine = [c for eq in equations for c in eq if c[0] == name and _published(tables, c)]
        picks, covered = set(), set()
        for cell in sorted(narrow):
            around = [k for k, eq in enumerate(equations) if cell in eq]
            if covered & set(around):
                continue
            free = [c for k in around for c in equations[k] if c[0] == name
                    and _published(tables, c)] or mine
            if not free:
                raise ProjectError(f"cannot protect {name} jointly with the {family.name} "
                                   f"family: {cell[0]} row {cell[1] + 1} {cell[2]} stays narrow")
            value = {c: float(tables[name].at[c[1], c[2]]) for c in free}
            picks.add(min(free, key=lambda c: (value[c] == 0, value[c], c)))
            covered |= set(around)
        picks |= _copies(picks, equations, tables, name)
        for _, i, col in picks:
            out[col] = out[col].astype(object)
            out.at[i, col] = SUPPRESSED
            for d, bases in (derived or {}).items():
                if col in ([bases] if isinstance(bases, str) else bases):
                    out[d] = out[d].astype(object)
                    out.at[i, d] = SUPPRESSED
        tables[name] = out.astype(str)
    return out


def _copies(picks: set[Cell], equations: list[Equation], tables, name: str) -> set[Cell]:
    """The published cells of this table that repeat a picked one (an equation of two cells
    saying they are equal): suppressed with it, or the copy would show it."""
    copies = set(picks)
    grown = True
    while grown:
        grown = False
        for eq in equations:
            if len(eq) == 2 and sorted(eq.values()) == [-1, 1] and copies & set(eq):
                for c in set(eq) - copies:
                    if c[0] == name and _published(tables, c):
                        copies.add(c)
                        grown = True
    return copies


def _published(tables: dict[str, pd.DataFrame], cell: Cell) -> bool:
    return _bounds(str(tables[cell[0]].at[cell[1], cell[2]]), Profile("", 0, None, 0)) is None


def _label(table: pd.DataFrame, row: int, column: str) -> str:
    """The row's keys: the columns before the count (a tidy table's first columns)."""
    keys = list(table.columns[:list(table.columns).index(column)])[:3]
    return ", ".join(f"{k} {table.at[row, k]}" for k in keys)


def audit_family(tables: dict[str, pd.DataFrame], family: Family, profile: str | Profile
                 ) -> list[Finding]:
    """Findings of one family over the tables published (members not published are left out)."""
    present = {t: tables[t] for t in family.tables if t in tables}
    return [Finding(family.name, t, i, col, lo, hi, _label(present[t], i, col))
            for (t, i, col), (lo, hi) in sorted(narrow_cells(present, family, profile).items())]


def families() -> list[Family]:
    """Every family of every analysis, from the registries that declare them."""
    from .linkage.report import FAMILIES as linkage
    from .referrals.tables import FAMILIES as referrals
    from .site_profile import FAMILIES as site_profile
    from .themes.tables import FAMILIES as themes
    from .voice.voice_map import FAMILIES as voice_map

    return [*site_profile, *linkage, *referrals, *themes, *voice_map]


def family_of(table: str) -> Family | None:
    return next((f for f in families() if table in f.tables), None)


def read_published(folder: Path, names: Iterable[str] | None = None) -> dict[str, pd.DataFrame]:
    """A site's published tables (all, or those of ``names`` that exist) as strings."""
    paths = (sorted(Path(folder).glob("*.csv")) if names is None
             else [Path(folder) / f"{n}.csv" for n in names])
    return {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths if p.is_file()}


def audit_site(folder: Path, profile: str | Profile) -> dict[str, list[Finding]]:
    """Every family's findings from the tables in a site's ``tables`` folder."""
    tables = read_published(folder)
    return {f.name: audit_family(tables, f, profile) for f in families()}
