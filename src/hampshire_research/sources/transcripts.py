"""Read research interview and focus-group transcripts into speaker turns.

Councils and universities hold transcripts as plain text ("Interviewer: ...",
"P1 (parent): ...", "[00:01:02] Speaker 2: ..."), as Word documents (typed up, or a Teams
export with "Name   0:03" lines), or as Teams/Zoom .vtt captions. All three become the same
table of turns, so the thematic coding never depends on how a session was recorded.

A turn is a maximal run of speech by one speaker: consecutive lines, paragraphs or caption
cues of the same speaker are joined, with whitespace collapsed to single spaces.

Session attributes (group, site, date) and the role of each speaker label come from a
header block at the top of the file (``Key: value`` lines closed by ``---``; in a .vtt the
same lines in a ``NOTE`` block before the first cue) and/or a ``sessions.csv`` beside the
files. Where both give a value they must agree.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd

from ..errors import ProjectError

ROLES = ("interviewer", "parent_carer", "young_person", "practitioner", "manager")
UNKNOWN_ROLE = "unknown"
TURN_COLUMNS = ["session_id", "turn", "speaker", "role", "text", "group", "site", "date", "file",
                "line"]
SESSION_COLUMNS = ["session_id", "file", "group", "site", "date", "speakers"]
HEADER_KEYS = {"session", "group", "site", "date", "speakers", "title", "format"}
SUFFIXES = (".txt", ".docx", ".vtt")

# Words in a speaker label or its bracketed role, mapped to a role. Longest phrase wins.
ROLE_WORDS = {
    "interviewer": "interviewer", "facilitator": "interviewer", "researcher": "interviewer",
    "moderator": "interviewer", "int": "interviewer", "co-facilitator": "interviewer",
    "parent": "parent_carer", "carer": "parent_carer", "mum": "parent_carer",
    "mother": "parent_carer", "dad": "parent_carer", "father": "parent_carer",
    "foster carer": "parent_carer", "kinship carer": "parent_carer",
    "grandparent": "parent_carer", "special guardian": "parent_carer",
    "parent/carer": "parent_carer", "parent_carer": "parent_carer",
    "young person": "young_person", "yp": "young_person", "child": "young_person",
    "pupil": "young_person", "care leaver": "young_person", "young_person": "young_person",
    "practitioner": "practitioner", "social worker": "practitioner", "sw": "practitioner",
    "family support worker": "practitioner", "early help worker": "practitioner",
    "early help practitioner": "practitioner", "personal adviser": "practitioner",
    "iro": "practitioner", "health visitor": "practitioner", "teacher": "practitioner",
    "senior practitioner": "practitioner", "data analyst": "practitioner",
    "manager": "manager", "team manager": "manager", "service manager": "manager",
    "head of service": "manager", "team leader": "manager", "practice supervisor": "manager",
    "director": "manager",
}

_TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?"
# "[00:01:02] Speaker 2: text", "P1 (parent): text", "Interviewer: text"
_TURN = re.compile(
    rf"^\s*(?:[\[(]?(?P<ts>{_TIME})[\])]?\s*[-–]?\s*)?"
    r"(?P<label>[A-Z][\w'’.\-]*(?:[ /][\w'’.\-]+){0,4}?)"
    r"\s*(?:\((?P<paren>[^()]{1,40})\))?\s*:\s*(?P<text>.*)$"
)
# Teams Word export: "Sarah Jones   0:03" on its own line, the words on the next lines.
_TEAMS = re.compile(rf"^\s*(?P<label>[A-Z][\w'’.\-]*(?: [\w'’.\-]+){{0,4}}?)\s+(?P<ts>{_TIME})\s*$")
_HEADER_LINE = re.compile(r"^\s*(?P<key>[A-Za-z]+)\s*:\s*(?P<value>.*?)\s*$")
_VTT_TIMING = re.compile(r"^\s*(?:\d+:)?\d{1,2}:\d{2}[.,]\d{3}\s+-->\s+(?:\d+:)?\d{1,2}:\d{2}[.,]\d{3}")


def role_of(label: str, hint: str | None = None) -> str:
    """The role a speaker label (or its bracketed hint, or a sessions.csv entry) names."""
    for candidate in (hint, label):
        if not candidate:
            continue
        text = re.sub(r"[\d_]+$", "", candidate.strip().lower()).strip()
        text = text.replace("_", " ") if text not in ROLE_WORDS else text
        if text in ROLE_WORDS:
            return ROLE_WORDS[text]
        words = re.findall(r"[a-z/\-]+", text)
        for n in (3, 2, 1):
            for i in range(len(words) - n + 1):
                phrase = " ".join(words[i:i + n])
                if phrase in ROLE_WORDS:
                    return ROLE_WORDS[phrase]
        if re.fullmatch(r"i\d*", text):
            return "interviewer"
    return UNKNOWN_ROLE


def parse_speakers(value: str, path: Path | str, line: int | None = None) -> dict[str, str]:
    """'Speaker 1 = interviewer; Speaker 2 = practitioner' -> {label: role}."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in re.split(r"[;|]", value or ""))):
        if "=" not in part:
            raise ProjectError(f"{_at(line)}speakers entry {part!r} is not 'label = role'",
                               path=path)
        label, role = (s.strip() for s in part.split("=", 1))
        resolved = role if role in ROLES else role_of("", role)
        if resolved == UNKNOWN_ROLE:
            raise ProjectError(f"{_at(line)}unknown role {role!r} for speaker {label!r} "
                               f"(expected one of {', '.join(ROLES)})", path=path)
        out[label] = resolved
    return out


def read_sessions(path: Path | str) -> pd.DataFrame:
    """sessions.csv: one row per session (session_id, file, group, site, date, speakers)."""
    path = Path(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise ProjectError(f"cannot read sessions sheet: {e}", path=path) from e
    df.columns = [c.strip().lower() for c in df.columns]
    missing = {"session_id"} - set(df.columns)
    if missing:
        raise ProjectError("sessions sheet has no column 'session_id'", path=path)
    for col in SESSION_COLUMNS:
        if col not in df.columns:
            df[col] = ""
    for i, row in df.iterrows():
        line = int(i) + 2
        if not row["session_id"].strip():
            raise ProjectError(f"line {line}: empty session_id", path=path)
        df.loc[i, "date"] = _iso_date(row["date"], path, line)
        parse_speakers(row["speakers"], path, line)
    dup = df["session_id"][df["session_id"].duplicated()]
    if len(dup):
        raise ProjectError(f"session_id {dup.iloc[0]!r} appears twice", path=path)
    return df[SESSION_COLUMNS].reset_index(drop=True)


def read_transcript(path: Path | str, session: dict | None = None) -> pd.DataFrame:
    """One transcript file (.txt, .docx or .vtt) -> its turns (TURN_COLUMNS).

    ``session`` is its row of sessions.csv, if there is one.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ProjectError("transcript not found", path=path)
    if suffix == ".vtt":
        header, raw = _vtt_lines(path)
    elif suffix == ".docx":
        header, raw = _split_header(_docx_lines(path), path)
        raw = _text_turns(raw, path)
    elif suffix == ".txt":
        header, raw = _split_header(_text_lines(path), path)
        raw = _text_turns(raw, path)
    else:
        raise ProjectError(f"not a transcript format (expected {', '.join(SUFFIXES)})", path=path)
    attrs = _session_attributes(header, session or {}, path)
    if not raw:
        raise ProjectError("no speaker turns found", path=path)
    turns = _merge(raw)
    hinted = {}  # a role given once ("P1 (parent):") holds for the speaker's other turns
    for label, hint, _, _ in turns:
        if hint and label not in hinted:
            hinted[label] = role_of(label, hint)
    rows = []
    for n, (label, hint, text, line) in enumerate(turns, start=1):
        role = attrs["speakers"].get(label) or (role_of(label, hint) if hint else None) \
            or hinted.get(label) or role_of(label)
        rows.append({"session_id": attrs["session_id"], "turn": n, "speaker": label,
                     "role": role, "text": text, "group": attrs["group"], "site": attrs["site"],
                     "date": attrs["date"], "file": path.name, "line": line})
    return pd.DataFrame(rows, columns=TURN_COLUMNS)


def read_transcripts(folder: Path | str) -> pd.DataFrame:
    """Every transcript in a folder (with its sessions.csv when present), turns in session order.

    A session listed in sessions.csv whose file is missing is an error: nothing is dropped
    without saying so.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ProjectError("transcripts folder not found", path=folder)
    sheet = folder / "sessions.csv"
    sessions = read_sessions(sheet) if sheet.is_file() else pd.DataFrame(columns=SESSION_COLUMNS)
    by_file = {r["file"]: r for r in sessions.to_dict("records") if r["file"]}
    for name in by_file:
        if not (folder / name).is_file():
            raise ProjectError(f"session file {name!r} is listed but not found", path=sheet)
    by_id = {r["session_id"]: r for r in sessions.to_dict("records")}
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES)
    frames = []
    for p in files:
        row = by_file.get(p.name) or by_id.get(p.stem)
        frames.append(read_transcript(p, row))
    if not frames:
        raise ProjectError("no .txt, .docx or .vtt transcripts found", path=folder)
    turns = pd.concat(frames, ignore_index=True)
    unread = sorted(set(sessions["session_id"]) - set(turns["session_id"]))
    if unread:
        raise ProjectError(f"session {unread[0]!r} is listed but no transcript has it", path=sheet)
    dup = turns.drop_duplicates(["session_id", "file"])["session_id"]
    if dup.duplicated().any():
        sid = dup[dup.duplicated()].iloc[0]
        raise ProjectError(f"session {sid!r} comes from more than one file", path=folder)
    return turns.sort_values(["session_id", "turn"], kind="stable").reset_index(drop=True)


# --- formats -------------------------------------------------------------------------------

def _at(line: int | None) -> str:
    return f"line {line}: " if line else ""


def _text_lines(path: Path) -> list[tuple[int, str]]:
    """Lines of a text file: UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252."""
    data = _read_bytes(path)
    encodings = ["utf-16"] if data.startswith((b"\xff\xfe", b"\xfe\xff")) else \
        ["utf-8-sig", "cp1252"]
    if encodings != ["utf-16"] and b"\x00" in data[:4096]:
        raise ProjectError("binary file with a transcript's name", path=path)
    for enc in encodings:
        try:
            return list(enumerate(data.decode(enc).splitlines(), start=1))
        except UnicodeDecodeError:
            continue
    raise ProjectError("text is not UTF-8, UTF-16 or Windows-1252", path=path)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise ProjectError(f"cannot read transcript: {e.strerror}", path=path) from e


def _docx_lines(path: Path) -> list[tuple[int, str]]:
    """Paragraphs of a Word document; 'line' is the paragraph number."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as e:
        raise ProjectError(f"not a readable Word document ({e})", path=path) from e
    lines: list[tuple[int, str]] = []
    for n, para in enumerate(document.paragraphs, start=1):
        # a soft line break inside a paragraph is a new line, as in a text file
        for part in para.text.split("\n"):
            lines.append((n, part))
    return lines


def _split_header(lines: list[tuple[int, str]], path: Path) -> tuple[dict, list]:
    """Take a leading 'Key: value' block closed by '---' off the lines."""
    body = [(n, s) for n, s in lines]
    first = next((i for i, (_, s) in enumerate(body) if s.strip()), None)
    if first is None:
        return {}, []
    m = _HEADER_LINE.match(body[first][1])
    if not (m and m["key"].lower() in HEADER_KEYS):
        return {}, body
    header: dict[str, tuple[str, int]] = {}
    for i in range(first, len(body)):
        n, s = body[i]
        if s.strip() == "---":
            return header, body[i + 1:]
        if not s.strip():
            continue
        m = _HEADER_LINE.match(s)
        if not (m and m["key"].lower() in HEADER_KEYS):
            raise ProjectError(f"line {n}: header block line {s.strip()!r} is not one of "
                               f"{', '.join(sorted(HEADER_KEYS))} (close the header with '---')",
                               path=path)
        header[m["key"].lower()] = (m["value"], n)
    raise ProjectError(f"line {body[first][0]}: header block is not closed by a '---' line",
                       path=path)


def _text_turns(lines: list[tuple[int, str]], path: Path) -> list[tuple[str, str | None, str, int]]:
    """Lines -> (label, role hint, text, line) pieces; unlabelled lines continue a turn."""
    pieces: list[list] = []
    for n, s in lines:
        if not s.strip():
            continue
        m = _TURN.match(s)
        if m and _plausible_label(m["label"], m["paren"]):
            pieces.append([m["label"].strip(), m["paren"], m["text"].strip(), n])
            continue
        m = _TEAMS.match(s)
        if m:
            pieces.append([m["label"].strip(), None, "", n])
            continue
        if not pieces:
            raise ProjectError(f"line {n}: text before the first speaker turn: {s.strip()[:60]!r}",
                               path=path)
        pieces[-1][2] = f"{pieces[-1][2]} {s.strip()}".strip()
    for label, _, text, n in pieces:
        if not text:
            raise ProjectError(f"line {n}: speaker {label!r} has no words", path=path)
    return [tuple(p) for p in pieces]


def _plausible_label(label: str, paren: str | None) -> bool:
    """Tell 'P1 (parent):' and 'Sarah Jones:' from prose such as 'The thing is: ...'."""
    words = label.split()
    if paren or len(words) == 1:
        return True
    if role_of(label) != UNKNOWN_ROLE:
        return True
    return all(w[0].isupper() or w[0].isdigit() for w in words)


def _vtt_lines(path: Path) -> tuple[dict, list[tuple[str, str | None, str, int]]]:
    """Cues of a .vtt -> pieces; the speaker from <v Name> or a 'Name:' prefix."""
    import webvtt
    from webvtt.errors import MalformedCaptionError, MalformedFileError

    lines = _text_lines(path)
    if not lines or not lines[0][1].lstrip("\ufeff").startswith("WEBVTT"):
        raise ProjectError("line 1: a .vtt file must start with 'WEBVTT'", path=path)
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] = []
    for n, s in lines:
        if s.strip():
            current.append((n, s))
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    header: dict[str, tuple[str, int]] = {}
    cue_lines: list[int] = []
    for _i, block in enumerate(blocks[1:], start=1):
        first = block[0][1].strip()
        if first.startswith("NOTE"):
            if not cue_lines:
                for n, s in [(block[0][0], first[4:])] + block[1:]:
                    m = _HEADER_LINE.match(s)
                    if m and m["key"].lower() in HEADER_KEYS:
                        header[m["key"].lower()] = (m["value"], n)
            continue
        if first.startswith(("STYLE", "REGION")):
            continue
        timing = [n for n, s in block[:2] if _VTT_TIMING.match(s)]
        if not timing:
            raise ProjectError(f"line {block[0][0]}: caption block without a valid timing line "
                               f"('00:00:01.000 --> 00:00:04.000'): {first[:60]!r}", path=path)
        if len(block) == (2 if timing[0] != block[0][0] else 1):
            raise ProjectError(f"line {timing[0]}: caption with no words", path=path)
        cue_lines.append(timing[0] + 1)
    try:
        captions = webvtt.from_string("\n".join(s for _, s in lines).lstrip("\ufeff")).captions
    except (MalformedFileError, MalformedCaptionError) as e:
        raise ProjectError(f"malformed captions: {e}", path=path) from e
    if len(captions) != len(cue_lines):
        raise ProjectError(f"read {len(captions)} captions but found {len(cue_lines)} cue blocks",
                           path=path)
    pieces: list[tuple[str, str | None, str, int]] = []
    for caption, n in zip(captions, cue_lines, strict=True):
        text = " ".join(html.unescape(caption.text).split())
        label, hint = caption.voice, None
        m = _TURN.match(text)
        if m and _plausible_label(m["label"], m["paren"]):
            if label is None or m["label"].strip() == label:
                label, hint, text = m["label"].strip(), m["paren"], m["text"].strip()
        if label is None:
            if not pieces:
                raise ProjectError(f"line {n}: first caption has no speaker (<v Name> or 'Name:')",
                                   path=path)
            label, hint = pieces[-1][0], pieces[-1][1]
        pieces.append((label.strip(), hint, text, n))
    return header, pieces


def _merge(pieces: list[tuple[str, str | None, str, int]]) -> list[tuple[str, str | None, str, int]]:
    """Join consecutive pieces of one speaker into one turn."""
    turns: list[list] = []
    for label, hint, text, n in pieces:
        text = " ".join(text.split())
        if turns and turns[-1][0] == label:
            turns[-1][2] = f"{turns[-1][2]} {text}".strip()
            turns[-1][1] = turns[-1][1] or hint
        else:
            turns.append([label, hint, text, n])
    return [tuple(t) for t in turns]


def _session_attributes(header: dict, session: dict, path: Path) -> dict:
    """Header block and sessions.csv row merged; a disagreement is an error."""
    out: dict = {}
    for key, default in (("session_id", path.stem), ("group", ""), ("site", ""), ("date", "")):
        hkey = "session" if key == "session_id" else key
        hval, hline = header.get(hkey, ("", None))
        hval = hval.strip()
        if key == "date" and hval:
            hval = _iso_date(hval, path, hline)
        sval = str(session.get(key, "") or "").strip()
        if hval and sval and hval != sval:
            raise ProjectError(f"{_at(hline)}{hkey} {hval!r} in the header disagrees with "
                               f"{sval!r} in sessions.csv", path=path)
        out[key] = hval or sval or default
    speakers = {}
    if "speakers" in header:
        speakers = parse_speakers(header["speakers"][0], path, header["speakers"][1])
    sheet = parse_speakers(str(session.get("speakers", "") or ""), path)
    for label, role in sheet.items():
        if speakers.get(label, role) != role:
            raise ProjectError(f"speaker {label!r} is {speakers[label]} in the header but {role} "
                               "in sessions.csv", path=path)
        speakers[label] = role
    out["speakers"] = speakers
    return out


def _iso_date(value: str, path: Path, line: int | None) -> str:
    """Dates as ISO 2024-03-12; accepts dd/mm/YYYY too."""
    value = (value or "").strip()
    if not value:
        return ""
    fmt = "%d/%m/%Y" if "/" in value else "%Y-%m-%d"
    try:
        return pd.to_datetime(value, format=fmt).strftime("%Y-%m-%d")
    except ValueError as e:
        raise ProjectError(f"{_at(line)}date {value!r} is not dd/mm/YYYY or YYYY-MM-DD",
                           path=path) from e
