"""Field checks and pseudonymisation."""

from __future__ import annotations

import pandas as pd
import pytest

from hampshire_research.errors import ProjectError
from hampshire_research.sources.checks import (
    nhs_check,
    postcode,
    sex_code,
    upn_check,
    yes_no,
)
from hampshire_research.sources.pseudonymise import KEY_ENV, pseudonymise_tables, tokens


def test_upn_check_letter():
    norm, reason = upn_check(pd.Series(["B801200005001", "b801 2000 05001", "A801200005001",
                                        "B80120000500", "", "UN2", "H801200005O01", None]))
    assert norm.tolist()[:2] == ["B801200005001", "B801200005001"]
    assert reason.tolist() == [None, None, "UPN check letter fails", "UPN malformed", None,
                               None, "UPN malformed", None]


def test_temporary_upn_with_final_letter():
    # body 80120000500 + final letter A (value 0): sum = 8*2+1*4+2*5+5*10 = 80 -> 80 % 23 = 11 -> M
    _, reason = upn_check(pd.Series(["M80120000500A", "B80120000500A"]))
    assert reason.tolist() == [None, "UPN check letter fails"]


def test_nhs_number_modulus_11():
    norm, reason = nhs_check(pd.Series(["999 000 0018", "9990000019", "943 476 5919",
                                        "123", ""]))
    assert norm.tolist()[0] == "9990000018"
    assert reason.tolist() == [None, "NHS number fails modulus 11", None, "NHS number malformed",
                               None]


def test_codes():
    assert sex_code(pd.Series(["m", "2", "Female", "0", "Q"]))[0].tolist() == [
        "M", "F", "F", "U", "U"]
    assert sex_code(pd.Series(["Q"]))[1].tolist() == [True]
    assert yes_no(pd.Series(["true", "N", "1", "", "maybe"]))[0].tolist() == [
        True, False, True, pd.NA, pd.NA]
    pc, bad = postcode(pd.Series(["so238aa", "SO23  8AA", "SO23", ""]))
    assert pc.tolist()[:2] == ["SO23 8AA", "SO23 8AA"] and bad.tolist() == [
        False, False, True, False]


def test_pseudonymisation_needs_a_key(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(ProjectError, match=KEY_ENV):
        tokens(pd.Series(["x"]))
    monkeypatch.setenv(KEY_ENV, "short")
    with pytest.raises(ProjectError, match="too short"):
        tokens(pd.Series(["x"]))


def test_same_person_same_token_after_normalising(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "a-test-key-of-some-length")
    t = tokens(pd.Series(["Smith", " smith", "SMI TH", "Smyth", None]))
    assert t[0] == t[1] == t[2] and t[0] != t[3] and t[4] is None
    assert len(t[0]) == 32 and "SMITH" not in t[0]
    monkeypatch.setenv(KEY_ENV, "another-test-key-entirely")
    assert tokens(pd.Series(["Smith"]))[0] != t[0]


def test_pseudonymised_tables_still_join(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "a-test-key-of-some-length")
    persons = pd.DataFrame({"record_id": ["csc:P1", "early_help:E1"],
                            "source": ["csc", "early_help"],
                            "first_name": ["Amy", "amy"], "surname": ["Smith", "Smith"],
                            "dob": pd.to_datetime(["2011-05-03", "2011-05-03"]),
                            "sex": ["F", "F"], "postcode": ["SO23 8AA", "SO238AA"],
                            "upn": [None, "B801200005001"], "nhs_number": ["9990000018", None]})
    events = pd.DataFrame({"event_id": ["csc:referral:R1"], "record_id": ["csc:P1"],
                           "episode_id": ["R1"]})
    terms = pd.DataFrame({"record_id": ["school_census:B801200005001"],
                          "upn": ["B801200005001"], "postcode": ["SO23 8AA"]})
    out = pseudonymise_tables({"persons": persons, "events": events, "school_terms": terms})
    p = out["persons"]
    assert p["record_id"].str.startswith(("csc:", "early_help:")).all()
    assert p["first_name"].nunique() == 1 and p["postcode"].nunique() == 1
    assert p["dob"].tolist() == [pd.Timestamp("2011-05-01")] * 2
    assert p["dob_token"].nunique() == 1
    assert out["events"]["record_id"].iloc[0] == p["record_id"].iloc[0]
    assert out["school_terms"]["upn"].iloc[0] == p["upn"].iloc[1]
    text = out["persons"].to_csv() + out["events"].to_csv() + out["school_terms"].to_csv()
    for secret in ("Amy", "Smith", "SO23", "B801200005001", "9990000018", "P1", "R1"):
        assert secret not in text
