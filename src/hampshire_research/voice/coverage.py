"""Where voice appears in the records and where it is missing.

A record is one case note (canonical `texts` row). For the child: voice (any form), voice as a
direct quote, an explicit absence reason, or silent (neither). The same for parents and carers.
Shares come with Wilson 95% intervals, broken down by data source, note type, stage, age band
and year; every published table goes through the disclosure gate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from .. import vocabulary
from ..errors import ProjectError
from ..params import SiteParams
from .codebook import load_codebook

# The journey's stages a case note can belong to, in the vocabulary's words and order.
_STAGE_KEYS = ["early_help", "referral", "assessment", "s47", "cin_plan", "cp_plan", "cla_episode"]
STAGES = [vocabulary.STAGES[k] for k in _STAGE_KEYS]
MEASURES = {  # flag column -> published label
    "cyp_voice": "child's voice (any form)",
    "cyp_quote": "child's voice (direct quote)",
    "cyp_absence": "child's voice: absence reason stated",
    "cyp_silent": "child's voice: silent (neither)",
    "par_voice": "parent or carer's voice (any form)",
    "par_absence": "parent or carer's voice: absence reason stated",
    "par_silent": "parent or carer's voice: silent (neither)",
}
BREAKDOWNS = {"source": "voice_coverage_by_source", "note_type": "voice_coverage_by_note_type",
              "stage": "voice_coverage_by_stage", "age_band": "voice_coverage_by_age_band",
              "year": "voice_coverage_by_year"}
_STAGE_WORDS = [  # first match wins; matched on the note's stage, then its note type
    ("early_help", r"early|\beh\b|family support"),
    ("s47", r"s\.?\s?47|section 47|strategy|joint visit"),
    ("cp_plan", r"\bcp\b|child protection|conference|core group|icpc|rcpc"),
    ("cla_episode", r"\bcla\b|\blac\b|looked after|in care|placement|cla_review|care leaver|pathway"),
    ("cin_plan", r"\bcin\b|child in need"),
    ("assessment", r"assess"),
    ("referral", r"refer|contact|mash|front door"),
]


def stage_group(stage: pd.Series, note_type: pd.Series | None = None) -> pd.Series:
    """The seven stages of the journey from free-text stage (or note type) labels; else "other".

    Conference notes (ICPC, RCPC) count with the CP plan: the conference is child protection's
    front door and notes rarely say which conference they record."""
    out = pd.Series("other", index=stage.index, dtype=object)
    done = pd.Series(False, index=stage.index)
    for source in [stage] + ([note_type] if note_type is not None else []):
        s = source.fillna("").astype(str).str.lower().str.replace("_", " ")
        for key, pat in _STAGE_WORDS:
            hit = ~done & s.str.contains(pat, regex=True)
            out[hit] = vocabulary.STAGES[key]
            done |= hit
    return out


def collection_year(date: pd.Series) -> pd.Series:
    """The reporting year ending 31 March, as "2021-22"; Unknown without a date."""
    years = vocabulary.collection_year(date)
    years.index = date.index
    return vocabulary.collection_year_label(years).astype(object).fillna("Unknown")


def codes_applied(segments: pd.DataFrame) -> pd.DataFrame:
    """How many sentences and records carry each code (a WHO counted on voice segments only)."""
    voice = segments[segments.absence.isna()]
    parts = [voice[["note_id", "start", "who"]].rename(columns={"who": "code"}),
             voice[["note_id", "start", "form"]].rename(columns={"form": "code"}),
             segments[["note_id", "start", "absence"]].rename(columns={"absence": "code"})]
    long = pd.concat(parts).dropna(subset=["code"]).drop_duplicates()
    out = long.groupby("code").agg(sentences=("start", "size"), records=("note_id", "nunique"))
    order = [c for c in load_codebook().ids() if c in out.index]
    return out.reindex(order).astype(int).reset_index()


def record_flags(texts: pd.DataFrame, segments: pd.DataFrame,
                 dob: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per record (text) with its breakdowns and voice flags.

    texts: canonical texts (text_id, record_id, source, note_type, stage, date, text).
    segments: coded segments (note_id = text_id). dob: record_id, dob (for the age band).
    A record with no text counts as silent: nothing is recorded.
    """
    need = ["text_id", "record_id", "source", "note_type", "stage", "date"]
    missing = [c for c in need if c not in texts.columns]
    if missing:
        raise ProjectError(f"texts need column(s) {missing}", field=missing[0])
    out = texts[need].copy()
    if out.text_id.duplicated().any():
        raise ProjectError("text_id repeats in texts", field="text_id")
    out["stage"] = stage_group(texts["stage"], texts["note_type"])
    out["note_type"] = texts["note_type"].fillna("unknown")
    out["source"] = texts["source"].fillna("unknown")
    out["year"] = collection_year(texts["date"])
    if dob is not None:
        d = dob.drop_duplicates("record_id").set_index("record_id")["dob"]
        out["age_band"] = vocabulary.age_band_on(out["record_id"].map(d), out["date"])
    else:
        out["age_band"] = "Unknown"
    seg = segments[segments.note_id.isin(out.text_id)]
    voice, absent = seg[seg.absence.isna()], seg[seg.absence.notna()]

    def has(frame: pd.DataFrame) -> pd.Series:
        return out.text_id.isin(frame.note_id)

    out["cyp_voice"] = has(voice[voice.who == "W.CYP"])
    out["cyp_quote"] = has(voice[(voice.who == "W.CYP") & (voice.form == "F.DQ")])
    out["cyp_absence"] = has(absent[absent.who == "W.CYP"])
    out["cyp_silent"] = ~out.cyp_voice & ~out.cyp_absence
    out["par_voice"] = has(voice[voice.who == "W.PAR"])
    out["par_absence"] = has(absent[absent.who == "W.PAR"])
    out["par_silent"] = ~out.par_voice & ~out.par_absence
    return out.drop(columns=["date"]).reset_index(drop=True)


def wilson(n: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, total = np.asarray(n), np.asarray(total)
    lo, hi = proportion_confint(n, np.where(total > 0, total, 1), alpha=0.05, method="wilson")
    return np.where(total > 0, lo, np.nan), np.where(total > 0, hi, np.nan)


def coverage(flags: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Tidy shares: [by], measure, records, n, percent, ci_low, ci_high (percent, Wilson 95%)."""
    keys = [by] if by else []
    g = flags.assign(_all="All").groupby(keys or ["_all"], sort=True, observed=True)
    rows = []
    for col, label in MEASURES.items():
        agg = g[col].agg(["size", "sum"]).reset_index()
        lo, hi = wilson(agg["sum"], agg["size"])
        part = pd.DataFrame({"measure": label, "records": agg["size"].astype(int),
                             "n": agg["sum"].astype(int),
                             "percent": (100 * agg["sum"] / agg["size"]).round(1),
                             "ci_low": (100 * lo).round(1), "ci_high": (100 * hi).round(1)})
        if by:
            part.insert(0, by, agg[by].to_numpy())
        rows.append(part)
    out = pd.concat(rows, ignore_index=True)
    if by:
        order = {"stage": STAGES + ["other"],
                 "age_band": vocabulary.AGE_BAND_NAMES + ["18+", "Unknown"]}.get(
            by, sorted(set(out[by].astype(str))))
        rank = {v: i for i, v in enumerate(order)}
        out = out.assign(_g=out[by].astype(str).map(rank).fillna(len(rank)),
                         _m=out["measure"].map({v: i for i, v in enumerate(MEASURES.values())}))
        out = out.sort_values(["_g", "_m"], kind="stable").drop(columns=["_g", "_m"])
    return out.reset_index(drop=True)


def opportunities(flags: pd.DataFrame, min_records: int = 20, top: int = 5) -> pd.DataFrame:
    """Stages and sources (note types) where the child's voice is recorded least often: the
    places to hear more. Groups with fewer than `min_records` records are left out as unstable."""
    parts = []
    for by in ("stage", "note_type", "source"):
        c = coverage(flags, by)
        c = c[(c.measure == MEASURES["cyp_voice"]) & (c.records >= min_records)]
        parts.append(c.rename(columns={by: "group"}).assign(breakdown=by))
    out = pd.concat(parts, ignore_index=True)
    silent = pd.concat([coverage(flags, by).query("measure == @MEASURES['cyp_silent']")
                        .rename(columns={by: "group"}).assign(breakdown=by)
                        for by in ("stage", "note_type", "source")])
    out = out.merge(silent[["breakdown", "group", "n", "percent"]].rename(
        columns={"n": "silent_n", "percent": "silent_percent"}), on=["breakdown", "group"])
    out = out.sort_values(["percent", "records"], ascending=[True, False], kind="stable").head(top)
    return out[["breakdown", "group", "records", "n", "percent", "ci_low", "ci_high", "silent_n",
                "silent_percent"]].reset_index(drop=True)


def coverage_tables(flags: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Every coverage table this analysis publishes, by its published name."""
    tables = {"voice_coverage_overall": coverage(flags)}
    for by, name in BREAKDOWNS.items():
        tables[name] = coverage(flags, by)
    tables["voice_opportunities"] = opportunities(flags)
    return tables


def publish_coverage(tables: dict[str, pd.DataFrame], params: SiteParams,
                     out_dir: Path | None = None) -> dict[str, pd.DataFrame]:
    """Pass each coverage table through the disclosure gate (voice.tables) and write it;
    returns what may be shown."""
    from .tables import publish

    return {name: publish(df, name, params, out_dir) for name, df in tables.items()}


CHILD_MEASURES = [MEASURES["cyp_voice"], MEASURES["cyp_absence"], MEASURES["cyp_silent"]]


def plot_coverage(table: pd.DataFrame, by: str, title: str):
    """Bars of the child's voice, absence reasons and silence per group, from a published
    (protected) table: a suppressed share is not drawn and is marked "c"."""
    import matplotlib.pyplot as plt

    groups = list(dict.fromkeys(table[by].astype(str)))
    fig, ax = plt.subplots(figsize=(8, 0.5 + 0.55 * len(groups)))
    height = 0.8 / len(CHILD_MEASURES)
    colours = ["#1b7837", "#762a83", "#bdbdbd"]
    for k, (measure, colour) in enumerate(zip(CHILD_MEASURES, colours)):
        part = table[table.measure == measure]
        part = part.set_index(part[by].astype(str))
        label = measure  # on the first bar drawn: the first group's share may be suppressed
        for i, g in enumerate(groups):
            y = i + (k - 1) * height
            value = pd.to_numeric(part["percent"].get(g), errors="coerce")
            if pd.isna(value):
                ax.text(1, y, "c", va="center", fontsize=8)
                continue
            lo = pd.to_numeric(part["ci_low"].get(g), errors="coerce")
            hi = pd.to_numeric(part["ci_high"].get(g), errors="coerce")
            ax.barh(y, value, height=height, color=colour, label=label)
            label = None
            if pd.notna(lo) and pd.notna(hi):
                ax.plot([lo, hi], [y, y], color="black", linewidth=0.8)
    ax.set_yticks(range(len(groups)), groups)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("Share of records (%), with 95% Wilson interval")
    ax.set_ylabel(by.replace("_", " "))
    ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:  # nothing to key when every share is suppressed
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12 - 1.2 / (len(groups) + 2)),
                  ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    return fig
