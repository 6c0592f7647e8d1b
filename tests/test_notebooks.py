"""Every notebook has the shape the runner, nbval and Quarto rely on."""

import re

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
    declared = set(notebook_parameters(path))
    assert declared in ({"site", "data_dir", "reports_root", "derived_root"},
                        {"sites", "reports_root"})
    # committed stripped: no outputs, no kernelspec (nbstripout)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert "kernelspec" not in nb.metadata
    # no site is named in a notebook: everything site-specific comes from params
    text = "\n".join(c.source for c in nb.cells)
    assert "Hampshire" not in text and "North Yorkshire" not in text
    # raw data enters only through the package (sources/linkage), never read here directly
    assert "read_csv(" not in text and "truth/" not in text


# every way a notebook publishes: the gate itself, figures, and each analysis' registry
PUBLISHING = re.compile(r"\b((?:[a-z_]+\.)?publish(?:_table|_coverage)?|save_figure)\(")


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p not in cross_site_notebooks()],
                         ids=lambda p: p.name)
def test_per_site_notebooks_write_where_they_are_told(path):
    """out_dir (the site's reports folder of this run) right after the params are loaded,
    and passed to every call that publishes: nothing lands in the default reports/ when
    the run was sent elsewhere."""
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    setup = code[1]
    assert "params = load_site(site)\nout_dir = paths.reports_dir(site, reports_root)\n" in setup
    text = "\n".join(code)
    calls = [m.start() for m in PUBLISHING.finditer(text)]
    for start in calls:
        depth, end = 0, text.index("(", start)
        while depth or end == text.index("(", start):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        assert "out_dir=out_dir" in text[start:end], text[start:end][:80]
