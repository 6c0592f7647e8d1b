"""SSDA903 CSVs per collection year (ssda903/<YYYY>/), dates dd/mm/YYYY: every child looked
after at some time between 1 April and 31 March, episodes as known on 31 March."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .calendar import YEAR, add_years, day
from .care import Care
from .population import Population, Window
from .writing import dmy, write_csv

COLUMNS = {
    "header": ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"],
    "episodes": ["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC",
                 "REASON_PLACE_CHANGE", "HOME_POST", "PL_POST", "URN"],
    "reviews": ["CHILD", "DOB", "REVIEW", "REVIEW_CODE"],
    "uasc": ["CHILD", "SEX", "DOB", "DUC"],
    "oc2": ["CHILD", "DOB", "SDQ_SCORE", "SDQ_REASON", "CONVICTED", "HEALTH_CHECK",
            "IMMUNISATIONS", "TEETH_CHECK", "HEALTH_ASSESSMENT", "SUBSTANCE_MISUSE",
            "INTERVENTION_RECEIVED", "INTERVENTION_OFFERED"],
    "oc3": ["CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"],
    "ad1": ["CHILD", "DOB", "DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR",
            "LS_ADOPTR"],
    "placed_for_adoption": ["CHILD", "DOB", "DATE_PLACED", "DATE_PLACED_CEASED",
                            "REASON_PLACED_CEASED"],
    "previous_permanence": ["CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"],
    "missing": ["CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"],
    "sw_episodes": ["CHILD", "DOB", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"],
}
SW_FROM_YEAR = 2024
SEX_LETTERS_FROM_YEAR = 2025  # SEX M/F from 2024-25 (1/2 before)
NEEDS_URN = {"K1", "K2"}


def write_903(out: Path, pop: Population, care: Care, lachildid: np.ndarray, win: Window,
              noise, rng: np.random.Generator, files: list, linkage: list) -> dict:
    sp, ep = care.spells, care.episodes
    counts = {}
    pcd = pop.postcodes["pcd"].to_numpy()
    # placement postcode: a carer's home in the county, the same for the whole placement
    first = ep.groupby(["spell", "placement"]).ngroup().to_numpy()
    pl_pc = pcd[rng.integers(0, pcd.size, first.max() + 1 if len(ep) else 0)][first]
    urns = np.array([f"SC{x:06d}" for x in rng.integers(100000, 999999, first.max() + 1 if len(ep) else 0)],
                    dtype=object)[first]
    urn = np.where(ep["PLACE"].isin(NEEDS_URN), urns, "XXXXXXX")
    home_pc = pcd[pop.postcode_at(ep["child"].to_numpy(), ep["DECOM"].to_numpy())]
    ep = ep.assign(PL_POST=pl_pc, URN=urn, HOME_POST=home_pc)
    no_upn = rng.random(pop.n) < noise.upn_missing
    for cy in win.collection_years:
        y0, y1 = day(cy - 1, 4, 1), day(cy, 3, 31)
        in_year = ep[(ep["DECOM"] <= y1) & (ep["DEC"] >= y0)].copy()
        kids = np.unique(in_year["child"].to_numpy())
        ids = lachildid[kids]
        by_child = dict(zip(kids.tolist(), ids.tolist()))
        folder = out / "ssda903" / str(cy)
        dob = pop.dob[kids]
        # school age: 4 or over on 31 August before the collection year starts
        school_age = add_years(dob, 4) <= day(cy - 2, 8, 31)
        upn = np.where(no_upn[kids] | ~pop.state_school[kids] | ~school_age,
                       np.where(~school_age, "UN1", np.where(pop.state_school[kids], "UN5", "UN2")),
                       pop.upn[kids])
        female = pop.sex[kids] == "F"
        sex = (np.where(female, "F", "M") if cy >= SEX_LETTERS_FROM_YEAR
               else np.where(female, "2", "1"))
        header = pd.DataFrame({"CHILD": ids, "SEX": sex, "DOB": dmy(dob),
                               "ETHNIC": pop.ethnicity[kids], "UPN": upn,
                               "MOTHER": np.where(female, "0", ""), "MC_DOB": ""})
        _write(header, folder, "header", files)
        for c, i in by_child.items():
            linkage.append(("ssda903", f"ssda903:{cy}:{i}", pop.child_id[c]))

        in_year["CHILD"] = in_year["child"].map(by_child)
        need = sp["need"].to_numpy()[in_year["spell"].to_numpy()]
        dec_known = in_year["DEC"].to_numpy() <= y1
        episodes = pd.DataFrame({
            "CHILD": in_year["CHILD"], "DECOM": dmy(in_year["DECOM"].to_numpy()),
            "RNE": in_year["RNE"], "LS": in_year["LS"], "CIN": need,
            "PLACE": in_year["PLACE"], "PLACE_PROVIDER": in_year["PLACE_PROVIDER"],
            "DEC": dmy(in_year["DEC"].to_numpy(), y1),
            "REC": np.where(dec_known, in_year["REC"], ""),
            "REASON_PLACE_CHANGE": np.where(dec_known, in_year["REASON_PLACE_CHANGE"], ""),
            "HOME_POST": in_year["HOME_POST"], "PL_POST": in_year["PL_POST"],
            "URN": in_year["URN"], "_d": in_year["DECOM"]})
        episodes = episodes.sort_values(["CHILD", "_d"], kind="stable").drop(columns="_d")
        _write(episodes, folder, "episodes", files)

        rv = care.reviews[(care.reviews["day"] >= y0) & (care.reviews["day"] <= y1)]
        rv = rv[rv["child"].isin(by_child)]
        rage = (rv["day"].to_numpy() - pop.dob[rv["child"].to_numpy()]) / YEAR
        code = np.where(rage < 4, "PN0", np.array(["PN1", "PN1", "PN1", "PN2", "PN3", "PN4",
                                                   "PN5", "PN6", "PN7"], dtype=object)[
            (rv["day"].to_numpy() // 7 + rv["child"].to_numpy()) % 9])
        reviews = pd.DataFrame({"CHILD": rv["child"].map(by_child),
                                "DOB": dmy(pop.dob[rv["child"].to_numpy()]),
                                "REVIEW": dmy(rv["day"].to_numpy()), "REVIEW_CODE": code,
                                "_d": rv["day"]}).sort_values(["CHILD", "_d"]).drop(columns="_d")
        _write(reviews, folder, "reviews", files)
        _write(pd.DataFrame(columns=COLUMNS["uasc"]), folder, "uasc", files)

        # OC2: looked after continuously through the year (no start or non-X1 end in it)
        started = in_year.loc[(in_year["RNE"] == "S") & (in_year["DECOM"] > y0), "child"]
        ended = in_year.loc[(in_year["DEC"] >= y0) & (in_year["DEC"] <= y1)
                            & (in_year["REC"] != "X1"), "child"]
        oc = np.setdiff1d(kids, np.union1d(started.to_numpy(), ended.to_numpy()))
        oage = (y1 - pop.dob[oc]) / YEAR
        age_start = (y0 - pop.dob[oc]) / YEAR
        sdq_ok = (oage >= 4) & (age_start < 17)
        r = rng.random((oc.size, 6))
        oc2 = pd.DataFrame({
            "CHILD": lachildid[oc], "DOB": dmy(pop.dob[oc]),
            "SDQ_SCORE": np.where(sdq_ok & (r[:, 0] < 0.85), (r[:, 1] * 30).astype(int).astype(str), ""),
            "SDQ_REASON": np.where(sdq_ok & (r[:, 0] >= 0.85), "SDQ4", ""),
            "CONVICTED": np.where(oage >= 10, np.where(r[:, 2] < 0.04, "1", "0"), ""),
            "HEALTH_CHECK": np.where(oage < 5, np.where(r[:, 3] < 0.9, "1", "0"), ""),
            "IMMUNISATIONS": np.where(r[:, 4] < 0.85, "1", "0"),
            "TEETH_CHECK": np.where((r[:, 5] < 0.8) | (oage < 5), "1", "0"),
            "HEALTH_ASSESSMENT": np.where(r[:, 3] < 0.9, "1", "0"),
            "SUBSTANCE_MISUSE": "0", "INTERVENTION_RECEIVED": "", "INTERVENTION_OFFERED": ""})
        _write(oc2.sort_values("CHILD"), folder, "oc2", files)
        _write(pd.DataFrame(columns=COLUMNS["oc3"]), folder, "oc3", files)

        # adoptions and placements for adoption: the decision that adoption is in the child's
        # best interest comes some months before the placement, after care began
        pa_all = ep[ep["PLACE"].isin(["A3", "A4", "A5", "A6"])].drop_duplicates("spell")
        spell_start = sp["start"].to_numpy()[pa_all["spell"].to_numpy()]
        decision = np.maximum(pa_all["DECOM"].to_numpy() - 90, spell_start + 1)
        decided = dict(zip(pa_all["spell"].tolist(), decision.tolist()))
        ad = in_year[(in_year["REC"].isin(["E11", "E12"])) & dec_known]
        adc = ad["child"].to_numpy()
        ad_dec = np.array([decided.get(s_, d_ - 200) for s_, d_ in
                           zip(ad["spell"].tolist(), ad["DECOM"].tolist())], dtype=np.int64)
        place_day = np.array([int(pa_all.loc[pa_all["spell"] == s_, "DECOM"].iloc[0])
                              if s_ in decided else d_ - 30
                              for s_, d_ in zip(ad["spell"].tolist(), ad["DECOM"].tolist())],
                             dtype=np.int64)
        adopted = pd.DataFrame({
            "CHILD": ad["CHILD"], "DOB": dmy(pop.dob[adc]), "DATE_INT": dmy(ad_dec),
            "DATE_MATCH": dmy(np.maximum(place_day - 14, ad_dec)), "FOSTER_CARE": "0",
            "NB_ADOPTR": "2", "SEX_ADOPTR": "MF", "LS_ADOPTR": "L11"})
        _write(adopted.sort_values("CHILD"), folder, "ad1", files)
        pa = in_year[in_year["PLACE"].isin(["A3", "A4", "A5", "A6"])].drop_duplicates("spell")
        pac = pa["child"].to_numpy()
        pfa = pd.DataFrame({
            "CHILD": pa["CHILD"], "DOB": dmy(pop.dob[pac]),
            "DATE_PLACED": dmy(np.array([decided[s_] for s_ in pa["spell"].tolist()], dtype=np.int64)),
            "DATE_PLACED_CEASED": "", "REASON_PLACED_CEASED": ""})
        _write(pfa.sort_values("CHILD"), folder, "placed_for_adoption", files)
        st = in_year[(in_year["RNE"] == "S") & (in_year["DECOM"] >= y0)]
        stc = st["child"].to_numpy()
        prev = pd.DataFrame({"CHILD": st["CHILD"], "DOB": dmy(pop.dob[stc]), "PREV_PERM": "Z1",
                             "LA_PERM": "", "DATE_PERM": ""})
        _write(prev.sort_values("CHILD"), folder, "previous_permanence", files)
        ms = care.missing[(care.missing["start"] >= y0) & (care.missing["end"] <= y1)]
        ms = ms[ms["child"].isin(by_child)]
        msc = ms["child"].to_numpy()
        missing = pd.DataFrame({"CHILD": ms["child"].map(by_child), "DOB": dmy(pop.dob[msc]),
                                "MISSING": ms["kind"], "MIS_START": dmy(ms["start"].to_numpy()),
                                "MIS_END": dmy(ms["end"].to_numpy(), y1), "_d": ms["start"]})
        _write(missing.sort_values(["CHILD", "_d"]).drop(columns="_d"), folder, "missing", files)
        sw = care.workers[(care.workers["start"] <= y1) & (care.workers["end"] >= y0)]
        sw = sw[sw["child"].isin(by_child)] if cy >= SW_FROM_YEAR else sw.iloc[0:0]
        swc = sw["child"].to_numpy()
        swe = pd.DataFrame({"CHILD": sw["child"].map(by_child), "DOB": dmy(pop.dob[swc]),
                            "SW_ID": sw["sw_id"], "SW_DECOM": dmy(sw["start"].to_numpy()),
                            "SW_DEC": dmy(sw["end"].to_numpy(), y1),
                            "SW_REASON": sw["reason"],
                            "_d": sw["start"]})
        _write(swe.sort_values(["CHILD", "_d"]).drop(columns="_d"), folder, "sw_episodes", files)
        counts[str(cy)] = {"children": len(header), "episodes": len(episodes)}
    return counts


def _write(df: pd.DataFrame, folder: Path, name: str, files: list) -> None:
    df = df[COLUMNS[name]] if len(df.columns) else pd.DataFrame(columns=COLUMNS[name])
    files.append(write_csv(df, folder / f"{name}.csv"))

