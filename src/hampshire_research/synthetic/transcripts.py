"""Synthetic research transcripts: discovery interviews, parent and carer consultation groups
and a young people's group talking about how their information is recorded, shared and used.

Turns are composed from a grammar (openers, clauses per theme and perspective, joiners,
tails, fillers and identifier-bearing asides), so the thematic coder meets varied wording.
The raw files carry the identifiers real transcripts carry (names, places, schools, dates,
phone numbers, emails, postcodes): that is what anonymisation must catch. Files come in the
formats teams hold (.txt in two styles, .docx typed or exported from Teams, .vtt from Teams
or Zoom), with a sessions.csv. Gold themes per turn go to truth/themes_gold.csv and every
planted identifier to truth/transcript_identifiers.csv.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

THEMES = ("T.TRUST", "T.ASKED", "T.ACCURACY", "T.HEARD", "T.SHARING", "T.PREDICTION",
          "T.EARLYHELP", "T.ACCESS", "T.LANGUAGE")

# --- the grammar: clauses per theme and perspective (fam: parent/carer, yp, wrk: staff) ---
CLAUSES: dict[str, dict[str, list[str]]] = {
    "T.TRUST": {
        "fam": [
            "I didn't trust them with anything after that, because it all ended up written down",
            "you learn to watch what you say, because you don't know where it's going to end up",
            "once {worker} explained exactly who would see it, I felt I could trust her",
            "I trusted {worker}, but not the system behind her",
            "it took months before I'd tell them anything real",
            "you feel like anything you say can be used against you",
            "if they'd been straight with me from the start I'd have been more open",
            "I was scared that being honest about money would get {child} taken off me",
            "I keep my guard up with anyone who has a clipboard",
        ],
        "yp": [
            "I don't tell my social worker stuff anymore because it always gets back to my mum",
            "I only talk to {worker} because she keeps things to herself unless it's serious",
            "you never know who's going to read it, so I just say I'm fine",
            "if they promise not to tell and then they tell, that's it for me",
            "I trust my form tutor more than anyone from social care",
            "I stopped saying anything real after my last worker left",
        ],
        "wrk": [
            "families are guarded with us because they've had bad experiences of how things "
            "were written up before",
            "trust is everything, and it goes the minute a parent reads something they didn't "
            "expect in a report",
            "I always say at the first visit what I write down and who sees it, otherwise you "
            "lose them",
            "some parents won't engage at all because they think anything they say goes "
            "straight on a file",
            "the relationship is what gets people to open up, not the forms",
            "parents are wary of us, and honestly I can see why",
        ],
    },
    "T.ASKED": {
        "fam": [
            "nobody asked me whether they could pass it on, I just found out later",
            "I signed a form at the start but I didn't really know what I was agreeing to",
            "they should ask before they share things, not tell you afterwards",
            "I'd have said yes if they'd bothered to ask me",
            "it was like consent was a box they ticked rather than a conversation",
            "I wasn't given a choice about the school being told",
            "permission was never really mine to give, it felt like",
        ],
        "yp": [
            "they never asked me if it was okay to tell my school",
            "I want them to ask me first, it's my life",
            "they asked my mum but not me, and I'm the one it's about",
            "I didn't even know they could do that without checking with me",
            "nobody asked if I minded my teachers knowing",
        ],
        "wrk": [
            "we're meant to get consent, but in practice it's often a signature at the end of a "
            "long meeting",
            "I try to ask the young person as well as the parent, but the system only has a "
            "field for the parent",
            "there are times we have to share without consent, and I think we should explain "
            "that honestly",
            "asking properly takes time that we don't always have",
            "a child of twelve can understand what we're asking permission for if we explain it",
        ],
    },
    "T.ACCURACY": {
        "fam": [
            "there were things in the report that were just wrong, and nobody would change them",
            "they had the wrong date of birth for {child} for about a year",
            "I asked for it to be corrected and they said they'd add a note, but the original "
            "stays",
            "it said I'd missed appointments I'd actually been to",
            "they mixed us up with another family with the same surname",
            "one mistake gets copied from one assessment to the next",
            "they still had my ex-partner living with us, two years after he left",
        ],
        "yp": [
            "it said I was excluded when I wasn't, I was just sent home",
            "half of what they wrote about me wasn't true",
            "they spelt my name wrong on every single letter",
            "I told them it was wrong and nothing happened",
            "they had me down as living with my dad, which I haven't for ages",
        ],
        "wrk": [
            "errors get copied forward because people cut and paste from the last assessment",
            "there isn't an easy way for a family to get a record put right",
            "we record in a hurry at the end of the day, so details slip",
            "duplicate records mean half the history is on one file and half on another",
            "if the chronology is wrong, every decision after it is built on that",
            "I've seen a sibling's history sitting on the wrong child's file",
        ],
    },
    "T.HEARD": {
        "fam": [
            "I felt like they'd already made their minds up before I opened my mouth",
            "what I said in the meeting didn't appear anywhere in the minutes",
            "{worker} actually listened, and you could see it in the plan",
            "it's my family, but my side of it never seemed to count",
            "when they read the plan back and my words were in it, that meant a lot",
            "I said the same thing at every meeting and it went nowhere",
        ],
        "yp": [
            "nobody listens to what I actually want",
            "they talk about me like I'm not in the room",
            "I said I wanted to stay at {school} and they listened, which was good",
            "they write down what the adults say, not what I say",
            "at my review they asked what I thought, but it didn't change anything",
            "it felt like my opinion was just there to tick a box",
        ],
        "wrk": [
            "the child's voice should be in every record, but often it's one line at the bottom",
            "we're good at asking children what they think, less good at showing it changed "
            "anything",
            "parents tell me they feel judged rather than listened to",
            "I try to write down what the child actually said, in their words",
            "a conference can be forty minutes of professionals and two minutes of the family",
        ],
    },
    "T.SHARING": {
        "fam": [
            "the school knew things before I did, because social care had passed it on",
            "I had to tell my story again to every new service, nobody talks to each other",
            "the health visitor and the school had completely different information",
            "I don't mind them sharing if it helps, I just want to know who's got what",
            "information went to the police that had nothing to do with them",
            "the GP had one version and children's services had another",
        ],
        "yp": [
            "everyone at school knew my business, even the dinner ladies",
            "my new school had read everything about me before I even got there",
            "I had to tell it all again to the CAMHS lady",
            "the police knew stuff I'd only told my youth worker",
        ],
        "wrk": [
            "we still rely on phone calls and emails to get information from health",
            "the systems don't talk to each other, so we end up chasing people",
            "schools often know first, but that information doesn't always reach us",
            "multi-agency meetings are where the picture comes together, not the databases",
            "information sharing agreements exist, but people are nervous about using them",
            "early help and social care are on different systems, so nothing follows the family",
        ],
    },
    "T.PREDICTION": {
        "fam": [
            "I don't want a computer deciding my family is a risk",
            "once you've got a label, that's it, it follows you around",
            "it worries me that they could flag {child} before anything's even happened",
            "being on a list because of where you live isn't right",
            "my eldest was labelled as trouble at ten and it never went away",
            "an algorithm doesn't know my kids",
        ],
        "yp": [
            "they already think I'm going to end up in trouble because of my brother",
            "I don't want to be a number on a spreadsheet",
            "people see the file before they see me",
            "once a teacher decides you're a bad kid, that's you for good",
        ],
        "wrk": [
            "I'm uneasy about any tool that scores families, it would reinforce bias we already "
            "have",
            "data should help us understand patterns, not predict who's going to fail",
            "labels stick, and once a family has a reputation it's very hard to shift",
            "I'd want to know what's behind any flag before I trusted it",
            "we moved away from predictive analytics for good reasons",
            "a risk score on a screen would change how a worker walks into that house",
        ],
    },
    "T.EARLYHELP": {
        "fam": [
            "if someone had helped when I first asked, we'd never have got to that point",
            "the early help worker was the first person who actually did something",
            "I asked for help when {child} was in year five and was told we didn't meet the "
            "threshold",
            "a bit of support at the start would've saved us a lot",
            "the parenting group helped more than any of the meetings",
        ],
        "yp": [
            "if someone had noticed sooner it wouldn't have got so bad",
            "the youth worker helped more than anything else",
            "I needed help in year six, not when I was already kicked out",
            "someone should have stepped in way before it got to that",
        ],
        "wrk": [
            "if the information had come together earlier we could have offered support before "
            "it escalated",
            "the move to secondary is where we see things go wrong, and that's where early "
            "support matters",
            "early help gets cut first, but it saves so much later",
            "by the time a referral comes to us the family has often been struggling for years",
            "a family support worker in the school in year six would catch a lot of this",
        ],
    },
    "T.ACCESS": {
        "fam": [
            "I asked to see my file and it took months to come through",
            "when I finally got my records half of it was blacked out",
            "I'd like to be able to read what they write about us as they write it",
            "I didn't know I was even allowed to see the assessment",
            "I had to put in a subject access request just to read the minutes",
        ],
        "yp": [
            "I want to see what they've written about me",
            "when I'm eighteen I'm going to ask for my whole file",
            "nobody told me I could read my own records",
            "I'd read my file if they let me",
        ],
        "wrk": [
            "subject access requests take ages and the redaction is brutal",
            "I try to write as if the child will read it one day, because they might",
            "we should share the assessment with families before it's finalised",
            "care leavers who read their files are often upset by what they find",
        ],
    },
    "T.LANGUAGE": {
        "fam": [
            "they described me as hostile because I disagreed with them",
            "the words they used made us sound like a bad family",
            "it said I was non-compliant, but I was at work",
            "reading it was like reading about a stranger, all jargon",
            "they called it a chaotic home, but it's just a busy one",
            "the way they wrote about my partner was really cold",
        ],
        "yp": [
            "they wrote that I was aggressive when I was upset",
            "the words they use are so formal, I didn't understand half of it",
            "it made me sound like a problem, not a person",
            "they called me a 'case' in front of me",
        ],
        "wrk": [
            "we've been working on the language we use, avoiding words like non-engaging",
            "jargon creeps in, and families find it alienating",
            "I try to write the record to the child, in plain words",
            "words like 'manipulative' or 'hostile' end up in reports and they follow families "
            "around",
            "how we describe a parent on paper shapes how the next worker meets them",
        ],
    },
}

# themes that tend to come up together, for a second clause in the same turn
PAIRS = {
    "T.TRUST": ["T.ASKED", "T.SHARING", "T.HEARD"],
    "T.ASKED": ["T.SHARING", "T.TRUST"],
    "T.ACCURACY": ["T.ACCESS", "T.LANGUAGE", "T.TRUST"],
    "T.HEARD": ["T.LANGUAGE", "T.TRUST"],
    "T.SHARING": ["T.ASKED", "T.TRUST", "T.EARLYHELP"],
    "T.PREDICTION": ["T.LANGUAGE", "T.TRUST"],
    "T.EARLYHELP": ["T.SHARING", "T.HEARD"],
    "T.ACCESS": ["T.ACCURACY", "T.LANGUAGE"],
    "T.LANGUAGE": ["T.ACCURACY", "T.PREDICTION", "T.HEARD"],
}

QUESTIONS = {
    "T.TRUST": ["How much do you feel you can trust services with what you tell them?",
                "What makes you feel comfortable, or not, telling a worker things?"],
    "T.ASKED": ["Were you asked before your information was shared or used?",
                "How does consent work in practice when you record and pass things on?"],
    "T.ACCURACY": ["Have you ever found something in your records that was wrong?",
                   "How accurate do you think the records are?"],
    "T.HEARD": ["Do you feel your views are listened to and written down?",
                "How do you make sure the child's view ends up in the record?"],
    "T.SHARING": ["What do you think about information being passed between services, like "
                  "schools and health?",
                  "How does information get from one agency to another at the moment?"],
    "T.PREDICTION": ["Some councils have used data to try to predict which families might need "
                     "help. How do you feel about that?",
                     "What would you think of a system that flagged families to you?"],
    "T.EARLYHELP": ["Could things have been picked up earlier?",
                    "Where do you think earlier support would have made a difference?"],
    "T.ACCESS": ["Have you ever seen what's written about you?",
                 "How do families get to see what's recorded about them?"],
    "T.LANGUAGE": ["What do you think about the words used in reports about families?",
                   "How do you think about the language you use when you write?"],
}
PROBES = ["Can you say a bit more about that?", "Does anyone else want to come in on that?",
          "Thank you, that's really helpful.", "What would have made that better?",
          "Okay. And how did that feel?", "That's interesting, go on."]
OPENERS = ["", "", "", "Honestly, ", "I mean, ", "To be fair, ", "For me, ", "The thing is, ",
           "Yeah, ", "Well, ", "I think ", "I suppose ", "Like I said, ", "Mm. "]
JOINERS = [", and ", ", and on top of that ", ". And ", ". Also ", ", which is why ",
           ". It's the same with the other thing, "]
TAILS = ["", "", "", ", to be honest", ", if that makes sense", ", you know", " [inaudible]",
         ", and that's stuck with me", ", really", ", every time"]
FILLERS = ["Yeah.", "Mm, same.", "I'd agree with that.", "Sorry, go on.", "Yeah, definitely.",
           "I don't really have anything to add to that.", "That's exactly it.", "[laughter] Yeah.",
           "Same here.", "Mm-hm.", "I was going to say the same thing."]
ASIDES = {
    "fam": ["That was back in {date}.", "It was when we lived in {place}.",
            "{child} was at {school} then.", "You can ring me on {phone} if you need to.",
            "I put it all in an email to {email}.", "We were at {postcode} at the time.",
            "Our worker then was {worker_full}.", "We were living on {street} then.",
            "{child} was about nine then."],
    "yp": ["I was at {school} then.", "I live in {place} with my nan.",
           "My worker was {worker_full}.", "It was on {date}.", "This was at {school}."],
    "wrk": ["I've worked in the {place} team for six years.", "I'm based at the {place} office.",
            "We had a family at {school} last year like that.", "You can get me on {email}.",
            "My direct line is {phone}.", "There was one on {street}, {postcode}, last month."],
}
INTROS = {
    "fam": ["Hi, I'm {first}, I've got two kids, the youngest is {child}.",
            "I'm {first} {last}, I'm a foster carer in {place}.",
            "Hiya, {first}. My youngest, {child}, goes to {school}.",
            "I'm {first}, mum of three, we live in {place}."],
    "yp": ["I'm {first}, I'm fourteen, I go to {school}.", "{first}. I'm fifteen.",
           "Hi, I'm {first}, I live in {place}."],
    "wrk": ["I'm {first} {last}, I'm a {job} in the {place} team.",
            "{first} {last}, {job}, I cover {place}.", "Hi, I'm {first}, {job}, been here four years."],
}
JOBS = {"practitioner": ["social worker", "senior practitioner", "family support worker",
                         "early help practitioner"],
        "manager": ["team manager", "service manager", "head of service"]}
HINTS = {"parent_carer": ["parent", "carer", "mum", "dad", "foster carer"],
         "young_person": ["young person", "YP"], "practitioner": ["social worker", "practitioner"],
         "manager": ["manager", "team manager"], "interviewer": ["interviewer"]}

CHILD_NAMES = ["Callum", "Ellie", "Jayden", "Kacey", "Tyler", "Amelia", "Freya", "Harley", "Kian",
               "Leah", "Mason", "Isla", "Riley", "Maisie", "Alfie", "Poppy", "Ruby", "Logan",
               "Evie", "Archie", "Lexi", "Brandon", "Chloe", "Kai", "Tia", "Reece", "Skye",
               "Ollie", "Tegan", "Bailey", "Jessica", "Connor", "Aaliyah", "Zain", "Keira"]
ADULT_NAMES = ["Sarah", "Becky", "Michelle", "Lisa", "Donna", "Kerry", "Gemma", "Claire", "Dean",
               "Lee", "Craig", "Darren", "Wayne", "Shaun", "Jo", "Nicola", "Hayley", "Karen",
               "Paul", "Stacey", "Amanda", "Tracey", "Jodie", "Natalie", "Aisha", "Priya",
               "Tomasz", "Agnieszka", "Kwame", "Farah", "Rachel", "Joanne", "Martin", "Sian"]
SURNAMES = ["Harris", "Bennett", "Cooper", "Walsh", "Turner", "Price", "Hughes", "Foster", "Gill",
            "Kowalski", "Osei", "Begum", "Patel", "Whitfield", "Marsh", "Pearce", "Lloyd",
            "Dawson", "Kemp", "Nash", "Rowe", "Fielding", "Hodges", "Stubbs", "Okafor", "Nowak",
            "Ahmed", "Reid", "Chapman", "Gibbs", "Ellison", "Fairbairn"]
STREETS = ["Road", "Close", "Avenue", "Street", "Lane", "Drive", "Way", "Crescent"]
STREET_WORDS = ["Beech", "Oakfield", "Station", "Church", "Meadow", "Kingsway", "Elm", "Victoria",
                "Chestnut", "Mill", "Priory", "Heath"]
SCHOOL_WORDS = ["Oakwood", "St Mary's", "Kingsley", "Riverside", "Hollybrook", "Westfield",
                "Brookfield", "Ashcroft", "Meadowview", "Highcliffe"]
SCHOOL_KINDS = ["Primary School", "Junior School", "Academy", "Secondary School", "Community School"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
EMAIL_DOMAINS = ["example.gov.uk", "mail.example.com", "example.org.uk"]

# sessions: (prefix, group, count, participant role mix, (min, max) participants)
DESIGN = [
    ("D", "discovery_interview", 8, ["practitioner", "practitioner", "manager"], (1, 2)),
    ("C", "parent_carer_consultation", 6, ["parent_carer"], (3, 5)),
    ("Y", "young_people_group", 3, ["young_person"], (3, 5)),
]
THEME_WEIGHTS = {  # which topics each group's schedule leans towards
    "discovery_interview": [3, 2, 3, 2, 4, 3, 3, 1, 2],
    "parent_carer_consultation": [3, 3, 3, 3, 3, 2, 2, 2, 3],
    "young_people_group": [3, 2, 2, 4, 3, 2, 1, 2, 2],
}
STYLES = ["txt_plain", "vtt_teams", "docx_typed", "txt_timestamped", "vtt_zoom", "docx_teams"]
FIXED_TIME = datetime(2024, 1, 1, 0, 0, 0)


def write_transcripts(out_dir: Path, params, seed: int) -> dict:
    """Write out_dir/transcripts/ (files + sessions.csv) and the gold themes in out_dir/truth/.

    Returns a summary: sessions, turns, coded turns, files by format, planted identifiers.
    """
    out_dir = Path(out_dir)
    rng = np.random.default_rng([seed, 9])  # own stream: other generators don't shift it
    folder, truth = out_dir / "transcripts", out_dir / "truth"
    folder.mkdir(parents=True, exist_ok=True)
    truth.mkdir(parents=True, exist_ok=True)
    world = _World(rng, params, out_dir)
    sessions, gold, planted = [], [], []
    n = 0
    for prefix, group, count, roles, size in DESIGN:
        for k in range(1, count + 1):
            session = _compose_session(world, f"{prefix}{k:02d}", group, roles, size)
            session["style"] = STYLES[n % len(STYLES)]
            session["header"] = n % 3 != 2  # a third carry their attributes only in sessions.csv
            n += 1
            sessions.append(session)
            for t, turn in enumerate(session["turns"], start=1):
                gold += [(session["session_id"], t, th) for th in sorted(turn["themes"])]
                planted += [(session["session_id"], t, kind, value)
                            for kind, value in turn["identifiers"]]
    files = {}
    sheet = []
    for s in sessions:
        name = write_session(folder, s)
        files[name.rsplit(".", 1)[1]] = files.get(name.rsplit(".", 1)[1], 0) + 1
        planted += [(s["session_id"], 0, "speaker", label) for label in s["labels"].values()
                    if s["style"] in ("vtt_teams", "vtt_zoom", "docx_teams")]
        full = not s["header"] or s["style"].startswith("vtt") or rng.random() < 0.5
        sheet.append({"session_id": s["session_id"], "file": name,
                      "group": s["group"] if full else "", "site": s["site"] if full else "",
                      "date": s["date"] if full else "", "speakers": _speakers_value(s)})
    _write_csv(folder / "sessions.csv", ["session_id", "file", "group", "site", "date", "speakers"],
               [[r[c] for c in ("session_id", "file", "group", "site", "date", "speakers")]
                for r in sheet])
    _write_csv(truth / "themes_gold.csv", ["session_id", "turn", "theme"], sorted(gold))
    _write_csv(truth / "transcript_identifiers.csv", ["session_id", "turn", "kind", "value"],
               sorted(set(planted)))
    return {"sessions": len(sessions), "turns": sum(len(s["turns"]) for s in sessions),
            "coded_turns": len({(g[0], g[1]) for g in gold}), "files": dict(sorted(files.items())),
            "identifiers_planted": len(set(planted))}


class _World:
    """The people, places and schools a site's transcripts draw on."""

    def __init__(self, rng: np.random.Generator, params, out_dir: Path):
        self.rng = rng
        self.site = params.site
        self.places = [d.name for d in params.districts]
        self.areas = list(params.postcode_areas)
        schools_csv = out_dir / "school_census" / "schools.csv"
        self.schools = []
        if schools_csv.is_file():
            with schools_csv.open(encoding="utf-8-sig", newline="") as f:
                self.schools = sorted({r["SchoolName"] for r in csv.DictReader(f)
                                       if r.get("SchoolName")})
        if not self.schools:
            self.schools = [f"{w} {k}" for w in SCHOOL_WORDS for k in SCHOOL_KINDS]
        self.workers = [f"{self.pick(ADULT_NAMES)} {self.pick(SURNAMES)}" for _ in range(12)]

    def pick(self, items):
        return items[int(self.rng.integers(len(items)))]

    def slot(self, name: str, child: str, ids: list) -> str:
        """A value for a grammar slot, recording identifiers as they are planted."""
        if name == "child":
            ids.append(("name", child))
            return child
        if name == "worker":
            value = self.pick(self.workers).split()[0]
            ids.append(("name", value))
            return value
        if name == "worker_full":
            value = self.pick(self.workers)
            ids.append(("name", value))
            return value
        if name == "school":
            value = self.pick(self.schools)
            ids.append(("school", value))
            return value
        if name == "place":
            value = self.pick(self.places)
            ids.append(("place", value))
            return value
        if name == "street":
            value = f"{self.pick(STREET_WORDS)} {self.pick(STREETS)}"
            ids.append(("place", value))
            return value
        if name == "date":
            d = date(2019, 1, 1) + timedelta(days=int(self.rng.integers(0, 5 * 365)))
            value = self.pick([d.strftime("%d/%m/%Y"), f"{d.day} {MONTHS[d.month - 1]} {d.year}",
                               f"{MONTHS[d.month - 1]} {d.year}",
                               f"the {_ordinal(d.day)} of {MONTHS[d.month - 1]}"])
            ids.append(("date", value))
            return value
        if name == "phone":
            tail = int(self.rng.integers(0, 1000))
            value = self.pick([f"07700 900{tail:03d}", f"07700900{tail:03d}",
                               f"01632 960{tail:03d}", f"+44 7700 900{tail:03d}"])
            ids.append(("phone", value))
            return value
        if name == "email":
            person = self.pick(self.workers).lower().split()
            value = f"{person[0]}.{person[1]}@{self.pick(EMAIL_DOMAINS)}"
            ids.append(("email", value))
            return value
        if name == "postcode":
            r = self.rng.integers
            value = (f"{self.pick(self.areas)}{int(r(1, 53))} "
                     f"{int(r(1, 10))}{'ABDEFGHJLNPQRSTUWXYZ'[int(r(20))]}"
                     f"{'ABDEFGHJLNPQRSTUWXYZ'[int(r(20))]}")
            ids.append(("postcode", value))
            return value
        raise KeyError(name)

    def fill(self, template: str, child: str, ids: list, **fixed: str) -> str:
        out, rest = [], template
        while "{" in rest:
            before, _, after = rest.partition("{")
            name, _, rest = after.partition("}")
            out.append(before)
            if name in fixed:
                value = fixed[name]
                if name in ("first", "last"):
                    ids.append(("name", value))
                out.append(value)
            else:
                out.append(self.slot(name, child, ids))
        return "".join(out) + rest


def _perspective(role: str) -> str:
    return {"parent_carer": "fam", "young_person": "yp"}.get(role, "wrk")


def _compose_session(world: _World, session_id: str, group: str, roles: list[str],
                     size: tuple[int, int]) -> dict:
    """One session: introductions, then topics from the schedule, each with a few answers."""
    rng = world.rng
    people = []
    for i in range(int(rng.integers(size[0], size[1] + 1))):
        role = roles[int(rng.integers(len(roles)))]
        people.append({"key": f"P{i + 1}", "role": role, "first": world.pick(ADULT_NAMES
                       if role != "young_person" else CHILD_NAMES),
                       "last": world.pick(SURNAMES), "child": world.pick(CHILD_NAMES),
                       "job": world.pick(JOBS.get(role, ["practitioner"]))})
    interviewer = {"key": "I", "role": "interviewer", "first": world.pick(ADULT_NAMES),
                   "last": world.pick(SURNAMES)}
    d = date(2024, 1, 15) + timedelta(days=int(rng.integers(0, 160)))
    turns: list[dict] = []

    def say(person: dict, text: str, themes=(), ids=()):
        if turns and turns[-1]["person"] is person:
            turns[-1]["text"] += " " + text
            turns[-1]["themes"] |= set(themes)
            turns[-1]["identifiers"] += list(ids)
        else:
            turns.append({"person": person, "text": text, "themes": set(themes),
                          "identifiers": list(ids)})

    what = {"discovery_interview": "this interview", "parent_carer_consultation": "this session",
            "young_people_group": "this group"}[group]
    say(interviewer, f"Thanks for coming. In {what} we want to hear how information about you "
        "and your family is recorded, shared and used. Anything you say will be anonymised.")
    for p in people:
        ids: list = []
        text = world.fill(world.pick(INTROS[_perspective(p["role"])]), p["child"], ids,
                          first=p["first"], last=p["last"], job=p["job"])
        say(p, text, ids=ids)
    weights = np.array(THEME_WEIGHTS[group], dtype=float)
    n_topics = int(rng.integers(5, 8))
    topics = rng.choice(len(THEMES), size=n_topics, replace=False, p=weights / weights.sum())
    for topic in (THEMES[int(i)] for i in topics):
        say(interviewer, world.pick(QUESTIONS[topic]))
        for _ in range(int(rng.integers(2, 5))):
            p = people[int(rng.integers(len(people)))]
            if rng.random() < 0.12:
                say(p, world.pick(FILLERS))
                continue
            theme = topic if rng.random() < 0.85 else THEMES[int(rng.integers(len(THEMES)))]
            text, themes, ids = _answer(world, p, theme)
            say(p, text, themes, ids)
            if rng.random() < 0.3:
                say(interviewer, world.pick(PROBES))
    say(interviewer, "That's everything I wanted to ask. Thank you all, this has been really "
        "useful.")
    labels = {id(p): f"{p['first']} {p['last']}" for p in [interviewer, *people]}
    # labels: each speaker's full name, the label of Teams and Zoom styles
    return {"session_id": session_id, "group": group, "site": world.site,
            "date": d.isoformat(), "turns": turns, "labels": labels}


def _answer(world: _World, person: dict, theme: str) -> tuple[str, set, list]:
    """A participant's answer: a clause on the theme, sometimes a second theme, sometimes an
    aside carrying identifiers."""
    rng, view, ids = world.rng, _perspective(person["role"]), []
    clause = world.fill(world.pick(CLAUSES[theme][view]), person["child"], ids)
    themes = {theme}
    opener = world.pick(OPENERS)
    text = opener + (clause[0].upper() + clause[1:] if opener.endswith(". ") else clause)
    if rng.random() < 0.3:
        second = world.pick(PAIRS[theme])
        themes.add(second)
        text += world.pick(JOINERS) + world.fill(world.pick(CLAUSES[second][view]),
                                                 person["child"], ids)
    text = _sentence(text + world.pick(TAILS))
    if rng.random() < 0.35:
        aside = _sentence(world.fill(world.pick(ASIDES[view]), person["child"], ids))
        text = f"{aside} {text}" if rng.random() < 0.5 else f"{text} {aside}"
    return text, themes, ids


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!", "]")) else text + "."


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _label(session: dict, person: dict) -> tuple[str, str | None]:
    """The label a session's style gives a speaker, and a bracketed role hint if any."""
    style, role = session["style"], person["role"]
    if style in ("vtt_teams", "vtt_zoom", "docx_teams"):
        return session["labels"][id(person)], None
    if style == "txt_timestamped":
        return ("Speaker 1" if role == "interviewer" else f"Speaker {int(person['key'][1:]) + 1}",
                None)
    if role == "interviewer":
        return ("Interviewer" if session["group"] == "discovery_interview" else "Facilitator",
                None)
    hints = HINTS[role]
    return person["key"], hints[int(person["key"][1:]) % len(hints)]


def _speakers_value(session: dict) -> str:
    """The speakers column: needed where labels are names or numbered speakers."""
    if session["style"] in ("txt_plain", "docx_typed"):
        return ""
    people = {id(t["person"]): t["person"] for t in session["turns"]}
    pairs = sorted({(_label(session, p)[0], p["role"]) for p in people.values()})
    return "; ".join(f"{label} = {role}" for label, role in pairs)


def write_session(folder: Path, session: dict) -> str:
    """Write one session in its style; returns the file name."""
    style = session["style"]
    name = f"{session['session_id']}_{session['group']}"
    head = [f"Session: {session['session_id']}", f"Group: {session['group']}",
            f"Site: {session['site']}", f"Date: {session['date']}"]
    if style == "txt_timestamped":
        head.append(f"Speakers: {_speakers_value(session)}")
    head = head if session["header"] else []
    turns = [(*_label(session, t["person"]), t["text"]) for t in session["turns"]]
    if style.startswith("txt"):
        lines = head + ["---", ""] if head else []
        clock = 0.0
        for label, hint, text in turns:
            who = f"{label} ({hint})" if hint else label
            if style == "txt_timestamped":
                lines.append(f"[{_clock(clock)}] {who}: {text}")
                clock += 2 + 0.4 * len(text.split())
            else:
                lines += [f"{who}: {t}" for t in _paragraphs(text)]
            lines.append("")
        (folder / f"{name}.txt").write_text("\n".join(lines), encoding="utf-8", newline="\n")
        return f"{name}.txt"
    if style.startswith("docx"):
        (folder / f"{name}.docx").write_bytes(_docx_bytes(head, turns, teams=style == "docx_teams"))
        return f"{name}.docx"
    lines = ["WEBVTT", ""]
    if head:
        lines += ["NOTE", *head, ""]
    clock, cue = 0.0, 1
    for label, _, text in turns:
        for part in _cues(text):
            end = clock + 1.5 + 0.35 * len(part.split())
            body = f"<v {label}>{part}</v>" if style == "vtt_teams" else f"{label}: {part}"
            lines += [str(cue), f"{_clock(clock, ms=True)} --> {_clock(end, ms=True)}", body, ""]
            clock, cue = end + 0.2, cue + 1
    (folder / f"{name}.vtt").write_text("\n".join(lines), encoding="utf-8", newline="\n")
    return f"{name}.vtt"


def _paragraphs(text: str) -> list[str]:
    """Long turns typed as several paragraphs, the speaker repeated, as typists often do."""
    parts = _split_sentences(text)
    if len(parts) < 3:
        return [text]
    return [" ".join(parts[:2]), " ".join(parts[2:])]


def _cues(text: str) -> list[str]:
    """Captions carry a sentence or two each."""
    parts = _split_sentences(text)
    return [" ".join(parts[i:i + 2]) for i in range(0, len(parts), 2)]


def _split_sentences(text: str) -> list[str]:
    out, start = [], 0
    for i, ch in enumerate(text):
        if ch in ".?!" and (i + 1 == len(text) or text[i + 1] == " "):
            out.append(text[start:i + 1].strip())
            start = i + 1
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


def _clock(seconds: float, ms: bool = False) -> str:
    whole = int(seconds)
    text = f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return f"{text}.{int(round((seconds - whole) * 1000)) % 1000:03d}" if ms else text


def _docx_bytes(head: list[str], turns: list[tuple[str, str | None, str]], teams: bool) -> bytes:
    """A Word transcript with fixed core properties and zip timestamps (byte-identical)."""
    import docx

    document = docx.Document()
    props = document.core_properties
    props.author = props.last_modified_by = "transcriber"
    props.created = props.modified = FIXED_TIME
    props.revision = 1
    props.title = "Transcript"
    for line in head:
        document.add_paragraph(line)
    if head:
        document.add_paragraph("---")
    clock = 0.0
    for label, hint, text in turns:
        if teams:
            document.add_paragraph(f"{label}   {_clock(clock)[3:] if clock < 3600 else _clock(clock)}")
            document.add_paragraph(text)
            clock += 2 + 0.4 * len(text.split())
        else:
            who = f"{label} ({hint})" if hint else label
            for part in _paragraphs(text):
                para = document.add_paragraph()
                para.add_run(f"{who}:").bold = True
                para.add_run(f" {part}")
        document.add_paragraph("")
    buffer = io.BytesIO()
    document.save(buffer)
    return _fixed_zip(buffer.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite a zip with every member dated 1980-01-01, so saving twice gives the same bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def _write_csv(path: Path, header: list[str], rows: list) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
