"""The command line: one-line errors with exit status 2, notebook failures with status 1."""

import json
import subprocess

import nbformat
import pytest

from hampshire_research import cli, run
from hampshire_research.params import load_site


def _cli(*args):
    return subprocess.run(["hampshire-research", *args], capture_output=True, text=True)


def test_sites_lists_both_sites_with_key_parameters():
    done = _cli("sites")
    assert done.returncode == 0
    assert "hampshire" in done.stdout and "LA 850" in done.stdout and "E10000014" in done.stdout
    assert "north_yorkshire" in done.stdout and "LA 815" in done.stdout


def test_missing_params_file_is_one_line_and_status_2():
    done = _cli("run", "--site", "atlantis")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert "atlantis.yaml" in done.stderr


def test_render_without_quarto_says_how_to_install(monkeypatch, capsys):
    monkeypatch.setattr(cli.shutil, "which", lambda name: None)
    assert cli.main(["render"]) == 2
    err = capsys.readouterr().err
    assert "conda" in err and "quarto-cli" in err and err.count("\n") == 1


def test_a_failing_notebook_names_itself_and_its_cell(tmp_path, monkeypatch, capsys,
                                                      notebook_factory):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    notebook_factory(nbs / "01_fine.ipynb", "x = 1")
    notebook_factory(nbs / "02_broken.ipynb", "y = 2", "raise ValueError('no referrals file')")
    notebook_factory(nbs / "03_after.ipynb", "z = 3")
    monkeypatch.setattr(run, "notebooks_dir", lambda: nbs)
    monkeypatch.setattr(run, "reports_dir", lambda site: tmp_path / "reports" / site)
    (tmp_path / "data").mkdir()
    assert cli.main(["run", "--site", "hampshire", "--data", str(tmp_path / "data")]) == 1
    err = capsys.readouterr().err
    assert "02_broken.ipynb" in err and "In [4] `raise ValueError" in err and "no referrals file" in err
    out = tmp_path / "reports" / "hampshire"
    # the failed notebook keeps its executed copy with the error; the others still ran
    assert {p.name for p in out.glob("*.ipynb")} == {"01_fine.ipynb", "02_broken.ipynb",
                                                     "03_after.ipynb"}
    broken = nbformat.read(out / "02_broken.ipynb", as_version=4)
    assert any(o.get("ename") == "ValueError" for c in broken.cells for o in c.get("outputs", []))
    manifest = json.loads((out / "manifest.json").read_text())
    assert [n["status"] for n in manifest["notebooks"]] == ["ok", "failed", "ok"]


def test_unknown_parameter_is_refused_before_running(tmp_path, notebook_factory):
    nb = notebook_factory(tmp_path / "n.ipynb", "pass", parameters='site = "x"')
    with pytest.raises(run.ProjectError, match="no parameter.*data_dir"):
        run.check_parameters(nb, {"site": "x", "data_dir": ""})


def test_bad_key_in_params_exits_2(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "params"
    broken.mkdir()
    text = open("params/hampshire.yaml", encoding="utf-8").read().replace("seed: 850", "sed: 850")
    (broken / "hampshire.yaml").write_text(text, encoding="utf-8")
    monkeypatch.setattr("hampshire_research.params.params_dir", lambda: broken)
    assert cli.main(["sites"]) == 2
    err = capsys.readouterr().err
    assert "hampshire.yaml" in err and "'sed'" in err and "unknown key" in err


def test_link_measures_quality_against_the_truth_of_the_data_it_linked(monkeypatch):
    """The truth key comes from --data (the data validated), never guessed from params."""
    seen = {}

    def fake_link_site(params, canonical, out, backend="duckdb", *, truth=None):
        seen["truth"] = truth
        return {}

    from hampshire_research import linkage
    monkeypatch.setattr(linkage, "link_site", fake_link_site)
    monkeypatch.setattr(linkage, "format_summary", lambda s: "")
    params = load_site("hampshire")
    cli.link(params, "duckdb", cli.Path("/elsewhere/full-scale"))
    assert str(seen["truth"]) == "/elsewhere/full-scale/truth/linkage_key.csv"
