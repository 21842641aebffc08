"""Identifiers hidden whole, and nothing around them (issue #20, scored strictly: every letter and digit of an
identifier must be hidden, and what is hidden beside it counts against precision).

Written from the kinds of text the rules meet (postal blocks with prose on their lines, nursing notes in capitals,
lower-case conversations), not from the scored data. Each case names the pieces that must be gone and the words
around them that must stay.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.core.config import load_settings
from app.core.redact.engine import SpacyRedactor

pytestmark = pytest.mark.integration

_GLUE = frozenset({"of", "the", "and", "de", "des", "du", "la"})
_PLACEHOLDER = re.compile(r"\[[A-Z_]+_\d+(?: \([^)]*\))?\]")


@pytest.fixture(scope="module")
def redactor(models_dir: Path) -> SpacyRedactor:
    return SpacyRedactor.from_settings(load_settings().settings, models_dir)


def _check(redactor: SpacyRedactor, text: str, gone: tuple[str, ...], kept: tuple[str, ...]) -> None:
    redacted = redactor.redact(text).redacted_text
    visible = _PLACEHOLDER.sub(" ", redacted)
    pieces = [p for g in gone for p in re.findall(r"[^\W_]+", g) if p.lower() not in _GLUE]
    left = [p for p in pieces if re.search(rf"(?<![^\W_]){re.escape(p)}(?![^\W_])", visible)]
    assert not left, f"{left} survived in {redacted!r}"
    lost = [k for k in kept if k not in redacted]
    assert not lost, f"{lost} lost in {redacted!r}"


# An address on a line of prose: the address goes, the sentence around it stays.
ADDRESS_LINES = [
    pytest.param(
        "Please post it to Flat 2, 14 Hillside Road\nLeeds LS6 2AB thank you",
        ("Flat 2, 14 Hillside Road", "Leeds LS6 2AB"),
        ("Please post it to", "thank you"),
        id="prose-before-and-after-block",
    ),
    pytest.param(
        "Deliver to PSC 4471, Box 208\nAPO AE 09301 in case she is away.",
        ("PSC 4471, Box 208", "APO AE 09301"),
        ("Deliver to", "in case she is away"),
        id="military-block-in-a-sentence",
    ),
    pytest.param(
        "Ms K. Adeyemi\n4410 218 Birchmount Road\nScarborough\n, ON\n Canada 30411",
        ("Adeyemi", "4410 218 Birchmount Road", "Scarborough", "ON", "30411"),
        (),
        id="block-with-province-line",
    ),
    pytest.param(
        "Courier to 12 45 Rue des Lilas, 75011 Paris tomorrow.",
        ("12 45 Rue des Lilas", "75011 Paris"),
        ("Courier to", "tomorrow"),
        id="flat-and-house-number-romance-street",
    ),
    pytest.param(
        "Jonas Berg\nAddress: 12 Elm Street, Springfield",
        ("Jonas Berg", "12 Elm Street", "Springfield"),
        ("Address:",),
        id="name-then-label-line",
    ),
]

# Places named without a number, and places of care that end a sentence.
PLACES = [
    pytest.param(
        "She lives with her sister on Larchmont Ave near the park.",
        ("Larchmont Ave",),
        ("near the park",),
        id="street-without-number",
    ),
    pytest.param(
        "Registered with the practice on Kingsbury Road since the move.",
        ("Kingsbury Road",),
        ("since the move",),
        id="road-without-number",
    ),
    pytest.param(
        "The chaplain from St. Brendan parish visited.",
        ("St. Brendan parish",),
        ("chaplain",),
        id="saint-parish",
    ),
    pytest.param(
        "Transferred from Riverside Memorial Hospital. Patient stable overnight.",
        ("Riverside Memorial Hospital",),
        ("Patient stable overnight",),
        id="facility-at-sentence-end",
    ),
    pytest.param(
        "Son lives in Tromsø, flying in next week.",
        ("Tromsø",),
        ("flying in next week",),
        id="town-then-lower-case-prose",
    ),
    pytest.param(
        "Parents (Bağdat Caddesi No. 210/4, 34728 Kadıköy / İstanbul) asked for the report.",
        ("Bağdat Caddesi No. 210/4", "34728 Kadıköy", "İstanbul"),
        ("asked for the report",),
        id="turkish-street",
    ),
    pytest.param(
        "FOUND DOWN AT HOME BY NEIGHBOR RAGNAR. CK 4200, IVF AT 150/HR.",
        ("RAGNAR",),
        ("NEIGHBOR", "CK 4200"),
        id="caps-relative-name-with-term-ending",
    ),
    pytest.param(
        "PT IS A 71 YO F ADMITTED FROM ST. LUKE HOSPITAL ON 3/2 WITH SEPSIS.",
        ("ST. LUKE HOSPITAL", "3/2"),
        ("71 YO F ADMITTED FROM", "WITH SEPSIS"),
        id="caps-note-facility",
    ),
]

# Dates of a procedure or a stop in a chart, and a reference marked with "#".
DATES_AND_NUMBERS = [
    pytest.param("ORIF done 7/14, POD 2.", ("7/14",), ("ORIF done", "POD 2"), id="done-date"),
    pytest.param("Heparin drip d/c'd 5/3, on apixaban.", ("5/3",), ("on apixaban",), id="dc-date"),
    pytest.param("Tele box #4K-221 placed on arrival.", ("4K-221",), ("Tele box",), id="hash-code"),
]

# Lower-case conversations: greeted, introduced, named by a role, reported speaking.
CONVERSATION = [
    pytest.param("[doctor] hello oksana i'm glad you came\n[patient] thank you", ("oksana",), ("glad",), id="greeted"),
    pytest.param("[doctor] hello is this carol\n[patient] yes it is", ("carol",), ("yes it is",), id="is-this"),
    pytest.param(
        "[doctor] you must be elena r whitfield\n[patient] that's me",
        ("elena", "whitfield"),
        ("that's me",),
        id="must-be-with-initial",
    ),
    pytest.param(
        "[doctor] nice to meet you anders so what brings you in",
        ("anders",),
        ("what brings you in",),
        id="surname-list-word-greeted",
    ),
    pytest.param(
        "[patient] this is my boy lars he drove me here", ("lars",), ("he drove me here",), id="relative-in-speech"
    ),
    pytest.param(
        "[patient] my coach drew said to rest it for a week", ("drew",), ("said to rest",), id="role-then-reporting"
    ),
    pytest.param(
        "[patient] so mark said it was fine and then grace told me to come in",
        ("mark", "grace"),
        ("said it was fine", "told me"),
        id="reporting-verb",
    ),
    pytest.param(
        "[doctor] sue hi i'm sorry about the wait", ("sue",), ("sorry about the wait",), id="name-then-greeting"
    ),
    pytest.param(
        "[doctor] so ginger you said the nausea is worse", ("ginger",), ("the nausea is worse",), id="name-you-said"
    ),
    pytest.param(
        "[doctor] this is a follow up for ikaika sato today\n[doctor] ikaika how is the cough",
        ("ikaika", "sato"),
        ("how is the cough",),
        id="unknown-first-name-before-surname",
    ),
    pytest.param(
        "[doctor] hi thorunn nice to see you\n[doctor] thorunn how is the fatigue",
        ("thorunn",),
        ("how is the fatigue",),
        id="greeted-name-spreads",
    ),
    pytest.param(
        "forwarding address psc 1234 box 5 apo ae 09876 per specialist okonjo",
        ("psc 1234 box 5 apo ae 09876", "okonjo"),
        ("per specialist",),
        id="specialist-named",
    ),
]


@pytest.mark.parametrize(("text", "gone", "kept"), ADDRESS_LINES + PLACES + DATES_AND_NUMBERS + CONVERSATION)
def test_identifier_hidden_whole(
    redactor: SpacyRedactor, text: str, gone: tuple[str, ...], kept: tuple[str, ...]
) -> None:
    _check(redactor, text, gone, kept)
