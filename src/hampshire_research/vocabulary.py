"""The field's codes and bands, held once: every module that names an age band, a collection
or academic year, a stage of the social care journey, a referral source or an assessment
factor takes it from here, so a table from one analysis lines up with another's.

Sources: DfE children in need census guide (referral source and factor codes, age bands of
the CIN and looked-after publications), the SSDA903 guide, the school census guide.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

# --- where the data come from ----------------------------------------------------------------

# Structured sources: each gives person records and events (the canonical tables' `source`).
SOURCES = ["school_census", "early_help", "csc", "cin_census", "ssda903"]
# Text sources, read for the voice of the child and thematic coding.
TEXT_SOURCES = ["case_notes", "transcripts"]
# What a data folder holds, one sub-folder per source.
SOURCE_DESCRIPTIONS = {
    "school_census": "School census (pupil level, termly), attendance and exclusions",
    "early_help": "Early help system export",
    "csc": "Children's social care case-management extract (Standard Safeguarding Dataset)",
    "cin_census": "CIN census returns (XML, one per collection year)",
    "ssda903": "SSDA903 children looked after returns (CSV, one folder per year)",
    "case_notes": "Case notes and assessment text",
    "transcripts": "Research interview and focus-group transcripts",
}
# What a reader calls each source, in tables and charts.
SOURCE_NAMES = {
    "school_census": "School census", "early_help": "Early help", "csc": "Social care (CSC)",
    "cin_census": "CIN census", "ssda903": "SSDA903", "case_notes": "Case notes",
    "transcripts": "Transcripts",
}
# Our generator leaves this file in every folder it writes; a council's extract never has it.
SYNTHETIC_MARKER = "synthetic.json"


def is_synthetic(data_dir: Path | str) -> bool:
    """True when the data was made by our generator (row-level output may then be shown)."""
    return (Path(data_dir) / SYNTHETIC_MARKER).is_file()


# --- age -------------------------------------------------------------------------------------

# The age bands of the DfE children in need and looked-after publications (inclusive years).
AGE_BANDS = [(0, 0, "0"), (1, 4, "1-4"), (5, 9, "5-9"), (10, 15, "10-15"), (16, 17, "16-17")]
AGE_BAND_NAMES = [name for _, _, name in AGE_BANDS]


def age_in_years(dob: pd.Series, on: pd.Series) -> pd.Series:
    """Age in whole years on a date (NaN where either date is unknown)."""
    dob, on = pd.to_datetime(dob, errors="coerce"), pd.to_datetime(on, errors="coerce")
    before = ((on.dt.month < dob.dt.month)
              | ((on.dt.month == dob.dt.month) & (on.dt.day < dob.dt.day)))
    return on.dt.year - dob.dt.year - before.astype(int)


def labels(conditions: list, choices: list[str], default: str) -> np.ndarray:
    """np.select for text: the first choice whose condition holds, else the default, as one
    shared string a label. np.select's own text array becomes a new Python string a row in
    pandas, about a GB over a county's child-months."""
    names = np.array([*choices, default], dtype=object)
    return names[np.select(conditions, np.arange(len(choices)), len(choices))]


def age_band(age: pd.Series) -> np.ndarray:
    """Ages in whole years -> DfE age band; "18+" above 17, "Unknown" where age is missing."""
    a = np.asarray(age, dtype=float)
    conds = [(a >= lo) & (a <= hi) for lo, hi, _ in AGE_BANDS] + [a > 17]
    return labels(conds, [*AGE_BAND_NAMES, "18+"], "Unknown")


def age_band_on(dob: pd.Series, on: pd.Series) -> pd.Series:
    """The DfE age band of each child on a date (18+, or Unknown without both dates)."""
    return pd.Series(age_band(age_in_years(dob, on)), index=pd.Series(dob).index)


# --- years -----------------------------------------------------------------------------------

COLLECTION_YEAR_FIRST_MONTH = 4  # CIN census and SSDA903 years run 1 April to 31 March
ACADEMIC_YEAR_FIRST_MONTH = 9    # school years run 1 September to 31 August


def collection_year(dates) -> pd.Series:
    """The collection year of each date, named by the year it ends on 31 March (as params'
    study_window.collection_years): 2023 for 1 April 2022 to 31 March 2023."""
    d = pd.to_datetime(pd.Series(dates), errors="coerce")
    return (d.dt.year + (d.dt.month >= COLLECTION_YEAR_FIRST_MONTH)).astype("Int64")


def collection_year_label(years: pd.Series) -> pd.Series:
    """A collection year as DfE publications print it: 2023 -> "2022-23"."""
    y = pd.Series(years).astype("Int64")
    return ((y - 1).astype(str) + "-" + (y % 100).astype(str).str.zfill(2)).where(y.notna())


def academic_year(dates) -> pd.Series:
    """The academic year of each date, as params name it: "2022/23" for 1 September 2022 to
    31 August 2023."""
    d = pd.to_datetime(pd.Series(dates), errors="coerce")
    start = (d.dt.year - (d.dt.month < ACADEMIC_YEAR_FIRST_MONTH)).astype("Int64")
    return (start.astype(str) + "/" + ((start + 1) % 100).astype(str).str.zfill(2)).where(
        start.notna())


def academic_year_start(academic_years: pd.Series) -> pd.Series:
    """The calendar year an academic year starts in: "2022/23" -> 2022."""
    return pd.Series(academic_years).astype(str).str[:4].astype(int)


# --- school census ---------------------------------------------------------------------------

TERMS = ["autumn", "spring", "summer"]
TERM_FIRST_MONTH = {"autumn": 9, "spring": 1, "summer": 5}  # the census term's months, 4 each
SEN_PROVISION = {"E": "EHC plan", "K": "SEN support", "N": "No SEN"}
# Months England's schools were closed to most pupils of Years 5-8 (DfE: closed from 23 March
# 2020, Years 5, 7 and 8 not back before September 2020 and Year 6 only in part from 1 June;
# closed again from 5 January to 8 March 2021). School referrals fell then and rose after.
SCHOOL_CLOSURE_MONTHS = ["2020-04", "2020-05", "2020-06", "2020-07", "2021-01", "2021-02"]
# The first two months back after each closure (September-October 2020, March-April 2021),
# when referrals rose above their usual level as children were seen again.
SCHOOL_REOPENING_MONTHS = ["2020-09", "2020-10", "2021-03", "2021-04"]


def month_numbers(year_months: list[str]) -> list[int]:
    """'YYYY-MM' as months since year 0 (year * 12 + month - 1), the month index used throughout."""
    return [int(y) * 12 + int(m) - 1 for y, m in (c.split("-") for c in year_months)]


ETHNICITY_GROUPS = ["White", "Mixed", "Asian", "Black", "Other", "Unknown"]


def ethnicity_group(code) -> str:
    """CIN/school census ethnicity code -> 2021 Census group: W* White, M* Mixed, A* and CHNE
    Asian, B* Black, OOTH Other; REFU (refused), NOBT (not obtained) and missing Unknown."""
    if not isinstance(code, str) or not code.strip():
        return "Unknown"
    c = code.strip().upper()
    if c in {"REFU", "NOBT"}:
        return "Unknown"
    if c == "CHNE":
        return "Asian"
    return {"W": "White", "M": "Mixed", "A": "Asian", "B": "Black", "O": "Other"}.get(c[0],
                                                                                        "Unknown")


MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

# --- the social care journey -----------------------------------------------------------------

# Stages of the journey, keyed by the canonical tables' event_type: the statutory ones in the
# order the case-management system records them, then early help (before or beside them).
STAGES = {
    "contact": "Contact",
    "referral": "Referral",
    "assessment": "Assessment",
    "s47": "S47 enquiry",
    "icpc": "ICPC",
    "cin_plan": "CIN plan",
    "cp_plan": "CP plan",
    "cla_episode": "Looked after",
    "early_help": "Early help",
}

# CIN census referral sources: code -> (DfE description, publication group key).
REFERRAL_SOURCES = {
    "1A": ("Individual: family member/relative/carer", "individual"),
    "1B": ("Individual: acquaintance", "individual"),
    "1C": ("Individual: self", "individual"),
    "1D": ("Individual: other", "individual"),
    "2A": ("Schools", "schools"),
    "2B": ("Education services", "other"),
    "3A": ("Health services: GP", "health"),
    "3B": ("Health services: health visitor", "health"),
    "3C": ("Health services: school nurse", "health"),
    "3D": ("Health services: other primary health services", "health"),
    "3E": ("Health services: A&E", "health"),
    "3F": ("Health services: other", "health"),
    "4": ("Housing", "other"),
    "5A": ("LA services: social care", "la_services"),
    "5B": ("LA services: other internal", "la_services"),
    "5C": ("LA services: external", "la_services"),
    # early help: an LA service, though DfE's publication does not place it
    "5D": ("LA services: early help", "la_services"),
    "6": ("Police", "police"),
    "7": ("Other legal agency", "other"),
    "8": ("Other", "other"),
    "9": ("Anonymous", "unknown"),
    "10": ("Unknown", "unknown"),
}
# The groups DfE publishes referral sources in, in its order: key (params) -> name (tables).
REFERRAL_SOURCE_GROUPS = {
    "police": "Police", "schools": "Schools", "health": "Health", "la_services": "LA services",
    "individual": "Individual", "other": "Other", "unknown": "Unknown",
}


def referral_source_group(codes: pd.Series) -> pd.Series:
    """CIN referral source code ("02A", "2a", "5D") -> publication group name; else Unknown."""
    c = codes.astype("string").str.strip().str.upper().str.lstrip("0")
    names = {code: REFERRAL_SOURCE_GROUPS[group] for code, (_, group) in REFERRAL_SOURCES.items()}
    return c.map(names).fillna("Unknown")


# Factors identified at the end of assessment (CIN census), by their number; the letter after
# it (4A child, 4B parent, 4C another person) says whose factor it is.
ASSESSMENT_FACTORS = {
    "1": "Alcohol misuse", "2": "Drug misuse", "3": "Domestic abuse", "4": "Mental health",
    "5": "Learning disability", "6": "Physical disability or illness", "7": "Young carer",
    "8": "Privately fostered", "9": "Unaccompanied asylum seeker", "10": "Going missing",
    "11": "Child sexual exploitation", "12": "Trafficking", "13": "Gangs",
    "14": "Socially unacceptable behaviour", "15": "Self-harm", "16": "Neglect",
    "17": "Emotional abuse", "18": "Physical abuse", "19": "Sexual abuse", "20": "Other",
    "21": "No factors identified", "22": "Female genital mutilation",
    "23": "Abuse linked to faith or belief", "24": "Child criminal exploitation",
}
