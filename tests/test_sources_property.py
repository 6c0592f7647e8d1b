"""No row is silently dropped and no input gives a traceback: files generated with injected
faults, in any delimiter and encoding, always give read = kept + quarantined, the expected
number set aside, and a reason for every row set aside; and every reader, fed its fixtures
with records deleted or repeated and cells blanked or of the wrong type, either stops with
one line or accounts for every row."""

from __future__ import annotations

import csv
import io
import shutil
from copy import deepcopy
from pathlib import Path

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from hampshire_research.errors import ProjectError
from hampshire_research.params import load_site
from hampshire_research.sources import readers
from hampshire_research.sources.cin_xml import read_cin_census
from hampshire_research.sources.validate import report

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


# Any reader, any damage: small real-shaped extracts (the fixtures) with records deleted or
# repeated, cells blanked or holding a value of the wrong type, and whole columns of them (as
# an export that fills a field with NULL or writes its dates in another form). Whatever comes
# in, the reader stops with one line naming the problem or accounts for every row it read.
WRONG = ["", "   ", "NULL", "null", "N/A", "abc", "12.5", "-1", "0", "true", "P001",
         "1066-04-13", "31/02/2022", "2022-13-45", "06-Oct-2022", "9" * 25, "é€\u00a0", "<x>"]
SHAPES = {  # name: (fixture site, folder damaged, reader of that folder)
    "ssd": ("tiny_site", "csc", readers.read_ssd),
    "ssd_mosaic": ("ssd_mosaic", "csc", readers.read_ssd),
    "cin_census": ("tiny_site", "cin_census", readers.read_cin),
    "ssda903": ("tiny_site", "ssda903", readers.read_ssda903),
    "ssda903_xml": ("ssda903_xml", ".", readers.read_ssda903),
    "school_census": ("tiny_site", "school_census", readers.read_school_census),
    "early_help": ("tiny_site", "early_help", readers.read_early_help),
}
FIXTURES = Path(__file__).parent / "fixtures" / "sources"
# (what, which record, which field, value): records and fields are picked modulo their number
edits = st.lists(st.tuples(st.sampled_from(["delete", "repeat", "blank", "wrong", "column"]),
                           st.integers(0, 999), st.integers(0, 999), st.sampled_from(WRONG)),
                 max_size=8)


def _damage_csv(path: Path, edits) -> int:
    """Apply the edits to the data rows of a CSV file; the number of data rows left."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        header, *rows = list(csv.reader(f))
    for action, i, j, value in edits:
        j %= len(header)
        if not rows:
            break
        i %= len(rows)
        if action == "delete":
            del rows[i]
        elif action == "repeat":
            rows.insert(i, list(rows[i]))
        elif action == "column":
            for row in rows:
                row[j] = value
        else:
            rows[i][j] = "" if action == "blank" else value
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([header, *rows])
    return len(rows)


def _name(el) -> str:
    return etree.QName(el).localname


def _body(root) -> list:
    """The elements of an XML return below the root, leaving its Header alone."""
    return [el for el in root.iter() if el is not root
            and "Header" not in [_name(a) for a in [el, *el.iterancestors()]]]


def _xml_fields(path: Path) -> list[str]:
    """The names of the leaf elements of a return, sorted: what a field number picks."""
    return sorted({_name(el) for el in _body(etree.parse(str(path)).getroot()) if len(el) == 0})


def _damage_xml(path: Path, edits) -> dict[str, int]:
    """Apply the edits to an XML return (delete and repeat take a record: an element with
    children; the others a leaf); how many elements of each name are left."""
    tree = etree.parse(str(path))
    root = tree.getroot()
    fields = _xml_fields(path)
    for action, i, j, value in edits:
        records = [el for el in _body(root) if len(el)]
        leaves = [el for el in _body(root) if len(el) == 0 and _name(el) == fields[j % len(fields)]]
        if action in ("delete", "repeat") and records:
            el = records[i % len(records)]
            if action == "delete":
                el.getparent().remove(el)
            else:
                el.addnext(deepcopy(el))
        elif action == "column":
            for el in leaves:
                el.text = value
        elif leaves:
            leaves[i % len(leaves)].text = "" if action == "blank" else value
    tree.write(str(path))
    counts: dict[str, int] = {}
    for el in root.iter():
        counts[_name(el)] = counts.get(_name(el), 0) + 1
    return counts


CIN_2022 = FIXTURES / "tiny_site" / "cin_census" / "cin_census_2022.xml"
with open(FIXTURES / "tiny_site" / "csc" / "ssd_person.csv") as f:
    PERSON_FIELDS = next(csv.reader(f))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.sampled_from(sorted(SHAPES)), which=st.integers(0, 99), edits=edits)
# the cases: every CIN referral date unusable (a traceback once); every person's
# birth date NULL or out of range (every SSD table set aside once)
@example(shape="cin_census", which=0,
         edits=[("column", 0, _xml_fields(CIN_2022).index("CINreferralDate"), "1066-04-13")])
@example(shape="ssd", which=sorted(p.name for p in (FIXTURES / "tiny_site" / "csc").iterdir()
                                   ).index("ssd_person.csv"),
         edits=[("column", 0, PERSON_FIELDS.index("pers_dob"), "NULL"),
                ("wrong", 0, PERSON_FIELDS.index("pers_expected_dob"), "1066-04-13")])
def test_no_damage_makes_a_reader_crash_or_lose_a_row(tmp_path_factory, shape, which, edits):
    fixture, folder, reader = SHAPES[shape]
    site = tmp_path_factory.mktemp("site")
    if fixture == "ssda903_xml":
        shutil.copytree(FIXTURES / fixture, site / "ssda903")
        folder = "ssda903"
    else:
        shutil.copytree(FIXTURES / fixture, site, dirs_exist_ok=True)
    files = sorted(p for p in (site / folder).rglob("*") if p.suffix in (".csv", ".xml"))
    path = files[which % len(files)]
    left = (_damage_xml(path, edits) if path.suffix == ".xml"
            else {"rows": _damage_csv(path, edits)})

    b = readers.Build(data_dir=site, params=PARAMS)
    try:
        reader(b)
    except ProjectError as e:
        assert "\n" not in str(e)
        event(f"{shape}: stopped")
        return
    event(f"{shape}: read")
    rep = report(b.logs, site, b.notes)  # raises when read != kept + quarantined
    assert (rep["read"] == rep["kept"] + rep["quarantined"]).all()
    for log in b.logs:
        assert log.kept is not None  # every file read was closed: its rows proved
        assert log.quarantined["reason"].str.len().gt(0).all()
        name, _, part = log.file.partition("#")
        if site / name != path:
            continue
        if path.suffix == ".csv":
            assert log.read == left["rows"]
        elif part in ("Child", "CINdetails"):  # CIN census: one record per element
            assert log.read == left.get(part, 0)
