"""The command line: one-line errors with exit status 2, notebook failures with status 1."""

import json
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from hampshire_research import cli, run
from hampshire_research.params import load_site


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "hampshire_research", *args],
                          capture_output=True, text=True)


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


def test_preview_without_a_rendered_site_says_how_to_make_one(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "project_root", lambda: tmp_path)
    assert cli.main(["preview", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "hampshire-research render" in err and str(tmp_path / "_site") in err
    assert err.count("\n") == 1


def test_preview_serves_the_site_on_localhost(tmp_path):
    (tmp_path / "index.html").write_text("<title>Home</title>", encoding="utf-8")
    with cli.site_server(tmp_path, 0) as server:  # port 0: a free one
        assert server.server_address[0] == "127.0.0.1"
        thread = threading.Thread(target=server.serve_forever)
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_port}/index.html"
            with urllib.request.urlopen(url, timeout=10) as page:
                assert page.status == 200 and page.read() == b"<title>Home</title>"
        finally:
            server.shutdown()
            thread.join()


def test_a_failing_notebook_names_itself_and_its_cell(tmp_path, monkeypatch, capsys,
                                                      notebook_factory):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    notebook_factory(nbs / "01_fine.ipynb", "x = 1")
    notebook_factory(nbs / "02_broken.ipynb", "y = 2", "raise ValueError('no referrals file')")
    notebook_factory(nbs / "03_after.ipynb", "z = 3")
    monkeypatch.setattr(run, "notebooks_dir", lambda: nbs)
    (tmp_path / "data").mkdir()
    monkeypatch.setattr(run, "build_tables", lambda params, data, **kw: run.Built(
        params.site, tmp_path, tmp_path / "data", {}, "duckdb"))
    assert cli.main(["run", "--site", "hampshire", "--data", str(tmp_path / "data"),
                     "--reports", str(tmp_path / "reports")]) == 1
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


def _records(stdout: str) -> int:
    return int(re.search(r"([\d,]+) records ->", stdout).group(1).replace(",", ""))


@pytest.mark.slow
def test_validate_link_run_validate_and_link_once_and_link_data_links_that_data(tmp_path):
    site = "north_yorkshire"
    derived, reports = str(tmp_path / "derived"), str(tmp_path / "reports")
    done = _cli("validate", "--site", site, "--derived", derived)
    assert done.returncode == 0, done.stderr
    assert "validating: none built yet" in done.stderr and "all files: read" in done.stdout
    done = _cli("link", "--site", site, "--derived", derived)
    assert done.returncode == 0, done.stderr
    assert "reused canonical tables (inputs, params and code unchanged)" in done.stderr
    assert "linking (duckdb): none built yet" in done.stderr
    assert "\n  upn: " in done.stdout.split("blocking rule:")[1]  # each rule's pairs, printed
    sample = len((load_site(site).data_path / "truth" / "linkage_key.csv").read_text()
                 .splitlines()) - 1  # one row per record
    assert _records(done.stdout) == sample
    done = _cli("run", "--site", site, "--notebooks", "01_*.ipynb", "--derived", derived,
                "--reports", reports)
    assert done.returncode == 0, done.stderr
    assert "reused canonical tables" in done.stderr and "reused linked tables" in done.stderr
    assert "validating" not in done.stderr and "linking" not in done.stderr
    manifest = json.loads((tmp_path / "reports" / site / "manifest.json").read_text())
    assert manifest["notebooks"][0]["status"] == "ok"

    # --data links that folder's records, validating them first, never the tables before
    tiny = Path(__file__).parent / "fixtures" / "sources" / "tiny_site"
    done = _cli("link", "--site", site, "--data", str(tiny), "--derived", derived)
    assert done.returncode == 0, done.stderr
    assert "validating: built from other data" in done.stderr
    persons = pd.read_parquet(tmp_path / "derived" / site / "canonical" / "persons.parquet")
    assert _records(done.stdout) == len(persons) == 12
    done = _cli("link", "--site", site, "--derived", derived)
    assert _records(done.stdout) == sample
    f1 = float(re.search(r"pairwise precision [\d.]+ recall [\d.]+ F1 ([\d.]+)",
                         done.stdout).group(1))
    assert f1 > 0.9


def test_run_takes_the_checks_and_its_notebooks_read_the_tables_it_built(
        tmp_path, monkeypatch, capsys, notebook_factory):
    site = tmp_path / "site"
    shutil.copytree(Path(__file__).parent / "fixtures" / "sources" / "tiny_site", site)
    notes = site / "case_notes" / "case_notes.csv"
    notes.write_text(notes.read_text().splitlines()[0] + "\n")  # the header alone
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    notebook_factory(nbs / "01_tables.ipynb",  # as the site's notebooks build their tables
                     "from hampshire_research.build import build_site\n"
                     "from hampshire_research.params import load_site\n"
                     "tables = build_site(load_site(site), data_dir, derived_root=derived_root)\n"
                     "assert len(tables['persons'])")
    monkeypatch.setattr(run, "notebooks_dir", lambda: nbs)
    args = ["run", "--site", "hampshire", "--data", str(site), "--derived",
            str(tmp_path / "derived"), "--reports", str(tmp_path / "reports")]
    assert cli.main(args) == 2
    assert "source case_notes is empty" in capsys.readouterr().err
    assert cli.main([*args, "--allow-empty"]) == 0
    manifest = json.loads((tmp_path / "reports" / "hampshire" / "manifest.json").read_text())
    assert [n["status"] for n in manifest["notebooks"]] == ["ok"]


def test_all_passes_the_checks_to_every_build(monkeypatch):
    from hampshire_research import build

    seen = []
    monkeypatch.setattr(build, "build_tables", lambda params, data, **kw: seen.append(kw) or
                        run.Built(params.site, Path(), Path(data), {}, "duckdb"))
    monkeypatch.setattr(run, "run_site", lambda *a, **kw: seen.append(kw) or run.RunResult("x"))
    monkeypatch.setattr(run, "run_cross_site", lambda *a, **kw: run.RunResult("compare"))
    monkeypatch.setattr(cli.shutil, "which", lambda name: None)
    assert cli.main(["all", "--min-kept", "0.2", "--allow-empty"]) == 0
    assert len(seen) == 2 * len(cli.site_ids())
    assert all(kw["min_kept"] == 0.2 and kw["allow_empty"] for kw in seen)
