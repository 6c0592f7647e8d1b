"""What came after a referral: the furthest stage of the journey each reached, the Sankey's
flows, re-referrals and early help stepping up."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..vocabulary import STAGES
from .cohort import PERIODS, transfer_period
from .intervals import proportion_ci
from .tables import numbers

S = STAGES
# The stages a referral's episode can go on to reach (event types of the case-management system).
LATER_STAGES = ["assessment", "s47", "cin_plan", "cp_plan", "cla_episode"]
# Each referral's furthest point, from least to most.
ROUTE_ORDER = ["No further action at referral", "No assessment recorded",
               f"{S['assessment']}, no plan", S["cin_plan"], f"{S['s47']}, no {S['cp_plan']}",
               S["cp_plan"], S["cla_episode"]]


def referral_stages(referrals: pd.DataFrame, timeline: pd.DataFrame) -> pd.DataFrame:
    """For each referral: which later stages its episode reached (by episode_id)."""
    later = timeline[(timeline["source"] == "csc") & timeline["event_type"].isin(LATER_STAGES)]
    reached = (later.assign(v=1).pivot_table(index="episode_id", columns="event_type", values="v",
                                             aggfunc="max", fill_value=0)
               .reindex(columns=LATER_STAGES, fill_value=0))
    out = referrals.merge(reached, left_on="episode_id", right_index=True, how="left")
    out[LATER_STAGES] = out[LATER_STAGES].fillna(0).astype(int)
    nfa = out["referral_nfa"].astype("boolean").fillna(False).astype(bool)
    nfa_route, none, assessed, cin, s47, cp, cla = ROUTE_ORDER
    out["route"] = np.select(
        [nfa, out["cla_episode"] == 1, out["cp_plan"] == 1, out["s47"] == 1, out["cin_plan"] == 1,
         out["assessment"] == 1],
        [nfa_route, cla, cp, s47, cin, assessed], none)
    return out


def routes_table(stages: pd.DataFrame) -> pd.DataFrame:
    """Referrals by the furthest point reached (rows) before and after transfer (columns).

    A two-way table of counts, published with totals and secondary suppression
    (``publish_table(crosstab=True)``) so no suppressed cell follows from the totals.
    """
    period = transfer_period(stages["rel_month"])
    out = pd.crosstab(pd.Categorical(stages["route"], categories=ROUTE_ORDER), period,
                      dropna=False)
    out = out.reindex(index=ROUTE_ORDER, columns=PERIODS, fill_value=0)
    out.index, out.columns = pd.Index(ROUTE_ORDER, name="route"), pd.Index(PERIODS)
    return out


def route_flows(stages: pd.DataFrame) -> pd.DataFrame:
    """The Sankey's bands: referrals flowing from each stage to the next."""
    flows = []
    for r in stages.itertuples():
        if r.route == ROUTE_ORDER[0]:
            path = [S["referral"], "No further action"]
        elif not r.assessment:
            path = [S["referral"], "No assessment recorded"]
        else:
            path = [S["referral"], S["assessment"]]
            if r.s47:
                path += [S["s47"], S["cp_plan"] if r.cp_plan else f"No {S['cp_plan']}"]
            else:
                path += [S["cin_plan"] if r.cin_plan else "No plan"]
        if r.cla_episode and r.route != ROUTE_ORDER[0]:
            path.append(S["cla_episode"])
        flows += list(zip(path[:-1], path[1:], range(len(path) - 1), strict=True))
    f = pd.DataFrame(flows, columns=["source", "target", "step"])
    out = f.groupby(["step", "source", "target"]).size().rename("referrals").reset_index()
    return (out.sort_values(["step", "referrals"], ascending=[True, False], kind="stable")
            .drop(columns="step").reset_index(drop=True))


def re_referrals(referrals: pd.DataFrame, referrals_all: pd.DataFrame) -> pd.DataFrame:
    """Share of referrals made within 12 months of the child's previous referral (DfE measure)."""
    allr = referrals_all.sort_values(["child_id", "start_date", "event_id"])
    allr = allr.assign(prev=allr.groupby("child_id")["start_date"].shift(1))
    r = referrals.merge(allr[["event_id", "prev"]], on="event_id", how="left")
    r["re"] = (r["start_date"] - r["prev"]).dt.days.le(365) & r["prev"].notna()
    r["period"] = transfer_period(r["rel_month"])
    rows = [{"measure": "re-referral within 12 months", "period": p, "referrals": len(g),
             "re_referrals": int(g["re"].sum())}
            for p, g in [("All", r), *r.groupby("period", observed=True)]]
    out = pd.DataFrame(rows)
    return pd.concat([out, proportion_ci(out["re_referrals"], out["referrals"])], axis=1)


def early_help_escalation(early_help: pd.DataFrame, referrals_all: pd.DataFrame) -> pd.DataFrame:
    """Of early help episodes starting in follow-up: stepped up, or referred within 12 months."""
    eh = early_help.sort_values(["child_id", "start_date"])
    stepped = eh["outcome"].astype("string").str.contains("stepped up", case=False, na=False)
    ref = referrals_all[["child_id", "start_date"]].rename(columns={"start_date": "ref_date"})
    m = eh[["event_id", "child_id", "start_date"]].merge(ref, on="child_id", how="left")
    gap = (m["ref_date"] - m["start_date"]).dt.days
    referred = m[gap.between(0, 365)]["event_id"].unique()
    n = len(eh)
    rows = [{"measure": "Outcome recorded as stepped up to social care", "episodes": n,
             "count": int(stepped.sum())},
            {"measure": "Referral to children's social care within 12 months of the start",
             "episodes": n, "count": int(eh["event_id"].isin(referred).sum())}]
    out = pd.DataFrame(rows)
    out["pct"] = 100 * out["count"] / n if n else np.nan
    return out


def plot_sankey(flows: pd.DataFrame, title: str):
    """A Sankey of routes from referral, drawn with matplotlib (no web scripts).

    Nodes sit in columns by step; band widths are the published counts (suppressed bands are
    not drawn). A node is labelled with its number only when every band into and out of it is
    published: a sum of the visible bands beside a hidden one would give the hidden one away.
    """
    hidden = flows[np.isnan(numbers(flows["referrals"]))]
    partial = set(hidden["source"]) | set(hidden["target"])
    f = flows.assign(n=numbers(flows["referrals"])).dropna(subset=["n"])
    f = f[f["n"] > 0]
    # a node's column from every band, hidden ones too: a node reached only through a hidden
    # band still has its place (and its visible bands out of it)
    depth = {S["referral"]: 0}
    for _ in range(len(flows)):
        for r in flows.itertuples():
            if r.source in depth:
                depth[r.target] = max(depth.get(r.target, 0), depth[r.source] + 1)
    drawn = {S["referral"], *f["source"], *f["target"]}
    depth = {k: d for k, d in depth.items() if k in drawn}
    size = {k: max(f.loc[f["target"] == k, "n"].sum(), f.loc[f["source"] == k, "n"].sum())
            for k in depth}
    total = size[S["referral"]] or 1.0
    gap, width = 0.04 * total, 0.12
    pos: dict[str, float] = {}
    for d in sorted(set(depth.values())):
        y = 0.0
        for k in [k for k in depth if depth[k] == d]:
            pos[k] = y
            y += size[k] + gap
    fig, ax = plt.subplots(figsize=(10, 5.5))
    colours = plt.get_cmap("tab10")
    out_off = {k: 0.0 for k in depth}
    in_off = {k: 0.0 for k in depth}
    for i, r in enumerate(f.itertuples()):
        x0, x1 = depth[r.source] + width, depth[r.target]
        y0 = pos[r.source] + out_off[r.source]
        y1 = pos[r.target] + in_off[r.target]
        out_off[r.source] += r.n
        in_off[r.target] += r.n
        xs = np.linspace(x0, x1, 50)
        w = (1 - np.cos(np.pi * (xs - x0) / (x1 - x0))) / 2
        ax.fill_between(xs, y0 + (y1 - y0) * w, y0 + r.n + (y1 - y0) * w,
                        color=colours(i % 10), alpha=0.45, linewidth=0)
    for k, d in depth.items():
        ax.add_patch(plt.Rectangle((d, pos[k]), width, size[k], color="0.3"))
        label = k if k in partial else f"{k} ({int(size[k]):,})"
        ax.text(d + width + 0.03, pos[k] + size[k] / 2, label, va="center",
                fontsize=8, bbox={"facecolor": "white", "alpha": 0.7, "linewidth": 0})
    ax.set_xlim(-0.1, max(depth.values()) + 1.1)
    ax.set_ylim(max(pos[k] + size[k] for k in depth) + gap, -gap)
    ax.axis("off")
    ax.set_title(title)
    fig.tight_layout()
    return fig
