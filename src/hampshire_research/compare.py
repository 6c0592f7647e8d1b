"""Set the sites side by side from their published tables only, never from row-level data.

Every input here has already passed disclosure control; differences computed from a
suppressed value are suppressed too.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from statsmodels.stats.proportion import confint_proportions_2indep

from . import disclosure
from .disclosure import SUPPRESSED
from .errors import ProjectError
from .paths import project_root


def reports_root(path: str | Path = "") -> Path:
    return Path(path) if str(path) else project_root() / "reports"


def site_table(sites: list[str], name: str, root: Path) -> pd.DataFrame:
    """One published table for every site, stacked with a ``site`` column."""
    frames = []
    for site in sites:
        path = root / site / "tables" / f"{name}.csv"
        if not path.is_file():
            raise ProjectError("published table not found: run the site first", path=path)
        frames.append(pd.read_csv(path, dtype=str, keep_default_na=False).assign(site=site))
    return pd.concat(frames, ignore_index=True)


def england() -> dict:
    """England's published reference figures (with their sources)."""
    text = resources.files("hampshire_research").joinpath("england.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def _num(series: pd.Series) -> pd.Series:
    return disclosure.numeric(series)


def rate_ratio(table: pd.DataFrame, keys: list[str], a: str, b: str, events: str = "events",
               person_years: str = "person_years") -> pd.DataFrame:
    """Rate ratio of site ``a`` to site ``b`` per key, with a 95% interval (log-normal).

    Uses the published counts and person-time; where either site's count is suppressed
    the comparison is suppressed too.
    """
    wide = table.pivot_table(index=keys, columns="site", values=[events, person_years],
                             aggfunc="first").reset_index()
    out = wide[keys].copy()
    out.columns = keys
    ea, eb = _num(wide[(events, a)]), _num(wide[(events, b)])
    pa, pb = _num(wide[(person_years, a)]), _num(wide[(person_years, b)])
    ratio = (ea / pa) / (eb / pb)
    se = np.sqrt(1 / ea + 1 / eb)
    out[f"events_{a}"], out[f"events_{b}"] = wide[(events, a)].values, wide[(events, b)].values
    out["rate_ratio"] = ratio.round(2)
    out["ci_lower"] = np.exp(np.log(ratio) - 1.96 * se).round(2)
    out["ci_upper"] = np.exp(np.log(ratio) + 1.96 * se).round(2)
    hidden = ea.isna() | eb.isna() | (ea == 0) | (eb == 0)
    for col in ["rate_ratio", "ci_lower", "ci_upper"]:
        out[col] = out[col].astype(object).where(~hidden, SUPPRESSED)
    return out


def share_difference(table: pd.DataFrame, key: str, count: str, a: str, b: str) -> pd.DataFrame:
    """Difference in percentage points of each category's share between two sites (Newcombe)."""
    rows = []
    totals = {s: _num(table.loc[table.site == s, count]).sum() for s in (a, b)}
    for level, g in table.groupby(key, sort=False):
        ka = _num(g.loc[g.site == a, count]).sum(min_count=1)
        kb = _num(g.loc[g.site == b, count]).sum(min_count=1)
        row = {key: level, f"pct_{a}": SUPPRESSED, f"pct_{b}": SUPPRESSED,
               "difference_pp": SUPPRESSED, "ci_lower": SUPPRESSED, "ci_upper": SUPPRESSED}
        if pd.notna(ka) and pd.notna(kb) and totals[a] and totals[b]:
            lo, hi = confint_proportions_2indep(ka, totals[a], kb, totals[b], method="newcomb",
                                                compare="diff")
            row.update({f"pct_{a}": round(100 * ka / totals[a], 1),
                        f"pct_{b}": round(100 * kb / totals[b], 1),
                        "difference_pp": round(100 * (ka / totals[a] - kb / totals[b]), 1),
                        "ci_lower": round(100 * lo, 1), "ci_upper": round(100 * hi, 1)})
        rows.append(row)
    return pd.DataFrame(rows)
