"""Whether a mention is affirmed or negated, NegEx-style, plus the yes/no of a dialogue.

NegEx (Chapman et al. 2001) marks the words after a negation cue ("denies", "no", "without") up to a few words or a
word that ends the thought ("but"), and the words before a few cues that come after ("pain: negative"). Our own
window, not negspacy: the terms here are already normalised (synonyms, medicines, numbers), and spaCy is not needed
for this. In a dialogue the negation is often in the reply: "any nausea or vomiting?" "no." So a mention inside a
question takes the reply's yes or no, and is undecided (None) when the reply says neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core.grounding.lexicon import Negation
from app.core.grounding.sentences import Polarity
from app.core.grounding.terms import Term, Text

SCOPE_WORDS = 5  # how far a negation reaches, in content words per item of a list (NegEx: five to six words)
LIST_WORDS = 25  # and over a whole list at most
SPEECH_SCOPE_WORDS = 3
_LIST_JOINS = {"or", "and", "nor"}
_NEW_CLAUSE = {"that", "which", "who", "whom", "whose", "where", "when"}
_COPULAS = {"is", "are", "was", "were", "am", "your", "my"}
_LIST_STARTS = {"including", "like", "such", "especially"}  # "no symptoms including itching, bleeding or pain"
_CLAUSE_STARTS = {"i", "i'm", "it", "it's", "its", "that", "that's", "thats", "we", "he", "she", "they", "you",
                  "just", "but", "mostly", "not", "actually", "well", "there", "there's", "this", "my"}
_ANSWER_CUES = {"no", "nope", "nah", "not"}
# verbs whose "that" clause a negation reaches into: "i did n't feel that they were too tight"
_REPORTING = {"feel", "felt", "think", "thought", "know", "knew", "believe", "notice", "noticed", "remember",
              "recall", "say", "said", "see", "saw", "realize", "realized", "find", "found"}
_STOP_PUNCTUATION = set(".;:?!")
# a list item with one of these says something of its own: "no swelling, thyroid feels normal", "no edema, skin warm"
_ITEM_VERBS = {"is", "are", "was", "were", "feels", "feel", "looks", "look", "appears", "appear", "seems", "shows",
               "show", "remains", "noted", "seen", "normal", "intact", "clear", "soft", "warm", "present", "equal",
               "regular", "stable", "symmetric", "supple", "benign", "fine", "good"}


@dataclass(frozen=True, slots=True)
class Scope:
    cue_start: int  # character offset where the negation cue starts
    first: int  # [first, last) term indices (into the text's terms) the negation governs
    last: int
    hypothetical: bool = False  # "if he develops a cough": neither said present nor absent
    gloss: bool = False  # "no erythema, that just means redness": the words explain the one before, and share its
    # polarity (found in speech only: notes seldom explain their words)
    cue: tuple[int, int] = (0, 0)  # [first, last) term indices of the cue's own words: no finding


def _cue_at(words: list[str], i: int, cues: frozenset[tuple[str, ...]], longest: int) -> int:
    """Length in words of the longest cue starting at words[i], 0 if none."""
    for n in range(min(longest, len(words) - i), 0, -1):
        if tuple(words[i : i + n]) in cues:
            return n
    if words[i] in _CONTRACTIONS and ("n't",) in cues:  # "don't", "can't", and "do n't" as recognisers write it
        return 1
    return 0


_CONTRACTIONS = {"don't", "doesn't", "didn't", "haven't", "hasn't", "hadn't", "isn't", "wasn't", "weren't", "aren't",
                 "can't", "couldn't", "won't", "wouldn't", "dont", "doesnt", "didnt", "havent", "hasnt", "isnt",
                 "wasnt", "cant", "couldnt", "wont", "n't", "cannot"}


def scopes(text: Text, sentence: int, cues: Negation, speech: bool = False) -> list[Scope]:
    """The negation scopes of one sentence. Speech reaches less far (it often has no punctuation to end a scope),
    and a reply's bare "no" governs nothing after it. A gloss in speech ("that just means redness") is said the way
    the word it explains is."""
    first, last = text.ranges[sentence]
    terms = text.terms[first:last]
    words = [t.word for t in terms]
    found: list[Scope] = []
    i = 0
    while i < len(terms):
        if words[i] not in cues.first_words and words[i] not in _CONTRACTIONS:
            i += 1  # most words start no cue: the quick way past them
            continue
        pseudo = _cue_at(words, i, cues.pseudo, cues.longest)
        if pseudo:
            i += pseudo
            continue
        hypothetical = _cue_at(words, i, cues.hypothetical, cues.longest)
        if hypothetical:
            end = i + hypothetical  # "if he develops a barky cough, give him...": up to the comma or the sentence end
            while end < len(terms) and not _ends_scope(terms[end - 1], True) and end - i < LIST_WORDS:
                end += 1
            found.append(Scope(terms[i].start, first + i + hypothetical, first + end, hypothetical=True,
                               cue=(first + i, first + i + hypothetical)))
            i = end
            continue
        gloss = _cue_at(words, i, cues.gloss, cues.longest) if speech else 0
        if gloss:
            end = _reach(terms, words, i, gloss, cues, speech, answer_like=False)
            if end > i + gloss:
                found.append(Scope(terms[i].start, first + i + gloss, first + end, gloss=True,
                                   cue=(first + i, first + i + gloss)))
            i = max(end, i + gloss)
            continue
        pre = _cue_at(words, i, cues.pre, cues.longest)
        post = _cue_at(words, i, cues.post, cues.longest) if i > 0 else 0
        if pre and post <= pre:
            answer_like = speech and i == 0 and words[i] in _ANSWER_CUES  # "no, i can't feel it": comma ends it
            # "no it's mostly the outside": a bare "no" answering a question, then a new clause
            reply = answer_like and i + pre < len(words) and words[i + pre] in _CLAUSE_STARTS
            end = i + pre if reply else _reach(terms, words, i, pre, cues, speech, answer_like)
            if end > i + pre:
                found.append(Scope(terms[i].start, first + i + pre, first + end, cue=(first + i, first + i + pre)))
            i += pre
            continue
        if post:  # "an operation is not needed": the longer cue governs the words before it
            begin = i
            while begin > 0 and i - begin < 3 and words[begin - 1] not in cues.stop and not _ends_scope(
                terms[begin - 1], False
            ):
                begin -= 1
            if begin < i:
                found.append(Scope(terms[begin].start, first + begin, first + i, cue=(first + i, first + i + post)))
            i += post
            continue
        i += 1
    return found


def _reach(terms: list[Term], words: list[str], i: int, length: int, cues: Negation, speech: bool,
           answer_like: bool) -> int:
    """Where the scope of the cue words[i : i + length] ends (exclusive): NegEx's few content words per item of a
    list, up to a word that ends the thought, the next cue, or a new clause."""
    reach = SPEECH_SCOPE_WORDS if speech else SCOPE_WORDS
    end = i + length
    if _ends_scope(terms[end - 1], answer_like):
        return end
    count = 0  # content words since the last item of a list: "denies fever, chills, or cough"
    governs = False  # a content word is in the scope already
    complement = 0  # the scope goes on into the "that" clause of a reporting verb up to this term
    while end < len(terms) and end - i < LIST_WORDS:
        if words[end] == "that" and words[end - 1] in _REPORTING:
            complement = end + 3  # "i did n't feel that they were too tight": its subject and verb too
        # a stop word ends the scope once it governs something: "no fever but some cough"; in a note "without
        # also some on the cheeks" is not a scope that ends before it starts (speech keeps its stops: "no, some days")
        if words[end] in cues.stop and (speech or governs):
            break
        if speech and count and (words[end] in _CLAUSE_STARTS or words[end] in _COPULAS) and end > complement:
            break  # "not getting better i saw my pcp", "no bruits your lungs are clear"
        if words[end] in _NEW_CLAUSE and (count or words[end - 1] in _LIST_JOINS) and words[end - 1] not in _REPORTING:
            break  # "surgery is not needed and that physical therapy will help"; not "i don't think that it's broken"
        if _cue_at(words, end, cues.pre, cues.longest) and end > i + length:
            break  # the next negation starts its own scope
        if words[end] in _LIST_JOINS or words[end] in _LIST_STARTS:
            count = 0
        elif terms[end].content:
            count += 1
            governs = True
            if count > reach:
                break
        end += 1
        if _ends_scope(terms[end - 1], answer_like):
            break
        if "," in terms[end - 1].punct:
            if end < len(words) and words[end] in _CLAUSE_STARTS:
                break  # "not covered by insurance, you can try...": a new clause, not a list
            if _has_verb(terms, words, end):
                break  # "no swelling, thyroid feels normal": an item that says something of its own
            count = 0
    return end


def _has_verb(terms: list[Term], words: list[str], start: int) -> bool:
    """Whether the list item that starts at terms[start] (up to the next comma) has a verb or a state of its own."""
    for index in range(start, len(terms)):
        if words[index] in _ITEM_VERBS:
            return True
        if "," in terms[index].punct or _ends_scope(terms[index], False):
            return False
    return False


def _ends_scope(term: Term, comma_too: bool) -> bool:
    return any(c in _STOP_PUNCTUATION or (comma_too and c == ",") for c in term.punct)


def negated(text: Text, cues: Negation) -> list[bool | None]:
    """Per term of a consultation: inside a negation scope (True), the cue itself (None), or neither."""
    flags: list[bool | None] = [False] * len(text.terms)
    for sentence in range(len(text.sentences)):
        # the word a gloss explains may end the piece of speech before, in the same turn
        same_turn = sentence and text.sentences[sentence - 1].turn == text.sentences[sentence].turn
        begin = text.ranges[sentence - 1 if same_turn else sentence][0]
        for scope in scopes(text, sentence, cues, speech=True):
            value: bool | None = None if scope.hypothetical else True
            if scope.gloss:
                explained = next((k for k in range(scope.cue[0] - 1, begin - 1, -1) if text.terms[k].content), None)
                value = False if explained is None else flags[explained]
            for index in range(scope.first, scope.last):
                flags[index] = value
            for cue in range(*scope.cue):
                if flags[cue] is False:
                    flags[cue] = None  # "no evidence of osteomyelitis": "evidence" is part of the cue, not a finding
    return flags


def polarities(text: Text, cues: Negation) -> tuple[list[Polarity | None], list[bool]]:
    """Per term of a consultation: "neg", "pos", or None for the words of a cue and for a question nobody
    answered plainly; and whether that polarity is the reply's yes or no rather than the words themselves."""
    flags = negated(text, cues)
    out: list[Polarity | None] = []
    replied: list[bool] = []
    source = -1  # where "from" came in the question being read: what follows is where it comes from, not asked
    for index, term in enumerate(text.terms):
        sentence = text.sentences[term.sentence]
        asked = sentence.question and term.start >= sentence.question_from
        unanswered = sentence.question and sentence.asked_from <= term.start < sentence.question_from
        if asked and term.word == "from":
            source = term.sentence
        context = asked and source == term.sentence  # "any side effects from the metformin?" "no": it is taken
        if flags[index] is None or (unanswered and not flags[index]) or (context and not flags[index]):
            out.append(None)
        elif flags[index]:
            # a negation inside a question answered "no" ("you don't have a fever?" "no") stays a negation
            out.append("neg")
            asked = False
        elif asked:
            out.append(sentence.answer)
        else:
            out.append("pos")
        replied.append(asked)
    return out, replied
