"""Tables and figures of notebook 02 (single view): population-level, publishable after
disclosure control. Figures are drawn only from the protected tables."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..disclosure_audit import Family, same_sums
from ..vocabulary import SOURCE_NAMES as LABELS
from .site import SOURCES


def sources_table(tables: dict) -> pd.DataFrame:
    """Per source: records read, children they belong to, and records linked to another source."""
    rates = tables["linkage_rates"].copy()
    rates.insert(0, "source_name", rates["source"].map(LABELS).fillna(rates["source"]))
    rates["pct_linked_to_another_source"] = (100 * rates["linked_to_another_source"]
                                             / rates["records"]).round(1)
    return rates.drop(columns=["source"])


def source_combinations(single_view: pd.DataFrame) -> pd.DataFrame:
    """Children by the exact set of sources they appear in (the bars of an upset chart)."""
    present = [s for s in SOURCES if single_view[f"in_{s}"].any()]
    combo = single_view[[f"in_{s}" for s in present]].astype(bool)
    key = combo.apply(lambda r: " + ".join(LABELS[s] for s, v in zip(present, r, strict=True)
                                           if v), axis=1)
    out = key.value_counts().rename_axis("sources").rename("children").reset_index()
    for s in present:
        out[LABELS[s]] = out["sources"].str.split(" + ", regex=False).apply(
            lambda parts, s=s: LABELS[s] in parts)
    out["n_sources"] = out[[LABELS[s] for s in present]].sum(axis=1)
    return out.sort_values(["children", "sources"], ascending=[False, True],
                           kind="stable").reset_index(drop=True)


def _number(x) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return np.nan


def plot_upset(protected: pd.DataFrame, title: str):
    """Bars of children per combination of sources, a dot matrix beneath saying which sources.

    Suppressed counts are not drawn: their bar is left out and marked with the symbol.
    """
    names = [c for c in LABELS.values() if c in protected.columns]
    n = len(protected)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(6, 0.55 * n + 2), 6), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 1.6]})
    values = protected["children"].map(_number)
    x = np.arange(n)
    top.bar(x[values.notna()], values.dropna(), color="#1d70b8")
    for i, (v, raw) in enumerate(zip(values, protected["children"], strict=True)):
        top.annotate(str(raw) if np.isnan(v) else f"{v:,.0f}", (i, 0 if np.isnan(v) else v),
                     ha="center", va="bottom", fontsize=7, rotation=90 if n > 12 else 0)
    top.set_ylabel("Children")
    top.set_title(title)
    for j, name in enumerate(names):
        on = protected[name].astype(str).str.lower().eq("true").to_numpy()
        bottom.scatter(x, np.full(n, j), s=30, color=np.where(on, "#0b0c0c", "#dddddd"))
    for i in range(n):
        on = [j for j, name in enumerate(names)
              if str(protected[name].iloc[i]).lower() == "true"]
        if len(on) > 1:
            bottom.plot([i, i], [min(on), max(on)], color="#0b0c0c", lw=1.5)
    bottom.set_yticks(range(len(names)), names)
    bottom.set_xticks([])
    bottom.set_xlabel("Combination of sources a child appears in (largest first)")
    bottom.invert_yaxis()
    fig.tight_layout()
    return fig


def quality_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Pairwise and B-cubed precision, recall and F1 against the truth key (synthetic data)."""
    s = dict(zip(summary["measure"], summary["value"], strict=True))
    rows = []
    for level, prefix in (("pairs of records", ""), ("records in clusters (B-cubed)",
                                                     "bcubed_")):
        rows.append({"measured_on": level,
                     **{m: round(float(s[f"quality.{prefix}{m}"]), 4)
                        for m in ("precision", "recall", "f1")}})
    return pd.DataFrame(rows)


def plot_tradeoff(protected: pd.DataFrame, threshold: float):
    """Precision and recall of pairs against the match-probability threshold."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    x = np.arange(len(protected))
    for col, style in (("precision", "o-"), ("recall", "s--"), ("f1", "^:")):
        ax.plot(x, protected[col].map(_number), style, label=col.replace("f1", "F1"))
    ax.set_xticks(x, [f"{t:g}" for t in protected["threshold"]])
    ax.axvline(list(protected["threshold"]).index(threshold), color="grey", lw=0.8)
    ax.set_xlabel("Match probability threshold (grey line: the one used)")
    ax.set_ylabel("Share of pairs (0-1)")
    ax.set_title("Linkage quality against the threshold (synthetic truth)")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_match_weights(protected: pd.DataFrame, threshold: float):
    """How many candidate pairs scored each match weight: links sit to the right."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    values = protected["pairs"].map(_number)
    shown = values.notna() & (values > 0)
    ax.bar(protected["match_weight_bin"][shown], values[shown], width=0.9, color="#1d70b8")
    ax.set_yscale("log")
    ax.axvline(np.log2(threshold / (1 - threshold)), color="#d4351c", lw=1)
    ax.set_xlabel("Match weight (log2 odds; red line: threshold)")
    ax.set_ylabel("Candidate pairs (log scale)")
    ax.set_title("Match weights of all candidate pairs")
    fig.tight_layout()
    return fig


def review_table(clerical: pd.DataFrame) -> pd.DataFrame:
    """Pairs for clerical review by the two sources involved and whether they were linked."""
    if clerical.empty:
        return pd.DataFrame({"sources": [], "linked": [], "pairs": []})
    pair = [" / ".join(sorted([LABELS.get(a, a), LABELS.get(b, b)]))
            for a, b in zip(clerical["source_l"], clerical["source_r"], strict=True)]
    out = (pd.DataFrame({"sources": pair, "linked": np.where(clerical["same_child"],
                                                              "linked", "not linked")})
           .value_counts().rename("pairs").reset_index())
    return out.sort_values(["sources", "linked"], kind="stable").reset_index(drop=True)


def review_disagreements(clerical: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    """For the pairs in review: how often each field agreed exactly, differed, or was missing."""
    rows = []
    for comp in levels["comparison"].unique():
        col = f"{comp}_level"
        if col not in clerical:
            continue
        lv = clerical[col]
        exact = lv.str.contains("Exact|exact", regex=True)
        missing = lv.eq("") | clerical[f"{comp}_weight"].eq(0)
        rows.append({"field": comp, "pairs": len(clerical), "exact": int(exact.sum()),
                     "partly": int((~exact & ~missing & clerical[f"{comp}_weight"].gt(0)).sum()),
                     "different": int((clerical[f"{comp}_weight"] < 0).sum()),
                     "missing": int(missing.sum())})
    return pd.DataFrame(rows)


def example_child(tables: dict) -> str:
    """A synthetic child seen in the most sources (ties: smallest child_id)."""
    sv = tables["single_view"].sort_values(["n_sources", "child_id"], ascending=[False, True],
                                           kind="stable")
    return str(sv["child_id"].iloc[0])


def plot_timeline(timeline: pd.DataFrame, child_id: str):
    """One child's events by source over time (synthetic data only): a bar for each episode's
    span, a marker for each event, one marker shape per kind of event."""
    ev = timeline[timeline["child_id"] == child_id].sort_values(["start_date", "event_id"])
    sources = [s for s in SOURCES if s in set(ev["source"])]
    fig, ax = plt.subplots(figsize=(8.5, 0.6 * len(sources) + 2.2))
    marks = "os^Dv<>pPX*hH"
    for j, src in enumerate(sources):
        e = ev[ev["source"] == src]
        for s, t in zip(e["start_date"], e["end_date"].fillna(e["start_date"]), strict=True):
            ax.plot([s, t], [j, j], color="#9fc4e8", lw=6, solid_capstyle="butt", zorder=1)
    for k, kind in enumerate(sorted(ev["event_type"].unique())):
        e = ev[ev["event_type"] == kind]
        ax.scatter(e["start_date"], e["source"].map({s: j for j, s in enumerate(sources)}),
                   marker=marks[k % len(marks)], s=36, zorder=3, label=kind.replace("_", " "))
    ax.set_yticks(range(len(sources)), [LABELS[s] for s in sources])
    ax.set_ylim(-0.6, len(sources) - 0.4)
    ax.set_xlabel("Date (bars: from start to end of an episode)")
    ax.set_title("One synthetic child's events, by the source that recorded them")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), title="event")
    fig.tight_layout()
    return fig


def overview(tables: dict) -> pd.DataFrame:
    """How many records and children, and how many children more than one source knows."""
    sv = tables["single_view"]
    rows = [("records (all sources)", len(tables["record_map"])),
            ("children (after linkage)", len(sv)),
            ("children in more than one source", int((sv["n_sources"] > 1).sum())),
            ("children known to social care (CSC)", int(sv["in_csc"].sum())),
            ("of whom also on a school census roll",
             int((sv["in_csc"] & sv["in_school_census"]).sum())),
            ("of whom also known to early help", int((sv["in_csc"] & sv["in_early_help"]).sum()))]
    return pd.DataFrame(rows, columns=["measure", "count"])


def model_table(levels: pd.DataFrame) -> pd.DataFrame:
    """The fitted model: each comparison level's m, u and match weight (no records in it)."""
    out = levels[levels["m_probability"].notna()].copy()
    for c in ("m_probability", "u_probability"):
        out[c] = out[c].round(5)
    out["match_weight"] = out["match_weight"].round(2)
    return out.drop(columns=["gamma"]).reset_index(drop=True)


# How each published table is protected: its counts, what rests on them, and the groups whose
# totals are published elsewhere (secondary suppression).
TABLES = {
    "linkage_overview": {"counts": ["count"]},
    "linkage_sources": {"counts": ["records", "children", "linked_to_any_record",
                                   "linked_to_another_source"],
                        "derived": {"pct_linked_to_another_source": "linked_to_another_source"}},
    "linkage_source_combinations": {"counts": ["children"], "within": ["of"]},
    "linkage_quality": {"counts": []},
    "linkage_tradeoff": {"counts": ["children", "links"]},
    "linkage_match_weights": {"counts": ["pairs"]},
    "linkage_model": {"counts": []},
    "linkage_review": {"counts": ["pairs"], "within": ["sources"]},
    "linkage_review_fields": {"counts": ["pairs", "exact", "partly", "different", "missing"]},
}


def _linkage(t: dict[str, pd.DataFrame]) -> list:
    """The children of each source are the children of the source combinations holding it,
    and all children are the children of every combination."""
    combos, sources = t.get("linkage_source_combinations"), t.get("linkage_sources")
    if combos is None:
        return []
    eqs = []
    if sources is not None:
        for i, name in sources["source_name"].items():
            if name in combos:
                eqs += same_sums(("linkage_source_combinations", combos[combos[name] == "True"],
                                  "children"), ("linkage_sources", sources.loc[[i]], "children"))
    overview = t.get("linkage_overview")
    if overview is not None:
        eqs += same_sums(("linkage_source_combinations", combos, "children"),
                         ("linkage_overview",
                          overview[overview["measure"] == "children (after linkage)"], "count"))
    return eqs


# Tables that share counts, in the order notebook 02 publishes them (see disclosure_audit).
FAMILIES = [Family("linkage sources", ("linkage_overview", "linkage_sources",
                                       "linkage_source_combinations"), _linkage)]


def publish(df: pd.DataFrame, name: str, params, out_dir=None) -> pd.DataFrame:
    """Publish one of this page's tables (``TABLES``) through disclosure control."""
    from ..publish import publish_table

    spec = TABLES[name]
    if name == "linkage_source_combinations":
        df = df.assign(of="all children")
    return publish_table(df, name, params, counts=spec["counts"], derived=spec.get("derived"),
                         within=spec.get("within"), out_dir=out_dir)


def summary_value(tables: dict, measure: str):
    s = tables["summary"]
    return s.loc[s["measure"] == measure, "value"].iloc[0]


def has_truth(tables: dict) -> bool:
    """Quality can be measured only when the data came with a truth key (synthetic data)."""
    return bool((tables["summary"]["measure"] == "quality.f1").any())


