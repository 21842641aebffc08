"""Passphrase rules for a new store, and the slow-down after repeated wrong passphrases.

The strength check is deliberately simple and explainable to a doctor: long enough, not a famous password, not a
pattern. Length matters most; a few random words pass easily.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import InputError

log = logging.getLogger(__name__)

MIN_LENGTH = 12
MIN_BITS = 50.0
PASSPHRASE_ADVICE = (
    "Use four or more unrelated words, or 12+ characters mixing letters, digits and symbols. There is no way to "
    "recover the data without it: write it down and keep it somewhere safe"
)

# Passwords that top every breach list, and words people build on; compared case-insensitively, digits stripped.
_COMMON = frozenset(
    {
        "password", "passw0rd", "passphrase", "letmein", "welcome", "qwerty", "qwertyuiop", "asdfgh", "asdfghjkl",
        "zxcvbn", "iloveyou", "admin", "administrator", "monkey", "dragon", "football", "baseball", "sunshine",
        "princess", "master", "shadow", "superman", "trustno1", "abc", "abcdef", "doctor", "hospital", "clinic",
        "nurse", "patient", "medicine", "changeme", "secret", "default",
    }
)


@dataclass(frozen=True)
class PassphraseCheck:
    ok: bool
    problems: list[str]
    estimated_bits: float

    def message(self) -> str:
        return "; ".join(self.problems)


def _charset_size(text: str) -> int:
    size = 0
    if any(c.islower() and c.isascii() for c in text):
        size += 26
    if any(c.isupper() and c.isascii() for c in text):
        size += 26
    if any(c.isdigit() for c in text):
        size += 10
    if any(c.isascii() and not c.isalnum() for c in text):
        size += 33
    if any(not c.isascii() for c in text):
        size += 100
    return max(size, 1)


def _is_pattern(text: str) -> bool:
    """A short unit repeated ("abcabcabc…") or a straight run ("123456789012", "abcdefghijkl")."""
    n = len(text)
    for unit in range(1, n // 2 + 1):
        if n % unit == 0 and text[:unit] * (n // unit) == text:
            return True
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(text)}
    return len(steps) == 1 and steps <= {1, -1, 0}


def check_passphrase(passphrase: str) -> PassphraseCheck:
    problems: list[str] = []
    length = len(passphrase)
    if length < MIN_LENGTH:
        problems.append(f"use at least {MIN_LENGTH} characters (it has {length})")
    if passphrase.strip() != passphrase:
        problems.append("do not start or end with a space")
    folded = passphrase.casefold()
    if folded.strip("0123456789!. ") in _COMMON or folded in _COMMON:
        problems.append("it is one of the most common passwords")
    elif length and _is_pattern(folded):
        problems.append("it is a simple pattern")
    distinct = len(set(passphrase))
    if length >= MIN_LENGTH and distinct < 6:
        problems.append("use more different characters")
    # Crude entropy, discounted for repeated characters; enough to reject "aaaaaaaaaaaa1".
    bits = min(length, distinct * 2) * math.log2(_charset_size(passphrase))
    if not problems and bits < MIN_BITS:
        problems.append("make it longer, or mix in digits, capitals or symbols")
    return PassphraseCheck(ok=not problems, problems=problems, estimated_bits=round(bits, 1))


class WeakPassphrase(InputError):
    kind = "passphrase"


def require_strong(passphrase: str | bytes | bytearray) -> None:
    """Raise `WeakPassphrase` naming what to change. Checked for new passphrases only (create, change)."""
    text = passphrase if isinstance(passphrase, str) else bytes(passphrase).decode("utf-8", errors="replace")
    verdict = check_passphrase(text)
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
