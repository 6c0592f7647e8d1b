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

# csc-validator-be-903 0.1.17: rule 231 (2024-25) reads a header column, UASC_STATUS, that the
# validator's own file reader does not accept, so the rule cannot run on any valid upload.
CANNOT_RUN = {"231"}


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
    results = []
    for path, ruleset in json.loads(sys.argv[1]):
        root = ET.parse(path).getroot()
        data = cin_validator.process_data(cin_validator.convert_data(root))
        registry = importlib.import_module(f"cin_validator.rules.{ruleset}").registry
        df = cin_validator.CinValidator(data, registry).full_issue_df
        results.append([{"rule": str(r.get("rule_code")), "type": str(r.get("rule_type")),
                         "child": str(r.get("LAchildID", "")),
                         "message": str(r.get("rule_description", ""))[:200]}
                        for _, r in df.iterrows()])
    print(json.dumps(results))
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
    import pathlib
    results = []
    for folder, year, rules_year, la in json.loads(sys.argv[1]):
        ruleset = f"lac{int(rules_year) - 1}_{str(rules_year)[2:]}"
        registry = importlib.import_module(f"lac_validator.rules.{ruleset}").registry
        paths = sorted(str(p) for p in pathlib.Path(folder).glob("*.csv"))
        files = process_uploaded_files({"This year": paths})
        v = LacValidator(metadata={"collectionYear": str(year), "localAuthority": la},
                         files=files, registry=registry, selected_rules=None)
        report = Report(v.ds_results, registry)
        rows = report.report
        out = [{"rule": str(r["Code"]), "count": int(r["Count"]),
                "message": str(r["Description"]),
                "where": sorted({f"{t}:{c}" for t, c in
                                 rows.loc[rows["ERR_" + r["Code"]] == True, ["Table", "CHILD"]]
                                 .itertuples(index=False)})}
               for _, r in report.error_report.iterrows() if r["Count"] > 0]
        out += [{"rule": str(code), "count": -1, "message": "rule failed to run", "where": []}
                for code in v.fails]
        results.append(out)
    print(json.dumps(results))
""")


def _run(script: str, jobs: list) -> list[list[dict]]:
    py = venv_python()
    res = subprocess.run([str(py), "-c", script, json.dumps(jobs)], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"validator failed: {res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def validate_cin(files: dict[int, Path]) -> dict[int, list[dict]]:
    """Issues (errors and queries; query codes end in Q) the CIN validator reports for each
    collection year's census file, in one run of the validators' interpreter."""
    return validate_cin_runs({"": files})[""]


def validate_cin_runs(runs: dict) -> dict:
    """validate_cin for many runs (say sites and seeds) at once, {run: {year: file}} to
    {run: {year: issues}}: one start of the validators' interpreter, which takes longer than
    checking a small file, serves them all."""
    keys = [(run, y) for run in runs for y in sorted(runs[run])]
    jobs = [[str(runs[run][y]), f"cin{ruleset_year(y) - 1}_{str(ruleset_year(y))[2:]}"]
            for run, y in keys]
    return _by_run(runs, keys, _run(CIN_SCRIPT, jobs))


def validate_903(folders: dict[int, Path], la_code: str) -> dict[int, list[dict]]:
    """Rules the 903 validator reports broken (rule, count, message, where: table:child) for
    each year's CSVs."""
    return validate_903_runs({"": (folders, la_code)})[""]


def validate_903_runs(runs: dict) -> dict:
    """validate_903 for many runs at once, {run: (folders by year, LA code)} to
    {run: {year: broken rules}}, in one start of the validators' interpreter."""
    keys = [(run, y) for run in runs for y in sorted(runs[run][0])]
    jobs = [[str(runs[run][0][y]), y, ruleset_year(y), runs[run][1]] for run, y in keys]
    return _by_run(runs, keys, _run(LAC_SCRIPT, jobs))


def _by_run(runs: dict, keys: list, results: list) -> dict:
    out = {run: {} for run in runs}
    for (run, year), issues in zip(keys, results):
        out[run][year] = issues
    return out
