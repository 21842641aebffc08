"""Passphrase strength rules and the wrong-passphrase slow-down."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.storage.cipher import CipherParams, derive_key, key_spec, passphrase_bytes, wipe
from app.core.storage.passphrase import UnlockThrottle, WeakPassphrase, check_passphrase, require_strong


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
