"""CIN census XML, one file per collection year, in that year's specification: every child
with a CIN episode open at some time between 1 April and 31 March, modules as known on the
reference date. GenderCurrent (1/2) before 2024-25, Sex (M/F) from then."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .calendar import day
from .casework import Referrals
from .population import Population, Window
from .schooling import BIG

SEX_FROM_YEAR = 2025


def _d(x: int) -> str:
    return str(np.datetime64(int(x), "D"))


def write_cin_census(out: Path, params, pop: Population, ref: Referrals, lachildid: np.ndarray,
                     extra: dict, win: Window, noise, rng: np.random.Generator, files: list,
                     linkage: list) -> dict:
    counts = {}
    upn_missing = rng.random(pop.n) < noise.upn_missing
    disab = extra["disability"]
    for cy in win.collection_years:
        start, refdate = day(cy - 1, 4, 1), day(cy, 3, 31)
        sel = np.flatnonzero((ref.date <= refdate) & ((ref.close >= start) | (ref.close >= BIG)))
        # the child must have been born by the reference date
        sel = sel[pop.dob[ref.child[sel]] <= refdate]
        lines = ['<?xml version="1.0" encoding="utf-8"?>', "<Message>", "  <Header>",
                 "    <CollectionDetails>", "      <Collection>CIN</Collection>",
                 f"      <Year>{cy}</Year>", f"      <ReferenceDate>{_d(refdate)}</ReferenceDate>",
                 "    </CollectionDetails>", "    <Source>", "      <SourceLevel>L</SourceLevel>",
                 f"      <LEA>{params.la_number}</LEA>",
                 "      <SoftwareCode>hampshire_research.synthetic</SoftwareCode>",
                 "      <Release>1</Release>", "      <SerialNo>001</SerialNo>",
                 f"      <DateTime>{_d(refdate + 30)}T09:00:00</DateTime>", "    </Source>",
                 "  </Header>", "  <Children>"]
        ids = lachildid[ref.child[sel]]
        order = np.lexsort((ref.date[sel], ids))
        sel, ids = sel[order], ids[order]
        bounds = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1], True])
        n_children = 0
        for a, b in zip(bounds[:-1], bounds[1:]):
            rows = sel[a:b]
            c = int(ref.child[rows[0]])
            lines += _child(cy, start, refdate, c, ids[a], rows, pop, ref, extra, disab,
                            upn_missing[c])
            n_children += 1
            linkage.append(("cin_census", f"cin_census:{cy}:{ids[a]}", pop.child_id[c]))
        lines += ["  </Children>", "</Message>", ""]
        path = out / "cin_census" / f"cin_census_{cy}.xml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines), encoding="utf-8")
        files.append(path)
        counts[str(cy)] = n_children
    return counts


def _child(cy, start, refdate, c, lachildid, rows, pop, ref, extra, disab, no_upn) -> list[str]:
    age = (refdate - pop.dob[c]) / 365.25
    L = ["    <Child>", "      <ChildIdentifiers>", f"        <LAchildID>{lachildid}</LAchildID>"]
    if not no_upn and age >= 4 and pop.state_school[c]:
        L.append(f"        <UPN>{pop.upn[c]}</UPN>")
    else:
        code = "UN1" if age < 5 else ("UN2" if not pop.state_school[c] else "UN4")
        L.append(f"        <UPNunknown>{code}</UPNunknown>")
    L.append(f"        <PersonBirthDate>{_d(pop.dob[c])}</PersonBirthDate>")
    if cy >= SEX_FROM_YEAR:
        L.append(f"        <Sex>{pop.sex[c]}</Sex>")
    else:
        L.append(f"        <GenderCurrent>{1 if pop.sex[c] == 'M' else 2}</GenderCurrent>")
    L += ["      </ChildIdentifiers>", "      <ChildCharacteristics>",
          f"        <Ethnicity>{pop.ethnicity[c]}</Ethnicity>", "        <Disabilities>"]
    for code in disab[c].split(","):
        L.append(f"          <Disability>{code}</Disability>")
    L += ["        </Disabilities>", "      </ChildCharacteristics>"]
    n_prev_cpp = 0
    for r in rows:
        L += _episode(r, start, refdate, ref, extra, n_prev_cpp)
        if ref.cp_start[r] < start:
            n_prev_cpp += 1
    L.append("    </Child>")
    return L


def _episode(r, start, refdate, ref: Referrals, extra, n_prev_cpp) -> list[str]:
    """One CINdetails block. Modules finished before the census year are left out (they were
    in an earlier return); dates after the reference date are not yet known."""
    def known(x):
        return x < BIG and x <= refdate

    def in_year(x):
        return known(x) and x >= start

    def current(begin, end):
        return known(begin) and not (known(end) and end < start)

    L = ["      <CINdetails>", f"        <CINreferralDate>{_d(ref.date[r])}</CINreferralDate>",
         f"        <ReferralSource>{ref.source[r]}</ReferralSource>",
         f"        <PrimaryNeedCode>{extra['primary_need'][r]}</PrimaryNeedCode>"]
    if known(ref.close[r]):
        L.append(f"        <CINclosureDate>{_d(ref.close[r])}</CINclosureDate>")
        L.append(f"        <ReasonForClosure>{ref.close_reason[r]}</ReasonForClosure>")
    icpc_day = extra["icpc_day"][r]
    icpc_now = bool(ref.icpc[r]) and in_year(icpc_day)
    s47_now = current(ref.s47_start[r], max(ref.s47_end[r], icpc_day if ref.icpc[r] else 0))
    if icpc_now and not s47_now:
        L.append(f"        <DateOfInitialCPC>{_d(icpc_day)}</DateOfInitialCPC>")
    if current(ref.assess_start[r], ref.assess_auth[r]):
        L += ["        <Assessments>",
              f"          <AssessmentActualStartDate>{_d(ref.assess_start[r])}</AssessmentActualStartDate>"]
        if known(ref.assess_auth[r]):
            auth = _d(ref.assess_auth[r])
            L.append(f"          <AssessmentAuthorisationDate>{auth}</AssessmentAuthorisationDate>")
            L.append("          <FactorsIdentifiedAtAssessment>")
            for f in extra["factors"][r].split(","):
                L.append(f"            <AssessmentFactors>{f}</AssessmentFactors>")
            L.append("          </FactorsIdentifiedAtAssessment>")
        L.append("        </Assessments>")
    if current(ref.cin_start[r], ref.cin_end[r]):
        L += ["        <CINPlanDates>",
              f"          <CINPlanStartDate>{_d(ref.cin_start[r])}</CINPlanStartDate>"]
        if known(ref.cin_end[r]):
            L.append(f"          <CINPlanEndDate>{_d(ref.cin_end[r])}</CINPlanEndDate>")
        L.append("        </CINPlanDates>")
    if s47_now:
        L += ["        <Section47>",
              f"          <S47ActualStartDate>{_d(ref.s47_start[r])}</S47ActualStartDate>",
              f"          <InitialCPCtarget>{_d(extra['icpc_target'][r])}</InitialCPCtarget>"]
        if icpc_now:
            L.append(f"          <DateOfInitialCPC>{_d(icpc_day)}</DateOfInitialCPC>")
        L.append(f"          <ICPCnotRequired>{'false' if ref.icpc[r] else 'true'}</ICPCnotRequired>")
        L.append("        </Section47>")
    L.append(f"        <ReferralNFA>{'true' if ref.nfa[r] else 'false'}</ReferralNFA>")
    if current(ref.cp_start[r], ref.cp_end[r]):
        cat = extra["category"][r]
        L += ["        <ChildProtectionPlans>",
              f"          <CPPstartDate>{_d(ref.cp_start[r])}</CPPstartDate>"]
        if known(ref.cp_end[r]):
            L.append(f"          <CPPendDate>{_d(ref.cp_end[r])}</CPPendDate>")
        L += [f"          <InitialCategoryOfAbuse>{cat}</InitialCategoryOfAbuse>",
              f"          <LatestCategoryOfAbuse>{cat}</LatestCategoryOfAbuse>",
              f"          <NumberOfPreviousCPP>{n_prev_cpp}</NumberOfPreviousCPP>"]
        reviews = []
        t = ref.cp_start[r] + 88
        stop = min(ref.cp_end[r], refdate)
        while t < stop:
            if t >= start:
                reviews.append(t)
            t += 180
        if reviews:
            L.append("          <Reviews>")
            L += [f"            <CPPreviewDate>{_d(x)}</CPPreviewDate>" for x in reviews]
            L.append("          </Reviews>")
        L.append("        </ChildProtectionPlans>")
    L.append("      </CINdetails>")
    return L

