"""Passphrase rules for a new store, and the slow-down after repeated wrong passphrases.

Strength is estimated by zxcvbn (Dropbox's estimator: common passwords, names, words, dates, keyboard rows,
repeats, l33t), which is what an attacker's cracking rules try first. A new passphrase needs about 10^10 guesses
(zxcvbn's top score) and 12 characters. Names an attacker who knows this clinic would try first (the doctor's, the
clinic's, the computer user's, the patients') earn nothing: a passphrase must be strong without them too. The
problems are said in plain words; a few random words pass easily.
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.errors import InputError

log = logging.getLogger(__name__)

MIN_LENGTH = 12
STRONG_GUESSES_LOG10 = 10.0  # zxcvbn's score 4: about ten billion guesses
MAX_SCORE = 4
ESTIMATE_CHARS = 72  # zxcvbn refuses longer input; the first 72 characters of a longer passphrase carry its strength
PASSPHRASE_ADVICE = (
    "Use four or more unrelated words, or 12+ characters mixing letters, digits and symbols. There is no way to "
    "recover the data without it: write it down and keep it somewhere safe"
)
# Words anyone attacking this app's store tries first, whatever the clinic.
APP_WORDS = (
    "clinic", "assistant", "clinicassistant", "doctor", "patient", "patients", "nurse", "hospital", "surgery",
    "practice", "medical", "medicine", "health", "records", "passphrase", "password", "secret",
)
_LETTER_RUN = re.compile(r"[^\W\d_]+")
# zxcvbn keeps the caller's words in a module-level dictionary while it scores: one estimate at a time, or an
# estimate on the GUI thread (the strength meter) could score with the words of one on the store's thread.
_ZXCVBN_LOCK = threading.Lock()

_PATTERN_PROBLEMS = {
    "date": "dates and years are easy to guess",
    "spatial": "rows of keys (like qwerty) are easy to guess",
    "repeat": "repeated letters or words add little",
    "sequence": "runs like abc or 1234 are easy to guess",
}


@dataclass(frozen=True)
class PassphraseCheck:
    ok: bool
    problems: list[str]
    score: int  # 0 (guessed at once) to MAX_SCORE (strong enough)
    guesses_log10: float

    def message(self) -> str:
        return "; ".join(self.problems)


def name_words(*texts: str) -> set[str]:
    """The words of names (casefolded, 3+ letters), and each name run together ("janeexample")."""
    words: set[str] = set()
    for text in texts:
        runs = [run.casefold() for run in _LETTER_RUN.findall(text)]
        words.update(run for run in runs if len(run) >= 3)
        if len(runs) > 1:
            words.add("".join(runs))
    return words


def computer_user_words() -> set[str]:
    """The login name and, where the system records it, the user's full name."""
    texts: list[str] = []
    try:
        user = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in the environment nor the password database
        return set()
    texts.append(user)
    try:
        import pwd  # POSIX only

        texts.append(pwd.getpwnam(user).pw_gecos.split(",")[0])
    except (ImportError, KeyError):
        pass
    return name_words(*texts)


def prepare_estimator() -> None:
    """Import zxcvbn now (it builds its word rankings on import, about 0.2 s), on a thread that may wait: not on the
    first key the doctor types. Commands that never choose a passphrase never pay for it."""
    from zxcvbn import zxcvbn  # type: ignore[import-untyped]  # noqa: F401


def _estimate(text: str, words: list[str]) -> dict[str, Any]:
    if not text:  # zxcvbn fails on an empty string
        return {"guesses_log10": 0.0, "sequence": []}
    from zxcvbn import zxcvbn

    with _ZXCVBN_LOCK:
        result: dict[str, Any] = zxcvbn(text[:ESTIMATE_CHARS], user_inputs=words)
    return result


def _without_words(text: str, words: set[str]) -> str:
    """The passphrase with each whole word (a run of letters) that is one of `words` taken out, and the spaces
    that leaves side by side made one (a double space is no strength of its own)."""
    rest = _LETTER_RUN.sub(lambda m: "" if m.group().casefold() in words else m.group(), text)
    return rest if rest == text else re.sub(r"\s{2,}", " ", rest)


def _pattern_problems(sequence: Iterable[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    for match in sequence:
        pattern = match.get("pattern")
        if pattern == "dictionary" and match.get("dictionary_name") == "user_inputs":
            found = "it uses a name or a word tied to this clinic, which anyone would try first"
        elif pattern == "dictionary" and match.get("dictionary_name") == "passwords":
            found = "it is built on a common password"
        elif pattern == "regex" and match.get("regex_name") == "recent_year":
            found = _PATTERN_PROBLEMS["date"]
        else:
            found = _PATTERN_PROBLEMS.get(str(pattern), "")
        if found and found not in problems:
            problems.append(found)
    return problems


def check_passphrase(passphrase: str, avoid: Iterable[str] = ()) -> PassphraseCheck:
    """How strong a new passphrase is. `avoid`: names an attacker would try first (see `name_words`); the app's
    own words are always avoided."""
    words = set(APP_WORDS) | {w.casefold() for w in avoid if w}
    ranked = sorted(words)
    result = _estimate(passphrase, ranked)
    guesses_log10 = float(result["guesses_log10"])
    sequence: list[dict[str, Any]] = list(result["sequence"])
    rest = _without_words(passphrase, words)
    if rest != passphrase:  # the names count for nothing: is the passphrase still strong without them?
        without = _estimate(rest, ranked)
        if float(without["guesses_log10"]) < guesses_log10:
            guesses_log10 = float(without["guesses_log10"])
            sequence = [{"pattern": "dictionary", "dictionary_name": "user_inputs"}, *without["sequence"]]
    problems: list[str] = []
    length = len(passphrase)
    if length < MIN_LENGTH:
        problems.append(f"use at least {MIN_LENGTH} characters (it has {length})")
    if passphrase.strip() != passphrase:
        problems.append("do not start or end with a space")
    if guesses_log10 < STRONG_GUESSES_LOG10 and length:
        problems.extend(_pattern_problems(sequence))
        problems.append("it could be guessed: add another unrelated word or two")
    return PassphraseCheck(
        ok=not problems, problems=problems, score=_score_of(guesses_log10), guesses_log10=round(guesses_log10, 1)
    )


def _score_of(guesses_log10: float) -> int:
    """zxcvbn's thresholds (10^3, 10^6, 10^8, 10^10 guesses), applied to the lower of the two estimates."""
    return sum(guesses_log10 >= limit for limit in (3.0, 6.0, 8.0, STRONG_GUESSES_LOG10))


class WeakPassphrase(InputError):
    kind = "passphrase"


def require_strong(passphrase: str | bytes | bytearray, avoid: Iterable[str] = ()) -> None:
    """Raise `WeakPassphrase` naming what to change. Checked for new passphrases only (create, change)."""
    text = passphrase if isinstance(passphrase, str) else bytes(passphrase).decode("utf-8", errors="replace")
    verdict = check_passphrase(text, avoid)
    if not verdict.ok:
        raise WeakPassphrase(f"The passphrase is too weak: {verdict.message()}", PASSPHRASE_ADVICE)


class UnlockThrottle:
    """Counts consecutive wrong passphrases in a small file beside the database (no secrets, no patient data), so
    the slow-down also holds across CLI runs. The first two misses are free; then each waits twice as long, up to
    `max_delay_s`. A success resets it."""

    FREE_ATTEMPTS = 2

    def __init__(
        self, path: Path, sleep: Callable[[float], None] = time.sleep, max_delay_s: float = 30.0
    ) -> None:
        self.path = path
        self._sleep = sleep
        self._max_delay = max_delay_s

    def failures(self) -> int:
        try:
            value = json.loads(self.path.read_text(encoding="utf-8")).get("failures", 0)
        except (OSError, ValueError, AttributeError):
            return 0
        return value if isinstance(value, int) and value >= 0 else 0

    def delay_for(self, failures: int) -> float:
        if failures <= self.FREE_ATTEMPTS:
            return 0.0
        return float(min(2 ** (failures - self.FREE_ATTEMPTS - 1), self._max_delay))

    def record_failure(self) -> float:
        """Count one more miss, wait the penalty, return how long we waited."""
        failures = self.failures() + 1
        try:
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps({"failures": failures, "last": time.time()}), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            log.warning("could not record a failed unlock attempt")
        delay = self.delay_for(failures)
        if delay:
            log.info("wrong passphrase %d times in a row: waiting %.0f s", failures, delay)
            self._sleep(delay)
        return delay

    def reset(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            log.warning("could not reset the failed unlock counter")
