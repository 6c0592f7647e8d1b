"""Rule-based auto-coder for voice in case notes: plain Python, fully offline, no model.

Per sentence it looks for (1) who is speaking - the child's first name, roles ("mum", "DSL",
"YP"), and pronouns resolved to the last person of that gender; (2) how their voice got into
the record - quotation marks, reporting verbs, wishes-and-feelings words, observed behaviour,
an advocate or interpreter; (3) statements that a voice is missing and why. Headings such as
"Voice of the child:" or "Three Houses" put the lines below them in the child's voice.
The rules are general English patterns, written against the codebook and hand-written notes,
not against the synthetic generator's phrasing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from ..errors import ProjectError
from .sentences import Unit, sentence_units

COLUMNS = ["note_id", "start", "end", "who", "form", "absence"]
FORM_ORDER = ["F.MED", "F.DQ", "F.RS", "F.WF", "F.NV"]  # precedence, highest first

# --- who: roles -> (WHO, gender: f/m/n singular-unknown/p plural) ------------------------------
_ROLE_LISTS = {
    "W.PAR": {"f": ["mum", "mummy", "mam", "mom", "mother", "stepmum", "step-mum", "stepmother",
                    "step-mother", "birth mother"],
              "m": ["dad", "daddy", "father", "stepdad", "step-dad", "step dad", "stepfather",
                    "step-father", "birth father"],
              "n": ["parent", "carer", "foster carer", "kinship carer", "special guardian",
                    "guardian", "partner"],
              "p": ["parents", "carers", "foster carers", "mr and mrs"]},
    "W.SIB": {"f": ["sister", "half-sister", "half sister", "stepsister", "step-sister"],
              "m": ["brother", "half-brother", "half brother", "stepbrother", "step-brother"],
              "n": ["sibling", "twin"],
              "p": ["siblings", "brothers", "sisters"]},
    "W.FAM": {"f": ["nan", "nana", "nanna", "nanny", "gran", "granny", "grandma", "grandmother",
                    "aunt", "auntie", "aunty", "godmother", "great-grandmother",
                    "great grandmother"],
              "m": ["grandad", "granddad", "grandpa", "grandfather", "uncle", "godfather"],
              "n": ["grandparent", "cousin", "family friend", "friend of the family", "neighbour"],
              "p": ["grandparents", "safety network", "family network", "wider family"]},
    "W.PROF": {"n": ["teacher", "class teacher", "head teacher", "headteacher", "head of year",
                     "teaching assistant", "dsl", "designated safeguarding lead", "senco",
                     "school", "nursery", "college", "school nurse", "nurse", "health visitor",
                     "hv", "midwife", "gp", "doctor", "paediatrician", "consultant",
                     "police officer", "officer", "pc", "pcso", "iro",
                     "independent reviewing officer", "chair", "conference chair", "camhs",
                     "camhs worker", "therapist", "psychologist", "counsellor",
                     "school counsellor", "youth worker", "family support worker", "fsw",
                     "early help worker", "support worker", "key worker", "keyworker",
                     "housing officer", "probation officer", "yot worker", "mentor",
                     "advocate", "interpreter", "independent visitor", "intermediary",
                     "health", "education", "police"],
               "p": ["officers", "police officers", "teachers", "professionals", "agencies",
                     "school staff"]},
    "W.CYP": {"n": ["cyp", "yp", "young person", "child", "baby", "infant", "toddler", "son",
                    "daughter"],
              "p": ["children", "young people", "boys", "girls"]},
    "W.PRAC": {"n": ["sw", "social worker", "allocated worker", "practitioner", "i"],
               "p": ["we"]},
}
MEDIATORS = {"advocate", "interpreter", "independent visitor", "intermediary"}
_SUBJECT_PRONOUNS = {"he", "she", "they"}
_PLACES = {"school", "nursery", "college", "health", "education"}
_PLACE_BEFORE = re.compile(r"(?i:\b(?:at|to|from|in|into|after|before|for|attend|attends|attending|"
                           r"left|leaves|outside|around|about)\s+(?:the\s+)?$)")
_ROLE = {w: (who, g) for who, by_g in _ROLE_LISTS.items() for g, ws in by_g.items() for w in ws}
_PRONOUN = {"he": "m", "him": "m", "his": "m", "himself": "m", "she": "f", "her": "f",
            "hers": "f", "herself": "f", "they": "p", "them": "p", "their": "p"}
_ROLE_ALT = "|".join(re.escape(w).replace(r"\ ", r"[ -]") for w in sorted(_ROLE, key=len,
                                                                          reverse=True) if w != "i")
_MENTION = re.compile(
    rf"(?i:\b(?P<role>{_ROLE_ALT})\b)|(?P<I>\bI\b)|(?i:\b(?P<pron>he|him|his|himself|she|her|hers|"
    r"herself|they|them|their)\b)|(?P<title>\b(?:Mr|Mrs|Ms|Miss)\.? [A-Z][a-z]+)"
    r"|(?P<name>\b[A-Z][a-z]{1,15}\b)")
# a capitalised word counts as an unnamed person only where a person would stand
_NAME_CONTEXT = re.compile(r"(?:[’']s\b| ?\(\d{1,2}\)| (?:said|says|told|tells|explained|shared|"
                           r"stated|asked|wants|would|likes|smiled|cried|was|is|has|did|does)\b)")
_NOT_NAMES = {
    "The", "A", "An", "He", "She", "They", "It", "This", "That", "There", "Then", "When", "While",
    "As", "At", "On", "In", "If", "Due", "During", "After", "Before", "Through", "Visit", "Home",
    "Mum", "Dad", "Mother", "Father", "School", "Police", "Health", "Education", "Baby", "Nan",
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January",
    "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December", "Christmas", "Easter", "English", "No", "Yes", "Both", "All",
    "Agreed", "Contact", "Referral", "Assessment", "Plan", "Next", "Unannounced", "Telephone",
    "Strategy", "Initial", "Review", "Early", "Help", "Child", "Children", "Officers", "Her",
    "His", "Their", "My", "We", "You", "Our", "Social", "Worker", "Foster", "Carer", "Family",
    "Court", "Conference", "Because", "Although", "Following", "However", "Also", "Not", "Today",
    "Yesterday", "Tomorrow", "Phone", "Call", "Email", "Letter", "Text", "Within", "With",
    "Without", "For", "From", "To", "Of", "And", "But", "Or", "So", "Support", "Safety", "Work",
    "Polish", "Arabic", "Urdu", "Romanian", "Portuguese", "Lithuanian", "Punjabi", "Bengali",
    "Turkish", "Kurdish", "Farsi", "Pashto", "Somali", "Tigrinya", "Ukrainian", "Russian", "British",
    "Makaton", "Signs", "Mind", "House", "Words", "Pictures", "Voice", "Analysis", "Section",
}

# --- how: reporting, wishes and feelings, non-verbal -----------------------------------------
_RS = re.compile(
    r"(?i:\b(?:said|says|say|saying|told|tells|tell|telling|explained|explains|explain|shared|"
    r"shares|share|stated|states|reported|reports|report|disclosed|discloses|disclose|described|"
    r"describes|mentioned|mentions|commented|comments|expressed|expresses|asked|asks|replied|"
    r"replies|responded|responds|answered|answers|confirmed|confirms|denied|denies|admitted|"
    r"admits|acknowledged|acknowledges|agreed|agrees|complained|complains|alleged|alleges|"
    r"indicated|indicates|informed|informs|advised|advises|raised|raises|noted|notes|added|adds|"
    r"repeated|repeats|clarified|insisted|insists|voiced|wrote|writes|talked about|talks about|"
    r"spoke about|speaks about|spoke of|let (?:me|us|the \w+) know|lets (?:me|us) know|"
    r"made (?:it )?clear|(?:was|is|were) able to (?:say|tell|share|explain|talk about))\b)")
_RS_BLOCK = re.compile(r"(?i:\b(?:to|not|never|was|were|been|being|be|is|are|when|if|once|having|"
                       r"didn't|won't|wouldn't|couldn't|can't|cannot|doesn't|don't|without)\s+$)")
_WF = re.compile(
    r"(?i:(?:[’']s|s[’'])\s+(?:main\s+)?(?:wish|wishes|view|views|feelings|hope|hopes|worry|worries|"
    r"dream|dreams|preference|priority)\s+(?:is|are|was|were|remains?)\b|"
    r"\b(?:wants|wanted|would (?:really )?(?:like|love|prefer)|wishes|wished|hopes|hoped|likes|"
    r"liked|loves|loved|enjoys|dislikes|disliked|hates|hated|misses|missed|feels|felt|worries|"
    r"prefers|preferred|dreams of|"
    r"do(?:es)?(?:n[’']t| not) (?:want|like|wish)|did(?:n[’']t| not) (?:like|wish)|"
    r"(?:is|was|are|were|feels|felt|remains|seems) (?:very |really |quite |still |so |also |"
    r"increasingly |a bit |not )?(?:worried|scared|frightened|afraid|happy|sad|upset|unhappy|angry|"
    r"excited|anxious|nervous|keen|desperate|concerned|looking forward|pleased|relieved|confused|"
    r"lonely|fed up|sick of)(?! for (?:me|us|the|her|him))|"
    r"they (?:want|like|love|hope|wish|miss|enjoy|feel))\b)")
_MED_VIEW = re.compile(
    r"(?i:\b(?:wants|wanted|would (?:really )?(?:like|love|prefer)|wishes|wished|hopes|misses|"
    r"feels|felt|worries|do(?:es)?(?:n[’']t| not) (?:want|wish)|told|tells|said|says|asked|"
    r"(?:is|was|feels|felt) (?:very |really |quite |still |so )?(?:worried|scared|frightened|afraid|"
    r"happy|sad|upset|unhappy|angry|anxious|nervous|lonely))\b)")
_NV = re.compile(
    r"(?i:\b(?:smiled|smiles|smiling|laughed|laughs|laughing|giggled|giggles|giggling|cried|cries|"
    r"crying|babbled|babbles|babbling|cooed|coos|played|plays|playing|drew|draws|pointed|points|"
    r"nodded|nods|shrugged|shrugs|shook (?:his|her|their) head|turned away|hid|hides|clung|clings|"
    r"cuddled|snuggled|reached (?:for|out)|waved|hugged|made (?:good |little |no |fleeting )?eye "
    r"contact|avoided eye contact|flinched|rocked|lined up|flapped|showed me|ran to|ran away|"
    r"kept looking|looked (?:at|to|away)|went to (?:his|her|their) \w+ for comfort|sought comfort|"
    r"settled (?:quickly|well|easily)|rated|scaled|scored|put (?:himself|herself|themselves) at|"
    r"chose (?:the|a) \w+ (?:face|emoji|sticker|card)|appeared|appears|seemed|seems|presented as|"
    r"observed to|(?:was|were|is|are) (?:very |quite |a little |visibly )?(?:quiet|withdrawn|tearful|"
    r"chatty|smiley|giggly|alert|calm|engaged|relaxed|distressed|content|clingy|subdued|animated|"
    r"shy|agitated|hyper|dysregulated|settled|unsettled|vocal|playful)|was in tears|burst into tears)"
    r"\b)")
_DQ_FRAME = re.compile(r"(?i:\b(?:in (?:his|her|their|[a-z]+[’']s) own words|(?:his|her|their) "
                       r"words were|verbatim|in writing|wrote|written|statement|letter)\b)")
_MED_CUE = re.compile(r"(?i:\b(?:advocate|interpreter|independent visitor|intermediary|signer)\b)")
_PRAC = re.compile(
    r"(?i:\b(?:in my (?:professional )?(?:view|opinion|judgement)|my (?:main |professional )?"
    r"(?:view|assessment|analysis|opinion|judgement|concern|concerns|worry|worries|hypothesis) "
    r"(?:is|are|remains?|was)|I (?:am|remain|feel|felt|was|have been) (?:very |increasingly |still |"
    r"now |also )?(?:worried|concerned)|I (?:think|believe|consider|feel that|am of the view|"
    r"would recommend|recommend|have (?:some |significant |no )?concerns|am not (?:satisfied|"
    r"reassured)|am satisfied|am reassured)|it is my (?:view|assessment|opinion)|the (?:social )?"
    r"worker (?:is|remains) (?:worried|concerned|of the view)|SW (?:is|remains) (?:worried|"
    r"concerned|of the view))\b)")
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I’m|I've|I’ve|me|my|we)\b")

# --- absence ---------------------------------------------------------------------------------
_ABSENCE = [  # checked in order; NOTALONE before NOTSEEN ("not seen alone")
    ("A.TOOYOUNG", re.compile(
        r"(?i:\btoo young\b|\bpre-?verbal\b|\bnot old enough\b|\b(?:due to|because of|given) "
        r"(?:his|her|their|the child[’']s|[a-z]+[’']s) (?:young )?age\b|\bdue to (?:his|her|their) "
        r"(?:age|developmental stage)\b|\bage and (?:stage of )?development\b[^.]*\b(?:not|unable)\b)")),
    ("A.BARRIER", re.compile(
        r"(?i:\bno (?:interpreter|signer|communication aid|translator|bsl interpreter)\b|\bwithout "
        r"an? (?:interpreter|signer|communication aid)\b|\blanguage barrier\b|\b(?:limited|little|no)"
        r" english\b|\b(?:interpreter|communication aid|signer|translator)\b[^.;]*\b(?:not|unavailable|"
        r"cancelled|did not attend)\b|\b(?:due to|because of) (?:his|her|their) (?:autism|disability|"
        r"learning disability|communication (?:needs|difficulties)|hearing|speech)[^.;]*\b(?:not|unable)"
        r"\b|\bunable to communicate\b)")),
    ("A.DECLINED", re.compile(
        r"(?i:\b(?:would not|wouldn[’']t|refused to) (?:speak|talk|engage|answer|come)\b|"
        r"\b(?:declined|refused|chose not|did not want|didn[’']t want|does not want|doesn[’']t "
        r"want|would not|wouldn[’']t|did not wish|was not willing|was unwilling|is unwilling|not "
        r"willing|was reluctant|is reluctant) to (?:\w+ ){0,2}?(?:talk|speak|engage|meet|be seen|be "
        r"spoken|answer|open up|take part|participate|come out|come down|come to the door|see (?:me|"
        r"us|the (?:social )?worker)|share (?:his|her|their) (?:views|wishes|feelings))\b|\bdeclined "
        r"(?:the|a|any|my) (?:visit|meeting|direct work|offer|session)\b|\b(?:declined|refused) to "
        r"(?:do|complete|engage in) (?:any |the )?direct work\b)")),
    ("A.NOTALONE", re.compile(
        r"(?i:\bnot (?:been )?(?:seen|spoken to|spoken with|visited)\b[^.;]{0,40}?\b(?:alone|on (?:his|"
        r"her|their) own|by (?:himself|herself|themselves)|separately)\b|\b(?:unable|not able|not "
        r"possible|could not|couldn[’']t|did not get (?:a|the) chance) to (?:see|speak (?:to|with)|talk "
        r"(?:to|with))\b[^.;]{0,25}?\b(?:alone|on (?:his|her|their) own|separately)\b|\b(?:present|"
        r"(?:remained|stayed|was|were) in the room) throughout\b|\bwould not (?:allow|let) (?:me|us|the"
        r" \w+(?: \w+)?) (?:to )?(?:see|speak|talk)\b|\b(?:seen|spoken to|visited)\b(?: \w+){0,3} "
        r"with (?:\w+ ){0,3}(?:present|in the room)\b|\bno (?:time|opportunity) (?:alone|to (?:see|"
        r"speak (?:to|with)) \w+ alone)\b)")),
    ("A.NOTSEEN", re.compile(
        r"(?i:\bnot (?:been )?seen\b|\b(?:did not|didn[’']t|could not|couldn[’']t|was unable to|were "
        r"unable to|unable to|not able to) see\b|\b(?:was|were|is) not (?:available|at home|home|"
        r"present)\b|\bhas not been seen\b|\bwas not in\b)")),
    ("A.NOTSOUGHT", re.compile(
        r"(?i:\b(?:views?|wishes|feelings|voice|thoughts)\b(?: \w+){0,5}? (?:were|was|have|has|had|are|"
        r"is|could|can) not (?:yet )?(?:been |be )?(?:sought|obtained|gathered|gained|recorded|"
        r"explored|ascertained|captured|established|known|clear|heard|asked)\b|\b(?:views?|wishes "
        r"and feelings|voice)\b[^.;]{0,40}\b(?:will|to) be (?:sought|gathered|obtained|explored|"
        r"captured|ascertained|completed)\b|\bnot (?:yet )?(?:been )?(?:spoken to|spoken with|asked|"
        r"consulted)\b|\bno direct work\b|\bnot possible to (?:gain|obtain|get|gather|seek)\b|"
        r"\b(?:views?|wishes) (?:are |were )?(?:unknown|not known)\b|\b(?:did not|didn[’']t|was "
        r"unable to|could not) (?:speak|talk) (?:to|with)\b|\bwithout (?:seeking|speaking to|"
        r"asking)\b)")),
]
_ABSENCE_OF_CHILD_ONLY = {"A.TOOYOUNG", "A.BARRIER", "A.NOTALONE"}

_QUOTES = re.compile(r"“[^“”\n]*”?|\"[^\"\n]*\"|‘(?:[^‘’\n]|’(?=\w))*’|(?<![\w’'])'(?=\w)[^'\n]*?"
                     r"(?<=[\w.!?,])'(?!\w)")


class _Mention:
    __slots__ = ("start", "end", "who", "gender", "kind", "text")

    def __init__(self, start, end, who, gender, kind, text):
        self.start, self.end, self.who, self.gender = start, end, who, gender
        self.kind, self.text = kind, text


def _mask_quotes(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Text with quoted words blanked (so "I" inside a quote is not the author) and the quote spans."""
    spans = []
    chars = list(text)
    for m in _QUOTES.finditer(text):
        inner = m.group(0)[1:-1] if len(m.group(0)) > 1 else ""
        words = inner.split()
        if len(words) >= 2 or _FIRST_PERSON.search(inner):
            spans.append((m.start(), m.end()))
            for i in range(m.start() + 1, m.end() - 1):
                if chars[i] != "\n":
                    chars[i] = " "
    return "".join(chars), spans


def _mentions(masked: str, child: str | None, unit_starts: list[int]) -> list[_Mention]:
    """People mentioned in order, pronouns resolved to the last person of that gender (child by
    default: notes are written about the child)."""
    out: list[_Mention] = []
    slots = {"f": "W.CYP", "m": "W.CYP", "p": "W.CYP"}
    child_gender: str | None = None
    last_explicit: _Mention | None = None
    child_l = child.lower() if child else None
    unit_i = -1
    subject: _Mention | None = None  # first person mentioned in the current sentence
    prev_subject: _Mention | None = None
    for m in _MENTION.finditer(masked):
        kind = m.lastgroup
        word = m.group(0)
        new_unit = False
        while unit_i + 1 < len(unit_starts) and m.start() >= unit_starts[unit_i + 1]:
            unit_i += 1
            new_unit = True
        if new_unit:
            prev_subject, subject = (subject or prev_subject), None
        if kind == "name":
            if child_l and word.lower() == child_l:
                who, g = "W.CYP", child_gender or "n"
            elif word in _NOT_NAMES or not _NAME_CONTEXT.match(masked, m.end()):
                continue
            else:
                who, g = ("W.SIB" if child_l else "W.CYP"), "n"
        elif kind == "title":
            who, g = "W.PAR", "n"
        elif kind == "I":
            who, g = "W.PRAC", "i"
        elif kind == "pron":
            g = _PRONOUN[word.lower()]
            if (child_gender is None and g in "fm" and last_explicit is not None
                    and last_explicit.kind == "name" and last_explicit.who == "W.CYP"
                    and m.start() - last_explicit.end < 60):
                child_gender = g
            who = slots[g]
            if (subject is None and word.lower() in _SUBJECT_PRONOUNS and prev_subject is not None
                    and prev_subject.who != "W.PRAC" and prev_subject.gender in ("n", g)):
                who = prev_subject.who  # a sentence-initial "she" continues the last subject
            men = _Mention(m.start(), m.end(), who, g, "pron", word)
            out.append(men)
            subject = subject or men
            continue
        else:
            low = re.sub(r"[ -]+", " ", word.lower())
            who, g = _ROLE.get(low, _ROLE.get(low.replace(" ", "-"), ("W.PROF", "n")))
            if low in _PLACES and _PLACE_BEFORE.search(masked, max(0, m.start() - 20), m.start()):
                continue
        if who == "W.CYP" and kind == "name" and child_gender:
            g = child_gender
        men = _Mention(m.start(), m.end(), who, g, kind, word)
        out.append(men)
        last_explicit = men
        subject = subject or men
        if g == "n":
            slots["f"] = slots["m"] = slots["p"] = who
        elif g in "fm":
            slots[g] = who
            slots["p"] = who
        elif g == "p":
            slots["p"] = who
    return out


def _nearest_before(mentions: list[_Mention], pos: int, lo: int, max_gap: int,
                    subject: bool = False) -> _Mention | None:
    """The person mentioned last before pos in the sentence (as a subject: not "his", "her")."""
    best = None
    for men in mentions:
        if men.end > pos:
            break
        if men.start >= lo and not (subject and men.kind == "pron"
                                    and men.text.lower() not in _SUBJECT_PRONOUNS):
            best = men
    if best is None or pos - best.end > max_gap:
        return None
    return best


def _code_unit(text: str, masked: str, unit: Unit, mentions: list[_Mention],
               quotes: list[tuple[int, int]], last_voice: list[str]) -> list[tuple]:
    lo, hi = unit.start, unit.end
    seg = masked[lo:hi]
    ms = [m for m in mentions if lo <= m.start < hi]
    rows: list[tuple] = []

    # absence statements
    absent: set[str] = set()
    for code, pat in _ABSENCE:
        m = pat.search(seg)
        if not m:
            continue
        if code == "A.NOTSOUGHT" and absent & {"A.TOOYOUNG", "A.BARRIER", "A.DECLINED", "A.NOTALONE"}:
            continue
        if code == "A.NOTSEEN" and "A.NOTALONE" in absent:
            continue
        subj = _nearest_before(ms, lo + m.start(), lo, 120)
        who = subj.who if subj else "W.CYP"
        if who in ("W.PRAC", "W.PROF"):
            after = [x for x in ms if x.start >= lo + m.start() and x.who not in ("W.PRAC", "W.PROF")]
            who = after[0].who if after else "W.CYP"
        if code in _ABSENCE_OF_CHILD_ONLY and who not in ("W.CYP", "W.SIB"):
            who = "W.CYP"
        absent.add(code)
        rows.append((who, None, code))

    voice: dict[str, str] = {}

    def add(who: str, form: str) -> None:
        if who == "W.PRAC":
            return
        if who not in voice or FORM_ORDER.index(form) < FORM_ORDER.index(voice[who]):
            voice[who] = form

    in_quote = [(s, e) for s, e in quotes if lo <= s < hi]
    # reported speech: a speaker, then a reporting verb; what follows is their content
    first_rs = None
    speakers: list[tuple[_Mention, int]] = []
    for m in _RS.finditer(seg):
        if _RS_BLOCK.search(seg[max(0, m.start() - 12):m.start()]):
            continue
        if m.group(0).lower() in ("wrote", "writes") and not re.match(r"\s*(?::|that|[\"“‘'])",
                                                                       seg[m.end():]):
            continue
        if not seg[m.end():].strip(" .,"):
            after = _nearest_after(ms, lo + m.end(), 3)
            if after is None:
                continue
        spk = _nearest_before(ms, lo + m.start(), lo, 45, subject=True)
        if spk is None or (first_rs is not None and spk.start < lo + first_rs):
            # "..., said Ellie" / a verb whose speaker follows it
            spk = _nearest_after(ms, lo + m.end(), 3) if spk is None else spk
            if spk is None:
                continue
        if first_rs is not None and spk.who != speakers[0][0].who and not re.search(
                r"[;]|,\s*(?:and|but|while)\b|\b(?:but|while|whereas)\b", seg[first_rs:m.start()]):
            continue  # speech inside someone else's report: weighed below as mediated, or not at all
        if first_rs is None:
            first_rs = m.start()
        speakers.append((spk, lo + m.start()))
        if spk.who == "W.PRAC":
            continue
        mediated = spk.who == "W.CYP" and _MED_CUE.search(seg)
        if spk.who != "W.CYP" and (spk.text.lower() in MEDIATORS or spk.who in ("W.PAR", "W.FAM",
                                                                                  "W.PROF")):
            child_in = [x for x in ms if x.start >= lo + m.end() and x.who == "W.CYP"]
            if child_in and (spk.text.lower() in MEDIATORS or _MED_VIEW.search(
                    masked[child_in[0].end:hi])):
                add("W.CYP", "F.MED")
                continue
        add(spk.who, "F.MED" if mediated else "F.RS")
    # direct quotes go to the nearest speaker, or the heading's owner, or the last voice
    if in_quote:
        qs = in_quote[0][0]
        if speakers:
            spk = min(speakers, key=lambda s: abs(s[1] - qs))[0]
            who = spk.who
        else:
            frame = _DQ_FRAME.search(seg) or re.search(r":\s*$", masked[lo:qs])
            near = _nearest_before(ms, qs, lo, 80)
            if near is not None and (frame or near.who != "W.PRAC"):
                who = near.who
            elif unit.section and unit.section != "W.PRAC":
                who = unit.section
            elif _FIRST_PERSON.search(text[qs:in_quote[0][1]]):
                who = last_voice[0] if last_voice else "W.CYP"
            else:
                who = None
        if who and who != "W.PRAC":
            if who in voice and voice[who] == "F.MED":
                pass
            elif who == "W.CYP" and voice.get("W.CYP") is None and not speakers and any(
                    x.who != "W.CYP" and x.text.lower() in MEDIATORS for x in ms):
                add("W.CYP", "F.MED")
            else:
                voice[who] = "F.DQ" if voice.get(who) != "F.MED" else "F.MED"
    elif _DQ_FRAME.search(seg) and re.search(r"(?i)own words|words were|verbatim", seg):
        near = _nearest_before(ms, lo + _DQ_FRAME.search(seg).end(), lo, 80)
        add(near.who if near else (unit.section or "W.CYP"), "F.DQ")
    # wishes and feelings, non-verbal: subject right before the word, not inside someone's report
    limit = lo + first_rs if first_rs is not None else hi
    prac = _PRAC.search(seg) if unit.section not in ("W.CYP", "W.PAR", "W.FAM", "W.PROF") else None
    if prac:  # "In my view Mia is settled": what follows is the author's view
        limit = min(limit, lo + prac.start())
    for pat, form, gap in ((_WF, "F.WF", 30), (_NV, "F.NV", 60)):
        for m in pat.finditer(masked, lo, limit):
            subj = _nearest_before(ms, m.start(), lo, gap, subject=True)
            if subj is None:
                continue
            if re.search(r"(?i)\b(?:his|her|their|my|your|our)\s+$", masked[lo:m.start()]):
                continue  # "her wishes", "his feelings": a noun, not a verb
            between = masked[subj.end:m.start()]
            if form == "F.WF" and re.search(r"[.;:!?]|\b(?:and|but|that|which|who)\b", between):
                continue
            if form == "F.NV" and subj.who not in ("W.CYP", "W.SIB"):
                continue
            add(subj.who, form)
    # the author's own view
    if prac:
        rows.append(("W.PRAC", None, None))
    # a heading such as "Voice of the child:" makes an uncoded sentence that person's view
    if (unit.section and unit.section != "W.PRAC" and not voice and not absent
            and not (ms and ms[0].who not in (unit.section, "W.PRAC"))):
        first_person = _FIRST_PERSON.search(seg)
        if not (first_person and any(x.who == unit.section and x.kind != "pron" for x in ms)):
            add(unit.section, "F.DQ" if first_person else "F.WF")
    for who, form in voice.items():
        missing = {r[2] for r in rows if r[0] == who and r[2]}
        if missing - {"A.NOTALONE"} and not (form == "F.NV" and missing <= {"A.TOOYOUNG",
                                                                            "A.BARRIER"}):
            continue
        rows.append((who, form, None))
        last_voice[:] = [who]
    return rows


def _nearest_after(mentions: list[_Mention], pos: int, max_gap: int) -> _Mention | None:
    for men in mentions:
        if men.start >= pos:
            return men if men.start - pos <= max_gap else None
    return None


def code_note(text: str, child_first_name: str | None = None) -> list[tuple[int, int, str, str | None,
                                                                              str | None]]:
    """Coded segments of one note: (start, end, who, form, absence), sentence by sentence."""
    if not text:
        return []
    child = child_first_name.strip() if isinstance(child_first_name, str) and child_first_name.strip() \
        else None
    masked, quotes = _mask_quotes(text)
    units = sentence_units(text, child)
    mentions = _mentions(masked, child, [u.start for u in units])
    out = []
    last_voice: list[str] = []
    who_rank = {w: i for i, w in enumerate(["W.CYP", "W.SIB", "W.PAR", "W.FAM", "W.PRAC", "W.PROF"])}
    for unit in units:
        rows = _code_unit(text, masked, unit, mentions, quotes, last_voice)
        for who, form, absence in sorted(set(rows), key=lambda r: (r[2] is not None, who_rank[r[0]],
                                                                    r[1] or "", r[2] or "")):
            out.append((unit.start, unit.end, who, form, absence))
    return out


def autocode(notes: pd.DataFrame | Iterable[dict]) -> pd.DataFrame:
    """One row per coded segment: note_id, start, end (exclusive), who, form, absence.

    `notes` needs note_id and text; child_first_name, when present, lets the coder tell the
    child from other people named in the note.
    """
    df = notes if isinstance(notes, pd.DataFrame) else pd.DataFrame(list(notes))
    for col in ("note_id", "text"):
        if col not in df.columns:
            raise ProjectError(f"notes need a {col!r} column", field=col)
    names = df["child_first_name"] if "child_first_name" in df.columns else [None] * len(df)
    rows = []
    for note_id, text, name in zip(df["note_id"], df["text"], names):
        if not isinstance(text, str):
            continue  # no text: nothing to code (coverage counts these notes as having no text)
        for start, end, who, form, absence in code_note(text, name):
            rows.append((note_id, start, end, who, form, absence))
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.astype({"start": "int64", "end": "int64"})
