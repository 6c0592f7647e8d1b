"""Thematic coding of interview and focus-group turns about how information is used.

A research codebook (codebook.yaml: deductive themes plus inductive codes the team
adds), a rule-based first pass that proposes themes per turn to speed human coding up, the
REFI-QDA round trip so people code in NVivo, ATLAS.ti, MAXQDA or QualCoder, agreement between
coders, and the descriptive outputs: theme frequencies by participant group, co-occurrence,
and anonymised exemplar quotes. Codes are a table of (session_id, turn, theme).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import ProjectError
from ..qda.agreement import agreement_stats
from ..qda.refi import export_qdpx, read_qdpx
from ..vocabulary import is_synthetic
from .anonymise import Anonymiser, anonymise_turns
from .codebook import ThemeCodebook, add_inductive_code, load_theme_codebook

CODE_COLUMNS = ["session_id", "turn", "theme"]
ROLE_LABELS = {"parent_carer": "Parents and carers", "young_person": "Young people",
               "practitioner": "Practitioners", "manager": "Managers",
               "unknown": "Role not recorded"}
# Quotes name a coarser group: a council has few managers, so "a manager said" can identify.
QUOTE_LABELS = ROLE_LABELS | {"practitioner": "Practitioners and managers",
                              "manager": "Practitioners and managers"}
GROUP_LABELS = {"discovery_interview": "Discovery interviews",
                "parent_carer_consultation": "Parent and carer consultation groups",
                "young_people_group": "Young people's groups"}


def participant_turns(turns: pd.DataFrame) -> pd.DataFrame:
    """The turns that are coded: everyone but interviewers and facilitators."""
    return turns[turns["role"] != "interviewer"]


def first_pass(turns: pd.DataFrame, codebook: ThemeCodebook | None = None) -> pd.DataFrame:
    """Rule-based proposals: a theme for every participant turn its lexicon matches.

    A first pass for people to check, not a finding: it is measured against human coding.
    """
    codebook = codebook or load_theme_codebook()
    compiled = {t.id: re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in t.lexicon) + r")\b",
                                 re.IGNORECASE)
                for t in codebook.themes if t.lexicon}
    rows = []
    coded = participant_turns(turns)
    for sid, turn, text in zip(coded["session_id"], coded["turn"], coded["text"], strict=True):
        rows += [(sid, int(turn), theme) for theme, rx in compiled.items() if rx.search(text)]
    return _codes(pd.DataFrame(rows, columns=CODE_COLUMNS))


def _codes(df: pd.DataFrame) -> pd.DataFrame:
    out = df[CODE_COLUMNS].drop_duplicates().astype({"turn": int})
    return out.sort_values(CODE_COLUMNS, ignore_index=True)


def read_codes(path: Path | str) -> pd.DataFrame:
    """Codes from a CSV with session_id, turn, theme (such as truth/themes_gold.csv)."""
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype={"session_id": str, "theme": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise ProjectError(f"cannot read codes: {e}", path=path) from e
    missing = set(CODE_COLUMNS) - set(df.columns)
    if missing:
        raise ProjectError(f"codes need columns {sorted(missing)}", path=path)
    bad = pd.to_numeric(df["turn"], errors="coerce").isna()
    if bad.any():
        raise ProjectError("turn is not a number", path=path, row=int(bad.idxmax()) + 2,
                           field="turn")
    return _codes(df)


# --- agreement -----------------------------------------------------------------------------

def agreement(codes_a: pd.DataFrame, codes_b: pd.DataFrame, turns: pd.DataFrame,
              codebook: ThemeCodebook | None = None, *, n_boot: int = 500,
              seed: int = 0) -> pd.DataFrame:
    """Per theme, how far two codings of the participant turns agree.

    Columns: theme, units (turns), coded_a, coded_b, both, agreement (share of turns where
    both said yes or both said no), cohen_kappa with a bootstrap 95% interval over turns,
    alpha (Krippendorff, nominal), and precision/recall/f1 of A taking B as the reference
    (so A = first pass, B = people or gold). A last row, "all themes", pools every theme.
    """
    codebook = codebook or load_theme_codebook()
    units = participant_turns(turns)[["session_id", "turn"]].drop_duplicates()
    used = set(codes_a["theme"]) | set(codes_b["theme"])
    themes = [t.id for t in codebook.themes if not t.inductive or t.id in used]
    a, b = _matrix(codes_a, units, themes), _matrix(codes_b, units, themes)
    rng = np.random.default_rng(seed)
    rows = [_compare(a[:, j], b[:, j], rng, n_boot) | {"theme": t} for j, t in enumerate(themes)]
    rows.append(_compare(a.ravel(), b.ravel(), rng, n_boot) | {"theme": "all themes"})
    cols = ["theme", "units", "coded_a", "coded_b", "both", "agreement", "cohen_kappa",
            "kappa_low", "kappa_high", "alpha", "precision", "recall", "f1"]
    return pd.DataFrame(rows)[cols]


def _matrix(codes: pd.DataFrame, units: pd.DataFrame, themes: list[str]) -> np.ndarray:
    index = {(s, int(t)): i for i, (s, t) in enumerate(zip(units["session_id"], units["turn"],
                                                             strict=True))}
    col = {t: j for j, t in enumerate(themes)}
    m = np.zeros((len(units), len(themes)), dtype=int)
    for s, t, th in zip(codes["session_id"], codes["turn"], codes["theme"], strict=True):
        if (s, int(t)) in index and th in col:
            m[index[(s, int(t))], col[th]] = 1
    return m


def _compare(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, n_boot: int) -> dict:
    """Kappa and alpha from the one agreement engine (qda.agreement); precision, recall, F1 of A
    taking B as the reference."""
    stats = agreement_stats(pd.DataFrame({"a": a, "b": b}), n_boot, rng)
    both = int(((a == 1) & (b == 1)).sum())
    p = both / a.sum() if a.sum() else np.nan
    r = both / b.sum() if b.sum() else np.nan
    f1 = 2 * p * r / (p + r) if both else (0.0 if a.sum() + b.sum() else np.nan)
    return {"units": len(a), "coded_a": int(a.sum()), "coded_b": int(b.sum()), "both": both,
            "agreement": stats["agreement"] if len(a) else np.nan,
            "cohen_kappa": stats["cohen_kappa"], "kappa_low": stats.get("cohen_kappa_low", np.nan),
            "kappa_high": stats.get("cohen_kappa_high", np.nan), "alpha": stats["alpha"],
            "precision": p, "recall": r, "f1": f1}


# --- what people said ----------------------------------------------------------------------

def participants(turns: pd.DataFrame) -> pd.DataFrame:
    """Who took part: participants, sessions and turns by session group and role."""
    people = participant_turns(turns)
    keys = ["group", "role"]
    return (people.drop_duplicates(["session_id", "speaker"]).groupby(keys).size()
            .rename("participants").reset_index()
            .merge(people.groupby(keys).agg(sessions=("session_id", "nunique"),
                                            turns=("turn", "size")).reset_index()))


def named_cooccurrence(codes: pd.DataFrame, codebook: ThemeCodebook) -> pd.DataFrame:
    """cooccurrence with the themes by name, as published."""
    names = codebook.names()
    pairs = cooccurrence(codes, codebook)
    return pairs.assign(theme_a=pairs["theme_a"].map(names), theme_b=pairs["theme_b"].map(names))


def anonymisation_check(turns: pd.DataFrame, anonymiser: Anonymiser) -> pd.DataFrame:
    """Per session group: turns, and turns withheld because redaction left a risk."""
    released = anonymise_turns(turns, anonymiser)
    return (released.assign(withheld=~released["passed"]).groupby("group")
            .agg(turns=("turn", "size"), withheld=("withheld", "sum")).reset_index())



def theme_frequencies(turns: pd.DataFrame, codes: pd.DataFrame, codebook: ThemeCodebook | None = None,
                      by: str = "role") -> pd.DataFrame:
    """Per participant group (``by``: role or group) and theme: turns coded, participants who
    raised it at least once, sessions it came up in, and the share of the group's turns and
    participants. Every theme x group combination is listed (zeros included)."""
    codebook = codebook or load_theme_codebook()
    people = participant_turns(turns)
    coded = codes.merge(people[["session_id", "turn", "speaker", by]], on=["session_id", "turn"])
    groups = sorted(people[by].unique())
    totals = pd.DataFrame({
        "group_turns": people.groupby(by).size(),
        "group_participants": people.drop_duplicates(["session_id", "speaker"]).groupby(by).size(),
    })
    rows = []
    for g in groups:
        for t in codebook.ids():
            c = coded[(coded[by] == g) & (coded["theme"] == t)]
            rows.append({by: g, "theme": t, "theme_name": codebook.names()[t],
                         "turns": len(c),
                         "participants": len(c.drop_duplicates(["session_id", "speaker"])),
                         "sessions": c["session_id"].nunique(),
                         "group_turns": int(totals.loc[g, "group_turns"]),
                         "group_participants": int(totals.loc[g, "group_participants"])})
    out = pd.DataFrame(rows)
    out["pct_turns"] = (100 * out["turns"] / out["group_turns"]).round(1)
    out["pct_participants"] = (100 * out["participants"] / out["group_participants"]).round(1)
    return out


def cooccurrence(codes: pd.DataFrame, codebook: ThemeCodebook | None = None) -> pd.DataFrame:
    """Turns coded with both themes, for each pair (theme_a < theme_b in codebook order),
    beside how many turns carry each theme at all."""
    codebook = codebook or load_theme_codebook()
    ids = codebook.ids()
    sets = codes.groupby(["session_id", "turn"])["theme"].agg(set)
    single = {t: int(sum(t in s for s in sets)) for t in ids}
    rows = []
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            rows.append({"theme_a": a, "theme_b": b, "turns_both": int(sum(
                a in s and b in s for s in sets)), "turns_a": single[a], "turns_b": single[b]})
    return pd.DataFrame(rows)


def cooccurrence_matrix(codes: pd.DataFrame, codebook: ThemeCodebook | None = None) -> pd.DataFrame:
    """The same as a square theme x theme table (diagonal: turns with the theme)."""
    codebook = codebook or load_theme_codebook()
    ids = codebook.ids()
    pairs = cooccurrence(codes, codebook)
    m = pd.DataFrame(0, index=ids, columns=ids)
    for r in pairs.itertuples():
        m.loc[r.theme_a, r.theme_b] = m.loc[r.theme_b, r.theme_a] = r.turns_both
    for t in ids:
        m.loc[t, t] = int(pairs.loc[pairs.theme_a == t, "turns_a"].max()
                          if (pairs.theme_a == t).any() else
                          pairs.loc[pairs.theme_b == t, "turns_b"].max())
    return m.rename_axis(index="theme", columns="theme")


def exemplar_quotes(turns: pd.DataFrame, codes: pd.DataFrame, anonymiser: Anonymiser,
                    codebook: ThemeCodebook | None = None, per_theme: int = 2,
                    min_words: int = 8, max_words: int = 60) -> pd.DataFrame:
    """Up to ``per_theme`` anonymised quotes per theme, from different participant groups where
    possible. Only turns whose redacted text passes the anonymiser's checks are used, and a
    quote names its speaker's group coarsely (practitioners and managers together).

    Preference: turns coded with that theme alone, then fewer redactions, then length near 25
    words; ties by
    session and turn, so the choice is the same every run.
    """
    codebook = codebook or load_theme_codebook()
    people = participant_turns(turns).set_index(["session_id", "turn"])
    n_themes = codes.groupby(["session_id", "turn"]).size()
    rows = []
    for t in codebook.ids():
        cands = []
        for s, n in codes.loc[codes["theme"] == t, ["session_id", "turn"]].itertuples(
                index=False, name=None):
            if (s, n) not in people.index:
                continue
            row = people.loc[(s, n)]
            words = len(row["text"].split())
            if not min_words <= words <= max_words:
                continue
            quote = anonymiser.redact(row["text"])
            if not anonymiser.passes(quote):
                continue
            cands.append((n_themes.get((s, n), 1) > 1, quote.count("["), abs(words - 25), s, n,
                          row["role"],
                          row.get("group", ""), quote))
        cands.sort(key=lambda c: c[:5])
        chosen, roles = [], set()
        for c in cands:  # first pass: one per participant group
            if QUOTE_LABELS.get(c[5]) not in roles:
                chosen.append(c)
                roles.add(QUOTE_LABELS.get(c[5]))
            if len(chosen) == per_theme:
                break
        for c in cands:
            if len(chosen) == per_theme:
                break
            if c not in chosen:
                chosen.append(c)
        for c in chosen:
            rows.append({"theme": t, "theme_name": codebook.names()[t],
                         "speaker": QUOTE_LABELS.get(c[5], c[5]),
                         "setting": GROUP_LABELS.get(c[6], c[6]), "quote": c[7]})
    return pd.DataFrame(rows, columns=["theme", "theme_name", "speaker", "setting", "quote"])


# --- REFI-QDA round trip (NVivo, ATLAS.ti, MAXQDA, QualCoder) ------------------------------

FOLDERS = {"themes.deductive": "Deductive themes", "themes.inductive": "Inductive codes"}


def _session_sources(turns: pd.DataFrame, anonymiser: Anonymiser | None
                     ) -> tuple[pd.DataFrame, dict[tuple[str, int], tuple[int, int]]]:
    """One text per session, a turn a line ("speaker: words"), and where each turn's words sit.

    With an anonymiser, words are redacted and speakers pseudonymised, so the project can go to
    coders outside the secure environment."""
    if anonymiser is not None:
        turns = anonymise_turns(turns, anonymiser)
    rows, spans = [], {}
    for sid, g in turns.sort_values(["session_id", "turn"]).groupby("session_id", sort=True):
        parts, pos = [], 0
        for speaker, turn, text in zip(g["speaker"], g["turn"], g["text"], strict=True):
            prefix = f"{speaker}: "
            spans[(sid, int(turn))] = (pos + len(prefix), pos + len(prefix) + len(text))
            parts.append(f"{prefix}{text}\n")
            pos += len(prefix) + len(text) + 1
        rows.append({"source_id": sid, "text": "".join(parts), "name": sid})
    return pd.DataFrame(rows, columns=["source_id", "text", "name"]), spans


def to_refi(path: Path | str, turns: pd.DataFrame, codes: pd.DataFrame,
            codebook: ThemeCodebook | None = None, *, coder: str = "first pass",
            anonymiser: Anonymiser | None = None,
            project_name: str = "information-use-transcripts") -> Path:
    """Write a REFI-QDA project (.qdpx): the codebook (deductive and inductive folders), one
    source per session, a case per session with group, site and date, and each coded turn as a
    selection. ``codes`` may carry a ``coder`` column (several coders in one project)."""
    codebook = codebook or load_theme_codebook()
    book = [{"id": k, "name": v, "parent": None, "codable": False, "description": ""}
            for k, v in FOLDERS.items()]
    book += [{"id": t.id, "name": t.name, "codable": True, "description": t.definition,
              "parent": "themes.inductive" if t.inductive else "themes.deductive"}
             for t in codebook.themes]
    sources, spans = _session_sources(turns, anonymiser)
    sel = []
    for r in codes.to_dict("records"):
        key = (r["session_id"], int(r["turn"]))
        if key not in spans:
            raise ProjectError(f"code on session {key[0]!r} turn {key[1]}, which is not a turn")
        start, end = spans[key]
        if end > start:
            sel.append({"source_id": key[0], "start": start, "end": end, "code": r["theme"],
                        "coder": r.get("coder") or coder})
    cases = turns.drop_duplicates("session_id")[["session_id", "group", "site", "date"]].rename(
        columns={"session_id": "case_id"}).assign(source_id=lambda d: d["case_id"])
    return export_qdpx(path, project_name=project_name, codes=pd.DataFrame(book),
                       sources=sources, selections=pd.DataFrame(sel, columns=[
                           "source_id", "start", "end", "code", "coder"]),
                       cases=cases, default_coder=coder)


def from_refi(path: Path | str, codebook: ThemeCodebook | None = None
              ) -> tuple[pd.DataFrame, ThemeCodebook]:
    """Read people's coding back: (codes with session_id, turn, theme, coder; the codebook with
    any code the coders created added as an inductive code).

    A selection codes every turn it covers at least half of (or half of the selection, for a
    selection inside one turn), so a coder who highlights a sentence, a whole turn or two
    turns gets what they meant. What cannot be placed is an error, not silently dropped.
    """
    codebook = codebook or load_theme_codebook()
    ours = pd.DataFrame({"id": codebook.ids(), "name": list(codebook.names().values())})
    project = read_qdpx(path, codes=ours)
    for r in project.codes.itertuples(index=False):
        if r.codable and r.id not in codebook.ids():
            codebook = add_inductive_code(codebook, r.id, r.name, r.description or "")
    lines = {}
    for sid, text in zip(project.sources["source_id"], project.sources["text"], strict=True):
        pos, spans = 0, []
        for n, line in enumerate(text.split("\n"), start=1):
            label, sep, _ = line.partition(": ")
            start = pos + (len(label) + len(sep) if sep else 0)
            spans.append((n, start, pos + len(line)))
            pos += len(line) + 1
        lines[sid] = spans
    rows = []
    for r in project.selections.itertuples(index=False):
        if r.code in FOLDERS:
            continue
        hits = []
        for n, start, end in lines.get(r.source_id, []):
            overlap = min(end, r.end) - max(start, r.start)
            if overlap > 0 and overlap >= 0.5 * min(end - start, r.end - r.start):
                hits.append(n)
        if not hits:
            raise ProjectError(f"selection {r.start}-{r.end} in session {r.source_id!r} does not "
                               "cover any turn's words", path=path)
        rows += [(r.source_id, n, r.code, r.coder) for n in hits]
    out = pd.DataFrame(rows, columns=[*CODE_COLUMNS, "coder"]).drop_duplicates()
    return out.sort_values([*CODE_COLUMNS, "coder"], ignore_index=True), codebook


# --- what the notebook reads and draws ------------------------------------------------------

@dataclass
class Coding:
    """The coding a page reports: people's (from REFI-QDA projects in transcripts/coding/)
    when there is any, otherwise the first pass, said plainly; plus each coder's codes for
    agreement and, on synthetic data only, the generator's gold codes for evaluation."""

    codes: pd.DataFrame
    source: str
    by_coder: dict[str, pd.DataFrame]
    codebook: ThemeCodebook
    gold: pd.DataFrame | None = None


def load_coding(data_dir: Path | str, turns: pd.DataFrame,
                codebook: ThemeCodebook | None = None) -> Coding:
    """Gather the coding of a site's transcripts (see Coding)."""
    data_dir = Path(data_dir)
    codebook = codebook or load_theme_codebook()
    proposed = first_pass(turns, codebook)
    by_coder: dict[str, pd.DataFrame] = {"first pass": proposed}
    people = []
    for path in sorted((data_dir / "transcripts" / "coding").glob("*.qdpx")):
        codes, codebook = from_refi(path, codebook)
        people.append(codes[codes["coder"] != "first pass"])
    if people:
        coded = pd.concat(people, ignore_index=True)
        for coder, g in coded.groupby("coder"):
            by_coder[str(coder)] = _codes(g)
        codes, source = _codes(coded), f"people's coding ({coded['coder'].nunique()} coders)"
    else:
        codes, source = proposed, "the rule-based first pass (no one's coding has come back yet)"
    gold = None
    truth = data_dir / "truth" / "themes_gold.csv"
    if is_synthetic(data_dir) and truth.is_file():
        gold = read_codes(truth)
    return Coding(codes, source, by_coder, codebook, gold)


def agreement_table(coding: Coding, turns: pd.DataFrame, *, seed: int = 0
                    ) -> pd.DataFrame | None:
    """Agreement for every comparison the coding allows (first pass against the gold codes on
    synthetic data, against each coder, and coders against each other), themes by name, or
    None when there is no second coding yet."""
    first = coding.by_coder["first pass"]
    comparisons = [("first pass", "gold (synthetic)", first, coding.gold)] \
        if coding.gold is not None else []
    coders = [c for c in coding.by_coder if c != "first pass"]
    comparisons += [("first pass", c, first, coding.by_coder[c]) for c in coders]
    comparisons += [(a, b, coding.by_coder[a], coding.by_coder[b])
                    for i, a in enumerate(coders) for b in coders[i + 1:]]
    if not comparisons:
        return None
    out = pd.concat([agreement(ca, cb, turns, coding.codebook, seed=seed)
                     .assign(coder_a=a, coder_b=b) for a, b, ca, cb in comparisons],
                    ignore_index=True).round(3)
    out["theme"] = out["theme"].map(coding.codebook.names()).fillna(out["theme"])
    return out[["coder_a", "coder_b", "theme", "units", "coded_a", "coded_b", "both",
                "agreement", "cohen_kappa", "kappa_low", "kappa_high", "alpha", "precision",
                "recall", "f1"]]


def plot_shares(table: pd.DataFrame, by: str, title: str):
    """Bars of the share of each group's turns that raise each theme, from a published table
    (suppressed cells are left out, not drawn as zero)."""
    import matplotlib.pyplot as plt

    data = table[pd.to_numeric(table["pct_turns"], errors="coerce").notna()].copy()
    data["pct_turns"] = data["pct_turns"].astype(float)
    names = list(dict.fromkeys(table["theme_name"]))
    groups = list(dict.fromkeys(table[by]))
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(names) + 1.5))
    height = 0.8 / max(len(groups), 1)
    for i, g in enumerate(groups):
        d = data[data[by] == g].set_index("theme_name").reindex(names)
        ys = [k + i * height for k in range(len(names))]
        ax.barh(ys, d["pct_turns"], height=height, label=ROLE_LABELS.get(g, GROUP_LABELS.get(g, g)))
    ax.set_yticks([k + 0.4 - height / 2 for k in range(len(names))], names)
    ax.invert_yaxis()
    ax.set_xlabel("Share of the group's turns that raise the theme (%)")
    ax.set_ylabel("Theme")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return fig
