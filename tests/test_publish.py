"""publish: protected tables on disk, and the identifier scan that guards every page."""

import nbformat
import pandas as pd
from nbformat.v4 import new_code_cell, new_notebook, new_output

from hampshire_research.params import load_site
from hampshire_research.publish import SYNTHETIC_EXAMPLE_TAG, publish_table, read_table, scan_for_identifiers

PERSONS = pd.DataFrame({
    "first_name": ["Ellie", "Jo"], "surname": ["Smith", "O'Neill"],
    "upn": ["A850123456789", None], "nhs_number": ["9990001234", None],
    "dob": ["2012-03-04", "2013-01-01"], "postcode": ["SO23 8AB", None],
})


def test_publish_table_writes_only_the_protected_table(tmp_path):
    params = load_site("hampshire")
    table = pd.DataFrame({"source": ["police", "schools", "health"], "referrals": [3, 40, 12]})
    table["percent"] = 100 * table["referrals"] / table["referrals"].sum()
    shown = publish_table(table, "t", params, counts=["referrals"], derived={"percent": "referrals"},
                          within=[], out_dir=tmp_path)
    on_disk = read_table("", "t", reports_root=tmp_path)
    assert shown["referrals"].tolist() == ["c", 40, 12]
    assert on_disk["referrals"].tolist() == ["c", "40", "12"]
    assert on_disk["percent"].iloc[0] == "c"


def test_scan_finds_every_kind_of_identifier(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("Ellie Smith, born 04/03/2012, lives at SO238AB; NHS 999 000 1234; "
                    "UPN A850123456789; and Jo O'Neill.", encoding="utf-8")
    kinds = {kind for _, kind, _ in scan_for_identifiers([page], PERSONS)}
    assert kinds == {"name", "dob", "postcode", "nhs_number", "upn"}


def test_scan_ignores_first_names_alone_and_aggregate_numbers(tmp_path):
    page = tmp_path / "table.csv"
    page.write_text("group,n\nEllie,12\nSmith,9990\n2012,c\n", encoding="utf-8")
    assert scan_for_identifiers([page], PERSONS) == []


def test_synthetic_row_level_cells_are_skipped_only_when_allowed(tmp_path):
    nb = new_notebook()
    cell = new_code_cell("show_timeline()")
    cell.metadata["tags"] = [SYNTHETIC_EXAMPLE_TAG]
    cell.outputs = [new_output("stream", name="stdout", text="Ellie Smith 2012-03-04")]
    nb.cells.append(cell)
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert len(scan_for_identifiers([path], PERSONS)) == 2
    assert scan_for_identifiers([path], PERSONS, allow_synthetic_examples=True) == []
