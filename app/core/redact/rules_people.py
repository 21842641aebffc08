"""Names beside the words that introduce a person in a note, in any case: care staff before or after their title or
credential ("DR. SURNAME", "NP Surname", "RN Firstname", "M. OKAFOR RN"), relatives after the word for them ("son
Erik", "DAUGHTER ROSALIND", "husband dwight farrow"), and full names written in lower case inside a note that has
capitals ("spoke with kevin murphy").

Nursing notes are often written in capitals, where the capital letter that marks a name elsewhere says nothing; the
word before says who follows. The name is what is hidden, never the title or the word for the relative: who was at
the bedside is clinical information.
"""

from __future__ import annotations

import re

from app.core.redact.base import Kind, Span
from app.core.redact.lexicon import CLINICAL_HEADS, MEDICAL_ENDINGS, Lexicon, shipped_words
from app.core.redact.name_words import FUNCTION_WORDS, NOT_FIRST_NAMES, TITLES_ABBREV, TITLES_WORD
from app.core.redact.rules_dates import CALENDAR_WORDS
from app.core.redact.rules_names import Word, name_label

# Titles and credentials that come before or after a clinician's name; beside the short ones, which are also common
# abbreviations ("PA pressure", "RT arm", "MD aware"), only a word a name list knows is a name.
STAFF_CREDENTIALS = shipped_words("staff_credentials.txt")
SHORT_CREDENTIALS = shipped_words("staff_credentials_short.txt")
CREDENTIALS = STAFF_CREDENTIALS | SHORT_CREDENTIALS
# Words for relatives and companions, before their names ("son Erik").
RELATIONSHIP_WORDS = shipped_words("relationship_words.txt")
# Between a title or relative word and the name: a full stop, a comma or a colon, on the same line.
_LEAD_GAP = re.compile(r"\.?\s{1,3}|\s*[,:]\s{1,3}|\.")
# After a credential that follows a name: the end of the line or of a clause, another credential, a time.
_SIGNATURE_END = re.compile(r"\s*(?:$|\n|[.,;:)/|]|-\s|\s(?:\d|@))")
_NATIONALITY = re.compile(r"(?:ish|ese|ian|ans|ic|ics)$")
_ROLE_WORDS = FUNCTION_WORDS | TITLES_ABBREV | TITLES_WORD | CREDENTIALS | RELATIONSHIP_WORDS


class PeopleRules:
    def __init__(self, text: str, words: list[Word], lexicon: Lexicon, lower: bool) -> None:
        self.text = text
        self.words = words
        self.names = lexicon.names
        self.clinical = lexicon.clinical_words
        self.lower = lower
        self.spans: list[Span] = []

    def run(self) -> list[Span]:
        for i, w in enumerate(self.words):
            if w.norm in CREDENTIALS:
                self.after_credential(i)
                self.before_credential(i)
            elif w.norm in RELATIONSHIP_WORDS:
                self.after_relative(i)
        if not self.lower:
            self.lowercase_full_names()
        return self.spans

    # ---- evidence about one word ----
    def _plain(self, w: Word) -> bool:
        """Not a name whatever its case: a role or function word, a number, a clinical word or drug. (A drug's
        ending alone says nothing here: many names have one, "Alicia", "AGUILAR", and a title or a relative comes
        before a person.)"""
        norm = w.norm
        return norm in _ROLE_WORDS or not norm.replace("-", "").replace("'", "").isalpha() or norm in self.clinical

    def _cased_like_name(self, w: Word) -> bool:
        """Capitalised ("Erik"), in capitals ("ROSALIND"), or in lower case where the whole text is."""
        return w.titlecase or (w.raw.isupper() and len(w.raw) >= 2) or (self.lower and w.raw.islower())

    def _listed(self, w: Word) -> bool:
        """A name list knows it; a word that is also an English word ("Will", "Grace") only with a capital. A
        double-barrelled name counts when each part is a name ("SMITH-WHITE")."""
        if w.norm in self.names.first or w.norm in self.names.surnames:
            return w.norm not in NOT_FIRST_NAMES
        parts = [p for p in w.norm.split("-") if p]
        if len(parts) > 1 and not w.raw.islower() and all(self.names.is_name_word(p) for p in parts):
            return True
        return self.names.is_ambiguous(w.norm) and (w.titlecase or (self.lower and w.raw.islower()))

    def _unknown(self, w: Word, short_ok: bool = False, title: bool = False) -> bool:
        """No dictionary or list knows it: a foreign or rare name ("WHITAKER" is listed, "OKONJO" is not). Three
        letters in capitals are mostly an abbreviation, unless `short_ok` (after "DR.": "DR. NGO")."""
        letters = w.norm.replace("-", "").replace("'", "")
        shortest = 4 if w.raw.isupper() and not short_ok else 3
        if len(letters) < shortest or self.names.known_word(w.norm):
            return False
        ending = MEDICAL_ENDINGS.search(w.norm)
        if not title and ending and len(ending.group()) >= 3:
            # "her husband Ischaemic heart disease": history; after a title a name may end so ("AGUILAR"). The
            # two-letter endings ("-ar", "-al") end as many names as terms ("NEIGHBOR GUNNAR"): the clinical head
            # words after a relative's name judge those.
            return False
        if w.raw.isupper() and sum(ch in "AEIOUY" for ch in w.raw.upper()) < 2:
            return False  # "NSTEMI", "PRBC": abbreviations have few vowels
        return not any(self.names.known_word(p) for p in re.split(r"[-']", w.norm) if p)

    def _dictionary_name(self, w: Word) -> bool:
        """A proper noun of the dictionary that is no month, language, nationality or abbreviation ("ROSAMUND", not
        "SPANISH" or "ABC")."""
        norm = w.norm
        return (
            (len(norm) >= 4 or sum(ch in "aeiouy" for ch in norm) >= 2)  # "ABC" is an abbreviation, "EVE" a name
            and norm in self.names.proper
            and norm not in CALENDAR_WORDS
            and not _NATIONALITY.search(norm)
        )

    def _name_word(self, w: Word, guess: bool, short_ok: bool = False, title: bool = False) -> bool:
        """`w` may be a person's name: listed, or (when `guess`) unknown to every dictionary, and cased like one. In
        a text with capitals a lower-case word counts only if a list knows it and it is no English word."""
        if self._plain(w):
            return False
        if w.raw.islower() and not self.lower:
            return (w.norm in self.names.first or w.norm in self.names.surnames) and w.norm not in NOT_FIRST_NAMES
        if not self._cased_like_name(w):
            return False
        # After a title, a listed name in capitals counts even if it is also a word ("DR. WHITE", "NP MORROW").
        caps_listed = guess and w.raw.isupper() and len(w.raw) >= 3 and self.names.is_ambiguous(w.norm)
        return (
            self._listed(w)
            or caps_listed
            or (guess and (self._unknown(w, short_ok, title) or self._dictionary_name(w)))
        )

    def _initial(self, k: int) -> bool:
        w = self.words[k]
        return len(w.raw) == 1 and w.raw.isupper() and w.raw != "I"

    def _joined(self, k: int) -> bool:
        """Words k and k+1 are neighbours in one name: a space, or an initial's full stop."""
        gap = self.text[self.words[k].end : self.words[k + 1].start]
        return gap == " " or (gap in (". ", ".") and self._initial(k))

    # ---- the rules ----
    def _name_from(self, first: int, guess: bool, limit: int = 3, short_ok: bool = False, title: bool = False) -> int:
        """The last word of a name that starts at word `first` (an initial, then up to `limit` name words), or -1."""
        k = first
        while k < len(self.words) and self._initial(k) and k + 1 < len(self.words) and self._joined(k):
            k += 1  # "DR. J. WHITAKER", "M OKAFOR"
        if k >= len(self.words) or not self._name_word(self.words[k], guess, short_ok, title):
            return -1
        last = k
        # A surname after a first name: "RN Theresa Lam", "husband dwight farrow", "DAUGHTER MARY ELLISON".
        while (
            last + 1 < len(self.words)
            and last - k < limit - 1
            and self._joined(last)
            and self._same_case(self.words[k], self.words[last + 1])
            and self._name_word(self.words[last + 1], guess, title=title)
        ):
            last += 1
        return last

    @staticmethod
    def _same_case(a: Word, b: Word) -> bool:
        return a.raw.isupper() == b.raw.isupper() and a.raw.islower() == b.raw.islower()

    def _gap_after(self, k: int) -> str:
        return self.text[self.words[k].end : self.words[k + 1].start] if k + 1 < len(self.words) else ""

    def _add(self, first: int, last: int, confidence: float, source: str, label: str = "") -> None:
        start, end = self.words[first].start, self.words[last].end
        label = label or name_label(self.text, start, end)
        self.spans.append(Span(start, end, Kind.NAME, self.text[start:end], confidence, source, label))

    def after_credential(self, i: int) -> None:
        """'DR. WHITAKER', 'NP GALLOWAY', 'RN Theresa', 'PA-C MORROW': the name after a title or credential."""
        if i + 1 >= len(self.words) or not _LEAD_GAP.fullmatch(self._gap_after(i)):
            return
        title = self.words[i]
        guess = title.norm in STAFF_CREDENTIALS
        last = self._name_from(i + 1, guess, limit=2, short_ok=title.norm == "dr", title=True)
        if last < 0:
            return
        self._add(i + 1, last, 0.85 if guess else 0.75, "rule:staff")

    def before_credential(self, i: int) -> None:
        """'M. OKAFOR RN', 'Theresa Lam, RN', 'WHITAKER MD.': a signature, the name before a credential that ends
        the line or clause."""
        credential = self.words[i]
        if i == 0 or credential.norm == "dr" or not credential.raw.isupper():
            return  # "Dear Dr.", "Chaplain": a title comes before the name; a credential after it is abbreviated
        if not _SIGNATURE_END.match(self.text, credential.end):
            return
        gap = self.text[self.words[i - 1].end : self.words[i].start]
        if gap not in (" ", ", ", ","):
            return
        guess = self.words[i].norm in STAFF_CREDENTIALS
        last = i - 1
        if not self._name_word(self.words[last], guess, title=True):
            return
        first = last
        while first > 0 and last - first < 2 and self._joined(first - 1):
            prev = first - 1
            if self._initial(prev) or (
                self._same_case(self.words[prev], self.words[last])
                and self._name_word(self.words[prev], guess, title=True)
            ):
                first = prev
                continue
            break
        self._add(first, last, 0.8 if guess else 0.7, "rule:staff", "CLINICIAN")

    def after_relative(self, i: int) -> None:
        """'son Erik', 'DAUGHTER ROSALIND', 'husband dwight farrow': the relative's name, not the word for them."""
        if i + 1 >= len(self.words) or not _LEAD_GAP.fullmatch(self._gap_after(i)):
            return
        if self._gap_after(i).startswith("."):
            return  # "... his son. Erik ..." : a sentence ends between them
        w = self.words[i + 1]
        first_name = w.norm in self.names.first or w.norm in self.names.first_ambiguous
        if self.lower and not first_name and self._named_in_speech(i + 1):
            self._add(i + 1, i + 1, 0.7, "rule:relative", "RELATIVE")
            return
        if not (first_name or w.titlecase or w.raw.isupper()):
            return  # a relative's name is a first name, or capitalised: "her mother Type 2 diabetes" is history
        last = self._name_from(i + 1, guess=True)
        if last < 0 and self._named_alone(i + 1):
            last = i + 1  # "my daughter june", "this is my daughter iris, she drove": a first name that is a word
        if last < 0 or re.match(r"\s*\d", self.text[self.words[last].end : self.words[last].end + 3]):
            return
        if any(x.norm in CLINICAL_HEADS for x in self.words[last + 1 : last + 4]):
            return  # "Her husband Ischaemic heart disease": a family history
        if not first_name and last == i + 1 and not self._listed(w) and w.raw.isupper() and len(w.raw) <= 4:
            return  # "FATHER ETOH": one short unknown word in capitals is as likely an abbreviation
        self._add(i + 1, last, 0.8 if first_name else 0.65, "rule:relative", "RELATIVE")

    def _named_in_speech(self, k: int) -> bool:
        """'this is my boy anders he drove me', 'my husband bjorn, he': in a transcript, a surname list's word, a
        dictionary's proper noun or a word no dictionary knows after the word for a relative, with a pronoun or the
        clause's end after it."""
        w = self.words[k]
        listed = w.norm in self.names.surnames and not self.names.is_ambiguous(w.norm)
        if not (w.raw.islower() and (listed or self._unknown(w) or self._dictionary_name(w))) or self._plain(w):
            return False
        return bool(re.match(r"\s*(?:[,.;!?]|$|\n|\[|(?:he|she|they|who|is|was|and)\b)", self.text[w.end : w.end + 8]))

    def _named_alone(self, k: int) -> bool:
        """A first name that is also a month or a clinical word, right after the word for a relative and ending
        the clause: "my daughter june.", "Sister April visited" (but "mother may", "son will" are function words)."""
        w = self.words[k]
        if not (self.names.is_first(w.norm) and self._cased_like_name(w)) or w.norm in FUNCTION_WORDS:
            return False
        after = self.text[w.end : w.end + 12]
        return (w.norm in CALENDAR_WORDS and not re.match(r"\s*\d", after)) or bool(
            re.match(r"\s*(?:[,.;!?]|$|\n|(?:and|who|she|he|is|was)\b)", after)
        )

    def lowercase_full_names(self) -> None:
        """'spoke with kevin murphy': a listed first name and surname in lower case, neither an English word."""
        words = self.words
        for k in range(len(words) - 1):
            a, b = words[k], words[k + 1]
            if not (a.raw.islower() and b.raw.islower()) or self.text[a.end : b.start] != " ":
                continue
            listed = a.norm in self.names.first and b.norm in self.names.surnames and a.norm not in NOT_FIRST_NAMES
            if listed and not self._plain(a) and not self._plain(b):
                self._add(k, k + 1, 0.75, "rule:names")


def find_people(text: str, words: list[Word], lexicon: Lexicon, lower: bool) -> list[Span]:
    return PeopleRules(text, words, lexicon, lower).run()
