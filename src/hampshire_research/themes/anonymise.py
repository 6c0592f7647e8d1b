"""Anonymise transcripts and quotes before they leave the secure environment.

Rule- and list-based and fully offline, so it can run inside a council's network:
regular expressions for emails, UK phone numbers, postcodes and dates; lists for names (the
`nicknames` package's names plus the lists shipped in anonymise_lists.yaml), the site's
district names (from params) and school names (from the canonical schools table); context rules for
names no list holds ("my son X", "Mrs X", "X said"); and a catch-all for any other proper
noun: a capitalised word whose lower-case form the corpus never uses as an ordinary word.

Redaction errs on the side of removing too much. ``risks`` then checks what is left; a
segment with any remaining risk is withheld, and quotes are only taken from segments that pass.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

TAGS = ("[name]", "[place]", "[school]", "[date]", "[phone]", "[email]", "[postcode]")
WITHHELD = "[withheld: needs review before release]"

_MONTHS = ("January|February|March|April|May|June|July|August|September|October|November|"
           "December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec")
_DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.I)
URL = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
PHONE = re.compile(r"(?<![\w+])(?:\+44\s?(?:\(0\)\s?)?|\(?0)(?:\d[\s\-)]{0,2}){9,10}(?!\d)")
POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[ABD-HJLNP-UW-Z]{2}\b", re.I)
DATES = [
    re.compile(r"\b\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})\b"),
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    re.compile(rf"\b(?:the\s+)?{_DAY}\s+(?:of\s+)?(?:{_MONTHS})\.?(?:,?\s+\d{{4}})?\b", re.I),
    re.compile(rf"\b(?:{_MONTHS})\.?\s+(?:the\s+)?{_DAY}(?:,?\s+\d{{4}})?\b(?!\s*(?:pm|am))"),
    re.compile(rf"\b(?:{_MONTHS})\.?,?\s+\d{{4}}\b"),
]
SCHOOL = re.compile(
    r"\b(?:St\.?\s+)?(?:[A-Z][\w'’\-]+\s+){1,3}"
    r"(?:(?:C of E|CE|RC|Catholic|Community|Church of England|Junior|Infant|Infants|Primary|"
    r"Secondary|High|Grammar|Free|Technical|Church|Federated|Studio)\s+)*"
    r"(?:School|Academy|College)\b")
STREET = re.compile(r"\b(?:[A-Z][\w'’\-]+\s+){1,2}(?:Road|Street|Close|Avenue|Lane|Drive|Way|"
                    r"Crescent|Estate|Gardens|Terrace|Grove|Park|Rise|Mews)\b")
_RELATION = (r"(?:son|daughter|boy|girl|lad|kid|child|youngest|eldest|oldest|middle one|brother|"
             r"sister|partner|husband|wife|ex|ex-partner|boyfriend|girlfriend|nan|grandson|"
             r"granddaughter|niece|nephew|friend|mate|worker|social worker|teacher|key worker|"
             r"foster carer|stepdad|stepmum)")
_CAP = r"[^\W\d_][^\W\d_'’]*(?:-[^\W\d_]+)*"  # a word; capitals are checked in code
CONTEXT = [
    re.compile(rf"\b(?:[Mm]y|[Oo]ur|[Hh]er|[Hh]is|[Tt]heir)\s+{_RELATION},?\s+({_CAP})"),
    re.compile(rf"\b(?:called|named|I'm|I am|[Tt]his is|[Nn]ame's|name is)\s+({_CAP})"),
    re.compile(rf"(?:^|[.?!]\s+)(?:Hi|Hiya|Hello|Hey),?\s+(?:I'm\s+|it's\s+)?({_CAP})"),
    re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+({_CAP})"),
    re.compile(rf"\b({_CAP})(?:'s|’s)\s+(?:mum|dad|school|worker|social worker|teacher|nan|"
               rf"brother|sister|house|room)\b"),
    re.compile(rf"\b({_CAP})\s+(?:said|says|told|asked|was saying|reckons)\b"),
    # a name opening a sentence as its subject, or standing alone ("Skye. I'm fifteen.")
    re.compile(rf"(?:^|[.?!]\s+)({_CAP})(?:\s+(?:was|is|has|had|goes|went|gets|got|lives|"
               rf"lived|and I|and me)\b|\s*[.,!?](?:\s|$))"),
]
_TOKEN = re.compile(_CAP)
_RISK_DIGITS = re.compile(r"\d[\d\s\-/]{2,}\d|\d{3,}")
_YEAR = re.compile(r"^(?:19|20)\d{2}$")


@dataclass
class Anonymiser:
    """Redacts identifiers from text. Build with ``build_anonymiser``."""

    first_names: set[str]
    surnames: set[str]
    ambiguous: set[str]
    keep: set[str]
    vocabulary: set[str]
    places: list[str] = field(default_factory=list)
    schools: list[str] = field(default_factory=list)
    known_names: set[str] = field(default_factory=set)

    def learn(self, texts: Iterable[str]) -> Anonymiser:
        """Add the ordinary (lower-case) words of a corpus to the vocabulary."""
        for text in texts:
            text = EMAIL.sub(" ", URL.sub(" ", text))
            for w in re.findall(r"\b[a-z][a-z'’\-]*\b", text):
                self.vocabulary.add(w)
                self.vocabulary.update(w.split("-"))
        return self

    def redact(self, text: str) -> str:
        """The text with identifiers replaced by tags such as [name] and [postcode]."""
        text = URL.sub("[email]", text)
        text = EMAIL.sub("[email]", text)
        text = PHONE.sub(lambda m: "[phone]" + (" " if m.group(0).endswith(" ") else ""), text)
        text = POSTCODE.sub("[postcode]", text)
        for pattern in DATES:
            text = pattern.sub("[date]", text)
        text = _replace_list(text, self.schools, "[school]")
        text = SCHOOL.sub("[school]", text)
        text = _replace_list(text, self.places, "[place]")
        text = STREET.sub("[place]", text)
        return self._names(text)

    def _names(self, text: str) -> str:
        spans: list[tuple[int, int]] = []
        for pattern in CONTEXT:
            for m in pattern.finditer(text):
                word = m.group(1)
                if word[0].isupper() and word not in self.keep and (
                        not self.ordinary(word) or self._is_name(word) or word in self.ambiguous):
                    spans.append(m.span(1))
        starts = _sentence_starts(text)
        tokens = list(_TOKEN.finditer(text))
        known_lower = {n.lower() for n in self.known_names}
        for i, m in enumerate(tokens):
            word = m.group(0)
            if word.lower() in known_lower and not word[0].isupper():
                spans.append(m.span())  # a participant's name typed in lower case
                continue
            if not word[0].isupper() or word.isupper() and word.title() not in self.first_names \
                    or word in self.keep and word not in self.known_names:
                continue
            initial = m.start() in starts
            bare = word.rstrip("'’").removesuffix("'s").removesuffix("’s")
            follows_name = i > 0 and (tokens[i - 1].span() in spans) and \
                text[tokens[i - 1].end():m.start()] == " "
            if bare in self.known_names or follows_name:
                spans.append(m.span())
            elif bare in self.ambiguous:
                if not initial:
                    spans.append(m.span())
            elif self._is_name(bare) or bare in self.surnames:
                if not initial or bare in self.first_names or bare in self.known_names:
                    spans.append(m.span())
            elif not self.ordinary(bare):
                spans.append(m.span())  # a proper noun nobody listed: a name or a place
        return _apply(text, spans, "[name]")

    def ordinary(self, word: str) -> bool:
        """Whether a word (or its plain stem: labels, worried, asking) is used lower-case."""
        w = word.lower()
        stems = {w, w[:-1] if w.endswith("s") else w, w[:-2] if w.endswith(("es", "ed", "ly"))
                 else w, w[:-3] if w.endswith("ing") else w}
        return bool(stems & self.vocabulary) or w in _TAG_WORDS

    def _is_name(self, word: str) -> bool:
        return word in self.first_names or word in self.known_names

    def risks(self, text: str) -> list[str]:
        """What in an already-redacted text could still identify someone (empty = passes)."""
        found = []
        if "@" in text or URL.search(text):
            found.append("email or web address")
        for m in _RISK_DIGITS.finditer(text):
            if not _YEAR.match(m.group(0)):
                found.append(f"digits {m.group(0)!r}")
        starts = _sentence_starts(text)
        for m in _TOKEN.finditer(text):
            word = m.group(0)
            bare = word.removesuffix("'s").removesuffix("’s")
            if not word[0].isupper() or m.start() in starts or bare in self.keep or word.isupper():
                continue
            if not self.ordinary(bare) or bare in self.first_names \
                    or bare in self.surnames:
                found.append(f"capitalised word {bare!r}")
        return found

    def passes(self, text: str) -> bool:
        return not self.risks(text)


_TAG_WORDS = {t.strip("[]") for t in TAGS}


def build_anonymiser(params=None, schools: Iterable[str] = (),
                     known_names: Iterable[str] = (), corpus: Iterable[str] = ()) -> Anonymiser:
    """An anonymiser for one site: its districts, its school names (the canonical ``schools``
    table's ``schoolname``), names known to the team (such as participants' names from a
    sign-in sheet), and the corpus whose ordinary words it learns."""
    lists = yaml.safe_load(resources.files("hampshire_research.themes").joinpath(
        "anonymise_lists.yaml").read_text(encoding="utf-8"))
    first = set(lists["first_names"]) | _nickname_names()
    keep = set(lists["keep"])
    places = []
    if params is not None:
        for d in params.districts:
            places.append(d.name)
            places += [w for w in d.name.split() if len(w) >= 4 and w.lower() not in _PLACE_STOP]
    schools = sorted({str(s).strip() for s in schools if isinstance(s, str) and s.strip()})
    known = set()
    for name in known_names:
        known.update(w for w in re.findall(_CAP, str(name)) if w[0].isupper())
    anon = Anonymiser(first_names=first, surnames=set(lists["surnames"]),
                      ambiguous=set(lists["ambiguous"]) - known, keep=keep,
                      vocabulary=set(lists["common_words"]), places=places,
                      schools=schools, known_names=known)
    anon.vocabulary -= {n.lower() for n in known}
    return anon.learn(corpus)


_PLACE_STOP = {"and", "upon", "north", "south", "east", "west", "new", "forest", "valley", "test",
               "the", "vale", "moors", "dales", "county", "city", "borough", "district"}
_NICKNAME_STOP = {"one", "little", "life", "day", "field", "green", "left", "duty", "experience",
                  "pleasant", "providence", "silence", "relief", "fall", "see", "than", "kill",
                  "link", "mock", "pink", "squat", "tick", "west", "wood", "art", "bat", "ham",
                  "gum", "hop", "hub", "ant", "app", "ford", "honey", "honor", "glory", "charity",
                  "patience", "mercy", "fate", "court", "vest", "vet", "chat", "cage", "crate",
                  "bell", "berry", "chick", "mat", "king", "junior", "governor", "nanny", "nan",
                  "sis", "dot", "van", "von", "con", "gay", "gee", "jr", "mc", "deliverance",
                  "obedience", "temperance", "pokey", "farmboy", "falcon", "california",
                  "arizona", "india", "philadelphia", "washington", "dob", "will", "may", "june",
                  "august", "hope", "faith", "grace", "joy", "mark", "bill", "rose", "frank",
                  "ray", "sandy", "penny", "rob", "guy", "max", "pat", "sue", "rich", "dee",
                  "lib", "nib", "mal", "tal", "pip", "appy", "bo", "cy", "di", "ed", "el",
                  "em", "es", "ev", "ez", "hy", "ib", "lu", "si", "sy", "mo", "hap", "haps",
                  "trix", "tine", "dutch", "wash", "lin",
                  "ara", "ren", "nat", "mee", "mees", "ree", "rea", "chan", "dahl", "dyer",
                  "smith", "ada", "ana", "ina", "ona", "ola", "eve", "kit", "ash"}


def _nickname_names() -> set[str]:
    """First names and their variants from the nicknames package data (title case)."""
    import nicknames

    names: set[str] = set()
    path = Path(nicknames.__file__).with_name("names.csv")
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for key in ("name1", "name2"):
                name = row[key].strip()
                if len(name) >= 3 and name.isalpha() and name not in _NICKNAME_STOP:
                    names.add(name.title())
    return names


def _replace_list(text: str, names: list[str], tag: str) -> str:
    """Replace listed phrases, longest first, whole words only."""
    for name in sorted(set(names), key=len, reverse=True):
        text = re.sub(rf"(?<![\w]){re.escape(name)}(?![\w])", tag, text)
    return text


def _sentence_starts(text: str) -> set[int]:
    """Offsets where a sentence (or a turn, or text after a [tag]) starts."""
    starts = {m.end() for m in re.finditer(r"(?:^|[.?!]\s+|\]\s+|[\"“‘]\s*|\n\s*)", text)}
    return starts | {m.start(1) for m in re.finditer(r"^\s*(\S)", text)}


def _apply(text: str, spans: list[tuple[int, int]], tag: str) -> str:
    out, last = [], 0
    for start, end in sorted(set(spans)):
        if start < last:
            continue
        out.append(text[last:start])
        out.append(tag)
        last = end
    out.append(text[last:])
    return re.sub(r"\[name\](?:\s+\[name\])+", "[name]", "".join(out))


def anonymise_turns(turns: pd.DataFrame, anonymiser: Anonymiser) -> pd.DataFrame:
    """Turns as they may leave the secure environment.

    Text is redacted; a turn that still carries a risk is withheld (and flagged); speakers are
    replaced by role and number within the session; file and line are dropped.
    """
    out = turns.copy()
    redacted = [anonymiser.redact(t) for t in out["text"]]
    risks = [anonymiser.risks(t) for t in redacted]
    out["passed"] = [not r for r in risks]
    out["risks"] = ["; ".join(r) for r in risks]
    out["text"] = [t if ok else WITHHELD for t, ok in zip(redacted, out["passed"], strict=True)]
    out["speaker"] = pseudonymise_speakers(out)
    return out.drop(columns=[c for c in ("file", "line") if c in out.columns])


def pseudonymise_speakers(turns: pd.DataFrame) -> list[str]:
    """'Parent/carer 2' style labels, numbered by first appearance within each session."""
    names = {"interviewer": "Interviewer", "parent_carer": "Parent/carer",
             "young_person": "Young person", "practitioner": "Practitioner",
             "manager": "Manager"}
    seen: dict[tuple[str, str], str] = {}
    counts: dict[tuple[str, str], int] = {}
    labels = []
    for sid, speaker, role in zip(turns["session_id"], turns["speaker"], turns["role"],
                                  strict=True):
        key = (sid, speaker)
        if key not in seen:
            counts[(sid, role)] = counts.get((sid, role), 0) + 1
            seen[key] = f"{names.get(role, 'Speaker')} {counts[(sid, role)]}"
        labels.append(seen[key])
    return labels


def leaked(texts: Iterable[str], identifiers: Iterable[str]) -> list[str]:
    """Identifiers that appear, as whole words, in any of the texts. A one-word name is looked
    for with its capital (so "Foster" is not found in "foster carer"); everything else in any
    case (postcodes and emails are typed either way)."""
    body = "\n".join(texts)
    found = set()
    for i in set(identifiers):
        word = re.fullmatch(r"[A-Z][^\W\d_]+", i) is not None
        flags = 0 if word else re.IGNORECASE
        if re.search(rf"(?<![\w]){re.escape(i)}(?![\w])", body, flags):
            found.add(i)
    return sorted(found)
