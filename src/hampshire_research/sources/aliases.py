"""The one table of column-name aliases, so a council's own export headers are understood.

Headers are matched after normalising: case, spaces, underscores, hyphens and dots are ignored
("Date of Birth", "date_of_birth" and "DATEOFBIRTH" are the same header). A column is found by
its contract name first, then by each alias in order. Add a council's header here, once.
"""

from __future__ import annotations

import re

ALIASES: dict[str, tuple[str, ...]] = {
    # people, any source
    "UPN": ("Unique Pupil Number", "Pupil UPN", "UPN Number", "pers_upn"),
    "FormerUPN": ("Former UPN", "Previous UPN"),
    "Forename": ("First Name", "Firstname", "Given Name", "Legal Forename", "Forenames"),
    "Surname": ("Last Name", "Lastname", "Family Name", "Legal Surname"),
    "DOB": ("Date of Birth", "Birth Date", "PersonBirthDate"),
    "Sex": ("Gender", "GenderCurrent"),
    "Postcode": ("Post Code", "Home Postcode", "Postcode (home)", "Address Postcode"),
    "NHSNumber": ("NHS Number", "NHS No", "NHSNo", "NHS"),
    "Ethnicity": ("Ethnic Code", "Ethnic Group"),
    # school census
    "FSMeligible": ("FSM", "FSM Eligible", "Free School Meals"),
    "SENprovision": ("SEN Provision", "SEN", "SEN Status"),
    "PrimarySENtype": ("SEN Type", "Primary SEN Type", "SEN Need"),
    "NCyearActual": ("NC Year", "National Curriculum Year", "Year Group", "NCY"),
    "URN": ("School URN", "Unique Reference Number"),
    "LAESTAB": ("LA Estab", "DfE Number", "DfE No"),
    "EnrolStatus": ("Enrolment Status", "Enrollment Status"),
    "SessionsPossible": ("Possible Sessions", "Sessions Possible Total"),
    "SessionsAuthorised": ("Authorised Absence", "Authorised Sessions", "SessionsAuthorized"),
    "SessionsUnauthorised": ("Unauthorised Absence", "Unauthorised Sessions",
                             "SessionsUnauthorized"),
    "Category": ("Exclusion Category", "Exclusion Type"),
    "StartDate": ("Start Date", "Date Started", "Episode Start Date", "Exclusion Start Date"),
    "EndDate": ("End Date", "Date Ended", "Episode End Date"),
    "Sessions": ("Exclusion Sessions", "Sessions Excluded", "Number of Sessions"),
    "Reason": ("Exclusion Reason", "Reason for Involvement", "Episode Reason"),
    "SchoolName": ("School Name", "Establishment Name"),
    "Phase": ("School Phase",),
    "District": ("District Name",),
    # early help
    "EHPersonID": ("EH Person ID", "Person ID", "Early Help Person ID", "Client ID"),
    "EpisodeID": ("Episode ID", "EH Episode ID", "Case ID"),
    "LeadPractitionerRole": ("Lead Practitioner Role", "Lead Professional Role",
                             "Lead Practitioner"),
    "Outcome": ("Closure Outcome", "Episode Outcome", "End Reason"),
    # case notes
    "NoteID": ("Note ID", "Case Note ID", "CaseNoteID"),
    "System": ("Source System",),
    "PersonID": ("Person ID", "Child ID", "Client ID"),
    "NoteDate": ("Note Date", "Date of Note", "Event Date"),
    "NoteType": ("Note Type", "Case Note Type"),
    "Stage": ("Case Stage", "Workflow Stage"),
    "AuthorRole": ("Author Role", "Author Job Title", "Worker Role"),
    "NoteText": ("Note Text", "Note", "Case Note", "Text", "Body"),
    # SSDA903 (CSV headers; the XML export names the placement PL)
    "CHILD": ("Child ID", "ChildID", "LAchildID"),
    "PLACE": ("PL",),
    # Standard Safeguarding Dataset: real exports sometimes drop the table prefix; the SSD as
    # deployed (Data to Insight's SQL for Mosaic, LiquidLogic, Eclipse) renamed the NHS number
    # column pers_single_unique_id, and Mosaic's CIN plan id is cin_plan_id
    "pers_person_id": ("person_id", "la_person_id"),
    "pers_forename": ("forename", "first_name"),
    "pers_surname": ("surname", "last_name"),
    "pers_dob": ("dob", "date_of_birth"),
    "pers_sex": ("sex",),
    "pers_common_child_id": ("pers_single_unique_id", "nhs_number", "common_child_id"),
    "pers_upn": ("upn",),
    "addr_person_id": ("person_id",),
    "cinp_cin_plan_id": ("cin_plan_id",),
    "addr_address_postcode": ("postcode", "address_postcode"),
}


def normalise_header(name: object) -> str:
    """The comparable form of a header: lower case, no spaces, underscores, hyphens or dots."""
    return re.sub(r"[\s_\-.]+", "", str(name)).lower().lstrip("\ufeff")


def resolve_columns(headers: list[str], wanted: list[str]) -> dict[str, str]:
    """Map each wanted contract column to the header that carries it (absent ones left out)."""
    by_norm: dict[str, str] = {}
    for h in headers:
        by_norm.setdefault(normalise_header(h), h)
    found: dict[str, str] = {}
    for col in wanted:
        for name in (col, *ALIASES.get(col, ())):
            h = by_norm.get(normalise_header(name))
            if h is not None and h not in found.values():
                found[col] = h
                break
    return found
