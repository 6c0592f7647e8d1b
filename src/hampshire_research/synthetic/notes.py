"""Case notes as social workers write them, from a grammar: each note is a run of sentences,
each sentence built from parts (who speaks, a reporting frame, content by age and stage, and
connecting phrases), so that wording varies far beyond a set of templates. Every sentence
carries its code under the voice codebook (who x form, or who x absence, or none), so notes
chosen for the gold set get exact sentence offsets in truth/voice_gold.csv."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from itertools import accumulate

import numpy as np

# ---------------------------------------------------------------- lexicon
REPORT_VERBS = ["said that", "told me that", "explained that", "shared that", "described how",
                "mentioned that", "reported that", "stated that", "confirmed that", "commented that",
                "went on to say that", "was clear that", "acknowledged that", "let me know that",
                "talked about how", "disclosed that", "said", "told me", "explained", "felt that"]
QUOTE_FRAMES = ['{who} said, "{q}"', '"{q}" {who} told me.', '{who} told me: "{q}"',
                'Mind of My Own statement from {who}: "{q}"', '{who} typed on the tablet: "{q}"',
                '{who} said quietly, "{q}"', 'Looking at the floor, {who} said "{q}"',
                'In {pos} own words, "{q}"', '{who} said "{q}" when asked about {topic}.',
                'When I asked about {topic}, {who} replied, "{q}"',
                '{who} wrote on the worksheet: "{q}"', 'Quote from {who}: "{q}"',
                '{who} whispered, "{q}"', 'Asked what would make things better, {who} said "{q}"']
REPORT_FRAMES = ["{who} {verb} {s}.", "During the visit {who} {verb} {s}.",
                 "When we talked about {topic}, {who} {verb} {s}.",
                 "Without prompting, {who} {verb} {s}.", "On the walk to the park {who} {verb} {s}.",
                 "When I asked about {topic}, {who} {verb} {s}.", "Later {who} {verb} {s}."]
WF_FRAMES = ["{who}'s wish is {wish}.", "{who} would like {wish}.", "{who} hopes {hope}.",
             "{who}'s views: {sub} would like {wish}.", "More than anything {who} wants {wish}.",
             "{who} is worried about {worry}.", "{who} misses {matter}.",
             "Wishes and feelings: {who} wants {wish}.", "{who} worries about {worry}.",
             "{who} feels safe when {safe}.", "What matters most to {obj} is {matter}.",
             "{who} is happiest when {safe}.", "{who}'s biggest worry is {worry}.",
             "Using the Three Houses, {who} put {worry} in the house of worries.",
             "In the house of dreams {who} placed {dream}.",
             "{who} feels {feeling} about {topic}."]
NV_FRAMES = ["{who} {nv}.", "Throughout the visit {who} {nv}.", "I observed that {who} {nv}.",
             "When {trigger}, {who} {nv}.", "{who} drew a picture of {drawing} and {nv2}.",
             "On the safety scale {who} chose {score} out of 10.",
             "Using the feelings cards {who} picked the {emotion} face for {topic}.",
             "{who} {nv} when {trigger}."]
NV_YOUNG = ["made good eye contact and babbled", "smiled and reached for {carer}",
            "turned away and cried when {adult} came close", "settled quickly in {carer_pos} arms",
            "was alert and responsive to {carer_pos} voice", "became unsettled and arched {pos} back",
            "crawled to {carer} for comfort", "giggled during play with {carer}",
            "flinched when the door banged", "was very quiet and watchful"]
NV_OLDER = ["kept {pos} head down and did not make eye contact", "played happily with the dolls house",
            "hid behind the sofa", "became tearful", "clung to {carer}",
            "was smiling and chatty", "put {pos} hands over {pos} ears", "shrugged",
            "nodded when asked if {sub} felt safe", "pushed the toys away",
            "showed me {pos} bedroom with pride", "fidgeted and looked at the floor"]
NV2 = ["said it was the family at home", "coloured everyone except Dad", "added a big sun",
       "scribbled over it", "would not explain it", "asked me to keep it"]
DRAWINGS = ["{pos} house", "{pos} family", "a monster", "{pos} bedroom", "a rainbow",
            "the school playground", "{carer} and {obj}self"]
EMOTIONS = ["sad", "angry", "worried", "happy", "scared", "confused"]
TRIGGERS = ["Dad's name was mentioned", "{carer} left the room", "I asked about home",
            "we talked about school", "the dog barked", "I asked about contact"]

CHILD_QUOTES = ["I want to stay with {nan}", "my tummy hurts when Dad shouts",
                "I like it when {carer_word} reads to me", "it's not fair", "I want my own room",
                "can you tell Mum I'm sorry", "I don't want to talk about it",
                "my best friend is called {friend}", "I'm scared of the man next door",
                "I want to live with my dad", "please don't tell Mum I told you",
                "I like my new school", "Dad shouts a lot",
                "I don't want to go home when {adult} is angry", "I'm fine", "it's boring at home",
                "I miss my mum", "nobody listens to me", "I feel safe here",
                "I want to see my brother more", "the teachers are nice", "I'm scared at night",
                "can I come back to foster care", "I just want things to be normal",
                "I don't like it when they argue", "{carer_word} makes me breakfast now",
                "I want to go to the football club", "I'm not allowed friends round",
                "I get hungry at school", "I want you to stop coming", "I love my dog",
                "school is the best bit of my week", "I hate the new flat",
                "I want Mum to get better", "I worry about Mum when I'm at school",
                "it's better since Dad left", "I don't want to move again"]
CHILD_REPORTED = ["{sub} likes {pos} new school", "{sub} feels safe at home",
                  "{sub} wants to be able to see {pos} friends after school",
                  "{sub} does not feel listened to at home", "{sub} is fed up of moving",
                  "{pos} mum has been crying a lot", "{sub} hides in {pos} room when there is shouting",
                  "{sub} would like to join the after-school club",
                  "{sub} is worried about {pos} mum", "{sub} misses {pos} dad",
                  "things have been better at home", "{sub} is being bullied at school",
                  "{sub} does not like it when {pos} parents argue",
                  "{sub} wants to spend more time with {nan}", "{sub} gets hungry at school",
                  "{sub} is sometimes left alone in the evening", "{sub} sleeps badly",
                  "{pos} stepdad shouts at {obj}", "{sub} would like to go back to school",
                  "{sub} has no one to talk to", "{sub} enjoys living with {pos} carers",
                  "{sub} does not want to see {pos} father", "{sub} is angry about the move",
                  "{sub} has been self-harming", "{sub} stays out late with older friends"]
WISHES = ["to stay living with {nan}", "to go back home to {pos} mum", "to see {pos} dad at weekends",
          "to have more time with {pos} friends", "to keep {pos} dog", "for Dad to stop drinking",
          "to stay in the same foster home", "to be allowed to walk to school alone",
          "for the arguing to stop", "to stay at the same school", "to have {pos} own bedroom",
          "to be listened to", "for {pos} mum to be well", "to live with {pos} brother"]
WORRIES = ["{pos} mum drinking", "the arguments at home", "moving school", "money at home",
           "Mum's new boyfriend", "being split up from {pos} brother", "the court case",
           "Dad coming back", "being taken away", "{pos} little brother", "the police coming",
           "exams", "not having friends"]
SAFE = ["{nan} is there", "{pos} door is locked", "{sub} is at school", "{sub} is with {pos} dog",
        "{carer} is calm", "{sub} is playing football"]
MATTERS = ["seeing {pos} brother", "{pos} dog", "staying at {pos} school", "{pos} friends",
           "being with {pos} mum"]
FEELINGS = ["confused", "upset", "hopeful", "angry", "unsure", "relieved", "anxious"]
TOPICS = ["home", "school", "contact with Dad", "the move", "the plan", "{pos} family",
          "bedtimes", "friendships", "the review", "what happened last week"]

PARENT_QUOTES = ["I'm doing my best", "I don't need social services in my life",
                 "I love my children more than anything", "he only drinks at weekends",
                 "I didn't know she was missing school", "I want a different social worker",
                 "he's a good boy really", "I can't cope with her behaviour",
                 "we've been struggling since I lost my job", "I know I need help with my drinking",
                 "the school are making things up", "I just want my kids home",
                 "nobody told me about the meeting", "I'm not going back to him"]
PARENT_REPORTED = ["{psub} is struggling with money", "{psub} has stopped drinking",
                   "{psub} feels unsupported by the school", "the children are settled",
                   "{psub} is worried about the children's behaviour",
                   "{psub} has reported the incident to the police",
                   "{psub} is on a waiting list for counselling", "the family are in rent arrears",
                   "{psub} does not accept the concerns", "{psub} would like parenting support",
                   "{child} has been sleeping better", "{psub} has not been able to get {child} to school"]
PARENT_WF = ["wants the children to stay at home", "hopes to be rehoused nearer {nan}",
             "would like more contact with the children", "hopes the plan can end by the summer",
             "would like help with routines", "worries about the older children's friendships",
             "wants the case closed"]
PARENT_NV = ["became tearful when we talked about the plan", "raised {ppos} voice and left the room",
             "was calm and engaged well", "appeared under the influence of alcohol",
             "avoided eye contact when the injury was discussed"]
FAMILY_LINES = ["{fsub} can collect {child} from school", "{fsub} is worried about the state of the house",
                "{fsub} could have the children at weekends", "Mum needs more help",
                "{fsub} has not seen the children since the summer", "the family are coping better",
                "{child} is always hungry when {sub} visits", "Dad has been drinking again"]
SIBLING_LINES = ["the house is noisy at night", "Dad shouts at them", "they sometimes miss breakfast",
                 "{sub} looks after {pos} sibling a lot", "things are better since Mum got help"]
PROF_ROLES = ["the class teacher", "the health visitor", "the school nurse", "the GP",
              "the DSL", "the police officer", "the CAMHS worker", "the family support worker",
              "the head of year", "the SENCo", "the youth worker", "the midwife"]
PROF_LINES = ["{sub} arrives at school hungry", "attendance has dropped to 82%",
              "there have been no concerns this term",
              "Mum did not attend the last appointment", "{sub} has been excluded twice this year",
              "the family are known to the domestic abuse service",
              "{sub} has been more settled in class", "there were bruises on {pos} arm on Monday",
              "{sub} has missed two health appointments", "{sub} was found outside after dark",
              "the home conditions were poor", "{sub} is making good progress",
              "{sub} has disclosed worries to a friend", "the family have engaged well"]
PRAC_LINES = ["In my view {child}'s needs are not being met at home.",
              "My worry is that {child} is being exposed to adult conflict.",
              "I am reassured by the progress the family have made.",
              "On balance I think the case can step down to early help.",
              "I am not confident that {carer} understands the impact on {child}.",
              "I am concerned that the plan is not bringing about change quickly enough.",
              "My assessment is that {child} is at risk of significant harm.",
              "It is my professional opinion that the family would benefit from early help.",
              "I consider that {carer} is protective and able to meet {child}'s needs.",
              "In my view the risks have reduced since the last visit.",
              "I remain worried about the impact of domestic abuse on {child}.",
              "I think {child} is carrying a lot of worry for a child of {pos} age.",
              "My analysis is that neglect is the main concern for {child}.",
              "I believe the threshold for a child protection plan is met."]
MEDIATED = ["{child}'s advocate told the review that {sub} wants {wish}.",
            "The foster carer told me {child} has been saying {sub} wants {wish}.",
            "{child}'s teacher passed on that {child} had told her {rep}.",
            "The IRO shared {child}'s view, given before the meeting, that {sub} wants {wish}.",
            "Speaking for {child}, the advocate said {sub} does not want to attend the meeting.",
            "The IRO relayed that {child} would like {wish}.",
            "Through the interpreter, {child} explained that {rep}.",
            "{carer_cap} passed on that {child} has said {sub} wants {wish}.",
            "{child}'s independent visitor shared that {rep}.",
            "The teacher passed on {child}'s message that {rep}.",
            "{child}'s views were shared by {pos} advocate: {sub} wants {wish}."]
NOT_SEEN = ["{child} was at school so was not seen.",
            "{child} was asleep upstairs and was not seen on this visit.",
            "There was no answer at the door, so {child} was not seen.",
            "{child} was out with friends and was not seen.",
            "{child} was not seen as {sub} was staying with {nan}.",
            "{child} was unwell in bed and was not seen."]
NOT_ALONE = ["{carer_cap} remained in the room throughout.",
             "It was not possible to see {child} alone today.",
             "{carer_cap} would not allow me to speak with {child} on {pos} own.",
             "{child} was seen in the living room with the family present.",
             "{child} was seen with {pos} brother present and not on {pos} own.",
             "{child} did not want to speak without {carer} there.",
             "I was unable to see {child} alone because {carer} would not leave the room."]
NOT_SOUGHT = ["{child}'s views were not sought on this occasion.",
              "I have not yet spoken to {child} about the plan.",
              "There was no opportunity to gather {child}'s wishes and feelings.",
              "{child}'s views will be gathered at the next visit.",
              "Views not obtained due to the time available.",
              "I did not ask {child} about {topic} today.",
              "{child}'s wishes and feelings have not yet been recorded."]
TOO_YOUNG = ["Due to {pos} age {child} could not share {pos} views.",
             "{child} is pre-verbal.", "At {age_words} {child} is too young to express {pos} views.",
             "Because {child} is so young {pos} views could not be sought directly."]
DECLINED = ["{child} did not want to talk today.", "{child} declined to speak with me.",
            "{child} went to {pos} room when I asked if we could talk.",
            "{child} would not answer any of my questions.",
            "{child} refused to come downstairs to talk.",
            "{child} chose not to take part in the direct work session.",
            "When I asked to talk, {child} walked off and would not engage."]
BARRIER = ["No interpreter was available, so {child}'s views were not obtained.",
           "{child} is non-verbal and {pos} communication aid was not available.",
           "{child} uses Makaton and I was not able to understand {pos} signs today.",
           "The family's first language is not English and the interpreter did not attend."]
PARENT_NOT_SOUGHT = ["Dad has not been spoken to and his views were not sought.",
                     "{carer_cap}'s views were not gathered on this occasion."]
FILLER = ["Visit arranged by phone on {weekday}.", "The home was warm and tidy.",

          "Strategy discussion held with police and health.", "Checks completed with the GP and school.",
          "The family were offered a Family Group Conference.", "Letter sent to confirm the outcome.",
          "Next visit booked in three weeks.", "Case discussed with my manager.",
          "The chronology was updated.", "A copy of the plan was given to {carer}.",
          "Actions from the last core group were reviewed.", "Safety plan discussed with the family.",
          "Referral to the school nurse made.", "Contact details checked and updated.",
          "There was food in the fridge and cupboards.", "I checked the sleeping arrangements."]
OPENERS = {
    "contact": ["Contact received from {src}.", "MASH contact from {src} regarding {child}.",
                "Telephone contact from {src}."],
    "referral": ["Referral received from {src} about {child}.", "Referral accepted for assessment.",
                 "Referral details recorded following the strategy discussion."],
    "visit": ["Home visit to see {child}.", "Statutory visit completed.", "Unannounced visit.",
              "Visit to {child} at school.", "Visit to the family home."],
    "assessment": ["Child and family assessment summary.", "Assessment analysis.",
                   "Assessment: the child's daily lived experience."],
    "s47": ["Section 47 enquiry: visit and child's account.", "S47 enquiry notes.",
            "Joint visit with police under section 47."],
    "cp_conference": ["Initial child protection conference.", "Conference minutes: views of those attending.",
                      "ICPC summary."],
    "cla_review": ["Looked after review.", "Child in care review record.",
                   "Review chaired by the IRO."],
    "early_help": ["Early help session.", "Family support session at home.",
                   "Team around the family meeting."],
}
SEEN_ALONE = ["I spoke with {child} on {pos} own in {pos} bedroom.",
              "{child} was seen alone in the garden.", "I saw {child} on {pos} own at school.",
              "We talked alone while walking to the shop."]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
AGE_WORDS = ["eight months old", "ten months", "one year old", "18 months", "two years old",
             "nine months old"]

# Weights of the other voices and lines a note adds (parent, professional, family, sibling,
# practitioner, filler, filler) by note type, cumulative as random.choices takes them.
EXTRA_CUM_WEIGHTS = {k: list(accumulate(w)) for k, w in {
    "contact": [0.2, 0.6, 0.05, 0.0, 0.05, 0.1, 0.0],
    "cp_conference": [0.3, 0.35, 0.1, 0.05, 0.15, 0.05, 0.0],
    "cla_review": [0.25, 0.25, 0.1, 0.05, 0.15, 0.1, 0.1],
    None: [0.22, 0.16, 0.07, 0.06, 0.14, 0.2, 0.15]}.items()}


@dataclass
class NoteContext:
    child: str
    sex: str
    age: float
    carer: str      # "Mum", "Dad", "Nan", a foster carer's name...
    nan: str
    src: str
    carer_female: bool = True
    values: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        # what frames may name, worked out once per note (a note fills dozens of frames)
        self.values = dict(child=self.child, carer=self.carer,
                           carer_cap=self.carer[:1].upper() + self.carer[1:], nan=self.nan,
                           src=self.src, ppos="her" if self.carer_female else "his",
                           carer_pos=self.carer.split(" (")[0] + "'s",
                           carer_word=("my carer" if self.carer.startswith("the ")
                                       else "Mum" if self.carer_female else "Dad"),
                           **_pron(self.sex))


def _pron(sex: str) -> dict:
    return ({"sub": "he", "obj": "him", "pos": "his"} if sex == "M"
            else {"sub": "she", "obj": "her", "pos": "her"})


class _Parts(dict):
    """Values for a sentence frame, drawn only when the frame asks for them."""

    def __init__(self, grammar: Grammar, base: dict):
        super().__init__(base)
        self.g = grammar

    def __missing__(self, key):
        g = self.g
        lazy = {"adult": lambda: g.pick(["Dad", "Mum's partner", "Mum", "my stepdad"]),
                "topic": lambda: g.pick(TOPICS), "weekday": lambda: g.pick(WEEKDAYS),
                "age_words": lambda: g.pick(AGE_WORDS),
                "friend": lambda: g.pick(["Maisie", "Kian", "Leo", "Aisha", "Tom", "Ruby"])}
        if key not in lazy:
            raise KeyError(key)
        value = lazy[key]()
        self[key] = value
        return value


class Grammar:
    """Draws sentences with codes. A stdlib Random seeded from the run's numpy Generator keeps
    it deterministic and fast (a note takes hundreds of choices)."""

    def __init__(self, rng: np.random.Generator):
        self.r = random.Random(int(rng.integers(0, 2**62)))
        self.rng = self

    def random(self) -> float:
        return self.r.random()

    def integers(self, lo: int, hi: int) -> int:
        return lo + int(self.r.random() * (hi - lo))

    def permutation(self, n: int) -> list[int]:
        order = list(range(n))
        self.r.shuffle(order)
        return order

    def pick(self, items):
        return items[int(self.r.random() * len(items))]

    def fill(self, text: str, ctx: NoteContext, **kw) -> str:
        if "{" not in text:
            return text
        values = _Parts(self, ctx.values)
        values.update(kw)
        for _ in range(3):  # nested parts
            if "{" not in text:
                break
            text = text.format_map(values)
        return text

    def _cap(self, s: str) -> str:
        return s[:1].upper() + s[1:]

    # each returns (text, who, form, absence)
    def child_voice(self, ctx: NoteContext):
        if ctx.age < 2:
            return self.child_nv(ctx)
        r = self.rng.random()
        if ctx.age < 4:
            return self.child_nv(ctx) if r < 0.6 else self.child_quote(ctx, short=True)
        if r < 0.28:
            return self.child_quote(ctx)
        if r < 0.56:
            frame = self.pick(REPORT_FRAMES)
            s = self.fill(self.pick(CHILD_REPORTED), ctx)
            return (self._cap(self.fill(frame, ctx, who=ctx.child, verb=self.pick(REPORT_VERBS), s=s)),
                    "W.CYP", "F.RS", "")
        if r < 0.8:
            return self.child_wf(ctx)
        if r < 0.9:
            return self.child_nv(ctx)
        return self._cap(self.fill(self.pick(MEDIATED), ctx, wish=self.fill(self.pick(WISHES), ctx),
                                   rep=self.fill(self.pick(CHILD_REPORTED), ctx))), "W.CYP", "F.MED", ""

    def child_quote(self, ctx, short=False):
        q = self._cap(self.fill(self.pick(CHILD_QUOTES[:8] if short else CHILD_QUOTES), ctx))
        question = q.split(" ")[0].lower() in ("can", "why", "when", "what", "where")
        frame = self.pick(QUOTE_FRAMES)
        end = "?" if question else ("." if frame.endswith('"{q}"') else self.pick(["", "!"]))
        text = self._cap(self.fill(frame, ctx, who=ctx.child, q=q + end))
        if not text.endswith((".", '"', "?", "!")):
            text += "."
        return text, "W.CYP", "F.DQ", ""

    def child_wf(self, ctx):
        frame = self.pick(WF_FRAMES)
        text = self.fill(frame, ctx, who=ctx.child, wish=self.fill(self.pick(WISHES), ctx),
                         hope=self.fill("that " + self.pick(CHILD_REPORTED), ctx),
                         worry=self.fill(self.pick(WORRIES), ctx), safe=self.fill(self.pick(SAFE), ctx),
                         matter=self.fill(self.pick(MATTERS), ctx), feeling=self.pick(FEELINGS),
                         dream=self.fill(self.pick(MATTERS), ctx))
        return self._cap(text), "W.CYP", "F.WF", ""

    def child_nv(self, ctx):
        young = ctx.age < 3
        nv = self.fill(self.pick(NV_YOUNG if young else NV_OLDER), ctx)
        frames = NV_FRAMES[:4] + NV_FRAMES[7:] if young else NV_FRAMES
        frame = self.pick(frames)
        text = self.fill(frame, ctx, who=ctx.child, nv=nv, nv2=self.fill(self.pick(NV2), ctx),
                         drawing=self.fill(self.pick(DRAWINGS), ctx),
                         trigger=self.fill(self.pick(TRIGGERS), ctx),
                         score=str(int(self.rng.integers(1, 11))), emotion=self.pick(EMOTIONS))
        return self._cap(text), "W.CYP", "F.NV", ""

    def parent_voice(self, ctx):
        parent = not ctx.carer.startswith("the ")
        who = ctx.carer if parent else self.pick(["Mum", "Dad"])
        female = ctx.carer_female if parent else who == "Mum"
        r = self.rng.random()
        if r < 0.3:
            q = self.pick(PARENT_QUOTES)
            return self.fill(self.pick(['{w} said, "{q}."', '"{q}," {w} told me.', '{w} told me: "{q}."']),
                             ctx, w=who, q=self._cap(q)), "W.PAR", "F.DQ", ""
        if r < 0.7:
            line = self.fill(self.pick(PARENT_REPORTED), ctx, psub="she" if female else "he")
            return f"{who} {self.pick(REPORT_VERBS)} {line}.", "W.PAR", "F.RS", ""
        if r < 0.85:
            return f"{who} {self.fill(self.pick(PARENT_WF), ctx)}.", "W.PAR", "F.WF", ""
        return f"{who} {self.fill(self.pick(PARENT_NV), ctx)}.", "W.PAR", "F.NV", ""

    def family_voice(self, ctx):
        who, fsub = [(ctx.nan, "she"), ("Grandad", "he"), ("Aunt Kelly", "she"), ("Uncle Dan", "he"),
                     ("a family friend", "she"), ("Granny", "she")][int(self.rng.integers(0, 6))]
        line = self.fill(self.pick(FAMILY_LINES), ctx, fsub=fsub)
        return self._cap(f"{who} {self.pick(REPORT_VERBS)} {line}."), "W.FAM", "F.RS", ""

    def sibling_voice(self, ctx):
        sib = self.pick(["{pos} brother", "{pos} sister", "{pos} older brother", "{pos} half-sister"])
        sib = self.fill(sib, ctx)
        if self.rng.random() < 0.4:
            q = self._cap(self.fill(self.pick(SIBLING_LINES), ctx))
            return self._cap(f'{sib} said, "{q}."'), "W.SIB", "F.DQ", ""
        line = self.fill(self.pick(SIBLING_LINES), ctx)
        return self._cap(f"{sib} {self.pick(REPORT_VERBS)} {line}."), "W.SIB", "F.RS", ""

    def prof_voice(self, ctx):
        who = self.pick(PROF_ROLES)
        line = self.fill(self.pick(PROF_LINES), ctx)
        if self.rng.random() < 0.25:
            return self._cap(f'{who} said, "{self._cap(line)}."'), "W.PROF", "F.DQ", ""
        return self._cap(f"{who} {self.pick(REPORT_VERBS)} {line}."), "W.PROF", "F.RS", ""

    def prac(self, ctx):
        return self.fill(self.pick(PRAC_LINES), ctx), "W.PRAC", "", ""

    def absence(self, ctx, kind: str):
        lists = {"A.NOTSEEN": NOT_SEEN, "A.NOTALONE": NOT_ALONE, "A.NOTSOUGHT": NOT_SOUGHT,
                 "A.TOOYOUNG": TOO_YOUNG, "A.DECLINED": DECLINED, "A.BARRIER": BARRIER}
        if kind == "A.NOTSOUGHT" and self.rng.random() < 0.15:
            return self._cap(self.fill(self.pick(PARENT_NOT_SOUGHT), ctx)), "W.PAR", "", kind
        return self._cap(self.fill(self.pick(lists[kind]), ctx)), "W.CYP", "", kind

    def filler(self, ctx):
        return self.fill(self.pick(FILLER), ctx), "", "", ""

    def opener(self, ctx, note_type):
        options = [o for o in OPENERS[note_type] if ctx.age >= 5 or "at school" not in o]
        return self.fill(self.pick(options), ctx), "", "", ""

    def note(self, ctx: NoteContext, note_type: str, seen: str = "Y", alone: str = "Y"):
        """A note: opener, then voices and absences fitting the event, then practice lines.
        Returns the text and the coded segments (start, end, who, form, absence)."""
        parts = [self.opener(ctx, note_type)]
        r = self.rng
        if note_type == "visit" and seen == "N":
            parts.append(self.absence(ctx, "A.NOTSEEN"))
        elif ctx.age < 2 and note_type not in ("contact",):
            parts.append(self.absence(ctx, "A.TOOYOUNG"))
            parts.append(self.child_nv(ctx))
        else:
            n_child = int(r.integers(0, 4)) if note_type != "contact" else int(r.random() < 0.3)
            for _ in range(n_child):
                parts.append(self.child_voice(ctx))
            if note_type in ("visit", "s47") and alone == "N" and ctx.age >= 4:
                parts.append(self.absence(ctx, "A.NOTALONE"))
            elif note_type == "visit" and ctx.age >= 4 and r.random() < 0.4:
                parts.append((self.fill(self.pick(SEEN_ALONE), ctx), "", "", ""))
            u = r.random()
            if n_child == 0 and note_type != "contact":
                kind = ("A.DECLINED" if u < 0.35 else "A.NOTSOUGHT" if u < 0.8 else "A.BARRIER")
                parts.append(self.absence(ctx, kind))
        extras = [self.parent_voice, self.prof_voice, self.family_voice, self.sibling_voice,
                  self.prac, self.filler, self.filler]
        cum = EXTRA_CUM_WEIGHTS.get(note_type, EXTRA_CUM_WEIGHTS[None])
        for _ in range(int(r.integers(1, 5))):
            f = self.r.choices(extras, cum_weights=cum)[0]
            parts.append(f(ctx))
        order = [parts[0]] + [parts[1 + i] for i in r.permutation(len(parts) - 1)]
        seen_text = set()
        order = [p for p in order if not (p[0] in seen_text or seen_text.add(p[0]))]
        text, segs = "", []
        for k, (s, who, form, absence) in enumerate(order):
            sep = "" if k == 0 else ("\n" if r.random() < 0.15 else " ")
            text += sep
            if who:
                segs.append((len(text), len(text) + len(s), who, form, absence))
            text += s
        return text, segs
