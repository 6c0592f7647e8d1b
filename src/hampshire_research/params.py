"""Site parameters: one YAML file per site, validated into one typed object on load.

Every site-specific value lives in params/<site>.yaml; nothing site-specific is hard-coded.
A missing, unknown or mistyped key is one ProjectError naming the key and the file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .errors import ProjectError
from .paths import params_dir, project_root
from .school_calendar import SchoolCalendar
from .vocabulary import AGE_BAND_NAMES, REFERRAL_SOURCE_GROUPS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class District(_Strict):
    name: str
    ons_code: str = Field(pattern=r"^E0[6-8]\d{6}$")
    postcode_directory_code: str = Field(pattern=r"^E0[6-8]\d{6}$")
    outcodes: list[str] = []  # when the directory code covers several districts


class Population(_Strict):
    source: str
    year: int
    by_age: dict[int, int]

    @field_validator("by_age")
    @classmethod
    def _all_ages(cls, v: dict[int, int]) -> dict[int, int]:
        if sorted(v) != list(range(18)):
            raise ValueError("needs every single year of age 0-17")
        return v

    @property
    def total(self) -> int:
        return sum(self.by_age.values())


class Ethnicity(_Strict):
    source: str
    shares: dict[str, float]

    @field_validator("shares")
    @classmethod
    def _sums_to_one(cls, v: dict[str, float]) -> dict[str, float]:
        if abs(sum(v.values()) - 1) > 1e-6:
            raise ValueError(f"shares sum to {sum(v.values()):.4f}, not 1")
        return v


class StudyWindow(_Strict):
    collection_years: list[int]
    academic_years: list[str]

    @model_validator(mode="after")
    def _consistent(self) -> StudyWindow:
        for ay in self.academic_years:
            start, end = ay.split("/")
            if int(end) != (int(start) + 1) % 100:
                raise ValueError(f"academic year {ay!r} is not of the form 2019/20")
        starts = [int(a[:4]) for a in self.academic_years]
        if starts != list(range(starts[0], starts[0] + len(starts))):
            raise ValueError("academic_years must be consecutive")
        cys = self.collection_years
        if cys != list(range(cys[0], cys[0] + len(cys))):
            raise ValueError("collection_years must be consecutive")
        return self

    @property
    def first_academic_year(self) -> int:
        """Calendar year in which the first academic year starts (2019 for 2019/20)."""
        return int(self.academic_years[0][:4])

    @property
    def last_academic_year(self) -> int:
        return int(self.academic_years[-1][:4])


class Cohort(_Strict):
    ncy: list[int]
    transfer_ncy: int
    months_before: int
    months_after: int


class Sourced(_Strict):
    source: str


class ReferralRates(Sourced):
    by_age_band: dict[str, float]

    @field_validator("by_age_band")
    @classmethod
    def _every_band(cls, v: dict[str, float]) -> dict[str, float]:
        if sorted(v) != sorted(AGE_BAND_NAMES):
            raise ValueError(f"needs the age bands {AGE_BAND_NAMES}")
        return v


class ReferralSources(Sourced):
    shares: dict[Literal[tuple(REFERRAL_SOURCE_GROUPS)], float]


class SourcedShare(Sourced):
    share: float = Field(gt=0, lt=1)


class Effects(_Strict):
    year7_first_term_rr: float
    fsm_rr: float
    sen_support_rr: float
    ehcp_rr: float
    persistent_absence_rr: float
    suspension_rr: float
    early_help_rr: float
    school_holiday_rr: float
    autumn_term_rr: float
    school_closure_rr: float
    school_reopening_rr: float


class Calibration(_Strict):
    referrals_per_10k: ReferralRates
    re_referral_12m: float
    referral_sources: ReferralSources
    referral_nfa_share: float
    cin_per_10k: float
    cp_per_10k: float
    cla_per_10k: float
    ever_in_need_6y: SourcedShare  # children ever 0-17 in six years who were in need at some point
    early_help_per_10k: float
    fsm: float
    ehcp: float
    sen_support: float
    persistent_absence: float
    suspensions_per_100: float
    permanent_exclusions_per_100: float
    effects: Effects


class SiteParams(_Strict):
    site: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    display_name: str
    la_number: int = Field(ge=100, le=999)
    ons_code: str = Field(pattern=r"^E(06|08|09|10)\d{6}$")
    region: str
    districts: list[District]
    postcode_areas: list[str]
    population: Population
    ethnicity: Ethnicity
    study_window: StudyWindow
    cohort: Cohort
    calibration: Calibration
    disclosure_profile: Literal["dfe", "ons"]
    # optional: the LA's term dates (default: a typical county calendar, see school_calendar)
    school_calendar: SchoolCalendar = SchoolCalendar()
    recording_notes: list[str]  # known breaks in recording, for reading comparisons
    min_kept_share: float = Field(gt=0, le=1)  # validate fails when a file keeps less
    seed: int
    data_dir: Path

    @property
    def data_path(self) -> Path:
        """data_dir resolved against the project root."""
        return self.data_dir if self.data_dir.is_absolute() else project_root() / self.data_dir

    def digest(self) -> str:
        """A short hash of the parameters, for the run manifest."""
        text = self.model_dump_json()
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def site_ids() -> list[str]:
    """The sites that have a params file."""
    return sorted(p.stem for p in params_dir().glob("*.yaml"))


def params_path(site: str | Path) -> Path:
    p = Path(site)
    if p.suffix in {".yaml", ".yml"}:
        return p
    return params_dir() / f"{site}.yaml"


def load_site(site: str | Path) -> SiteParams:
    """Load and validate a site's parameters from its id (``hampshire``) or a YAML path."""
    path = params_path(site)
    if not path.is_file():
        known = ", ".join(site_ids()) or "none"
        raise ProjectError(f"no parameters file (known sites: {known})", path=path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ProjectError(f"not valid YAML: {getattr(e, 'problem', e)}", path=path,
                           row=mark.line + 1 if mark else None) from None
    if not isinstance(raw, dict):
        raise ProjectError("expected a mapping of parameter names to values", path=path)
    try:
        return SiteParams.model_validate(raw)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            key = ".".join(str(x) for x in err["loc"]) or "(top level)"
            kind = {"extra_forbidden": "unknown key", "missing": "missing key"}.get(err["type"])
            problems.append(f"field {key!r}: {kind or 'bad value: ' + err['msg']}")
        raise ProjectError("; ".join(problems), path=path) from None


def resolve_data_dir(params: SiteParams, data_dir: str | Path = "") -> Path:
    """The data folder a notebook or command should read: the given one (relative paths
    from the project root), or the site's committed synthetic sample when empty."""
    if not str(data_dir):
        return params.data_path
    p = Path(data_dir)
    return p if p.is_absolute() else project_root() / p
