"""Run the DfE validators (csc-validator-be-cin, csc-validator-be-903) from their own virtual
environment: they pin pandas < 2, so they cannot share the project's. The venv is made in
.venv-validators/ at the project root on first use; each check runs a small script there and
returns the issues as JSON-ready dicts."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from hampshire_research.paths import project_root

PACKAGES = ["csc-validator-be-cin", "csc-validator-be-903"]


def venv_python() -> Path:
    """The validators' interpreter, creating the venv and installing them if needed."""
    venv = project_root() / ".venv-validators"
    py = venv / "bin" / "python"
    if not (py.exists() and _has_packages(py)):
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", *PACKAGES], check=True)
    return py


def _has_packages(py: Path) -> bool:
    code = "import cin_validator, lac_validator"
    return subprocess.run([str(py), "-c", code], capture_output=True).returncode == 0


def ruleset_year(collection_year: int) -> int:
    """Years before 2022-23 are checked under the 2022-23 rules (the oldest ruleset shipped)."""
    return max(collection_year, 2023)


CIN_SCRIPT = textwrap.dedent("""
    import importlib, json, sys, warnings
    import xml.etree.ElementTree as ET
    warnings.filterwarnings("ignore")
    from cin_validator import cin_validator
    path, ruleset = sys.argv[1], sys.argv[2]
    root = ET.parse(path).getroot()
    data = cin_validator.process_data(cin_validator.convert_data(root))
    registry = importlib.import_module(f"cin_validator.rules.{ruleset}").registry
    v = cin_validator.CinValidator(data, registry)
    df = v.full_issue_df
    out = []
    for _, r in df.iterrows():
        out.append({"rule": str(r.get("rule_code")), "type": str(r.get("rule_type")),
                    "child": str(r.get("child_id", r.get("LAchildID", ""))),
                    "tables": str(r.get("tables_affected", "")),
                    "columns": str(r.get("columns_affected", ""))})
    print(json.dumps(out))
""")

LAC_SCRIPT = textwrap.dedent("""
    import importlib, json, sys, warnings, logging
    warnings.filterwarnings("ignore")
    logging.disable(logging.CRITICAL)
    import pandas as pd
    import lac_validator.datastore as ds
    # The validator's authority lookup is the 2021 one, before North Yorkshire Council
    # (E06000065) replaced the county and its districts; add that one row so placements
    # in North Yorkshire resolve to their LA instead of "missing".
    if not (ds.la_df["LTLA21CD"] == "E06000065").any():
        ds.la_df = pd.concat([ds.la_df, pd.DataFrame([{"LTLA21CD": "E06000065",
                                                        "UTLA21CD": "E06000065"}])],
                             ignore_index=True)
    from lac_validator.lac_validator import LacValidator
    from lac_validator.report import Report
    from lac_validator.utils import process_uploaded_files
    folder, year, rules_year, la = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    ruleset = f"lac{int(rules_year) - 1}_{str(rules_year)[2:]}"
    registry = importlib.import_module(f"lac_validator.rules.{ruleset}").registry
    import pathlib
    paths = sorted(str(p) for p in pathlib.Path(folder).glob("*.csv"))
    files = process_uploaded_files({"This year": paths})
    v = LacValidator(metadata={"collectionYear": year, "localAuthority": la}, files=files,
                     registry=registry, selected_rules=None)
    report = Report(v.ds_results, registry).error_report
    out = [{"rule": str(r["Code"]), "count": int(r["Count"]), "message": str(r["Description"])}
           for _, r in report.iterrows() if r["Count"] > 0]
    out += [{"rule": str(code), "count": -1, "message": "rule failed to run"} for code in v.fails]
    print(json.dumps(out))
""")


def _run(script: str, *args: str) -> list[dict]:
    py = venv_python()
    res = subprocess.run([str(py), "-c", script, *args], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"validator failed: {res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def validate_cin(xml_path: Path, collection_year: int) -> list[dict]:
    """Issues the CIN validator reports for one census file (errors and queries)."""
    y = ruleset_year(collection_year)
    return _run(CIN_SCRIPT, str(xml_path), f"cin{y - 1}_{str(y)[2:]}")


def validate_903(folder: Path, collection_year: int, la_code: str) -> list[dict]:
    """Rules the 903 validator reports broken for one year's CSVs (rule, count, message)."""
    return _run(LAC_SCRIPT, str(folder), str(collection_year), str(ruleset_year(collection_year)),
                la_code)
