"""Sentence units for coding, with the heading each sentence sits under.

Plain regular expressions, no model: case notes break on line ends, bullets and headings
("Voice of the child:", Signs of Safety questions, ALL-CAPS titles) as much as on full stops.
A quotation is never split, so a long quote stays one unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

_BULLET = re.compile(r"[ \t]*(?:[-*•·▪‣–>]|\d{1,2}[.)]|[a-hA-H][.)])[ \t]+")
_INLINE_HEADING = re.compile(r"[ \t]*#*[ \t]*([A-Z][^:\n.!?\"“”]{0,48}?)[ \t]*:[ \t]*(?=\S)")
# a sentence may start in lower case: terse notes ("tom seen at home. mum says ...") do
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*[ \t]+(?=[A-Za-z0-9\"“‘'(\[•*-])")
_SPEAKER_AFTER = re.compile(r"(?:[A-Z][a-z]+|[Hh]e|[Ss]he|[Tt]hey|(?:[Hh]is|[Hh]er|[Tt]heir|[Tt]he) [a-z]+) "
                            r"(?:said|says|told|tells|added|explained|replied|asked|shouted|whispered|"
                            r"wrote|typed|signed)\b[^.!?\"“”\n]{0,30}[.!?]")
_LAST_WORD = re.compile(r"(?<![\w.])[\w.]+$")  # from a word's start only: "[\w.]+$" tries every letter
_ABBREV = {"mr", "mrs", "ms", "dr", "st", "prof", "no", "vs", "eg", "e.g", "ie", "i.e", "cf", "approx",
           "rev", "nr", "tel", "ref"}
_REPORTING_IN_LABEL = re.compile(
    r"\b(?:said|says|told|tells|stated|states|explained|shared|reported|wrote|asked|replied|"
    r"commented|added|disclosed|described)\b", re.I)

# Headings that put the following lines in someone's voice.
_SECTION_PATTERNS = [
    ("W.PRAC", re.compile(r"\b(?:analysis|social worker'?s? (?:view|analysis|assessment)|worker'?s? "
                          r"(?:view|analysis)|my (?:view|analysis)|professional (?:judgement|analysis))",
                          re.I)),
    ("W.CYP", re.compile(
        r"\b(?:voice of (?:the )?(?:child|children|young person|cyp|yp)|(?:child|children|"
        r"young person|cyp|yp)[’']?s?[’']? (?:voice|views?|wishes|words|perspective|feelings)|"
        r"wishes and feelings|wishes & feelings|direct work|three houses|house of (?:worries|good "
        r"things|dreams)|words (?:and|&) pictures|mind of my own|in (?:his|her|their) own words|"
        r"lived experience|day in the life|what (?:the child|the young person|[A-Z][a-z]+) "
        r"(?:says|said|wants|told|thinks))", re.I)),
    ("W.PAR", re.compile(r"\b(?:parent|parents|mum|mother|dad|father|carer|carers|foster carer)"
                         r"[’']?s?[’']? (?:voice|views?|wishes|perspective|comments)", re.I)),
    ("W.FAM", re.compile(r"\b(?:family|network|grandparents?)[’']?s?[’']? (?:views?|voice|comments)",
                         re.I)),
    ("W.PROF", re.compile(r"\b(?:professional|agency|agencies|school|health|partner)[’']?s?[’']? "
                          r"(?:views?|comments|information)", re.I)),
]


@dataclass(frozen=True)
class Unit:
    start: int
    end: int  # exclusive
    section: str | None  # the WHO a heading gives the sentence, if any


def heading_section(label: str, child_first_name: str | None = None) -> str | None:
    """Whose voice a heading introduces ("Voice of the child" -> W.CYP), or None."""
    for who, pat in _SECTION_PATTERNS:
        if pat.search(label):
            return who
    if child_first_name and _name_heading(child_first_name).search(label):
        return "W.CYP"
    return None


@cache
def _name_heading(name: str) -> re.Pattern:
    """"Ellie's views" as a heading, compiled once a name: re's own cache (512 patterns) is too
    small for a county's first names, so it compiled again for most notes."""
    return re.compile(rf"\b{re.escape(name)}[’']?s? (?:voice|views?|wishes|words)", re.I)


def _heading_kind(line: str) -> str | None:
    """"hard" for a line that is only a heading; "soft" for a short unpunctuated line that may be
    one (it is kept as a unit too, so a terse sentence is never lost)."""
    s = line.strip()
    if not s or len(s) > 70:
        return None
    if s.startswith("#") or s.endswith(":"):
        return "hard"
    words = s.split()
    letters = [c for c in s if c.isalpha()]
    if len(letters) >= 3 and all(c.isupper() for c in letters) and len(words) <= 8:
        return "hard"
    if s.endswith("?") and len(words) <= 8 and s.lower().startswith(("what", "how", "who", "where")):
        return "hard"
    if len(words) <= 5 and s[-1] not in ".!?\"”'’)" and s[0].isupper():
        return "soft"
    return None


def _split(text: str, lo: int, hi: int, out: list[tuple[int, int]]) -> None:
    """Split text[lo:hi] at sentence ends that are not inside double quotes or after abbreviations."""
    start = lo
    depth = 0
    straight = False
    pos = lo
    for m in _BOUNDARY.finditer(text, lo, hi):
        seg = text[pos:m.end()]
        depth += seg.count("“") - seg.count("”")
        straight ^= seg.count('"') % 2 == 1
        pos = m.end()
        if depth > 0 or straight:
            continue
        if text[start] in "\"“" and m.group(0).rstrip()[-1] in "\"”" and _SPEAKER_AFTER.match(text, m.end()):
            continue  # '"I miss my mum!" Oliver told me.' is one sentence
        word = _LAST_WORD.search(text[start:m.start()])
        if word and (word.group(0).lower().rstrip(".") in _ABBREV or len(word.group(0)) == 1
                     and word.group(0).isupper()):
            continue
        end = m.start() + len(m.group(0).rstrip())
        out.append((start, end))
        start = m.end()
    if text[start:hi].strip():
        out.append((start, hi))


def sentence_units(text: str, child_first_name: str | None = None) -> list[Unit]:
    """The note's sentences as character spans (end exclusive), each with its heading's voice."""
    units: list[Unit] = []
    section: str | None = None
    section_has_content = False
    offset = 0
    for line in text.splitlines(keepends=True):
        lo, hi = offset, offset + len(line.rstrip("\r\n"))
        offset += len(line)
        body = text[lo:hi]
        if not body.strip():
            if section_has_content:
                section, section_has_content = None, False
            continue
        kind = _heading_kind(body)
        if kind:
            section, section_has_content = heading_section(body, child_first_name), False
            if kind == "hard":
                continue
            s0 = lo + len(body) - len(body.lstrip())
            units.append(Unit(s0, s0 + len(body.strip()), None))
            continue
        b = _BULLET.match(text, lo, hi)
        if b:
            lo = b.end()
        line_section = section
        h = _INLINE_HEADING.match(text, lo, hi)
        if h and len(h.group(1).split()) <= 7 and not _REPORTING_IN_LABEL.search(h.group(1)):
            line_section = heading_section(h.group(1), child_first_name)
            section, section_has_content = line_section, False
        spans: list[tuple[int, int]] = []
        while lo < hi and text[lo].isspace():
            lo += 1
        _split(text, lo, hi, spans)
        for s, e in spans:
            while e > s and text[e - 1].isspace():
                e -= 1
            while s < e and text[s].isspace():
                s += 1
            if e > s:
                units.append(Unit(s, e, line_section))
        section_has_content = True
    return units
