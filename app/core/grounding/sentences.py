"""Sentences of a note and of a consultation transcript, as character spans of the original text.

A note has headings ("SUBJECTIVE", "History of present illness:"), labels before a sentence ("Constitutional:
Denies fever.") and bullets; headings are not sentences, and a label is kept apart as the sentence's context (it
anchors a value: "Heart rate: 72"). A transcript is dictation or dialogue, often lower-case speech recognition with
speaker labels ("[doctor]", "Patient:") and sometimes no punctuation at all, so long runs are cut at the words
people start a new thought with ("okay", "so", "alright"). A doctor's question is paired with the patient's yes or
no, which is how a dialogue says "denies chest pain".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Polarity = Literal["pos", "neg"]


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    turn: int = 0  # speaker turn (transcript) or line (note)
    speaker: str = ""  # lower-case label ("doctor", "patient"); "" when the text has none
    question: bool = False
    answer: Polarity | None = None  # for a question: what the reply said (yes / no), when it said it plainly
    context: tuple[int, int] | None = None  # a note label before the sentence ("Heart rate:"), as a span
    question_from: int = 0  # where the question of a question sentence begins (what the answer is about)
    asked_from: int = 0  # where its first question begins: words from there to question_from are asked, unanswered


_BULLET = re.compile(r"(?:[•\-*·▪◦–]|\d{1,2}[.)])\s+")
_LABEL = re.compile(r"([A-Za-z][A-Za-z0-9 /&'()\-]{0,40}?)\s*:\s+(?=\S)")
_SECTION_WORDS = {"subjective", "objective", "assessment", "plan", "history", "medications", "allergies", "exam",
                  "examination", "impression", "results", "vitals", "instructions", "complaint", "review"}
# A sentence ends at . ! ? followed by space; not after these abbreviations.
_END = re.compile(r"[.!?]+[\"')\]]*(?=\s|$)")
_ABBREVIATIONS = {"dr", "mr", "mrs", "ms", "st", "vs", "etc", "e.g", "i.e", "approx", "no", "fig", "pt"}
_NUMBER_WORD = re.compile(
    r"(?:\d+|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred)$",
    re.IGNORECASE,
)
_DIGIT_AFTER = re.compile(r"\s*(?:\d|zero|one|two|three|four|five|six|seven|eight|nine|oh)\b", re.IGNORECASE)
_SPEAKER_BRACKET = re.compile(r"\s*\[([^\]\n]{1,30})\]\s*")
_SPEAKER_COLON = re.compile(
    r"\s*(doctor|dr|physician|clinician|provider|nurse|patient|pt|mother|father|parent|caregiver|interpreter|"
    r"family|spouse|wife|husband|son|daughter|speaker\s*\d+|d|p)\s*:\s*",
    re.IGNORECASE,
)
# Words a speaker starts a new thought with: where an unpunctuated run of speech is cut.
_MARKERS = {"okay", "ok", "alright", "so", "now", "um", "uh", "well", "and", "but", "then"}
# Past LONG_RUN words a run is cut before a word that starts a clause, so that "did n't show any bony abnormality"
# stays whole (its negation and its words are compared together); past FORCED_RUN words, anywhere.
_CLAUSE_OPENERS = _MARKERS | {"i", "i'm", "we", "you", "he", "she", "they", "it's", "that's", "there's", "because",
                              "if", "when", "which", "what", "how", "do", "does", "did", "have", "has", "are", "is",
                              "can", "let's", "let"}
LONG_RUN = 30  # words without punctuation before a run is cut into pieces
FORCED_RUN = 45
# never cut inside "one ten over sixty five", "one puff twice a day", "every four hours"
_NO_CUT_BEFORE = {"over", "point", "and", "a", "per", "daily", "times", "time", "to", "or", "hours", "days", "weeks",
                  "months", "years", "milligrams", "micrograms", "grams", "units", "percent", "puffs", "tablets"}
_NO_CUT_AFTER = {"once", "twice", "times", "time", "every", "per", "of", "a", "the", "to", "about", "around", "over",
                 "point"}
# A yes/no question opens with an auxiliary and its subject ("have they been elevated"), or "any ...".
_AUXILIARIES = {"do", "does", "did", "have", "has", "had", "are", "is", "was", "were", "can", "could", "will",
                "would", "should", "any", "anything"}
_SUBJECTS = {"you", "he", "she", "it", "they", "there", "that", "this", "your", "his", "her", "their", "the", "we",
             "i", "any", "anything", "anyone", "anybody", "other"}
# before "any", these make it part of a statement: "if you have any questions", "no pain of any kind"
_BOUNDARY = {"that", "this", "it", "them", "those", "okay", "ok", "alright", "so", "and", "um", "uh", "now", "well",
             "also", "great", "good", "then", "yeah", "right"}
_NOT_ASKING = {"if", "have", "has", "had", "don't", "n't", "not", "no", "without", "of", "in", "at", "for"}
# "mm-hmm" and "right" are left out: in a consultation they are mostly "go on", not "yes".
_YES = ("yes", "yeah", "yep", "yup", "correct", "sure", "i do", "i have", "i did", "definitely", "absolutely",
        "that's right", "a little", "sometimes", "it does", "it is", "i am", "i'm on")
_NO = ("no", "nope", "nah", "never", "none", "not really", "nothing", "neither", "i don't", "i do n't",
       "i haven't", "i have n't", "i didn't", "i did n't", "not at all", "not that i", "not yet", "it doesn't",
       "it does n't", "not")
_PRONOUNS = {"i", "you", "he", "she", "we", "they", "it", "who", "that", "which", "i've", "you've", "we've",
             "they've", "i'd", "you'd", "he'd", "she'd", "we'd", "they'd", "i'll", "you'll", "we'll", "they'll"}
_WH = {"what", "how", "when", "where", "why", "which", "who", "whom", "whose"}
_FILLERS = {"uh", "um", "oh", "well", "so", "hmm", "ah", "er", "and", "okay", "ok", "what", "mm", "gosh"}  # "what? no"


def _lines(text: str) -> list[tuple[int, int]]:
    spans = []
    for match in re.finditer(r"[^\n]+", text):
        start, end = match.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append((start, end))
    return spans


def _ends(text: str, start: int, end: int) -> list[int]:
    """Offsets where sentences end inside text[start:end]."""
    ends = []
    for match in _END.finditer(text, start, end):
        before = text[start : match.start()].split()
        word = before[-1].lower().rstrip(".") if before else ""
        if word in _ABBREVIATIONS and match.group(0) == ".":
            continue
        # "ninety eight . one": a spoken decimal point written as a spaced full stop
        spaced = match.start() > 0 and text[match.start() - 1].isspace()
        if match.group(0) == "." and spaced and _NUMBER_WORD.match(word) and _DIGIT_AFTER.match(text, match.end(), end):
            continue
        ends.append(match.end())
    if not ends or ends[-1] < end:
        ends.append(end)
    return ends


def _cut_long_runs(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """An unpunctuated run of speech, cut before a marker word once a piece has 8 words, past LONG_RUN words before
    a word that opens a clause, or past FORCED_RUN words anywhere no number is being said ("one ten over sixty five"
    stays whole)."""
    words = [w.group(0).lower() for w in re.finditer(r"\S+", text[start:end])]
    spans = [(start + w.start(), start + w.end()) for w in re.finditer(r"\S+", text[start:end])]
    if len(words) <= LONG_RUN:
        return [(start, end)]
    pieces = []
    piece_start, count = 0, 0
    for index, lower in enumerate(words):
        previous = words[index - 1] if index else ""
        in_number = _NUMBER_WORD.match(lower) or lower in _NO_CUT_BEFORE or (
            _NUMBER_WORD.match(previous) or previous in _NO_CUT_AFTER)
        opens = lower in _CLAUSE_OPENERS and previous not in _NO_CUT_AFTER
        long_enough = (count >= LONG_RUN and opens) or count >= FORCED_RUN
        marker = count >= 8 and lower in _MARKERS and not _NUMBER_WORD.match(previous)  # not "hundred | and eighty"
        if index > piece_start and (marker or (long_enough and not in_number)):
            pieces.append((spans[piece_start][0], spans[index - 1][1]))
            piece_start, count = index, 0
        count += 1
    pieces.append((spans[piece_start][0], end))
    return pieces


def _split(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    begin = start
    for stop in _ends(text, start, end):
        while begin < stop and text[begin].isspace():
            begin += 1
        if begin < stop and any(c.isalnum() for c in text[begin:stop]):
            spans.extend(_cut_long_runs(text, begin, stop))
        begin = stop
    return spans


def _is_heading(line: str) -> bool:
    words = line.rstrip(":").split()
    if not words or len(words) > 8:
        return False
    letters = [c for c in line if c.isalpha()]
    if line.endswith(":") and len(words) <= 6:
        return True
    if line[-1] in ".!?" or any(c.isdigit() for c in line):
        return False
    if letters and all(c.isupper() for c in letters):
        return True
    significant = [w for w in words if len(w) > 3]
    titled = bool(significant) and all(w[0].isupper() for w in significant)
    return titled and len(words) <= 6 and any(w.lower().strip("&/") in _SECTION_WORDS for w in words)


def note_sentences(note: str) -> list[Sentence]:
    sentences = []
    for line_index, (start, end) in enumerate(_lines(note)):
        bullet = _BULLET.match(note, start, end)
        if bullet:
            start = bullet.end()
        if start >= end or _is_heading(note[start:end]):
            continue
        context = None
        label = _LABEL.match(note, start, end)
        if label and len(label.group(1).split()) <= 4 and not label.group(1)[0].isdigit():
            context = (label.start(1), label.end(1))
            start = label.end()
        for s, e in _split(note, start, end):
            sentences.append(Sentence(s, e, turn=line_index, context=context))
    return sentences


def _reply_polarity(text: str, start: int, end: int) -> Polarity | None:
    words = [w for w in (w.strip(".,!?;:").lower() for w in text[start:end].split()[:8]) if w]  # "what ? no ."
    while words and words[0] in _FILLERS:
        words.pop(0)
    head = " ".join(words)
    for cue in _NO:
        if head == cue or head.startswith(cue + " "):
            return "neg"
    for cue in _YES:
        if head == cue or head.startswith(cue + " "):
            return "pos"
    return None


def _question_start(text: str, start: int, end: int) -> tuple[int, int, bool] | None:
    """Where the first question of a piece of speech begins, where the question it closes with begins (character
    offsets), and whether that one is open (a reply to "what have your sugars been running?" is no yes or no); None
    if it asks none. "but doppler signs are present okay so does this hurt": the yes or no that follows is about the
    hurting. "is it a specific diet ... are you on the keto diet": the reply is about the keto diet, and "a specific
    diet" was asked, not said."""
    piece = text[start:end].rstrip()
    if piece[-1:] in ".!":
        return None
    words = [(m.group(0).strip(",").lower(), start + m.start()) for m in re.finditer(r"\S+", piece)]
    opener: int | None = None
    first: int | None = None
    open_ended = False
    for i, (word, offset) in enumerate(words):
        following = words[i + 1][0] if i + 1 < len(words) else None
        if following == "n't" or (following or "").endswith("n't"):  # "don't you..." asks; "i don't see" does not
            following = words[i + 2][0] if following == "n't" and i + 2 < len(words) else "you" if (
                i + 2 < len(words) and words[i + 2][0] in _SUBJECTS) else None
        before = [w for w, _o in words[max(0, i - 3) : i]]
        # "you had the x-ray done" states: a question puts the auxiliary before its subject, not after one
        stated = bool(before) and before[-1] in _PRONOUNS
        if word in _AUXILIARIES and following is not None and following in _SUBJECTS | {""} and word != "any" and (
                not stated):
            if before[-1:] != ["or"]:  # "does he have a sore throat or is he pulling on his ears": one question
                opener = offset
                open_ended = bool(before) and before[-1] in _WH  # "what have your sugars been running?"
        elif word in ("how", "what") and following == "about":
            opener, open_ended = offset, False
        elif word in ("any", "anything") and not set(before) & _NOT_ASKING and (
                not before or before[-1] in _BOUNDARY or before[-1] == ""):  # "" was a comma: "fosamax , any issues"
            # "okay any nausea": a new question; "are you coughing up anything" and "or anything like that" only
            # end the one before (the last question is the one the reply answers)
            opener, open_ended = offset, False
        if first is None:
            first = opener
    if opener is None and (piece.endswith("?") or piece.lower().endswith("at all")):
        return start, start, words[0][0] in _WH if words else False
    return None if opener is None or first is None else (first, opener, open_ended)


def transcript_sentences(transcript: str) -> list[Sentence]:
    turns: list[tuple[str, int, int]] = []
    for start, end in _lines(transcript):
        speaker = ""
        label = _SPEAKER_BRACKET.match(transcript, start, end) or _SPEAKER_COLON.match(transcript, start, end)
        if label:
            speaker = " ".join(label.group(1).lower().split())
            start = label.end()
        if start < end:
            turns.append((speaker, start, end))
    sentences: list[Sentence] = []
    for turn_index, (speaker, start, end) in enumerate(turns):
        pieces = _split(transcript, start, end)
        asked = [_question_start(transcript, s, e) for s, e in pieces]
        answer: Polarity | None = None
        if turn_index + 1 < len(turns) and (turns[turn_index + 1][0] != speaker or not speaker):
            _next_speaker, next_start, next_end = turns[turn_index + 1]
            answer = _reply_polarity(transcript, next_start, next_end)
        # the reply answers the questions that close the turn ("any nausea? vomiting?"), not earlier ones
        closing = len(pieces)
        while closing > 0 and asked[closing - 1] is not None:
            closing -= 1
        for index, (s, e) in enumerate(pieces):
            opened = asked[index]
            sentences.append(
                Sentence(s, e, turn=turn_index, speaker=speaker, question=opened is not None,
                         answer=answer if opened is not None and index >= closing and not opened[2] else None,
                         question_from=s if opened is None else opened[1],
                         asked_from=s if opened is None else opened[0])
            )
    return sentences
