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
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from . import disclosure
from .disclosure import SUPPRESSED
from .errors import ProjectError
from .page_tables import decimals


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
    """Rate ratio of site ``a`` to site ``b`` per key, with an exact 95% interval: given the
    two sites' events together, site a's share is binomial, so the Clopper-Pearson interval of
    that share (statsmodels' ``proportion_confint``, method "beta") gives the ratio's. Exact
    rather than Wald, as small councils' counts are small.

    Uses the published counts and person-time; where either site's count is suppressed
    the comparison is suppressed too.
    """
    wide = table.pivot_table(index=keys, columns="site", values=[events, person_years],
                             aggfunc="first").reset_index()
    out = wide[keys].copy()
    out.columns = keys
    ea, eb = _num(wide[(events, a)]), _num(wide[(events, b)])
    pa, pb = _num(wide[(person_years, a)]), _num(wide[(person_years, b)])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (ea / pa) / (eb / pb)
        share_lo, share_hi = proportion_confint(ea, ea + eb, alpha=0.05, method="beta")
        lo = share_lo / (1 - share_lo) * pb / pa
        hi = share_hi / (1 - share_hi) * pb / pa
    out[f"events_{a}"], out[f"events_{b}"] = wide[(events, a)].values, wide[(events, b)].values
    out["rate_ratio"] = ratio.round(2)
    out["ci_lower"] = np.round(lo, 2)
    out["ci_upper"] = np.round(hi, 2)
    hidden = ea.isna() | eb.isna() | (ea == 0) | (eb == 0)
    for col in ["rate_ratio", "ci_lower", "ci_upper"]:
        out[col] = out[col].astype(object).where(~hidden, SUPPRESSED)
    return out


def proportion_difference(table: pd.DataFrame, key: str, n: str, total: str, a: str, b: str
                          ) -> pd.DataFrame:
    """Difference in percentage points between two sites of a proportion n / total per key
    (each row its own denominator), with a 95% Newcombe interval."""
    rows = []
    for level, g in table.groupby(key, sort=False):
        row = {key: level, "difference_pp": SUPPRESSED, "ci_lower": SUPPRESSED,
               "ci_upper": SUPPRESSED}
        ga, gb = g[g.site == a], g[g.site == b]
        if len(ga) and len(gb):
            ka, na, kb, nb = (_num(x[c]).iloc[0] for x, c in
                              [(ga, n), (ga, total), (gb, n), (gb, total)])
            if not any(pd.isna(v) for v in (ka, na, kb, nb)) and na and nb:
                lo, hi = confint_proportions_2indep(ka, na, kb, nb, method="newcomb",
                                                    compare="diff")
                row.update({"difference_pp": round(100 * (ka / na - kb / nb), 1),
                            "ci_lower": round(100 * lo, 1), "ci_upper": round(100 * hi, 1)})
        rows.append(row)
    return pd.DataFrame(rows)


def _total(rows: pd.DataFrame, count: str, pct: str) -> float:
    """A breakdown's total from its published rows: count / share on any row showing both
    (suppressed rows hide their counts, so summing the shown counts would undercount)."""
    k, p = _num(rows[count]), _num(rows[pct])
    ok = k.notna() & p.notna() & (p > 0)
    return float((k[ok] / p[ok] * 100).median()) if ok.any() else float(k.sum())


def share_difference(table: pd.DataFrame, key: str, count: str, a: str, b: str,
                     pct: str = "pct") -> pd.DataFrame:
    """Difference in percentage points of each category's share between two sites (Newcombe)."""
    rows = []
    totals = {s: round(_total(table[table.site == s], count, pct)) for s in (a, b)}
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


def strictest_profile(sites: list[str]) -> str:
    """The disclosure profile to apply to a comparison: the strictest of the sites'."""
    from .params import load_site

    profiles = {load_site(s).disclosure_profile for s in sites}
    return max(profiles, key=lambda p: disclosure.get_profile(p).threshold)


def publish(df: pd.DataFrame, name: str, sites: list[str], root: Path, *,
            counts: list[str] = (), derived: dict | None = None) -> pd.DataFrame:
    """Write a comparison table to reports/compare/tables/ through disclosure control."""
    table = disclosure.protect(df, strictest_profile(sites), counts=list(counts), derived=derived)
    folder = root / "compare" / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    table.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    return table


def save_figure(fig, name: str, alt: str, root: Path) -> Path:
    from .publish import write_png

    return write_png(fig, root / "compare" / "figures", name, alt)


def side_by_side(table: pd.DataFrame, keys: list[str], value: str, names: dict[str, str]
                 ) -> pd.DataFrame:
    """One column per site (display names) for a published value."""
    wide = table.pivot_table(index=keys, columns="site", values=value, aggfunc="first",
                             sort=False)
    wide = wide[[s for s in names if s in wide.columns]].rename(columns=names)
    return wide.reset_index()


def with_interval(table: pd.DataFrame, value: str, lower: str = "ci_lower",
                  upper: str = "ci_upper", unit: str = "") -> pd.Series:
    """'value (lower to upper)' as text, with the decimals a page table would give the value;
    just the symbol where the value is suppressed."""
    places = decimals(pd.to_numeric(table[value], errors="coerce"))

    def text(x) -> str:
        return f"{float(x):,.{places}f}"
    return pd.Series([f"{text(v)}{unit} ({text(lo)} to {text(hi)})"
                      if v not in disclosure.SYMBOLS else v
                      for v, lo, hi in zip(table[value], table[lower], table[upper])],
                     index=table.index)


def rates_with_intervals(table: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """'rate (lower to upper)' text per site, for reading a rates table across sites."""
    text = table.assign(shown=with_interval(table, "rate_per_10k"))
    keys = [c for c in table.columns if c not in {"events", "person_years", "rate_per_10k",
                                                   "ci_lower", "ci_upper", "site", "shown"}]
    return side_by_side(text, keys, "shown", names)


def plot_rates(table: pd.DataFrame, x: str, names: dict[str, str], title: str, xlabel: str,
               reference: float | None = None, reference_label: str = ""):
    """Rates per 10,000 with 95% intervals, one series per site (suppressed points not drawn)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    offsets = np.linspace(-0.15, 0.15, len(names))
    for (site, label), dx in zip(names.items(), offsets):
        t = table[table.site == site]
        xs = pd.to_numeric(t[x]) + dx
        rate, lo, hi = _num(t["rate_per_10k"]), _num(t["ci_lower"]), _num(t["ci_upper"])
        ax.errorbar(xs, rate, yerr=[rate - lo, hi - rate], fmt="o-", capsize=3, label=label)
    if reference is not None:
        ax.axhline(reference, color="grey", linestyle="--", label=reference_label)
    ax.set(title=title, xlabel=xlabel, ylabel="Rate per 10,000 child-years",
           xticks=sorted(pd.to_numeric(table[x]).unique()))
    ax.legend()
    return fig


def crosstab_shares(table: pd.DataFrame, key: str, column: str = "Total") -> pd.DataFrame:
    """Rows of a published two-way table (with a Total row) as counts and % of the total."""
    body = table[table[key] != disclosure.TOTAL]
    total = _num(table.loc[table[key] == disclosure.TOTAL, column]).iloc[0]
    counts = _num(body[column])
    out = body[[key, "site"]].copy() if "site" in body else body[[key]].copy()
    out["count"] = body[column].values
    out["pct"] = (100 * counts / total).round(1).astype(object).where(counts.notna(), SUPPRESSED)
    return out
