"""Every notebook has the shape the runner, nbval and Quarto rely on."""

import nbformat
import pytest

from hampshire_research.run import cross_site_notebooks, notebook_parameters, notebooks_dir

NOTEBOOKS = sorted(notebooks_dir().glob("*.ipynb"))


def test_notebooks_are_per_site_or_cross_site():
    assert len(NOTEBOOKS) >= 9
    cross = {p.name for p in cross_site_notebooks()}
    assert cross == {"05_cross_site.ipynb", "08_dashboard_compare.ipynb",
                     "09_reproducibility.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_shape(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    # a title: a markdown heading, or Quarto front matter for the dashboards
    assert (first.cell_type == "markdown" and first.source.startswith("# ")) or \
        (first.cell_type == "raw" and "title:" in first.source and "format: dashboard" in first.source)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"]
    assert set(notebook_parameters(path)) in ({"site", "data_dir"}, {"sites", "reports_root"})
    # committed stripped: no outputs, no kernelspec (nbstripout)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert "kernelspec" not in nb.metadata
    # no site is named in a notebook: everything site-specific comes from params
    text = "\n".join(c.source for c in nb.cells)
    assert "Hampshire" not in text and "North Yorkshire" not in text
    # raw data enters only through the package (sources/linkage), never read here directly
    assert "read_csv(" not in text and "truth/" not in text
