"""The children's social care case-management extract in the Standard Safeguarding Dataset
shape (ssd_*.csv, ISO dates) and the early help system's export."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..vocabulary import REFERRAL_SOURCES
from .calendar import YEAR
from .care import Care
from .casework import SUBCODES, EarlyHelp, Referrals
from .identity import noisy_identity
from .population import Population, Window
from .schooling import BIG, Schooling
from .writing import dmy, iso, write_csv

NEEDS = (["N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8", "N9"],
         [0.50, 0.08, 0.04, 0.10, 0.17, 0.05, 0.01, 0.04, 0.01])
FACTORS = (["1B", "2B", "3A", "3B", "3C", "4A", "4B", "5B", "6B", "7A", "10A", "11A", "13A",
            "14A", "15A", "16A", "17A", "18C", "19C", "20", "24A", "1A", "2A", "4C"],
           [0.10, 0.10, 0.05, 0.22, 0.04, 0.08, 0.18, 0.03, 0.02, 0.02, 0.02, 0.02, 0.01,
            0.03, 0.03, 0.08, 0.08, 0.04, 0.02, 0.04, 0.02, 0.01, 0.02, 0.02])
CATEGORIES = (["NEG", "EMO", "PHY", "SAB", "MUL"], [0.50, 0.35, 0.07, 0.04, 0.04])
TEAMS = ["MASH", "Assessment Team North", "Assessment Team South", "Children in Need Team",
         "Child Protection Team", "Children in Care Team", "Disabled Children's Team"]


@dataclass
class CscIds:
    """Person records in the case-management system (a child may have two: a duplicate)."""

    person_of_ref: np.ndarray       # pers_person_id for each referral
    person_of_contact: np.ndarray   # for each extra contact
    persons: pd.DataFrame           # pers_person_id, child (index into pop), first_day
    ref_id: np.ndarray              # cine_referral_id per referral


def assign_ids(pop: Population, ref: Referrals, noise, rng: np.random.Generator) -> CscIds:
    kids = np.union1d(ref.child, ref.contacts_child)
    main_id = np.empty(pop.n, dtype=object)
    nums = 100000 + rng.choice(900000, size=kids.size * 2, replace=False)
    main_id[kids] = nums[:kids.size].astype(str)
    # a duplicate record is opened at a later contact: records after a child's first go to it
    dup = rng.random(kids.size) < noise.duplicate_person
    dup_id = np.full(pop.n, "", dtype=object)
    dup_id[kids[dup]] = nums[kids.size:kids.size + dup.sum()].astype(str)
    child = np.concatenate([ref.child, ref.contacts_child])
    when = np.concatenate([ref.date, ref.contacts_date])
    order = np.lexsort((np.arange(child.size), when, child))
    c_sorted = child[order]
    start = np.r_[True, c_sorted[1:] != c_sorted[:-1]]
    group_start = np.maximum.accumulate(np.where(start, np.arange(child.size), 0))
    rank = np.empty(child.size, dtype=np.int64)
    rank[order] = np.arange(child.size) - group_start
    count = np.bincount(child, minlength=pop.n)[child]
    use_dup = (dup_id[child] != "") & (rank > 0) & ((rng.random(child.size) < 0.7) | (rank == count - 1))
    ids_all = np.where(use_dup, dup_id[child], main_id[child])
    por, poc = ids_all[:ref.child.size], ids_all[ref.child.size:]
    first = pd.concat([pd.DataFrame({"pid": por, "child": ref.child, "d": ref.date}),
                       pd.DataFrame({"pid": poc, "child": ref.contacts_child,
                                     "d": ref.contacts_date})])
    persons = first.groupby("pid", sort=True).agg(child=("child", "first"), first_day=("d", "min"))
    persons = persons.reset_index().rename(columns={"pid": "pers_person_id"})
    order = np.lexsort((ref.child, ref.date))
    ref_id = np.empty(ref.child.size, dtype=object)
    ref_id[order] = (1_000_000 + np.arange(order.size)).astype(str)
    return CscIds(person_of_ref=por, person_of_contact=poc, persons=persons, ref_id=ref_id)


def _json(d: dict) -> str:
    return json.dumps(d, separators=(",", ":"), sort_keys=True)


def write_csc(out: Path, pop: Population, sch: Schooling, ref: Referrals, ids: CscIds, care: Care,
              win: Window, noise, rng: np.random.Generator, files: list, linkage: list,
              extra: dict) -> dict:
    base = out / "csc"
    end = win.end
    P = ids.persons
    pc = P["child"].to_numpy()
    ident = noisy_identity(pop, pc, P["first_day"].to_numpy(), noise, rng)
    age_first = (P["first_day"].to_numpy() - pop.dob[pc]) / YEAR
    upn_unknown = np.where(ident["upn"] != "", "",
                           np.where(age_first < 5, "UN1", np.where(pop.state_school[pc], "UN4", "UN2")))
    person = pd.DataFrame({
        "pers_person_id": P["pers_person_id"], "pers_forename": ident["forename"],
        "pers_surname": ident["surname"], "pers_sex": pop.sex[pc], "pers_gender": "",
        "pers_ethnicity": pop.ethnicity[pc], "pers_dob": iso(ident["dob"]),
        "pers_common_child_id": ident["nhs"], "pers_legacy_id": "",
        "pers_upn_unknown": upn_unknown,
        "pers_send_flag": np.where(sch.sen[pc].max(axis=1) > 0, "Y", "N"),
        "pers_expected_dob": "", "pers_death_date": "", "pers_is_mother": "N",
        "pers_nationality": "",
    })
    files.append(write_csv(person, base / "ssd_person.csv"))
    for pid, c in zip(P["pers_person_id"], pc):
        linkage.append(("csc", f"csc:{pid}", pop.child_id[c]))
    has_upn = ident["upn"] != ""
    links = pd.DataFrame({"link_table_id": np.arange(1, has_upn.sum() + 1),
                          "link_person_id": P["pers_person_id"].to_numpy()[has_upn],
                          "link_identifier_type": "Unique Pupil Number",
                          "link_identifier_value": ident["upn"][has_upn],
                          "link_valid_from_date": iso(P["first_day"].to_numpy()[has_upn]),
                          "link_valid_to_date": ""})
    files.append(write_csv(links, base / "ssd_linked_identifiers.csv"))

    # Addresses: the family's homes while known to the service (the latest move may be missed)
    fam = pop.family[pc]
    K = pop.fam_pc.shape[1]
    rows = []
    stale = ident["flags"]["stale_postcode"]
    for k in range(K):
        starts = np.where(k == 0, pop.arrive[pc], pop.fam_move[fam, k - 1] if k > 0 else 0)
        ends = pop.fam_move[fam, k] if k < K - 1 else np.full(pc.size, BIG)
        ends = np.minimum(ends, pop.leave[pc])
        ok = (starts < BIG) & (starts <= end) & (ends >= P["first_day"].to_numpy() - 365)
        if k > 0:
            ok &= ~(stale & (pop.fam_move[fam, k] >= BIG if k < K - 1 else True))
        idx = np.flatnonzero(ok)
        pcd = pop.postcodes["pcd"].to_numpy()[pop.fam_pc[fam[idx], k]]
        town = pop.postcodes["district_idx"].to_numpy()[pop.fam_pc[fam[idx], k]]
        rows.append(pd.DataFrame({
            "addr_person_id": P["pers_person_id"].to_numpy()[idx],
            "addr_address_json": [_json({"POSTCODE": p, "DISTRICT": extra["district_names"][t]})
                                  for p, t in zip(pcd, town)],
            "addr_address_type": "HOME",
            "addr_address_start_date": iso(starts[idx]),
            "addr_address_end_date": iso(np.where(ends[idx] >= end, BIG, ends[idx])),
            "addr_address_postcode": pcd, "_k": k}))
    addr = pd.concat(rows).sort_values(["addr_person_id", "_k"], kind="stable").drop(columns="_k")
    addr.insert(0, "addr_table_id", np.arange(1, len(addr) + 1))
    addr = addr[["addr_table_id", "addr_address_json", "addr_person_id", "addr_address_type",
                 "addr_address_start_date", "addr_address_end_date", "addr_address_postcode"]]
    files.append(write_csv(addr, base / "ssd_address.csv"))

    # Contacts: one before each referral (same source), and contacts that went no further
    n_r = ref.child.size
    cdate = ref.date - np.where(rng.random(n_r) < 0.3, rng.integers(1, 4, n_r), 0)
    c_src = _draw_sources(extra["source_shares"], ref.contacts_child.size, rng)
    out_kind = np.array(["ADVICE", "EARLY_HELP", "NFA", "SIGNPOSTED"], dtype=object)[
        rng.choice(4, ref.contacts_child.size, p=[0.35, 0.25, 0.3, 0.1])]
    contacts = pd.concat([
        pd.DataFrame({"cont_person_id": ids.person_of_ref, "d": cdate, "src": ref.source,
                      "outcome": "NEW_REFERRAL"}),
        pd.DataFrame({"cont_person_id": ids.person_of_contact, "d": ref.contacts_date,
                      "src": c_src, "outcome": out_kind})])
    contacts = contacts.sort_values(["d", "cont_person_id", "outcome"], kind="stable")
    contacts = contacts[contacts["d"] <= end]
    contacts.insert(0, "cont_contact_id", np.arange(2_000_001, 2_000_001 + len(contacts)).astype(str))
    contacts["cont_contact_date"] = iso(contacts["d"].to_numpy())
    contacts["cont_contact_source_code"] = contacts["src"]
    contacts["cont_contact_source_desc"] = contacts["src"].map(lambda c: REFERRAL_SOURCES[c][0])
    contacts["cont_contact_outcome_json"] = '{"OUTCOME":"' + contacts["outcome"] + '"}'
    extra["contacts"] = contacts
    files.append(write_csv(contacts[["cont_contact_id", "cont_person_id", "cont_contact_date",
                                     "cont_contact_source_code", "cont_contact_source_desc",
                                     "cont_contact_outcome_json"]], base / "ssd_contacts.csv"))

    keep = ref.date <= end
    need = extra["primary_need"]
    worker = rng.integers(100, 999, n_r).astype(str)
    team = np.array(TEAMS, dtype=object)[rng.integers(0, 3, n_r)]
    outcome_json = np.where(ref.nfa, '{"ASSESSMENT":false,"NFA":true}', '{"ASSESSMENT":true,"NFA":false}')
    cine = pd.DataFrame({
        "cine_referral_id": ids.ref_id, "cine_person_id": ids.person_of_ref,
        "cine_referral_date": iso(ref.date), "cine_cin_primary_need_code": need,
        "cine_referral_source_code": ref.source,
        "cine_referral_source_desc": [REFERRAL_SOURCES[s][0] for s in ref.source],
        "cine_referral_outcome_json": outcome_json,
        "cine_referral_nfa": np.where(ref.nfa, "Y", "N"),
        "cine_close_reason": np.where(ref.close <= end, ref.close_reason, ""),
        "cine_close_date": iso(ref.close, end), "cine_referral_team": team,
        "cine_referral_worker_id": "W" + worker, "_d": ref.date})[keep]
    cine = cine.sort_values(["_d", "cine_referral_id"]).drop(columns="_d")
    files.append(write_csv(cine, base / "ssd_cin_episodes.csv"))

    # Assessments and their factors
    a = np.flatnonzero(keep & (ref.assess_start <= end))
    aid = (3_000_000 + np.arange(a.size)).astype(str)
    done = ref.assess_auth[a] <= end
    young = (ref.assess_start[a] - pop.dob[ref.child[a]]) < 0
    seen = np.where(rng.random(a.size) < 0.93, "Y", "N")
    nfa_after = np.isin(ref.outcome[a], ["close_nfa", "close_eh"])
    cina = pd.DataFrame({
        "cina_assessment_id": aid, "cina_person_id": ids.person_of_ref[a],
        "cina_referral_id": ids.ref_id[a], "cina_assessment_start_date": iso(ref.assess_start[a]),
        "cina_assessment_child_seen": np.where(young, "N", seen),
        "cina_assessment_auth_date": iso(ref.assess_auth[a], end),
        "cina_assessment_outcome_json": [_json({"OUTCOME": o.upper()}) if d else "{}"
                                         for o, d in zip(ref.outcome[a], done)],
        "cina_assessment_outcome_nfa": np.where(done, np.where(nfa_after, "Y", "N"), ""),
        "cina_assessment_team": team[a], "cina_assessment_worker_id": "W" + worker[a]})
    files.append(write_csv(cina, base / "ssd_cin_assessments.csv"))
    factors = extra["factors"]
    cinf = pd.DataFrame({"cinf_table_id": np.arange(1, a.size + 1), "cinf_assessment_id": aid,
                         "cinf_assessment_factors_json": [json.dumps(f.split(",")) if f else "[]"
                                                          for f in factors[a]]})[done]
    files.append(write_csv(cinf, base / "ssd_assessment_factors.csv"))
    extra["assessment_ids"] = dict(zip(a.tolist(), aid.tolist()))

    # S47 enquiries, initial conferences, CP plans
    s = np.flatnonzero(keep & (ref.s47_start <= end))
    sid = (4_000_000 + np.arange(s.size)).astype(str)
    s47 = pd.DataFrame({
        "s47e_s47_enquiry_id": sid, "s47e_referral_id": ids.ref_id[s],
        "s47e_person_id": ids.person_of_ref[s], "s47e_s47_start_date": iso(ref.s47_start[s]),
        "s47e_s47_end_date": iso(ref.s47_end[s], end),
        "s47e_s47_nfa": np.where(ref.icpc[s], "N", "Y"),
        "s47e_s47_outcome_json": [_json({"ICPC": bool(x)}) for x in ref.icpc[s]],
        "s47e_s47_completed_by_worker_id": "W" + worker[s],
        "s47e_s47_completed_by_team": "Child Protection Team"})
    files.append(write_csv(s47, base / "ssd_s47_enquiry.csv"))
    icpc_day = extra["icpc_day"]
    i = np.flatnonzero(keep & ref.icpc & (icpc_day <= end))
    sid_of = dict(zip(s.tolist(), sid.tolist()))
    cp_has = ref.cp_start[i] < BIG
    cpid = np.where(cp_has, (5_000_000 + np.arange(i.size)).astype(str), "")
    icpc = pd.DataFrame({
        "icpc_icpc_id": (6_000_000 + np.arange(i.size)).astype(str),
        "icpc_icpc_meeting_id": (6_500_000 + np.arange(i.size)).astype(str),
        "icpc_s47_enquiry_id": [sid_of.get(x, "") for x in i.tolist()],
        "icpc_person_id": ids.person_of_ref[i], "icpc_cp_plan_id": cpid,
        "icpc_referral_id": ids.ref_id[i], "icpc_icpc_transfer_in": "N",
        "icpc_icpc_target_date": iso(extra["icpc_target"][i]), "icpc_icpc_date": iso(icpc_day[i]),
        "icpc_icpc_outcome_cp_flag": np.where(cp_has, "Y", "N"),
        "icpc_icpc_outcome_json": [_json({"CP_PLAN": bool(x)}) for x in cp_has],
        "icpc_icpc_team": "Child Protection Team", "icpc_icpc_worker_id": "W" + worker[i]})
    files.append(write_csv(icpc, base / "ssd_initial_cp_conference.csv"))
    cpi = i[cp_has]
    cat = extra["category"]
    cp = pd.DataFrame({
        "cppl_cp_plan_id": cpid[cp_has], "cppl_referral_id": ids.ref_id[cpi],
        "cppl_icpc_id": icpc["icpc_icpc_id"].to_numpy()[cp_has],
        "cppl_person_id": ids.person_of_ref[cpi], "cppl_cp_plan_start_date": iso(ref.cp_start[cpi]),
        "cppl_cp_plan_end_date": iso(ref.cp_end[cpi], end),
        "cppl_cp_plan_initial_category": cat[cpi], "cppl_cp_plan_ola": "N",
        "cppl_cp_plan_latest_category": cat[cpi]})
    files.append(write_csv(cp, base / "ssd_cp_plans.csv"))

    ci = np.flatnonzero(keep & (ref.cin_start <= end))
    cinp = pd.DataFrame({
        "cinp_cin_plan_id": (7_000_000 + np.arange(ci.size)).astype(str),
        "cinp_referral_id": ids.ref_id[ci], "cinp_person_id": ids.person_of_ref[ci],
        "cinp_cin_plan_start_date": iso(ref.cin_start[ci]),
        "cinp_cin_plan_end_date": iso(ref.cin_end[ci], end),
        "cinp_cin_plan_team": "Children in Need Team", "cinp_cin_plan_worker_id": "W" + worker[ci]})
    files.append(write_csv(cinp, base / "ssd_cin_plans.csv"))

    visits = extra["visits"]
    vis = pd.DataFrame({
        "cinv_cin_visit_id": (8_000_000 + np.arange(len(visits))).astype(str),
        "cinv_person_id": ids.person_of_ref[visits["ref"].to_numpy()],
        "cinv_cin_visit_date": iso(visits["day"].to_numpy()),
        "cinv_cin_visit_seen": visits["seen"], "cinv_cin_visit_seen_alone": visits["alone"],
        "cinv_cin_visit_bedroom": visits["bedroom"]})
    files.append(write_csv(vis, base / "ssd_cin_visits.csv"))
    extra["visit_ids"] = vis["cinv_cin_visit_id"].to_numpy()

    ep = care.episodes
    sp = care.spells
    ep = ep[ep["DECOM"] <= end]
    ref_of_spell = sp["ref"].to_numpy()[ep["spell"].to_numpy()]
    clae = pd.DataFrame({
        "clae_cla_episode_id": (9_000_000 + np.arange(len(ep))).astype(str),
        "clae_person_id": ids.person_of_ref[ref_of_spell],
        "clae_cla_episode_start_date": iso(ep["DECOM"].to_numpy()),
        "clae_cla_episode_start_reason": ep["RNE"].to_numpy(),
        "clae_cla_primary_need_code": need[ref_of_spell],
        "clae_cla_episode_ceased_date": iso(ep["DEC"].to_numpy(), end),
        "clae_cla_episode_ceased_reason": np.where(ep["DEC"].to_numpy() <= end, ep["REC"], ""),
        "clae_cla_id": (9_500_000 + ep["spell"].to_numpy()).astype(str),
        "clae_referral_id": ids.ref_id[ref_of_spell],
        "clae_cla_placement_id": (9_700_000 + np.arange(len(ep))).astype(str),
        "clae_entered_care_date": iso(sp["start"].to_numpy()[ep["spell"].to_numpy()]),
        "clae_cla_last_iro_contact_date": ""})
    files.append(write_csv(clae, base / "ssd_cla_episodes.csv"))

    vc = extra["voice_of_child"]
    voch = pd.DataFrame({"voch_table_id": np.arange(1, len(vc) + 1),
                         "voch_person_id": ids.person_of_ref[vc["ref"].to_numpy()],
                         **{k: vc[k].to_numpy() for k in ["voch_explained_worries",
                                                          "voch_story_help_understand",
                                                          "voch_agree_worker", "voch_plan_safe",
                                                          "voch_tablet_help_explain"]}})
    files.append(write_csv(voch, base / "ssd_voice_of_child.csv"))
    return {"persons": len(person), "contacts": len(contacts), "referrals": len(cine),
            "assessments": len(cina), "s47": len(s47), "icpc": len(icpc), "cp_plans": len(cp),
            "cin_plans": len(cinp), "visits": len(vis), "cla_episodes": len(clae)}


def _draw_sources(shares: dict, n: int, rng) -> np.ndarray:
    groups = list(shares)
    p = np.array([shares[g] for g in groups])
    grp = np.array(groups, dtype=object)[rng.choice(len(groups), n, p=p / p.sum())]
    out = np.empty(n, dtype=object)
    for g in groups:
        sel = grp == g
        codes, pp = SUBCODES[g]
        out[sel] = np.array(codes, dtype=object)[rng.choice(len(codes), sel.sum(), p=pp)]
    return out


def write_early_help(out: Path, pop: Population, eh: EarlyHelp, ref: Referrals, win: Window,
                     noise, rng: np.random.Generator, files: list, linkage: list) -> dict:
    """The early help system's export: its own person ids, identity as typed, episodes."""
    end = win.end
    start, stop = eh.start.copy(), eh.end.copy()
    # step-downs after an assessment (RC9) start a new early help episode
    sd = np.flatnonzero((ref.close_reason == "RC9") & (ref.close <= end))
    child = np.concatenate([eh.child, ref.child[sd]])
    start = np.concatenate([start, ref.close[sd] + rng.integers(3, 20, sd.size)])
    dur = np.maximum(rng.exponential(170, sd.size), 42).astype(np.int64)
    stop = np.concatenate([stop, np.minimum(start[eh.child.size:] + dur, pop.leave[ref.child[sd]])])
    reason = np.concatenate([eh.reason, np.full(sd.size, "Step down from social care", dtype=object)])
    keep = (stop >= win.start - 365) & (start <= end)
    child, start, stop, reason = child[keep], start[keep], stop[keep], reason[keep]
    # did a referral happen during the episode? then it was stepped up, and ends that day
    order = np.lexsort((ref.date, ref.child))
    rc, rd = ref.child[order], ref.date[order]
    pos = np.searchsorted(rc * 10**7 + (rd - 10**4), child * 10**7 + (start - 10**4), side="left")
    pos = np.minimum(pos, rc.size - 1)
    nxt_ok = (rc[pos] == child) & (rd[pos] >= start) & (rd[pos] <= stop)
    stepped = nxt_ok
    stop = np.where(stepped, rd[pos], stop)
    moved = (stop >= pop.leave[child]) & (pop.leave[child] < end) & ~stepped
    ongoing = stop >= end
    u = rng.random(child.size)
    outcome = np.where(stepped, "Stepped up to social care",
                       np.where(moved, "Moved away", np.where(ongoing, "Ongoing",
                                np.where(u < 0.78, "Needs met", "Disengaged")))).astype(object)
    # person ids: one per child in the early help system, numbered in order of first episode
    first = pd.DataFrame({"c": child, "d": start}).groupby("c")["d"].min().sort_values(kind="stable")
    ehid = {c: f"EH{100000 + k:06d}" for k, c in enumerate(first.index.tolist())}
    kids = np.array(list(ehid))
    ident = noisy_identity(pop, kids, first.to_numpy(), noise, rng)
    per = {c: j for j, c in enumerate(kids.tolist())}
    j = np.array([per[c] for c in child.tolist()], dtype=np.int64)
    role = np.array(["Family Support Worker", "Early Help Practitioner", "School Pastoral Lead",
                     "Health Visitor", "Youth Worker", "Family Intervention Worker"], dtype=object)
    df = pd.DataFrame({
        "EHPersonID": [ehid[c] for c in child.tolist()], "EpisodeID": "",
        "Forename": ident["forename"][j], "Surname": ident["surname"][j], "DOB": dmy(ident["dob"][j]),
        "Sex": pop.sex[child], "Postcode": ident["postcode"][j], "UPN": ident["upn"][j],
        "NHSNumber": ident["nhs"][j], "StartDate": dmy(start), "EndDate": dmy(stop, end - 1),
        "Reason": reason, "LeadPractitionerRole": role[rng.integers(0, role.size, child.size)],
        "Outcome": outcome, "_d": start})
    df = df.sort_values(["_d", "EHPersonID"], kind="stable").drop(columns="_d")
    df["EpisodeID"] = [f"EHE{k:07d}" for k in range(1, len(df) + 1)]
    files.append(write_csv(df, out / "early_help" / "early_help_episodes.csv"))
    for c, e in sorted(ehid.items(), key=lambda x: x[1]):
        linkage.append(("early_help", f"early_help:{e}", pop.child_id[c]))
    return {"episodes": len(df), "persons": len(ehid),
            "_frame": df, "_child_of_person": {e: c for c, e in ehid.items()}}
