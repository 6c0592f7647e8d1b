"""Synthetic data: a county of children in the formats a council holds.

`generate_site` simulates one true population (children, families, homes, schools), early
help and social care as processes in time, then writes each source in its real format with
that source's identity noise, plus truth/ (linkage key, gold voice codes, parameters) which
analyses never read. Same site, scale and seed give byte-identical files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from ..params import SiteParams
from ..vocabulary import SOURCES, SYNTHETIC_MARKER, TEXT_SOURCES
from .care import build_care
from .casework import build_early_help, build_referrals, durations, subset
from .notes import Grammar, NoteContext
from .population import build_population, load_postcodes, window_of
from .schooling import BIG, build_schooling
from .settings import DEFAULTS, Settings
from .transcripts import write_transcripts
from .write_903 import write_903
from .write_cin import write_cin_census
from .write_csc import CATEGORIES, FACTORS, NEEDS, assign_ids, write_csc, write_early_help
from .write_school import write_school_census
from .writing import iso, write_csv

VERSION = "1.0"
DISABILITY_OF_SEN = {"ASD": "AUT", "SLD": "LD", "PMLD": "LD", "MLD": "LD", "PD": "MOB",
                     "HI": "HEAR", "VI": "VIS", "MSI": "VIS", "SLCN": "COMM", "SEMH": "BEH",
                     "SPLD": "LD", "OTH": "CON"}


def generate_site(params: SiteParams, scale: float, seed: int | None, out: Path,
                  settings: Settings = DEFAULTS) -> dict:
    """Write a site's synthetic sources under `out`; return a summary (children, records per
    source, files written). seed None means params.seed."""
    seed = params.seed if seed is None else int(seed)
    out = Path(out)
    rng = np.random.default_rng(seed)
    steps = ["population", "schools", "early help", "social care", "school census",
             "early help export", "case management", "CIN census", "SSDA903", "case notes",
             "transcripts", "truth"]
    bar = tqdm(total=len(steps), desc=f"generate {params.site}", unit="step", leave=False)

    def step(name):
        bar.set_postfix_str(name)
        bar.update(1)

    win = window_of(params, settings.burn_in_years)
    postcodes = load_postcodes(params)
    pop = build_population(params, scale, rng, win, postcodes, settings.demography)
    step("population")
    sch = build_schooling(params, pop, win, rng)
    step("schools")
    eh = build_early_help(params, pop, sch, win, rng, settings.routes)
    step("early help")
    ref_all = build_referrals(params, pop, sch, eh, win, rng, settings.routes)
    # the extract holds cases active from a year before the study window
    keep = (((ref_all.close >= win.start - 365) | (ref_all.date >= win.start - 365))
            & (ref_all.date <= win.end))
    keep_c = (ref_all.contacts_date >= win.start - 365) & (ref_all.contacts_date <= win.end)
    ref = subset(ref_all, keep, keep_c)
    extra = _referral_details(params, pop, sch, ref, rng)
    step("social care")

    files: list[Path] = []
    linkage: list[tuple[str, str, str]] = []
    summary: dict = {"site": params.site, "scale": scale, "seed": seed, "children": int(pop.n)}
    noise = settings.noise
    out.mkdir(parents=True, exist_ok=True)
    _clear(out)
    marker = {"generator": "hampshire_research.synthetic", "version": VERSION, "site": params.site,
              "scale": scale, "seed": seed}
    files.append(_write_json(marker, out / SYNTHETIC_MARKER))
    summary["school_census"] = write_school_census(out, pop, sch, win, noise.school_census, rng,
                                                   files, linkage)
    step("school census")
    ehx = write_early_help(out, pop, eh, ref, win, noise.early_help, rng, files, linkage)
    summary["early_help"] = {k: v for k, v in ehx.items() if not k.startswith("_")}
    step("early help export")
    ids = assign_ids(pop, ref, noise.csc, rng)
    care = build_care(ref, pop, win, rng, extra["primary_need"])
    extra["visits"] = _visits(ref, pop, win, rng)
    extra["voice_of_child"] = _voice_of_child(ref, pop, rng)
    summary["csc"] = write_csc(out, pop, sch, ref, ids, care, win, noise.csc, rng, files, linkage,
                               extra)
    step("case management")
    main_id = _main_person_id(pop, ids)
    summary["cin_census"] = write_cin_census(out, params, pop, ref, main_id, extra, win,
                                             noise.cin_census, rng, files, linkage)
    step("CIN census")
    summary["ssda903"] = write_903(out, pop, care, main_id, win, noise.ssda903, rng, files, linkage)
    step("SSDA903")
    summary["case_notes"] = _write_notes(out, pop, ref, ids, care, ehx, extra, win, settings, rng,
                                         files)
    step("case notes")
    summary["transcripts"] = write_transcripts(out, params, seed)
    step("transcripts")
    files.append(write_csv(_population_table(pop, win), out / "truth" / "population.csv"))
    key = pd.DataFrame(sorted(set(linkage)), columns=["source", "record_id", "child_id"])
    files.append(write_csv(key, out / "truth" / "linkage_key.csv"))
    truth = {"params": params.model_dump(mode="json"), "scale": scale, "seed": seed,
             "settings": settings.as_dict(), "solved_durations_days": durations(params, settings.routes),
             "generator_version": VERSION}
    files.append(_write_json(truth, out / "truth" / "parameters.json"))
    step("truth")
    bar.close()
    summary["records"] = key.groupby("source").size().to_dict()
    summary["files"] = sorted(str(f.relative_to(out)) for f in out.rglob("*") if f.is_file())
    return summary


def _population_table(pop, win) -> pd.DataFrame:
    """True children in the county by collection year and single year of age: the number on
    31 March and person-years over the year (the denominators for rates per 10,000)."""
    from .calendar import add_years, day

    rows = []
    starts = [add_years(pop.dob, a) for a in range(19)]
    for cy in win.collection_years:
        y0, y1 = day(cy - 1, 4, 1), day(cy, 3, 31)
        for a in range(18):
            lo = np.maximum.reduce([starts[a], pop.arrive, np.full(pop.n, y0)])
            hi = np.minimum.reduce([starts[a + 1] - 1, pop.leave, np.full(pop.n, y1)])
            py = np.clip(hi - lo + 1, 0, None).sum() / 365.25
            on_day = ((starts[a] <= y1) & (starts[a + 1] > y1) & (pop.arrive <= y1)
                      & (pop.leave >= y1)).sum()
            rows.append((cy, a, int(on_day), round(float(py), 1)))
    return pd.DataFrame(rows, columns=["collection_year", "age", "children_31_march",
                                       "person_years"])


def _clear(out: Path) -> None:
    """Remove files a previous run wrote (only those in the generator's layout)."""
    for sub in [*SOURCES, *TEXT_SOURCES, "truth"]:
        d = out / sub
        if d.is_dir():
            for f in sorted(d.rglob("*"), reverse=True):
                if f.is_file():
                    f.unlink()
                else:
                    f.rmdir()


def _write_json(obj: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return path


def _main_person_id(pop, ids) -> np.ndarray:
    """The CSC person id a statutory return uses for each child (its first person record)."""
    P = ids.persons.sort_values(["child", "first_day", "pers_person_id"])
    first = P.drop_duplicates("child")
    out = np.full(pop.n, "", dtype=object)
    out[first["child"].to_numpy()] = first["pers_person_id"].to_numpy()
    return out


def _referral_details(params, pop, sch, ref, rng) -> dict:
    n = ref.child.size
    heavy = (ref.s47_start < BIG) | (ref.care_start < BIG)
    need = np.array(NEEDS[0], dtype=object)[rng.choice(len(NEEDS[0]), n, p=NEEDS[1])]
    need = np.where(heavy & (rng.random(n) < 0.75), "N1", need)
    ehcp = sch.sen.max(axis=1)[ref.child] == 2
    need = np.where(ehcp & (rng.random(n) < 0.35) & ~heavy, "N2", need)
    # N9 (cases other than children in need) cannot be a looked-after child's: the 903 allows
    # N1-N8 (rule 145)
    need = np.where((ref.care_start < BIG) & (need == "N9"), "N1", need)
    # factors identified at assessment: one to four, "21" (none) alone for some NFA outcomes
    fcodes = np.array(FACTORS[0], dtype=object)
    fp = np.array(FACTORS[1]) / np.sum(FACTORS[1])
    draws = rng.choice(len(fcodes), (n, 4), p=fp)
    k = rng.integers(1, 5, n)
    factors = np.array([",".join(sorted(set(fcodes[d[:m]]))) for d, m in zip(draws, k)], dtype=object)
    factors = np.where((ref.close_reason == "RC8") & (rng.random(n) < 0.3), "21", factors)
    cat = np.array(CATEGORIES[0], dtype=object)[rng.choice(len(CATEGORIES[0]), n, p=CATEGORIES[1])]
    # ICPC target: 15 working days after the strategy discussion (S47 start)
    target = np.where(ref.s47_start < BIG, ref.s47_start + 21, BIG)
    disab = np.full(pop.n, "NONE", dtype=object)
    e = sch.sen.max(axis=1) == 2
    disab[e] = [DISABILITY_OF_SEN.get(t, "CON") for t in sch.sen_type_e[e]]
    district_names = [d.name for d in params.districts]
    return {"primary_need": need, "factors": factors, "category": cat, "icpc_day": ref.icpc_day,
            "icpc_target": target, "disability": disab, "district_names": district_names,
            "source_shares": params.calibration.referral_sources.shares}


def _visits(ref, pop, win, rng) -> pd.DataFrame:
    """Statutory visits during CIN plans (about six-weekly) and CP plans (about fortnightly)."""
    parts = []
    for start, end, gap in [(ref.cin_start, ref.cin_end, 42), (ref.cp_start, ref.cp_end, 15)]:
        has = np.flatnonzero(start < BIG)
        stop = np.minimum(end[has], win.end)
        n = np.maximum((stop - start[has]) // gap, 0)
        r = np.repeat(has, n)
        k = np.concatenate([np.arange(m) for m in n]) if n.size else np.empty(0, dtype=np.int64)
        d = start[r] + 7 + k * gap + rng.integers(-3, 4, r.size)
        parts.append(pd.DataFrame({"ref": r, "day": d}))
    v = pd.concat(parts, ignore_index=True)
    v = v[(v["day"] <= win.end) & (v["day"] >= win.start - 365)]
    v = v.sort_values(["day", "ref"], kind="stable").reset_index(drop=True)
    age = (v["day"].to_numpy() - pop.dob[ref.child[v["ref"].to_numpy()]]) / 365.25
    seen = rng.random(len(v)) < 0.9
    alone = seen & (age >= 4) & (rng.random(len(v)) < 0.65)
    v["seen"] = np.where(seen, "Y", "N")
    v["alone"] = np.where(alone, "Y", "N")
    v["bedroom"] = np.where(seen & (rng.random(len(v)) < 0.3), "Y", "N")
    return v


def _voice_of_child(ref, pop, rng) -> pd.DataFrame:
    """Voice of the child survey answers (SSD ssd_voice_of_child) for some children of 8+."""
    has_plan = (ref.cin_start < BIG) | (ref.cp_start < BIG)
    age = (ref.date - pop.dob[ref.child]) / 365.25
    sel = np.flatnonzero(has_plan & (age >= 8) & (rng.random(ref.child.size) < 0.3))
    yn = lambda p: np.where(rng.random(sel.size) < p, "Y", "N")  # noqa: E731
    return pd.DataFrame({"ref": sel, "voch_explained_worries": yn(0.75),
                         "voch_story_help_understand": yn(0.6), "voch_agree_worker": yn(0.55),
                         "voch_plan_safe": yn(0.7), "voch_tablet_help_explain": yn(0.3)})


# Share of events whose case note is in the extract (a full system holds one per event; a
# sample keeps full-scale runs fast and the committed sample small).
NOTE_SHARE = {"contact": 0.1, "referral": 0.5, "assessment": 0.6, "s47": 1.0,
              "cp_conference": 1.0, "visit": 0.1, "cla_review": 0.5, "early_help": 0.5}
AUTHORS = {"contact": ["MASH Officer", "Social Worker"], "referral": ["Social Worker", "Senior Practitioner"],
           "assessment": ["Social Worker", "Senior Practitioner"], "s47": ["Social Worker"],
           "cp_conference": ["Conference Chair"], "visit": ["Social Worker", "Family Support Worker"],
           "cla_review": ["IRO"], "early_help": ["Early Help Practitioner", "Family Support Worker"]}
NAN_NAMES = ["Nan", "Grandma", "Nanny", "Granny", "Nana"]


def _write_notes(out, pop, ref, ids, care, ehx, extra, win, settings, rng, files) -> dict:
    """Case notes on contacts, referrals, assessments, S47s, conferences, visits, reviews and
    early help; a share of them with gold sentence codes."""
    rows = []  # (system, person_id, child, day, note_type, stage, seen, alone)
    contacts = extra["contacts"]
    child_of_pid = dict(zip(ids.persons["pers_person_id"], ids.persons["child"]))
    c = contacts[contacts["d"] >= win.start]
    c = c[rng.random(len(c)) < NOTE_SHARE["contact"]]
    for pid, d in zip(c["cont_person_id"], c["d"]):
        rows.append(("csc", pid, child_of_pid[pid], d, "contact", "contact", "Y", "Y"))
    for arr, kind, stage in [(ref.date, "referral", "referral"),
                             (ref.assess_start, "assessment", "assessment"),
                             (ref.s47_start, "s47", "s47"), (ref.icpc_day, "cp_conference", "CP")]:
        sel = np.flatnonzero((arr >= win.start) & (arr <= win.end) & (arr < BIG)
                             & (rng.random(arr.size) < NOTE_SHARE[kind]))
        for r in sel.tolist():
            rows.append(("csc", ids.person_of_ref[r], int(ref.child[r]), int(arr[r]), kind, stage, "Y", "Y"))
    v = extra["visits"]
    v = v[(v["day"] >= win.start) & (rng.random(len(v)) < NOTE_SHARE["visit"])]
    for r, d, s, a in zip(v["ref"].tolist(), v["day"].tolist(), v["seen"], v["alone"]):
        rows.append(("csc", ids.person_of_ref[r], int(ref.child[r]), d, "visit",
                     "CP" if ref.cp_start[r] <= d < ref.cp_end[r] else "CIN", s, a))
    rv = care.reviews[(care.reviews["day"] >= win.start) & (care.reviews["day"] <= win.end)]
    rv = rv[rng.random(len(rv)) < NOTE_SHARE["cla_review"]]
    ref_of_spell = care.spells["ref"].to_numpy()
    for k, c_, d in zip(rv["spell"].tolist(), rv["child"].tolist(), rv["day"].tolist()):
        rows.append(("csc", ids.person_of_ref[ref_of_spell[k]], c_, d, "cla_review", "CLA", "Y", "Y"))
    ehf = ehx["_frame"]
    child_of_eh = ehx["_child_of_person"]
    eh_start = (pd.to_datetime(ehf["StartDate"], format="%d/%m/%Y").to_numpy()
                .astype("datetime64[D]").astype(np.int64))
    eh_pick = rng.random(len(ehf)) < NOTE_SHARE["early_help"]
    for pid, d, pick in zip(ehf["EHPersonID"], eh_start.tolist(), eh_pick.tolist()):
        if pick and win.start <= d <= win.end:
            rows.append(("early_help", pid, child_of_eh[pid], d + int(rng.integers(0, 20)),
                         "early_help", "early help", "Y", "Y"))
    notes = pd.DataFrame(rows, columns=["system", "pid", "child", "day", "type", "stage", "seen", "alone"])
    notes = notes[notes["day"] <= win.end]
    notes = notes.sort_values(["day", "system", "pid", "type"], kind="stable").reset_index(drop=True)
    grammar = Grammar(rng)
    texts, authors, gold = [], [], []
    in_care = care.spells
    care_kids = set(in_care["child"].tolist())
    n = len(notes)
    gold_pick = rng.random(n) < settings.voice_gold_share
    fam = pop.family[notes["child"].to_numpy()]
    mum = rng.random(n) < 0.78
    mum |= pop.father_forename[fam] == ""
    carers = np.where(mum, "Mum", "Dad").astype(object)
    # parents are named in a quarter of notes, as "Ella (Mum)" (first names only)
    named = rng.random(n) < 0.25
    carers[named] = np.where(mum[named], pop.mother_forename[fam[named]] + " (Mum)",
                             pop.father_forename[fam[named]] + " (Dad)")
    carer_female = mum.copy()
    in_care_note = (notes["type"] == "cla_review").to_numpy() & notes["child"].isin(care_kids).to_numpy()
    carers[in_care_note] = np.array(["the foster carer", "the carer", "the key worker"],
                                    dtype=object)[rng.integers(0, 3, in_care_note.sum())]
    carer_female[in_care_note] = True
    nans = np.array(NAN_NAMES, dtype=object)[rng.integers(0, len(NAN_NAMES), n)]
    srcs = np.array(["the school", "the police", "the health visitor", "Mum", "the GP",
                     "a neighbour", "the DSL"], dtype=object)[rng.integers(0, 7, n)]
    author_u = rng.random(n)
    ages = (notes["day"].to_numpy() - pop.dob[notes["child"].to_numpy()]) / 365.25
    # Python values, not numpy scalars, for the grammar's many comparisons per note
    for i, (ch, t, seen, alone, age, carer, nan, src, female, au, gold_i) in enumerate(zip(
            notes["child"].tolist(), notes["type"].tolist(), notes["seen"].tolist(),
            notes["alone"].tolist(), ages.tolist(), carers.tolist(), nans.tolist(), srcs.tolist(),
            carer_female.tolist(), author_u.tolist(), gold_pick.tolist())):
        ctx = NoteContext(child=pop.forename[ch], sex=pop.sex[ch], age=age, carer=carer, nan=nan,
                          src=src, carer_female=female)
        text, segs = grammar.note(ctx, t, seen, alone)
        texts.append(text)
        authors.append(AUTHORS[t][int(au * len(AUTHORS[t]))])
        if gold_i:
            for a, b, who, form, absence in segs:
                gold.append((i, a, b, who, form, absence))
    notes["NoteID"] = [f"N{k:07d}" for k in range(1, len(notes) + 1)]
    frame = pd.DataFrame({"NoteID": notes["NoteID"], "System": notes["system"],
                          "PersonID": notes["pid"], "NoteDate": iso(notes["day"].to_numpy()),
                          "NoteType": notes["type"], "Stage": notes["stage"], "AuthorRole": authors,
                          "NoteText": texts})
    files.append(write_csv(frame, out / "case_notes" / "case_notes.csv"))
    g = pd.DataFrame(gold, columns=["i", "start", "end", "who", "form", "absence"])
    g.insert(0, "note_id", notes["NoteID"].to_numpy()[g["i"].to_numpy()] if len(g) else [])
    g = g.drop(columns="i")
    files.append(write_csv(g, out / "truth" / "voice_gold.csv"))
    return {"notes": len(frame), "gold_notes": int(gold_pick.sum()), "gold_segments": len(g)}
