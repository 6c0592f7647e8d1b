"""The generator's own defaults: rates that are not site calibration figures (demography,
identity noise per source, case routes). Documented in reports/data_dictionary.qmd; written to
truth/parameters.json with every run so a test can check the data against them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Demography:
    house_move_rate: float = 0.08      # family house moves per year
    move_same_district: float = 0.8    # share of house moves within the same district
    move_in_share: float = 0.07        # families who arrive in the county during the window
    move_out_share: float = 0.07       # families who leave the county during the window
    family_event_rate: float = 0.05    # family events (separation, abuse incident, ...) per year
    state_school_share: float = 0.93   # children at a state school in the county (rest: independent/home)
    sixth_form_share: float = 0.45     # pupils staying at school for Years 12-13
    school_move_share: float = 0.04    # children with one mid-year school move (besides house moves)
    former_upn_share: float = 0.02     # pupils with a former UPN


@dataclass(frozen=True)
class SourceNoise:
    """How one source's identity fields differ from the truth (shares of that source's records)."""

    typo_forename: float = 0.0
    typo_surname: float = 0.0
    nickname: float = 0.0
    surname_change: float = 0.0       # a stepfamily or double-barrelled surname
    dob_day_month_swap: float = 0.0   # only where the day is 12 or less
    dob_off_by_days: float = 0.0
    upn_missing: float = 0.0
    upn_wrong: float = 0.0            # a valid-looking UPN of another child or a bad check letter
    nhs_missing: float = 0.0
    stale_postcode: float = 0.0       # previous address after a house move
    postcode_missing: float = 0.0
    duplicate_person: float = 0.0     # a second person record for the same child (CSC only)


@dataclass(frozen=True)
class Noise:
    school_census: SourceNoise = SourceNoise(typo_forename=0.002, typo_surname=0.002,
                                             surname_change=0.01, stale_postcode=0.03)
    early_help: SourceNoise = SourceNoise(typo_forename=0.03, typo_surname=0.03, nickname=0.12,
                                          surname_change=0.04, dob_day_month_swap=0.02,
                                          dob_off_by_days=0.02, upn_missing=0.80, upn_wrong=0.01,
                                          nhs_missing=0.85, stale_postcode=0.10,
                                          postcode_missing=0.05)
    csc: SourceNoise = SourceNoise(typo_forename=0.02, typo_surname=0.02, nickname=0.08,
                                   surname_change=0.05, dob_day_month_swap=0.01,
                                   dob_off_by_days=0.01, upn_missing=0.30, upn_wrong=0.01,
                                   nhs_missing=0.25, stale_postcode=0.08, duplicate_person=0.03)
    cin_census: SourceNoise = SourceNoise(upn_missing=0.25, upn_wrong=0.0)
    ssda903: SourceNoise = SourceNoise(upn_missing=0.10)


@dataclass(frozen=True)
class Routes:
    """What happens after a referral. Durations of CIN plans, CP plans and care are not here:
    they are solved from params.calibration (cin/cp/cla per 10,000) at run time."""

    assessed_to_s47: float = 0.30
    assessed_to_cin_plan: float = 0.26
    assessed_to_close_early_help: float = 0.14   # RC9; the rest close NFA after assessment (RC8)
    assessed_to_care: float = 0.04               # emergency entry to care from assessment
    s47_to_icpc: float = 0.50
    s47_no_icpc_to_cin_plan: float = 0.35
    icpc_to_cp_plan: float = 0.88
    cp_end_to_cin_plan: float = 0.45
    cp_end_to_care: float = 0.25
    assessment_days_mean: float = 27.0
    # A closed case not re-referred within 12 months is referred again later with this
    # probability (a chain, up to casework.CHAIN referrals): need recurs in the same families, so
    # about 1 child in 10 is in need over six years (params calibration.ever_in_need_6y), not 1 in 7.
    re_referral_later: float = 0.75
    re_referral_later_days: float = 240.0    # mean days beyond the 12 months to that referral
    family_event_rr: float = 3.0        # referral hazard for 6 months after a family event
    family_event_eh_rr: float = 2.0     # early help hazard likewise
    early_help_days_mean: float = 190.0
    early_help_after_days: int = 183    # early_help_rr applies during an episode and this long after
    suspension_after_days: int = 365    # suspension_rr applies this long after a suspension


@dataclass(frozen=True)
class Settings:
    burn_in_years: int = 8            # simulate from 8 years before the window so care loads are steady
    demography: Demography = field(default_factory=Demography)
    noise: Noise = field(default_factory=Noise)
    routes: Routes = field(default_factory=Routes)
    voice_gold_share: float = 0.4       # share of case notes with gold sentence codes

    def as_dict(self) -> dict:
        return asdict(self)


DEFAULTS = Settings()
