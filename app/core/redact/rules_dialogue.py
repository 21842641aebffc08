"""Names and places in a conversation, where speech-to-text writes everything in lower case: the people greeted and
called by name ("hi sandy", "thanks bill", "mark how are you feeling", "see you next week june"), a person named
by a cue ("they call me dawn", "is grace coming today"), and towns after a word of travel or home ("we drove from
bialystok").

A first name that is also an ordinary word ("bill", "grace", "hope", "mark", "will") is a name only in these
positions; elsewhere it stays a word ("the bill", "we will mark the site"), and it does not spread to its other
mentions unless a full name made it certain.
"""

from __future__ import annotations

import re

from app.core.redact.base import Kind, Span
from app.core.redact.lexicon import MEDICAL_ENDINGS, Lexicon
from app.core.redact.name_words import FUNCTION_WORDS, NOT_FIRST_NAMES, TITLES_ABBREV, TITLES_WORD
from app.core.redact.rules_dates import CALENDAR_WORDS
from app.core.redact.rules_names import name_label
from app.core.redact.rules_people import CREDENTIALS, RELATIONSHIP_WORDS

_WORD = r"(?P<name>[^\W\d_][\w'’-]*)"
# Greetings and thanks before a name: "hi sandy", "good morning rob", "thank you so much, grace".
GREETING = re.compile(
    r"(?:\b(?:hi|hello|hey|hiya|good\s+(?:morning|afternoon|evening|night)|thanks|thank\s+you|bye|goodbye|"
    r"welcome|congratulations|congrats|sorry|excuse\s+me|nice\s+to\s+(?:meet|see)\s+you|good\s+to\s+see\s+you|"
    r"see\s+you|take\s+care)|(?:^|(?<=\n)|(?<=\])|(?<=\]\s))morning)"
    r"(?:\s+(?:again|so\s+much|very\s+much|too|back|there))?\s*,?\s+" + _WORD,
    re.IGNORECASE,
)
# A name that opens a turn or a sentence, before a question or a request: "mark how are you", "okay grace, can you".
OPENING = re.compile(
    r"(?:^|\n|\]\s*|[.?!]\s+)(?:(?:okay|ok|alright|all\s+right|so|well|oh|yes|yeah|right|now|and|um|uh|great|good|"
    r"hey)\s*,?\s+)*" + _WORD + r"\s*,?\s+(?P<next>how|what|when|where|why|who|and|tell|can\s+you|could\s+you|"
    r"would\s+you|do\s+you|did\s+you|are\s+you|have\s+you|i'm|i\s+am|i\s+want|i\s+need|i'd|i\s+just|let's|let\s+me|we're|"
    r"we\s+are|we'll|we\s+need|come\s+on|come\s+in|please|tell\s+me|have\s+a\s+seat|go\s+ahead|hi|hello|"
    r"you\s+said|you\s+mentioned|you\s+told\s+me)\b",
    re.IGNORECASE,
)
# A name that closes a turn: "thank you grace.", "see you next week june", "that's right, bill?"
CLOSING = re.compile(
    r"(?:\b(?:you|today|there|again|now|too|tonight|guys|morning|afternoon|evening|soon|later|week|day)\s*,?\s+|,\s*)"
    + _WORD
    + r"\s*[.?!]*\s*(?=$|\n|\[)",
    re.IGNORECASE,
)
# A name given by a cue: "they call me dawn", "she goes by bill", "is grace coming today".
NAMED = re.compile(
    r"\b(?:call(?:s|ed)?\s+me|calls?\s+(?:him|her)|goes\s+by|go\s+by|name\s+is|name's|named|known\s+as|"
    r"nickname\s+is)\s+" + _WORD,
    re.IGNORECASE,
)
# Who someone is, asked or said at the start of a visit: "hello is this penny", "you must be maria fenton".
IDENTIFIED = re.compile(
    r"\b(?:is\s+this|this\s+is|you\s+must\s+be|am\s+i\s+speaking\s+(?:to|with)|speaking\s+with)\s+" + _WORD,
    re.IGNORECASE,
)
EXPECTED = re.compile(
    r"\b(?:is|was|will|does|did|has|can|could|would|should)\s+" + _WORD + r"\s+(?:coming|going|joining|here|there|"
    r"with\s+you|doing|driving|picking|bringing|taking|staying|still|okay|ok|back|home|able|feeling|planning|around|"
    r"available|working)\b",
    re.IGNORECASE,
)
_SUBJECT_VERBS = (
    r"said|says|told|tells|drove|drives|called|calls|brought|brings|asked|asks|picked|visited|visits|lives|lived|"
    r"works|worked|mentioned|noticed|thinks|thought|wants|wanted|knew"
)
# A person doing what only a person does (speaking, driving, visiting), at the start of a sentence: "grace drove me
# here", "and bill said no" (not "art helps me relax").
SUBJECT = re.compile(
    r"(?:^|\n|\]\s*|[.?!]\s+|\b(?:and|but|so|because|then|well)\s+)" + _WORD + r"\s+(?:" + _SUBJECT_VERBS + r")\b",
    re.IGNORECASE,
)
# Someone's role, then their name, then what they said or did: "my coach drew said to run through it", "our
# neighbour bill drove me" (the role word need not be a relative's).
ROLE_SUBJECT = re.compile(
    r"\b(?:my|our|his|her|your|their)\s+(?P<role>[a-z][a-z-]+)\s+" + _WORD + r"\s+(?:" + _SUBJECT_VERBS + r")\b",
    re.IGNORECASE,
)
# Someone spoken of to be told or asked: "tell grace to call", "ask bill about it", "call frank back".
ADDRESSED = re.compile(
    r"\b(?:ask|asked|tell|told|call|called|text|texted|thank|remind|reminded|let)\s+"
    + _WORD
    + r"(?=\s*(?:[,.?!]|$|\n|\[|\s(?:to|and|know|about|that|back|later|tomorrow|tonight)\b))",
    re.IGNORECASE,
)
# A town after a word of travel or home: "we drove from bialystok", "she lives in szeged", "LIVES IN HARTWELL".
TRAVEL_CUE = re.compile(
    r"(?:\b(?:near|visiting|(?:moved|move|moving|drove|drive|driving|flew|fly|flying|flight|trip|back|came|come|comes|"
    r"coming|went|travel(?:l?ed)?|arrived|originally|here)\s+(?:to|from)|(?:i'm|i\s+am|is|are|we're|he's|"
    r"she's|they're)\s+(?:originally\s+)?from|(?:lives?|living|born|grew\s+up|raised|stays?|stayed|works?|worked)\s+in|"
    r"back\s+in|(?:over|down|up|out|seen|admitted|born|treated|stayed|works?|worked|working)\s+at))\s+$",
    re.IGNORECASE,
)
# Where a town may follow: the last word of every travel cue, then the word after it (the cue is checked only here).
_TRAVEL_END = re.compile(r"\b(?:to|from|in|at|near|visiting)\s+" + _WORD, re.IGNORECASE)
# A name set off by the role after it: "i'm gonna have frank, our nurse, take you", "this is ana, my daughter".
APPOSITION = re.compile(r",\s*(?:our|your|my|his|her|their|the)\s+(?P<role>[a-z-]+)\b", re.IGNORECASE)
_WORD_BEFORE = re.compile(_WORD + r"\s*$")
_ROLES_AFTER = frozenset(
    {"nurse", "doctor", "physician", "surgeon", "therapist", "aide", "assistant", "resident", "student", "interpreter",
     "pharmacist", "dietitian", "chaplain", "receptionist", "scribe", "technician", "tech", "caregiver"}
)  # fmt: skip
# After these the word must end the clause: "thanks will, how's" is a name, "thanks, will do" is not.
_CLAUSE_END = re.compile(r"\s*(?:[,.?!]|$|\n|\[|\s(?:how|what|when|where|why)\b)")
# After a greeting or a naming cue, a transcript has no commas: the next clause opens right after the name ("hello
# gulsen i'm glad", "hi thorunn nice to see you", "they call me zdenek but").
_NEXT_CLAUSE = re.compile(
    r"\s*(?:[,.?!]|$|\n|\[|\s(?:how|what|when|where|why|who|i|i'm|i've|i'll|i'd|it's|nice|good|great|glad|but|so|"
    r"you|you're|we|we're|thanks|thank|welcome|come|please|and|is|are|can|did|do)\b)"
)
_NOT_NAMES = FUNCTION_WORDS | TITLES_ABBREV | TITLES_WORD | CREDENTIALS | RELATIONSHIP_WORDS
_LANGUAGE_ENDINGS = re.compile(r"(?:ish|ese|ian|ans|ic|ics)$")
# First names that are also function words, named only where the clause ends after them.
_FUNCTION_NAMES = frozenset({"will", "may"})


class DialogueRules:
    def __init__(self, text: str, lexicon: Lexicon, lower: bool) -> None:
        self.text = text
        self.names = lexicon.names
        self.clinical = lexicon.clinical_words
        self.lower = lower
        self.spans: list[Span] = []

    def run(self) -> list[Span]:
        for regex in (GREETING, OPENING, CLOSING, NAMED, IDENTIFIED, EXPECTED, SUBJECT, ROLE_SUBJECT, ADDRESSED):
            for m in regex.finditer(self.text):
                # "okay chioma , and who's with you": an unknown word called out between commas is a name too
                vocative = regex is OPENING and self.text[m.end("name") : m.end("name") + 2].strip().startswith(",")
                if regex is ROLE_SUBJECT and m.group("role").lower() in FUNCTION_WORDS:
                    continue
                if regex is IDENTIFIED and not self._identified(m):
                    continue
                if self._first_name(m, unknown_ok=regex in (GREETING, NAMED, IDENTIFIED) or vocative):
                    self._add(m.start("name"), m.end("name"), Kind.NAME, 0.7)
        for m in APPOSITION.finditer(self.text):
            role = m.group("role").lower()
            if role not in _ROLES_AFTER and role not in RELATIONSHIP_WORDS:
                continue
            name = _WORD_BEFORE.search(self.text, max(0, m.start() - 40), m.start())
            if name is not None and self._first_name(name, unknown_ok=True):
                self._add(name.start("name"), name.end("name"), Kind.NAME, 0.7)
        for m in _TRAVEL_END.finditer(self.text):
            cue = TRAVEL_CUE.search(self.text, max(0, m.start() - 30), m.start("name"))
            if cue is not None and self._town(m.group("name")):
                self._add(m.start("name"), m.end("name"), Kind.LOCATION, 0.6)
        return self.spans

    def _cased(self, raw: str) -> bool:
        return raw.islower() if self.lower else raw[:1].isupper() and not raw.isupper()

    def _first_name(self, m: re.Match[str], unknown_ok: bool) -> bool:
        """The word is cased like a name and is a first name (also one that is an English word), or, after a
        greeting or a naming cue, a word no dictionary knows ("hi agnieszka")."""
        raw = m.group("name")
        norm = raw.lower().rstrip("'’s") if raw.lower().endswith(("'s", "’s")) else raw.lower()
        if not self._cased(raw) or norm in RELATIONSHIP_WORDS or norm in CREDENTIALS or norm in TITLES_WORD:
            return False
        if norm in FUNCTION_WORDS or norm in TITLES_ABBREV:
            # "will", "may": a name only where the clause ends after it ("thanks will, how's the knee")
            return norm in _FUNCTION_NAMES and bool(_CLAUSE_END.match(self.text, m.end("name")))
        if self.names.is_first(norm) and len(norm) >= 3:
            return norm not in NOT_FIRST_NAMES or norm in CALENDAR_WORDS  # "good morning june", not "okay so"
        # After a greeting or a cue, a surname list's word counts as an unknown one ("nice to meet you anders").
        listed = norm in self.names.surnames and not self.names.is_ambiguous(norm)
        return unknown_ok and (self._unknown(norm) or listed) and bool(_NEXT_CLAUSE.match(self.text, m.end("name")))

    def _identified(self, m: re.Match[str]) -> bool:
        """'is this penny', 'this is gulsen.': after "this is" a name ends the turn or a surname follows ("this is
        mark's first visit" is no introduction); after "you must be" it stands alone."""
        if m.group().lower().startswith(("you", "am", "speaking")):
            return True
        after = re.match(r"\s+([a-z]+)", self.text[m.end("name") :], re.IGNORECASE)
        surname = after is not None and after.group(1).lower() in self.names.surnames
        return surname or bool(re.match(r"\s*(?:[,.?!]|$|\n|\[)", self.text[m.end("name") :]))

    def _unknown(self, norm: str) -> bool:
        return (
            len(norm) >= 3
            and norm.isalpha()
            and not self.names.known_word(norm)
            and norm not in self.clinical
            and not MEDICAL_ENDINGS.search(norm)
        )

    def _town(self, raw: str) -> bool:
        """A word no dictionary knows, or a dictionary's place name, cased like a town: in lower case in a
        transcript, capitalised or in capitals in a note ("LIVES IN HARTWELL", not "lives in Spanish")."""
        norm = raw.lower()
        capitals = raw.isupper() and sum(ch in "AEIOUY" for ch in raw) >= 2
        cased = raw.islower() if self.lower else (raw[:1].isupper() and not raw.isupper()) or capitals
        if norm in _NOT_NAMES or norm in CALENDAR_WORDS or len(norm) < 4 or not cased:
            return False
        if norm in self.names.proper:
            return not _LANGUAGE_ENDINGS.search(norm)  # "from szczecin", not "in polish"
        return self._unknown(norm) and not self.names.is_first(norm)

    def _add(self, start: int, end: int, kind: Kind, confidence: float) -> None:
        label = name_label(self.text, start, end) if kind == Kind.NAME else "LOCATION"
        self.spans.append(Span(start, end, kind, self.text[start:end], confidence, "rule:dialogue", label))


def find_dialogue_names(text: str, lexicon: Lexicon, lower: bool) -> list[Span]:
    return DialogueRules(text, lexicon, lower).run()
