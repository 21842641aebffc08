"""Structured identifiers: e-mail, URL, IP, phone and fax, SSN, record/plan/account/licence/device numbers, ages
over 89. Each rule follows the identifier's real format and, where a format alone is ambiguous, the words before
it on the same line ("MRN", "policy", "fax", "call me at").

All rules read the shadow text (spoken numbers as digits) and report spans in the original text.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from app.core.redact.base import Kind, Span
from app.core.redact.intervals import blank, line_start, next_newline
from app.core.redact.name_words import FUNCTION_WORDS
from app.core.redact.spoken import ShadowText

CONTEXT_CHARS = 40

# Words that say what a number is. Order matters only between equally near words: the first listed wins.
_CONTEXT: list[tuple[Kind, str, str]] = [
    (Kind.FAX, "", r"fax(?:ed)?"),
    (Kind.SSN, "", r"ssn|social security|social sec\w*|ss ?#|ss no"),
    (
        Kind.MRN,
        "",
        r"mrn|mr ?#|medical record|med(?:ical)? rec\w*|records?|chart|hospital (?:number|no)|"
        r"patient (?:number|no)|pt (?:number|no)|file (?:number|no)|unit number",
    ),
    (
        Kind.HEALTH_PLAN_ID,
        "",
        r"insurance|insurer|insured|member (?:id|number|no|#)|membership|policy|"
        r"(?:health )?plan (?:id|number|no|#)|health plan|beneficiary|medicare|medicaid|subscriber|group (?:number|no)|"
        r"payer|hmo|ppo|nhs|medical aid|health card|tricare",
    ),
    (
        Kind.ACCOUNT,
        "",
        r"account|acct|a/c|card|credit|debit|iban|bank|billing|invoice|routing|sort code|"
        r"visa|mastercard|amex",
    ),
    (Kind.VEHICLE, "", r"vin|vehicle|plate|car registration|reg(?:istration)? plate"),
    (Kind.LICENSE, "", r"licen[cs]e|dea|npi|certificate|cert|permit|passport|driver'?s|dl"),
    (Kind.DEVICE, "", r"serial|s/n|sn|device|implant|pacemaker|defibrillator|pump|udi|lot|imei|model (?:number|no)"),
    (Kind.BIOMETRIC, "", r"fingerprint|finger print|retina\w*|iris|voice ?print|biometric\w*|palm ?print|face id"),
    (Kind.PHOTO, "", r"photo\w*|picture|image|img|selfie|headshot"),
    (Kind.LOCATION, "ZIP", r"zip(?: code)?|postal code|post ?code"),
    (
        Kind.PHONE,
        "",
        r"phone|tel|telephone|mobile|cell|cellphone|desk|call(?:ed|ing)?|reach(?:ed)?|answering|"
        r"text(?:ed|ing)?|messages?|contact|registered|pager|beeper|dial|landline|whatsapp|extension|ext",
    ),
    (
        Kind.ID,
        "",
        r"id|identifier|identification|case|ref|reference|ticket|number|no|code|tracking|accession|"
        r"specimen|requisition|order|encounter|study|trial|#",
    ),
]
_CONTEXT_RE = [
    (kind, label, re.compile(r"(?<![A-Za-z])(?:" + pattern + r")(?![A-Za-z])", re.IGNORECASE))
    for kind, label, pattern in _CONTEXT
]
# A context word right before a number ("MRN: 0800"): the number is what it labels, even if it looks like a time.
_LABEL_RIGHT_BEFORE = re.compile(
    r"(?<![A-Za-z])(?:" + "|".join(pattern for _k, _l, pattern in _CONTEXT) + r")\.?\s{0,2}[:#]?\s{0,2}$", re.IGNORECASE
)


def _label_right_before(text: str, pos: int) -> bool:
    return _LABEL_RIGHT_BEFORE.search(text[max(0, pos - 30) : pos]) is not None


EMAIL_RE = re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
SPOKEN_EMAIL_RE = re.compile(
    r"\b[a-z0-9]+(?:\s+(?:dot|underscore)\s+[a-z0-9]+)*\s+at\s+[a-z0-9]+(?:\s+dot\s+[a-z0-9]+)*"
    r"\s+dot\s+(?:com|org|net|edu|gov|co|io|us|uk|ca)\b",
    re.IGNORECASE,
)
# "w w w dot smith family dot net", "kwame dot org": a dictated address ends in a spoken top-level domain.
SPOKEN_URL_RE = re.compile(
    r"\b(?:(?:w\s?w\s?w|www)\s+dot\s+(?:[a-z0-9-]+\s+){0,2}|(?:https?\s+colon\s+slash\s+slash\s+))?"
    r"[a-z0-9-]+(?:\s+dot\s+[a-z0-9-]+)*\s+dot\s+(?:com|org|net|edu|gov|io|info|health|co\s+dot\s+uk|co|uk|us|ca|au)\b",
    re.IGNORECASE,
)
# "one nine two dot one six eight dot one dot ten" reads as "192 dot 168 dot 1 dot 10" in the shadow text.
SPOKEN_IP_RE = re.compile(r"\b\d{1,3}(?:\s+(?:dot|point)\s+\d{1,3}){3}\b", re.IGNORECASE)
_TLDS = (
    "com|org|net|edu|gov|mil|int|io|info|biz|health|care|clinic|app|co|us|uk|ca|au|nz|ie|de|fr|nl|se|dk|no|fi|be|"
    "at|ch|es|it|pt|pl|cz|ee|cy|uy|br|mx|jp|cn|in|za|ru"
)
URL_RE = re.compile(
    r"\b(?:https?://|ftp://|www\.)[^\s<>\"'\])}]+|"
    r"(?<![@\w.-])(?:[A-Za-z0-9][A-Za-z0-9-]+\.)+(?:" + _TLDS + r")(?![\w-])(?:/[^\s<>\"'\])}]*)?",
    re.IGNORECASE,
)
IPV4_RE = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
IPV6_RE = re.compile(r"(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])")

# Numbers in groups: phones, SSNs, grouped account numbers. Digits only, with separators and an extension.
GROUPED_RE = re.compile(
    r"(?<![\w+/.-])(?:\+\d{1,3}[\s.-]?|\b00\d{1,2}[\s.-])?(?:\(\d{1,4}\)[\s.-]?|\(0\)\s?)?\d{1,8}"
    r"(?:[\s.-]{1,2}(?:\(0\)\s?)?\d{1,8}){1,5}(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w/-]|\.\d)"
)
NANP_RE = re.compile(
    r"^(?:\+?1[\s.-]?|001[\s.-])?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?:\s?(?:x|ext\.?)\s?\d+)?$"
)
SSN_RE = re.compile(r"^\d{3}([- ])\d{2}\1\d{4}$")

# Codes: one token of letters, digits and inner dashes with at least two digits, e.g. PROS-123456, #SC987654, 12345XJ.
CODE_RE = re.compile(
    r"(?<![\w@#/.-])#?(?=[A-Za-z0-9/-]*\d[A-Za-z0-9/-]*\d)[A-Za-z0-9]+(?:[-/][A-Za-z0-9]+)*(?![\w@/-]|\.\w)"
)
# Number plates: groups of capitals and digits after a vehicle word ("plate ABC 1234", "registration KX19 ABC").
PLATE_RE = re.compile(
    r"(?i:\b(?:plates?|registration|reg\.?|tags?)(?:\s+(?:no\.?|number|mark|is|was)){0,2}\s*[:#]?\s*)"
    # dictated, letter by letter: "plate number is 7 x y z 123" in the shadow text
    r"(?:(?P<spoken>(?:(?:\d{1,4}|[a-z])\s+){3,7}(?:\d{1,4}|[a-z]))\b"
    r"|(?P<plate>[A-Z0-9]{1,4}(?:[ -][A-Z0-9]{1,4}){0,2})(?![\w-]))"
)
_VEHICLE_WORDS = r"car|van|vehicle|truck|motorbike|motorcycle|dvla|dmv|licen[cs]e"
PLATE_CONTEXT = re.compile(rf"\b(?:{_VEHICLE_WORDS}|plate)\b", re.I)
# An orthopaedic plate ("locking plate LCP 3.5 mm", "plate DCP 4 hole") has no vehicle on its line; a number plate
# comes with one, or is called a "plate number".
VEHICLE_LINE = re.compile(
    rf"\b(?:{_VEHICLE_WORDS}|cars|lorry|taxi|ambulance|registration|reg|number\s+plates?|plates?\s+(?:no|number))\b",
    re.I,
)
IMPLANT_AFTER = re.compile(r"\.\d|\s*(?:mm|cm|holes?|screws?)\b", re.I)
IBAN_RE = re.compile(r"\b[A-Za-z]{2}\d{2}(?:\s?[A-Za-z0-9]{4}){2,7}(?:\s?[A-Za-z0-9]{1,4})?\b")
VIN_RE = re.compile(r"\b(?=[A-HJ-NPR-Z0-9]*\d)(?=[A-HJ-NPR-Z0-9]*[A-HJ-NPR-Z])[A-HJ-NPR-Z0-9]{17}\b")
PHOTO_FILE_RE = re.compile(r"(?<![\w.-])[\w.-]+\.(?:jpe?g|png|heic|heif|gif|bmp|tiff?|webp|dcm)\b", re.IGNORECASE)

# Units and clinical tokens that look like codes: "500mg", "COVID-19", "HbA1c", "BRCA1", "B12".
UNIT_SUFFIX_RE = re.compile(
    r"\d(?:mg|mcg|ug|g|kg|ml|l|mmhg|mmol|meq|iu|u|units?|cc|cm|mm|km|hz|khz|bpm|kcal|cal|lbs?|oz|hrs?|min|sec|"
    r"x|h|d|wk|mo|yrs?|y|pm|am|c?gy|mgy|msv|mci|mbq|kv|mev|j)$",
    re.IGNORECASE,
)
# A number followed by a unit or a count word is a quantity, not an identifier: "2000 mg", "100 units".
UNIT_AFTER_RE = re.compile(
    r"\s?(?:mg|mcg|micrograms?|milligrams?|g|grams?|kg|ml|mls|cc|l|liters?|litres?|units?|iu|meq|mmol|mmhg|%|"
    r"percent|times|tablets?|tabs?|capsules?|puffs?|drops?|doses?|cells|copies|c?gy|/|per|x\s?10)\b",
    re.IGNORECASE,
)
AGE_RE = re.compile(
    r"(?:\b(?:age[ds]?|aged)\s*:?\s*(?P<a>9\d|1[01]\d)\b)|"
    r"(?:\b(?P<b>9\d|1[01]\d)\s*-?\s*(?:years?|yrs?|y)\.?\s*-?\s*(?:old|o\.?)\b)|"
    r"(?:\b(?P<c>9\d|1[01]\d)\s*(?:yo|y/o|y\.o\.|yr|[MF])\b)|"
    r"(?:\b(?:in\s+(?:his|her|their)\s+(?:(?:early|mid|late)[\s-]+)?)(?P<d>(?:9|10)0s|nineties)\b)|"
    r"(?:\b(?P<e>9\d|1[01]\d)\s*(?:years?|yrs?)\s+(?:of\s+age|young)\b)|"
    r"(?:\b(?P<cue>turned|turns|turning|will\s+be|is\s+now|celebrat\w+\s+(?:his|her|their))\s+(?P<f>9\d|1[01]\d)\b"
    r"(?![.,]\d|\s*(?:mg|mcg|g|kg|lbs?|ml|%|units?|minutes?|mins?|hours?|days?|weeks?|months?|times|percent|/|"
    r"bpm|beats|breaths|mm\s?hg|mmol|umol|µmol|°|degrees?|[fc]\b|cm|ml/min)))",
    re.IGNORECASE,
)
# "HR is now 98", "heart rate turns 100": a vital sign or a lab value changes, nobody has a birthday.
_MEASURE_WORDS = (
    r"hr|heart\s+rate|pulse|bp|blood\s+pressure|systolic|diastolic|map|temp|temperature|sats?|saturations?|spo2|"
    r"o2|oxygen|rr|resp(?:iratory)?\s+rate|egfr|gfr|creat(?:inine)?|cr|ferritin|glucose|sugars?|bms?|hba1c|a1c|"
    r"weight|wt|bmi|height|sodium|na|potassium|urea|hb|ha?emoglobin|platelets?|plts?|wcc|wbc|crp|esr|ldl|hdl|"
    r"cholesterol|tsh|inr|alt|ast|alp|bilirubin|albumin|lactate|troponin|bnp|psa|ck|mcv|iron|b12|folate|calcium|"
    r"magnesium|phosphate|amylase|lipase|fev1|pefr|peak\s+flow|ef|ejection\s+fraction|score|level|count|rate|"
    r"reading|value|result|dose|volume|output|intake"
)
_MEASURE_BEFORE = re.compile(rf"\b(?:{_MEASURE_WORDS})\b(?:\W+\w+){{0,3}}\W*$", re.IGNORECASE)
# "is now" and "will be" say an age only of a person: a pronoun, a patient or relative, or a capitalised name.
_PERSON_BEFORE = re.compile(
    r"(?:\b(?i:she|he|they|who|patient|pt|mother|father|mum|mom|dad|wife|husband|grandmother|grandfather|grandma|"
    r"grandpa|aunt|uncle|sister|brother|son|daughter|resident)|\b(?P<cap>[A-Z][a-z'’-]+))\s+$"
)


_NUMBER_RANGE = re.compile(r"(\d{2,4})-(\d{2,4})")


def _clock_time(token: str) -> bool:
    """'0800', '2330': four digits that read as a time on the 24-hour clock."""
    return len(token) == 4 and token.isdigit() and int(token[:2]) <= 23 and int(token[2:]) <= 59


def _range_or_shift(token: str) -> bool:
    """'0700-1900' (a shift), '140-190' (a glucose range): two clock times, or two rising numbers of one length."""
    m = _NUMBER_RANGE.fullmatch(token)
    if not m:
        return False
    a, b = m.groups()
    return (_clock_time(a) and _clock_time(b)) or (len(a) == len(b) and int(a) < int(b))


# "he's 93", "Grandmother is 95.": an age said of a person, ending its clause (not "she is 95% on RA", "Temp is 99").
AGE_STATED = re.compile(
    r"(?:\b(?i:he|she|they|patient|pt|mother|father|mum|mom|dad|wife|husband|grandmother|grandfather|grandma|grandpa|"
    r"gran|granny|aunt|uncle|sister|brother|son|daughter|resident)|\b(?P<cap>[A-Z][a-z'’-]+))"
    r"(?:['’]s|\s+(?i:is|was))\s+(?i:(?:now|almost|nearly|about|already|just)\s+)?(?P<age>9\d|1[01]\d)"
    r"(?=\s*(?:[.,](?!\d)|[;!?)\n]|$)|\s+(?i:and|but|years?|yrs?|now|today|this|next|last|so|though|yet|himself|herself|in|"
    r"soon|already|you\s+know)\b)"
    r"|\b(?i:i'?m|i\s+am|(?:i|he|she|they)(?:'ll|\s+will|'s\s+going\s+to|'s\s+gonna|\s+is\s+going\s+to)\s+be)\s+"
    r"(?i:(?:now|almost|nearly|about|already|just)\s+)?(?P<age2>9\d|1[01]\d)"
    r"(?=\s*(?:[.,](?!\d)|[;!?)\n]|$)|\s+(?i:and|but|years?|yrs?|now|today|this|next|in|soon|you\s+know)\b)"
)
_OLD_AGE = re.compile(r"\b(?:9\d|1[01]\d)\b")
# "my mom who's ninety two lives with us": only a person is "who".
AGE_WHO = re.compile(
    r"\bwho(?:['’]s|\s+is|\s+was|\s+turned|\s+turns)\s+(?:now\s+|almost\s+|nearly\s+)?(?P<age>9\d|1[01]\d)\b"
    r"(?![.,]\d|\s*(?:%|percent|kg|lbs?|pounds|mg|units?|degrees?|°))",
    re.IGNORECASE,
)
# "how old are you? ninety one": the answer to the question.
AGE_ANSWER = re.compile(
    r"\bhow\s+old\s+(?:are\s+you|is\s+(?:he|she)|are\s+they)\b[^\d]{0,40}?\b(?P<age>9\d|1[01]\d)\b", re.I
)
# An extension: "ext x4-7712", "extension 4417", "x4-7712" (a bare "x" only before a dashed number: "PRBC x2" is not).
EXTENSION_RE = re.compile(
    r"(?i:\b(?:ext|extn|extension)\b\.?\s*[#:]?\s*(?P<num>x?(?:\d{1,2}-\d{3,5}|\d{3,6}))|(?<![\w/])x\d{1,2}-\d{4})"
    r"(?![\w/-])"
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def context_kind(text: str, pos: int, after_end: int | None = None) -> tuple[Kind, str] | None:
    """The kind the words just before `pos` (same line, 40 characters) give a number, nearest word first."""
    first = line_start(text, pos)
    if first > 1 and blank(text, first, pos):
        # A label on its own line ("Phone:\n0487 98 11 92") speaks for the next line.
        first = line_start(text, first - 1)
    window_start = max(first, pos - CONTEXT_CHARS)
    window = text[window_start:pos]
    # A context word belongs to the number right after it: "MRN 00482913, seen at 617-555-0199" is a phone.
    last_digit = max((i for i, ch in enumerate(window) if ch.isdigit()), default=-1)
    window = window[last_digit + 1 :]
    best: tuple[int, int, Kind, str] | None = None  # (distance, rank, kind, label)
    for rank, (kind, label, regex) in enumerate(_CONTEXT_RE):
        for m in regex.finditer(window):
            distance = len(window) - m.end()
            # A generic word ("number", "#", "id") right after a specific one belongs to it: "phone number".
            if kind == Kind.ID and best is not None and best[2] != Kind.ID and best[0] - distance < 16:
                continue
            if best is None or distance < best[0] or (distance == best[0] and rank < best[1]):
                best = (distance, rank, kind, label)
    if after_end is not None and best is None:
        tail = text[after_end : after_end + 12]
        if re.match(r"\s*\(?\s*(?:mrn|id|ssn)\b", tail, re.IGNORECASE):
            word = re.match(r"\s*\(?\s*(\w+)", tail)
            key = word.group(1).lower() if word else ""
            return {"mrn": (Kind.MRN, ""), "ssn": (Kind.SSN, "")}.get(key, (Kind.ID, ""))
    return (best[2], best[3]) if best else None


class IdentifierRules:
    """Finds structured identifiers in one text. Create one per text; it holds no state between texts."""

    def __init__(self, shadow: ShadowText) -> None:
        self.shadow = shadow
        self.text = shadow.text
        self.spans: list[Span] = []
        self._vehicle_lines: dict[tuple[int, int], bool] = {}

    def add(self, start: int, end: int, kind: Kind, confidence: float, source: str, label: str = "") -> None:
        a, b = self.shadow.to_original(start, end)
        original = self.shadow.original
        if b > a:
            self.spans.append(Span(a, b, kind, original[a:b], confidence, source, label))

    def run(self) -> list[Span]:
        self.emails()
        self.urls()
        self.ips()
        self.grouped_numbers()
        self.codes()
        self.ibans_vins_photos()
        self.plates()
        self.ages()
        self.extensions()
        return self.spans

    def extensions(self) -> None:
        """An extension alone, or with the phone number right before it ("555-0142 ext x4-7712")."""
        original = self.shadow.original
        phones = {s.end: s for s in self.spans if s.kind == Kind.PHONE}
        for m in EXTENSION_RE.finditer(self.text):
            if UNIT_AFTER_RE.match(self.text, m.end()):
                continue
            a, b = self.shadow.to_original(m.start(), m.end())
            phone = next((phones[e] for e in range(a, max(-1, a - 4), -1) if e in phones), None)
            if phone is not None and re.fullmatch(r"[\s,;]*", original[phone.end : a]):
                a = phone.start
            elif m.group("num"):
                a, b = self.shadow.to_original(m.start("num"), m.end())  # the number, not the word "ext"
            self.spans.append(Span(a, b, Kind.PHONE, original[a:b], 0.85, "rule:phone"))

    def emails(self) -> None:
        for m in EMAIL_RE.finditer(self.text):
            self.add(m.start(), m.end(), Kind.EMAIL, 0.99, "rule:email")
        for m in SPOKEN_EMAIL_RE.finditer(self.text):
            self.add(m.start(), m.end(), Kind.EMAIL, 0.8, "rule:email")

    def urls(self) -> None:
        for m in URL_RE.finditer(self.text):
            value = m.group().rstrip(".,;:!?")
            if "@" in self.text[max(0, m.start() - 1) : m.start()]:
                continue
            self.add(m.start(), m.start() + len(value), Kind.URL, 0.95, "rule:url")
        for m in SPOKEN_URL_RE.finditer(self.text):
            if re.search(r"\bat\s+$", self.text[max(0, m.start() - 4) : m.start()]):
                continue  # the domain of a dictated e-mail address: the e-mail rule has it
            self.add(m.start(), m.end(), Kind.URL, 0.8, "rule:url")

    def ips(self) -> None:
        for regex in (IPV4_RE, IPV6_RE):
            for m in regex.finditer(self.text):
                try:
                    ipaddress.ip_address(m.group())
                except ValueError:
                    continue
                self.add(m.start(), m.end(), Kind.IP, 0.95, "rule:ip")
        for m in SPOKEN_IP_RE.finditer(self.text):
            dotted = ".".join(re.findall(r"\d+", m.group()))
            try:
                ipaddress.ip_address(dotted)
            except ValueError:
                continue
            self.add(m.start(), m.end(), Kind.IP, 0.85, "rule:ip")

    def grouped_numbers(self) -> None:
        for m in GROUPED_RE.finditer(self.text):
            value = m.group().strip(" .-")
            start = m.start() + m.group().index(value[0])
            end = start + len(value)
            digits = re.sub(r"\D", "", value.split("x")[0].split("ext")[0])
            if not 7 <= len(digits) <= 19:
                continue
            if not re.search(r"[\s.()-]", value) and len(digits) < 7:
                continue
            ctx = context_kind(self.text, start, end)
            kind = ctx[0] if ctx else None
            if SSN_RE.match(value):
                self.add(start, end, kind if kind not in (None, Kind.PHONE, Kind.ID) else Kind.SSN, 0.9, "rule:ssn")
            elif kind in (Kind.PHONE, Kind.FAX):
                self.add(start, end, kind, 0.9, "rule:phone")
            elif NANP_RE.match(value):
                self.add(start, end, kind if kind and kind != Kind.ID else Kind.PHONE, 0.9, "rule:phone")
            elif 13 <= len(digits) <= 19 and luhn_ok(digits):
                self.add(start, end, Kind.ACCOUNT, 0.9, "rule:card")
            elif ctx is not None and kind is not None:
                self.add(start, end, kind, 0.8, "rule:number", ctx[1])
            elif re.fullmatch(r"\d+", value) and len(digits) >= 7:
                self.add(start, end, Kind.ID, 0.6, "rule:number")

    def codes(self) -> None:
        for m in CODE_RE.finditer(self.text):
            token = m.group()
            bare = token.lstrip("#")
            digits = sum(ch.isdigit() for ch in bare)
            letters = sum(ch.isalpha() for ch in bare)
            if "/" in bare:
                # "POL/2231/88" is a code; "25/100", "T12/L1" and "mg/kg" are not: a slash needs letters and a
                # context word that names the identifier.
                ctx = context_kind(self.text, m.start(), m.end())
                if letters and digits >= 4 and ctx is not None and ctx[0] != Kind.ID:
                    self.add(m.start(), m.end(), ctx[0], 0.85, "rule:code", ctx[1])
                continue
            if UNIT_SUFFIX_RE.search(bare) and letters <= 5:
                continue
            if re.fullmatch(r"(?:19|20)\d\d(?:-(?:19|20)?\d\d)?", bare):  # a year or a range of years
                continue
            if UNIT_AFTER_RE.match(self.text, m.end()):
                continue
            ctx = context_kind(self.text, m.start(), m.end())
            if (ctx is None or ctx[0] == Kind.ID) and _range_or_shift(bare):
                continue  # "Glucose 140-190", "shift 0700-1900": a range of values or hours, no identifier
            if ctx is not None and _clock_time(bare) and not _label_right_before(self.text, m.start()):
                continue  # "chart checked 0800": a time on a line that names a record, not its number
            if ctx is not None and self._enough_for(ctx[0], ctx[1], bare, digits, letters):
                kind, label = ctx
                self.add(m.start(), m.end(), kind, 0.9, "rule:code", label)
            elif self._code_shape(token, bare, digits, letters):
                confidence = 0.75 if letters and "-" in bare else 0.6
                self.add(m.start(), m.end(), Kind.ID, confidence, "rule:code")

    @staticmethod
    def _enough_for(kind: Kind, label: str, bare: str, digits: int, letters: int) -> bool:
        """How much a number must have to be the identifier its context word names."""
        if label == "ZIP":
            return bool(re.fullmatch(r"\d{3,5}(?:-\d{3,4})?", bare))
        if kind in (Kind.PHONE, Kind.FAX):
            return digits >= 7
        if kind == Kind.SSN:
            return digits == 9
        if kind == Kind.ID:
            return digits >= 5 or (digits >= 3 and letters > 0)
        return digits >= 4 or (digits >= 3 and letters > 0)

    @staticmethod
    def _code_shape(token: str, bare: str, digits: int, letters: int) -> bool:
        """A code without context words: long numbers, letter-prefixed numbers, '#' references."""
        if letters == 0:
            plain = bare.replace("-", "")
            return len(plain) >= 7 or (token.startswith("#") and digits >= 4) or ("-" in bare and digits >= 6)
        # Letters then digits (PROS-123456, B123456789) or digits then a short letter suffix (12345XJ).
        if (
            digits >= 4
            and letters <= 6
            and len(bare) >= 6
            and re.fullmatch(r"[A-Za-z]{1,6}-?\d{4,}(?:-?[A-Za-z0-9]+)*|\d{4,}-?[A-Za-z]{1,3}", bare)
        ):
            return True
        # "#3N-118", "#A12B": a number marked with "#" is a reference, whatever its mix of letters and digits.
        return token.startswith("#") and digits >= 3

    def ibans_vins_photos(self) -> None:
        for m in IBAN_RE.finditer(self.text):
            compact = m.group().replace(" ", "")
            if 15 <= len(compact) <= 34 and sum(c.isdigit() for c in compact) >= 8:
                self.add(m.start(), m.end(), Kind.ACCOUNT, 0.9, "rule:iban")
        for m in VIN_RE.finditer(self.text):
            self.add(m.start(), m.end(), Kind.VEHICLE, 0.8, "rule:vin")
        for m in PHOTO_FILE_RE.finditer(self.text):
            self.add(m.start(), m.end(), Kind.PHOTO, 0.7, "rule:photo")

    def plates(self) -> None:
        for m in PLATE_RE.finditer(self.text):
            group = "spoken" if m.group("spoken") else "plate"
            plate = m.group(group)
            compact = plate.replace(" ", "").replace("-", "")
            if not (4 <= len(compact) <= 8 and re.search(r"\d", compact) and re.search(r"[A-Za-z]", compact)):
                continue
            # "registration" alone could be a clinician's; a vehicle word on the line makes it a plate.
            first = line_start(self.text, m.start())
            if re.search(r"plate", m.group(), re.I):
                if not self._vehicle_line(first, m.end()) or IMPLANT_AFTER.match(self.text, m.end(group)):
                    continue
            elif not PLATE_CONTEXT.search(self.text[max(first, m.start(group) - 50) : m.start(group)]):
                continue
            self.add(m.start(group), m.end(group), Kind.VEHICLE, 0.85, "rule:plate")

    def _vehicle_line(self, first: int, after: int) -> bool:
        """A vehicle word on the lines from `first` to the end of the one holding `after`, searched once per line:
        a long line with many "plate" words would otherwise be read once for each."""
        line_end = next_newline(self.text, after)
        line_end = line_end if line_end >= 0 else len(self.text)
        if (first, line_end) not in self._vehicle_lines:
            self._vehicle_lines[first, line_end] = VEHICLE_LINE.search(self.text, first, line_end) is not None
        return self._vehicle_lines[first, line_end]

    def ages(self) -> None:
        for found in AGE_RE.finditer(self.text):
            m: re.Match[str] | None = found
            if found.group("f") and not self._age_after_cue(found):
                # "Temp is now 99" is no age, but "the patient is now 91 years old" still is one by its words after.
                m = AGE_RE.match(self.text, found.start("f"))
            if m is None or (m is not found and m.group("f")):
                continue
            group = next(g for g in ("a", "b", "c", "d", "e", "f") if m.group(g))
            self.add(m.start(group), m.end(group), Kind.AGE, 0.9, "rule:age")
        self._stated_ages()

    def _stated_ages(self) -> None:
        if not _OLD_AGE.search(self.text):
            return  # most texts have no number from 90 to 119
        for m in AGE_STATED.finditer(self.text):
            line_start = self.text.rfind("\n", 0, m.start()) + 1
            age = "age" if m.group("age") else "age2"
            if _MEASURE_BEFORE.search(self.text[line_start : m.start(age)]):
                continue  # "Temp is 99.", "Sat was 94, now 97"
            if (m.group("cap") or "").lower() in FUNCTION_WORDS:
                continue  # "It is 95."
            self.add(m.start(age), m.end(age), Kind.AGE, 0.85, "rule:age")
        for m in [*AGE_ANSWER.finditer(self.text), *AGE_WHO.finditer(self.text)]:
            if not UNIT_AFTER_RE.match(self.text, m.end()):
                self.add(m.start("age"), m.end("age"), Kind.AGE, 0.85, "rule:age")

    def _age_after_cue(self, m: re.Match[str]) -> bool:
        """'She turns 93', 'Mr Jones will be 95': not 'HR is now 98' or 'Pulse will be 90'."""
        line_start = self.text.rfind("\n", 0, m.start()) + 1
        before = self.text[line_start : m.start()]
        if _MEASURE_BEFORE.search(before):
            return False
        cue = m.group("cue").lower()
        if cue.startswith(("is", "will")):
            person = _PERSON_BEFORE.search(before)
            return person is not None and (person.group("cap") or "").lower() not in FUNCTION_WORDS  # "It is now 95"
        return True


def find_identifiers(shadow: ShadowText) -> Iterator[Span]:
    yield from IdentifierRules(shadow).run()
