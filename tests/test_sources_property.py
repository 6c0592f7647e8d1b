"""No row is silently dropped: files generated with injected faults, in any delimiter and
encoding, always give read = kept + quarantined, the expected number set aside, and a reason
for every row set aside."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hampshire_research.params import load_site
from hampshire_research.sources import readers
from hampshire_research.sources.cin_xml import read_cin_census

PARAMS = load_site("hampshire")
EH_HEADER = ["EHPersonID", "EpisodeID", "Forename", "Surname", "DOB", "Sex", "Postcode", "UPN",
             "NHSNumber", "StartDate", "EndDate", "Reason", "LeadPractitionerRole", "Outcome"]
SET_ASIDE = {"missing_person", "missing_episode", "bad_start", "duplicate"}
FLAGGED = {"bad_nhs", "bad_upn", "bad_dob"}  # a bad optional field is flagged, not dropped
EH_KINDS = sorted(SET_ASIDE | FLAGGED | {"ok"})
free_text = st.text(alphabet=st.characters(codec="cp1252", exclude_categories=["Cs", "Cc"])
                    | st.sampled_from([",", ";", '"', "\n", "\t"]), max_size=20)


def _eh_row(i: int, kind: str, reason: str) -> list[str]:
    row = [f"EH{i % 7}", f"EP{i}", "Amy", "Smith", "03/05/2011", "F", "SO23 8AA",
           "B801200005001", "9990000018", "01/09/2021", "", reason, "School", "Ongoing"]
    if kind == "missing_person":
        row[0] = ""
    elif kind == "missing_episode":
        row[1] = "  "
    elif kind == "bad_start":
        row[9] = "31/09/2021"
    elif kind == "bad_dob":
        row[4] = "yesterday"
    elif kind == "duplicate":
        row[1] = "EP0"
    elif kind == "bad_nhs":
        row[8] = "9990000019"
    elif kind == "bad_upn":
        row[7] = "A801200005001"
    return row


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kinds=st.lists(st.sampled_from(EH_KINDS), max_size=30),
       reasons=st.lists(free_text, min_size=31, max_size=31),
       sep=st.sampled_from([",", ";", "\t"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
def test_early_help_rows_are_never_lost(tmp_path_factory, kinds, reasons, sep, encoding):
    kinds = ["ok", *kinds]  # the first row is the one a duplicate repeats
    site = tmp_path_factory.mktemp("site")
    (site / "early_help").mkdir()
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
    writer.writerow(EH_HEADER)
    writer.writerows(_eh_row(i, k, reasons[i]) for i, k in enumerate(kinds))
    (site / "early_help/early_help_episodes.csv").write_bytes(buf.getvalue().encode(encoding))

    b = readers.Build(data_dir=site, params=PARAMS)
    readers.read_early_help(b)
    (log,) = b.logs
    q = log.quarantined
    assert log.read == len(kinds) == log.kept + len(q)
    assert len(q) == sum(k in SET_ASIDE for k in kinds)
    assert q["reason"].str.len().gt(0).all() and q["field"].str.len().gt(0).all()
    assert sorted(q["row"]) == [i + 1 for i, k in enumerate(kinds) if k in SET_ASIDE]
    assert log.flagged["row"].nunique() == sum(k in FLAGGED for k in kinds)
    events = b.events[0]
    assert len(events) == log.kept
    kept_reasons = [reasons[i] for i, k in enumerate(kinds) if k not in SET_ASIDE]
    assert events["reason"].fillna("").tolist() == [r.strip() for r in kept_reasons]


CHILD_KINDS = ["ok", "ok", "missing_id", "bad_dob", "duplicate"]
CIN_KINDS = ["ok", "ok", "missing_date", "bad_date"]


def _child(i: int, kind: str, cins: list[str]) -> str:
    child_id = {"missing_id": "", "duplicate": "C0"}.get(kind, f"C{i}")
    dob = "2011-02-30" if kind == "bad_dob" else "2011-02-03"
    details = "".join(
        "<CINdetails>"
        + {"ok": "<CINreferralDate>2022-01-05</CINreferralDate>", "missing_date": "",
           "bad_date": "<CINreferralDate>05/13/2022</CINreferralDate>"}[c]
        + "<ReferralSource>2A</ReferralSource><ReferralNFA>false</ReferralNFA>"
        + "<Assessments><AssessmentActualStartDate>2022-01-06</AssessmentActualStartDate>"
        + "</Assessments></CINdetails>"
        for c in cins)
    return (f"<Child><ChildIdentifiers><LAchildID>{child_id}</LAchildID>"
            f"<PersonBirthDate>{dob}</PersonBirthDate><Sex>F</Sex></ChildIdentifiers>"
            f"{details}</Child>\n")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(children=st.lists(st.tuples(st.sampled_from(CHILD_KINDS),
                                   st.lists(st.sampled_from(CIN_KINDS), max_size=3)),
                         max_size=15))
def test_cin_census_records_are_never_lost(tmp_path_factory, children):
    children = [("ok", ["ok"]), *children]
    body = "".join(_child(i, k, c) for i, (k, c) in enumerate(children))
    path = Path(tmp_path_factory.mktemp("cin")) / "cin_census_2022.xml"
    path.write_text("<Message><Header><CollectionDetails><Year>2022</Year></CollectionDetails>"
                    f"</Header><Children>\n{body}</Children></Message>")
    logs, persons, events = read_cin_census(path, path.name)
    by_part = {log.file.split("#")[1]: log for log in logs}
    for log in logs:
        assert log.read == log.kept + len(log.quarantined)
        assert log.quarantined["reason"].str.len().gt(0).all()
    bad_child = [k not in ("ok", "bad_dob") for k, _ in children]  # a bad birth date is flagged
    assert by_part["Child"].kept == len(persons) == sum(not b for b in bad_child)
    cins = [(bad, c) for bad, (_, cs) in zip(bad_child, children) for c in cs]
    kept_cins = sum(not bad and c == "ok" for bad, c in cins)
    assert by_part["CINdetails"].read == len(cins)
    assert by_part["CINdetails"].kept == kept_cins
    assert by_part["Assessments"].kept == kept_cins
    assert (events["event_type"] == "referral").sum() == kept_cins


PUPIL_HEADER = ["UPN", "Surname", "Forename", "DOB", "Sex", "FSMeligible", "SENprovision",
                "NCyearActual", "URN", "Postcode"]
PUPIL_KINDS = ["ok", "ok", "missing_upn", "bad_dob", "duplicate", "bad_check_letter"]
ATTENDANCE_KINDS = ["ok", "ok", "orphan", "bad_sessions", "duplicate"]


def _upn(i: int) -> str:
    body = f"850200115{i:03d}"
    total = sum(int(c) * w for c, w in zip(body, range(2, 14)))
    return "ABCDEFGHJKLMNPQRTUVWXYZ"[total % 23] + body


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pupils=st.lists(st.sampled_from(PUPIL_KINDS), max_size=25),
       attendance=st.lists(st.sampled_from(ATTENDANCE_KINDS), max_size=25))
def test_school_census_rows_are_never_lost(tmp_path_factory, pupils, attendance):
    pupils, attendance = ["ok", *pupils], ["ok", *attendance]
    site = tmp_path_factory.mktemp("site")
    term = site / "school_census" / "2021-22" / "autumn"
    term.mkdir(parents=True)
    rows = []
    for i, kind in enumerate(pupils):
        upn = {"missing_upn": "", "duplicate": _upn(0)}.get(kind, _upn(i))
        if kind == "bad_check_letter":
            upn = ("B" if upn[0] != "B" else "C") + upn[1:]
        dob = "30/02/2011" if kind == "bad_dob" else "03/05/2011"
        rows.append([upn, "Smith", "Amy", dob, "F", "true", "N", "6", "116001", "SO23 8AA"])
    with open(term / "pupils.csv", "w", newline="") as f:
        csv.writer(f).writerows([PUPIL_HEADER, *rows])
    kept_upns = {r[0] for r, k in zip(rows, pupils) if k != "missing_upn"}  # bad DOB: flagged
    att = []
    for i, kind in enumerate(attendance):
        upn = _upn(0) if kind == "duplicate" else rows[i % len(rows)][0]
        if kind == "orphan":
            upn = _upn(900 + i)
        sessions = "12.5" if kind == "bad_sessions" else "120"
        att.append([upn, "116001", sessions, "3", "1"])
    with open(term / "attendance.csv", "w", newline="") as f:
        csv.writer(f).writerows([["UPN", "URN", "SessionsPossible", "SessionsAuthorised",
                                  "SessionsUnauthorised"], *att])

    b = readers.Build(data_dir=site, params=PARAMS)
    readers.read_school_census(b)
    for log in b.logs:
        assert log.read == log.kept + len(log.quarantined)
        assert log.quarantined["reason"].str.len().gt(0).all()
    pupil_log, att_log = b.logs
    assert pupil_log.read == len(pupils)
    assert pupil_log.flagged["reason"].eq("UPN check letter fails").sum() == \
        pupils.count("bad_check_letter")
    terms = b.school_terms[0]
    assert len(terms) == pupil_log.kept
    assert set(terms["record_id"].str.removeprefix("school_census:")) == kept_upns
    assert att_log.read == len(attendance)
    assert terms["sessions_possible"].notna().sum() == att_log.kept
