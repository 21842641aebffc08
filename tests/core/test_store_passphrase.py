"""Passphrase strength (zxcvbn, with the clinic's names counting for nothing) and the wrong-passphrase slow-down."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.services.passphrases import change_passphrase, words_to_avoid
from app.core.storage.cipher import CipherParams, derive_key, key_spec, passphrase_bytes, wipe
from app.core.storage.passphrase import (
    UnlockThrottle,
    WeakPassphrase,
    check_passphrase,
    name_words,
    require_strong,
)
from app.core.storage.store import Store


@pytest.mark.parametrize(
    "weak",
    ["", "short", "Password1234", "aaaaaaaaaaaaaaaa", "abcabcabcabcabc", "123456789012345", "abcdefghijklmn",
     " padded passphrase here ", "qwertyuiop!!"],
)
def test_weak_passphrases_are_refused_with_a_reason(weak: str) -> None:
    verdict = check_passphrase(weak)
    assert not verdict.ok and verdict.problems
    with pytest.raises(WeakPassphrase) as info:
        require_strong(weak)
    assert "too weak" in info.value.message and "four or more" in info.value.hint


@pytest.mark.parametrize("strong", ["correct horse battery staple", "Tr0ub4dor&3xyz!", "grüne Äpfel über Brücken"])
def test_strong_passphrases_pass(strong: str) -> None:
    assert check_passphrase(strong).ok
    require_strong(strong)


@pytest.mark.parametrize("weak", ["Summer2024!!", "Oswin1958!", "Welcome2025!", "clinicassistant2024"])
def test_seasons_names_with_years_and_the_apps_own_words_are_weak(weak: str) -> None:
    verdict = check_passphrase(weak, name_words("Oswin Harrow"))
    assert not verdict.ok and verdict.score < 4 and verdict.guesses_log10 < 10
    assert verdict.message().endswith("add another unrelated word or two")


def test_random_words_are_strong_enough() -> None:
    verdict = check_passphrase("copper lantern violet harbour 77", name_words("Oswin Harrow"))
    assert verdict.ok and verdict.score == 4 and verdict.guesses_log10 >= 10 and verdict.problems == []


def test_a_name_the_clinic_knows_counts_for_nothing() -> None:
    """zxcvbn alone rates a full name with spaces and a year as strong; without the name nothing is left."""
    name_and_year = "Jane Example 1957"
    assert check_passphrase(name_and_year).ok
    verdict = check_passphrase(name_and_year, name_words("Example, Jane"))
    assert not verdict.ok
    assert "a name or a word tied to this clinic" in verdict.message() and "years" in verdict.message()
    assert "Jane" not in verdict.message() and "Example" not in verdict.message()  # never echoes the passphrase
    assert not check_passphrase("Oswin1958!", name_words("Oswin Harrow")).ok
    # a word that merely contains a name is still a word of its own
    assert check_passphrase("copper lantern violet harbour 77", name_words("Violet Ann Lant")).ok


def test_name_words_take_every_word_and_the_name_run_together() -> None:
    assert name_words("Dr Oswin O'Hara-Smith", "") == {"oswin", "hara", "smith", "droswinoharasmith"}


def test_words_to_avoid_come_from_the_settings_and_every_patient(tmp_path: Path) -> None:
    settings = Settings()
    settings = settings.model_copy(update={"ui": settings.ui.model_copy(
        update={"doctor_name": "Dr Marguerite Quill", "clinic_name": "Larchmont Family Practice"}
    )})
    with Store(tmp_path / "data", kdf_iterations=4000) as store:
        store.create("correct horse battery staple")
        store.repositories().patients.add("Thistlewood", "Oswin")
        words = words_to_avoid(settings, store)
        assert {"marguerite", "quill", "larchmont", "thistlewood", "oswin"} <= words
        assert "thistlewood" not in words_to_avoid(settings)  # no store: the settings' names and the user's only
        current = "correct horse battery staple"
        with pytest.raises(WeakPassphrase):
            list(change_passphrase(store, current, "Thistlewood Oswin 1958", words))
        steps = list(change_passphrase(store, current, "copper lantern violet harbour 77", words))
        assert steps[-1].done and "changed" in steps[-1].message
        store.lock()
        store.unlock("copper lantern violet harbour 77")
        assert store.repositories().patients.count() == 1


def test_throttle_waits_longer_after_each_miss_and_resets(tmp_path: Path) -> None:
    waits: list[float] = []
    throttle = UnlockThrottle(tmp_path / "attempts.json", sleep=waits.append, max_delay_s=4)
    delays = [throttle.record_failure() for _ in range(7)]
    assert delays == [0, 0, 1, 2, 4, 4, 4] and waits == [1, 2, 4, 4, 4]
    assert throttle.failures() == 7
    throttle.reset()
    assert throttle.failures() == 0 and throttle.record_failure() == 0
    (tmp_path / "attempts.json").write_text("not json")
    assert throttle.failures() == 0  # a damaged counter never locks anyone out


def test_passphrase_is_normalised_and_wipeable() -> None:
    composed, decomposed = "caf\u00e9 au lait 2024", "cafe\u0301 au lait 2024"
    assert passphrase_bytes(composed) == passphrase_bytes(decomposed)
    secret = passphrase_bytes(composed)
    key = derive_key(secret, b"\x01" * 16, CipherParams(kdf_iter=1000))
    spec = key_spec(key, b"\x01" * 16)
    assert spec.startswith(b"x'") and len(spec) == 2 + 64 + 32 + 1
    for buffer in (secret, key, spec):
        wipe(buffer)
        assert not any(buffer)
