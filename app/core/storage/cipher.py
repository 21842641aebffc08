"""Keys and cipher settings of the encrypted store.

Why we derive the key ourselves and hand SQLCipher the raw key (`x'<key><salt>'`) instead of `PRAGMA key =
'passphrase'`: the derivation is exactly SQLCipher 4's (PBKDF2-HMAC-SHA512 over the passphrase with the 16-byte
salt at the start of the file, 32-byte key), so the file still opens in any SQLCipher 4 tool with the passphrase and
`PRAGMA kdf_iter`. Doing it here gives three things SQLCipher's own path cannot:
- one derivation per unlock, whatever we then do with the key (open, attach a backup to verify it, compare);
- no passphrase inside SQL text, so no quoting rules to get wrong;
- a check value (an HMAC made with the derived key) that tells "wrong passphrase" from "damaged file". It is no
  help to an attacker: the file's first page already lets anyone test a guess at the same PBKDF2 cost.

The settings needed before the file can be read (iterations, algorithms, page size) sit in a small sidecar JSON
next to the database, keyed by the file's salt, and again inside the database (`store_settings`). The sidecar holds
no patient data. If it is lost, opening falls back to the configured and SQLCipher's default settings.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SALT_BYTES = 16
KEY_BYTES = 32
SQLCIPHER_DEFAULT_KDF_ITER = 256_000
KEY_FILE_SUFFIX = ".cipher.json"
_CHECK_LABEL = b"clinic-assistant passphrase check v1"
_HASHLIB_NAMES = {"PBKDF2_HMAC_SHA512": "sha512", "PBKDF2_HMAC_SHA256": "sha256", "PBKDF2_HMAC_SHA1": "sha1"}
_HMAC_NAMES = ("HMAC_SHA512", "HMAC_SHA256", "HMAC_SHA1")


@dataclass(frozen=True)
class CipherParams:
    """Everything besides the key that SQLCipher must be told before it can read a file."""

    kdf_iter: int = SQLCIPHER_DEFAULT_KDF_ITER
    kdf_algorithm: str = "PBKDF2_HMAC_SHA512"
    hmac_algorithm: str = "HMAC_SHA512"
    page_size: int = 4096

    def __post_init__(self) -> None:
        if self.kdf_algorithm not in _HASHLIB_NAMES or self.hmac_algorithm not in _HMAC_NAMES:
            raise ValueError("unsupported SQLCipher algorithm")
        if self.kdf_iter < 1 or self.page_size not in (1024, 2048, 4096, 8192, 16384, 32768, 65536):
            raise ValueError("invalid SQLCipher setting")

    def pragmas(self, schema: str = "main") -> list[str]:
        """Run right after the key, before the first read. Values are validated above, so formatting is safe."""
        return [
            f"PRAGMA {schema}.cipher_page_size = {self.page_size}",
            f"PRAGMA {schema}.cipher_kdf_algorithm = {self.kdf_algorithm}",
            f"PRAGMA {schema}.cipher_hmac_algorithm = {self.hmac_algorithm}",
            f"PRAGMA {schema}.kdf_iter = {self.kdf_iter}",
        ]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CipherParams:
        return cls(
            kdf_iter=int(data["kdf_iter"]),
            kdf_algorithm=str(data["kdf_algorithm"]),
            hmac_algorithm=str(data["hmac_algorithm"]),
            page_size=int(data["page_size"]),
        )


def cipher_settings(params: CipherParams, sqlcipher_version: str) -> dict[str, str]:
    """What a store records about its own encryption in its `store_settings` table (never patient data)."""
    wanted = {f"cipher.{k}": str(v) for k, v in params.as_dict().items()}
    wanted["cipher.algorithm"] = "AES-256-CBC"
    wanted["cipher.sqlcipher_version"] = sqlcipher_version
    return wanted


def passphrase_bytes(passphrase: str | bytes | bytearray) -> bytearray:
    """UTF-8 of the NFC form, so the same passphrase typed through different input methods gives the same key.
    A mutable copy, so the caller can wipe it; a `str` argument itself cannot be wiped (Python strings are
    immutable), which is why callers should drop their reference promptly."""
    if isinstance(passphrase, str):
        return bytearray(unicodedata.normalize("NFC", passphrase).encode("utf-8"))
    return bytearray(passphrase)


def wipe(buffer: bytearray) -> None:
    """Overwrite a key or passphrase buffer in place (as far as Python lets us: copies made by C code are out of
    reach)."""
    buffer[:] = bytes(len(buffer))


def derive_key(passphrase: bytearray, salt: bytes, params: CipherParams) -> bytearray:
    key = hashlib.pbkdf2_hmac(_HASHLIB_NAMES[params.kdf_algorithm], passphrase, salt, params.kdf_iter, KEY_BYTES)
    return bytearray(key)


def key_spec(key: bytearray, salt: bytes | None = None) -> bytearray:
    """SQLCipher's raw-key literal: x'<64 hex key>' or, for a new file, x'<64 hex key><32 hex salt>'."""
    spec = bytearray(b"x'")
    spec += key.hex().encode("ascii")
    if salt is not None:
        spec += salt.hex().encode("ascii")
    spec += b"'"
    return spec


def check_value(key: bytearray) -> str:
    return hmac.new(bytes(key), _CHECK_LABEL, hashlib.sha256).hexdigest()


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def read_salt(db_path: Path) -> bytes | None:
    """SQLCipher 4 keeps the salt in the file's first 16 bytes, unencrypted. None if the file is shorter."""
    try:
        with open(db_path, "rb") as fh:
            salt = fh.read(SALT_BYTES)
    except FileNotFoundError:
        return None
    return salt if len(salt) == SALT_BYTES else None


@dataclass(frozen=True)
class KeyRecord:
    params: CipherParams
    check: str | None


class KeyFile:
    """The sidecar `<db>.cipher.json`: cipher settings and check value per salt.

    Keyed by salt so that a rekey (which writes a new file with a new salt and then renames it over the old one)
    is safe at every instant: both salts are recorded before the rename, the old one is dropped after it.
    """

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + KEY_FILE_SUFFIX)

    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            log.warning("cipher settings file %s is unreadable; using defaults", self.path.name)
            return {}
        files = data.get("files") if isinstance(data, dict) else None
        return files if isinstance(files, dict) else {}

    def lookup(self, salt: bytes) -> KeyRecord | None:
        entry = self._load().get(salt.hex())
        if not isinstance(entry, dict):
            return None
        try:
            params = CipherParams.from_dict(entry)
        except (KeyError, TypeError, ValueError):
            return None
        check = entry.get("check")
        return KeyRecord(params, check if isinstance(check, str) else None)

    def remember(self, salt: bytes, record: KeyRecord, keep_only: bool = False) -> None:
        files = {} if keep_only else self._load()
        files[salt.hex()] = {**record.params.as_dict(), "check": record.check}
        self._write(files)

    def forget_all_but(self, salt: bytes) -> None:
        files = self._load()
        kept = {k: v for k, v in files.items() if k == salt.hex()}
        if kept != files:
            self._write(kept)

    def _write(self, files: dict[str, Any]) -> None:
        text = json.dumps({"format": 1, "files": files}, indent=1, sort_keys=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        fsync_dir(self.path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def candidate_params(
    salt: bytes, key_files: list[KeyFile], configured: CipherParams
) -> list[tuple[CipherParams, str | None]]:
    """Settings to try for a file, best first: the sidecars' record for its salt, then the configured settings,
    then SQLCipher's defaults. Each candidate costs one key derivation."""
    found: list[tuple[CipherParams, str | None]] = []
    for key_file in key_files:
        record = key_file.lookup(salt)
        if record is not None:
            found.append((record.params, record.check))
            break
    for params in (configured, CipherParams()):
        if all(params != p for p, _ in found):
            found.append((params, None))
    return found
