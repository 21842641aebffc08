"""Places smaller than a state: street addresses (US and European layouts, military and PO boxes, multi-line
address blocks), ZIP codes and postcodes. Hospitals and clinics are in `rules_facilities`.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from itertools import takewhile

from app.core.redact.base import Kind, Span
from app.core.redact.intervals import line_number, line_start, next_newline
from app.core.redact.lexicon import shipped_words
from app.core.redact.name_words import FUNCTION_WORDS
from app.core.redact.spoken import ShadowText

CAPITALISED = r"[A-Z\u00C0-\u00DE\u0391-\u03A9][\w'’.\-\u00C0-\u024F]*"
_WORD = r"[^\W\d_][\w'’.\-]*"
STREET_SUFFIX = (
    r"street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|close|terrace|ter|"
    r"crescent|cres|highway|hwy|parkway|pkwy|square|sq|loop|trail|trl|circle|cir|alley|plaza|mews|gardens|"
    r"heights|row|walk|grove|greens|coves|radial|union|flats|fort|pike|expressway|freeway|route|rte|str|utca|"
    r"strasse|straße|gatan|vej|veien|vegen|weg|laan|straat|gade|katu|tie"
)
# Romance and other street words that come before the name: "Via Tasso 129", "Rue De La Gare", "ul. Północna 73".
STREET_PREFIX = (
    r"Via|[Rr]ue|[Rr]ua|[Cc]alle|[Aa]venida|[Pp]aseo|[Pp]iazza|[Ss]trada|ul|[Uu]lica|Plaza|Largo|[Tt]ravessa|"
    r"[Cc]arrer|Camino|[Aa]vinguda"
)

US_STREET = re.compile(
    rf"\b\d{{1,6}}(?:\s\d{{1,5}})?\s+(?:[NSEW]\.?\s+)?(?:{CAPITALISED}\s+){{0,3}}{CAPITALISED}\s+(?i:{STREET_SUFFIX})\b\.?",
)
US_STREET_ANYCASE = re.compile(
    rf"\b\d{{1,6}}(?:\s\d{{1,5}})?\s+(?:{_WORD}\s+){{0,3}}(?:{STREET_SUFFIX})\b\.?", re.IGNORECASE
)
_ROMANCE_GLUE = r"(?:de|des|du|la|le|les|del|della|delle|dello|dei|di|da|do|dos|das|d')"
PREFIX_STREET = re.compile(
    # The word boundary leads, so the engine rejects most positions at once (twice as fast on a dictation).
    # A flat's number may come before the house number: "636 1812 Rue De La Gare".
    rf"\b(?:\d{{1,6}}\s+(?:\d{{1,5}}\s+)?)?(?:{STREET_PREFIX})\.?\s+(?:{_WORD}\s+){{0,3}}(?:{_WORD}\s+)?\d{{1,5}}[A-Za-z]?\b"
    # "Rue des Lilas", "Via della Spiga": the small words of a Romance street's name are in lower case.
    rf"|\b(?:\d{{1,6}}\s+(?:\d{{1,5}}\s+)?)?(?:{STREET_PREFIX})\.?\s+(?:{_ROMANCE_GLUE}\s+)*"
    rf"(?:{CAPITALISED}\s?(?:{_ROMANCE_GLUE}\s+)*){{1,4}}"
)
# "Dalmatinova 43", "1072 Pohlstrasse 9": a name and a house number, when another address part is near.
NAME_NUMBER = re.compile(rf"(?:\b\d{{1,6}}\s+)?\b{CAPITALISED}(?:\s+{CAPITALISED}){{0,2}}\s+\d{{1,5}}[A-Za-z]?\b")
UNIT_RE = re.compile(
    r"(?i:\b(?:apt|apartment|suite|ste|flat|p\.?\s?o\.?\s*box|post office box|psc|cmr|bldg|building)\.?\s*#?\s*"
    r"\d+[A-Za-z]?\b)|\b(?:Unit|Box)\s+#?\d+[A-Za-z]?\b"
)
# A street named without its number, after a preposition: "lives with cousin on Ashby Ave", "the practice on
# Wilmslow Road". Only the street words that are no other word capitalised ("Drive", "Way", "Court" and "Place" end
# titles and firms too); "St" only where no saint's name follows it.
NAMED_STREET = re.compile(
    rf"\b(?i:on|at|off|along|near|onto|down|up)\s+(?P<street>(?:{CAPITALISED}\s+){{0,2}}{CAPITALISED}\s+"
    r"(?:Street|STREET|Road|ROAD|Rd\.?|RD\.?|Avenue|AVENUE|Ave\.?|AVE\.?|Boulevard|BOULEVARD|Blvd\.?|BLVD\.?|Lane|LANE|"
    r"Terrace|TERRACE|Crescent|CRESCENT|(?:St|ST)\.?(?!\s*[A-Z]))(?![\w'’]))"
)
MILITARY_RE = re.compile(r"\b(?:[ADF]PO\s+A[AEP]\s+\d{5}|US(?:NS|NV|S|CGC)\s+[A-Z][\w'-]+)")
CITY_STATE_ZIP = re.compile(
    rf"\b{CAPITALISED}(?:\s+{CAPITALISED}){{0,3}},\s*(?:[A-Z]{{2}}|[A-Z][a-z]+)\s+\d{{5}}(?:-\d{{4}})?\b"
    rf"|\b(?:[A-Z]{{2}})\s+\d{{5}}(?:-\d{{4}})?\b"
)
ADDRESS_CUE = re.compile(
    r"(?:\baddress(?:es)?(?:\s+is)?|\blives?\s+(?:at|on|in)|\bliving\s+at|\blocated\s+at|\bresides?\s+(?:at|on|in)|"
    r"\bmoved\s+to|\bmeet\s+(?:me|us)\s+at|\bsent\s+to|\bsend\s+(?:it|this|them)\s+to|\bdeliver(?:ed)?\s+to|"
    r"\breturn\s+(?:it\s+)?to|\bdrops?\s+(?:you|me)\s+off\s+at|\btaxi\s+to|\bhome\s+is|\bstreet\s+is)"
    r"\s*[:\-]?\s*",
    re.IGNORECASE,
)
# Cues that also start ordinary sentences: they count only before a house number ("it is 5638 Aasa 43").
WEAK_ADDRESS_CUE = re.compile(
    r"(?:\bis\s+at|\benter\s+on|\bstop\s+at|\barrived\s+at|\bit\s+is|\bhere\s+they\s+are|\bthe\s+same|"
    r"\bwe\s+are\s+at|\bit'?s\s+in|\bis\s+on)\s*[:\-]?\s*(?=\d{1,6}\s+[^\W\d])",
    re.IGNORECASE,
)
# British and Canadian postcodes: the space between the halves is required, which keeps TNM stages ("T2N1M0")
# and lab codes out.
POSTCODE_RE = re.compile(
    r"\b(?:[A-Z]{1,2}\d[A-Z\d]?\s\d[ABD-HJLNP-UW-Z]{2}|[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]\s\d[ABCEGHJ-NPRSTV-Z]\d)\b"
)
# "T2N 0M0" is a Calgary postcode and a TNM stage (T2 N0 M0); in a note it is the stage unless an address cue says
# otherwise.
TNM_RE = re.compile(r"[pcy]{0,2}T[0-4X][a-d]?N[0-3X][a-c]?M[01X]")
_TRAILING_PUNCTUATION = re.compile(r"[ .,;]*")
POSTCODE_CUE = re.compile(r"\b(?:post\s?codes?|postal\s+codes?|zip|address(?:es)?|addr)\b", re.IGNORECASE)
STREET_WORD = re.compile(rf"\b(?:{STREET_SUFFIX})\b\.?", re.IGNORECASE)
CORNER_RE = re.compile(r"\bthe\s+corner\s+of\b", re.IGNORECASE)
ADDRESS_GLUE = frozenset({"and", "of", "the", "de", "del", "la", "le", "du"})
# Words that start ordinary prose after an address: "...Elm Street, last seen in clinic".
PROSE_WORDS = shipped_words("address_prose_words.txt")
# Other fields after an address on its line: "... IL 62704. SSN ...".
FIELD_WORDS = shipped_words("address_field_words.txt")


_GENERIC_PLACES = shipped_words("generic_places.txt")
# Postcodes of continental Europe and beyond, before the town: "10115", "D-10115", "1234 AB", "00-238", "1100-053",
# "111 43".
# A postcode is on one line: "0300\nPT" is a time and the next line's first word.
_POSTCODE_BEFORE_TOWN = r"(?:[A-Z]{1,2}-)?\d{4,5}|\d{4} ?[A-Z]{2}|\d{2}-\d{3}|\d{4}-\d{3}|\d{3} \d{2}"
# "Lindenstraße 12, 10115 Berlin", "Dalmatinova 43, 1000 Ljubljana": a street, its number after it, then the
# postcode before the town.
_NAME_WORD = r"[A-Z\u00C0-\u00DE\u0391-\u03A9][\w'’\-\u00C0-\u024F]*"  # no full stop: a name ends a sentence
EUROPEAN_ADDRESS = re.compile(
    rf"\b{_NAME_WORD}(?:\s+(?:{_NAME_WORD}|de|del|la|le|van|von|der|den|di|da|do|dos|das|du))"
    r"{0,3}\s+\d{1,5}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?,?\s+"
    # The town is on the postcode's line: "NOTE 1/14 0300\nPT RESTLESS" is a note's heading and its first words.
    rf"(?:{_POSTCODE_BEFORE_TOWN})[ \t]+{_NAME_WORD}(?:[ -]{_NAME_WORD}){{0,2}}"
)
# A street word written onto the name, and the house number: "Lindenstraße 12", "Kungsgatan 44", "Nørrebrogade 3".
GLUED_STREET = re.compile(
    rf"\b{_NAME_WORD[:-1]}*?(?i:stra(?:ss|ß)e|gasse|weg|allee|platz|gatan|vägen|gränd|vej|gade|veien|vegen|straat|"
    r"laan|gracht|plein|katu|utca)\s+\d{1,5}[A-Za-z]?\b"
)


# A town's name, whatever its alphabet's capitals ("İzmir", "Łódź"): a letter that is not a lower-case one first.
_TOWN_WORD = r"(?=[^\W\d_])(?![a-z])[^\W\d_][\w'’\-]*"
# A Turkish street, its "No" and number, then the postcode, district and city: "Atatürk Caddesi No: 15, 35220 Konak,
# İzmir".
TURKISH_STREET = re.compile(
    rf"\b{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}}\s+(?i:caddesi|cad\.|sokak|sokağı|sok\.|sk\.|bulvarı|blv\.|yolu)"
    r"\s*(?:(?i:no)\s*[:.]?\s*)?\d{1,5}[A-Za-z]?(?:/\d{1,4})?"
    rf"(?:,?\s+\d{{5}}\s+{_NAME_WORD}(?:\s*[,/]\s*{_TOWN_WORD})?)?"
)


def place_span(text: str, start: int, end: int, confidence: float, source: str, label: str) -> Span:
    while end > start and text[end - 1] in " ,\n\t":
        end -= 1
    return Span(start, end, Kind.LOCATION, text[start:end], confidence, source, label)


_POSTCODE_AFTER = re.compile(r",?\s(?:\d{4,5}(?:-\d{3,4})?|[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2})(?![\w/.%-])")


def with_postcode(text: str, span: Span) -> Span:
    """A postcode right after a place is part of it: "Acquapendente 1021", "Canada 36523"."""
    if span.kind != Kind.LOCATION:
        return span
    m = _POSTCODE_AFTER.match(text, span.end)
    return span.moved(span.start, m.end(), text[span.start : m.end()]) if m else span


def _address_region(text: str, start: int) -> int:
    """End of an address that begins at `start`: over numbers, capitalised words, unit words and line breaks of
    an address block, stopping at a sentence end or the first function word that starts ordinary prose."""
    pos = start
    end = start
    words = list(re.finditer(r"[^\s,]+|\n", text[start : start + 300]))
    lines = 0
    for idx, m in enumerate(words):
        token = m.group()
        if token == "\n":
            lines += 1
            if lines > 5 or text[start + m.start() : start + m.start() + 2] == "\n\n":
                break
            continue
        bare = token.strip(".;:!?()\"'>").lower()
        if re.fullmatch(r"(?:mobile|desk|fax|phone|tel|email|e-mail|name|date)", bare.rstrip(":")) and ":" in token:
            break
        if idx > 0 and (bare in FUNCTION_WORDS or bare in PROSE_WORDS) and bare not in ADDRESS_GLUE:
            break
        pos = start + m.end()
        end = pos
        nxt = words[idx + 1].group().strip(".,:;()").lower() if idx + 1 < len(words) else ""
        abbreviation = bare in ("apt", "st", "ste", "ave", "rd", "dr", "blvd")
        if (
            token.endswith(".")
            and not abbreviation
            and (nxt in FUNCTION_WORDS or nxt in PROSE_WORDS or nxt in FIELD_WORDS)
        ):
            break  # "... IL 62704. SSN ...", "... Street. She ..."
        # "...Street." ends the sentence; "Apt." or "St." inside an address does not
        sentence_end = token.endswith(("?", "!")) or bare not in ("apt", "st", "ste", "ave", "rd", "dr", "blvd")
        if token.endswith((".", "?", "!")) and len(bare) > 3 and not re.fullmatch(r"\d+\.?", token) and sentence_end:
            break
        if token.endswith(".") and re.fullmatch(r"\d[a-z]{2}|[a-z]\d[a-z]\d", bare):
            break  # "...London SW1A 1AA. Diabetes review due": a postcode ends its sentence
    return end


def find_locations(text: str) -> list[Span]:
    spans: list[Span] = []
    strong_lines: set[int] = set()
    for regex, confidence in ((US_STREET, 0.85), (PREFIX_STREET, 0.75), (UNIT_RE, 0.85), (MILITARY_RE, 0.9)):
        for m in regex.finditer(text):
            if regex is US_STREET and _not_a_street(m.group()):
                continue
            end = _address_region(text, m.start())
            spans.append(place_span(text, m.start(), max(end, m.end()), confidence, "rule:address", "ADDRESS"))
            strong_lines.add(line_number(text, m.start()))
    for m in CORNER_RE.finditer(text):
        spans.append(place_span(text, m.start(), _address_region(text, m.start()), 0.75, "rule:address", "ADDRESS"))
    letters: dict[tuple[int, int], tuple[int, int]] = {}
    for m in POSTCODE_RE.finditer(text):
        if _postcode_context(text, m, letters):
            spans.append(place_span(text, m.start(), m.end(), 0.8, "rule:postcode", "ADDRESS"))
    for m in CITY_STATE_ZIP.finditer(text):
        spans.append(place_span(text, m.start(), m.end(), 0.85, "rule:address", "ADDRESS"))
    for m in [*ADDRESS_CUE.finditer(text), *WEAK_ADDRESS_CUE.finditer(text)]:
        if re.search(r"\b(?:ip|e-?mail|web|mac|url)\s*$", text[max(0, m.start() - 8) : m.start()], re.IGNORECASE):
            continue  # "IP address 10.0.0.1", "email address ...": other rules own these
        rest = text[m.end() : m.end() + 200]
        if not rest or not (
            rest[0].isdigit() or CORNER_RE.match(rest) or (rest[0].isupper() and re.search(r"\d", rest[:60]))
        ):
            continue
        end = _address_region(text, m.end())
        if end - m.end() >= 3 and re.search(r"\d|corner", text[m.end() : end], re.IGNORECASE):
            spans.append(place_span(text, m.end(), end, 0.8, "rule:address", "ADDRESS"))
        elif end - m.end() >= 3 and not _kind_of_place(text[m.end() : end]):
            end = _capitalised_run(text, m.end(), end)
            spans.append(place_span(text, m.end(), end, 0.6, "rule:address", "ADDRESS"))
    for m in US_STREET_ANYCASE.finditer(text):
        line = line_number(text, m.start())
        if ADDRESS_CUE.search(text[max(0, m.start() - 40) : m.start()]) or line in strong_lines:
            spans.append(place_span(text, m.start(), _address_region(text, m.start()), 0.7, "rule:address", "ADDRESS"))
    for m in NAMED_STREET.finditer(text):
        first = m.group("street").split()[0].lower()
        if first not in FUNCTION_WORDS and not _charting_capitals(m.group("street")):
            spans.append(place_span(text, m.start("street"), m.end("street"), 0.7, "rule:address", "ADDRESS"))
    for m in EUROPEAN_ADDRESS.finditer(text):
        spans.append(place_span(text, m.start(), m.end(), 0.85, "rule:address", "ADDRESS"))
    for regex in (GLUED_STREET, TURKISH_STREET):
        for m in regex.finditer(text):
            spans.append(place_span(text, m.start(), m.end(), 0.8, "rule:address", "ADDRESS"))
    spans += _address_blocks(text, spans)
    return spans


def _capitalised_run(text: str, start: int, end: int) -> int:
    """Where a place with no number ends: its run of capitalised words, with the small words inside a name ("Rio
    de Janeiro"). "lives in Haifa, flying in 12/19" is "Haifa": the lower-case word is the sentence's."""
    stop = start
    for m in re.finditer(r"[^\s,]+", text[start:end]):
        word = m.group().strip(".;:()\"'")
        if word[:1].isupper() or word[:1].isdigit():
            stop = start + m.end()
        elif word.lower() not in ADDRESS_GLUE:
            break
    return stop if stop > start else end


def _kind_of_place(phrase: str) -> bool:
    """'PHARMACY', 'the ward': words for a kind of place, no address ("RX SENT TO PHARMACY")."""
    words = re.findall(r"[^\W\d_]+", phrase.lower())
    return bool(words) and all(w in _GENERIC_PLACES or w in FUNCTION_WORDS for w in words)


def _postcode_context(text: str, m: re.Match[str], line_letters: dict[tuple[int, int], tuple[int, int]]) -> bool:
    """A postcode shape is a postcode unless it is a TNM stage ("Staging T2N 0M0") or, in a note written all in
    capitals, ordinary words ("S1 2ND SOUND NORMAL") with no address around them. `line_letters` keeps each line's
    letter counts between calls: a long line with many matches is counted once."""
    start_of_line = line_start(text, m.start())
    prev_start = line_start(text, max(0, start_of_line - 1))
    line_end = next_newline(text, m.end())
    line_end = len(text) if line_end < 0 else line_end
    # Only the end of the two lines before the match is read (copying them whole made a long line cost its square).
    if POSTCODE_CUE.search(text[max(prev_start, m.start() - 60) : m.start()]):
        return True
    if TNM_RE.fullmatch(m.group().replace(" ", "")):
        return False
    if (start_of_line, line_end) not in line_letters:
        line = text[start_of_line:line_end]
        letters = (sum(map(str.isalpha, line)), sum(ch.isupper() for ch in line if ch.isalpha()))
        line_letters[start_of_line, line_end] = letters
    # The letters of the line outside the match: the line's, less the match's.
    alpha, upper = line_letters[start_of_line, line_end]
    alpha -= sum(map(str.isalpha, m.group()))
    upper -= sum(ch.isalpha() and ch.isupper() for ch in m.group())
    if alpha < 8 or upper < 0.9 * alpha or _canadian(m.group()):
        return True
    # An all-capitals note: an address says so with a street word nearby, or the postcode ends a short town line.
    if STREET_WORD.search(text[max(prev_start, m.start() - 80) : m.start()]):
        return True
    after_end = _TRAILING_PUNCTUATION.match(text, m.end(), line_end)
    ends_line = after_end is not None and after_end.end() == line_end
    return ends_line and len(text[start_of_line : m.start()].split()) <= 2


def _canadian(code: str) -> bool:
    return bool(re.fullmatch(r"[A-Z]\d[A-Z] \d[A-Z]\d", code))


# What any address rule needs somewhere in the text; cheap searches that spare the full pass when none is there.
_ADDRESS_TRIGGERS = (
    STREET_WORD,
    re.compile(rf"\b(?:{STREET_PREFIX})\b"),
    UNIT_RE,
    MILITARY_RE,
    CORNER_RE,
    ADDRESS_CUE,
    WEAK_ADDRESS_CUE,
    re.compile(r"\b\d{5}\b"),  # a ZIP code after a city and state
)


def find_spoken_addresses(shadow: ShadowText) -> list[Span]:
    """Addresses whose house number was dictated ("lives at forty two oak lane"), found in the shadow text around
    each spoken number only: the typed-form pass has already seen the rest of the text."""
    out: list[Span] = []
    for lo, hi in _windows_around(shadow.text, shadow.spoken_numbers()):
        piece = shadow.text[lo:hi]
        if not any(r.search(piece) for r in _ADDRESS_TRIGGERS):
            continue
        for span in find_locations(piece):
            a, b = shadow.to_original(lo + span.start, lo + span.end)
            if span.source == "rule:address" and b > a:
                out.append(span.moved(a, b, shadow.original[a:b]))
    return out


def _windows_around(text: str, ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Whole-word stretches of each range's line, from a cue's distance before it ("lives at") to a street name's
    and town's after it; overlapping stretches are merged."""
    windows: list[tuple[int, int]] = []
    for a, b in ranges:
        first = line_start(text, a)
        line_end = next_newline(text, b)
        line_end = len(text) if line_end < 0 else line_end
        lo, hi = max(first, a - 60), min(line_end, b + 160)
        while lo > first and not text[lo - 1].isspace():
            lo -= 1
        while hi < line_end and not text[hi].isspace():
            hi += 1
        if windows and lo <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(hi, windows[-1][1]))
        else:
            windows.append((lo, hi))
    return windows


def _address_blocks(text: str, found: list[Span]) -> list[Span]:
    """Lines of a postal block: a "1072 Pohlstrasse 9" or "Suite 858" line makes its short neighbours (town,
    country and postcode lines) part of the address."""
    out: list[Span] = []
    lines = [(m.start(), m.end(), m.group()) for m in re.finditer(r"[^\n]*", text) if m.group().strip()]
    # The address spans by start, so each line looks only at those starting on it (not at every span).
    addresses = sorted((s.start, s.end) for s in found if s.source == "rule:address")
    address_starts = [a for a, _b in addresses]

    def mostly_address(a: int, b: int, line: str) -> bool:
        """An address span found on the line covers at least half of it."""
        k = bisect_left(address_starts, a)
        while k < len(addresses) and addresses[k][0] <= b:
            start, end = addresses[k]
            # An address that runs on to the next lines ("590 Edington Drive\nToronto") counts for its part here.
            if 2 * (min(end, b) - start) >= len(line.strip()):
                return True
            k += 1
        return False

    # Only short lines can be lines of a postal block; a long line is prose that mentions an address.
    starts_with_address = {
        i
        for i, (a, b, line) in enumerate(lines)
        if len(line) <= 80
        and (
            (re.match(r"\s*>?\s*\d{1,6}\s+\S", line) and any(map(_street_and_number, NAME_NUMBER.finditer(line))))
            or UNIT_RE.search(line)
            or MILITARY_RE.search(line)
            or mostly_address(a, b, line)
        )
    }
    for i in sorted(starts_with_address):
        a, b, line = lines[i]
        offset = len(line) - len(line.lstrip(" >"))
        start, end = _address_part_of_line(text, a + offset, b, addresses, address_starts)
        out.append(place_span(text, start, end, 0.8, "rule:address", "ADDRESS"))
        for j in range(i + 1, min(i + 5, len(lines))):
            ja, jb, nxt = lines[j]
            if text[lines[j - 1][1] : ja].count("\n") > 1 or not _town_line(nxt):
                break
            offset = len(nxt) - len(nxt.lstrip(" >,"))
            out.append(place_span(text, ja + offset, jb, 0.75, "rule:address", "ADDRESS"))
    block_lines = {line_number(text, lines[i][0]) for i in starts_with_address}  # once, not once per match
    for m in NAME_NUMBER.finditer(text):
        if not _street_and_number(m):
            continue
        line_no = line_number(text, m.start())
        near = text[max(0, m.start() - 60) : m.end() + 60]
        if (
            line_no in block_lines
            or ADDRESS_CUE.search(text[max(0, m.start() - 40) : m.start()])
            or UNIT_RE.search(near)
            or re.search(r"\b(?:street|st\.|corner)\b", near, re.IGNORECASE)
        ):
            out.append(place_span(text, m.start(), m.end(), 0.7, "rule:address", "ADDRESS"))
    return out


# Before the first address part found on a line, words that may still be the address's own: a house number or a
# street name the rules did not take ("user: 0605 πεντέλης 210 apt. 999"), up to this many.
_WORDS_BEFORE_ADDRESS = 4
_TOKEN = re.compile(r"\S+")


def _address_part_of_line(
    text: str, a: int, b: int, addresses: list[tuple[int, int]], address_starts: list[int]
) -> tuple[int, int]:
    """The stretch of an address line that is the address: "Meet me at PSC 1437, Box 3833" is "PSC 1437, Box 3833",
    "DPO AP 70942 in case of an issue" is "DPO AP 70942". The sentence around an address on its line identifies no
    one, and hiding it costs the reader the context. A line with no address part found on it is kept whole."""
    k = bisect_left(address_starts, a)
    if k >= len(addresses) or addresses[k][0] >= b:
        return a, b
    start = addresses[k][0]
    # Back over the words just before it that are not prose: a number or a name ends at a cue, a label or a
    # sentence's end ("at", "is", "user:", "to?").
    before = list(_TOKEN.finditer(text, a, start))
    for m in reversed(before[-_WORDS_BEFORE_ADDRESS:]):
        token = m.group()
        bare = token.strip(".,;:!?()\"'>").lower()
        if token.endswith((":", "?", "!", ",")) or bare in FUNCTION_WORDS or bare in PROSE_WORDS or not bare:
            break
        if not (bare[0].isdigit() or token[0].isupper() or not bare.isascii()):
            break  # a lower-case English word ("moved", "please"): prose, not a street name
        start = m.start()
    ends = [e for _s, e in takewhile(lambda r: r[0] < b, addresses[k:])]
    end = min(b, max(_address_region(text, start), *ends))
    return start, end


def _town_line(line: str) -> bool:
    """A short line of a postal block: town, region code, country, postcode."""
    body = line.strip(" >,\t")
    if not body or ":" in body or "@" in body or len(body) > 40:
        return False
    tokens = body.replace(",", " ").split()
    if len(tokens) > 5:
        return False
    return all(t[0].isupper() or t.isdigit() or t == "nan" or t[0] == "(" for t in tokens)


def _not_a_street(match: str) -> bool:
    """'0700 RN ASSESSMENT. DR. HALVORSEN': a time with a leading zero is no house number, a street's name does
    not run across the end of a sentence, and in capitals it holds no function word."""
    if match.startswith("0") or re.search(r"[^\W\d_]{4,}\.\s", match) is not None:
        return True
    # "67 YO M ADMITTED FROM ST. AGNES", "SICU 2 UNDER DR. BJORNSDOTTIR": in capitals, a function word between the
    # number and the street word is charting, not a street's name.
    inner = re.findall(r"[^\W\d_]+", match)[:-1]
    return match.isupper() and any(w.lower() in FUNCTION_WORDS for w in inner)


def _street_and_number(m: re.Match[str]) -> bool:
    """Not "HR 124", "BP 98" or "AWARE OF K 3": a note in capitals has vital signs and values, no street."""
    return not (re.match(r"(?:\d+\s+)?[A-Z0-9]{1,4}\s+\d", m.group()) or _charting_capitals(m.group()))


def _charting_capitals(phrase: str) -> bool:
    """'TRANSFERRED TO MICU 4': a run of capitals with a function word or a kind of place, no street name."""
    words = re.findall(r"[^\W\d_]+", phrase)
    return (
        bool(words)
        and all(w.isupper() for w in words)
        and any(w.lower() in FUNCTION_WORDS or w.lower() in _GENERIC_PLACES for w in words)
    )
