"""Where each year's SSDA903 return is, under the names councils and tools give its files.

A return is one collection year's header, episodes and other modules, found as
- a year folder: `ssda903/2020/header.csv` (or `SSDA903_2020_header.csv` in it);
- files named with the year, several years in one folder: `SSDA903_2020_header.csv` (the
  LIIA tools), `2019-header.csv` (Data to Insight's demand model), `header_2019.csv`;
- the 903 XML return (`<EXPSSDA903>`, one `<CHILD>` per child with its `<HEADER>` and
  `<EPISODE>`s), in a year folder or named with the year (the XML does not carry it).

Two files for the same year and module are refused, naming both: nothing chooses between them.
A file that matches none of these is listed in the report as not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from lxml import etree

from ..errors import ProjectError
from .aliases import resolve_columns
from .checks import FileLog
from .tabular import EXCEL_SUFFIXES, TEXT

_SEP = r"[_\- ]"

# XML group element in HEADER -> its module
_XML_GROUPS = {"AREVIEW": "reviews", "OC2": "oc2", "PERMANENCE": "previous_permanence",
               "AMISSING": "missing", "AD_PLACED": "placed_for_adoption"}
# modules whose fields sit directly in HEADER: a row when any of them has a value
_XML_HEADER_MODULES = {"uasc": ("UASC", "DUC"), "oc3": ("IN_TOUCH", "ACTIV", "ACCOM"),
                       "ad1": ("DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR",
                               "SEX_ADOPTR", "LS_ADOPTR")}
_XML_HEADER = ("CHILDID", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB",
               *(f for fs in _XML_HEADER_MODULES.values() for f in fs))


@dataclass
class Return:
    """One collection year's files: module -> its CSV/Excel or XML file (and the XML's records)."""

    year: str
    folder: Path
    files: dict[str, Path] = field(default_factory=dict)
    xml: dict[str, list[dict]] = field(default_factory=dict)

    def open(self, b, stem: str, required: list[str], optional: list[str] = (), **kw
             ) -> tuple[pd.DataFrame, FileLog]:
        """`b.open` for one module of this return, from its CSV/Excel file or the XML."""
        path = self.files.get(stem)
        if path is None:
            raise ProjectError(f"file not found (expected {stem}.csv or {stem}.xlsx for "
                               f"{self.year})", path=self.folder / f"{stem}.csv")
        if stem not in self.xml:
            return b.open("ssda903", path, required, optional, **kw)
        records = self.xml[stem]
        # the XML's element names resolved as CSV headers are (CHILDID is CHILD, PL is PLACE)
        names = resolve_columns(list(dict.fromkeys(k for r in records for k in r)),
                                [*required, *optional])
        df = pd.DataFrame({c: pd.Series([r.get(names.get(c, c), "") for r in records],
                                        dtype=TEXT) for c in [*required, *optional]})
        df["_row"] = range(1, len(df) + 1)  # the record's position among its kind
        log = FileLog("ssda903", f"{b.rel(path)}#{stem}", df, path, **kw)
        b.logs.append(log)
        return df, log


def returns(folder: Path, stems: list[str]) -> list[Return]:
    """Every year's return under `folder`, oldest first (modules named in `stems`)."""
    found: dict[str, Return] = {}

    def add(p: Path, where: Path, folder_year: str | None) -> None:
        for year, stem, records in _modules(p, stems, folder_year):
            if folder_year and year != folder_year:
                raise ProjectError(f"file named for {year} in the {folder_year} folder", path=p)
            ret = found.setdefault(year, Return(year, where))
            if stem in ret.files:
                raise ProjectError(f"two {stem} files for {year}: {ret.files[stem].name} and "
                                   f"{p.name}", path=p)
            ret.files[stem] = p
            if records is not None:
                ret.xml[stem] = records

    entries = sorted(folder.iterdir()) if folder.is_dir() else []
    for ydir in (p for p in entries if p.is_dir() and re.fullmatch(r"\d{4}", p.name)):
        for p in sorted(ydir.iterdir()):
            add(p, ydir, ydir.name)
    for p in entries:
        add(p, folder, None)
    if not found:
        raise ProjectError("no SSDA903 returns (expected ssda903/<YYYY>/header.csv or "
                           "ssda903/SSDA903_<YYYY>_header.csv)", path=folder)
    return [found[y] for y in sorted(found)]


def _modules(p: Path, stems: list[str], folder_year: str | None
             ) -> list[tuple[str, str, list[dict] | None]]:
    """(year, module, XML records or None) for each module file `p` holds; none if it is not
    a 903 file."""
    if not p.is_file():
        return []
    suffix = p.suffix.lower()
    if suffix == ".xml":
        m = re.search(r"(?<!\d)(\d{4})(?!\d)", p.stem)
        year = folder_year or (m.group(1) if m else None)
        if year is None:
            raise ProjectError("no collection year for this 903 XML return: put it in a "
                               "ssda903/<YYYY>/ folder or name it with the year", path=p)
        return [(year, stem, records) for stem, records in _xml(p).items()]
    if suffix != ".csv" and suffix not in EXCEL_SUFFIXES:
        return []
    name = p.stem.lower()
    if folder_year and name in stems:
        return [(folder_year, name, None)]
    alternatives = "|".join(sorted(map(re.escape, stems), key=len, reverse=True))
    m = (re.fullmatch(rf"(?:ssda903{_SEP}?)?(\d{{4}}){_SEP}({alternatives})", name) or
         re.fullmatch(rf"(?:ssda903{_SEP}?)?({alternatives}){_SEP}(\d{{4}})", name))
    if not m:
        return []
    year, stem = m.groups() if m.group(1).isdigit() else m.groups()[::-1]
    return [(year, stem, None)]


def _xml(path: Path) -> dict[str, list[dict]]:
    """The 903 XML return as records per module."""
    modules: dict[str, list[dict]] = {m: [] for m in
                                      ["header", "episodes", *_XML_GROUPS.values(),
                                       *_XML_HEADER_MODULES]}
    try:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True,
                                                      huge_tree=True)).getroot()
    except etree.XMLSyntaxError as e:
        raise ProjectError(f"malformed or truncated XML: {e.msg}", path=path,
                           row=getattr(e, "lineno", None)) from None
    if _tag(root) != "EXPSSDA903":
        raise ProjectError(f"not a 903 XML return: root element is <{_tag(root)}>, expected "
                           "<EXPSSDA903>", path=path)
    for child in (c for c in root if _tag(c)):
        header = next((h for h in child if _tag(h) == "HEADER"), None)
        if _tag(child) != "CHILD" or header is None:
            raise ProjectError(f"903 XML: <{_tag(child)}> is not a <CHILD> with a <HEADER>",
                               path=path, row=child.sourceline)
        person = _leaves(header)
        modules["header"].append(person)
        for name, fields in _XML_HEADER_MODULES.items():
            if any(person.get(f) for f in fields):
                modules[name].append(person)
        ident = {k: person.get(h, "") for k, h in
                 resolve_columns(list(person), ["CHILD", "SEX", "DOB"]).items()}
        for part in (p for p in header if _tag(p)):
            name = _tag(part)
            if name in _XML_GROUPS:
                modules[_XML_GROUPS[name]].append({**ident, **_leaves(part)})
            elif len(part) or name not in _XML_HEADER:
                raise ProjectError(f"903 XML: <{name}> in <HEADER> is not a field this "
                                   "reader knows", path=path, row=part.sourceline, field=name)
        for part in (p for p in child if _tag(p) and p is not header):
            if _tag(part) != "EPISODE":
                raise ProjectError(f"903 XML: <{_tag(part)}> in <CHILD> is not a part this "
                                   "reader knows", path=path, row=part.sourceline,
                                   field=_tag(part))
            modules["episodes"].append({"CHILD": ident.get("CHILD", ""), **_leaves(part)})
    return {m: rows for m, rows in modules.items() if rows or m in ("header", "episodes")}


def _tag(el) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _leaves(el) -> dict[str, str]:
    """Text of the element's leaf children, by element name."""
    return {_tag(c): (c.text or "").strip() for c in el
            if len(c) == 0 and _tag(c)}
