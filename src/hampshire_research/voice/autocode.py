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
from bisect import bisect_left
from collections.abc import Iterable
from importlib.resources import files

import pandas as pd
import yaml

from ..errors import ProjectError
from .sentences import Unit, sentence_units
from .triggers import lowered, triggers

COLUMNS = ["note_id", "start", "end", "who", "form", "absence"]
FORM_ORDER = ["F.MED", "F.DQ", "F.RS", "F.WF", "F.NV"]  # precedence, highest first

# --- who: roles -> (WHO, gender: f/m/n singular-unknown/p plural), from roles.yaml ------------
_LEXICON = yaml.safe_load((files("hampshire_research.voice") / "roles.yaml").read_text(encoding="utf-8"))
_ROLE_LISTS: dict[str, dict[str, list[str]]] = _LEXICON["roles"]
MEDIATORS = set(_LEXICON["mediators"])
_PROF_TITLES = set(_LEXICON["professional_titles"])
_SUBJECT_PRONOUNS = {"he", "she", "they"}
_PLACES = {"school", "nursery", "college", "health", "education"}
_PLACE_BEFORE = re.compile(r"(?i:\b(?:at|to|from|in|into|after|before|for|attend|attends|attending|"
                           r"left|leaves|outside|around|about)\s+(?:the\s+)?$)")
_ROLE = {w: (who, g) for who, by_g in _ROLE_LISTS.items() for g, ws in by_g.items() for w in ws}
_PRONOUN = {"he": "m", "him": "m", "his": "m", "himself": "m", "she": "f", "her": "f",
            "hers": "f", "herself": "f", "they": "p", "them": "p", "their": "p"}
_PHRASES: dict[str, list[tuple[str, ...]]] = {}  # first word -> role phrases, longest first
for _w in sorted(_ROLE, key=lambda w: -len(re.split(r"[ -]", w))):
    _parts = tuple(re.split(r"[ -]", _w))
    _PHRASES.setdefault(_parts[0], []).append(_parts)
_STARTS = set(_PHRASES) | set(_PRONOUN) | {"you"}  # lower-case words a mention can start with
_TOKEN = re.compile(r"[A-Z][a-z]+(?:-[A-Z][a-z]+)+|[A-Za-z]+")  # "Ruby-Mae" is one name
_NAME_WORD = re.compile(r"[A-Z][a-z]{1,15}(?:-[A-Z][a-z]{1,15})*")
_TITLES = {"Mr", "Mrs", "Ms", "Miss"} | _PROF_TITLES
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+\b")
_SPACES = re.compile(r"[ -]+")


def _mention_matches(masked: str):
    """(start, end, kind, text) of every role, "I", pronoun, title + surname and capitalised word,
    left to right; a role phrase ("foster carer", "step-dad") is matched longest first."""
    toks = list(_TOKEN.finditer(masked))
    i, n = 0, len(toks)
    while i < n:
        w = toks[i][0]
        if w.islower() and w not in _STARTS:
            i += 1
            continue  # most words: in lower case and starting no role, pronoun or "you"
        s0, e0 = toks[i].span()
        low = w.lower()
        done = False
        for phrase in _PHRASES.get(low, ()):
            k = len(phrase)
            if i + k > n:
                continue
            ok = True
            for j in range(1, k):
                pe, pw = toks[i + j - 1].end(), toks[i + j]
                if pw[0].lower() != phrase[j] or pw.start() - pe != 1 or masked[pe] not in " -":
                    ok = False
                    break
            if ok:
                e = toks[i + k - 1].end()
                yield s0, e, "role", masked[s0:e]
                i += k
                done = True
                break
        if done:
            continue
        if w == "I":
            yield s0, e0, "I", w
        elif low == "you":
            yield s0, e0, "you", w  # a record written to the child: "You told me ..."
        elif low in _PRONOUN:
            yield s0, e0, "pron", w
        elif w in _TITLES and i + 1 < n and _NAME_WORD.fullmatch(toks[i + 1][0]) and \
                masked[e0:toks[i + 1].start()] in (" ", ". "):
            yield s0, toks[i + 1].end(), "title", masked[s0:toks[i + 1].end()]
            i += 2
            continue
        elif _NAME_WORD.fullmatch(w):
            yield s0, e0, "name", w
        i += 1


# a capitalised word counts as an unnamed person only where a person would stand; at the start
# of a sentence ("What matters...", "Later ...") only before a word a person does
_NAME_CONTEXT_START = re.compile(r"(?:[’']s\b| ?\(\d{1,2}\)| (?:said|says|told|tells|was|is|has|had|"
                                 r"would|wants|feels|did|does|drew|smiled|smiles|made|became|pushed|clung|"
                                 r"cried|laughed|giggled|hid|ran|reached|crawled|played|chose|wrote|pointed|"
                                 r"nodded|shrugged|asked|explained|shared|disclosed|described|mentioned|"
                                 r"likes|loves|hates|misses|seemed|appeared|stayed|refused|declined|"
                                 r"whispered|shouted|screamed|signed|pressed)\b)")
_NAME_CONTEXT = re.compile(r"(?:[’']s\b| ?\(\d{1,2}\)| (?:said|told|would|was|is|has|did|does|became|"
                           r"drew|went|put|chose|ran|hid|kept|made|felt|took|gave|got|sat|held|"
                           r"[a-z]+ed|[a-z]+[^s]s)\b)")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\n•*\-\"“(]\s*)$")
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
    "What", "Who", "Where", "Why", "How", "Which", "Using", "Later", "Throughout", "Since", "Until",
}

# --- how: reporting, wishes and feelings, non-verbal -----------------------------------------
_RS = re.compile(
    r"(?i:\b(?:said|says|say|saying|told|tells|tell|telling|explained|explains|explain|shared|"
    r"shares|share|stated|states|reported|reports|report|disclosed|discloses|disclose|described|"
    r"describes|mentioned|mentions|commented|comments|expressed|expresses|asked|asks|replied|"
    r"replies|responded|responds|answered(?! the (?:door|phone))|answers(?! the (?:door|phone))|"
    r"confirmed|confirms|denied|denies|admitted|"
    r"admits|acknowledged|acknowledges|agreed|agrees|complained|complains|alleged|alleges|"
    r"indicated|indicates|informed|informs|advised|advises|raised(?! (?:his|her|their) voice)|"
    r"raises|noted|notes|added|adds|"
    r"repeated|repeats|clarified|insisted|insists|voiced|wrote|writes|emailed|chatted|chats|whispered|"
    r"whispers|confided|confides|recalled|recalls|recounted|recounts|requested|requests|claimed|claims|"
    r"revealed|reveals|maintained|maintains|begged|begs|pleaded|pleads|screamed|shouted|yelled|"
    r"muttered|mumbled|joked|protested|opened up|talked (?:to|with) (?:me|us|\w+) about|spoke (?:to|"
    r"with) (?:me|us|\w+) about|talked about|talks about|"
    r"spoke about|speaks about|spoke of|let (?:me|us|the \w+) know|lets (?:me|us) know|"
    r"made (?:it )?clear|(?:was|is|were) able to (?:say|tell|share|explain|talk about)|"
    r"went on to (?:say|tell|explain|share|describe)|(?:was|is|were|are) clear that|passed on|"
    r"relayed|conveyed|(?:felt|feels|feel) that|signed|signs|typed|texted|(?:was|is|were|are|remains?) "
    r"of the (?:view|opinion)|disagreed|disagrees)\b)")
_WRITTEN = {"wrote", "writes", "typed", "texted", "emailed"}  # the child's own written words: a direct quote
_RS_WEAK = {"signed", "signs", "typed", "texted", "added", "adds", "noted", "notes", "raised",
            "raises", "agreed", "agrees", "repeated", "repeats", "indicated", "indicates", "confirmed",
            "confirms"}
_CONTENT_AFTER = re.compile(r"\s*(?:that\b|what\b|how\b|to\b|[:,]?\s*[\"“‘']|(?:he|she|they|it|there|this|"
                            r"the|his|her|their|mum|dad|[A-Z][a-z]+)\b|[.;]|$)")
_RELAY = re.compile(r"(?i:\b(?:passed on|relayed|conveyed)\b|\bread out (?:a |the |his |her |their )?"
                    r"(?:letter|statement|message)\b|[’']s message\b|\b(?:shared|read out|gave|put "
                    r"forward|presented) [A-Z][\w-]+[’']s (?:view|views|wish|wishes)\b|\b(?:views|wishes) "
                    r"(?:were|was) (?:shared|passed on|relayed|given|put forward) by\b)")
_RS_BLOCK = re.compile(r"(?i:\b(?:to|not|never|was|were|been|being|be|is|are|when|if|once|having|"
                       r"didn't|won't|wouldn't|couldn't|can't|cannot|doesn't|don't|without)\s+$)")
_WF = re.compile(
    r"(?i:(?:[’']s|s[’'])\s+(?:main\s+|biggest\s+|greatest\s+|only\s+)?(?:wish|wishes|view|views|"
    r"feelings|hope|hopes|worry|worries|"
    r"dream|dreams|preference|priority)\s+(?:is|are|was|were|remains?)\b|"
    r"\b(?:wants|wanted|would (?:really )?(?:like|love|prefer)|wishes|wished|hopes|hoped|likes|"
    r"liked|loves|loved|enjoys|dislikes|disliked|hates|hated|misses|missed|feels|felt|worries|"
    r"prefers|preferred|dreams of|thinks|believes|believed|would rather|(?:is|was|remains) adamant|"
    r"(?:is|was|remains) (?:still )?unsure|"
    r"do(?:es)?(?:n[’']t| not) (?:want|like|wish)|did(?:n[’']t| not) (?:like|wish)|"
    r"(?:is|was|are|were|feels|felt|remains|seems) (?:very |really |quite |still |so |also |"
    r"increasingly |a bit |not )?(?:worried|scared|frightened|afraid|happy|sad|upset|unhappy|angry|"
    r"excited|anxious|nervous|keen|desperate|concerned|looking forward|pleased|relieved|confused|"
    r"lonely|fed up|sick of|happiest|happier|safest|safer)(?! for (?:me|us|the|her|him))|"
    r"they (?:want|like|love|hope|wish|miss|enjoy|feel))\b)")
_MED_VIEW = re.compile(  # right after the child: "Ellie wants", "she has said"
    r"(?i:\s+(?:has |have |had |is |was |also |still |really |does |did |keeps |would |has been |"
    r"had been |often |always |sometimes |now )?"
    r"(?:wants|wanted|would (?:really )?(?:like|love|prefer)|wishes|wished|hopes|misses|"
    r"feels|felt|worries|do(?:es)?(?:n[’']t| not) (?:want|wish|like)|told|tells|said|says|saying|"
    r"asked|asks|asking|talking|talked|disclosed|explained|shared|described|mentioned|loves|"
    r"loved|likes|liked|enjoys|hates|hated|refuses|refused|refusing|begs|begged|cries|cried|"
    r"crying|(?:is|was|feels|felt|seems|has been|had been|been) (?:very |really |quite |still |so |"
    r"much |a lot |far |a bit |not )?(?:worried|scared|frightened|afraid|happy|happier|sad|upset|"
    r"unhappy|angry|anxious|nervous|lonely|excited|keen|confused))\b)")
_CHILD_SPEAKS = re.compile(r"(?i:\s+(?:has |had |has been |had been |keeps |also )?(?:told|tells|"
                           r"said|says|saying|asked|asks|asking|disclosed)\b)")
_NV = re.compile(
    r"(?i:\b(?:pressed|presses|tapped|taps|selected|selects|"
    r"smiled|smiles|smiling|laughed|laughs|laughing|giggled|giggles|giggling|cried|cries|"
    r"crying|babbled|babbles|babbling|cooed|coos|played|plays|playing|drew|draws|pointed|points|"
    r"nodded|nods|shrugged|shrugs|shook (?:his|her|their) head|turned away|hid|hides|clung|clings|"
    r"cuddled|snuggled|reached (?:for|out)|waved|hugged|made (?:good |little |no |fleeting )?eye "
    r"contact|avoided eye contact|flinched|rocked|lined up|flapped|showed me|ran to|ran away|"
    r"kept looking|looked (?:at|to|away)|went to (?:his|her|their) \w+ for comfort|sought comfort|"
    r"settled (?:quickly|well|easily)|rated|scaled|scored|put (?:himself|herself|themselves) at|"
    r"chose (?:the|a) \w+ (?:face|emoji|sticker|card)|appeared|appears|seemed|seems|presented as|"
    r"observed to|(?:was|were|is|are) (?:very |quite |a little |visibly )?(?:quiet|withdrawn|tearful|"
    r"chatty|smiley|giggly|alert|calm|engaged|relaxed|distressed|content|clingy|subdued|animated|"
    r"shy|agitated|hyper|dysregulated|settled|unsettled|vocal|playful)|was in tears|burst into tears|"
    r"became (?:\w+ )?(?:tearful|upset|unsettled|distressed|quiet|withdrawn|angry|agitated|"
    r"animated|anxious|calm|silent)|arched (?:his|her|their) back|put (?:his|her|their) hands over|"
    r"kept (?:his|her|their) head down|did not make eye contact|pushed (?:the \w+ )?away|"
    r"crawled|toddled|picked the \w+ face|chose (?:the |a )?[\"“']?\w+[\"”']? (?:face|card|picture|"
    r"symbol|emoji|sticker)|chose \d+|"
    r"\d+ out of (?:10|ten)|raised (?:his|her|their) voice|held (?:on to|onto)|(?:gave|gives|"
    r"giving) (?:me |us )?(?:a |the )?thumbs (?:up|down)|went (?:very )?(?:quiet|silent|red|pale)|"
    r"calmed down)"
    r"\b)")
_DQ_FRAME = re.compile(r"(?i:\b(?:in (?:his|her|their|[a-z]+[’']s) own words|(?:his|her|their) "
                       r"words were|verbatim|in writing|wrote|written|statement|letter)\b)")
_MED_CUE = re.compile(r"(?i:\b(?:advocate|interpreter|independent visitor|intermediary|signer)\b)")
_PRAC = re.compile(
    r"(?i:\b(?:in my (?:professional )?(?:view|opinion|judgement)|my (?:main |professional )?"
    r"(?:view|assessment|analysis|opinion|judgement|concern|concerns|worry|worries|hypothesis|sense|"
    r"impression|recommendation|belief) "
    r"(?:is|are|remains?|was)|I (?:am|remain|feel|felt|was|have been) (?:very |increasingly |still |"
    r"now |also |not )?(?:worried|concerned|reassured|confident|satisfied)|I (?:think|believe|"
    r"consider|feel|felt|agree|disagree|share|do not (?:think|agree|believe|feel)|don[’']t (?:think|"
    r"agree|believe)|am of the (?:view|opinion)|would recommend|recommend|have (?:some |significant |"
    r"no |real |serious )?concerns|am not (?:satisfied|reassured|confident)|am satisfied|am reassured|"
    r"am pleased|was pleased|hope|suspect|wonder)|it is my (?:professional )?(?:view|assessment|"
    r"opinion|judgement|belief|understanding)|the (?:social )?"
    r"worker (?:is|remains) (?:worried|concerned|of the view)|SW (?:is|remains) (?:worried|"
    r"concerned|of the view))\b|\b(?:social )?worker[’']s (?:analysis|view|assessment|opinion):)")
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I’m|I've|I’ve|me|my|we)\b")

# --- absence ---------------------------------------------------------------------------------
_ABSENCE = [  # checked in order; NOTALONE before NOTSEEN ("not seen alone")
    ("A.TOOYOUNG", re.compile(
        r"(?i:\b(?:too|so|very) young\b|\b(?:preverbal|pre-verbal)\b|\bnot old enough\b|"
        r"\b(?:due to|because of|given) "
        r"(?:his|her|their|the child[’']s|[a-z]+[’']s) (?:young )?age\b|\bdue to (?:his|her|their) "
        r"(?:age|developmental stage)\b|\bage and (?:stage of )?development\b[^.]*\b(?:not|unable)\b|"
        r"\b(?:is|was) (?:only )?(?:\d{1,2}|one|two|three)(?: months?| years?)?(?: old)? and (?:is |was )?"
        r"(?:not able to|unable to|cannot|can[’']t|could not|couldn[’']t) (?:say|tell|share|give|"
        r"express|explain)\b|\bbecause of (?:his|her|their) age\b)")),
    ("A.BARRIER", re.compile(
        r"(?i:\bno (?:interpreter|signer|communication aid|translator|bsl interpreter)\b|\bwithout "
        r"an? (?:interpreter|signer|communication aid)\b|\blanguage barrier\b|\b(?:limited|little|no)"
        r" english\b|\b(?:interpreter|communication aid|signer|translator)\b[^.;]{0,25}?\b(?:not "
        r"(?:available|booked|present|arranged|provided|there)|unavailable|cancelled|did not "
        r"(?:attend|arrive))\b|\b(?:due to|because of) (?:his|her|their) (?:autism|disability|"
        r"learning disability|communication (?:needs|difficulties)|hearing|speech)[^.;]*\b(?:not|unable)"
        r"\b|\bunable to communicate\b|\b(?:not able to|unable to|could not|couldn[’']t) (?:understand|"
        r"communicate with)\b|\bno (?:\w+ )?(?:interpreter|signer|translator)\b|\b(?:interpreter|signer|"
        r"translator)\b[^.;]{0,25}?\b(?:could not|couldn[’']t|had not|has not|hadn[’']t|was not|wasn[’']t) "
        r"(?:be |been )?(?:booked|found|arranged|available|provided)\b|\bwithout (?:his|her|their|an?|"
        r"the) (?:\w+ ){0,2}?(?:aid|device|app|board|book|cards|talker|hearing aids?|pecs|"
        r"interpreter|signer|ipad|tablet)\b|\b(?:does not|doesn[’']t|cannot|can[’']t) (?:use words|"
        r"speak english|communicate verbally)\b|\b(?:does not|doesn[’']t) have (?:any )?speech\b)")),
    ("A.DECLINED", re.compile(
        r"(?i:\b(?:would not|wouldn[’']t|won[’']t|will not|refused to) (?:speak|talk|chat|engage|answer|"
        r"come)\b|\btoo (?:upset|distressed|angry|anxious) to (?:talk|speak|engage|answer)\b|"
        r"\b(?:chose not|declined|refused) to attend\b|\b(?:did not|didn[’']t) want to (?:attend|be involved|"
        r"come|take part|do (?:the|any) \w+)\b|\b(?:had|has) nothing to (?:say|tell|share)\b|\b(?:stayed|"
        r"went|ran|retreated|"
        r"disappeared) (?:up )?(?:to|in) (?:his|her|their) (?:bed)?room\b|\bwould not (?:come|let me in)\b|"
        r"\b(?:did not|didn[’']t) engage\b|\brefused\s*[.;]|"
        r"\b(?:declined|refused|chose not|did not want|didn[’']t want|does not want|doesn[’']t "
        r"want|would not|wouldn[’']t|did not wish|was not willing|was unwilling|is unwilling|not "
        r"willing|was reluctant|is reluctant) to (?:\w+ ){0,2}?(?:talk|speak|chat|engage|meet|be seen|be "
        r"spoken|answer|open up|take part|participate|come out|come down|come to the door|see (?:me|"
        r"us|the (?:social )?worker)|share (?:his|her|their) (?:views|wishes|feelings))\b|\bdeclined "
        r"(?:the|a|any|my) (?:visit|meeting|direct work|offer|session)\b|\b(?:declined|refused) to "
        r"(?:do|complete|engage in) (?:any |the )?direct work\b)")),
    ("A.NOTALONE", re.compile(
        r"(?i:\bnot (?:been )?(?:seen|spoken to|spoken with|visited)\b[^.;]{0,40}?\b(?:alone|on (?:his|"
        r"her|their) own|by (?:himself|herself|themselves)|separately)\b|\b(?:unable|not able|not "
        r"possible|could not|couldn[’']t|did not get (?:a|the) chance) to (?:see|speak (?:to|with)|talk "
        r"(?:to|with))\b[^.;]{0,25}?\b(?:alone|on (?:his|her|their) own|separately)\b|\b(?:present|"
        r"(?:remained|stayed|was|were) in the room) throughout\b|\bwithout (?:\w+ ){0,2}(?:there|"
        r"present|in the room)\b|\bwould not (?:allow|let) (?:me|us|the"
        r" \w+(?: \w+)?) (?:to )?(?:see|speak|talk)\b|\b(?:seen|spoken to|visited)\b(?: \w+){0,3} "
        r"with (?:\w+ ){0,3}(?:present|in the room)\b|\b(?:seen|spoken to|visited)\b(?: \w+){0,6} with "
        r"(?:\w+ ){0,3}present\b|\b(?:stayed|remained) (?:with us |in the room )?(?:for|throughout) the "
        r"(?:whole|entire) (?:meeting|visit|session|time)\b|\b(?:stayed|remained) (?:with us throughout|"
        r"in the room)\b|"
        r"\b(?:was|were) (?:also )?present (?:throughout|at (?:\w+[’']s|his|her|their) request)\b|"
        r"\bwould not separate\b|\bnot (?:enough )?time to (?:see|speak (?:to|with)|talk (?:to|with))\b[^.;]"
        r"{0,25}?\b(?:alone|on (?:his|her|their) own|separately)\b|\bno (?:time|"
        r"opportunity) (?:alone|to (?:see|"
        r"speak (?:to|with)) \w+ alone)\b)")),
    ("A.NOTSEEN", re.compile(
        r"(?i:\bnot (?:been )?seen\b|\b(?:wasn|weren|isn|aren)[’']t seen\b|\b(?:hasn|haven)[’']t been "
        r"seen\b|\b(?:did not|didn[’']t|could not|couldn[’']t|was unable to|were "
        r"unable to|unable to|not able to) see\b|\b(?:was|were|is) not available\b|"
        r"\bhas not been seen\b|\bwas not in\b|\b(?:was|were) (?:out |away |still )?(?:at|on|in|staying "
        r"(?:at|with)|away (?:at|with)|out (?:at|with))\b[^.;]{0,50}?(?:,? so (?:I|we|the "
        r"(?:visit|worker|social "
        r"worker|session|meeting)|(?:he|she|they) (?:was|were) not)\b|\bwhen I "
        r"(?:visited|called|arrived|went)\b|\band (?:so )?(?:was|were) not\b|\band I did not\b)|\b(?:so|and) "
        r"(?:I|we) (?:only )?(?:saw|spoke (?:to|with)|met(?: with)?) (?:\w+[’']?s? ){1,3}(?:only|"
        r"alone|instead)\b|"
        r"\bthe visit was with (?:\w+ ){1,4}only\b|\b(?:was|were) (?:at|in) (?:school|nursery|college)"
        r"\s*(?:[.;]|$)|\b(?:did not|didn[’']t|failed to) (?:turn up|attend\b(?! (?:school|nursery|"
        r"college|(?:his|her|their|the) (?:\w+ )?(?:appointments?|detention|lessons?|class|clinic)))|"
        r"show up|come to)\b|\b(?:was|were) (?:not at home|not home|out|away)\b(?! of)(?=\s*(?:[.;]|$|"
        r"when (?:I|we) |at the time|today|during|for (?:the|our|my) (?:visit|session|meeting)|so "
        r"(?:I|we)\b|and (?:so )?(?:was|were) not))|"
        r"\bwould not let (?:me|us) "
        r"see (?:him|her|them)\b(?! alone)|\bno one answered\b|\bno answer at the door\b|\bnot present\b)")),
    ("A.NOTSOUGHT", re.compile(
        r"(?i:\b(?:views?|wishes|feelings|voice|thoughts)\b(?: \w+){0,5}? (?:were|was|have|has|had|are|"
        r"is|could|can) not (?:yet )?(?:been |be )?(?:sought|obtained|gathered|gained|recorded|"
        r"explored|ascertained|captured|established|known|clear|heard|asked)\b|\b(?:views?|wishes "
        r"and feelings|voice)\b[^.;]{0,40}\b(?:will|to) be (?:sought|gathered|obtained|explored|"
        r"captured|ascertained|completed)\b|\bnot (?:yet )?(?:been )?(?:spoken to|spoken with|asked|"
        r"consulted)\b|\bviews? not (?:yet )?(?:sought|obtained|gathered|recorded|explored|"
        r"captured|ascertained)\b|\b(?:I|we) (?:did not|didn[’']t) ask\b|\bno direct work\b|"
        r"\bnot possible to (?:gain|obtain|get|gather|seek)\b|\bno (?:opportunity|chance|time) to (?:gather|"
        r"obtain|seek|hear|ascertain|speak|talk|explore|capture)\b|\b(?:views?|voice|"
        r"wishes(?: and feelings)?)"
        r"[’']?:\s*(?:not known|unknown|not (?:yet )?(?:gathered|sought|obtained|recorded))\b|"
        r"\bto (?:hear|seek|"
        r"gather|obtain|ascertain|capture|explore) (?:his|her|their|[A-Z]\w+[’']s) (?:views|wishes|voice)\b|"
        r"\btoo (?:poorly|ill|unwell|sick|tired|sleepy) to (?:talk|speak|chat|engage|answer|join|take part|"
        r"be seen|be spoken|meet)\b|\b(?:was|were) asleep\b|\b(?:could not|"
        r"couldn[’']t|was unable to|did not) (?:interact|engage) with (?:him|her|them)\b|"
        r"\b(?:has not|have not|"
        r"had not|did not|didn[’']t) (?:yet )?(?:responded|respond|been contacted|replied)\b|\bviews are not "
        r"included\b|\bnot (?:yet )?(?:been )?(?:contacted|interviewed)\b|"
        r"\b(?:views?|wishes) (?:are |were )?(?:unknown|not known)\b|\b(?:did not|didn[’']t|was "
        r"unable to|could not) (?:speak|talk) (?:to|with)\b|\bwithout (?:seeking|speaking to|"
        r"asking) (?:him|her|them|the child|the young person|[A-Z][a-z]+)\b(?! for))")),
]
_ABSENCE_NOTALONE = dict(_ABSENCE)["A.NOTALONE"]
_SEE = re.compile(r"(?i:\bsee(?:n)?\b)")
_SEEN_PASSIVE = re.compile(r"(?i:\b(?:been|was|were|is|are|being|wasn[’']t|weren[’']t|isn[’']t|aren[’']t)\s+"
                           r"(?:not\s+)?(?:yet\s+)?seen\b)")
_GATE_ON = True  # tests switch it off to check the gate never changes a code
_ABSENCE_OF_CHILD_ONLY = {"A.TOOYOUNG", "A.BARRIER", "A.NOTALONE"}
# a person's absence already coded in the sentence that rules out this one (codebook: A.NOTSOUGHT
# excludes age, declined and barrier; "not seen alone" and a barrier are not "not seen"). Not seen
# and not sought may both stand: "did not attend; her views had not been gathered".
_REASON_FIRST = {"A.NOTSOUGHT": {"A.TOOYOUNG", "A.BARRIER", "A.DECLINED", "A.NOTALONE"},
                 "A.NOTSEEN": {"A.NOTALONE", "A.BARRIER"}}

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
    for m in _QUOTES.finditer(text):
        inner = m.group(0)[1:-1] if len(m.group(0)) > 1 else ""
        words = inner.split()
        if len(words) >= 2 or _FIRST_PERSON.search(inner):
            spans.append((m.start(), m.end()))
    if not spans:
        return text, spans  # most notes quote no one: nothing to blank
    chars = list(text)
    for start, end in spans:
        for i in range(start + 1, end - 1):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars), spans


def _same_name(a: str, b: str) -> bool:
    """Ben and Benjamin, Alfie and Alfred, Hunter and a mistyped "Hnter": the recorded name and
    the name in the note."""
    if a == b or (min(len(a), len(b)) >= 3 and (a.startswith(b) or b.startswith(a))):
        return True
    if min(len(a), len(b)) < 4 or abs(len(a) - len(b)) > 1 or a[0] != b[0]:
        return False
    i = next((k for k, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return a[i + (len(a) >= len(b)):] == b[i + (len(b) >= len(a)):]  # one letter added, lost or changed


def _mentions(masked: str, child: str | None, unit_starts: list[int]) -> list[_Mention]:
    """People mentioned in order, with each pronoun resolved: a sentence-initial "she" continues
    the last sentence's subject; a pronoun after someone of that gender in the same sentence is
    that person; otherwise it is the child (notes are written about the child) unless the child
    is known to be of the other gender, then the last person of that gender."""
    out: list[_Mention] = []
    slots = {"f": "W.CYP", "m": "W.CYP", "p": "W.CYP"}
    child_gender: str | None = None
    last_explicit: _Mention | None = None
    child_l = child.lower() if child else None
    child_named = bool(child_l) and any(_same_name(w.lower(), child_l) for w in set(
        _CAPITALISED.findall(masked)) - _NOT_NAMES)
    unit_i = -1
    here = set()
    subject: _Mention | None = None  # first person mentioned in the current sentence
    prev_subject: _Mention | None = None
    bound: dict[str, str] = {}  # a name (or a role word) -> the WHO the note gives it
    people: set[str] = set()  # capitalised words the note has already used as a person
    skip_to = 0  # past "(Mum)" after a name: the bracket says who the name is, not another person
    for m_start, m_end, kind, word in _mention_matches(masked):
        if m_start < skip_to:
            continue
        new_unit = False
        while unit_i + 1 < len(unit_starts) and m_start >= unit_starts[unit_i + 1]:
            unit_i += 1
            new_unit = True
        if new_unit:
            prev_subject, subject = (subject or prev_subject), None
            here: set[str] = set()  # genders of people named so far in this sentence
        if kind == "name":
            if word in _NOT_NAMES:
                continue
            if _ROLE_IN_BRACKETS.match(masked, m_end) and _bound_role(masked, word, m_start, m_end,
                                                                      out, bound):
                who, g = bound[word], "n"  # "Olivia (Mum)", even when the child is an Olivia too
                skip_to = _ROLE_IN_BRACKETS.match(masked, m_end).end()
            elif child_l and _same_name(word.lower(), child_l):
                who, g = "W.CYP", child_gender or "n"
            elif _bound_role(masked, word, m_start, m_end, out, bound):
                who, g = bound[word], "n"
            elif word not in people and not (
                    _NAME_CONTEXT_START if _SENTENCE_START.search(masked, 0, m_start)
                    else _NAME_CONTEXT).match(masked, m_end):
                continue  # a person once in the note ("Theodore chose 7") is one everywhere
            elif out and out[-1].kind == "role" and m_start - out[-1].end <= 1:
                bound[word] = out[-1].who
                continue  # "Uncle Dan", "sister Lily": the role already names them
            else:  # someone named: the child when the note never uses the recorded name
                who, g = ("W.SIB" if child_l and child_named else "W.CYP"), "n"
            people.add(word)
        elif kind == "title":
            who, g = ("W.PROF" if word.split()[0] in _PROF_TITLES else "W.PAR"), "n"
            if _bound_role(masked, word, m_start, m_end, out, bound):
                who = bound[word]
        elif kind == "I":
            who, g = "W.PRAC", "i"
        elif kind == "you":
            who, g = "W.CYP", "y"
        elif kind == "pron":
            g = _PRONOUN[word.lower()]
            if (child_gender is None and g in "fm" and last_explicit is not None
                    and last_explicit.kind == "name" and last_explicit.who == "W.CYP"
                    and m_start - last_explicit.end < 60):
                child_gender = g
            who = slots[g]
            if g not in here and child_gender in (None, g):
                who = "W.CYP"  # "In her own words", "What matters to him": the child
            if (subject is None and word.lower() in _SUBJECT_PRONOUNS and prev_subject is not None
                    and prev_subject.who != "W.PRAC" and prev_subject.gender in ("n", g)):
                who = prev_subject.who  # a sentence-initial "she" continues the last subject
            men = _Mention(m_start, m_end, who, g, "pron", word)
            out.append(men)
            subject = _head(subject, men, masked)
            continue
        else:
            low = _SPACES.sub(" ", word.lower())
            who, g = _ROLE.get(low, _ROLE.get(low.replace(" ", "-"), ("W.PROF", "n")))
            if who == "W.PAR" and g in "fm" and _OTHERS_PARENT.search(masked, max(0, m_start - 25), m_start):
                who = "W.FAM"  # "her boyfriend's mother": someone else's parent, not the child's
            if _CARER_CLAUSE.match(masked, m_end):
                bound[low] = "W.PAR"  # "Nan, who has a Special Guardianship Order for Harriet"
            who = bound.get(low, who)
            if low in _PLACES and _PLACE_BEFORE.search(masked, max(0, m_start - 20), m_start):
                continue
        if who == "W.CYP" and kind == "name" and child_gender:
            g = child_gender
        men = _Mention(m_start, m_end, who, g, kind, word)
        out.append(men)
        last_explicit = men
        subject = _head(subject, men, masked)
        if who != "W.PROF" and who != "W.PRAC":
            here |= {"f", "m", "p"} if g == "n" else {g, "p"}
        if who == "W.PROF":
            pass  # "she", "his" in a note are almost never the teacher or the GP
        elif g == "n":
            slots["f"] = slots["m"] = slots["p"] = who
        elif g in "fm":
            slots[g] = who
            slots["p"] = who
        elif g == "p":
            slots["p"] = who
    return out


def _head(subject: _Mention | None, men: _Mention, masked: str) -> _Mention:
    """The sentence's subject so far: its first person, unless that is a possessor ("Callum's
    head of year, Mrs Dixon, rang": the head of year)."""
    if subject is None:
        return men
    if subject.kind != "pron" and masked.startswith(("'s ", "’s ", "s' ", "s’ "), subject.end) and \
            men.start - subject.end <= 4:
        return men
    return subject


_OTHERS_PARENT = re.compile(r"(?i:\b(?:boyfriend|girlfriend|friend|partner|neighbour|cousin)[’']s\s+$)")
_APPOSED = re.compile(r"[^.;:!?()\n]{0,30}?,\s*$")
_ROLE_IN_BRACKETS = re.compile(r"\s*\(([A-Za-z' -]{2,30})\)")
_CARER_CLAUSE = re.compile(r"(?i:,?\s*(?:who|as) (?:has|holds|is|are|was) (?:his |her |their |the |an? )?"
                           r"(?:special guardian|sgo|special guardianship|child arrangements|cao|"
                           r"residence order|parental responsibility|foster carer|kinship carer|"
                           r"main carer|carer)\b)")


def _bound_role(masked: str, word: str, start: int, end: int, out: list[_Mention],
                bound: dict[str, str]) -> bool:
    """Whether a name is someone the note has said who they are: in apposition to a role ("the
    youth worker, Craig,"), with the role in brackets ("Olivia (Mum)"), or earlier in the note."""
    br = _ROLE_IN_BRACKETS.match(masked, end)
    if br and br.group(1).lower() in _ROLE:
        bound[word] = _ROLE[br.group(1).lower()][0]
    elif out and out[-1].kind == "role" and _APPOSED.fullmatch(masked, out[-1].end, start) and \
            masked[end:end + 1] in (",", ")", "."):
        bound[word] = out[-1].who
    return word in bound


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


_CLAUSE_BREAK = re.compile(r"(?i:[;:]|,\s*(?:and|but|so|while|whereas|although|because|as|then)\b|"
                           r"\b(?:and|that|but|so|because|while|whilst|when|although|after|before|then|"
                           r"until|if|once|whereas)\s+(?=\w))")
_RELATIVE = re.compile(r"(?i:,\s*(?:who|whom|whose|which)\b[^,;]*,)")
_WHO_BEFORE = re.compile(r"(?i:,?\s*who\s+(?:\w+\s+){0,2}$)")
_OBJECT_BEFORE = re.compile(r"(?i:\b(?:to|with|from|by|for|at|of|about|through|via|towards|than|"
                            r"asked|told|tell|tells|ask|asks|saw|see|visited|met|called|phoned|rang|"
                            r"contacted|informed|advised|helped|let|made)\s+(?:the\s+)?$)")


def _subject(mentions: list[_Mention], masked: str, lo: int, pos: int,
             breaks: list[int] = ()) -> _Mention | None:
    """Who says or does what the verb at pos says: the head of its clause's subject, not the
    nearest name - past a relative clause ("Nan, who has an SGO for Harriet, said"), an apposition
    ("the youth worker, Craig, said"), a possessor ("Ellie's mum said") or an object ("told Ellie");
    a clause with no subject of its own ("... and said") takes the one before it."""
    region = masked[lo:pos]
    who = _WHO_BEFORE.search(region)
    if who:
        before = [x for x in mentions if lo <= x.start and x.end <= lo + who.start()]
        if before:
            return before[-1]
    skip = [(lo + m.start(), lo + m.end()) for m in _RELATIVE.finditer(region)]
    starts = sorted({lo} | {lo + m.end() for m in _CLAUSE_BREAK.finditer(region)
                            if not any(x.start < lo + m.start() < x.end for x in mentions)}
                    | {b for b in breaks if lo <= b <= pos})  # "drug and alcohol worker" is one
    for k in range(len(starts) - 1, -1, -1):
        end = starts[k + 1] if k + 1 < len(starts) else pos
        cands = [x for x in mentions if starts[k] <= x.start and x.end <= end
                 and not any(a <= x.start < b for a, b in skip)]
        for i, x in enumerate(cands):
            if x.kind == "pron" and x.text.lower() not in _SUBJECT_PRONOUNS:
                continue  # "his", "her": a possessor, never the subject
            if masked.startswith(("'s", "’s", "s'", "s’"), x.end) or masked.startswith(("'", "’"), x.end):
                if i + 1 < len(cands):
                    continue  # "Ellie's mum": the mum
            if _OBJECT_BEFORE.search(masked, max(lo, x.start - 25), x.start):
                continue
            return x
    return None


def _speaker_again(x: _Mention, spk: _Mention, masked: str, content: int) -> bool:
    """"The nurse said she is worried": a pronoun opening what someone said is that person."""
    return (x.kind == "pron" and x.text.lower() in _SUBJECT_PRONOUNS and spk.who != "W.CYP"
            and spk.text.lower() not in MEDIATORS
            and spk.gender in ("n", x.gender) and x.gender != "p"
            and re.fullmatch(r"(?i:\s*(?:(?:me|us|him|her|them)\s+)?(?:that\s+|how\s+)?)",
                             masked[content:x.start]) is not None)


_MATTERS = re.compile(r"(?i:\bwhat (?:matters|is important) (?:most )?to (?=\w))")
_HOUSES = re.compile(r"(?i:\bhouse of (?:worries|good things|dreams)\b)")
_NOUN_BEFORE = re.compile(r"(?i:\b(?:his|her|their|my|your|our|of|the|about|any|no|some|these|those|"
                          r"with)\s+$)")
_TRAILING_SPEAKER = re.compile(r"\w.*,\s*(?:he|she|they|[A-Z][a-z]+|(?:his|her|their|the) [a-z]+"
                               r"(?: [a-z]+){0,2})\s+$")  # "..., the attendance officer said."
_ACCORDING = re.compile(r"(?i:\baccording to (?:the )?)")
_GATED = [_RS, _WF, _NV, _PRAC, _MED_CUE, _RELAY, _DQ_FRAME, _MATTERS, _HOUSES, _ACCORDING] + [
    pat for _, pat in _ABSENCE]
_ALWAYS = frozenset(id(p) for p in _GATED if triggers(p.pattern) is None)  # ids: hashing a
_BY_WORD: dict[str, set[int]] = {}  # compiled pattern hashes its whole program, every time
for _p in _GATED:
    for _w in triggers(_p.pattern) or ():
        _BY_WORD.setdefault(_w, set()).add(id(_p))
_FAST = {id(p): lowered(p) for p in _GATED + [_MED_VIEW]}
_LOWER_ON = True  # tests switch it off to check lower-casing never changes a code
_GATE_WORD = re.compile(r"[a-z]+")  # a trigger is a run of letters: "Pre-Verbal" has "verbal"
_TRIGGERS = frozenset(_BY_WORD)
_ALL = frozenset(id(p) for p in _GATED)
_QUESTION = re.compile(r"(?i:\b(?:if|whether|asked)\s+(?:\w+\s+){0,2}$)")


def _code_unit(text: str, masked: str, low: str | None, unit: Unit, ms: list[_Mention],
               quotes: list[tuple[int, int]], last_voice: list[str]) -> list[tuple]:
    """The unit's codes as (who, form, absence) rows; `ms` are the people mentioned in it."""
    lo, hi = unit.start, unit.end
    seg = masked[lo:hi]
    fast = low is not None
    lseg, M = (low[lo:hi], low) if fast else (seg, masked)  # the text the patterns P() gives read

    def P(pattern: re.Pattern) -> re.Pattern:
        return _FAST[id(pattern)] if fast else pattern

    voice: dict[str, str] = {}
    # the patterns this sentence has the words for; the others cannot match and are skipped
    words = _TRIGGERS.intersection(_GATE_WORD.findall(lseg if fast else seg.lower()))
    hits = _ALWAYS.union(*map(_BY_WORD.get, words)) if _GATE_ON else _ALL  # ids of the patterns to run

    def add(who: str, form: str) -> None:
        if who == "W.PRAC":
            return
        if who not in voice or FORM_ORDER.index(form) < FORM_ORDER.index(voice[who]):
            voice[who] = form

    # reported speech: a speaker, then a reporting verb; what follows is their content
    first_rs = None  # where the first non-author report starts (its content is theirs)
    speakers: list[tuple[_Mention, int]] = []
    verb_ends: list[int] = []
    acc = P(_ACCORDING).search(lseg) if (id(_ACCORDING) in hits) else None
    spk = _nearest_after(ms, lo + acc.end(), 0) if acc else None
    if spk is not None and spk.who not in ("W.PRAC", "W.CYP"):  # "According to mum, Ellie says ..."
        first_rs = acc.start()
        speakers.append((spk, lo + acc.start()))
        verb_ends.append(spk.end)
        child_in = [x for x in ms if x.start > spk.end and x.who == "W.CYP"]
        if child_in and P(_MED_VIEW).match(M, child_in[0].end, hi):
            add("W.CYP", "F.MED")
        add(spk.who, "F.RS")
    for m in (P(_RS).finditer(lseg) if (id(_RS) in hits) else ()):
        verb = m.group(0).lower()
        if _RS_BLOCK.search(seg[max(0, m.start() - 12):m.start()]):
            continue
        if verb in _RS_WEAK and not _CONTENT_AFTER.match(seg, m.end()):
            continue
        to_say = verb in _WRITTEN and re.match(r"\s*to (?:say|tell)\b", seg[m.end():])
        if verb in _WRITTEN and not to_say and not re.match(r"\s*(?::|that|[\"“‘'])", seg[m.end():]):
            continue
        if not seg[m.end():].strip(" .,") and _nearest_after(ms, lo + m.end(), 3) is None and \
                verb not in ("agreed", "agrees", "disagreed", "disagrees") and \
                not _TRAILING_SPEAKER.search(seg, 0, m.start()):
            continue
        spk = _subject(ms, masked, lo, lo + m.start(), verb_ends)
        verb_ends.append(lo + m.end())
        if spk is None:
            spk = _nearest_after(ms, lo + m.end(), 3)  # "..., said Ellie"
            if spk is None:
                continue
        if spk.who == "W.PRAC":
            continue  # "When I asked about school, ..." frames someone else's answer
        if speakers and spk.who != speakers[0][0].who and not re.search(
                r"[;]|,\s*(?:and|but|while)\b|\b(?:but|while|whereas)\b", seg[first_rs:m.start()]):
            continue  # speech inside someone else's report: weighed below as mediated, or not at all
        if first_rs is None:
            first_rs = m.start()
        speakers.append((spk, lo + m.start()))
        child_in = [x for x in ms if x.start >= lo + m.end() and x.who == "W.CYP"
                    and not _speaker_again(x, spk, masked, lo + m.end())]
        relayed = spk.text.lower() in MEDIATORS or ((id(_RELAY) in hits) and P(_RELAY).search(lseg))
        if spk.who != "W.CYP" and child_in and (relayed or P(_MED_VIEW).match(M, child_in[0].end, hi)):
            add("W.CYP", "F.MED")  # the child's view, passed on by someone else
            if relayed:
                continue  # an advocate or a relayed message: the words are the child's alone
        add(spk.who, "F.MED" if spk.who == "W.CYP" and (id(_MED_CUE) in hits) and P(_MED_CUE).search(lseg)
            else "F.DQ" if verb in _WRITTEN and not to_say else "F.RS")
    relay = (id(_RELAY) in hits) and P(_RELAY).search(lseg)
    if relay and any(x.who == "W.CYP" for x in ms) and "W.CYP" not in voice:
        add("W.CYP", "F.MED")  # "Albert's views were shared by his advocate: ..."

    # absence statements (not those inside someone else's report: "Nan said she has not seen him")
    rows: list[tuple] = []
    absent: set[str] = set()
    for code, pat in _ABSENCE:
        m = P(pat).search(lseg) if (id(pat) in hits) else None
        if not m or (first_rs is not None and m.start() > first_rs
                     and speakers[0][0].who != "W.CYP" and ";" not in seg[first_rs:m.start()]):
            continue
        if code == "A.DECLINED" and (id(_ABSENCE_NOTALONE) in hits) and P(_ABSENCE_NOTALONE).search(lseg):
            continue
        subj = _nearest_before(ms, lo + m.start(), lo, 120)
        if code == "A.NOTSEEN" and subj is not None and subj.who not in ("W.PRAC", "W.PROF") and \
                _SEE.search(m.group(0)) and not _SEEN_PASSIVE.search(seg[max(0, m.start() - 16):m.end()]):
            continue  # "Ellie has not seen her dad", "Mum could not see why": not the worker's
        who = subj.who if subj else "W.CYP"
        if who in ("W.PRAC", "W.PROF"):
            after = [x for x in ms if x.start >= lo + m.start() and x.who not in ("W.PRAC", "W.PROF")]
            while len(after) > 1 and masked.startswith(("'s ", "’s "), after[0].end):
                after = after[1:]  # "unable to see Rhys's sister": the sister
            who = after[0].who if after else "W.CYP"
        if code in _ABSENCE_OF_CHILD_ONLY and who not in ("W.CYP", "W.SIB"):
            who = "W.CYP"
        if {r[2] for r in rows if r[0] == who} & _REASON_FIRST.get(code, set()):
            continue  # a reason with its own code rules "not sought" out (codebook)
        absent.add(code)
        rows.append((who, None, code))

    # direct quotes go to the nearest speaker, or the heading's owner, or the last voice
    in_quote = [(s, e) for s, e in quotes if lo <= s < hi]
    if in_quote:
        qs = in_quote[0][0]
        if speakers:
            who = min(speakers, key=lambda x: abs(x[1] - qs))[0].who
        else:
            frame = ((id(_DQ_FRAME) in hits) and P(_DQ_FRAME).search(lseg)) or re.search(
                r":\s*$", masked[lo:qs])
            near = _nearest_before(ms, qs, lo, 80)
            if near is not None and (frame or near.who != "W.PRAC"):
                who = near.who
            elif unit.section and unit.section != "W.PRAC":
                who = unit.section
            elif _FIRST_PERSON.search(text[qs:in_quote[0][1]]):
                who = last_voice[0] if last_voice and last_voice[0] != "W.PROF" else "W.CYP"
            else:
                who = None
        if who and who != "W.PRAC" and voice.get(who) != "F.MED":
            voice[who] = "F.DQ"
    elif (id(_DQ_FRAME) in hits) and (dq := P(_DQ_FRAME).search(lseg)) and re.search(
            r"(?i)own words|words were|verbatim", seg):
        near = _nearest_before(ms, lo + dq.end(), lo, 80)
        add(near.who if near else (unit.section or "W.CYP"), "F.DQ")

    # wishes and feelings, non-verbal: subject right before the word, not inside someone's report
    limit = lo + first_rs if first_rs is not None else hi
    prac = P(_PRAC).search(lseg) if (id(_PRAC) in hits) and unit.section not in (
        "W.CYP", "W.PAR", "W.FAM", "W.PROF") else None
    if prac:  # "In my view Mia is settled": what follows is the author's view
        limit = min(limit, lo + prac.start())
    for pat, form, gap in ((_WF, "F.WF", 30), (_NV, "F.NV", 60)):
        for m in (P(pat).finditer(M, lo, limit) if (id(pat) in hits) else ()):
            subj = _nearest_before(ms, m.start(), lo, gap, subject=True)
            if subj is None:
                continue
            if _NOUN_BEFORE.search(masked, lo, m.start()):
                continue  # "her wishes", "the house of worries": a noun, not a verb
            if _QUESTION.search(masked, lo, m.start()):
                continue  # "asked if she felt safe": the question, not the answer
            between = masked[subj.end:m.start()]
            if form == "F.WF" and re.search(r"[.;:!?]|\b(?:and|but|that|which|who)\b", between):
                continue
            if form == "F.NV" and subj.who in ("W.PROF", "W.PRAC"):
                continue
            if re.search(r"(?i)\b(?:when|while|whilst|if|because|until|once|unless)\s+$",
                         masked[max(lo, subj.start - 10):subj.start]):
                continue  # "... when Mum is calm": a condition, not Mum's voice
            add(subj.who, form)
    m = P(_MATTERS).search(lseg) if (id(_MATTERS) in hits) else None
    if m:
        target = _nearest_after(ms, lo + m.end(), 1)
        if target is not None:
            add(target.who, "F.WF")
    if (id(_HOUSES) in hits) and P(_HOUSES).search(lseg) and "W.CYP" not in voice and any(
            x.who == "W.CYP" for x in ms) and not absent:
        add("W.CYP", "F.WF")  # direct work: what the child put in their houses

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
        if missing - {"A.NOTALONE"} and not (form == "F.NV" and missing <= {"A.TOOYOUNG", "A.BARRIER"}
                                             ) and not (form == "F.RS" and missing == {"A.DECLINED"}
                                                        ) and form != "F.MED":
            continue
        rows.append((who, form, None))
        last_voice[:] = [who]
    return rows


def _nearest_after(mentions: list[_Mention], pos: int, max_gap: int) -> _Mention | None:
    for men in mentions:
        if men.start >= pos:
            return men if men.start - pos <= max_gap else None
    return None


_WHO_RANK = {w: i for i, w in enumerate(["W.CYP", "W.SIB", "W.PAR", "W.FAM", "W.PRAC", "W.PROF"])}


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
    starts = [m.start for m in mentions]
    out = []
    last_voice: list[str] = []
    low = masked.lower() if _LOWER_ON else None
    if low is not None and len(low) != len(masked):
        low = None  # a letter whose lower case is two characters ("İ"): offsets would shift
    for unit in units:
        ms = mentions[bisect_left(starts, unit.start):bisect_left(starts, unit.end)]
        rows = _code_unit(text, masked, low, unit, ms, quotes, last_voice)
        if len(rows) > 1:  # most units have no code or one
            rows = sorted(set(rows), key=lambda r: (r[2] is not None, _WHO_RANK[r[0]], r[1] or "",
                                                    r[2] or ""))
        for who, form, absence in rows:
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
            continue  # no text: nothing to code (coverage counts such a record as silent)
        for start, end, who, form, absence in code_note(text, name):
            rows.append((note_id, start, end, who, form, absence))
    out = pd.DataFrame(rows, columns=COLUMNS)
    return out.astype({"start": "int64", "end": "int64"})
