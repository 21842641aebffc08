"""Nasty text through every CLI text entry point: redact (--text, stdin, --jsonl), ask, speak, the settings file.

A fixed list of inputs (no hypothesis in the environment): bytes that are not UTF-8, lone surrogates (as Python
carries undecodable argument bytes, and as a JSON "\\udc80" escape decodes), NUL, a megabyte on one line, right-to-left
and combining characters, byte-order marks, seeded random bytes. For each: no crash (no exit 3, no traceback), stdout
is valid UTF-8, offsets point into the text as decoded, no good JSONL record is dropped, and the messages say what
happened without quoting the text. The commands run in-process (main()), as the other CLI tests do.
"""

from __future__ import annotations

import io
import json
import os
import random
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.cli.main import main
from tests.support.echo_model import EchoingModel

_RANDOM = random.Random(18)

# (name, bytes as they would arrive on standard input or in argv)
NASTY: list[tuple[str, bytes]] = [
    ("latin1-byte", b"Oswin \xff Tredgold seen on 03/04/2022, MRN 447291."),
    ("cesu-surrogate", b"Seen by Dr. Alice Wong \xed\xa0\x80 today."),
    ("overlong", b"Call 617-555-0199 \xc0\xaf now."),
    ("truncated-multibyte", b"Metformin 500 mg \xe2\x82"),
    ("nul", b"John Smith \x00 chest pain \x00"),
    ("rtl-and-override", "Seen \u05e9\u05dc\u05d5\u05dd \u0645\u0631 John Smith \u202eevil\u202c".encode()),
    ("combining", "Zoe\u0308 e\u0301\u0301\u0301\u0301 Smith a\u0336b\u0336".encode()),
    ("emoji-and-astral", "Pain \U0001f62b 7/10, \U00010348 \ufffd already".encode()),
    ("crlf", b"Line one John Smith.\r\nLine two 03/04/2022.\r\n"),
    ("utf8-bom", b"\xef\xbb\xbfJohn Smith, MRN 00482913."),
    ("random-bytes", bytes(_RANDOM.randrange(256) for _ in range(400))),
    ("random-ascii-controls", bytes(_RANDOM.randrange(32) for _ in range(100)) + b" Jane Doe"),
]


def _expected_text(raw: bytes) -> tuple[str, int]:
    """What the CLI should redact: each byte that is not UTF-8 as one U+FFFD, BOM dropped, newlines as '\\n'."""
    escaped = raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="surrogateescape")
    bad = sum(1 for c in escaped if "\udc80" <= c <= "\udcff")
    text = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in escaped)
    return text.replace("\r\n", "\n").replace("\r", "\n"), bad


def _stdin(raw: bytes) -> io.TextIOWrapper:
    return io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")


def _check_clean(code: int, out: str, err: str) -> None:
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal failure" not in err
    out.encode("utf-8")  # valid UTF-8: no lone surrogate reached stdout
    assert not any("\ud800" <= c <= "\udfff" for c in out)


@pytest.mark.parametrize("source", ["argv", "stdin"])
@pytest.mark.parametrize(("name", "raw"), NASTY, ids=[n for n, _ in NASTY])
def test_redact_free_text_is_never_lost(
    name: str, raw: bytes, source: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    expected, bad = _expected_text(raw)
    if source == "argv":
        # Python hands undecodable argument bytes over as lone surrogates (surrogateescape); a BOM stays a character
        argument = raw.decode("utf-8", errors="surrogateescape")
        expected = "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in argument)
    else:
        monkeypatch.setattr(sys, "stdin", _stdin(raw))
        argument = "-"
    code = main(["redact", "--text", argument, "--json"])
    out, err = capsys.readouterr()
    if not expected.strip():
        assert code == 2 and err.startswith("error: There is no text to redact")
        return
    _check_clean(code, out, err)
    assert code == 0, err
    result = json.loads(out)
    for span in result["spans"]:  # offsets into the text as decoded
        assert expected[span["start"] : span["end"]] == span["text"]
    assert result["redacted_text"].count("\ufffd") <= expected.count("\ufffd")
    warnings = [line for line in err.splitlines() if "not valid UTF-8" in line]
    if bad:
        assert len(warnings) == 1 and warnings[0].startswith(f"warning: {bad} character(s) in ")
        assert "U+FFFD" in warnings[0]
    else:
        assert not warnings
    for identifier in ("Smith", "Tredgold", "447291", "Alice"):
        assert identifier not in err  # messages never quote the text


def test_utf16_with_a_byte_order_mark_on_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", _stdin("Seen by Dr. Alice Wong on 03/04/2022.\r\n".encode("utf-16")))
    assert main(["redact", "--text", "-"]) == 0
    out, err = capsys.readouterr()
    assert out == "Seen by Dr. [CLINICIAN_1] on [DATE_1].\n\n" and "warning" not in err


def _jsonl_lines() -> tuple[list[bytes], list[object], dict[int, str]]:
    """40 good records among bad lines; returns the lines, the good ids in order, and {bad line number: reason}."""
    lines: list[bytes] = []
    good: list[object] = []
    bad: dict[int, str] = {}

    def add_good(record_id: object, text: str) -> None:
        lines.append(json.dumps({"id": record_id, "text": text}, ensure_ascii=False).encode())
        good.append(record_id)

    def add_bad(line: bytes, reason: str) -> None:
        lines.append(line)
        bad[len(lines)] = reason

    extra_good = {
        3: ("rtl", "\u05e9\u05dc\u05d5\u05dd John Smith \u202eevil\u202c \u0645\u0631\u062d\u0628\u0627"),
        6: ("combining", "Zoe\u0308 e\u0301\u0301\u0301 Jane Doe"),
        9: ("nul-escaped", "NUL \u0000 inside, John Smith"),
        12: ("megabyte", ("x" * 999 + " ") * 1000),
        15: ("astral", "Pain \U0001f62b, \U00010348 call 617-555-0199"),
    }
    extra_bad = {
        2: (b'{"id": "lone", "text": "Oswin \\udc80 Tredgold"}', "lone surrogate"),
        4: (b'{"id": "lone-id-\\ud800", "text": "fine text"}', "lone surrogate"),
        5: (b'{"id": "latin1", "text": "Oswin \xff Tredgold"}', "not UTF-8"),
        8: (b'{"id": "raw-nul", "text": "John \x00 Smith"}', "not valid JSON"),
        10: (b"\x00\x00\x00\x00", "not valid JSON"),
        11: (b'{"id": "cut", "text": "John Sm', "not valid JSON"),
        13: (b'{"id": "big-bad", "text": "' + b"y" * 1_000_000 + b"\xff" + b'"}', "not UTF-8"),
        14: (b'"just a string"', "not a JSON object"),
        16: (bytes(_RANDOM.randrange(256) for _ in range(300)).replace(b"\n", b" "), ""),
        18: (b'{"id": "surrogate-key", "text": "ok", "\\udfff": 1}', "lone surrogate"),
    }
    for i in range(40):
        if i in extra_bad:
            add_bad(*extra_bad[i])
        add_good(i, f"Patient John Smith{i} seen on 03/04/2022, MRN {447000 + i}.")
        if i in extra_good:
            add_good(*extra_good[i])
    lines.insert(0, b"")  # a blank line is skipped, not an error
    bad = {number + 1: reason for number, reason in bad.items()}
    lines[1] = b"\xef\xbb\xbf" + lines[1]  # a byte-order mark on the first record (Notepad) is not an error
    return lines, good, bad


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_jsonl_reports_bad_lines_and_keeps_every_good_record(
    source: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines, good, bad = _jsonl_lines()
    raw = b"\r\n".join(lines) + b"\n"
    if source == "file":
        path = tmp_path / "in.jsonl"
        path.write_bytes(raw)
        argument = str(path)
    else:
        monkeypatch.setattr(sys, "stdin", _stdin(raw))
        argument = "-"
    code = main(["redact", "--jsonl", argument])
    out, err = capsys.readouterr()
    _check_clean(code, out, err)
    assert code == 2  # bad input, as the README promises
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == good  # every good record, in order, none dropped
    by_id = {r["id"]: r for r in rows}
    assert "[PATIENT_1]" in by_id["rtl"]["redacted_text"] and "\u202e" in by_id["rtl"]["redacted_text"]
    assert "\u0000" in by_id["nul-escaped"]["redacted_text"]
    assert len(by_id["megabyte"]["redacted_text"]) == 1_000_000
    reported = {int(line.split(" line ", 1)[1].split(":", 1)[0]): line for line in err.splitlines() if " line " in line}
    assert set(reported) == set(bad)
    for number, reason in bad.items():
        assert reported[number].startswith("error: ") and reported[number].endswith("; skipped")
        assert reason in reported[number]
    assert f"error: {len(bad)} line(s) of {argument} were skipped" in err
    for identifier in ("Smith", "Tredgold", "Oswin", "yyyy"):
        assert identifier not in err


def test_a_record_the_engine_fails_on_is_skipped_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.core.redact.engine import SpacyRedactor

    real_redact = SpacyRedactor.redact

    def fragile(self: SpacyRedactor, text: str, *args: object, **kwargs: object) -> object:
        if "BOOM" in text:
            raise ValueError("the engine cannot take this text")
        return real_redact(self, text, *args, **kwargs)  # type: ignore[arg-type]

    def failing_batch(self: SpacyRedactor, texts: object, *args: object, **kwargs: object) -> Iterator[object]:
        for text in texts:  # type: ignore[attr-defined]
            yield fragile(self, text)

    monkeypatch.setattr(SpacyRedactor, "redact", fragile)
    monkeypatch.setattr(SpacyRedactor, "redact_many", failing_batch)
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(json.dumps({"id": i, "text": "BOOM" if i == 3 else f"Jane Doe {i}"}) for i in range(8)))
    code = main(["redact", "--jsonl", str(path)])
    out, err = capsys.readouterr()
    assert code == 2
    assert [json.loads(line)["id"] for line in out.splitlines()] == [0, 1, 2, 4, 5, 6, 7]
    assert f"{path} line 4: could not be redacted (ValueError); skipped" in err


def EchoModel() -> EchoingModel:
    """Answers with exactly what it was sent: shows what the model saw and that the answer prints cleanly."""
    return EchoingModel(piece=5, context_window=8192)


ASK_CASES = [c for c in NASTY if c[0] != "random-bytes"]


@pytest.mark.parametrize(("name", "raw"), ASK_CASES, ids=[n for n, _ in ASK_CASES])
def test_ask_takes_any_text_up_to_the_model(
    name: str, raw: bytes, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = EchoModel()
    monkeypatch.setattr("app.core.llm.factory.create_language_model", lambda *a, **k: model)
    monkeypatch.setattr(sys, "stdin", _stdin(raw))
    expected, bad = _expected_text(raw)
    code = main(["ask", "-"])
    out, err = capsys.readouterr()
    if not expected.strip():
        assert code == 2 and "error: The question is empty" in err
        return
    _check_clean(code, out, err)
    assert code == 0, err
    assert model.seen and not any("\ud800" <= c <= "\udfff" for c in model.seen[0])
    assert "447291" not in model.seen[0] and "00482913" not in model.seen[0]  # still redacted before the model
    assert ("not valid UTF-8" in err) == bool(bad)
    assert "DRAFT" in err


@pytest.mark.integration
def test_ask_with_bad_bytes_on_a_real_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("llama_cpp")
    from tests.support.tiny_gguf import write_tiny_gguf

    # The tiny random-weight GGUF of test_cli_ask: real llama.cpp loading, tokenising (byte fallback) and sampling
    # in milliseconds, where SmolLM2 spends half a minute on the system prompt on two shared cores.
    tiny = write_tiny_gguf(tmp_path / "tiny.gguf")
    config = tmp_path / "settings.toml"
    config.write_text("[llm]\ntemperature = 0.0\nmax_tokens = 24\n")
    raw = b"Oswin \xff Tredgold, MRN 447291: \x00 \xd7\xa9 e\xcc\x81\xcc\x81 chest pain \xed\xa0\x80?"
    monkeypatch.setattr(sys, "stdin", _stdin(raw))
    code = main(["--config", str(config), "ask", "-", "--model", str(tiny), "--json"])
    out, err = capsys.readouterr()
    _check_clean(code, out, err)
    assert code == 0, err
    result = json.loads(out)
    assert "Tredgold" not in result["question_redacted"] and "447291" not in result["question_redacted"]
    assert "\ufffd" in result["question_redacted"] and result["answer"]
    assert "warning: 4 character(s) in standard input were not valid UTF-8" in err


def test_ask_lists_only_chat_models(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["ask", "Why?", "--model", "missing.gguf"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No model named 'missing.gguf' (chat models: ") and len(err.splitlines()) == 1
    assert "smollm2-135m-instruct" in err and "qwen2.5-1.5b-instruct" in err
    for other in ("whisper", "spacy", "piper", "joe"):
        assert other not in err
    assert main(["ask", "Why?", "--model", "whisper-base"]) == 2
    err = capsys.readouterr().err
    assert "'whisper-base' is a speech recognition model, not a chat model" in err and "piper" not in err


@pytest.mark.parametrize(("name", "raw"), NASTY[:6], ids=[n for n, _ in NASTY[:6]])
def test_speak_spoken_text_takes_any_text(
    name: str, raw: bytes, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", _stdin(raw))
    code = main(["speak", "--spoken-text", "--json", "-"])
    out, err = capsys.readouterr()
    _check_clean(code, out, err)
    assert code == 0
    json.loads(out)


@pytest.mark.integration
def test_speak_writes_an_owner_only_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fresh = tmp_path / "new.wav"
    existing = tmp_path / "old.wav"
    existing.write_bytes(b"")
    existing.chmod(0o644)
    for out in (fresh, existing):
        assert main(["speak", "Oswin \udcff Tredgold takes 5 mg.", "-o", str(out)]) == 0
        assert out.stat().st_size > 1000
        if os.name == "posix":
            assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "not valid UTF-8" in capsys.readouterr().err


def test_a_named_settings_file_that_does_not_exist_is_announced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, settings_file_present: Path
) -> None:
    missing = tmp_path / "typo.toml"
    notice = f"settings file {missing} does not exist: using the defaults; it is created when settings are saved"
    assert main(["--config", str(missing), "speak", "--spoken-text", "Hello."]) == 0
    err = capsys.readouterr().err
    assert err.splitlines() == [f"warning: {notice}"]
    monkeypatch.setenv("CLINIC_CONFIG_FILE", str(missing))
    assert main(["speak", "--spoken-text", "Hello."]) == 0
    assert capsys.readouterr().err.splitlines() == [f"warning: {notice}"]
    monkeypatch.setenv("CLINIC_CONFIG_FILE", str(settings_file_present))  # present: nothing to say
    assert main(["speak", "--spoken-text", "Hello."]) == 0
    assert capsys.readouterr().err == ""
    assert not missing.exists()  # announcing it does not create it


def test_odd_settings_values_warn_and_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "settings.toml"
    config.write_text(
        '[asr]\nvocabulary = ["\u05e9\u05dc\u05d5\u05dd", "e\u0301\u0301", "nul\\u0000term", "'
        + "x" * 1_000_000
        + '"]\n'
        '[redaction]\nallow = ["\u202eevil", "\U0001f62b"]\n[tts]\nvoice = "joe\\u0000"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CLINIC_REDACTION__DENY", '["Larkfield", "bad\udcff"]')  # undecodable environment bytes
    assert main(["--config", str(config), "redact", "--text", "Seen at Larkfield by John Smith."]) == 0
    out, err = capsys.readouterr()
    assert "[" in out and "Larkfield" not in out  # the good deny term still applies
    assert "asr.vocabulary" in err and "NUL" in err and "longer than 100 characters" in err
    assert "tts.voice" in err and "CLINIC_REDACTION__DENY" in err
    assert "Traceback" not in err and "xxxx" not in err


@pytest.mark.integration
def test_transcribe_with_odd_vocabulary_settings(
    models_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    from app.core.audio.synthetic import silence, speak, write_audio

    spoken = speak("Metformin five hundred milligrams.", models_dir / "piper" / "en_US-joe-medium.onnx")
    audio = write_audio(tmp_path / "dose.wav", np.concatenate([silence(0.3), spoken, silence(0.3)]))
    config = tmp_path / "settings.toml"
    config.write_text(
        '[asr]\nvocabulary = ["\u05e9\u05dc\u05d5\u05dd", "e\u0301\u0301", "\u202eevil", "nul\\u0000term", "'
        + "x" * 1_000_000 + '", "metformin"]\n',
        encoding="utf-8",
    )
    code = main(["--config", str(config), "transcribe", str(audio), "--model", "whisper-tiny.en"])
    out, err = capsys.readouterr()
    _check_clean(code, out, err)
    assert code == 0 and out.startswith("Metformin 500 mg")  # the odd hints cost at most the full stop
    assert "NUL" in err and "longer than 100 characters" in err
    monkeypatch.setenv("CLINIC_ASR__VOCABULARY", '["metformin", "bad\udcff"]')  # undecodable environment bytes
    assert main(["--config", str(config), "transcribe", str(audio), "--model", "whisper-tiny.en"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("Metformin 500 mg") and "CLINIC_ASR__VOCABULARY" in err and "Traceback" not in err
