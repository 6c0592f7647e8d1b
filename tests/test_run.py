"""`run` for every params file into a temporary folder: executed notebooks and a manifest."""

import json
import os

import nbformat
import pytest

from hampshire_research.params import load_site, site_ids
from hampshire_research.run import input_digest, read_manifests, run_site


@pytest.mark.parametrize("site", site_ids())
def test_run_writes_the_executed_notebook_and_manifest(site, tmp_path):
    params = load_site(site)
    result = run_site(params, "01_*.ipynb", reports_root=tmp_path, derived_root=tmp_path / "d",
                      log=lambda m: None)
    assert [r.status for r in result.runs] == ["ok"]
    executed = nbformat.read(tmp_path / site / "01_site_profile.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert f'site = "{site}"' in injected[0].source
    assert f'data_dir = "data/synthetic/{site}"' in injected[0].source
    assert executed.cells[0].source.startswith(f"# Site profile — {params.display_name}\n\n")
    # the page names the site and says the data is synthetic
    text = "".join(o.get("data", {}).get("text/markdown", "") for c in executed.cells
                   for o in c.get("outputs", []))
    assert params.display_name in text and "Synthetic data" in text

    manifest = json.loads((tmp_path / site / "manifest.json").read_text())
    assert manifest["params_hash"] == params.digest()
    assert manifest["synthetic"] is True
    assert manifest["package_versions"]["splink"].startswith("5.")
    assert len(manifest["git_commit"]) >= 40
    assert "truth/linkage_key.csv" not in manifest["input_files"]
    assert any(f.startswith("cin_census/") for f in manifest["input_files"])
    assert manifest["notebooks"][0]["seconds"] > 0


def test_same_inputs_give_the_same_input_digest_hashed_once(tmp_path, monkeypatch):
    from hampshire_research import build

    hashed = []
    real = build._sha256
    monkeypatch.setattr(build, "_sha256", lambda p: hashed.append(p) or real(p))
    manifests = {}
    for name in ["a", "b"]:
        run_site(load_site("north_yorkshire"), "01_*.ipynb", reports_root=tmp_path / name,
                 derived_root=tmp_path / "derived", log=lambda m: None)
        manifests[name] = read_manifests(["north_yorkshire"], tmp_path / name)["north_yorkshire"]
    assert input_digest(manifests["a"]) == input_digest(manifests["b"])
    assert manifests["a"]["input_files"] == manifests["b"]["input_files"]
    # the build hashed each input file once; the second run and the manifests reused them
    assert len(hashed) == len(set(hashed)) >= len(manifests["a"]["input_files"])


def test_the_cross_site_manifest_lists_each_notebook_before_the_next_runs(tmp_path, monkeypatch,
                                                                          notebook_factory):
    from hampshire_research import run

    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    cross = 'sites = []\nreports_root = ""'
    notebook_factory(nbs / "05_first.ipynb", "x = 1", parameters=cross)
    notebook_factory(nbs / "09_last.ipynb", "import json, pathlib\n"
                     "m = json.loads((pathlib.Path(reports_root) / 'compare' / 'manifest.json')"
                     ".read_text())\nassert [n['notebook'] for n in m['notebooks']] == "
                     "['05_first.ipynb'], m", parameters=cross)
    monkeypatch.setattr(run, "notebooks_dir", lambda: nbs)
    root = tmp_path / "reports"
    (root / "hampshire").mkdir(parents=True)
    (root / "hampshire" / "manifest.json").write_text("{}")
    bin_dir = tmp_path / "bin"  # a stand-in quarto that reports its version
    bin_dir.mkdir()
    (bin_dir / "quarto").write_text("#!/bin/sh\necho 1.7.34\n")
    (bin_dir / "quarto").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")

    result = run.run_cross_site(["hampshire"], root, log=lambda m: None)
    assert [r.status for r in result.runs] == ["ok", "ok"], [r.error for r in result.runs]
    manifest = read_manifests(["compare"], root)["compare"]
    assert [n["notebook"] for n in manifest["notebooks"]] == ["05_first.ipynb", "09_last.ipynb"]
    assert manifest["quarto_version"] == "1.7.34" and manifest["sites"] == ["hampshire"]

    monkeypatch.setattr(run.shutil, "which", lambda name: None)
    assert run.quarto_version() is None
