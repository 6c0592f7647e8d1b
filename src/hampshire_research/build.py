"""One build step: a site's raw files validated into canonical tables, then linked and their
case notes coded, cached.

`build_site` is what notebooks and analyses call; the commands (validate, link, build, run,
all) go through `build_tables`, the same step without reading the frames back. Both keep
one stamp, <derived root>/<site>/build.json, and rebuild only what its key says is stale:

- canonical tables: the input files (truth/ aside), the site's parameters as loaded, and the
  code that shapes them (sources/ and every package module it imports);
- linked tables: the canonical key, the linkage code (linkage/ and what it imports; the
  plotting in linkage/report.py is not imported, so it is not part of the key), the backend
  and the truth key (read only to measure quality);
- coded case notes (voice/segments.parquet, which every voice notebook reads): the canonical
  key and the auto-coder's code.

Code is compared by its syntax tree without docstrings, so a comment or a docstring edit
rebuilds nothing. Input files are hashed once: the stamp keeps each file's hash with its size
and modification time, and a later build (a notebook, the manifest) rehashes only the files
whose size or time changed. Each build says what it reused and why.
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd

from .errors import ProjectError
from .params import SiteParams, resolve_data_dir
from .paths import derived_dir

PACKAGE = Path(__file__).resolve().parent
STAMP = "build.json"
TRUTH = "truth"  # the generator's keys: never an input to the canonical tables
# where the import closures start: what validate_site and link_site run
CANONICAL_CODE = ["sources/validate.py"]
LINKED_CODE = ["linkage/site.py"]
VOICE_CODE = ["voice/coded.py"]
DEFAULT_BACKEND = "duckdb"
# the clerical review folder, beside linked/ so a relink keeps the reviewer's decisions
REVIEW = "review"


@dataclass
class Built:
    """Where a build left its tables, and the input hashes the run manifest records."""
    site: str
    root: Path  # <derived root>/<site>: canonical/, linked/, validation_report.csv, ...
    data_dir: Path
    inputs: dict[str, str]  # relative path -> SHA-256 of every input file outside truth/
    backend: str | None  # None when only the canonical tables were built


# ---- what the key is made of ----------------------------------------------------------------

def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _decisions_key(root: Path) -> str | None:
    from .linkage.review import DECISIONS_FILE

    path = root / REVIEW / DECISIONS_FILE  # a small file: read whole, not as an input file
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def input_files(data_dir: Path, known: dict | None = None) -> dict[str, dict]:
    """Every file under `data_dir`: size, modification time and SHA-256. A file whose size
    and time match its entry in `known` (an earlier build's) keeps that hash unread."""
    known = known or {}
    out = {}
    for path in sorted(p for p in Path(data_dir).rglob("*") if p.is_file()):
        rel = path.relative_to(data_dir).as_posix()
        st = path.stat()
        old = known.get(rel, {})
        same = old.get("size") == st.st_size and old.get("mtime_ns") == st.st_mtime_ns
        out[rel] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns,
                    "sha256": old["sha256"] if same else _sha256(path)}
    return out


def _module_files(name: str, package: Path) -> list[Path]:
    """The files Python runs to import `name` (each package's __init__ on the way)."""
    parts = name.split(".")
    if parts[0] != package.name:
        return []
    found = []
    for i in range(1, len(parts) + 1):
        base = package.joinpath(*parts[1:i])
        for candidate in (base / "__init__.py", base.with_suffix(".py") if i > 1 else None):
            if candidate is not None and candidate.is_file():
                found.append(candidate)
    return found


def _imports(path: Path, package: Path) -> list[Path]:
    """Package modules that `path` imports, at the top or inside a function."""
    rel = path.relative_to(package).with_suffix("").parts
    here = [package.name, *rel[:-1]]  # the package `path` belongs to
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here[:len(here) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names = [module] + [f"{module}.{a.name}" for a in node.names]
        for name in names:
            found += _module_files(name, package)
    return found


def code_files(roots: list[str], package: Path = PACKAGE) -> list[Path]:
    """The modules that `roots` (paths inside the package) import, directly or not."""
    todo = [f for r in roots for f in _module_files(
        ".".join([package.name, *Path(r).with_suffix("").parts]), package)]
    seen: set[Path] = set()
    while todo:
        path = todo.pop()
        if path not in seen:
            seen.add(path)
            todo += _imports(path, package)
    return sorted(seen)


def code_digest(path: Path) -> str:
    """A module's syntax tree without docstrings: comments, layout and docs do not count."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree).encode()).hexdigest()[:16]


def _code_key(roots: list[str], package: Path) -> dict[str, str]:
    return {p.relative_to(package).as_posix(): code_digest(p) for p in code_files(roots, package)}


def _why(old: dict | None, new: dict, labels: dict[str, str]) -> str | None:
    """Why a stage is stale ("params changed"), or None when its key is unchanged."""
    if not old:
        return "none built yet"
    reasons = []
    for key, label in labels.items():
        if old.get(key) == new[key]:
            continue
        if key == "code":
            changed = sorted(k for k in set(old["code"]) | set(new["code"])
                             if old["code"].get(k) != new["code"].get(k))
            label += f" ({', '.join(changed)})"
        elif key == "backend":
            label += f" ({old.get(key)} -> {new[key]})"
        reasons.append(label)
    return "; ".join(reasons) or None


# ---- the build ------------------------------------------------------------------------------

def build_tables(params: SiteParams, data_dir: Path | str | None = None, *,
                 backend: str | None = None, derived_root: Path | str | None = None,
                 link: bool = True, min_kept: float | None = None, allow_empty: bool = False,
                 log=print) -> Built:
    """Validate and link a site's data under <derived root>/<site>/, reusing what is fresh.

    `backend` None means the backend of the last link (DuckDB when there was none): after
    `link --backend spark` the notebooks read the Spark-linked tables, and relink with Spark
    if their inputs change. `link=False` stops after the canonical tables (`validate`).
    Validation fails when a file keeps less than `min_kept` of its rows (default: the site's
    `min_kept_share`) and, unless `allow_empty`, validation and linking fail when a source
    kept nothing; the tables of a failed check are not marked fresh. The checks run when the
    tables are built, so tables built when told to go on are reused as they are (the notebooks
    of `run --allow-empty` read them) until their inputs change.
    """
    from . import sources
    from .linkage.site import link_site
    from .voice.coded import code_case_notes

    data = resolve_data_dir(params, data_dir or "").resolve()
    if not data.is_dir():
        raise ProjectError("data folder not found", path=data)
    root = derived_dir(params.site, derived_root)
    stamp_path = root / STAMP
    stamp = json.loads(stamp_path.read_text()) if stamp_path.is_file() else {}
    same_data = stamp.get("data_dir") == str(data)
    files = input_files(data, stamp.get("files") if same_data else None)
    inputs = {k: v["sha256"] for k, v in files.items() if not k.startswith(f"{TRUTH}/")}

    def save(**stages) -> None:
        stamp.update(data_dir=str(data), files=files, **stages)
        root.mkdir(parents=True, exist_ok=True)
        stamp_path.write_text(json.dumps(stamp, indent=1, sort_keys=True) + "\n")

    canonical = {"inputs": _digest(inputs), "params": params.digest(),
                 "code": _code_key(CANONICAL_CODE, PACKAGE)}
    why = _why(stamp.get("canonical"), canonical,
               {"inputs": "inputs changed", "params": "params changed", "code": "code changed"})
    if why and stamp.get("canonical") and not same_data:
        why = f"built from other data ({stamp.get('data_dir')})"
    if why:
        log(f"[{params.site}] validating: {why}")
        save(canonical=None)  # a failed run leaves nothing marked fresh
        rep = sources.validate_site(params, data, root)
        sources.check_kept(rep, params.min_kept_share if min_kept is None else min_kept,
                           allow_empty)
        save(canonical=canonical)
    else:
        log(f"[{params.site}] reused canonical tables (inputs, params and code unchanged)")
        if files != stamp.get("files"):
            save()  # same contents, new times: keep the hashes so they are not read again
    if not link:
        return Built(params.site, root, data, inputs, None)

    old = stamp.get("linked") or {}
    truth = data / TRUTH / "linkage_key.csv"
    linked = {"canonical": _digest(canonical), "code": _code_key(LINKED_CODE, PACKAGE),
              "backend": backend or old.get("backend") or DEFAULT_BACKEND,
              "truth": files.get(f"{TRUTH}/linkage_key.csv", {}).get("sha256"),
              "decisions": _decisions_key(root)}
    why = _why(old, linked, {"canonical": "canonical tables rebuilt", "code": "code changed",
                             "backend": "backend changed", "truth": "truth key changed",
                             "decisions": "reviewer's decisions changed"})
    if why:
        if not allow_empty:
            sources.check_kept(sources.load_report(root), 0.0)
        log(f"[{params.site}] linking ({linked['backend']}): {why}")
        save(linked=None)
        shutil.rmtree(root / "linked", ignore_errors=True)
        link_site(params, root / "canonical", root / "linked", linked["backend"], truth=truth,
                  review=root / REVIEW)
        # the run may have written the blank template: it decides nothing, so no relink
        save(linked={**linked, "decisions": _decisions_key(root)})
    else:
        log(f"[{params.site}] reused linked tables ({linked['backend']}; canonical tables, "
            "code and backend unchanged)")

    voice = {"canonical": _digest(canonical), "code": _code_key(VOICE_CODE, PACKAGE)}
    why = _why(stamp.get("voice"), voice, {"canonical": "canonical tables rebuilt",
                                           "code": "code changed"})
    if why:
        log(f"[{params.site}] coding case notes: {why}")
        save(voice=None)
        start = time.perf_counter()
        notes = code_case_notes(root / "canonical", root,
                                log=lambda message: log(f"[{params.site}] {message}"))
        log(f"[{params.site}] coded {notes:,} case notes in {time.perf_counter() - start:.0f} s")
        save(voice=voice)
    else:
        log(f"[{params.site}] reused coded case notes (canonical tables and code unchanged)")
    return Built(params.site, root, data, inputs, linked["backend"])


class Tables(Mapping):
    """A site's tables by name, each read from its file the first time it is asked for: a
    notebook pays only for the tables it uses (the census and the timeline take seconds each
    at county scale)."""

    def __init__(self, readers: dict[str, Callable[[], pd.DataFrame]]):
        self._readers, self._read = readers, {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._read:
            self._read[name] = self._readers[name]()
        return self._read[name]

    def __iter__(self):
        return iter(self._readers)

    def __len__(self) -> int:
        return len(self._readers)

    def columns(self, name: str, columns: list[str]) -> pd.DataFrame:
        """Some columns of a parquet table, read for the caller and not kept: at county scale
        the census's 17 columns take 2.7 GB, the 11 the referral analyses use 1 GB."""
        return self._readers[name](columns=columns)

    def child(self, name: str, child_id: str) -> pd.DataFrame:
        """One child's rows of a linked table, read for the caller and not kept: a county's
        timeline takes seconds to read whole."""
        return self._readers[name](filters=[("child_id", "==", child_id)])


def build_site(params: SiteParams, data_dir: Path | str | None = None, *,
               backend: str | None = None, derived_root: Path | str | None = None,
               log=None) -> Tables:
    """Canonical and linked tables of a site's data, built or reused (see `build_tables`).

    Notebooks call it, so by default what it built or reused goes to the logger, not the page.

    Returns the linked tables (record_map, single_view, timeline, ...), the canonical
    persons, events and school_terms, and `summary` (one row per figure of the linkage run),
    each read when first used.
    """
    from .linkage.site import linked_files, read_persons
    from .sources.schemas import read_parquet

    built = build_tables(params, data_dir, backend=backend, derived_root=derived_root,
                         log=log or logging.getLogger(__name__).info)
    canonical, linked = built.root / "canonical", built.root / "linked"
    readers = {t: partial(read_parquet, path) for t, path in linked_files(linked).items()}
    readers["persons"] = partial(read_persons, canonical)
    readers["events"] = partial(read_parquet, canonical / "events.parquet")
    readers["school_terms"] = partial(read_parquet, canonical / "school_terms.parquet")
    readers["summary"] = lambda: _flatten(json.loads((linked / "summary.json").read_text()))
    return Tables(readers)


def _flatten(summary: dict) -> pd.DataFrame:
    rows = []
    for k, v in summary.items():
        if isinstance(v, dict):
            rows += [(f"{k}.{kk}", vv) for kk, vv in v.items()]
        elif v is not None:
            rows.append((k, v))
    return pd.DataFrame(rows, columns=["measure", "value"]).astype({"value": object})
