"""Choosing a new passphrase: the names it must not lean on, and the change of passphrase that the window's dialog
and `store passwd` share (the same checks, the same steps)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from app.core.config import Settings
from app.core.storage.passphrase import computer_user_words, name_words, require_strong
from app.core.storage.store import Store


@dataclass(frozen=True)
class PassphraseStep:
    """A step of a passphrase change, said to the doctor while it runs."""

    message: str
    done: bool = False


def words_to_avoid(settings: Settings, store: Store | None = None) -> set[str]:
    """The doctor's and the clinic's names, the computer user's, and (with the store unlocked) every patient's:
    what someone who knows this clinic tries first. Held in memory only while a passphrase is being chosen."""
    words = name_words(settings.ui.doctor_name, settings.ui.clinic_name) | computer_user_words()
    if store is not None and store.is_unlocked:
        words |= name_words(*store.repositories().patients.names())
    return words


def change_passphrase(store: Store, current: str, new: str, avoid: set[str]) -> Iterator[PassphraseStep]:
    """Check the new passphrase, then re-encrypt the store with it (the current one is proven first; a wrong one
    raises `WrongPassphrase` and counts as a failed unlock). The store stays unlocked, now with the new key."""
    yield PassphraseStep("Checking the new passphrase…")
    require_strong(new, avoid)
    yield PassphraseStep("Re-encrypting every record with the new passphrase…")
    store.rekey(current, new)
    yield PassphraseStep("Passphrase changed. Backups made before keep the passphrase they were made with.", True)
