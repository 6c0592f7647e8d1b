"""Only sources/ opens a council's raw files: no module or notebook elsewhere joins a path into a
source folder or imports the raw readers, so every input row reaches the validation report."""

from __future__ import annotations

import ast
import json

from hampshire_research.paths import project_root
from hampshire_research.sources.validate import SOURCE_FOLDERS

PACKAGE = project_root() / "src" / "hampshire_research"
# The raw readers and their helpers: what turns raw files into canonical tables.
RAW_READERS = {"tabular", "readers", "cin_xml", "transcripts", "checks", "aliases"}
# Where code outside sources/ may name a source folder, and why it is not reading raw records.
ALLOWED = {
    ("themes/coding.py", "load_coding"): "coders' REFI-QDA projects returned from QDA tools "
                                         "(transcripts/coding/), not the council's records",
}


def _code_files() -> list[tuple[str, str]]:
    """(name, python source) of every module outside sources/ and synthetic/ (the generator
    writes the raw files), and of every notebook's code cells."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel.split("/")[0] not in ("sources", "synthetic"):
            out.append((rel, path.read_text(encoding="utf-8")))
    for path in sorted((project_root() / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        out.append((path.name, "\n".join(line for line in code.splitlines()
                                         if not line.lstrip().startswith(("%", "!")))))
    return out


def _source_folder(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        head = node.value.split("/")[0]
        return head if head in SOURCE_FOLDERS else None
    return None


def violations(name: str, code: str) -> list[str]:
    """Path joins into a source folder and imports of the raw readers, as 'file:line: what'."""
    found = []
    stack: list[str] = []

    class Visitor(ast.NodeVisitor):
        def visit_FunctionDef(self, node):
            stack.append(node.name)
            self.generic_visit(node)
            stack.pop()

        def visit_BinOp(self, node):
            folder = _source_folder(node.right) if isinstance(node.op, ast.Div) else None
            if folder and (name, stack[0] if stack else "") not in ALLOWED:
                found.append(f"{name}:{node.lineno}: path into raw folder {folder!r}")
            self.generic_visit(node)

        def visit_ImportFrom(self, node):
            module = node.module or ""
            parts = module.split(".")
            inside = "sources" in parts and parts[-1] in RAW_READERS
            names = {a.name for a in node.names}
            if inside or (parts[-1] == "sources" and names & RAW_READERS):
                found.append(f"{name}:{node.lineno}: imports a raw reader ({module})")
            self.generic_visit(node)

    Visitor().visit(ast.parse(code))
    return found


def test_no_module_outside_sources_opens_a_raw_input_file():
    found = [v for name, code in _code_files() for v in violations(name, code)]
    assert found == []


def test_the_check_catches_a_raw_read():
    # what voice_map.py and notebook 06 did before the voice map read canonical tables
    code = ("from .sources.tabular import find_file, read_table\n"
            "def read(root):\n    return find_file(root / 'csc', 'ssd_person')\n"
            "schools = data_dir / 'school_census' / 'schools.csv'\n")
    assert violations("old.py", code) == [
        "old.py:1: imports a raw reader (sources.tabular)",
        "old.py:3: path into raw folder 'csc'",
        "old.py:4: path into raw folder 'school_census'"]
    assert violations("themes/coding.py", "def load_coding(d):\n    d / 'transcripts'\n") == []
