"""The clinic server's API key: kept in the encrypted store, never in the settings file.

Where the running app's key comes from, strongest first: `CLINIC_LLM__SERVER_API_KEY` (headless use: a CLI on a
server, a test), then the store (read after unlock), then an older settings file that still holds one (honoured
until the store is unlocked, which moves it in and rewrites the file without it). The window and
`clinic-assistant store server-key` share these steps; each runs on the thread that owns the store. No function
here logs or returns a key in a message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from app.core.config import Settings, drop_secret_from_file, secret_from_env, secret_in_file
from app.core.errors import ConfigError
from app.core.storage.secrets import SERVER_API_KEY
from app.core.storage.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredKey:
    """What the store holds after unlock (and after moving a key out of the settings file)."""

    key: str  # "" when none is stored
    moved_from_file: bool = False


def key_after_unlock(store: Store, config_file: Path) -> StoredKey:
    """On the store's thread, right after unlock: move a key the settings file still holds into the store (and
    rewrite the file without it), then read the stored key. A settings file that cannot be rewritten keeps its key
    (said in the log) and the store's copy is used anyway."""
    repos = store.repositories()
    moved = False
    try:
        in_file = secret_in_file(config_file)
    except ConfigError:
        in_file = ""  # an unreadable file is reported where settings are loaded; nothing to move from it
    if in_file:
        repos.secrets.set(SERVER_API_KEY, in_file)
        moved = True
        try:
            drop_secret_from_file(config_file)
            log.info("moved the clinic server's API key from the settings file into the encrypted store")
        except (OSError, ConfigError):
            log.warning("copied the clinic server's API key into the encrypted store, but the settings file could "
                        "not be rewritten without it")
    return StoredKey(repos.secrets.get(SERVER_API_KEY) or "", moved)


def with_key(settings: Settings, stored: str) -> Settings:
    """The settings the app runs with: the stored key, unless the environment names one (it wins, as environment
    variables win over every other source). Returns `settings` itself when nothing changes."""
    key = secret_from_env() or stored
    if key == settings.llm.server_api_key:
        return settings
    return settings.model_copy(update={"llm": settings.llm.model_copy(update={"server_api_key": key})})


def store_key(store: Store, key: str) -> bool:
    """Save (or, for "", remove) the clinic server's key; audited without the key. Returns whether it changed."""
    secrets = store.repositories().secrets
    changed = secrets.set(SERVER_API_KEY, key) if key else secrets.clear(SERVER_API_KEY)
    if changed:
        log.info("the clinic server's API key was %s", "saved in the store" if key else "removed from the store")
    return changed
