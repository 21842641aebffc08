"""Odd text below the CLI: the decoding policy itself, patient fields in the encrypted store, settings values in the
TOML file and the environment, and the notice for a named settings file that does not exist.

Fixed inputs (no hypothesis in the environment): right-to-left and bidi overrides, combining marks, NUL, astral
characters, a megabyte, and lone surrogates (bytes that were not UTF-8).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from app.cli.private_files import create_private
from app.cli.text_input import decode_bytes, replace_lone_surrogates
from app.core.config import Settings, load_settings, save_settings
from app.core.errors import InputError
from app.core.storage import Store

ODD_TEXT = [
    "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",  # right-to-left
    "\u202eevil\u202c \u2067isolate\u2069",  # bidi override and isolate
    "Zoe\u0308 e\u0301\u0301\u0301\u0301 a\u0336",  # combining marks (stacked)
    "nul\x00inside",
    "\U0001f62b \U00010348 \ufffd",  # astral, and a real U+FFFD
    "  spaced  \t\u00a0\u3000",  # odd whitespace
    "O'Brien-Smith; DROP TABLE patients; --",
    "%_\\ LIKE wildcards",
]


def test_decoding_replaces_each_bad_byte_and_counts_it() -> None:
    assert decode_bytes(b"ok \xff\xfe end") == ("ok \ufffd\ufffd end", 2)
    assert decode_bytes(b"\xed\xa0\x80") == ("\ufffd\ufffd\ufffd", 3)  # an encoded surrogate is three bad bytes
    assert decode_bytes("already \ufffd fine".encode()) == ("already \ufffd fine", 0)
    assert decode_bytes(b"\xef\xbb\xbfbom") == ("bom", 0)
    assert decode_bytes("utf-16 \u05e9".encode("utf-16")) == ("utf-16 \u05e9", 0)
    assert decode_bytes(b"\xff\xfea\x00\x00") == ("a\ufffd", 1)  # UTF-16 with an odd byte at the end
    assert replace_lone_surrogates("a\udc80b\ud800") == ("a\ufffdb\ufffd", 2)
    assert replace_lone_surrogates("\U0001f62b") == ("\U0001f62b", 0)  # a real astral character is not a surrogate


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "data", kdf_iterations=4000, os_user="dr-test")
    s.create("correct horse battery staple")
    yield s
    s.close()


@pytest.mark.parametrize("text", [*ODD_TEXT, "x" * 1_000_000], ids=lambda t: repr(t[:12]))
def test_patient_fields_with_odd_text_are_stored_and_read_back(store: Store, text: str) -> None:
    patients = store.repositories().patients
    added = patients.add(text + " Family", text, mrn="MRN " + text[:50], sex=text[:10],
                         identifiers={"nhs": text[:30] + " 1"}, date_of_birth=date(1970, 1, 1))
    again = patients.get(added.id)
    assert again.family_name == (text + " Family").strip() and again.given_names == text.strip()
    assert again.mrn == ("MRN " + text[:50]).strip() and again.sex == text[:10]
    assert again.identifiers == {"nhs": (text[:30] + " 1").strip()}
    assert patients.find_by_mrn("MRN " + text[:50]) == again
    assert isinstance(patients.search(text[:40]), list)


def test_patient_fields_that_are_not_text_are_refused_by_name(store: Store) -> None:
    patients = store.repositories().patients
    for kwargs, field in (
        ({"family_name": "Tredgold\udcff"}, "family name"),
        ({"family_name": "Tredgold", "given_names": "Os\ud800win"}, "given names"),
        ({"family_name": "Tredgold", "mrn": "447\udc80291"}, "MRN"),
        ({"family_name": "Tredgold", "identifiers": {"nhs": "12\udcff"}}, "identifier"),
    ):
        with pytest.raises(InputError) as info:
            patients.add(**kwargs)  # type: ignore[arg-type]
        assert f"The {field} holds characters that are not valid text" in info.value.message
        assert "Tredgold" not in info.value.one_line() and "447" not in info.value.one_line()
    assert patients.count() == 0
    added = patients.add("Tredgold", mrn="447291")
    with pytest.raises(InputError):
        patients.update(type(added)(**{**added.__dict__, "given_names": "\udcff"}))
    assert patients.search("Tred\udcffgold") == [] and patients.find_by_mrn("447\udc80") is None


def test_clinical_text_with_bytes_that_were_not_utf8_is_saved_not_lost(store: Store) -> None:
    from app.core.storage import MessageRole, NoteKind

    repos = store.repositories()
    encounter = repos.encounters.add(repos.patients.add("Tredgold").id, reason="cough")
    repos.transcripts.add(encounter.id, "Cough for \udc80 two weeks.")
    repos.notes.create(encounter.id, NoteKind.SOAP, "Plan: \ud800 chest X-ray.")
    repos.messages.add(encounter.id, MessageRole.USER, "why \udcff?", "why \udcff?")
    assert repos.transcripts.for_encounter(encounter.id)[-1].text == "Cough for \ufffd two weeks."
    assert repos.notes.for_encounter(encounter.id)[-1].latest.text == "Plan: \ufffd chest X-ray."
    assert repos.messages.for_encounter(encounter.id)[-1].display_content == "why \ufffd?"


def test_odd_strings_in_the_settings_file_load_and_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLINIC_STORAGE__DATA_DIR")
    monkeypatch.delenv("CLINIC_STORAGE__MODELS_DIR")
    usable = [t for t in ODD_TEXT if "\x00" not in t]
    s = Settings()
    s.asr.vocabulary = [t[:100] for t in usable]
    s.redaction.allow = usable
    s.redaction.deny = ["\u05e9\u05dc\u05d5\u05dd"]
    s.asr.input_device = "Mic \u202e\u0301 \U0001f3a4"
    s.storage.data_dir = str(tmp_path / "d\u00e4t\u0301a \u05e9")
    path = save_settings(s, tmp_path / "settings.toml")
    again = load_settings(path)
    assert again.warnings == [] and again.missing_file_notice is None
    assert again.settings.model_dump() == s.model_dump()


def test_unusable_setting_values_are_dropped_alone_and_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        '[asr]\nvocabulary = ["metformin", "nul\\u0000term", "' + "y" * 1_000_000 + '", "\u05e9"]\n'
        'input_device = "mic\\u0000"\n[tts]\nvoice = "en_US-joe-medium"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CLINIC_REDACTION__DENY", '["Larkfield", "bad\udcff"]')  # bytes that were not UTF-8
    monkeypatch.setenv("CLINIC_LLM__SERVER_MODEL", "model\udcff")
    monkeypatch.setenv("CLINIC_STORAGE__MODELS_DIR", str(tmp_path / "m\udcffodels"))
    loaded = load_settings(path)
    s = loaded.settings
    assert s.asr.vocabulary == ["metformin", "\u05e9"] and s.asr.input_device == ""
    assert s.redaction.deny == ["Larkfield"] and s.llm.server_model == ""
    assert s.storage.models_dir == ""  # pydantic settings are text: such a folder falls back, with a warning
    text = "\n".join(loaded.warnings)
    assert "asr.vocabulary" in text and "longer than 100 characters" in text and "asr.input_device" in text
    assert "CLINIC_REDACTION__DENY" in text and "CLINIC_LLM__SERVER_MODEL" in text
    assert "CLINIC_STORAGE__MODELS_DIR" in text
    assert "yyyy" not in text and "Larkfield" not in text
    assert load_settings(save_settings(s, tmp_path / "saved.toml")).settings == s  # what is left saves cleanly


def test_a_named_settings_file_that_is_missing_is_announced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "typo.toml"
    loaded = load_settings(missing)  # --config
    assert loaded.warnings == [] and not loaded.file_exists
    assert loaded.missing_file_notice == (
        f"settings file {missing} does not exist: using the defaults; it is created when settings are saved"
    )
    monkeypatch.setenv("CLINIC_CONFIG_FILE", str(missing))  # the environment names it
    assert load_settings().missing_file_notice is not None
    # the default location missing is a normal first start: nothing to say
    monkeypatch.delenv("CLINIC_CONFIG_FILE")
    monkeypatch.setattr("app.core.config.default_config_file", lambda: tmp_path / "default" / "settings.toml")
    assert load_settings().missing_file_notice is None
    missing.write_text("")
    assert load_settings(missing).missing_file_notice is None


def test_private_files_are_owner_only(tmp_path: Path) -> None:
    fresh = create_private(tmp_path / "new.wav")
    old = tmp_path / "old.wav"
    old.write_bytes(b"audio")
    old.chmod(0o644)
    create_private(old)
    assert old.read_bytes() == b"audio"  # narrowed, not truncated: the writer truncates
    if os.name == "posix":
        assert stat.S_IMODE(fresh.stat().st_mode) == 0o600 and stat.S_IMODE(old.stat().st_mode) == 0o600
    with pytest.raises(InputError, match="could not be written"):
        create_private(tmp_path / "no" / "such" / "dir.wav")
