"""REFI-QDA exchange (.qdpx projects), so people can code in QualCoder, NVivo, ATLAS.ti or MAXQDA
and their coding comes back for comparison with the auto-coder and with each other.

Generic: any codebook (a frame of codes, folders allowed), any text sources, any selections
with code ids - the voice codebook and the research-transcript themes both use it.

Writing follows Project.xsd 1.0 (element order, isCodable on every code, sources as
sources/<guid>.txt). GUIDs are uuid5 of the project name and the thing they name, timestamps
are fixed and the zip entries are written in a fixed order, so the same input gives the same
bytes. Reading tolerates what the tools are known to do differently: a project file not named
project.qde, end positions inclusive or exclusive, CRLF line endings counted or not, a text
held inline (PlainTextContent) rather than as a file, namespaces or none.
"""

from __future__ import annotations

import bisect
import copy
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd

from ..errors import ProjectError

NS = "urn:QDA-XML:project:1.0"
FIXED_TIME = "2000-01-01T00:00:00Z"  # exports must not carry the wall-clock time
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_GUID_NS = uuid.uuid5(uuid.NAMESPACE_URL, "https://hampshire-research/refi-qda")
_ID_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[._-][A-Za-z0-9]+)+$")


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_safe(value: object) -> str:
    """Text XML 1.0 can hold: characters it forbids even as references (Word's manual line
    break \\x0b, form feeds, other controls) become spaces; everything else is kept."""
    return _XML_ILLEGAL.sub(" ", str(value))


def lf_text(text: str) -> str:
    """Line ends as one "\\n": tools disagree on counting "\\r" in positions, so none is written."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _lf_offset(text: str, pos: int) -> int:
    """A position on `text` as a position on lf_text(text)."""
    return pos - text.count("\r\n", 0, pos + 1)


def guid(*parts: object) -> str:
    """A stable GUID for the thing these parts name (same parts, same GUID, every export)."""
    return str(uuid.uuid5(_GUID_NS, "\x1f".join(str(p) for p in parts)))


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _variable_type(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "Boolean"
    if pd.api.types.is_integer_dtype(s):
        return "Integer"
    if pd.api.types.is_float_dtype(s):
        return "Float"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "Date"
    return "Text"


def _value(kind: str, v: object) -> str:
    if kind == "Boolean":
        return "true" if v else "false"
    if kind == "Date":
        return pd.Timestamp(v).strftime("%Y-%m-%d")
    return xml_safe(v)


def export_qdpx(path: str | Path, *, project_name: str, codes: pd.DataFrame,
                sources: pd.DataFrame, selections: pd.DataFrame | None = None,
                cases: pd.DataFrame | None = None, default_coder: str = "auto-coder") -> Path:
    """Write a .qdpx project.

    codes: id, name, and optionally parent (id of a folder code), codable (False for folders),
        description, color (#RRGGBB).
    sources: source_id, text, and optionally name (shown in the tool; default source_id).
    selections: source_id, start, end (end exclusive, Python character offsets), code (an id in
        codes), and optionally coder (default `default_coder`).
    cases: case_id, source_id, and any further columns as case variables (one row per
        case and source; variable values are taken from the case's first row). The values are
        written on the Case (with its SourceRef) and on each of its sources too, because QualCoder
        ignores a Case's SourceRef and reads a source's own VariableValues as file attributes.

    Texts are written with "\\n" line ends (positions moved to match) and XML-illegal control
    characters are replaced in the project XML (names, values); the .txt files keep them.
    """
    selections = selections if selections is not None else pd.DataFrame(
        columns=["source_id", "start", "end", "code"])
    _check_export(codes, sources, selections)
    raw = dict(zip(sources["source_id"], sources["text"]))
    sources = sources.assign(text=[lf_text(t) for t in sources["text"]])
    if len(selections):
        selections = selections.assign(
            start=[_lf_offset(raw[r.source_id], r.start) for r in selections.itertuples()],
            end=[_lf_offset(raw[r.source_id], r.end) for r in selections.itertuples()])
    code_guid = {c: guid(project_name, "code", c) for c in codes["id"]}
    coders = sorted(set(selections.get("coder", pd.Series(dtype=str)).dropna()) | {default_coder})
    user_guid = {u: guid(project_name, "user", u) for u in coders}

    ET.register_namespace("", NS)
    root = ET.Element(_q("Project"), {"name": project_name, "origin": "hampshire_research",
                                      "creatingUserGUID": user_guid[default_coder],
                                      "creationDateTime": FIXED_TIME})
    users = ET.SubElement(root, _q("Users"))
    for u in coders:
        ET.SubElement(users, _q("User"), {"guid": user_guid[u], "name": xml_safe(u)})

    _add_codes(ET.SubElement(ET.SubElement(root, _q("CodeBook")), _q("Codes")), codes, code_guid,
               _q)

    src = sources.assign(name=sources["name"] if "name" in sources else sources["source_id"])
    src_guid = {s: guid(project_name, "source", s) for s in src["source_id"]}
    source_values: dict[object, list[ET.Element]] = {}  # the case's variables, again on its sources
    if cases is not None and len(cases):
        var_cols = [c for c in cases.columns if c not in ("case_id", "source_id")]
        kinds = {c: _variable_type(cases[c]) for c in var_cols}
        var_guid = {c: guid(project_name, "variable", c) for c in var_cols}
        variables = ET.SubElement(root, _q("Variables"))
        for c in var_cols:
            ET.SubElement(variables, _q("Variable"), {"guid": var_guid[c], "name": c,
                                                      "typeOfVariable": kinds[c]})
        case_el = ET.SubElement(root, _q("Cases"))
        for case_id, grp in cases.groupby("case_id", sort=True):
            el = ET.SubElement(case_el, _q("Case"), {"guid": guid(project_name, "case", case_id),
                                                     "name": str(case_id)})
            first = grp.iloc[0]
            values = []
            for c in var_cols:
                if pd.isna(first[c]):
                    continue
                vv = ET.SubElement(el, _q("VariableValue"))
                ET.SubElement(vv, _q("VariableRef"), {"targetGUID": var_guid[c]})
                ET.SubElement(vv, _q(f"{kinds[c]}Value")).text = _value(kinds[c], first[c])
                values.append(vv)
            for s in sorted(set(grp["source_id"])):
                ET.SubElement(el, _q("SourceRef"), {"targetGUID": src_guid[s]})
                source_values.setdefault(s, []).extend(values)

    sources_el = ET.SubElement(root, _q("Sources"))
    sel = selections.assign(coder=selections["coder"] if "coder" in selections else default_coder)
    sel = sel.fillna({"coder": default_coder})
    by_source = {k: g for k, g in sel.groupby("source_id", sort=False)}
    files: dict[str, bytes] = {}
    for s in sorted(src.itertuples(index=False), key=lambda r: str(r.source_id)):
        g = src_guid[s.source_id]
        el = ET.SubElement(sources_el, _q("TextSource"), {
            "guid": g, "name": xml_safe(s.name), "plainTextPath": f"internal://{g}.txt",
            "creatingUser": user_guid[default_coder], "creationDateTime": FIXED_TIME})
        files[f"sources/{g}.txt"] = s.text.encode("utf-8")
        spans = by_source.get(s.source_id)
        if spans is None:
            spans = sel.iloc[:0]
        spans = spans.sort_values(["start", "end", "coder", "code"])
        for (start, end, coder), codes_here in spans.groupby(["start", "end", "coder"], sort=False):
            sg = guid(project_name, "selection", s.source_id, start, end, coder)
            se = ET.SubElement(el, _q("PlainTextSelection"), {
                "guid": sg, "name": xml_safe(s.text[start:end][:200]), "startPosition": str(int(start)),
                "endPosition": str(int(end)), "creatingUser": user_guid[coder],
                "creationDateTime": FIXED_TIME})
            for code in sorted(set(codes_here["code"])):
                co = ET.SubElement(se, _q("Coding"), {"guid": guid(sg, code),
                                                      "creatingUser": user_guid[coder],
                                                      "creationDateTime": FIXED_TIME})
                ET.SubElement(co, _q("CodeRef"), {"targetGUID": code_guid[code]})
        for vv in source_values.get(s.source_id, []):  # after selections, as TextSourceType orders
            el.append(copy.deepcopy(vv))
    ET.indent(root)
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        for name, data in [("project.qde", xml)] + sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            z.writestr(info, data)
    return path


def _add_codes(codes_el: ET.Element, codes: pd.DataFrame, code_guid: dict, tag) -> None:
    """The codes as nested Code elements (a folder is a code that cannot be coded)."""
    children: dict[object, list[dict]] = {}
    for r in codes.to_dict("records"):
        parent = r.get("parent")
        children.setdefault(None if pd.isna(parent) else parent, []).append(r)

    def add(parent_el: ET.Element, parent_id: object) -> None:
        for r in children.get(parent_id, []):
            attrs = {"guid": code_guid[r["id"]], "name": xml_safe(r["name"]),
                     "isCodable": "false" if r.get("codable") is False else "true"}
            if isinstance(r.get("color"), str) and r["color"]:
                attrs["color"] = r["color"]
            el = ET.SubElement(parent_el, tag("Code"), attrs)
            if isinstance(r.get("description"), str) and r["description"]:
                ET.SubElement(el, tag("Description")).text = xml_safe(r["description"])
            add(el, r["id"])

    add(codes_el, None)


def export_qdc(path: str | Path, *, codebook_name: str, codes: pd.DataFrame) -> Path:
    """The codebook alone as a REFI-QDA .qdc file (Codebook.xsd), to load into a QDA tool
    before coding. GUIDs are the same as in a .qdpx of a project of the same name."""
    ns = "urn:QDA-XML:codebook:1.0"
    ET.register_namespace("", ns)
    root = ET.Element(f"{{{ns}}}CodeBook", {"origin": "hampshire_research"})
    _add_codes(ET.SubElement(root, f"{{{ns}}}Codes"), codes,
               {c: guid(codebook_name, "code", c) for c in codes["id"]},
               lambda t: f"{{{ns}}}{t}")
    ET.indent(root)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
    return path


def _check_export(codes: pd.DataFrame, sources: pd.DataFrame, selections: pd.DataFrame) -> None:
    for frame, cols, what in ((codes, ["id", "name"], "codes"),
                              (sources, ["source_id", "text"], "sources"),
                              (selections, ["source_id", "start", "end", "code"], "selections")):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ProjectError(f"{what} need column(s) {missing}", field=missing[0])
    if codes["id"].duplicated().any():
        raise ProjectError("code ids repeat", field="id")
    if sources["source_id"].duplicated().any():
        raise ProjectError("source ids repeat", field="source_id")
    unknown = set(selections["code"]) - set(codes["id"])
    if unknown:
        raise ProjectError(f"selections use codes not in the codebook: {sorted(unknown)}",
                           field="code")
    folders = set(codes.loc[codes.get("codable", pd.Series(True, index=codes.index)) == False,  # noqa: E712
                            "id"])
    if set(selections["code"]) & folders:
        raise ProjectError(f"selections use folder codes {sorted(set(selections['code']) & folders)}",
                           field="code")
    lengths = dict(zip(sources["source_id"], sources["text"].str.len()))
    for i, r in enumerate(selections.itertuples(index=False)):
        n = lengths.get(r.source_id)
        if n is None:
            raise ProjectError(f"selection on unknown source {r.source_id!r}", row=i, field="source_id")
        if not 0 <= r.start < r.end <= n:
            raise ProjectError(f"selection {r.start}-{r.end} outside text of length {n}", row=i,
                               field="end")


# --- reading ------------------------------------------------------------------------------------

@dataclass
class RefiProject:
    """What a .qdpx held: codes (guid, id, name, parent, codable, description), sources
    (guid, source_id, text with LF line ends), selections (source_id, start, end, code, coder;
    end exclusive, on the LF text), and what was read but set aside, with reasons."""

    name: str
    codes: pd.DataFrame
    sources: pd.DataFrame
    selections: pd.DataFrame
    cases: pd.DataFrame
    positions: dict[str, str] = field(default_factory=dict)  # how positions were read
    set_aside: list[str] = field(default_factory=list)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _local(c.tag) == name]


def _child(el: ET.Element, name: str) -> ET.Element | None:
    found = _children(el, name)
    return found[0] if found else None


def _code_id(name: str, guid_: str, known: dict[str, str]) -> str:
    """Our code id for a tool's code: by GUID (unchanged export), by name, by its first word."""
    if guid_.strip("{}").lower() in known:
        return known[guid_.strip("{}").lower()]
    if name in known:
        return known[name]
    first = name.split()[0] if name.split() else name
    if first in known:
        return known[first]
    return first if _ID_LIKE.match(first) else name


def _penalty(text: str, start: int, end: int) -> int:
    """How unlike a span a person would select: cut words, stray spaces, a full stop left off."""
    if not 0 <= start < end <= len(text):
        return 6
    p = 0
    if start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        p += 2
    if text[start].isspace():
        p += 2
    if end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        p += 2
    if text[end - 1].isspace():
        p += 2
    if end < len(text) and text[end] in ".!?\"”’'" and text[end - 1].isalnum():
        p += 1
    return p


def _lf_position(raw: str, pos: int) -> int:
    return pos - raw.count("\r\n", 0, max(pos, 0))


def read_qdpx(path: str | Path, *, codes: pd.DataFrame | None = None, end: str = "auto",
              line_endings: str = "auto") -> RefiProject:
    """Read a .qdpx (or a bare .qde) into frames, positions on LF text with exclusive ends.

    codes: our codebook (id, name), to map the tool's codes back to our ids.
    end: "exclusive", "inclusive" or "auto" (decided over all selections by which reading
        gives spans that start and end on word boundaries, and match the stored selected text).
    line_endings: for CRLF texts, whether positions count "\\r" ("crlf"), do not ("lf"), or
        "auto" (decided the same way).
    """
    path = Path(path)
    files: dict[str, bytes] = {}
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                files = {n: z.read(n) for n in z.namelist() if not n.endswith("/")}
            qde = [n for n in files if n.lower().endswith(".qde")]
            if not qde:
                raise ProjectError("no .qde project file inside the .qdpx", path=path)
            if len(qde) > 1:
                named = [n for n in qde if n.lower().rsplit("/", 1)[-1] == "project.qde"]
                if len(named) != 1:
                    raise ProjectError(f"several project files {sorted(qde)}", path=path)
                qde = named
            xml = files[qde[0]]
        else:
            xml = path.read_bytes()
        root = ET.fromstring(xml)
    except (zipfile.BadZipFile, ET.ParseError) as e:
        raise ProjectError(f"not a readable REFI-QDA project: {e}", path=path) from None
    if _local(root.tag) != "Project":
        raise ProjectError(f"root element is {_local(root.tag)!r}, not Project", path=path)
    by_lower = {n.lower().rsplit("/", 1)[-1]: n for n in files}

    known = _known(codes)
    users = {u.get("guid", "").strip("{}").lower(): u.get("name") or u.get("guid")
             for us in _children(root, "Users") for u in _children(us, "User")}

    code_rows = [r for book in _children(root, "CodeBook") for r in _read_codes(book, known)]
    code_of = {r["guid"]: r["id"] for r in code_rows}

    set_aside: list[str] = []
    src_rows, raw_sel = [], []
    for srcs in _children(root, "Sources"):
        for s in srcs:
            kind = _local(s.tag)
            if kind != "TextSource":
                set_aside.append(f"{kind} {s.get('name')!r}: not text")
                continue
            text = _source_text(s, files, by_lower, path)
            sid = s.get("name") or s.get("guid")
            src_rows.append({"guid": s.get("guid", "").strip("{}").lower(), "source_id": sid,
                             "raw": text, "values": _children(s, "VariableValue")})
            for sel in _children(s, "PlainTextSelection"):
                codings = _children(sel, "Coding")
                if not codings:
                    set_aside.append(f"selection {sel.get('guid')} in {sid!r}: no code")
                for co in codings:
                    ref = _child(co, "CodeRef")
                    target = (ref.get("targetGUID", "") if ref is not None else "").strip("{}").lower()
                    if target not in code_of:
                        set_aside.append(f"selection {sel.get('guid')} in {sid!r}: unknown code")
                        continue
                    who = (co.get("creatingUser") or sel.get("creatingUser") or "").strip("{}").lower()
                    try:
                        start, stop = int(sel.get("startPosition")), int(sel.get("endPosition"))
                    except (TypeError, ValueError):
                        set_aside.append(f"selection {sel.get('guid')} in {sid!r}: positions "
                                         f"{sel.get('startPosition')!r}-{sel.get('endPosition')!r} "
                                         "are not whole numbers")
                        continue
                    raw_sel.append({"source_id": sid, "start": start,
                                    "end": stop, "code": code_of[target],
                                    "coder": users.get(who, who or "unknown"),
                                    "name": sel.get("name")})
    texts = {r["source_id"]: r["raw"] for r in src_rows}
    sel_df, positions = _resolve_positions(pd.DataFrame(raw_sel, columns=[
        "source_id", "start", "end", "code", "coder", "name"]), texts, end, line_endings, set_aside)
    sources = pd.DataFrame([{"guid": r["guid"], "source_id": r["source_id"],
                             "text": r["raw"].replace("\r\n", "\n")} for r in src_rows],
                           columns=["guid", "source_id", "text"])
    return RefiProject(root.get("name", ""), pd.DataFrame(code_rows, columns=[
        "guid", "id", "name", "parent", "codable", "description", "color"]), sources, sel_df,
        _read_cases(root, src_rows), positions, set_aside)


def _source_text(s: ET.Element, files: dict[str, bytes], by_lower: dict[str, str],
                 path: Path) -> str:
    inline = _child(s, "PlainTextContent")
    if inline is not None:
        return inline.text or ""
    ptp = s.get("plainTextPath") or ""
    base = re.sub(r"^[a-z]+://", "", ptp).replace("\\", "/").rsplit("/", 1)[-1]
    name = by_lower.get(base.lower())
    if name is None:
        raise ProjectError(f"source {s.get('name')!r}: text file {ptp!r} not in the project",
                           path=path)
    return files[name].decode("utf-8-sig")


def _utf16_to_index(text: str, unit: int) -> int:
    """A UTF-16 code-unit offset (QualCoder's, for texts with emoji) as a Python index."""
    astral = [k + j for j, k in enumerate(i for i, ch in enumerate(text) if ord(ch) > 0xFFFF)]
    return unit - bisect.bisect_left(astral, unit)


def _same_text(selected: str, name: str) -> bool:
    """Whether a span's text is what the tool stored as the selection's name (maybe cut short)."""
    a, b = (re.sub(r"\s+", " ", xml_safe(x)).strip() for x in (selected, name))
    return a == b or (len(name) >= 200 and a.startswith(b))


def _resolve_positions(sel: pd.DataFrame, texts: dict[str, str], end: str, line_endings: str,
                       set_aside: list[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """Convert stored positions to exclusive ends on LF text, choosing the reading that fits:
    end inclusive or exclusive, "\\r" counted or not, code points or UTF-16 code units. A
    selection whose stored text (its name) another reading fits better takes that reading; one
    no reading fits is set aside with the reason, and the rest of the file is kept."""
    for arg, allowed in ((end, ("auto", "exclusive", "inclusive")),
                         (line_endings, ("auto", "crlf", "lf"))):
        if arg not in allowed:
            raise ProjectError(f"{arg!r} is not one of {allowed}")
    ends = ["exclusive", "inclusive"] if end == "auto" else [end]
    les = ["lf", "crlf"] if line_endings == "auto" else [line_endings]
    has_cr = any("\r\n" in t for t in texts.values())
    if not has_cr:
        les = [les[0]]
    counts = ["code points"] + (["UTF-16"] if any(max(t, default="\0") > "\uffff"
                                                 for t in texts.values()) else [])
    readings = [(e, le, c) for c in counts for e in ends for le in les]
    lf = {k: t.replace("\r\n", "\n") for k, t in texts.items()}

    def span(r, reading) -> tuple[int, int]:
        e, le, c = reading
        raw = texts[r.source_id]
        s, t = r.start, r.end + (1 if e == "inclusive" else 0)
        if c == "UTF-16":
            s, t = _utf16_to_index(raw, s), _utf16_to_index(raw, t)
        if le == "crlf":
            s, t = _lf_position(raw, s), _lf_position(raw, t)
        return s, t

    def fits(r, reading) -> bool:
        s, t = span(r, reading)
        n = len(lf[r.source_id])
        return 0 <= s < t <= n and not (isinstance(r.name, str) and r.name.strip()
                                        and not _same_text(lf[r.source_id][s:t], r.name))

    best, best_score = readings[0], None
    for reading in readings:
        score = 0
        for r in sel.itertuples(index=False):
            s, t = span(r, reading)
            score += _penalty(lf[r.source_id], s, t)
            if isinstance(r.name, str) and r.name.strip() and 0 <= s < t and \
                    _same_text(lf[r.source_id][s:t], r.name):
                score -= 4
        if best_score is None or score < best_score:
            best, best_score = reading, score
    rows = []
    for r in sel.itertuples(index=False):
        reading = next((x for x in [best] + readings if fits(r, x)), None)
        if reading is None:
            s, t = span(r, best)
            why = (f"stored text {r.name[:40]!r} is not at {s}-{t}" if 0 <= s < t <= len(
                lf[r.source_id]) else f"{r.start}-{r.end} is outside its text")
            set_aside.append(f"selection in {r.source_id!r} ({r.code}, {r.coder}): {why}")
            continue
        rows.append((r.source_id, *span(r, reading), r.code, r.coder))
    out = pd.DataFrame(rows, columns=["source_id", "start", "end", "code", "coder"])
    out = out.sort_values(["source_id", "start", "end", "coder", "code"], ignore_index=True)
    e, le, c = best
    return out, {"end": e, "line_endings": le if has_cr else "no CRLF in texts", "count": c}


_TYPED = {"Integer": int, "Float": float, "Boolean": lambda v: v.strip().lower() in ("true", "1"),
          "Date": pd.Timestamp, "DateTime": pd.Timestamp}


def _read_cases(root: ET.Element, src_rows: list[dict]) -> pd.DataFrame:
    """case_id, source_id and the variables (typed as declared), from the Cases; or, when a tool
    wrote none (QualCoder keeps them as file attributes), from each source's own values."""
    variables = {v.get("guid", "").strip("{}").lower(): (v.get("name"), v.get("typeOfVariable"))
                 for vs in _children(root, "Variables") for v in _children(vs, "Variable")}

    def values(elements: list[ET.Element]) -> dict:
        out = {}
        for vv in elements:
            ref = _child(vv, "VariableRef")
            val = [x for x in vv if _local(x.tag) != "VariableRef"]
            if ref is None or not val:
                continue
            name, kind = variables.get(ref.get("targetGUID", "").strip("{}").lower(),
                                       (ref.get("targetGUID"), "Text"))
            text = val[0].text or ""
            out[name] = _TYPED.get(kind, str)(text) if text else None
        return out

    src_id = {r["guid"]: r["source_id"] for r in src_rows}
    rows = [{"case_id": c.get("name"),
             "source_id": src_id.get(sr.get("targetGUID", "").strip("{}").lower())}
            | values(_children(c, "VariableValue"))
            for cs in _children(root, "Cases") for c in _children(cs, "Case")
            for sr in _children(c, "SourceRef")]
    if not rows:
        rows = [{"case_id": r["source_id"], "source_id": r["source_id"]} | values(r["values"])
                for r in src_rows if r["values"]]
    order = ["case_id", "source_id"] + [n for n, _ in variables.values()]
    frame = pd.DataFrame(rows)
    return frame.reindex(columns=[c for c in order if c in frame] +
                         [c for c in frame if c not in order])


def _known(codes: pd.DataFrame | None) -> dict[str, str]:
    """Our code id by each of our ids and names, to map a tool's codes back."""
    return {} if codes is None else {str(k): r.id for r in codes.itertuples(index=False)
                                     for k in (r.id, r.name)}


def _read_codes(book: ET.Element, known: dict[str, str]) -> list[dict]:
    """The codes under a CodeBook (of a project or a .qdc), folders and all, in document order."""
    rows: list[dict] = []

    def walk(el: ET.Element, parent: str | None) -> None:
        for c in _children(el, "Code"):
            g = c.get("guid", "")
            cid = _code_id(c.get("name", ""), g, known)
            desc = _child(c, "Description")
            rows.append({"guid": g.strip("{}").lower(), "id": cid, "name": c.get("name"),
                         "parent": parent,
                         "codable": c.get("isCodable", "true").lower() in ("true", "1"),
                         "description": desc.text if desc is not None else None,
                         "color": c.get("color")})
            walk(c, cid)

    for cs in _children(book, "Codes"):
        walk(cs, None)
    return rows


def read_qdc(path: str | Path, *, codes: pd.DataFrame | None = None) -> pd.DataFrame:
    """A REFI-QDA codebook (.qdc, Codebook.xsd) as codes: guid, id, name, parent, codable,
    description, color - so a codebook edited in a QDA tool can be compared with ours or used."""
    path = Path(path)
    try:
        root = ET.fromstring(path.read_bytes())
    except (OSError, ET.ParseError) as e:
        raise ProjectError(f"not a readable REFI-QDA codebook: {e}", path=path) from None
    if _local(root.tag) != "CodeBook":
        raise ProjectError(f"root element is {_local(root.tag)!r}, not CodeBook", path=path)
    return pd.DataFrame(_read_codes(root, _known(codes)), columns=[
        "guid", "id", "name", "parent", "codable", "description", "color"])


def read_coding_csv(path: str | Path, *, sources: pd.DataFrame | None = None,
                    code_ids: list[str] | None = None) -> pd.DataFrame:
    """Coding kept in a spreadsheet: one row per coded span.

    Columns: source_id (or note_id), start, end, and either code or who/form/absence; coder
    optional. Where start/end are blank, a `quote` column is looked up in the source text
    (needs `sources` with source_id and text). Returns source_id, start, end, code, coder.
    """
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, pd.errors.ParserError) as e:
        raise ProjectError(f"cannot read coding CSV: {e}", path=path) from None
    df.columns = [c.strip().lower() for c in df.columns]
    if "source_id" not in df and "note_id" in df:
        df = df.rename(columns={"note_id": "source_id"})
    code_cols = ["code"] if "code" in df else [c for c in ("who", "form", "absence") if c in df]
    if "source_id" not in df or not code_cols:
        raise ProjectError("coding CSV needs source_id (or note_id) and code (or who/form/absence)",
                           path=path)
    texts = dict(zip(sources["source_id"].astype(str), sources["text"])) if sources is not None \
        else {}
    rows = []
    for i, r in enumerate(df.to_dict("records"), start=2):  # row 1 is the header
        sid = r["source_id"].strip()
        text = texts.get(sid)
        try:
            start = int(r["start"]) if r.get("start", "").strip() else None
            end = int(r["end"]) if r.get("end", "").strip() else None
        except ValueError:
            raise ProjectError("start/end must be whole numbers", path=path, row=i,
                               field="start") from None
        if start is None or end is None:
            quote = r.get("quote", "")
            if not quote or text is None or quote not in text:
                raise ProjectError("no start/end, and no quote found in the source text",
                                   path=path, row=i, field="start")
            start = text.index(quote)
            end = start + len(quote)
        if start < 0 or end <= start or (text is not None and end > len(text)):
            raise ProjectError(f"span {start}-{end} is empty or outside the text", path=path,
                               row=i, field="end")
        for col in code_cols:
            code = r[col].strip()
            if not code:
                continue
            if code_ids is not None and code not in code_ids:
                raise ProjectError(f"unknown code {code!r}", path=path, row=i, field=col)
            rows.append((sid, start, end, code, r.get("coder", "").strip() or "unknown"))
    return pd.DataFrame(rows, columns=["source_id", "start", "end", "code", "coder"])
